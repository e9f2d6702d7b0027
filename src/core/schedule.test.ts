import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, nodeCluster, placement } from '../../test/fixtures.js';
import { violations } from '../../test/invariants.js';
import { type Decision, isFloor } from './model.js';
import { FleetState } from './fleetState.js';

/** A full cycle's result. */
const schedule = (...a: Parameters<typeof FleetState.start>) => FleetState.start(...a).result;

const replicasOn = (d: Decision | undefined) => Object.fromEntries((d?.clusters ?? []).map((c) => [c.name, c.replicas]));
const find = (r: { decisions: readonly Decision[] }, key: string) => r.decisions.find((d) => d.placement === key);

test('places every replica where it fits and explains what it could not place', () => {
  const f = fleet(cluster('a', { cpu: 4 }), cluster('b', { cpu: 4 }), cluster('sick', { cpu: 64, healthy: false }));
  const ps = [placement('web', { replicas: 10, cpu: '1' })];
  const r = schedule(f, ps);
  const d = find(r, 'default/web')!;
  assert.deepEqual(replicasOn(d), { a: 4, b: 4 });
  assert.equal(d.unscheduledReplicas, 2);
  assert.equal(d.reason, 'PartiallyScheduled');
  assert.match(d.message, /^2 of 10 replicas unscheduled/);
  assert.match(d.message, /2 Insufficient cpu/);
  assert.match(d.message, /1 ClusterHealth/);
  assert.deepEqual(violations(f, ps, r), []);
});

test('Spread evens replicas out; Pack fills the fewest clusters', () => {
  const f = fleet(cluster('a', { cpu: 32 }), cluster('b', { cpu: 32 }), cluster('c', { cpu: 32 }));
  const spread = schedule(f, [placement('web', { replicas: 9 })]);
  assert.deepEqual(Object.values(replicasOn(find(spread, 'default/web'))), [3, 3, 3]);
  const pack = schedule(f, [placement('batch', { replicas: 9, strategy: 'Pack' })]);
  assert.equal(find(pack, 'default/batch')!.clusters.length, 1);
});

test('a gang gets all its replicas or none', () => {
  const f = fleet(cluster('gpu', { cpu: 64, devices: { 'gpu.nvidia.com': 8 } }));
  const fits = schedule(f, [placement('train', { replicas: 4, gang: true, accelerators: [{ deviceClassName: 'gpu.nvidia.com', count: 2 }] })]);
  assert.equal(find(fits, 'default/train')!.unscheduledReplicas, 0);
  const tooBig = schedule(f, [placement('train', { replicas: 5, gang: true, accelerators: [{ deviceClassName: 'gpu.nvidia.com', count: 2 }] })]);
  const d = find(tooBig, 'default/train')!;
  assert.deepEqual(d.clusters, []);
  assert.equal(d.reason, 'Unschedulable');
  assert.match(d.message, /gang placement/);
  const partial = schedule(f, [placement('serve', { replicas: 5, accelerators: [{ deviceClassName: 'gpu.nvidia.com', count: 2 }] })]);
  assert.equal(find(partial, 'default/serve')!.unscheduledReplicas, 1, 'without gang, what fits is placed');
});

test('spread: minClusters, maxClusters and maxSkew over regions', () => {
  const f = fleet(cluster('us-1', { cpu: 100, region: 'us' }), cluster('us-2', { cpu: 100, region: 'us' }), cluster('eu-1', { cpu: 100, region: 'eu' }), cluster('ap-1', { cpu: 3, region: 'ap' }));
  const skew = schedule(f, [placement('web', { replicas: 20, spread: { maxSkew: 1, topologyKey: 'region' } })]);
  const d = find(skew, 'default/web')!;
  // ap holds 3 at most, so no other region may hold more than 4.
  const byRegion = { us: (replicasOn(d)['us-1'] ?? 0) + (replicasOn(d)['us-2'] ?? 0), eu: replicasOn(d)['eu-1'] ?? 0, ap: replicasOn(d)['ap-1'] ?? 0 };
  assert.deepEqual(byRegion, { us: 4, eu: 4, ap: 3 });
  assert.equal(d.unscheduledReplicas, 9);

  const max = schedule(f, [placement('web', { replicas: 20, spread: { maxClusters: 2 } })]);
  assert.equal(find(max, 'default/web')!.clusters.length, 2);
  const min = schedule(f, [placement('web', { replicas: 3, strategy: 'Pack', spread: { minClusters: 3 } })]);
  assert.equal(find(min, 'default/web')!.clusters.length, 3);
  const impossible = schedule(fleet(cluster('only')), [placement('web', { replicas: 3, spread: { minClusters: 2 } })]);
  assert.equal(find(impossible, 'default/web')!.reason, 'Unschedulable');
});

