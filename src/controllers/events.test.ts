import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Decision } from '../core/model.js';
import { placement } from '../../test/fixtures.js';
import { decisionEvents, eventObject } from './events.js';

const d = (clusters: Record<string, number>, unscheduled = 0, message = ''): Decision => ({
  placement: 'shop/web',
  clusters: Object.entries(clusters).map(([name, replicas]) => ({ name, replicas })),
  unscheduledReplicas: unscheduled,
  reason: unscheduled === 0 ? 'Scheduled' : Object.keys(clusters).length > 0 ? 'PartiallyScheduled' : 'Unschedulable',
  message,
});

test('a new decision is told once; an unchanged one not at all', () => {
  assert.deepEqual(decisionEvents(undefined, d({ a: 3, b: 1 })), [{ type: 'Normal', reason: 'Scheduled', action: 'Schedule', note: '4 replicas: a=3, b=1' }]);
  assert.deepEqual(decisionEvents(d({ a: 3, b: 1 }), d({ a: 3, b: 1 })), []);
});

test('partial and failed schedules are warnings with the reason', () => {
  const [partial] = decisionEvents(undefined, d({ a: 6 }, 2, 'insufficient cpu on 6 nodes'));
  assert.equal(partial?.type, 'Warning');
  assert.equal(partial?.reason, 'PartiallyScheduled');
  assert.equal(partial?.note, '6 replicas placed (a=6), 2 unscheduled: insufficient cpu on 6 nodes');
  const [none] = decisionEvents(d({ a: 1 }), d({}, 1, 'no cluster has gpu.nvidia.com'));
  assert.deepEqual([none?.reason, none?.note], ['Unschedulable', 'no cluster has gpu.nvidia.com']);
});

test('replicas moved only when some left a cluster and others arrived elsewhere', () => {
  const moved = decisionEvents(d({ a: 3, b: 1 }), d({ a: 1, b: 1, c: 2 }));
  assert.deepEqual(moved.map((e) => e.reason), ['Scheduled', 'ReplicasMoved']);
  assert.equal(moved[1]?.note, '2 replicas moved: 2 from a; 2 to c');
  assert.deepEqual(decisionEvents(d({ a: 3, b: 1 }), d({ a: 1, b: 1 })).map((e) => e.reason), ['Scheduled'], 'a shrink moves nothing');
  assert.deepEqual(decisionEvents(d({ a: 3 }), d({ a: 1, c: 5 })).map((e) => e.reason), ['Scheduled', 'ReplicasMoved']);
});

test('the Event object is events.k8s.io/v1 about the Placement, its note within the API limit', () => {
  const p = { ...placement('web', { namespace: 'shop' }), metadata: { name: 'web', namespace: 'shop', uid: 'u1' } };
  const e = eventObject(p, { type: 'Warning', reason: 'ApplyFailed', action: 'Apply', note: 'x'.repeat(2000) }, 'orrery-0', new Date('2026-01-02T03:04:05.678Z'), 'abc');
  assert.equal(e.metadata.name, 'web.abc');
  assert.equal(e.eventTime, '2026-01-02T03:04:05.678000Z');
  assert.deepEqual(e.regarding, { apiVersion: 'placement.orrery.dev/v1alpha1', kind: 'Placement', name: 'web', namespace: 'shop', uid: 'u1' });
  assert.equal(e.note.length, 1024);
});
