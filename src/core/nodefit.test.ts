// Decisions that hold on nodes: fit per node everywhere, placements that share a cluster packed
// together, and accelerators counted per node, once, with their selectors.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cluster, fleet, nodeCluster, placement } from '../../test/fixtures.js';
import { unbindable, violations } from '../../test/invariants.js';
import { explainPlacement } from './explain.js';
import { type Cluster, type Placement, makeSnapshot } from './model.js';
import { fitReport } from './capacity.js';
import { FleetState } from './fleetState.js';

/** The explanation, which a valid placement always has. */
function explained<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  assert.ok(r.ok, JSON.stringify(r));
  return r.value;
}

/** A full cycle's result. */
const schedule = (...a: Parameters<typeof FleetState.start>) => FleetState.start(...a).result;

test('eight replicas of 3 CPU on six 4-CPU nodes: six placed, two unscheduled, the nodes named', () => {
  const f = fleet(nodeCluster('six', [{ count: 6, cpu: 4 }], { region: 'r1' }), cluster('far', { region: 'r2', cpu: 64 }));
  const p = placement('big', { replicas: 8, cpu: '3', memory: '1Gi', locality: { requiredRegions: ['r1'] } });
  const [d] = schedule(f, [p]).decisions;
  assert.deepEqual(d?.clusters, [{ name: 'six', replicas: 6 }]);
  assert.equal(d?.unscheduledReplicas, 2);
  assert.match(d?.message ?? '', /1 Insufficient cpu on every node/);
  assert.match(d?.message ?? '', /six: none of its 6 nodes has 3 cpu free \(at most 1\)/);
  // Steady from that decision: the same answer, the same words
  const again = schedule(f, [p], { previous: [d!] }).decisions[0];
  assert.deepEqual(again, d);
});

test('a cluster whose nodes are too small for one replica is refused by the Fit filter, saying so', () => {
  const f = fleet(nodeCluster('small', [{ count: 10, cpu: 2 }]));
  const e = explained(explainPlacement(f, placement('wide', { cpu: '3' })));
  const c = e.clusters[0]!;
  assert.equal(c.eligible, false);
  assert.equal(c.reason?.code, 'NoNodeFits');
  assert.equal(c.reason?.message, 'no node has room for one replica: 10 nodes have less than 3 cpu free (at most 2)');
});

test('placements that share a cluster are packed together; what does not pack goes elsewhere', () => {
  // two 8-CPU nodes: room for 16 CPU in all, but 3 replicas of 5 CPU need three nodes
  const f = fleet(nodeCluster('a', [{ count: 2, cpu: 8 }]), cluster('b', { cpu: 64 }));
  const ps = [
    placement('five', { replicas: 2, cpu: '5', strategy: 'Pack' }),
    placement('more-five', { replicas: 1, cpu: '5', strategy: 'Pack' }),
    placement('three', { replicas: 2, cpu: '3', strategy: 'Pack' }),
  ];
  const r = schedule(f, ps);
  assert.deepEqual(unbindable(f, ps, r), []);
  assert.deepEqual(violations(f, ps, r), []);
  assert.equal(r.stats.unscheduledReplicas, 0);
});

test('GPUs per node: a replica of 4 GPUs never lands where no node has 4', () => {
  const f = fleet(nodeCluster('twos', [{ count: 8, cpu: 32, devices: { gpu: 2 } }]), nodeCluster('eights', [{ count: 1, cpu: 32, devices: { gpu: 8 } }]));
  const p = placement('train', { replicas: 3, cpu: '1', accelerators: [{ deviceClassName: 'gpu', count: 4 }] });
  const [d] = schedule(f, [p]).decisions;
  assert.deepEqual(d?.clusters, [{ name: 'eights', replicas: 2 }]);
  assert.equal(d?.unscheduledReplicas, 1);
});

