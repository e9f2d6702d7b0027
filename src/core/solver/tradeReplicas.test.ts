import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cluster, fleet, placement } from '../../../test/fixtures.js';
import { prepareCycle } from '../cycle.js';
import type { Job } from '../cycle.js';
import type { Packed } from './packOnNodes.js';
import type { Assignment } from './placeOne.js';
import { isEven } from './evenSpread.js';
import { tradeReplicas } from './tradeReplicas.js';

/** An answer as the pipeline hands it over: its packing order lists each placement's replicas per row. */
function answer(assign: Map<Job, Assignment>, free: Float64Array): Packed {
  const order = [...assign].flatMap(([job, a]) => [...a].map(([row, n]) => [job.p.key, row, n] as const));
  return { assign, free, nodes: [], order };
}

/** Per placement key and row, the replicas the packing order lists. */
function listed(order: Packed['order']): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, row, n] of order) out.set(`${key}@${row}`, (out.get(`${key}@${row}`) ?? 0) + n);
  return out;
}

function held(assign: ReadonlyMap<Job, Assignment>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [job, a] of assign) for (const [row, n] of a) if (n > 0) out.set(`${job.p.key}@${row}`, n);
  return out;
}

test('Spread placements of one shape, each whole on one cluster of a full fleet, trade until each has one replica on every cluster', () => {
  const f = fleet(...['a', 'b', 'c', 'd'].map((n) => cluster(n, { cpu: 4 })));
  const cycle = prepareCycle(
    f,
    ['s1', 's2', 's3', 's4'].map((n) => placement(n, { replicas: 4, cpu: '1' })),
  );
  const jobs = cycle.jobs;
  const rows = jobs.map((_, i) => i);
  const assign = new Map(jobs.map((j, i) => [j, new Map([[rows[i] as number, 4]])]));
  const before = answer(assign, cycle.ctx.fleet.free);
  const traded = tradeReplicas(jobs, before, new Map());
  assert.ok(traded !== undefined);
  for (const job of jobs)
    assert.deepEqual(
      [...traded.assign.get(job)!].sort((a, b) => a[0] - b[0]),
      rows.map((r) => [r, 1]),
      job.p.key,
    );
  // room and packing as they were: the same arrays, the order listing what each now holds
  assert.equal(traded.free, before.free);
  assert.deepEqual(listed(traded.order), held(traded.assign));
});

test('what a placement keeps from before is not traded', () => {
  const f = fleet(...['a', 'b', 'c'].map((n) => cluster(n, { cpu: 4 })));
  const cycle = prepareCycle(
    f,
    ['keeps', 'roams', 'third'].map((n) => placement(n, { replicas: 3, cpu: '1' })),
  );
  const [keeps, roams, third] = cycle.jobs as [Job, Job, Job];
  const row = (name: string) => cycle.ctx.fleet.clusters.findIndex((c) => c.name === name);
  const assign = new Map([
    [keeps, new Map([[row('a'), 3]])],
    [roams, new Map([[row('b'), 3]])],
    [third, new Map([[row('c'), 3]])],
  ]);
  const kept = new Map([[keeps, new Map([[row('a'), 3]])]]);
  const traded = tradeReplicas(cycle.jobs, answer(assign, cycle.ctx.fleet.free), kept);
  assert.ok(traded !== undefined);
  assert.deepEqual([...traded.assign.get(keeps)!], [[row('a'), 3]]);
  // a holds only kept replicas: the other two trade over b and c alone
  assert.deepEqual(Object.fromEntries(traded.assign.get(roams)!), { [row('b')]: 2, [row('c')]: 1 });
  assert.deepEqual(Object.fromEntries(traded.assign.get(third)!), { [row('b')]: 1, [row('c')]: 2 });
});

test('where the packing order leaves out the kept replicas (already on their nodes), it lists the new ones each holds after trading', () => {
  const f = fleet(cluster('a', { cpu: 8 }), cluster('b', { cpu: 8 }));
  const cycle = prepareCycle(f, [placement('p1', { replicas: 3, cpu: '1' }), placement('p2', { replicas: 3, cpu: '1' })]);
  const [p1, p2] = cycle.jobs as [Job, Job];
  const assign = new Map([
    [p1, new Map([[0, 3]])],
    [p2, new Map([[1, 3]])],
  ]);
  const kept = new Map([[p1, new Map([[0, 1]])]]);
  const order = [[p1.p.key, 0, 2] as const, [p2.p.key, 1, 3] as const];
  const traded = tradeReplicas(cycle.jobs, { assign, free: cycle.ctx.fleet.free, nodes: [], order }, kept);
  assert.ok(traded !== undefined);
  assert.deepEqual(Object.fromEntries(traded.assign.get(p1)!), { 0: 2, 1: 1 });
  assert.deepEqual(Object.fromEntries(traded.assign.get(p2)!), { 0: 1, 1: 2 });
  assert.deepEqual(
    listed(traded.order),
    new Map([
      [`${p1.p.key}@0`, 1],
      [`${p2.p.key}@0`, 1],
      [`${p1.p.key}@1`, 1],
      [`${p2.p.key}@1`, 2],
    ]),
  );
});

