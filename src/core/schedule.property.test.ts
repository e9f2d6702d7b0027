// Properties over random fleets and placements: the rules every schedule keeps.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cluster, placement } from '../../test/fixtures.js';
import * as arbitraries from '../../test/arbitraries.js';
import { compareByPriority, lostOnlyToHigher, violations, worthByPriority } from '../../test/invariants.js';
import { FLOORS, makeSnapshot, placementKey } from './model.js';
import { fitCount } from './fit.js';
import { fitOnNodes, nodeTotals } from './nodes.js';
import { hasOwnLimits } from './solver/aloneCap.js';
import { FleetState } from './fleetState.js';

/** A full cycle's result. */
const schedule = (...a: Parameters<typeof FleetState.start>) => FleetState.start(...a).result;

const { fleetArb, placementArb, placementsArb } = arbitraries;

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

test('priority: lower priorities never cost a higher one any worth', () => {
  fc.assert(
    fc.property(fleetArb, placementsArb, (clusters, placements) => {
      const snapshot = makeSnapshot(clusters);
      const high = placements.filter((p) => (p.spec.priority ?? 0) === 10);
      fc.pre(high.length > 0 && high.length < placements.length);
      // worth is measured against the whole fleet either way: the same scale for both answers
      const worthHigh = (r: ReturnType<typeof schedule>) => worthByPriority(snapshot, placements, r).get(10) ?? 0;
      const alone = worthHigh(schedule(snapshot, high));
      assert.ok(worthHigh(schedule(snapshot, placements)) >= alone - 1e-9 * Math.max(1, alone));
      // The greedy baseline serves priorities strictly in order, so there the answer is the same.
      const greedyAll = schedule(snapshot, placements, { solver: 'greedy' }).decisions.filter((d) => high.some((p) => placementKey(p) === d.placement));
      assert.deepEqual(greedyAll, schedule(snapshot, high, { solver: 'greedy' }).decisions);
    }),
    runs,
  );
});

test('preemption: adding or resizing a placement takes replicas only from placements of strictly lower priority, and says so', () => {
  fc.assert(
    fc.property(fleetArb, placementsArb, placementArb(99), fc.integer({ min: 0, max: 12 }), (clusters, placements, extra, resize) => {
      const snapshot = makeSnapshot(clusters);
      const before = schedule(snapshot, placements);
      const byKey = (r: ReturnType<typeof schedule>) => new Map(r.decisions.map((d) => [d.placement, d]));
      const added = schedule(snapshot, [...placements, extra], { previous: before.decisions });
      assert.deepEqual(lostOnlyToHigher(byKey(before), byKey(added), [...placements, extra]), []);
      const first = placements[0]!;
      const resized = [{ ...first, spec: { ...first.spec, replicas: resize } }, ...placements.slice(1)];
      const after = schedule(snapshot, resized, { previous: before.decisions });
      assert.deepEqual(lostOnlyToHigher(byKey(before), byKey(after), resized, new Set([placementKey(first)])), []);
      assert.deepEqual(violations(snapshot, resized, after, { skew: false }), []);
    }),
    runs,
  );
});

