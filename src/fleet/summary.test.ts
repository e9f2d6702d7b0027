import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResourceSliceObject } from './devices.js';
import { type NodeObject, type PodObject, nodeTakesPods } from './measure.js';
import { podUsage, summarizeMember } from './summary.js';
import { PLACEMENT_LABEL } from '../names.js';

const GI = 2 ** 30;
const node = (name: string, o: Partial<{ ready: boolean; unschedulable: boolean; taint: string; region: string; zone: string; cpu: string; gpus: string }> = {}): NodeObject => ({
  metadata: { name, labels: { ...(o.region ? { 'topology.kubernetes.io/region': o.region } : {}), ...(o.zone ? { 'topology.kubernetes.io/zone': o.zone } : {}) } },
  spec: { ...(o.unschedulable ? { unschedulable: true } : {}), ...(o.taint ? { taints: [{ key: 'k', effect: o.taint }] } : {}) },
  status: {
    allocatable: { cpu: o.cpu ?? '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi', 'hugepages-2Mi': '0', ...(o.gpus ? { 'nvidia.com/gpu': o.gpus } : {}) },
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
  },
});

const pod = (
  name: string,
  nodeName: string | undefined,
  requests: Record<string, string>,
  o: Partial<{ phase: string; labels: Record<string, string>; init: Record<string, string>; overhead: Record<string, string> }> = {},
): PodObject => ({
  metadata: { name, namespace: 'default', ...(o.labels ? { labels: o.labels } : {}) },
  spec: {
    ...(nodeName ? { nodeName } : {}),
    containers: [{ name: 'c', resources: { requests } }],
    ...(o.init ? { initContainers: [{ name: 'i', resources: { requests: o.init } }] } : {}),
    ...(o.overhead ? { overhead: o.overhead } : {}),
  },
  status: { phase: o.phase ?? 'Running' },
});

const empty = { deviceClasses: [], slices: [], claims: [] };

test('only Ready, schedulable, untainted nodes count', () => {
  assert.equal(nodeTakesPods(node('a')), true);
  assert.equal(nodeTakesPods(node('b', { ready: false })), false);
  assert.equal(nodeTakesPods(node('c', { unschedulable: true })), false);
  assert.equal(nodeTakesPods(node('d', { taint: 'NoSchedule' })), false);
  assert.equal(nodeTakesPods(node('e', { taint: 'NoExecute' })), false);
  assert.equal(nodeTakesPods(node('f', { taint: 'PreferNoSchedule' })), true);
});

test("each node: allocatable less the requests of unfinished pods bound to it, not counting Orrery's own", () => {
  const m = summarizeMember({
    nodes: [node('a', { region: 'eu', zone: 'eu-a' }), node('b', { region: 'eu', zone: 'eu-b' }), node('sick', { ready: false, region: 'us' })],
    pods: [
      pod('web', 'a', { cpu: '500m', memory: '1Gi' }),
      // init containers: the larger of the init peak and the app containers, and overhead
      pod('init', 'b', { cpu: '100m', memory: '100Mi' }, { init: { cpu: '2', memory: '50Mi' }, overhead: { cpu: '10m' } }),
      pod('done', 'a', { cpu: '4' }, { phase: 'Succeeded' }),
      pod('failed', 'b', { cpu: '4' }, { phase: 'Failed' }),
      pod('pending', undefined, { cpu: '4' }, { phase: 'Pending' }),
      pod('on-sick-node', 'sick', { cpu: '4' }),
      pod('ours', 'a', { cpu: '1' }, { labels: { [PLACEMENT_LABEL]: 'team.web' } }),
    ].map(podUsage),
    ...empty,
  });
  assert.equal(m.nodes, 2);
  assert.equal(m.region, 'eu');
  assert.deepEqual(
    m.nodeGroups.map((g) => [g.count, g.allocatable.cpu, g.allocated.cpu, g.allocated.memory, g.allocated.pods]),
    // free rounded down: 7.5 → 7.5 cpu and 31Gi free on a; 5.99 → 5.9 cpu on b
    [
      [1, 8000, 500, GI, 1],
      [1, 8000, 2100, 128 * 2 ** 20, 1],
    ].sort((x, y) => String(x).localeCompare(String(y))),
  );
  assert.deepEqual(m.allocatable, { cpu: 16000, memory: 64 * GI, pods: 220 });
  assert.equal(m.allocated.cpu, 2600);
});

test('nodes with the same room are one group, so a large member stays small', () => {
  const nodes = Array.from({ length: 5000 }, (_, i) => node(`n${i}`, { cpu: i % 2 === 0 ? '8' : '16' }));
  const pods = Array.from({ length: 5000 }, (_, i) => podUsage(pod(`p${i}`, `n${i}`, { cpu: i % 4 < 2 ? '1' : '1050m' })));
  const m = summarizeMember({ nodes, pods, ...empty });
  assert.equal(m.nodes, 5000);
  assert.ok(m.nodeGroups.length <= 4, `${m.nodeGroups.length} groups`);
  assert.equal(
    m.nodeGroups.reduce((s, g) => s + g.count, 0),
    5000,
  );
});