test('higher priority goes first and is never displaced by lower', () => {
  const f = fleet(cluster('gpu', { cpu: 64, devices: { 'gpu.nvidia.com': 4 } }));
  const acc = [{ deviceClassName: 'gpu.nvidia.com', count: 1 }];
  const r = schedule(f, [placement('a-low', { replicas: 4, accelerators: acc }), placement('z-high', { replicas: 3, priority: 10, accelerators: acc })]);
  assert.equal(find(r, 'default/z-high')!.unscheduledReplicas, 0);
  assert.equal(find(r, 'default/a-low')!.unscheduledReplicas, 3);
});

test('the solver does not strand accelerators the way a greedy scorer does', () => {
  // The GPU cluster also has the most free CPU, so CPU-only work scores it best.
  const f = fleet(cluster('gpu', { cpu: 40, memoryGi: 400, devices: { 'gpu.nvidia.com': 8 } }), cluster('cpu', { cpu: 32, memoryGi: 400 }));
  const ps = [placement('a-web', { replicas: 32, cpu: '1' }), placement('b-llm', { replicas: 8, cpu: '4', accelerators: [{ deviceClassName: 'gpu.nvidia.com', count: 1 }] })];
  const greedy = schedule(f, ps, { solver: 'greedy' });
  const solved = schedule(f, ps);
  assert.ok(greedy.stats.placedReplicas < 40, `greedy strands GPUs (placed ${greedy.stats.placedReplicas})`);
  assert.equal(solved.stats.placedReplicas, 40);
  assert.deepEqual(violations(f, ps, solved), []);
});

test('Steady: an unchanged fleet gives the same decision, and a shrink leaves the worst clusters', () => {
  const f = fleet(cluster('best', { cpu: 64, region: 'eu' }), cluster('mid', { cpu: 64, region: 'us' }), cluster('worst', { cpu: 64, region: 'ap' }));
  const web = (replicas: number) =>
    placement('web', {
      replicas,
      locality: {
        preferred: [
          { region: 'eu', weight: 90 },
          { region: 'us', weight: 50 },
        ],
      },
    });
  const first = schedule(f, [web(9)]);
  const again = schedule(f, [web(9)], { previous: first.decisions });
  assert.deepEqual(again.decisions, first.decisions);
  assert.equal(again.stats.moves, 0);
  const shrunk = schedule(f, [web(4)], { previous: first.decisions });
  assert.equal(replicasOn(find(shrunk, 'default/web')).worst, undefined, 'the worst-scored cluster is emptied first');
  assert.equal(shrunk.stats.moves, 0);
});

test('Steady: replicas on a cluster that turned unhealthy move; the others stay', () => {
  const healthy = fleet(cluster('a'), cluster('b'), cluster('c'));
  const first = schedule(healthy, [placement('web', { replicas: 6 })]);
  assert.deepEqual(replicasOn(find(first, 'default/web')), { a: 2, b: 2, c: 2 });
  const sick = fleet(cluster('a'), cluster('b', { healthy: false }), cluster('c'));
  const after = schedule(sick, [placement('web', { replicas: 6 })], { previous: first.decisions });
  const d = replicasOn(find(after, 'default/web'));
  assert.equal(d.b, undefined);
  assert.ok((d.a ?? 0) >= 2 && (d.c ?? 0) >= 2);
  assert.equal((d.a ?? 0) + (d.c ?? 0), 6);
  assert.equal(after.stats.moves, 2);
});

test('an invalid placement is reported, and the others are still scheduled', () => {
  const f = fleet(cluster('a'));
  const bad = placement('bad', { cpu: 'lots' });
  const r = schedule(f, [bad, placement('good')]);
  assert.equal(find(r, 'default/bad')!.reason, 'Unschedulable');
  assert.match(find(r, 'default/bad')!.message, /invalid placement: .*"lots" is not a quantity/);
  assert.equal(find(r, 'default/good')!.reason, 'Scheduled');
});

