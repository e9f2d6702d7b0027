import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AllocationRules, type Candidate, allocate } from './divideReplicas.js';

const c = (name: string, cap: number, pref: number, domain = 'd', kept = 0): Candidate => ({ row: 0, name, cap, pref, domain, kept });
const rules = (replicas: number, o: Omit<Partial<AllocationRules>, 'spread'> & { spread?: Partial<AllocationRules['spread']> } = {}): AllocationRules => ({
  replicas,
  strategy: o.strategy ?? 'Spread',
  gang: o.gang ?? false,
  spread: { minClusters: 0, maxClusters: Infinity, maxSkew: Infinity, topologyKey: 'region', ...o.spread },
});
const adds = (r: ReturnType<typeof allocate>) => (r.ok ? Array.from(r.adds) : r.error.code);

test('Spread water-fills: even counts, the best clusters get the remainder', () => {
  assert.deepEqual(adds(allocate([c('a', 10, 90), c('b', 10, 50), c('c', 10, 10)], rules(7))), [3, 2, 2]);
  assert.deepEqual(adds(allocate([c('a', 1, 90), c('b', 10, 50), c('c', 10, 10)], rules(7))), [1, 3, 3], 'a full cluster caps out');
  assert.deepEqual(adds(allocate([c('a', 10, 90), c('b', 10, 50), c('c', 10, 10)], rules(2))), [1, 1, 0]);
});

test('Spread evens out around what is kept', () => {
  assert.deepEqual(adds(allocate([c('a', 10, 90, 'd', 3), c('b', 10, 50), c('c', 10, 10)], rules(6))), [0, 2, 1]);
});

test('Pack fills the best cluster first', () => {
  assert.deepEqual(adds(allocate([c('a', 4, 90), c('b', 10, 50), c('c', 10, 10)], rules(7, { strategy: 'Pack' }))), [4, 3, 0]);
});

test('maxClusters prefers the best clusters unless bigger ones place more', () => {
  assert.deepEqual(adds(allocate([c('a', 5, 90), c('b', 5, 50), c('c', 10, 10)], rules(6, { spread: { maxClusters: 2 } }))), [3, 3, 0]);
  assert.deepEqual(adds(allocate([c('a', 2, 90), c('b', 2, 50), c('c', 10, 10)], rules(8, { spread: { maxClusters: 1 } }))), [0, 0, 8]);
});

test('minClusters: Pack opens enough clusters; too few clusters place nothing', () => {
  assert.deepEqual(adds(allocate([c('a', 10, 90), c('b', 10, 50), c('c', 10, 10)], rules(6, { strategy: 'Pack', spread: { minClusters: 3 } }))), [4, 1, 1]);
  assert.equal(adds(allocate([c('a', 10, 90)], rules(6, { spread: { minClusters: 2 } }))), 'MinClustersUnsatisfiable');
});

test('gang: all or nothing', () => {
  assert.deepEqual(adds(allocate([c('a', 2, 90), c('b', 2, 50)], rules(4, { gang: true }))), [2, 2]);
  assert.equal(adds(allocate([c('a', 2, 90), c('b', 1, 50)], rules(4, { gang: true }))), 'GangUnsatisfiable');
});

test('maxSkew: the smallest domain bounds the others', () => {
  const cands = [c('us-1', 10, 90, 'us'), c('us-2', 10, 80, 'us'), c('eu-1', 10, 70, 'eu'), c('ap-1', 1, 60, 'ap')];
  const r = allocate(cands, rules(12, { spread: { maxSkew: 1 } }));
  assert.ok(r.ok);
  const byDomain = { us: (r.adds[0] ?? 0) + (r.adds[1] ?? 0), eu: r.adds[2], ap: r.adds[3] };
  assert.deepEqual(byDomain, { us: 2, eu: 2, ap: 1 });
  assert.equal(r.placed, 5);
});

test("maxSkew with maxClusters counts only the chosen clusters' domains", () => {
  const cands = [c('us-1', 10, 90, 'us'), c('us-2', 10, 80, 'us'), c('eu-1', 10, 70, 'eu'), c('ap-1', 1, 60, 'ap')];
  const r = allocate(cands, rules(10, { spread: { maxSkew: 2, maxClusters: 2 } }));
  assert.ok(r.ok);
  assert.equal(r.placed, 10, 'the tiny ap domain is not chosen, so it does not hold the others back');
  assert.equal(Array.from(r.adds).filter((n) => n > 0).length <= 2, true);
});

test('no candidates: nothing placed, no failure', () => {
  assert.deepEqual(adds(allocate([], rules(3))), []);
});
