import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, nodeCluster } from '../../test/fixtures.js';
import { capacityReport, fitReport } from './capacity.js';

test('free capacity per cluster, region and device class; unhealthy clusters are not summed', () => {
  const r = capacityReport(
    fleet(
      cluster('a', { cpu: 16, usedCpu: 4, region: 'eu', devices: { gpu: [8, 2] } }),
      cluster('b', { cpu: 8, region: 'eu', devices: { gpu: 4, tpu: [4, 4] } }),
      cluster('c', { cpu: 32, region: 'us', healthy: false }),
    ),
  );
  assert.deepEqual(
    r.clusters.map((c) => [c.name, c.free.cpu, c.healthy]),
    [
      ['a', 12000, true],
      ['b', 8000, true],
      ['c', 32000, false],
    ],
  );
  assert.deepEqual(
    r.regions.map((x) => [x.name, x.clusters, x.free.cpu, x.devices]),
    [['eu', 2, 20000, { gpu: { total: 12, free: 10 }, tpu: { total: 4, free: 0 } }]],
  );
  assert.deepEqual(r.deviceClasses, [
    { deviceClassName: 'gpu', clusters: 2, total: 12, free: 10 },
    { deviceClassName: 'tpu', clusters: 1, total: 4, free: 0 },
  ]);
  assert.equal(r.total.free.cpu, 20000);
  assert.deepEqual(r.extendedResources, []);
});

test('device-plugin resources are summed like device classes, per cluster, region and in total', () => {
  const r = capacityReport(
    fleet(
      nodeCluster('a', [{ count: 2, cpu: 32, extended: { 'nvidia.com/gpu': 8 } }], { region: 'eu' }),
      { ...nodeCluster('b', [{ count: 1, cpu: 32, extended: { 'nvidia.com/gpu': 4 } }], { region: 'eu' }), allocated: { cpu: 0, memory: 0, pods: 0, extended: { 'nvidia.com/gpu': 3 } } },
      { ...nodeCluster('gone', [{ count: 1, cpu: 32, extended: { 'nvidia.com/gpu': 8 } }], { region: 'eu' }), reachable: false },
    ),
  );
  assert.deepEqual(
    r.clusters.map((c) => [c.name, c.extended]),
    [
      ['a', { 'nvidia.com/gpu': { total: 16, free: 16 } }],
      ['b', { 'nvidia.com/gpu': { total: 4, free: 1 } }],
      ['gone', { 'nvidia.com/gpu': { total: 8, free: 8 } }],
    ],
  );
  assert.deepEqual(r.regions[0]?.extended, { 'nvidia.com/gpu': { total: 20, free: 17 } });
  assert.deepEqual(r.extendedResources, [{ resourceName: 'nvidia.com/gpu', clusters: 2, total: 20, free: 17 }]);
});

test('fit counts whole replicas per node with the profile filters: devices per replica divide, taints and unreadable clusters refuse', () => {
  const now = fleet(
    nodeCluster('two-nodes', [{ count: 2, cpu: 32, memoryGi: 128, devices: { gpu: 8 } }]),
    nodeCluster('tainted', [{ count: 1, cpu: 32, memoryGi: 128, devices: { gpu: 8 } }], { taints: [{ key: 'maint', effect: 'NoSchedule' }] }),
    { ...nodeCluster('gone', [{ count: 1, cpu: 32, memoryGi: 128, devices: { gpu: 8 } }]), reachable: false },
    nodeCluster('busy', [{ count: 1, cpu: 32, memoryGi: 128, devices: { gpu: [8, 7] } }]),
    cluster('cpu-only', { cpu: 64 }),
  );
  const all = () => true;
  const two = fitReport(now, { cpu: 1000, memory: 0, devices: { deviceClassName: 'gpu', count: 2 } }, all);
  // 8 GPUs a node, 2 a replica: 4 a node, 8 on two nodes; the busy node has 1 free: listed with 0
  assert.deepEqual(
    two.clusters.map((c) => [c.name, c.replicas]),
    [
      ['two-nodes', 8],
      ['busy', 0],
    ],
  );
  assert.equal(two.total, 8);
  // 3 a replica: 2 a node, the leftover 2 GPUs of each node hold none
  assert.equal(fitReport(now, { cpu: 1000, memory: 0, devices: { deviceClassName: 'gpu', count: 3 } }, all).total, 4);
  // CPU alone: 32 cpu nodes hold 16 replicas of 2 cpu each (tainted and unreadable ones refuse)
  const cpu = fitReport(now, { cpu: 2000, memory: 0 }, all);
  assert.deepEqual(
    cpu.clusters.map((c) => [c.name, c.replicas]),
    [
      ['cpu-only', 32],
      ['two-nodes', 32],
      ['busy', 16],
    ],
  );
});