test('stability: where nothing preempts, adding or resizing a placement moves no replica of another', () => {
  fc.assert(
    fc.property(fleetArb, placementsArb, placementArb(99), fc.integer({ min: 0, max: 12 }), (clusters, all, one, resize) => {
      const never = <T extends { spec: object }>(p: T): T => ({ ...p, spec: { ...p.spec, preemptionPolicy: 'Never' } });
      const placements = all.map(never);
      const extra = never(one);
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

test('never worth less than a greedy floor, tier by tier from the top', () => {
  fc.assert(
    fc.property(fleetArb, placementsArb, (clusters, placements) => {
      const snapshot = makeSnapshot(clusters);
      const solved = worthByPriority(snapshot, placements, schedule(snapshot, placements));
      for (const solver of FLOORS) {
        const floor = worthByPriority(snapshot, placements, schedule(snapshot, placements, { solver }));
        assert.ok(compareByPriority(solved, floor) >= 0, `${solver}: ${JSON.stringify([...floor])} over ${JSON.stringify([...solved])}`);
      }
    }),
    runs,
  );
});

test('on fleets given by their node groups, never worth less than a node-level floor, tier by tier', () => {
  fc.assert(
    fc.property(arbitraries.nodeFleetArb, arbitraries.gpuWorkArb, (clusters, placements) => {
      const snapshot = makeSnapshot(clusters);
      const state = FleetState.start(snapshot, placements);
      const r = state.result;
      assert.deepEqual(violations(snapshot, placements, r), []);
      // the nodes as the answer leaves them: never over, and using exactly what the sums say is used
      const { fleet } = state;
      const dims = fleet.dims.length;
      fleet.clusters.forEach((c, row) => {
        const before = nodeTotals(fleet.nodes[row]!, fleet.scalarDims, fleet.kinds.length);
        const after = nodeTotals(state.nodes[row]!, fleet.scalarDims, fleet.kinds.length);
        for (const g of state.nodes[row]!.groups) for (const v of [...g.free, ...g.devices]) assert.ok(v >= 0, `${c.name} over on a node`);
        for (let d = 0; d < fleet.scalarDims; d++) {
          const used = (fleet.free[row * dims + d] as number) - (state.free[row * dims + d] as number);
          assert.ok(Math.abs(before.free[d]! - after.free[d]! - used) < 1e-6, `${c.name} ${fleet.dims[d]}: nodes and sums disagree`);
        }
      });
      const solved = worthByPriority(snapshot, placements, r);
      for (const solver of FLOORS) {
        const floor = worthByPriority(snapshot, placements, schedule(snapshot, placements, { solver }));
        assert.ok(compareByPriority(solved, floor) >= 0, `${solver}: ${JSON.stringify([...floor])} over ${JSON.stringify([...solved])}`);
      }
    }),
    runs,
  );
});

test('Spread on idle look-alike clusters: no cluster holds more than its even share', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1, max: 30 }), fc.constantFrom('500m', '1', '2'), (n, replicas, cpu) => {
      const clusters = Array.from({ length: n }, (_, i) => cluster(`c${i}`, { cpu: 64, memoryGi: 256, pods: 110 }));
      const r = schedule(makeSnapshot(clusters), [placement('web', { replicas, cpu, memory: '1Gi' })]);
      const d = r.decisions[0]!;
      assert.equal(d.unscheduledReplicas, 0);
      const share = Math.ceil(replicas / Math.min(replicas, n));
      for (const c of d.clusters) assert.ok(c.replicas <= share, JSON.stringify(d.clusters));
      assert.equal(d.clusters.length, Math.min(replicas, n));
    }),
    runs,
  );
});

test('nothing is left idle that a waiting replica could use', () => {
  fc.assert(
    fc.property(fleetArb, placementsArb, (clusters, placements) => {
      const s = FleetState.start(makeSnapshot(clusters), placements);
      const { fleet } = s;
      const dims = fleet.dims.length;
      const decided = new Map(s.result.decisions.map((d) => [d.placement, d]));
      for (const { job } of s.entries.values()) {
        if (job === undefined) continue;
        // Rules of its own (gang, spread) can rightly hold a placement below what fits.
        if ((decided.get(job.p.key)?.unscheduledReplicas ?? 0) === 0 || hasOwnLimits(job)) continue;
        for (const row of job.order) {
          const fits = fitCount(s.free, row * dims, job.p.demand) >= 1 && fitOnNodes(s.nodes[row]!, job.p.node, 1) >= 1;
          assert.ok(!fits, `${job.p.key} waits while ${fleet.clusters[row]!.name} holds one of its replicas`);
        }
      }
    }),
    runs,
  );
});

test('placements of one shape at one priority get the same share of what they ask, to a replica', () => {
  const sameShape = fc.record({
    cpu: fc.constantFrom('500m', '1', '2'),
    gpus: fc.constantFrom(0, 1, 2),
    asks: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 2, maxLength: 6 }),
  });
  fc.assert(
    fc.property(fleetArb, sameShape, (clusters, o) => {
      const placements = o.asks.map((replicas, i) =>
        placement(`p${i}`, { replicas, cpu: o.cpu, memory: '256Mi', ...(o.gpus > 0 ? { accelerators: [{ deviceClassName: 'gpu', count: o.gpus }] } : {}) }),
      );
      const r = schedule(makeSnapshot(clusters), placements);
      const share = r.decisions.map((d) => {
        const asked = placements.find((p) => placementKey(p) === d.placement)!.spec.replicas;
        return { got: (asked - d.unscheduledReplicas) / asked, step: 1 / asked };
      });
      // Filled a tenth at a time: no placement more than a tenth and a replica ahead of another.
      const least = Math.min(...share.map((x) => x.got));
      for (const x of share) assert.ok(x.got <= least + 0.1 + x.step + 1e-9, JSON.stringify(share));
    }),
    runs,
  );
});
