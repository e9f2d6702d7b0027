// Properties over random fleets and placements: the rules every schedule keeps.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cluster, placement } from '../../test/fixtures.js';
import { violations } from '../../test/invariants.js';
import { type Cluster, type Placement, makeSnapshot, placementKey } from './model.js';
import { schedule } from './schedule.js';

const regions = ['r1', 'r2', 'r3'];

const clusterArb = (i: number): fc.Arbitrary<Cluster> =>
  fc
    .record({
      cpu: fc.integer({ min: 1, max: 32 }),
      memoryGi: fc.integer({ min: 1, max: 64 }),
      pods: fc.integer({ min: 2, max: 40 }),
      used: fc.double({ min: 0, max: 0.9, noNaN: true }),
      region: fc.constantFrom(...regions),
      zone: fc.constantFrom('a', 'b'),
      env: fc.constantFrom('prod', 'dev'),
      healthy: fc.boolean(),
      taint: fc.constantFrom('none', 'none', 'maint', 'spot'),
      gpus: fc.constantFrom(0, 0, 2, 4, 8),
      gpusUsed: fc.integer({ min: 0, max: 8 }),
    })
    .map((o) =>
      cluster(`c${i}`, {
        cpu: o.cpu,
        memoryGi: o.memoryGi,
        pods: o.pods,
        usedCpu: Math.floor(o.cpu * o.used),
        usedMemoryGi: Math.floor(o.memoryGi * o.used),
        usedPods: Math.floor(o.pods * o.used),
        region: o.region,
        zone: `${o.region}-${o.zone}`,
        labels: { env: o.env },
        healthy: o.healthy || o.cpu % 5 !== 0,
        taints: o.taint === 'maint' ? [{ key: 'maint', effect: 'NoSchedule' }] : o.taint === 'spot' ? [{ key: 'spot', effect: 'PreferNoSchedule' }] : [],
        devices: o.gpus > 0 ? { gpu: [o.gpus, Math.min(o.gpus, o.gpusUsed)] } : {},
      }),
    );

const fleetArb = fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => clusterArb(i))));

const placementArb = (i: number): fc.Arbitrary<Placement> =>
  fc
    .record({
      replicas: fc.integer({ min: 0, max: 12 }),
      cpu: fc.constantFrom('100m', '500m', '1', '2', '4'),
      memory: fc.constantFrom('256Mi', '1Gi', '4Gi'),
      gpus: fc.constantFrom(0, 0, 0, 1, 2),
      selector: fc.boolean(),
      tolerate: fc.boolean(),
      required: fc.constantFrom(undefined, ['r1'], ['r1', 'r2']),
      preferred: fc.constantFrom(undefined, 'r2', 'r3'),
      spread: fc.constantFrom(
        undefined,
        { minClusters: 2 },
        { maxClusters: 1 },
        { maxClusters: 2, minClusters: 2 },
        { maxSkew: 1 },
        { maxSkew: 1, topologyKey: 'zone' },
        { maxSkew: 2, maxClusters: 2 },
      ),
      strategy: fc.constantFrom(undefined, 'Spread' as const, 'Pack' as const),
      gang: fc.boolean(),
      priority: fc.constantFrom(0, 0, 10),
    })
    .map((o) =>
      placement(`p${i}`, {
        replicas: o.replicas,
        cpu: o.cpu,
        memory: o.memory,
        ...(o.gpus > 0 ? { accelerators: [{ deviceClassName: 'gpu', count: o.gpus }] } : {}),
        ...(o.selector ? { clusterSelector: { matchLabels: { env: 'prod' } } } : {}),
        ...(o.tolerate ? { tolerations: [{ key: 'maint', operator: 'Exists' as const }] } : {}),
        ...(o.required || o.preferred
          ? { locality: { ...(o.required ? { requiredRegions: o.required } : {}), ...(o.preferred ? { preferred: [{ region: o.preferred, weight: 50 }] } : {}) } }
          : {}),
        ...(o.spread ? { spread: o.spread } : {}),
        ...(o.strategy ? { strategy: o.strategy } : {}),
        gang: o.gang && o.gpus > 0,
        priority: o.priority,
      }),
    );

const placementsArb = fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => placementArb(i))));

// ORRERY_PROPERTY_RUNS runs a deeper search by hand; the suite runs 150 cases per property.
const runs = { numRuns: Number(process.env.ORRERY_PROPERTY_RUNS ?? 150) };

