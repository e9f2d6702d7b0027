import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placement } from '../../test/fixtures.js';
import type { PlacementObject } from './rolloutBook.js';
import { schedulingRead } from './scheduler.js';
import { FINALIZER } from '../names.js';

const read = (o: PlacementObject) => schedulingRead(o);
const web = (metadata: Partial<PlacementObject['metadata']>, extra: Record<string, unknown> = {}): PlacementObject => {
  const p = placement('web');
  return { ...p, ...extra, metadata: { ...p.metadata, uid: 'u1', generation: 3, resourceVersion: '100', ...metadata } } as PlacementObject;
};

test('a Placement changed only in what the controllers write (status, finalizers, resourceVersion) schedules nothing', () => {
  const before = web({});
  assert.equal(read(web({ resourceVersion: '101' }, { status: { observedGeneration: 3, conditions: [] } })), read(before));
  assert.equal(read(web({ resourceVersion: '102', finalizers: [FINALIZER] })), read(before));
});

test('a new spec, another object of the same name, or a deletion schedule again', () => {
  const before = read(web({}));
  assert.notEqual(read(web({ generation: 4 })), before);
  assert.notEqual(read(web({ uid: 'u2', generation: 1 })), before);
  assert.notEqual(read(web({ deletionTimestamp: '2026-01-01T00:00:00Z' })), before);
});

test('while a Placement is deleted, every change of it counts: the finalizer it waits on is one', () => {
  const deleting = (rv: string, finalizers: string[]) => read(web({ deletionTimestamp: '2026-01-01T00:00:00Z', resourceVersion: rv, finalizers }));
  assert.notEqual(deleting('101', []), deleting('100', [FINALIZER]));
});
