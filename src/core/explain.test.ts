import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, placement } from '../../test/fixtures.js';
import { explainPlacement } from './explain.js';

test('explain says per cluster which filter refused it or how it scored', () => {
  const f = fleet(
    cluster('eu', { region: 'europe-west4', labels: { environment: 'production' } }),
    cluster('us', { region: 'us-east1', labels: { environment: 'production' } }),
    cluster('dev', { region: 'us-east1', labels: { environment: 'dev' } }),
    cluster('sick', { healthy: false, labels: { environment: 'production' } }),
  );
  const e = explainPlacement(f, placement('web', { clusterSelector: { matchLabels: { environment: 'production' } }, locality: { preferred: [{ region: 'europe-west4', weight: 100 }] } }));
  assert.ok('clusters' in e);
  const by = Object.fromEntries(e.clusters.map((c) => [c.name, c]));
  assert.equal(by['dev']?.eligible, false);
  assert.equal(by['dev']?.reason?.plugin, 'ClusterSelector');
  assert.equal(by['sick']?.reason?.code, 'ClusterUnhealthy');
  assert.equal(by['eu']?.eligible, true);
  assert.equal(by['eu']?.scores?.['PreferredRegion'], 100);
  assert.equal(by['us']?.scores?.['PreferredRegion'], 0);
  assert.ok((by['eu']?.score ?? 0) > (by['us']?.score ?? 0));
  assert.deepEqual(e.filtered, { 'ClusterHealth/ClusterUnhealthy': 1, 'ClusterSelector/SelectorMismatch': 1 });
});

test('explain reports an invalid placement instead of throwing', () => {
  const e = explainPlacement(fleet(cluster('a')), placement('bad', { cpu: 'x' }));
  assert.ok('invalid' in e);
  assert.match(e.invalid, /"x" is not a quantity/);
});

test('a cluster with only another device class is refused by DeviceClass, not Fit', () => {
  const f = fleet(cluster('tpus', { cpu: 64, devices: { 'tpu.google.com': 8 } }), cluster('gpus', { cpu: 64, devices: { 'gpu.nvidia.com': [8, 8] } }));
  const e = explainPlacement(f, placement('train', { cpu: '1', accelerators: [{ deviceClassName: 'gpu.nvidia.com', count: 1 }] }));
  assert.ok(!('invalid' in e));
  const tpus = e.clusters.find((c) => c.name === 'tpus');
  assert.deepEqual([tpus?.reason?.plugin, tpus?.reason?.code], ['DeviceClass', 'DeviceClassMissing']);
  // with the class present but every device taken, it is Fit that refuses, with the numbers
  const gpus = e.clusters.find((c) => c.name === 'gpus');
  assert.deepEqual([gpus?.reason?.plugin, gpus?.reason?.resource, gpus?.reason?.requested, gpus?.reason?.free], ['Fit', 'gpu.nvidia.com', 1, 0]);
});