test('device-plugin resources: allocatable per node, less what pods request', () => {
  const m = summarizeMember({ nodes: [node('g1', { gpus: '8' }), node('g2', { gpus: '8' })], pods: [podUsage(pod('train', 'g1', { cpu: '1', 'nvidia.com/gpu': '6' }))], ...empty });
  assert.deepEqual(m.allocatable.extended, { 'nvidia.com/gpu': 16 });
  assert.deepEqual(m.allocated.extended, { 'nvidia.com/gpu': 6 });
  assert.deepEqual(m.nodeGroups.map((g) => g.allocated.extended?.['nvidia.com/gpu']).sort(), [0, 6]);
});

test("DRA devices per node and kind; claims of Orrery's own pods not taken; a cluster-wide pool apart", () => {
  const gpu = { metadata: { name: 'gpu.example.com' }, spec: { selectors: [{ cel: { expression: 'device.driver == "gpu.example.com"' } }] } };
  const h100 = { metadata: { name: 'h100.example.com' }, spec: { selectors: [{ cel: { expression: 'device.driver == "gpu.example.com" && device.attributes["gpu.example.com"].model == "H100"' } }] } };
  const slice = (nodeName: string | undefined, pool: string, model: string, n: number): ResourceSliceObject => ({
    spec: {
      driver: 'gpu.example.com',
      pool: { name: pool, generation: 1, resourceSliceCount: 1 },
      ...(nodeName ? { nodeName } : {}),
      devices: Array.from({ length: n }, (_, i) => ({ name: `gpu-${i}`, attributes: { model: { string: model }, uuid: { string: `${pool}-${i}` } } })),
    },
  });
  const claims = [
    { status: { allocation: { devices: { results: [{ driver: 'gpu.example.com', pool: 'a', device: 'gpu-0' }] } } } },
    { metadata: { labels: { [PLACEMENT_LABEL]: 'ml.train' } }, status: { allocation: { devices: { results: [{ driver: 'gpu.example.com', pool: 'a', device: 'gpu-1' }] } } } },
  ];
  const m = summarizeMember({
    nodes: [node('a'), node('b')],
    pods: [],
    deviceClasses: [gpu, h100],
    slices: [slice('a', 'a', 'H100', 4), slice('b', 'b', 'H100', 4), slice(undefined, 'rack', 'A100', 2)],
    claims,
  });
  const h = { deviceClassName: 'gpu.example.com', alsoMatches: ['h100.example.com'], driver: 'gpu.example.com', attributes: { 'gpu.example.com/model': 'H100' } };
  assert.deepEqual(
    m.nodeGroups.map((g) => g.devices).sort((x, y) => (x[0]?.allocated ?? 0) - (y[0]?.allocated ?? 0)),
    [[{ ...h, total: 4, allocated: 0 }], [{ ...h, total: 4, allocated: 1 }]],
    'per node, the uuid left out, the claim of an Orrery pod not counted',
  );
  assert.deepEqual(m.devices, [
    { ...h, total: 8, allocated: 1 },
    { deviceClassName: 'gpu.example.com', driver: 'gpu.example.com', attributes: { 'gpu.example.com/model': 'A100' }, total: 2, allocated: 0 },
  ]);
});

test("what a Pod takes of its node is worked out once, a few numbers; Orrery's own, finished and unbound Pods take nothing", () => {
  const full = {
    ...pod('init', 'a', { cpu: '100m', memory: '100Mi' }, { init: { cpu: '2', memory: '50Mi' }, overhead: { cpu: '10m' } }),
    metadata: { name: 'init', namespace: 'default', uid: 'u1', resourceVersion: '7', labels: { app: 'x' }, annotations: { big: 'x'.repeat(4000) } },
  };
  const usage = podUsage(full);
  // the init peak (2) against the app (100m), plus overhead; memory the larger of 100Mi and 50Mi
  assert.deepEqual(usage, { metadata: { name: 'init', namespace: 'default' }, node: 'a', cpu: 2010, memory: 100 * 2 ** 20 });
  assert.ok(JSON.stringify(usage).length < 120);
  assert.deepEqual(podUsage(pod('gpu', 'a', { cpu: '1', 'nvidia.com/gpu': '2', 'ephemeral-storage': '1Gi' })).extended, { 'nvidia.com/gpu': 2 });
  assert.equal(podUsage({ ...full, metadata: { ...full.metadata, labels: { [PLACEMENT_LABEL]: 'ml.train' } } }).node, undefined);
  assert.equal(podUsage(pod('done', 'a', { cpu: '1' }, { phase: 'Succeeded' })).node, undefined);
  assert.equal(podUsage(pod('pending', undefined, { cpu: '1' })).node, undefined);
});

test("a member Pod's extended resources count its sidecars and overhead, as the scheduler charges them", () => {
  const withSidecar: PodObject = {
    metadata: { name: 'infer', namespace: 'default' },
    spec: {
      nodeName: 'a',
      containers: [{ name: 'c', resources: { requests: { cpu: '1', 'nvidia.com/gpu': '1' } } }],
      initContainers: [{ name: 'side', restartPolicy: 'Always', resources: { requests: { 'nvidia.com/gpu': '1' } } } as never],
    },
    status: { phase: 'Running' },
  };
  const m = summarizeMember({ nodes: [node('a', { gpus: '8' })], pods: [podUsage(withSidecar)], ...empty });
  assert.equal(m.allocated.extended?.['nvidia.com/gpu'], 2, 'the app container and the sidecar beside it');
});
