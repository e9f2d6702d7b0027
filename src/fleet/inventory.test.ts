import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterProfileObject } from './access.js';
import { MEMBER_ID_LABEL, uniqueProfiles } from './inventory.js';

const profile = (namespace: string, name: string, member?: string): ClusterProfileObject => ({
  metadata: { name, namespace, ...(member !== undefined ? { labels: { [MEMBER_ID_LABEL]: member } } : {}) },
});
const ids = (ps: readonly ClusterProfileObject[]) => ps.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);

test('profiles with the same inventory-member-id are one cluster, seen through the first namespace', () => {
  const r = uniqueProfiles([profile('team-b', 'spoke-b', 'spoke'), profile('team-a', 'spoke-a', 'spoke'), profile('team-a', 'other', 'other')]);
  assert.deepEqual(ids(r.profiles), ['team-a/other', 'team-a/spoke-a']);
  assert.deepEqual(r.clashes, []);
});

test('one name in two namespaces is one cluster unless two member ids say otherwise', () => {
  const same = uniqueProfiles([profile('b', 'east'), profile('a', 'east')]);
  assert.deepEqual(ids(same.profiles), ['a/east']);
  assert.deepEqual(same.clashes, []);
  const clash = uniqueProfiles([profile('a', 'east', 'cluster-1'), profile('b', 'east', 'cluster-2')]);
  assert.deepEqual(ids(clash.profiles), ['a/east']);
  assert.deepEqual(
    clash.clashes.map((c) => [ids([c.profile])[0], ids([c.with])[0]]),
    [['b/east', 'a/east']],
  );
});
