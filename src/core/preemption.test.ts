import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cluster, fleet, placement } from '../../test/fixtures.js';
import { fleetArb, placementsArb } from '../../test/arbitraries.js';
import { FleetState } from './fleetState.js';
import type { Decision, Placement } from './model.js';
import { disruptionBudget } from './preemption.js';

const where = (d: Decision | undefined) => Object.fromEntries((d?.clusters ?? []).map((c) => [c.name, c.replicas]));
const created = (p: Placement, at: string): Placement => ({ ...p, metadata: { ...p.metadata, creationTimestamp: at } });
const grown = (p: Placement, replicas: number): Placement => ({ ...p, spec: { ...p.spec, replicas } });

/** Two clusters of 4 CPUs, full: web (priority 100) and batch (priority 0), 4 replicas of 1 CPU each. */
function busy(batch: Partial<Placement['spec']> = {}) {
  const snapshot = fleet(cluster('a', { cpu: 4 }), cluster('b', { cpu: 4 }));
  const web = placement('web', { replicas: 4, cpu: '1', priority: 100 });
  const job = { ...placement('batch', { replicas: 4, cpu: '1', priority: 0 }), spec: { ...placement('batch', { replicas: 4, cpu: '1', priority: 0 }).spec, ...batch } };
  const state = FleetState.start(snapshot, [job, web]);
  return { snapshot, web, batch: job, state };
}

test('a placement short of room takes it from a lower priority, in the cluster it frees, as few replicas as will do, and both decisions say so', () => {
  const { web, state } = busy();
  assert.equal(state.decisions.get('default/web')?.unscheduledReplicas, 0);
  const before = state.decisions;
  const next = state.step({ put: [grown(web, 6)] });
  const w = next.decisions.get('default/web')!;
  const b = next.decisions.get('default/batch')!;
  assert.equal(w.unscheduledReplicas, 0);
  assert.equal(b.unscheduledReplicas, 2, 'two replicas of batch make room for two of web');
  assert.equal(b.reason, 'Preempted');
  const taken = w.preemptions?.reduce((n, r) => n + r.replicas, 0);
  assert.equal(taken, 2);
  assert.deepEqual(b.preemptions, w.preemptions);
  for (const r of w.preemptions ?? []) assert.deepEqual([r.preemptor, r.victim], ['default/web', 'default/batch']);
  assert.match(b.message, /preempted: 2 replicas in \w by default\/web/);
  assert.match(w.message, /preempting 2 replicas of default\/batch in \w/);
  assert.equal(next.result.stats.preempted, 2);
  // web's own replicas did not move
  for (const [name, n] of Object.entries(where(before.get('default/web')))) assert.ok((where(w)[name] ?? 0) >= n);
});

test('never from equal or higher priority, and not with preemptionPolicy Never', () => {
  const { web, state } = busy({ priority: 100 });
  const same = state.step({ put: [grown(web, 6)] });
  assert.equal(same.decisions.get('default/web')?.unscheduledReplicas, 2);
  assert.equal(same.result.stats.preempted, 0);
  const low = busy();
  const never = low.state.step({ put: [{ ...grown(low.web, 6), spec: { ...grown(low.web, 6).spec, preemptionPolicy: 'Never' } }] });
  assert.equal(never.decisions.get('default/web')?.unscheduledReplicas, 2);
  assert.deepEqual(where(never.decisions.get('default/batch')), where(low.state.decisions.get('default/batch')));
});

test('the lowest priority first, then the most recently created', () => {
  const snapshot = fleet(cluster('a', { cpu: 3 }));
  const old = created(placement('old', { cpu: '1', priority: 5 }), '2026-01-01T00:00:00Z');
  const young = created(placement('young', { cpu: '1', priority: 5 }), '2026-06-01T00:00:00Z');
  const lowest = placement('lowest', { cpu: '1', priority: 1 });
  const state = FleetState.start(snapshot, [old, young, lowest]);
  const urgent = placement('urgent', { replicas: 2, cpu: '1', priority: 50 });
  const next = state.step({ put: [urgent] });
  assert.deepEqual(
    next.decisions.get('default/urgent')?.preemptions?.map((r) => r.victim),
    ['default/lowest', 'default/young'],
  );
  assert.deepEqual(where(next.decisions.get('default/old')), { a: 1 });
});

