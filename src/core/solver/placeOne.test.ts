import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, placement } from '../../../test/fixtures.js';
import { prepareCycle } from '../cycle.js';
import { candidatesFor, take } from './placeOne.js';
import { type Candidate, allocate } from './divideReplicas.js';
import { roomFor } from '../fit.js';
import { domainOf } from '../prepare.js';
import fc from 'fast-check';

test('a cluster with no room for the shape is marked, then passed over; one it keeps replicas on is still listed', () => {
  const f = fleet(cluster('x', { cpu: 4 }), cluster('y', { cpu: 4 }), cluster('z', { cpu: 4 }));
  const cycle = prepareCycle(f, [placement('web', { replicas: 4, cpu: '2' })]);
  const [job] = cycle.jobs;
  const { fleet: index } = cycle.ctx;
  const rowOf = (name: string) => index.clusters.findIndex((c) => c.name === name);
  const free = Float64Array.from(index.free);
  // y is full
  take(free, rowOf('y') * index.dims.length, job!.p.demand, 2);
  const gone = new Uint8Array(index.clusters.length);
  const names = (kept?: Map<number, number>) => candidatesFor(job!, kept, free, index, { gone, order: 'best-fit' }).map((c) => index.clusters[c.row]!.name);
  assert.deepEqual(names().sort(), ['x', 'z']);
  assert.deepEqual(
    [...gone],
    index.clusters.map((c) => (c.name === 'y' ? 1 : 0)),
  );
  // Marked, it is not looked at again: given its room back unknown to the mark, it stays out...
  take(free, rowOf('y') * index.dims.length, job!.p.demand, -2);
  assert.deepEqual(names().sort(), ['x', 'z']);
  // ...but where the placement keeps replicas, it is listed whatever the mark says
  assert.deepEqual(names(new Map([[rowOf('y'), 1]])).sort(), ['x', 'y', 'z']);
});

test('packed best-fit lists only the tightest clusters it needs and those it keeps replicas on, and allocates as the whole list does', () => {
  const f = fleet(cluster('x', { cpu: 8 }), cluster('y', { cpu: 4 }), cluster('z', { cpu: 16 }), cluster('w', { cpu: 6 }));
  for (const [replicas, keptOn] of [[1], [2], [3], [5], [7, 'w'], [12], [20, 'y'], [40]] as const) {
    const cycle = prepareCycle(f, [placement('batch', { replicas, cpu: '2' })]);
    const [job] = cycle.jobs;
    const { fleet: index } = cycle.ctx;
    const free = Float64Array.from(index.free);
    const kept = keptOn === undefined ? undefined : new Map([[index.clusters.findIndex((c) => c.name === keptOn), 1]]);
    for (const [row, n] of kept ?? []) take(free, row * index.dims.length, job!.p.demand, n);
    const few = candidatesFor(job!, kept, free, index, { order: 'best-fit', pack: true });
    // Spread in best-fit order lists every cluster with room, ordered as the packed list is
    const every = candidatesFor(job!, kept, free, index, { order: 'best-fit' });
    const rules = { replicas, strategy: 'Pack' as const, spread: job!.p.spread, gang: false };
    const placed = (cands: Candidate[]) => {
      const r = allocate(cands, rules);
      assert.ok(r.ok);
      return Object.fromEntries(cands.map((c, i) => [c.row, r.adds[i]]).filter(([, n]) => (n as number) > 0));
    };
    assert.deepEqual(placed(few), placed(every), `${replicas} replicas`);
    // the few are the head of the whole list; after them come only clusters it keeps replicas on
    const n = few.findIndex((c, k) => c.row !== every[k]?.row);
    const head = n < 0 ? few.length : n;
    for (const c of few.slice(head)) assert.ok(c.kept > 0, `${replicas} replicas: ${c.row} after the head`);
    // a placement that needs one or two clusters lists fewer than all
    if (replicas <= 3) assert.ok(few.length < every.length, `${replicas} replicas: ${few.length} of ${every.length}`);
  }
});

test('a skew in preference order lists each domain once where nothing fits, and at most what it needs (one spare) of new clusters with room: it allocates as the whole list does', () => {
  fc.assert(
    fc.property(
      // each cluster's CPU, and how much of it others have taken since the fleet was read
      fc.array(fc.record({ zone: fc.constantFrom('a', 'b', 'c', 'd'), cpu: fc.integer({ min: 1, max: 10 }), taken: fc.integer({ min: 0, max: 10 }) }), { minLength: 1, maxLength: 16 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 3 }),
      fc.constantFrom('Spread', 'Pack'),
      fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 3 }),
      (clusters, replicas, maxSkew, minClusters, strategy, keptAt) => {
        const f = fleet(...clusters.map((c, i) => cluster(`c${String(i).padStart(2, '0')}`, { zone: c.zone, cpu: c.cpu })));
        const p = placement('web', { replicas, strategy, spread: { maxSkew, topologyKey: 'zone', minClusters } });
        const cycle = prepareCycle(f, [p]);
        const [job] = cycle.jobs;
        if (job === undefined) return;
        const { fleet: index } = cycle.ctx;
        const dims = index.dims.length;
        const free = Float64Array.from(index.free);
        index.clusters.forEach((c, row) => {
          const o = clusters[Number(c.name.slice(1))]!;
          take(free, row * dims, job.p.demand, Math.min(o.taken, o.cpu));
        });
        const kept = new Map<number, number>();
        for (const row of keptAt) if (row < index.clusters.length && job.eligible[row] === 1) kept.set(row, 1);
        for (const [row, n] of kept) take(free, row * dims, job.p.demand, n);
        // the whole list: every eligible cluster in preference order, full ones too
        const whole: Candidate[] = Array.from(job.order, (row) => ({
          row,
          name: index.clusters[row]!.name,
          cap: Math.max(0, roomFor(job, free, dims, row, kept.get(row) ?? 0)),
          pref: job.pref(row),
          domain: domainOf(index.clusters[row]!, 'zone') ?? '',
          kept: kept.get(row) ?? 0,
        }));
        const listed = candidatesFor(job, kept, free, index, {});
        assert.ok(listed.length <= whole.length);
        const rules = { replicas, strategy, spread: job.p.spread, gang: false };
        const placed = (cands: readonly Candidate[]) => {
          const r = allocate(cands, rules);
          return r.ok ? Object.fromEntries(cands.map((c, i) => [c.row, r.adds[i]]).filter(([, n]) => (n as number) > 0)) : r.error.code;
        };
        assert.deepEqual(placed(listed), placed(whole));
      },
    ),
    { numRuns: 300 },
  );
});
