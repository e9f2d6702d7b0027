import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet } from '../../test/fixtures.js';
import { capacityReport } from './capacity.js';

test('free capacity per cluster, region and device class; unhealthy clusters are not summed', () => {
  const r = capacityReport(
    fleet(
      cluster('a', { cpu: 16, usedCpu: 4, region: 'eu', devices: { gpu: [8, 2] } }),
      cluster('b', { cpu: 8, region: 'eu', devices: { gpu: 4, tpu: [4, 4] } }),
      cluster('c', { cpu: 32, region: 'us', healthy: false }),
    ),
  );
  assert.deepEqual(r.clusters.map((c) => [c.name, c.free.cpu, c.healthy]), [['a', 12000, true], ['b', 8000, true], ['c', 32000, false]]);
  assert.deepEqual(r.regions.map((x) => [x.name, x.clusters, x.free.cpu, x.devices]), [['eu', 2, 20000, { gpu: { total: 12, free: 10 }, tpu: { total: 4, free: 0 } }]]);
  assert.deepEqual(r.deviceClasses, [{ deviceClassName: 'gpu', clusters: 2, total: 12, free: 10 }, { deviceClassName: 'tpu', clusters: 1, total: 4, free: 0 }]);
  assert.equal(r.total.free.cpu, 20000);
});
