import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, nodeCluster, placement } from '../../../test/fixtures.js';
import { fitOnNodes, packInto } from '../nodes.js';
import { prepareCycle } from '../cycle.js';
import { repair } from './repair.js';
import { take } from './placeOne.js';

test('repair moves a replica that can go elsewhere to make room for one that waits', () => {
  // `local` may only run in r1, on `x`; `roam` runs anywhere and sits on `x`, leaving no room.
  const f = fleet(cluster('x', { cpu: 4, region: 'r1' }), cluster('y', { cpu: 4, region: 'r2' }));
  const cycle = prepareCycle(f, [placement('local', { replicas: 1, cpu: '2', locality: { requiredRegions: ['r1'] } }), placement('roam', { replicas: 2, cpu: '2' })]);
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
  const cycle = prepareCycle(f, [placement('local', { replicas: 1, cpu: '2', locality: { requiredRegions: ['r1'] } }), placement('roam', { replicas: 2, cpu: '2' })]);
  const [, roam] = cycle.jobs;
  const { fleet: index } = cycle.ctx;
  const x = index.clusters.findIndex((c) => c.name === 'x');
  const free = Float64Array.from(index.free);
  take(free, x * index.dims.length, roam!.p.demand, 2);
  const s = { assign: new Map([[roam!, new Map([[x, 2]])]]), free, nodes: [...index.nodes] };
  assert.equal(repair(cycle.jobs, s, index, new Map([[roam!, new Map([[x, 2]])]]), index.nodes), 0);
  assert.deepEqual([...s.assign.get(roam!)!], [[x, 2]]);
});

test('a moved replica goes where a node holds it, on a cluster of several nodes too', () => {
  // x: one node of 4 CPU holding `roam` (2 of 2 CPU); `local` (r1 only, 4 CPU) waits. y: two nodes
  // of 3 CPU: 6 in sum, but each holds one roam replica only.
  const f = fleet(cluster('x', { cpu: 4, region: 'r1' }), nodeCluster('y', [{ count: 2, cpu: 3 }], { region: 'r2' }));
  const cycle = prepareCycle(f, [placement('local', { replicas: 1, cpu: '4', locality: { requiredRegions: ['r1'] } }), placement('roam', { replicas: 2, cpu: '2' })]);
  const [local, roam] = cycle.jobs;
  const { fleet: index } = cycle.ctx;
  const x = index.clusters.findIndex((c) => c.name === 'x');
  const y = index.clusters.findIndex((c) => c.name === 'y');
  const free = Float64Array.from(index.free);
  take(free, x * index.dims.length, roam!.p.demand, 2);
  const nodes = [...index.nodes];
  nodes[x] = packInto(nodes[x]!, roam!.p.node, 2).nodes;
  const s = { assign: new Map([[roam!, new Map([[x, 2]])]]), free, nodes };
  assert.equal(repair(cycle.jobs, s, index, new Map(), index.nodes), 1);
  assert.deepEqual([...s.assign.get(local!)!], [[x, 1]]);
  assert.deepEqual(Object.fromEntries(s.assign.get(roam!)!), { [y]: 2 });
  assert.equal(fitOnNodes(s.nodes[y]!, roam!.p.node, 1), 0, 'one on each node of y');
});

test('repair undoes its moves when the room they free is on no single node', () => {
  // x: two nodes of 7 CPU with a roam replica each; `huge` (8 CPU) fits no node of x at all.
  const f = fleet(nodeCluster('x', [{ count: 2, cpu: 7 }], { region: 'r1' }), cluster('y', { cpu: 8, region: 'r2' }));
  const cycle = prepareCycle(f, [placement('huge', { replicas: 1, cpu: '8', locality: { requiredRegions: ['r1'] } }), placement('roam', { replicas: 2, cpu: '4' })]);
  const [, roam] = cycle.jobs;
  const { fleet: index } = cycle.ctx;
  const x = index.clusters.findIndex((c) => c.name === 'x');
  const free = Float64Array.from(index.free);
  take(free, x * index.dims.length, roam!.p.demand, 2);
  const nodes = [...index.nodes];
  nodes[x] = packInto(nodes[x]!, roam!.p.node, 2).nodes;
  const s = { assign: new Map([[roam!, new Map([[x, 2]])]]), free: Float64Array.from(free), nodes: [...nodes] };
  assert.equal(repair(cycle.jobs, s, index, new Map(), index.nodes), 0);
  assert.deepEqual([...s.assign.get(roam!)!], [[x, 2]]);
  assert.deepEqual([...s.free], [...free], 'the summed room as it was');
  assert.deepEqual(s.nodes, nodes, 'the nodes as they were');
});
