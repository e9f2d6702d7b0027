import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, placement } from '../../../test/fixtures.js';
import { prepareCycle } from '../cycle.js';
import { repair } from './repair.js';
import { take } from './place.js';

test('repair moves a replica that can go elsewhere to make room for one that waits', () => {
  // `local` may only run in r1, on `x`; `roam` runs anywhere and sits on `x`, leaving no room.
  const f = fleet(cluster('x', { cpu: 4, region: 'r1' }), cluster('y', { cpu: 4, region: 'r2' }));
  const cycle = prepareCycle(f, [
    placement('local', { replicas: 1, cpu: '2', locality: { requiredRegions: ['r1'] } }),
    placement('roam', { replicas: 2, cpu: '2' }),
  ]);
  const [local, roam] = cycle.jobs;
  const { fleet: index } = cycle.ctx;
  const rowOf = (name: string) => index.clusters.findIndex((c) => c.name === name);
  const free = Float64Array.from(index.free);
  take(free, rowOf('x') * index.dims.length, roam!.p.demand, 2);
  const s = { assign: new Map([[roam!, new Map([[rowOf('x'), 2]])]]), free, nodes: [...index.nodes] };
  assert.equal(repair(cycle.jobs, s, index, new Map(), index.nodes), 1);
  assert.deepEqual([...s.assign.get(local!)!], [[rowOf('x'), 1]]);
  // nothing given up: roam keeps both replicas, one moved to y
  assert.deepEqual(Object.fromEntries(s.assign.get(roam!)!), { [rowOf('x')]: 1, [rowOf('y')]: 1 });
  for (const v of s.free) assert.ok(v >= 0);
});

test('repair moves no replica that stays from the previous decision', () => {
  const f = fleet(cluster('x', { cpu: 4, region: 'r1' }), cluster('y', { cpu: 4, region: 'r2' }));
  const cycle = prepareCycle(f, [
    placement('local', { replicas: 1, cpu: '2', locality: { requiredRegions: ['r1'] } }),
    placement('roam', { replicas: 2, cpu: '2' }),
  ]);
  const [, roam] = cycle.jobs;
  const { fleet: index } = cycle.ctx;
  const x = index.clusters.findIndex((c) => c.name === 'x');
  const free = Float64Array.from(index.free);
  take(free, x * index.dims.length, roam!.p.demand, 2);
  const s = { assign: new Map([[roam!, new Map([[x, 2]])]]), free, nodes: [...index.nodes] };
  assert.equal(repair(cycle.jobs, s, index, new Map([[roam!, new Map([[x, 2]])]]), index.nodes), 0);
  assert.deepEqual([...s.assign.get(roam!)!], [[x, 2]]);
});
