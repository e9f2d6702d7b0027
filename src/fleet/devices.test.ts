import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ResourceSliceObject, classifyDevices, publishedDevices, takenDevices } from './devices.js';

const slice = (driver: string, pool: string, generation: number, count: number, devices: string[], attrs: Record<string, unknown> = {}): ResourceSliceObject => ({
  spec: { driver, pool: { name: pool, generation, resourceSliceCount: count }, devices: devices.map((name) => ({ name, attributes: attrs as never })) },
});

const gpuClass = { metadata: { name: 'gpu.example.com' }, spec: { selectors: [{ cel: { expression: 'device.driver == "gpu.example.com"' } }] } };
const bigGpus = {
  metadata: { name: 'big-gpu' },
  spec: { selectors: [{ cel: { expression: 'device.driver == "gpu.example.com"' } }, { cel: { expression: 'device.attributes["gpu.example.com"].memory >= 80' } }] },
};

test('only the newest generation of a complete pool is published', () => {
  const devices = publishedDevices([
    slice('gpu.example.com', 'node-a', 1, 1, ['old-0', 'old-1']),
    slice('gpu.example.com', 'node-a', 2, 1, ['gpu-0']),
    // generation 1 of two slices, one of them missing: not yet complete
    slice('gpu.example.com', 'node-b', 1, 2, ['gpu-0']),
  ]);
  assert.deepEqual(
    devices.map((d) => `${d.pool}/${d.name}`),
    ['node-a/gpu-0'],
  );
});

test('each device with the classes that select it, and whether a claim holds it', () => {
  const slices = [
    slice('gpu.example.com', 'node-a', 1, 1, ['gpu-0', 'gpu-1'], { memory: { int: 80 } }),
    slice('gpu.example.com', 'node-b', 1, 1, ['gpu-0', 'gpu-1'], { 'gpu.example.com/memory': { int: 40 } }),
    slice('nic.example.com', 'node-a', 1, 1, ['nic-0']),
  ];
  const claims = [
    { status: { allocation: { devices: { results: [{ driver: 'gpu.example.com', pool: 'node-a', device: 'gpu-1' }] } } } },
    { metadata: { labels: { mine: 'yes' } }, status: { allocation: { devices: { results: [{ driver: 'gpu.example.com', pool: 'node-b', device: 'gpu-0' }] } } } },
  ];
  const taken = takenDevices(claims, (c) => c.metadata?.labels?.mine === 'yes');
  const d = classifyDevices([gpuClass, bigGpus], slices, taken);
  assert.deepEqual(
    d.map((x) => [`${x.pool}/${x.name}`, x.classes.join('+'), x.taken, x.attributes['gpu.example.com/memory']]),
    [
      ['node-a/gpu-0', 'big-gpu+gpu.example.com', false, 80],
      ['node-a/gpu-1', 'big-gpu+gpu.example.com', true, 80],
      ['node-b/gpu-0', 'gpu.example.com', false, 40],
      ['node-b/gpu-1', 'gpu.example.com', false, 40],
    ],
  );
});

test('v1beta1 slices keep attributes under basic; a failing expression matches nothing', () => {
  const beta: ResourceSliceObject = {
    spec: { driver: 'gpu.example.com', pool: { name: 'p', generation: 1, resourceSliceCount: 1 }, devices: [{ name: 'g', basic: { attributes: { memory: { int: 96 } } } }] },
  };
  assert.deepEqual(
    classifyDevices([bigGpus], [beta], new Set()).map((x) => x.classes),
    [['big-gpu']],
  );
  const broken = { metadata: { name: 'broken' }, spec: { selectors: [{ cel: { expression: 'device.attributes["other.com"].x == 1' } }] } };
  assert.deepEqual(classifyDevices([broken], [beta], new Set()), []);
});