test('a gang loses all of its replicas in a cluster or none; a gang preemptor takes nothing unless all of it fits', () => {
  const snapshot = fleet(cluster('a', { cpu: 4 }));
  const gang = placement('train', { replicas: 2, cpu: '1', priority: 0, gang: true });
  const loose = placement('loose', { replicas: 2, cpu: '1', priority: 0 });
  const state = FleetState.start(snapshot, [gang, loose]);
  // one replica's room wanted: loose gives one (fewer than the gang's two)
  const one = state.step({ put: [placement('svc', { cpu: '1', priority: 10 })] });
  assert.deepEqual(
    one.decisions.get('default/svc')?.preemptions?.map((r) => [r.victim, r.replicas]),
    [['default/loose', 1]],
  );
  assert.deepEqual(where(one.decisions.get('default/train')), { a: 2 });
  // three wanted: loose gives two, and the gang, which cannot give one alone, gives both
  const three = state.step({ put: [placement('svc', { replicas: 3, cpu: '1', priority: 10 })] });
  const taken = Object.fromEntries((three.decisions.get('default/svc')?.preemptions ?? []).map((r) => [r.victim, r.replicas]));
  assert.deepEqual(taken, { 'default/loose': 2, 'default/train': 2 });
  // a gang preemptor of 6 cannot fit in 4 CPUs whatever it takes: nothing is taken
  const big = state.step({ put: [placement('big', { replicas: 6, cpu: '1', priority: 10, gang: true })] });
  assert.equal(big.result.stats.preempted, 0);
  assert.deepEqual(where(big.decisions.get('default/loose')), { a: 2 });
});

test('spec.disruption.maxUnavailable bounds what one step takes; the rest waits for the next step', () => {
  assert.equal(disruptionBudget(placement('x', { replicas: 10, disruption: { maxUnavailable: '25%' } })), 3);
  assert.equal(disruptionBudget(placement('x', { replicas: 10, disruption: { maxUnavailable: 2 } })), 2);
  assert.equal(disruptionBudget(placement('x', { replicas: 10 })), Number.POSITIVE_INFINITY);
  const { web, state } = busy({ disruption: { maxUnavailable: 1 } });
  const first = state.step({ put: [grown(web, 7)] });
  assert.equal(first.decisions.get('default/batch')?.unscheduledReplicas, 1);
  assert.equal(first.decisions.get('default/web')?.unscheduledReplicas, 2);
  // the next step, with nothing else changed, takes one more
  const second = first.step({});
  assert.equal(second.decisions.get('default/batch')?.unscheduledReplicas, 2);
  assert.equal(second.decisions.get('default/web')?.unscheduledReplicas, 1);
  const third = second.step({});
  assert.equal(third.decisions.get('default/web')?.unscheduledReplicas, 0);
  // nothing left to take: a step changes nothing
  assert.equal(third.step({}).result.stats.preempted, 0);
});

test('no thrash: the preempted does not preempt back, and 10 → 5 → 10 with nothing else changing gives the first answer again', () => {
  const { web, state } = busy();
  const taken = state.step({ put: [grown(web, 6)] });
  const again = taken.step({});
  assert.equal(again.result.stats.preempted, 0);
  assert.deepEqual(where(again.decisions.get('default/batch')), where(taken.decisions.get('default/batch')));
  const calm = FleetState.start(fleet(cluster('a', { cpu: 8 }), cluster('b', { cpu: 8 })), [
    placement('svc', { replicas: 10, cpu: '1', priority: 100 }),
    placement('batch', { replicas: 4, cpu: '1' }),
  ]);
  const svc = calm.entries.get('default/svc')!.placement;
  const down = calm.step({ put: [grown(svc, 5)] });
  const up = down.step({ put: [grown(svc, 10)] });
  assert.deepEqual(where(up.decisions.get('default/svc')), where(calm.decisions.get('default/svc')));
  assert.deepEqual(where(up.decisions.get('default/batch')), where(calm.decisions.get('default/batch')));
});

