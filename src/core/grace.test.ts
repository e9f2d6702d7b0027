import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet } from '../../test/fixtures.js';
import { activeAvoidance, avoid, holdUnreadable, stuckPods, withoutConflicts, withoutStuck } from './grace.js';

test('a member unreadable for less than the grace keeps its replicas; after it, they move', () => {
  const f = fleet(cluster('up'), { ...cluster('down'), reachable: false }, { ...cluster('gone'), reachable: false }, { ...cluster('back'), reachable: false });
  const since = (name: string) => ({ down: 100_000, gone: 10_000 })[name as 'down' | 'gone'];
  const r = holdUnreadable(f, since, 130_000, 60_000);
  const byName = Object.fromEntries(r.snapshot.clusters.map((c) => [c.name, c.hold === true]));
  // down: 30 s into its minute, held; gone: 120 s, past it; back: readable again, held until the snapshot says so
  assert.deepEqual(byName, { up: false, down: true, gone: false, back: true });
  assert.equal(r.recheckAt, 160_000, 'when the grace of down runs out');
  assert.equal(holdUnreadable(fleet(cluster('up')), since, 0, 60_000).recheckAt, undefined);
});

test('only Pods the member found no room for, for the whole grace, are stuck', () => {
  const at = (s: number) => new Date(s * 1000).toISOString();
  const unschedulable = { status: 'False', reason: 'Unschedulable' };
  const pods = [
    { createdAt: at(0), scheduled: unschedulable },
    { createdAt: at(50), scheduled: unschedulable },
    { createdAt: at(0), nodeName: 'n1', scheduled: { status: 'True' } },
    { createdAt: at(0), scheduled: { status: 'False', reason: 'SchedulingGated' } },
    { scheduled: { ...unschedulable, since: at(10) } },
  ];
  assert.equal(stuckPods(pods, 100_000, 60_000), 2);
  assert.equal(stuckPods(pods, 110_000, 60_000), 3);
});

test('a cluster is avoided for a while, then takes replicas again', () => {
  let a = avoid(new Map(), 'ns/p', 'c1', 1_000, 300_000, 'stuck');
  a = avoid(a, 'ns/p', 'c2', 200_000, 300_000, 'stuck');
  const early = activeAvoidance(a, 250_000);
  assert.deepEqual([...(early.avoid.get('ns/p')?.keys() ?? [])], ['c1', 'c2']);
  const later = activeAvoidance(a, 400_000);
  assert.deepEqual([...(later.avoid.get('ns/p')?.keys() ?? [])], ['c2']);
  assert.deepEqual([...(later.kept.get('ns/p')?.keys() ?? [])], ['c2'], 'what ran out is dropped');
  assert.equal(activeAvoidance(a, 600_000).avoid.size, 0);
});

test('stuck replicas count as not placed where they were sent', () => {
  const d = {
    placement: 'ns/p',
    clusters: [
      { name: 'a', replicas: 3 },
      { name: 'b', replicas: 2 },
    ],
    unscheduledReplicas: 0,
    reason: 'Scheduled' as const,
    message: '',
  };
  assert.deepEqual(
    withoutStuck(
      d,
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    ).clusters,
    [{ name: 'a', replicas: 2 }],
  );
  assert.equal(withoutStuck(d, undefined), d);
});

test("a cluster where someone else's objects stand is avoided, with why, for as long as that lasts", () => {
  const a = avoid(new Map(), 'ns/p', 'c1', 0, 1_000, 'replicas stuck');
  const standing = new Map([
    ['ns/p', new Map([['c2', 'Deployment ns/p exists, not made by Orrery']])],
    ['ns/q', new Map([['c1', 'Service ns/q exists']])],
  ]);
  const now = activeAvoidance(a, 500, standing);
  assert.deepEqual(
    [...(now.avoid.get('ns/p') ?? [])],
    [
      ['c1', 'replicas stuck'],
      ['c2', 'Deployment ns/p exists, not made by Orrery'],
    ],
  );
  assert.deepEqual([...(now.avoid.get('ns/q')?.keys() ?? [])], ['c1']);
  const later = activeAvoidance(a, 5_000, standing);
  assert.deepEqual([...(later.avoid.get('ns/p')?.keys() ?? [])], ['c2'], 'the timed one ran out, the standing one did not');
  assert.equal(later.kept.size, 0, 'standing avoidance is not kept as timed');
});

test("clusters in conflict count as holding none of the placement's replicas", () => {
  const d = {
    placement: 'ns/p',
    clusters: [
      { name: 'a', replicas: 3 },
      { name: 'b', replicas: 2 },
    ],
    unscheduledReplicas: 0,
    reason: 'Scheduled' as const,
    message: '',
  };
  assert.deepEqual(withoutConflicts(d, new Map([['a', 'x']])).clusters, [{ name: 'b', replicas: 2 }]);
  assert.equal(withoutConflicts(d, new Map([['c', 'x']])), d);
  assert.equal(withoutConflicts(d, undefined), d);
});
