import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podCost } from './podCost.js';

test('a Pod costs its app containers with the sidecars beside them, or its init peak if larger, plus overhead: every resource alike', () => {
  const r = podCost({
    containers: [{ name: 'app', resources: { requests: { cpu: '1', memory: '1Gi', 'nvidia.com/gpu': '1' } } }],
    initContainers: [
      { name: 'proxy', restartPolicy: 'Always', resources: { requests: { cpu: '500m', 'nvidia.com/gpu': '1' } } },
      // runs beside the proxy before the app starts: 3 + 1 GPUs at once
      { name: 'warm', resources: { requests: { cpu: '2', 'nvidia.com/gpu': '3' } } },
    ],
    overhead: { cpu: '100m', memory: '64Mi' },
  });
  assert.ok(r.ok);
  // cpu: max(1 + 0.5, 0.5 + 2) + 0.1; memory: 1Gi + 64Mi; gpus: max(1 + 1, 1 + 3)
  assert.equal(r.value.cpu, 2600);
  assert.equal(r.value.memory, 2 ** 30 + 64 * 2 ** 20);
  assert.deepEqual([...r.value.others], [['nvidia.com/gpu', 4]]);
});

test('a quantity that is not one is refused with the field it is in', () => {
  const r = podCost({ containers: [{ name: 'c', resources: { requests: { cpu: 'lots' } } }] }, ['spec']);
  assert.equal(r.ok, false);
  assert.deepEqual(!r.ok && r.error.path, ['spec', 'containers', 0, 'resources', 'requests', 'cpu']);
  assert.equal(!r.ok && r.error.code, 'QuantityInvalid');
});