test('what-if and a step from the decisions in force preempt alike, over random fleets', () => {
  fc.assert(
    fc.property(fleetArb, placementsArb, fc.nat(), (clusters, placements, pick) => {
      const snapshot = fleet(...clusters);
      const state = FleetState.start(snapshot, placements);
      const target = placements[pick % placements.length] as Placement;
      const urgent = { ...target, spec: { ...target.spec, replicas: target.spec.replicas + 3, priority: 999 } };
      const previewed = state.preview([urgent])[0];
      const stepped = state.step({ put: [urgent] }).decisions.get(previewed!.placement);
      assert.deepEqual(previewed, stepped);
    }),
    { numRuns: 100 },
  );
});

test('on the example fleet: the scale hook, what-if and a plan from the decisions in force all give the inference service its GPUs from fine-tuning', async () => {
  const { loadFleet, loadPlacements } = await import('../fleet/snapshotFile.js');
  const root = new URL('../../../', import.meta.url).pathname;
  const f = await loadFleet(`${root}examples/fleet.yaml`);
  const ps = await loadPlacements(`${root}examples/placements.yaml`);
  assert.ok(f.ok && ps.ok);
  const state = FleetState.start(f.value.snapshot, ps.value);
  const llm = state.entries.get('ml/llm-inference')!.placement;
  assert.equal(state.decisions.get('ml/llm-inference')?.unscheduledReplicas, 0);
  const more = grown(llm, llm.spec.replicas + 2);
  const stepped = state.step({ put: [more] });
  const previewed = state.preview([more])[0];
  const planned = FleetState.start(
    f.value.snapshot,
    ps.value.map((p) => (p.metadata.name === 'llm-inference' ? more : p)),
    { previous: [...state.decisions.values()] },
  );
  for (const d of [stepped.decisions.get('ml/llm-inference'), previewed, planned.decisions.get('ml/llm-inference')]) {
    assert.equal(d?.unscheduledReplicas, 0);
    assert.deepEqual(
      d?.preemptions?.map((r) => r.victim),
      ['ml/fine-tune'],
    );
  }
  assert.deepEqual(where(planned.decisions.get('ml/llm-inference')), where(stepped.decisions.get('ml/llm-inference')));
  assert.equal(stepped.decisions.get('ml/fine-tune')?.reason, 'Preempted');
  assert.equal(planned.decisions.get('ml/fine-tune')?.reason, 'Preempted');
});

test("the embedded scale hook's answer and explain say which replicas were taken, from whom and for whom", async () => {
  const { EmbeddedEngine } = await import('../embedded/engine.js');
  const { web, batch } = busy();
  const engine = new EmbeddedEngine(fleet(cluster('a', { cpu: 4 }), cluster('b', { cpu: 4 })), [batch, web]);
  const answer = await engine.scale('default/web', 6);
  assert.ok(answer.ok);
  assert.equal(answer.value.decision.unscheduledReplicas, 0);
  assert.equal(
    answer.value.decision.preemptions?.reduce((n, r) => n + r.replicas, 0),
    2,
  );
  const explained = engine.explain('default/batch');
  assert.equal(explained?.decision?.reason, 'Preempted');
  assert.deepEqual(
    explained?.decision?.preemptions?.map((r) => [r.preemptor, r.victim]),
    answer.value.decision.preemptions?.map((r) => [r.preemptor, r.victim]),
  );
});
