import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, placement } from '../../../test/fixtures.js';
import { prepareCycle } from '../cycle.js';
import { candidatesFor, take } from './placeOne.js';

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