test('device-plugin accelerators: nvidia.com/gpu in node allocatable is fit per node', () => {
  const f = fleet(nodeCluster('plugin', [{ count: 2, cpu: 32, extended: { 'nvidia.com/gpu': 4 } }]), cluster('cpu-only', { cpu: 64 }));
  const p = placement('infer', { replicas: 5, cpu: '1', accelerators: [{ resourceName: 'nvidia.com/gpu', count: 2 }] });
  const [d] = schedule(f, [p]).decisions;
  assert.deepEqual(d?.clusters, [{ name: 'plugin', replicas: 4 }]);
  const e = explained(explainPlacement(f, p));
  assert.equal(e.clusters.find((c) => c.name === 'cpu-only')?.reason?.code, 'ResourceMissing');
});

const overlapping: Cluster = {
  ...cluster('mixed', { cpu: 64 }),
  // 4 H100s that the generic class and the H100 class both match, and 4 A100s
  devices: [
    { deviceClassName: 'gpu.example.com', alsoMatches: ['h100.example.com'], driver: 'gpu.example.com', attributes: { 'gpu.example.com/model': 'H100' }, total: 4, allocated: 0 },
    { deviceClassName: 'gpu.example.com', driver: 'gpu.example.com', attributes: { 'gpu.example.com/model': 'A100' }, total: 4, allocated: 0 },
  ],
};

test('a device two classes match is counted once', () => {
  const f = fleet(overlapping);
  const ps = [
    placement('h', { replicas: 4, cpu: '1', accelerators: [{ deviceClassName: 'h100.example.com', count: 1 }] }),
    placement('g', { replicas: 8, cpu: '1', accelerators: [{ deviceClassName: 'gpu.example.com', count: 1 }] }),
  ];
  const r = schedule(f, ps);
  const placed = r.decisions.reduce((s, d) => s + d.clusters.reduce((t, c) => t + c.replicas, 0), 0);
  assert.equal(placed, 8, 'eight devices, eight replicas');
  assert.equal(r.decisions.find((d) => d.placement === 'default/h')?.unscheduledReplicas, 0, 'the H100s went to the placement only they serve');
});

test('selectors narrow a request to the devices they match; explain names the selector it refuses for', () => {
  const other: Cluster = {
    ...cluster('a100s', { cpu: 64 }),
    devices: [{ deviceClassName: 'gpu.example.com', driver: 'gpu.example.com', attributes: { 'gpu.example.com/model': 'A100' }, total: 8, allocated: 0 }],
  };
  const f = fleet(overlapping, other);
  const p = placement('h100-only', { replicas: 6, cpu: '1', accelerators: [{ deviceClassName: 'gpu.example.com', count: 1, selectors: ['device.attributes["gpu.example.com"].model == "H100"'] }] });
  const [d] = schedule(f, [p]).decisions;
  assert.deepEqual(d?.clusters, [{ name: 'mixed', replicas: 4 }]);
  const e = explained(explainPlacement(f, p));
  const refused = e.clusters.find((c) => c.name === 'a100s');
  assert.equal(refused?.reason?.code, 'SelectorMismatch');
  assert.match(refused?.reason?.message ?? '', /matches device\.attributes\["gpu\.example\.com"\]\.model == "H100"/);
});

test('fit answers count per node and on what placements leave', () => {
  const f = fleet(nodeCluster('six', [{ count: 6, cpu: 4 }]));
  const state = FleetState.start(f, [placement('one', { replicas: 2, cpu: '3' })]);
  assert.equal(fitReport(f, { cpu: 3000, memory: 2 ** 30 }, () => true).total, 6);
  assert.equal(fitReport(state.occupied(), { cpu: 3000, memory: 2 ** 30 }, () => true).total, 4);
  const after = state.step({ put: [placement('two', { replicas: 5, cpu: '3' })] });
  assert.equal(after.decisions.get('default/two')?.unscheduledReplicas, 1, 'a step, too, counts nodes');
  assert.equal(fitReport(after.occupied(), { cpu: 1000, memory: 2 ** 30 }, () => true).total, 6);
});

