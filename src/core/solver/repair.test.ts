import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, nodeCluster, placement } from '../../../test/fixtures.js';
import { fitOnNodes, packInto } from '../nodes.js';
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

test('on a cluster of several nodes, repair frees one node for a replica the summed room holds but no node does', () => {
  // x: two nodes of 7 CPU, one `roam` replica (4 CPU) on each: 6 CPU free in sum, 3 on each node.
  // `big` (5 CPU, r1 only) fits no node until one `roam` replica goes to y.
  const f = fleet(nodeCluster('x', [{ count: 2, cpu: 7 }], { region: 'r1' }), cluster('y', { cpu: 8, region: 'r2' }));
  const cycle = prepareCycle(f, [
    placement('big', { replicas: 1, cpu: '5', locality: { requiredRegions: ['r1'] } }),
    placement('roam', { replicas: 2, cpu: '4' }),
  ]);
  const [big, roam] = cycle.jobs;
  const { fleet: index } = cycle.ctx;
  const x = index.clusters.findIndex((c) => c.name === 'x');
  const y = index.clusters.findIndex((c) => c.name === 'y');
  const free = Float64Array.from(index.free);
  take(free, x * index.dims.length, roam!.p.demand, 2);
  const nodes = [...index.nodes];
  const packed = packInto(nodes[x]!, roam!.p.node, 2);
  assert.equal(packed.placed, 2);
  nodes[x] = packed.nodes;
  assert.equal(fitOnNodes(nodes[x]!, big!.p.node, 1), 0, 'no node holds big yet');
  const s = { assign: new Map([[roam!, new Map([[x, 2]])]]), free, nodes };
  assert.equal(repair(cycle.jobs, s, index, new Map(), index.nodes), 1);
  assert.deepEqual([...s.assign.get(big!)!], [[x, 1]]);
  assert.deepEqual(Object.fromEntries(s.assign.get(roam!)!), { [x]: 1, [y]: 1 });
  // the nodes say the same: x holds no second big replica, y one more roam one and then no other
  assert.equal(fitOnNodes(s.nodes[x]!, big!.p.node, 1), 0);
  assert.equal(fitOnNodes(s.nodes[y]!, roam!.p.node, 5), 1);
});

test('repair undoes its moves when the room they free is on no single node', () => {
  // x: two nodes of 7 CPU with a roam replica each; `huge` (8 CPU) fits no node of x at all.
  const f = fleet(nodeCluster('x', [{ count: 2, cpu: 7 }], { region: 'r1' }), cluster('y', { cpu: 8, region: 'r2' }));
  const cycle = prepareCycle(f, [
    placement('huge', { replicas: 1, cpu: '8', locality: { requiredRegions: ['r1'] } }),
    placement('roam', { replicas: 2, cpu: '4' }),
  ]);
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
