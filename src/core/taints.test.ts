import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tolerates, untolerated } from './taints.js';
import type { Taint } from './model.js';

const maintenance: Taint = { key: 'maintenance', value: 'true', effect: 'NoSchedule' };

test('Equal needs key, value and effect (when given) to match', () => {
  assert.equal(tolerates({ key: 'maintenance', value: 'true', effect: 'NoSchedule' }, maintenance), true);
  assert.equal(tolerates({ key: 'maintenance', value: 'true' }, maintenance), true, 'no effect tolerates every effect');
  assert.equal(tolerates({ key: 'maintenance', value: 'false' }, maintenance), false);
  assert.equal(tolerates({ key: 'maintenance', value: 'true', effect: 'NoExecute' }, maintenance), false);
  assert.equal(tolerates({ key: 'other', value: 'true' }, maintenance), false);
});

test('Exists ignores the value; an empty key with Exists tolerates everything', () => {
  assert.equal(tolerates({ key: 'maintenance', operator: 'Exists' }, maintenance), true);
  assert.equal(tolerates({ operator: 'Exists' }, maintenance), true);
  assert.equal(tolerates({ operator: 'Exists', effect: 'NoExecute' }, maintenance), false);
  assert.equal(tolerates({ key: '', operator: 'Equal' }, maintenance), false);
});

test('untolerated lists only the effects asked for', () => {
  const taints: Taint[] = [maintenance, { key: 'spot', effect: 'PreferNoSchedule' }, { key: 'evict', effect: 'NoExecute' }];
  assert.deepEqual(
    untolerated(taints, [{ key: 'maintenance', operator: 'Exists' }], ['NoSchedule', 'NoExecute']).map((t) => t.key),
    ['evict'],
  );
  assert.deepEqual(
    untolerated(taints, [], ['PreferNoSchedule']).map((t) => t.key),
    ['spot'],
  );
});
