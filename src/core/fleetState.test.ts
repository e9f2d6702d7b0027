import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, placement } from '../../test/fixtures.js';
import { violations } from '../../test/invariants.js';
import type { Placement } from './model.js';
import { prepareCycle } from './cycle.js';
import { FleetState } from './fleetState.js';

/** The explanation, which a valid placement always has. */
function explained<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  assert.ok(r.ok, JSON.stringify(r));
  return r.value;
}

/** One step with `p` added to (or replacing its key in) the state's placements. */
function withOne(state: FleetState, p: Placement) {
  const key = `${p.metadata.namespace}/${p.metadata.name}`;
  const next = state.step({ put: [p] });
  return { state: next, decision: next.decisions.get(key)! };
}

test('a step places what is new in free capacity and moves nothing that stays', () => {
  const f = fleet(cluster('a', { cpu: 8 }), cluster('b', { cpu: 8 }));
  const existing = [placement('web', { replicas: 10, cpu: '1' })];
  const state = FleetState.start(f, existing);
  const { state: next, decision } = withOne(state, placement('api', { replicas: 10, cpu: '1' }));
  assert.equal(decision.unscheduledReplicas, 4, '6 cpu were left');
  assert.equal(next.decisions.get('default/web'), state.decisions.get('default/web'), 'its decision stands as it was');
  const all = [...existing, placement('api', { replicas: 10, cpu: '1' })];
  assert.deepEqual(violations(f, all, { decisions: [...next.decisions.values()], stats: {} as never }), []);
  assert.equal(state.decisions.has('default/api'), false, 'the old state is untouched');
});

test('a step resizes a placement in place, and one without it gives its capacity to what waits', () => {
  const f = fleet(cluster('a', { cpu: 4 }), cluster('b', { cpu: 4 }));
  let state = FleetState.start(f, [placement('web', { replicas: 4, cpu: '1' })]);
  const before = state.decisions.get('default/web')!;
  state = withOne(state, placement('web', { replicas: 6, cpu: '1' })).state;
  const grown = state.decisions.get('default/web')!;
  for (const c of before.clusters) assert.ok((grown.clusters.find((x) => x.name === c.name)?.replicas ?? 0) >= c.replicas);
  assert.equal(grown.unscheduledReplicas, 0);
  const full = withOne(state, placement('api', { replicas: 4, cpu: '1' }));
  assert.equal(full.decision.unscheduledReplicas, 2);
  // web goes: api, waiting for two replicas, gets them in the same step
  const after = full.state.step({ remove: ['default/web'] });
  assert.equal(after.decisions.get('default/api')?.unscheduledReplicas, 0);
  assert.equal(after.decisions.has('default/web'), false);
});

test('a gang that does not fit takes nothing', () => {
  const f = fleet(cluster('a', { cpu: 4 }));
  const r = withOne(FleetState.start(f, []), placement('train', { replicas: 5, cpu: '1', gang: true }));
  assert.deepEqual(r.decision.clusters, []);
  assert.equal(r.decision.reason, 'Unschedulable');
  assert.equal(withOne(r.state, placement('web', { replicas: 4, cpu: '1' })).decision.unscheduledReplicas, 0);
});

test('preview answers what the step would, and changes nothing', () => {
  const f = fleet(cluster('a', { cpu: 8 }), cluster('b', { cpu: 4 }));
  const state = FleetState.start(f, [placement('web', { replicas: 6, cpu: '1' })]);
  const extra = [placement('api', { replicas: 4, cpu: '1' }), placement('batch', { replicas: 4, cpu: '1' })];
  const seen = state.preview(extra);
  const stepped = state.step({ put: extra });
  assert.deepEqual(
    seen,
    extra.map((p) => stepped.decisions.get(`default/${p.metadata.name}`)),
  );
  assert.equal(
    seen.reduce((s, d) => s + d.unscheduledReplicas, 0),
    2,
    '6 cpu left for 8',
  );
  assert.equal(state.decisions.size, 1);
});

test('explain on a scheduled fleet shows the scores the solver used, not those of the room left', () => {
  const f = fleet(cluster('a', { cpu: 8, devices: { gpu: 4 } }), cluster('b', { cpu: 8, devices: { gpu: 4 } }));
  const ps = [
    placement('train', { replicas: 4, cpu: '1', accelerators: [{ deviceClassName: 'gpu', count: 1 }] }),
    placement('other', { replicas: 4, cpu: '1', accelerators: [{ deviceClassName: 'gpu', count: 1 }] }),
  ];
  const state = FleetState.start(f, ps);
  const e = explained(state.explain(ps[0]!));
  const cycle = prepareCycle(f, ps, { previous: [...state.decisions.values()] });
  const job = cycle.jobs.find((j) => j.p.key === 'default/train')!;
  for (const c of e.clusters) {
    const row = cycle.ctx.fleet.clusters.findIndex((x) => x.name === c.name);
    assert.equal(c.score, Math.round(job.pref(row) * 100) / 100, c.name);
    // every GPU was free in the snapshot the solver scored
    assert.equal(c.scores?.FreeAccelerators, 100, c.name);
  }
});

test('a step starts from the decisions in force: a placement scaled up keeps its replicas where they run, though another cluster scores higher', () => {
  const f = fleet(cluster('a', { cpu: 16, region: 'eu' }), cluster('b', { cpu: 16, region: 'us' }));
  const web = placement('web', { replicas: 2, cpu: '1', locality: { preferred: [{ region: 'eu', weight: 100 }] } });
  const inForce = { placement: 'default/web', clusters: [{ name: 'b', replicas: 2 }], unscheduledReplicas: 0, reason: 'Scheduled' as const, message: '' };
  const state = FleetState.start(f, [web], { previous: [inForce] });
  assert.deepEqual(state.decisions.get('default/web')?.clusters, [{ name: 'b', replicas: 2 }], 'Steady: it stays where it runs');
  const scaled = state.step({ put: [{ ...web, spec: { ...web.spec, replicas: 3 } }] });
  const b = scaled.decisions.get('default/web')?.clusters.find((c) => c.name === 'b')?.replicas ?? 0;
  assert.ok(b >= 2, `the two replicas on b stay: ${JSON.stringify(scaled.decisions.get('default/web'))}`);
  assert.equal(FleetState.start(f, [web]).decisions.get('default/web')?.clusters[0]?.name, 'a', 'from nothing, a scores higher');
});
