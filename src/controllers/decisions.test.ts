import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, placement } from '../../test/fixtures.js';
import { DECISION_INDEX, DECISION_KEY, PLACEMENT_KEY, slicesFor } from './decisions.js';

test('at most 100 clusters a slice; several slices share a decision key and carry their index', () => {
  const clusters = Array.from({ length: 250 }, (_, i) => cluster(`c${String(i).padStart(3, '0')}`));
  const p = { ...placement('web', { namespace: 'shop' }), metadata: { name: 'web', namespace: 'shop', uid: 'u-1' } };
  const d = { placement: 'shop/web', clusters: clusters.map((c) => ({ name: c.name, replicas: 1 })), unscheduledReplicas: 0, reason: 'Scheduled' as const, message: '' };
  const slices = slicesFor(p, d, fleet(...clusters));
  assert.deepEqual(
    slices.map((s) => s.decisions.length),
    [100, 100, 50],
  );
  assert.deepEqual(
    slices.map((s) => s.metadata.name),
    ['web-0', 'web-1', 'web-2'],
  );
  assert.deepEqual(
    slices.map((s) => s.metadata.labels[DECISION_INDEX]),
    ['0', '1', '2'],
  );
  assert.ok(slices.every((s) => s.metadata.labels[DECISION_KEY] === 'web' && s.metadata.labels[PLACEMENT_KEY] === 'web'));
  assert.equal(slices[0]?.metadata.ownerReferences[0]?.uid, 'u-1');
});

test('one slice needs no decision key; an empty decision still has its slice', () => {
  const p = placement('web');
  const one = slicesFor(p, { placement: 'default/web', clusters: [{ name: 'a', replicas: 2 }], unscheduledReplicas: 0, reason: 'Scheduled', message: '' }, fleet(cluster('a')));
  assert.deepEqual(one[0]?.metadata.labels, { [PLACEMENT_KEY]: 'web' });
  const none = slicesFor(p, { placement: 'default/web', clusters: [], unscheduledReplicas: 2, reason: 'Unschedulable', message: '' }, fleet(cluster('a')));
  assert.deepEqual(
    none.map((s) => s.decisions.length),
    [0],
  );
});

test('exactly 100 clusters fill one slice, and 101 two: no empty slice at the edge', () => {
  const at = (n: number) => {
    const clusters = Array.from({ length: n }, (_, i) => cluster(`c${String(i).padStart(3, '0')}`));
    const d = { placement: 'default/web', clusters: clusters.map((c) => ({ name: c.name, replicas: 1 })), unscheduledReplicas: 0, reason: 'Scheduled' as const, message: '' };
    return slicesFor(placement('web'), d, fleet(...clusters)).map((s) => s.decisions.length);
  };
  assert.deepEqual(at(99), [99]);
  assert.deepEqual(at(100), [100]);
  assert.deepEqual(at(101), [100, 1]);
  assert.deepEqual(at(200), [100, 100]);
});
