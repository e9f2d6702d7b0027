import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Decision } from '../core/model.js';
import { placement } from '../../test/fixtures.js';
import { EventRecorder, decisionEvents, eventObject } from './events.js';
import type { ApiClient } from '../fleet/client.js';

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
  assert.deepEqual(
    moved.map((e) => e.reason),
    ['Scheduled', 'ReplicasMoved'],
  );
  assert.equal(moved[1]?.note, '2 replicas moved: 2 from a; 2 to c');
  assert.deepEqual(
    decisionEvents(d({ a: 3, b: 1 }), d({ a: 1, b: 1 })).map((e) => e.reason),
    ['Scheduled'],
    'a shrink moves nothing',
  );
  assert.deepEqual(
    decisionEvents(d({ a: 3 }), d({ a: 1, c: 5 })).map((e) => e.reason),
    ['Scheduled', 'ReplicasMoved'],
  );
});

test('the Event object is events.k8s.io/v1 about the Placement, its note within the API limit', () => {
  const p = { ...placement('web', { namespace: 'shop' }), metadata: { name: 'web', namespace: 'shop', uid: 'u1' } };
  const e = eventObject(p, { type: 'Warning', reason: 'ApplyFailed', action: 'Apply', note: 'x'.repeat(2000) }, 'orrery-0', new Date('2026-01-02T03:04:05.678Z'), 'abc');
  assert.equal(e.metadata.name, 'web.abc');
  assert.equal(e.eventTime, '2026-01-02T03:04:05.678000Z');
  assert.deepEqual(e.regarding, { apiVersion: 'placement.orrery.dev/v1alpha1', kind: 'Placement', name: 'web', namespace: 'shop', uid: 'u1' });
  assert.equal(e.note.length, 1024);
});

test('a burst of events is posted a few at a time; past the backlog new ones are dropped and said', async () => {
  let open = () => {};
  const gate = new Promise<void>((r) => (open = r));
  let inFlight = 0;
  let peak = 0;
  const posted: string[] = [];
  const hub = {
    postOnly: async (_path: string, body: { note: string }) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await gate;
      posted.push(body.note);
      inFlight--;
    },
  } as unknown as ApiClient;
  const said: string[] = [];
  const r = new EventRecorder(hub, 'test', (line) => said.push(line));
  const p = placement('web');
  for (let i = 0; i < 1010; i++) r.record(p, { type: 'Normal', reason: 'Scheduled', action: 'Schedule', note: `n${i}` });
  // the same note again within the quiet time is not posted twice
  r.record(p, { type: 'Normal', reason: 'Scheduled', action: 'Schedule', note: 'n0' });
  assert.equal(inFlight, 4);
  assert.equal(said.length, 1);
  assert.match(said[0]!, /dropping Scheduled on default\/web/);
  open();
  for (let i = 0; i < 200 && posted.length < 1004; i++) await new Promise((t) => setTimeout(t, 5));
  assert.equal(posted.length, 1004, '4 posting and 1,000 waiting');
  assert.equal(peak, 4);
  assert.deepEqual(posted.slice(0, 3), ['n0', 'n1', 'n2']);
  await new Promise((t) => setTimeout(t, 10));
  assert.equal(said.at(-1), '6 events were dropped');
});

test('preemption: Preempted on the placement that lost replicas, Preempting on the one that took the room', () => {
  const record = { preemptor: 'ml/llm', victim: 'shop/web', cluster: 'a', replicas: 2 };
  const victim: Decision = { ...d({ a: 1 }, 2, 'preempted: 2 replicas in a by ml/llm'), reason: 'Preempted', preemptions: [record] };
  assert.deepEqual(decisionEvents(d({ a: 3 }), victim), [{ type: 'Warning', reason: 'Preempted', action: 'Preempt', note: '2 replicas in a taken by ml/llm, of higher priority; 2 unscheduled' }]);
  const preemptor: Decision = { ...d({ a: 4 }), placement: 'ml/llm', preemptions: [record] };
  const events = decisionEvents({ ...d({ a: 2 }), placement: 'ml/llm' }, preemptor);
  assert.deepEqual(
    events.map((e) => [e.type, e.reason, e.note]),
    [
      ['Normal', 'Scheduled', '4 replicas: a=4'],
      ['Normal', 'Preempting', 'took the room of 2 replicas of shop/web in a'],
    ],
  );
});