test('a placement takes no replica on a cluster it may not use', () => {
  const f = fleet(cluster('a', { cpu: 4, region: 'r1' }), cluster('b', { cpu: 4, region: 'r1' }), cluster('c', { cpu: 4, region: 'r2' }));
  const cycle = prepareCycle(f, [
    placement('far', { replicas: 2, cpu: '1' }),
    placement('local', { replicas: 2, cpu: '1', locality: { requiredRegions: ['r1'] } }),
    placement('roams', { replicas: 2, cpu: '1' }),
  ]);
  const [far, local, roams] = cycle.jobs as [Job, Job, Job];
  const row = (name: string) => cycle.ctx.fleet.clusters.findIndex((c) => c.name === name);
  const assign = new Map([
    [far, new Map([[row('c'), 2]])],
    [local, new Map([[row('a'), 2]])],
    [roams, new Map([[row('b'), 2]])],
  ]);
  const traded = tradeReplicas(cycle.jobs, answer(assign, cycle.ctx.fleet.free), new Map());
  assert.ok(traded !== undefined);
  for (const job of cycle.jobs) assert.ok(isEven(job, traded.assign.get(job)), job.p.key);
  assert.deepEqual([...traded.assign.get(local)!.keys()].sort(), [row('a'), row('b')].sort());
});

test('placements of other shapes, Pack placements and gangs do not trade', () => {
  const f = fleet(cluster('a', { cpu: 8 }), cluster('b', { cpu: 8 }));
  const cycle = prepareCycle(f, [
    placement('one', { replicas: 4, cpu: '1' }),
    placement('two', { replicas: 4, cpu: '2' }),
    placement('packed', { replicas: 4, cpu: '1', strategy: 'Pack' }),
    placement('gang', { replicas: 4, cpu: '1', gang: true }),
  ]);
  const [one, two, packed, gang] = cycle.jobs as [Job, Job, Job, Job];
  const assign = new Map([
    [one, new Map([[0, 4]])],
    [two, new Map([[1, 4]])],
    [packed, new Map([[1, 4]])],
    [gang, new Map([[1, 4]])],
  ]);
  assert.equal(tradeReplicas(cycle.jobs, answer(assign, cycle.ctx.fleet.free), new Map()), undefined);
});

test('trading keeps every placement its replicas, every cluster what each shape holds there, what is kept, and leaves no placement less even', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 6 }),
      // per placement: its shape, replicas per cluster, how many of them it keeps, and clusters it may not use
      fc.array(
        fc.record({
          cpu: fc.constantFrom('1', '2'),
          at: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 6, maxLength: 6 }),
          keep: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 6, maxLength: 6 }),
          region: fc.constantFrom(undefined, 'r1', 'r2'),
        }),
        { minLength: 2, maxLength: 8 },
      ),
      (n, specs) => {
        const names = Array.from({ length: n }, (_, i) => `c${i}`);
        const f = fleet(...names.map((c, i) => cluster(c, { cpu: 64, region: i % 2 === 0 ? 'r1' : 'r2' })));
        const ps = specs.map((s, i) => placement(`p${i}`, { replicas: 24, cpu: s.cpu, ...(s.region === undefined ? {} : { locality: { requiredRegions: [s.region] } }) }));
        const cycle = prepareCycle(f, ps);
        const byKey = new Map(cycle.jobs.map((j) => [j.p.key, j]));
        const assign = new Map<Job, Assignment>();
        const kept = new Map<Job, Assignment>();
        specs.forEach((s, i) => {
          const job = byKey.get(`default/p${i}`);
          if (job === undefined) return;
          const a: Assignment = new Map();
          const k: Assignment = new Map();
          for (let r = 0; r < n; r++) {
            const count = s.at[r] as number;
            if (count === 0 || job.eligible[r] !== 1) continue;
            a.set(r, count);
            const keep = Math.min(count, s.keep[r] as number);
            if (keep > 0) k.set(r, keep);
          }
          if (a.size > 0) assign.set(job, a);
          if (k.size > 0) kept.set(job, k);
        });
        const before = answer(assign, cycle.ctx.fleet.free);
        const traded = tradeReplicas(cycle.jobs, before, kept);
        if (traded === undefined) return;
        const shapeAt = (a: ReadonlyMap<Job, Assignment>) => {
          const out = new Map<string, number>();
          for (const [job, x] of a) for (const [r, c] of x) out.set(`${job.p.demand.join(',')}@${r}`, (out.get(`${job.p.demand.join(',')}@${r}`) ?? 0) + c);
          return out;
        };
        assert.deepEqual(shapeAt(traded.assign), shapeAt(assign));
        assert.deepEqual(listed(traded.order), held(traded.assign));
        for (const [job, a] of assign) {
          const t = traded.assign.get(job) as Assignment;
          const sum = (x: Assignment) => [...x.values()].reduce((s, c) => s + c, 0);
          assert.equal(sum(t), sum(a));
          for (const r of t.keys()) assert.equal(job.eligible[r], 1);
          for (const [r, c] of kept.get(job) ?? []) assert.ok((t.get(r) ?? 0) >= c);
          if (isEven(job, a)) assert.ok(isEven(job, t), `${job.p.key} was even`);
        }
        // each trade takes a replica off a cluster where a placement has more than its even share
        const excess = (x: ReadonlyMap<Job, Assignment>) => {
          let e = 0;
          for (const [job, a] of x) {
            const placed = [...a.values()].reduce((s, c) => s + c, 0);
            const share = Math.ceil(placed / Math.min(placed, job.eligibleCount));
            for (const c of a.values()) e += Math.max(0, c - share);
          }
          return e;
        };
        assert.ok(excess(traded.assign) < excess(assign));
      },
    ),
    { numRuns: 300 },
  );
});