test('a device class no cluster offers is named', () => {
  const r = schedule(fleet(cluster('a')), [placement('x', { accelerators: [{ deviceClassName: 'fpga.example.com', count: 1 }] })]);
  assert.match(find(r, 'default/x')!.message, /no cluster offers fpga.example.com/);
  assert.match(find(r, 'default/x')!.message, /1 DeviceClass/);
});

test('zero replicas is Scheduled with nothing placed', () => {
  const r = schedule(fleet(cluster('a')), [placement('idle', { replicas: 0 }), placement('one', { replicas: 1 })]);
  assert.deepEqual(find(r, 'default/idle'), { placement: 'default/idle', clusters: [], unscheduledReplicas: 0, reason: 'Scheduled', message: '0 replicas on 0 clusters' });
  assert.equal(find(r, 'default/one')?.message, '1 replica on 1 cluster', 'one is one, not "1 clusters"');
});

test('past its time budget the solve keeps the better of its floors', () => {
  const f = fleet(cluster('gpu', { cpu: 40, memoryGi: 400, devices: { 'gpu.nvidia.com': 8 } }), cluster('cpu', { cpu: 32, memoryGi: 400 }));
  const ps = [placement('a-web', { replicas: 32, cpu: '1' }), placement('b-llm', { replicas: 8, cpu: '4', accelerators: [{ deviceClassName: 'gpu.nvidia.com', count: 1 }] })];
  let now = 0;
  const slow = () => (now += 1000);
  const late = schedule(f, ps, { budgetMs: 500, clock: slow });
  assert.ok(isFloor(late.stats.solver), late.stats.solver);
  assert.equal(late.stats.lpSolves, 0);
  assert.deepEqual(late.decisions, schedule(f, ps, { solver: late.stats.solver }).decisions);
  const inTime = schedule(f, ps, { budgetMs: 60_000, clock: () => 0 });
  assert.equal(inTime.stats.placedReplicas, 40);
});

test('a contended fleet: accelerators are not stranded for more, smaller CPU replicas', () => {
  // Free: 24 cpu and 2 GPUs. A GPU replica is worth its GPU, half the fleet's (1/2); a web
  // replica its 4 cpu (1/6). On the GPU cluster two llm replicas (1) beat four web ones (2/3):
  // the best answer is worth 4/3 and places 4 replicas, where counting replicas places 6 web.
  const f = fleet(cluster('gpu', { cpu: 16, memoryGi: 64, devices: { 'gpu.nvidia.com': 2 } }), cluster('cpu', { cpu: 8, memoryGi: 64 }));
  const ps = [
    placement('a-web', { replicas: 6, cpu: '4', memory: '1Gi' }),
    placement('b-llm', { replicas: 2, cpu: '8', memory: '1Gi', accelerators: [{ deviceClassName: 'gpu.nvidia.com', count: 1 }] }),
  ];
  const r = schedule(f, ps);
  assert.deepEqual(replicasOn(find(r, 'default/b-llm')), { gpu: 2 });
  assert.deepEqual(replicasOn(find(r, 'default/a-web')), { cpu: 2 });
  assert.ok(Math.abs(r.stats.value - 4 / 3) < 1e-9, String(r.stats.value));
  // the greedy floor, placements in name order, gives every CPU to web
  const greedy = schedule(f, ps, { solver: 'greedy' });
  assert.equal(greedy.stats.placedReplicas, 6);
  assert.deepEqual(replicasOn(find(greedy, 'default/b-llm')), {});
});

test('at equal worth, replicas of every size get the same share of what they ask', () => {
  // 16 GPUs on two 8-GPU nodes, 32 asked: all of them are used whichever replicas get them; the
  // fairest answer gives each placement half: one 8-GPU replica and eight 1-GPU ones.
  const f = fleet(nodeCluster('gpu', [{ count: 2, cpu: 64, memoryGi: 256, devices: { gpu: 8 } }]));
  const ps = [
    placement('big', { replicas: 2, cpu: '8', memory: '8Gi', accelerators: [{ deviceClassName: 'gpu', count: 8 }] }),
    placement('small', { replicas: 16, cpu: '1', memory: '1Gi', accelerators: [{ deviceClassName: 'gpu', count: 1 }] }),
  ];
  const r = schedule(f, ps);
  assert.deepEqual(replicasOn(find(r, 'default/big')), { gpu: 1 });
  assert.deepEqual(replicasOn(find(r, 'default/small')), { gpu: 8 });
  assert.deepEqual(violations(f, ps, r), []);
});
