import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterProfileObject } from './access.js';
import { mergeInventory } from './watcher.js';

const profile = (name: string): ClusterProfileObject => ({ metadata: { name, namespace: 'fleet' } });
const names = (m: ReadonlyMap<string, unknown>) => [...m.keys()].sort();

test('a profile a list did not show is held as missing until its grace runs out', () => {
  const a = profile('a');
  const b = profile('b');
  const start = mergeInventory({ profiles: new Map(), missing: new Map() }, [a, b], () => false, 0, 1000);
  assert.deepEqual(names(start.profiles), ['a', 'b']);
  const short = mergeInventory(start, [a], () => false, 100, 1000);
  assert.deepEqual(names(short.profiles), ['a', 'b'], 'b is not gone');
  assert.deepEqual([...short.missing], [['b', 100]]);
  const still = mergeInventory(short, [a], () => false, 900, 1000);
  assert.deepEqual([...still.missing], [['b', 100]], 'missing since the first short list');
  const expired = mergeInventory(still, [a], () => false, 1100, 1000);
  assert.deepEqual(names(expired.profiles), ['a']);
  const back = mergeInventory(short, [a, b], () => false, 200, 1000);
  assert.deepEqual(back.missing.size, 0, 'listed again: no longer missing');
});

test('a profile the watch reported deleted goes at once', () => {
  const a = profile('a');
  const b = profile('b');
  const start = mergeInventory({ profiles: new Map(), missing: new Map() }, [a, b], () => false, 0, 1000);
  const deleted = mergeInventory(start, [a], (p) => p.metadata.name === 'b', 10, 1000);
  assert.deepEqual(names(deleted.profiles), ['a']);
  assert.equal(deleted.missing.size, 0);
});
