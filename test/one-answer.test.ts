// One answer everywhere, over random fleets: the step a preview takes (what-if, the scale hook's
// answer, an embedded write) is the step the hub controller takes on the same fleet; and the
// quick step, which leaves alone what cannot change, answers as the step that solves everything.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fleetArb, placementsArb } from './arbitraries.js';
import { EmbeddedEngine } from '../src/embedded/engine.js';
import { type Decision, type Placement, makeSnapshot, placementKey } from '../src/core/model.js';
import { FleetState } from '../src/core/fleetState.js';
import { lostOnlyToHigher } from './invariants.js';

const runs = { numRuns: Number(process.env.ORRERY_PROPERTY_RUNS ?? 150) };

const renamed = (ps: readonly Placement[], prefix: string) => ps.map((p, i) => ({ ...p, metadata: { ...p.metadata, name: `${prefix}${i}` } }));
const byKey = (ds: readonly Decision[]) => new Map(ds.map((d) => [d.placement, d]));

/** A running fleet and a change to it: new placements, one running one grown, one removed (unless it is the grown one). */
function aChange(clusters: Parameters<typeof makeSnapshot>[0], running: readonly Placement[], extra: readonly Placement[], grow: number, drop: number) {
  const snapshot = makeSnapshot(clusters);
  const state = FleetState.start(snapshot, running);
  const grown = running[grow % running.length] as Placement;
  const dropped = running[drop % running.length] as Placement;
  const scaled = { ...grown, spec: { ...grown.spec, replicas: grown.spec.replicas + 2 } };
  return { snapshot, state, grown, scaled, dropped, added: renamed(extra, 'new'), remove: dropped === grown ? [] : [placementKey(dropped)] };
}

test('the quick step answers as the step that solves every placement again', () => {
  fc.assert(
    fc.property(fleetArb, placementsArb, placementsArb, fc.nat(), fc.nat(), (clusters, running, extra, grow, drop) => {
      const { state, grown, scaled, added, remove } = aChange(clusters, running, extra, grow, drop);
      const change = { put: [...added, scaled], remove };
      const quick = state.step(change).decisions;
      const whole = state.step(change, { everything: true }).decisions;
      assert.deepEqual(quick, whole);
      // nothing that stays moves but what a placement of higher priority preempts: every other
      // running placement keeps at least what it had where it had it, unless its decision says why not
      const placements = [...running, ...added];
      assert.deepEqual(lostOnlyToHigher(state.decisions, quick, placements, new Set([placementKey(grown), ...change.remove])), []);
      // and where nothing may preempt, nothing at all
      const never = (ps: readonly Placement[]) => ps.map((p) => ({ ...p, spec: { ...p.spec, preemptionPolicy: 'Never' as const } }));
      const calm = FleetState.start(state.snapshot, never(running));
      const step = calm.step({ put: never([...added, scaled]), remove }).decisions;
      for (const [key, before] of calm.decisions) {
        if (key === placementKey(grown) || change.remove.includes(key)) continue;
        for (const c of before.clusters) assert.ok((step.get(key)?.clusters.find((x) => x.name === c.name)?.replicas ?? 0) >= c.replicas, `${key} on ${c.name}`);
      }
    }),
    runs,
  );
});

test('the embedded what-if, scale and removal answer what the hub controller then decides', async () => {
  await fc.assert(
    fc.asyncProperty(fleetArb, placementsArb, placementsArb, fc.nat(), async (clusters, running, extra, pick) => {
      const snapshot = makeSnapshot(clusters);
      const added = renamed(extra, 'new');
      const engine = new EmbeddedEngine(snapshot, running);
      // The controller after its cycle on `running`: the state the API answers from.
      const controller = FleetState.start(snapshot, running);
      const previous = [...controller.decisions.values()];

      // what-if, then the new Placements created: the controller's next cycle
      const seen = engine.whatif(added);
      const next = byKey(controller.cycle(snapshot, [...running, ...added], previous).result.decisions);
      assert.deepEqual(
        seen,
        added.map((p) => next.get(placementKey(p))),
      );

      // a scale of one running placement: the hook's answer, and the controller's cycle after it
      const target = running[pick % running.length] as Placement;
      const scaled = { ...target, spec: { ...target.spec, replicas: target.spec.replicas + 3 } };
      const answer = await engine.scale(placementKey(target), scaled.spec.replicas);
      assert.ok(answer.ok);
      const afterScale = byKey(
        controller.cycle(
          snapshot,
          running.map((p) => (p === target ? scaled : p)),
          previous,
        ).result.decisions,
      );
      assert.deepEqual(answer.value.decision, afterScale.get(placementKey(target)));
      assert.deepEqual(byKey(engine.placements().map((v) => v.decision)), new Map([...afterScale].filter(([k]) => engine.get(k) !== undefined)));
    }),
    runs,
  );
});

test('removing a placement gives its room to what waits, as the controller would', async () => {
  await fc.assert(
    fc.asyncProperty(fleetArb, placementsArb, fc.nat(), async (clusters, running, pick) => {
      const snapshot = makeSnapshot(clusters);
      const engine = new EmbeddedEngine(snapshot, running);
      const controller = FleetState.start(snapshot, running);
      const gone = running[pick % running.length] as Placement;
      const rest = running.filter((p) => placementKey(p) !== placementKey(gone));
      assert.ok((await engine.remove(placementKey(gone))).ok);
      const next = byKey(controller.cycle(snapshot, rest, [...controller.decisions.values()]).result.decisions);
      assert.deepEqual(byKey(engine.placements().map((v) => v.decision)), new Map([...next].filter(([k]) => engine.get(k) !== undefined)));
    }),
    runs,
  );
});

test('the controller told what changed steps as the controller that looks at every placement', () => {
  fc.assert(
    fc.property(fleetArb, placementsArb, placementsArb, fc.nat(), fc.nat(), (clusters, running, extra, grow, drop) => {
      const { snapshot, state, grown, scaled, dropped, added, remove } = aChange(clusters, running, extra, grow, drop);
      const now = [...running.filter((p) => p !== dropped || p === grown).map((p) => (p === grown ? scaled : p)), ...added];
      const looked = state.cycle(snapshot, now, [...state.decisions.values()]).result.decisions;
      // told more than changed (every running placement put again as it was): the same answer
      const told = state.step({ put: now, remove }, {}).result.decisions;
      assert.deepEqual(byKey(told), byKey(looked));
    }),
    runs,
  );
});
