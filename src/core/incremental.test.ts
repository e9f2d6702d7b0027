import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, placement } from '../../test/fixtures.js';
import { violations } from '../../test/invariants.js';
import { explainScheduled, placeOne, removeOne, startFleet } from './incremental.js';
import { prepareCycle } from './cycle.js';

test('placeOne uses free capacity only and moves nothing else', () => {
  const f = fleet(cluster('a', { cpu: 8 }), cluster('b', { cpu: 8 }));
  const existing = [placement('web', { replicas: 10, cpu: '1' })];
  const state = startFleet(f, existing);
  const { state: next, decision } = placeOne(state, placement('api', { replicas: 10, cpu: '1' }));
  assert.equal(decision.unscheduledReplicas, 4, '6 cpu were left');
  assert.equal(next.decisions.get('default/web'), state.decisions.get('default/web'));
  const all = [...existing, placement('api', { replicas: 10, cpu: '1' })];
  assert.deepEqual(violations(f, all, { decisions: [...next.decisions.values()], stats: {} as never }), []);
  assert.equal(state.decisions.has('default/api'), false, 'the old state is untouched');
});

test('placeOne resizes a placement in place, and removeOne gives capacity back', () => {
  const f = fleet(cluster('a', { cpu: 4 }), cluster('b', { cpu: 4 }));
  let state = startFleet(f, [placement('web', { replicas: 4, cpu: '1' })]);
  const before = state.decisions.get('default/web')!;
  state = placeOne(state, placement('web', { replicas: 6, cpu: '1' })).state;
  const grown = state.decisions.get('default/web')!;
  for (const c of before.clusters) assert.ok((grown.clusters.find((x) => x.name === c.name)?.replicas ?? 0) >= c.replicas);
  assert.equal(grown.unscheduledReplicas, 0);
  const full = placeOne(state, placement('api', { replicas: 4, cpu: '1' }));
  assert.equal(full.decision.unscheduledReplicas, 2);
  state = removeOne(state, 'default/web');
  const after = placeOne(state, placement('api', { replicas: 4, cpu: '1' }));
  assert.equal(after.decision.unscheduledReplicas, 0);
});

test('a gang that does not fit takes nothing', () => {
  const f = fleet(cluster('a', { cpu: 4 }));
  const r = placeOne(startFleet(f, []), placement('train', { replicas: 5, cpu: '1', gang: true }));
  assert.deepEqual(r.decision.clusters, []);
  assert.equal(r.decision.reason, 'Unschedulable');
  assert.equal(placeOne(r.state, placement('web', { replicas: 4, cpu: '1' })).decision.unscheduledReplicas, 0);
});

test('explain on a scheduled fleet shows the scores the solver used, not those of the room left', () => {
  const f = fleet(cluster('a', { cpu: 8, devices: { gpu: 4 } }), cluster('b', { cpu: 8, devices: { gpu: 4 } }));
  const ps = [
    placement('train', { replicas: 4, cpu: '1', accelerators: [{ deviceClassName: 'gpu', count: 1 }] }),
    placement('other', { replicas: 4, cpu: '1', accelerators: [{ deviceClassName: 'gpu', count: 1 }] }),
  ];
  const state = startFleet(f, ps);
  const e = explainScheduled(state, ps[0]!);
  assert.ok('clusters' in e);
  const cycle = prepareCycle(f, ps, { previous: [...state.decisions.values()] });
  const job = cycle.jobs.find((j) => j.p.key === 'default/train')!;
  for (const c of e.clusters) {
    const row = cycle.ctx.fleet.clusters.findIndex((x) => x.name === c.name);
    assert.equal(c.score, Math.round(job.pref(row) * 100) / 100, c.name);
    // every GPU was free in the snapshot the solver scored
    assert.equal(c.scores?.['FreeAccelerators'], 100, c.name);
  }
});
