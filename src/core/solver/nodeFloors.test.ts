import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fleet, nodeCluster, placement } from '../../../test/fixtures.js';
import { FleetState } from '../fleetState.js';

// Summed, cluster a has 4 free GPUs and the region the placements prefer; on its nodes, no node
// has more than 2. Only cluster b's one node holds the 4-GPU replica.
const nodes = fleet(
  nodeCluster('a', [{ count: 2, cpu: 34, usedCpu: 16, devices: { gpu: [4, 2] } }], { region: 'near' }),
  nodeCluster('b', [{ count: 1, cpu: 34, devices: { gpu: 4 } }], { region: 'far' }),
);
const near = { preferred: [{ region: 'near', weight: 100 }] };
const work = [
  placement('big', { replicas: 1, cpu: '16', accelerators: [{ deviceClassName: 'gpu', count: 4 }], locality: near }),
  placement('small', { replicas: 2, cpu: '8', accelerators: [{ deviceClassName: 'gpu', count: 2 }], locality: near }),
];

test('where summed room and nodes disagree, every replica goes where a node holds it', () => {
  const r = FleetState.start(nodes, work).result;
  const where = Object.fromEntries(r.decisions.map((d) => [d.placement, d.clusters]));
  assert.deepEqual(where['default/big'], [{ name: 'b', replicas: 1 }]);
  assert.deepEqual(where['default/small'], [{ name: 'a', replicas: 2 }]);
  assert.equal(r.stats.unscheduledReplicas, 0);
});

test('the node floors see the nodes: the 4-GPU replica goes to the only node that holds it, the 2-GPU ones where 2 are free', () => {
  for (const solver of ['node-best-fit', 'least-fragmentation'] as const) {
    const r = FleetState.start(nodes, work, { solver }).result;
    const where = Object.fromEntries(r.decisions.map((d) => [d.placement, d.clusters]));
    assert.deepEqual(where['default/big'], [{ name: 'b', replicas: 1 }], solver);
    assert.deepEqual(where['default/small'], [{ name: 'a', replicas: 2 }], solver);
    assert.equal(r.stats.solver, solver);
  }
});

test('CPU-only replicas of a higher priority keep off the CPU a GPU replica below them needs', () => {
  // Two GPU nodes with one free GPU and 6 free CPU each, two idle CPU-only nodes. Packed on the
  // nodes with the least room first, the 4-CPU replicas would take the GPU nodes' CPU and strand
  // both GPUs; placed on the nodes as it goes, the answer keeps them for the GPU replica.
  const f = fleet(
    nodeCluster('n1', [
      { count: 2, cpu: 34, usedCpu: 28, devices: { gpu: [8, 7] } },
      { count: 2, cpu: 32 },
    ]),
  );
  const ps = [placement('web', { replicas: 2, cpu: '4', priority: 10 }), placement('train', { replicas: 1, cpu: '4', accelerators: [{ deviceClassName: 'gpu', count: 1 }] })];
  const r = FleetState.start(f, ps).result;
  assert.equal(r.stats.unscheduledReplicas, 0, JSON.stringify(r.decisions));
});
