import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placement } from '../../test/fixtures.js';
import { selectorOf, statusFor } from './status.js';

const p = { ...placement('web', { replicas: 4 }), metadata: { name: 'web', namespace: 'default', generation: 3 } };
const decision = {
  placement: 'default/web',
  clusters: [
    { name: 'a', replicas: 3 },
    { name: 'b', replicas: 1 },
  ],
  unscheduledReplicas: 0,
  reason: 'Scheduled' as const,
  message: '4 replicas on 2 clusters',
};
const rollout = (ready: Record<string, number>, failed: Record<string, string> = {}, conflicts: Record<string, string> = {}) => ({
  applied: new Set(Object.keys(ready)),
  ready: new Map(Object.entries(ready)),
  failed: new Map(Object.entries(failed)),
  conflicts: new Map(Object.entries(conflicts)),
});
const cond = (s: ReturnType<typeof statusFor>, type: string) => s.conditions.find((c) => c.type === type)!;

test('scale fields, clusters and conditions from a decision and a rollout', () => {
  const s = statusFor(p, decision, rollout({ a: 3, b: 1 }), undefined, 'T1');
  assert.equal(s.observedGeneration, 3);
  assert.equal(s.replicas, 4);
  assert.equal(s.selector, 'app=web');
  assert.deepEqual(s.clusters, [
    { name: 'a', replicas: 3, readyReplicas: 3 },
    { name: 'b', replicas: 1, readyReplicas: 1 },
  ]);
  assert.deepEqual([cond(s, 'Scheduled').status, cond(s, 'Applied').status, cond(s, 'Available').status], ['True', 'True', 'True']);
});

test('a failed member and missing ready replicas say so', () => {
  const s = statusFor(p, decision, rollout({ a: 1 }, { b: 'connection refused' }), undefined, 'T1');
  assert.equal(cond(s, 'Applied').status, 'False');
  assert.equal(cond(s, 'Applied').reason, 'ApplyFailed');
  assert.match(cond(s, 'Applied').message, /b: connection refused/);
  assert.equal(cond(s, 'Available').status, 'False');
  assert.equal(cond(s, 'Available').message, '1 of 4 replicas ready');
  assert.equal(s.clusters[1]?.reason, 'connection refused');
  const unscheduled = statusFor(p, { ...decision, reason: 'PartiallyScheduled', unscheduledReplicas: 2, message: '2 of 4 replicas unscheduled' }, undefined, undefined, 'T1');
  assert.deepEqual([cond(unscheduled, 'Scheduled').status, cond(unscheduled, 'Scheduled').reason], ['False', 'PartiallyScheduled']);
  assert.equal(cond(unscheduled, 'Applied').status, 'Unknown');
});

test('a condition keeps its lastTransitionTime until its status changes', () => {
  const first = statusFor(p, decision, rollout({ a: 0, b: 0 }), undefined, 'T1');
  const same = statusFor(p, decision, rollout({ a: 1, b: 0 }), first, 'T2');
  assert.equal(cond(same, 'Available').lastTransitionTime, 'T1', 'still False');
  assert.equal(cond(same, 'Scheduled').lastTransitionTime, 'T1');
  const ready = statusFor(p, decision, rollout({ a: 3, b: 1 }), same, 'T3');
  assert.equal(cond(ready, 'Available').lastTransitionTime, 'T3', 'False → True');
  assert.deepEqual(statusFor(p, decision, rollout({ a: 3, b: 1 }), ready, 'T4'), ready, 'nothing changed: the same status');
});

test('the selector comes from the template', () => {
  const q = placement('x');
  assert.equal(selectorOf({ ...q, spec: { ...q.spec, template: { spec: { ...q.spec.template.spec, selector: { matchLabels: { b: '2', a: '1' } } } } } }), 'a=1,b=2');
});

test('not Available while replicas are unscheduled, however ready the placed ones are', () => {
  const partial = { placement: 'default/web', clusters: [{ name: 'a', replicas: 3 }], unscheduledReplicas: 1, reason: 'PartiallyScheduled' as const, message: '1 of 4 replicas unscheduled' };
  const s = statusFor(p, partial, rollout({ a: 3 }), undefined, 'T1');
  assert.equal(s.replicas, 3);
  assert.equal(s.readyReplicas, 3);
  assert.equal(s.unscheduledReplicas, 1);
  assert.deepEqual([cond(s, 'Scheduled').status, cond(s, 'Scheduled').reason], ['False', 'PartiallyScheduled']);
  assert.deepEqual([cond(s, 'Available').status, cond(s, 'Available').message], ['False', '3 of 4 replicas ready']);
});

test("someone else's objects in a member: Applied is False with reason Conflict, naming the member, the kind and the name, and where the replicas went", () => {
  const moved = { ...decision, clusters: [{ name: 'a', replicas: 4 }] };
  const s = statusFor(p, moved, rollout({ a: 4 }, {}, { b: 'Deployment default/web exists, not made by Orrery (takeOver: Never)' }), undefined, 'T1');
  const applied = cond(s, 'Applied');
  assert.deepEqual([applied.status, applied.reason], ['False', 'Conflict']);
  assert.equal(applied.message, 'b: Deployment default/web exists, not made by Orrery (takeOver: Never); the replicas run in a');
  assert.equal(cond(s, 'Available').status, 'True', 'the replicas elsewhere are available all the same');
  const stranded = statusFor(p, { ...decision, clusters: [{ name: 'b', replicas: 4 }] }, rollout({}, {}, { b: 'Service default/web exists' }), undefined, 'T1');
  assert.match(cond(stranded, 'Applied').message, /no other cluster holds its replicas$/);
});

test('delivered by another tool: Applied says where the decision is published or why not, readiness is not claimed', () => {
  const argo = { ...p, spec: { ...p.spec, delivery: 'External' as const } };
  const s = statusFor(argo, decision, rollout({}), undefined, 'T1', { ok: true, message: 'published in argocd/clusterdecisions/default.web' });
  assert.deepEqual(
    s.conditions.map((c) => [c.type, c.status, c.reason]),
    [
      ['Scheduled', 'True', 'Scheduled'],
      ['Applied', 'True', 'Published'],
      ['Available', 'Unknown', 'DeliveredExternally'],
    ],
  );
  assert.deepEqual(s.clusters, [
    { name: 'a', replicas: 3 },
    { name: 'b', replicas: 1 },
  ]);
  assert.equal(s.replicas, 4);
  const failed = statusFor(argo, decision, undefined, s, 'T2', { ok: false, message: 'argocd/clusterdecisions/default.web exists and was not made by Orrery for this Placement' });
  assert.deepEqual([cond(failed, 'Applied').status, cond(failed, 'Applied').reason, cond(failed, 'Applied').lastTransitionTime], ['False', 'PublishFailed', 'T2']);
  assert.equal(cond(failed, 'Available').lastTransitionTime, 'T1');
});
