import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, nodeCluster, placement } from '../../test/fixtures.js';
import { capacityReport } from './capacity.js';
import { fleetOverview } from './overview.js';
import { FleetState } from './fleetState.js';

test('each cluster split into others, Orrery and free; accelerators of both kinds; node groups; the same sums as the capacity report', () => {
  const read = fleet(
    cluster('a', { cpu: 16, usedCpu: 4, region: 'eu', devices: { gpu: [8, 2] } }),
    nodeCluster('b', [{ count: 2, cpu: 32, memoryGi: 128, extended: { 'nvidia.com/gpu': 4 } }], { region: 'us' }),
    cluster('down', { cpu: 8, region: 'us', healthy: false }),
  );
  const state = FleetState.start(read, [
    placement('train', { replicas: 2, cpu: '2', accelerators: [{ deviceClassName: 'gpu', count: 3 }] }),
    placement('serve', { replicas: 3, cpu: '4', accelerators: [{ resourceName: 'nvidia.com/gpu', count: 2 }] }),
  ]);
  const o = fleetOverview(read, state.occupied());
  const a = o.clusters.find((c) => c.name === 'a')!;
  assert.deepEqual(a.cpu, { allocatable: 16000, others: 4000, orrery: 4000, free: 8000 });
  assert.deepEqual(a.accelerators, [{ name: 'gpu', source: 'deviceClass', allocatable: 8, others: 2, orrery: 6, free: 0 }]);
  const b = o.clusters.find((c) => c.name === 'b')!;
  // 4 GPUs a node, 2 a replica: all three fit on the two nodes, 6 of 8 taken
  assert.deepEqual(b.accelerators, [{ name: 'nvidia.com/gpu', source: 'extendedResource', allocatable: 8, others: 0, orrery: 6, free: 2 }]);
  assert.deepEqual(b.cpu, { allocatable: 64000, others: 0, orrery: 12000, free: 52000 });
  assert.deepEqual(b.nodeGroups, [{ count: 2, cpu: 32000, memory: 128 * 2 ** 30, accelerators: [{ name: 'nvidia.com/gpu', total: 4 }] }]);
  const down = o.clusters.find((c) => c.name === 'down')!;
  assert.deepEqual([down.healthy, down.reachable, down.schedulable], [false, true, false]);
  assert.deepEqual(o.capacity, capacityReport(state.occupied()));
  assert.deepEqual(o.capacity.extendedResources, [{ resourceName: 'nvidia.com/gpu', clusters: 1, total: 8, free: 2 }]);
  assert.deepEqual(o.capacity.deviceClasses, [{ deviceClassName: 'gpu', clusters: 1, total: 8, free: 0 }]);
});

test('devices of one class in several entries are summed, counted under every class they match as the solver counts them, and keep their names through the occupied fleet', () => {
  const c = cluster('a', { cpu: 64 });
  const read = fleet({
    ...c,
    devices: [
      { deviceClassName: 'h100', alsoMatches: ['gpu'], total: 4, allocated: 1, attributes: { 'x/mem': 80 } },
      { deviceClassName: 'h100', alsoMatches: ['gpu'], total: 4, allocated: 0, attributes: { 'x/mem': 94 } },
    ],
  });
  const state = FleetState.start(read, [placement('p', { replicas: 2, cpu: '1', accelerators: [{ deviceClassName: 'gpu', count: 1 }] })]);
  const o = fleetOverview(read, state.occupied());
  assert.deepEqual(o.clusters[0]?.accelerators, [
    { name: 'h100', source: 'deviceClass', allocatable: 8, others: 1, orrery: 2, free: 5 },
    { name: 'gpu', source: 'deviceClass', allocatable: 8, others: 1, orrery: 2, free: 5 },
  ]);
  assert.deepEqual(o.capacity.clusters[0]?.devices, { h100: { total: 8, free: 5 }, gpu: { total: 8, free: 5 } });
  assert.deepEqual(
    o.capacity.deviceClasses.map((d) => [d.deviceClassName, d.free]),
    [
      ['gpu', 5],
      ['h100', 5],
    ],
    'a placement asking for gpu sees what the report says',
  );
});
