import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, placement } from '../../test/fixtures.js';
import { explainPlacement } from './explain.js';

/** The explanation, which a valid placement always has. */
function explained<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  assert.ok(r.ok, JSON.stringify(r));
  return r.value;
}

test('explain says per cluster which filter refused it or how it scored', () => {
  const f = fleet(
    cluster('eu', { region: 'europe-west4', labels: { environment: 'production' } }),
    cluster('us', { region: 'us-east1', labels: { environment: 'production' } }),
    cluster('dev', { region: 'us-east1', labels: { environment: 'dev' } }),
    cluster('sick', { healthy: false, labels: { environment: 'production' } }),
  );
  const e = explained(explainPlacement(f, placement('web', { clusterSelector: { matchLabels: { environment: 'production' } }, locality: { preferred: [{ region: 'europe-west4', weight: 100 }] } })));
  const by = Object.fromEntries(e.clusters.map((c) => [c.name, c]));
  assert.equal(by.dev?.eligible, false);
  assert.equal(by.dev?.reason?.plugin, 'ClusterSelector');
  assert.equal(by.sick?.reason?.code, 'ClusterUnhealthy');
  assert.equal(by.eu?.eligible, true);
  assert.equal(by.eu?.scores?.PreferredRegion, 100);
  assert.equal(by.us?.scores?.PreferredRegion, 0);
  assert.ok((by.eu?.score ?? 0) > (by.us?.score ?? 0));
  assert.deepEqual(e.filtered, { 'ClusterHealth/ClusterUnhealthy': 1, 'ClusterSelector/SelectorMismatch': 1 });
});

test('explain reports an invalid placement as an issue instead of throwing', () => {
  const e = explainPlacement(fleet(cluster('a')), placement('bad', { cpu: 'x' }));
  assert.equal(e.ok, false);
  assert.equal(!e.ok && e.error.code, 'QuantityInvalid');
  assert.match(!e.ok ? e.error.message : '', /"x" is not a quantity/);
});

test('a cluster with only another device class is refused by DeviceClass, not Fit', () => {
  const f = fleet(cluster('tpus', { cpu: 64, devices: { 'tpu.google.com': 8 } }), cluster('gpus', { cpu: 64, devices: { 'gpu.nvidia.com': [8, 8] } }));
  const e = explained(explainPlacement(f, placement('train', { cpu: '1', accelerators: [{ deviceClassName: 'gpu.nvidia.com', count: 1 }] })));
  const tpus = e.clusters.find((c) => c.name === 'tpus');
  assert.deepEqual([tpus?.reason?.plugin, tpus?.reason?.code], ['DeviceClass', 'DeviceClassMissing']);
  // with the class present but every device taken, it is Fit that refuses, with the numbers
  const gpus = e.clusters.find((c) => c.name === 'gpus');
  assert.deepEqual([gpus?.reason?.plugin, gpus?.reason?.resource, gpus?.reason?.requested, gpus?.reason?.free], ['Fit', 'gpu.nvidia.com', 1, 0]);
});

test('explain reports exactly the scores the solver used: the total is the weighted mean of its own plugin scores', () => {
  const f = fleet(
    cluster('eu', { region: 'europe-west4', cpu: 32, usedCpu: 8 }),
    cluster('us', { region: 'us-east1', cpu: 64, taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] }),
    cluster('gpu', { region: 'us-east1', cpu: 64, devices: { 'gpu.nvidia.com': [8, 6] } }),
  );
  const p = placement('web', { replicas: 4, cpu: '2', locality: { preferred: [{ region: 'us-east1', weight: 60 }] } });
  // running on eu: Stability, which reads the decision in force, counts there
  const previous = [{ placement: 'default/web', clusters: [{ name: 'eu', replicas: 4 }], unscheduledReplicas: 0, reason: 'Scheduled' as const, message: '' }];
  const e = explained(explainPlacement(f, p, { previous }));
  const weightSum = Object.values(e.weights).reduce((s, w) => s + w, 0);
  for (const c of e.clusters) {
    const mean = Object.entries(c.scores ?? {}).reduce((s, [name, v]) => s + (e.weights[name] ?? 0) * v, 0) / weightSum;
    assert.ok(Math.abs(mean - (c.score ?? -1)) < 0.02, `${c.name}: ${mean} vs ${c.score}`);
  }
  const by = Object.fromEntries(e.clusters.map((c) => [c.name, c]));
  assert.equal(by.eu?.scores?.Stability, 100);
  assert.equal(by.us?.scores?.Stability, 0);
  assert.equal(by.us?.scores?.TaintPreference, 0);
  assert.equal(by.us?.scores?.PreferredRegion, 60);
  // Stability weighs 2 of 7 (PreferredRegion 3, Headroom 1, TaintPreference 1): 200/7 points
  const fresh = explained(explainPlacement(f, p));
  const euFresh = fresh.clusters.find((c) => c.name === 'eu')?.score ?? 0;
  assert.ok(Math.abs((by.eu?.score ?? 0) - euFresh - 200 / 7) < 0.02, `${by.eu?.score} vs ${euFresh}`);
});