test('no cluster over capacity, no ineligible cluster, gang and spread rules held', () => {
  fc.assert(
    fc.property(fleetArb, placementsArb, (clusters, placements) => {
      const snapshot = makeSnapshot(clusters);
      for (const solver of ['auto', 'greedy'] as const) {
        const r = schedule(snapshot, placements, { solver });
        assert.deepEqual(violations(snapshot, placements, r), [], solver);
      }
    }),
    runs,
  );
});

test('deterministic: the same input in any order gives the same output, byte for byte', () => {
  fc.assert(
    fc.property(fleetArb, placementsArb, (clusters, placements) => {
      const a = JSON.stringify(schedule(makeSnapshot(clusters), placements).decisions);
      const b = JSON.stringify(schedule(makeSnapshot([...clusters].reverse()), [...placements].reverse()).decisions);
      assert.equal(a, b);
    }),
    runs,
  );
});

test('priority: lower priorities never cost a higher one a replica', () => {
  fc.assert(
    fc.property(fleetArb, placementsArb, (clusters, placements) => {
      const snapshot = makeSnapshot(clusters);
      const high = placements.filter((p) => (p.spec.priority ?? 0) === 10);
      fc.pre(high.length > 0 && high.length < placements.length);
      const placedHigh = (r: ReturnType<typeof schedule>) =>
        r.decisions.filter((d) => high.some((p) => placementKey(p) === d.placement)).reduce((s, d) => s + d.clusters.reduce((t, c) => t + c.replicas, 0), 0);
      assert.ok(placedHigh(schedule(snapshot, placements)) >= placedHigh(schedule(snapshot, high)));
      // The greedy baseline serves priorities strictly in order, so there the answer is the same.
      const greedyAll = schedule(snapshot, placements, { solver: 'greedy' }).decisions.filter((d) => high.some((p) => placementKey(p) === d.placement));
      assert.deepEqual(greedyAll, schedule(snapshot, high, { solver: 'greedy' }).decisions);
    }),
    runs,
  );
});

test('stability: adding or resizing a placement moves no replica of another', () => {
  fc.assert(
    fc.property(fleetArb, placementsArb, placementArb(99), fc.integer({ min: 0, max: 12 }), (clusters, placements, extra, resize) => {
      const snapshot = makeSnapshot(clusters);
      const before = schedule(snapshot, placements);
      const added = schedule(snapshot, [...placements, extra], { previous: before.decisions });
      // Replicas already placed stay; replicas that had no cluster may find one.
      const kept = (now: ReturnType<typeof schedule>, d: (typeof before.decisions)[number]) => {
        const after = new Map(now.decisions.find((x) => x.placement === d.placement)?.clusters.map((c) => [c.name, c.replicas]));
        for (const c of d.clusters) assert.ok((after.get(c.name) ?? 0) >= c.replicas, `${d.placement} lost replicas on ${c.name}`);
      };
      for (const d of before.decisions) kept(added, d);
      assert.equal(added.stats.moves, 0);
      const first = placements[0]!;
      const resized = [{ ...first, spec: { ...first.spec, replicas: resize } }, ...placements.slice(1)];
      const after = schedule(snapshot, resized, { previous: before.decisions });
      for (const d of before.decisions) {
        if (d.placement === placementKey(first)) continue;
        kept(after, d);
      }
      // Steady never moves replicas to restore a skew; it only adds to the emptiest domains.
      assert.deepEqual(violations(snapshot, resized, after, { skew: false }), []);
    }),
    runs,
  );
});

test('an unchanged fleet gives an unchanged decision', () => {
  fc.assert(
    fc.property(fleetArb, placementsArb, (clusters, placements) => {
      const snapshot = makeSnapshot(clusters);
      const first = schedule(snapshot, placements);
      const again = schedule(snapshot, placements, { previous: first.decisions });
      assert.deepEqual(again.decisions, first.decisions);
    }),
    runs,
  );
});

test('the solver places at least as many top-priority replicas as the greedy baseline', () => {
  fc.assert(
    fc.property(fleetArb, placementsArb, (clusters, placements) => {
      const snapshot = makeSnapshot(clusters);
      const top = Math.max(...placements.map((p) => p.spec.priority ?? 0));
      const count = (r: ReturnType<typeof schedule>) =>
        r.decisions
          .filter((d) => placements.find((p) => placementKey(p) === d.placement)?.spec.priority === top)
          .reduce((s, d) => s + d.clusters.reduce((t, c) => t + c.replicas, 0), 0);
      assert.ok(count(schedule(snapshot, placements)) >= count(schedule(snapshot, placements, { solver: 'greedy' })));
    }),
    runs,
  );
});