// Random fleets of node groups: every decided replica binds, and no placement gets more on a
// cluster than that cluster's nodes hold of it alone.
const groupArb = fc.record({ count: fc.integer({ min: 1, max: 6 }), cpu: fc.constantFrom(2, 4, 8, 16), memoryGi: fc.constantFrom(8, 32), gpus: fc.constantFrom(0, 0, 1, 2, 8) });
const nodeFleetArb = fc.integer({ min: 1, max: 4 }).chain((n) =>
  fc.tuple(
    ...Array.from({ length: n }, (_, i) =>
      fc.array(groupArb, { minLength: 1, maxLength: 4 }).map((gs) =>
        nodeCluster(
          `c${i}`,
          gs.map((g) => ({ count: g.count, cpu: g.cpu, memoryGi: g.memoryGi, ...(g.gpus > 0 ? { devices: { gpu: g.gpus } } : {}) })),
          { region: i % 2 === 0 ? 'r1' : 'r2' },
        ),
      ),
    ),
  ),
);
const podArb = (i: number): fc.Arbitrary<Placement> =>
  fc
    .record({ replicas: fc.integer({ min: 1, max: 10 }), cpu: fc.constantFrom('500m', '1', '3', '5', '7'), gpus: fc.constantFrom(0, 0, 1, 2, 4), gang: fc.boolean(), priority: fc.constantFrom(0, 10) })
    .map((o) =>
      placement(`p${i}`, {
        replicas: o.replicas,
        cpu: o.cpu,
        memory: '1Gi',
        gang: o.gang && o.gpus > 0,
        priority: o.priority,
        ...(o.gpus > 0 ? { accelerators: [{ deviceClassName: 'gpu', count: o.gpus }] } : {}),
      }),
    );
const podsArb = fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => podArb(i))));

test('property: every decided replica binds to a node, and the rules hold', () => {
  fc.assert(
    fc.property(nodeFleetArb, podsArb, (clusters, placements) => {
      const snapshot = makeSnapshot(clusters);
      for (const solver of ['auto', 'greedy'] as const) {
        const c = FleetState.start(snapshot, placements, { solver });
        assert.deepEqual(unbindable(snapshot, placements, c.result, c.packOrder), [], solver);
        assert.deepEqual(violations(snapshot, placements, c.result), [], solver);
      }
    }),
    { numRuns: Number(process.env.ORRERY_PROPERTY_RUNS ?? 150) },
  );
});

test('property: never more on a cluster than its nodes hold of that placement alone', () => {
  fc.assert(
    fc.property(nodeFleetArb, podsArb, (clusters, placements) => {
      const snapshot = makeSnapshot(clusters);
      const r = schedule(snapshot, placements);
      for (const d of r.decisions) {
        const p = placements.find((x) => `default/${x.metadata.name}` === d.placement)!;
        for (const c of d.clusters) {
          const alone = schedule(makeSnapshot([snapshot.byName.get(c.name)!]), [{ ...p, spec: { ...p.spec, replicas: 1000, gang: false } }]).decisions[0]!;
          const bound = alone.clusters[0]?.replicas ?? 0;
          assert.ok(c.replicas <= bound, `${d.placement} on ${c.name}: ${c.replicas} > ${bound}`);
        }
      }
    }),
    { numRuns: Number(process.env.ORRERY_PROPERTY_RUNS ?? 100) },
  );
});

test('devices another class also matches are not counted by their sums, even on one node: the fairer answer is found', () => {
  // 4 H100s that "gpu" matches too. After p0 takes two, two are left: p1 (2 × 1 gpu) gets them
  // all rather than p2 one of its five 2-device replicas. Counted by sums, the h100 and gpu rows
  // look like separate room, and the answer the packing trims is the less fair one.
  const f = fleet({ ...cluster('c0', { cpu: 16 }), devices: [{ deviceClassName: 'gpu', alsoMatches: ['h100'], total: 4, allocated: 0 }] });
  const ps = [
    placement('p0', { replicas: 2, cpu: '1', priority: 1, accelerators: [{ deviceClassName: 'h100', count: 1 }] }),
    placement('p1', { replicas: 2, cpu: '1', accelerators: [{ deviceClassName: 'gpu', count: 1 }] }),
    placement('p2', { replicas: 5, cpu: '1', accelerators: [{ deviceClassName: 'h100', count: 2 }] }),
  ];
  const r = schedule(f, ps);
  assert.deepEqual(
    r.decisions.map((d) => [d.placement, d.clusters.reduce((s, c) => s + c.replicas, 0)]),
    [
      ['default/p0', 2],
      ['default/p1', 2],
      ['default/p2', 0],
    ],
  );
});
