// Decisions that hold in the members, let the members' own schedulers judge: CPU fit per node,
// DRA devices claimed through a ResourceClaimTemplate and allocated by the member's scheduler,
// selectors that pick a device model, and device-plugin GPUs requested by the Pods.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HubControllers } from '../src/controllers/hub.js';
import type { FleetWatcher } from '../src/fleet/watcher.js';
import { placement } from './fixtures.js';
import { TestFleet } from './env/fleet.js';
import { type Endpoint, call, eventually, getOrNone, mergePatch } from './env/kube.js';
import { createDeviceClass, createNode, createResourceSlice, reapTerminatingPods } from './env/members.js';
import { clientOf, registerMember, watchFleet, installHubCrds } from './env/hub.js';

/** The explanation, which a valid placement always has. */
function explained<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  assert.ok(r.ok, JSON.stringify(r));
  return r.value;
}

let fleet: TestFleet;
let hub: Endpoint;
let watcher: FleetWatcher;
let controller: HubControllers;
const reapers: (() => void)[] = [];
const placements = '/apis/placement.orrery.dev/v1alpha1/namespaces/ml/placements';
const GPU = 'gpu.example.com';

before(
  async () => {
    fleet = await TestFleet.start({ members: 3 });
    hub = fleet.hub.endpoint();
    await installHubCrds(hub);
    for (const ns of ['fleet', 'ml']) await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const [m1, m2, m3] = fleet.members.map((m) => m.endpoint()) as [Endpoint, Endpoint, Endpoint];
    // member-1: six nodes of 4 CPU
    for (let i = 0; i < 6; i++) await createNode(m1, { name: `small-${i}`, cpu: '4', memory: '16Gi', pods: 50, region: 'cpu-region' });
    // member-2: two nodes with four H100s each, published per node by a DRA driver
    await createDeviceClass(m2, GPU, GPU);
    for (const n of ['h-0', 'h-1']) {
      await createNode(m2, { name: n, cpu: '32', memory: '128Gi', pods: 50, region: 'gpu-region' });
      await createResourceSlice(m2, `${n}-gpus`, { driver: GPU, pool: n, nodeName: n, devices: ['gpu-0', 'gpu-1', 'gpu-2', 'gpu-3'], attributes: { model: { string: 'H100' } } });
    }
    // member-3: A100s through DRA, and GPUs a device plugin publishes as nvidia.com/gpu
    await createDeviceClass(m3, GPU, GPU);
    await createNode(m3, { name: 'a-0', cpu: '32', memory: '128Gi', pods: 50, region: 'gpu-region' });
    await createResourceSlice(m3, 'a-0-gpus', { driver: GPU, pool: 'a-0', nodeName: 'a-0', devices: ['gpu-0', 'gpu-1', 'gpu-2', 'gpu-3'], attributes: { model: { string: 'A100' } } });
    await createNode(m3, { name: 'plugin-0', cpu: '32', memory: '128Gi', pods: 50, region: 'gpu-region' });
    await mergePatch(m3, '/api/v1/nodes/plugin-0/status', {
      status: { capacity: { cpu: '32', memory: '128Gi', pods: '50', 'nvidia.com/gpu': '4' }, allocatable: { cpu: '32', memory: '128Gi', pods: '50', 'nvidia.com/gpu': '4' } },
    });
    for (const m of fleet.members) {
      await registerMember(hub, m, 'fleet', {}, { healthy: true });
      reapers.push(reapTerminatingPods(m.endpoint()));
    }
    const client = clientOf(fleet.hub);
    watcher = await watchFleet(client, { namespace: 'fleet', coalesceMs: 20 }, (s) => s.clusters.every((c) => c.reachable !== false && (c.nodeGroups?.length ?? 0) > 0));
    controller = new HubControllers(client, watcher, { resyncMs: 1000, pendingGraceMs: 600_000 });
    controller.start();
  },
  { timeout: 900_000 },
);

after(async () => {
  for (const stop of reapers) stop();
  controller?.stop();
  watcher?.stop();
  await fleet?.stop();
});

interface PodList {
  items: {
    metadata: { name: string };
    spec: { nodeName?: string; containers: { resources?: { requests?: Record<string, string> } }[] };
    status?: { conditions?: { type: string; status: string; reason?: string }[] };
  }[];
}
const pods = (ep: Endpoint, app: string) => call<PodList>(ep, 'GET', `/api/v1/namespaces/ml/pods?labelSelector=${encodeURIComponent(`app=${app}`)}`);

const get = getOrNone;

interface ClaimList {
  items: { metadata: { labels?: Record<string, string> }; status?: { allocation?: { devices?: { results?: { pool: string; device: string }[] } } } }[];
}
const allocated = async (ep: Endpoint) =>
  (await call<ClaimList>(ep, 'GET', '/apis/resource.k8s.io/v1/namespaces/ml/resourceclaims')).items.flatMap((c) => c.status?.allocation?.devices?.results ?? []);

test('eight replicas of 3 CPU on six 4-CPU nodes: six sent, all six bound, two unscheduled with the nodes named', async () => {
  await call(hub, 'POST', placements, placement('crunch', { namespace: 'ml', replicas: 8, cpu: '3', memory: '1Gi', locality: { requiredRegions: ['cpu-region'] } }));
  const m1 = fleet.member('member-1').endpoint();
  const d = await eventually('the Deployment', () => get<{ spec: { replicas: number } }>(m1, '/apis/apps/v1/namespaces/ml/deployments/crunch'), 30_000);
  assert.equal(d.spec.replicas, 6);
  const bound = await eventually(
    'six Pods bound by the member',
    async () => {
      const list = await pods(m1, 'crunch');
      return list.items.length === 6 && list.items.every((p) => p.spec.nodeName) ? list : undefined;
    },
    30_000,
  );
  assert.equal(new Set(bound.items.map((p) => p.spec.nodeName)).size, 6, 'one per node');
  const unschedulable = bound.items.filter((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable'));
  assert.equal(unschedulable.length, 0);
  const status = await eventually(
    'the status',
    async () => {
      const p = await call<{ status?: { unscheduledReplicas?: number; conditions?: { type: string; message: string }[] } }>(hub, 'GET', `${placements}/crunch`);
      return p.status?.unscheduledReplicas === 2 ? p.status : undefined;
    },
    30_000,
  );
  assert.match(status.conditions?.find((c) => c.type === 'Scheduled')?.message ?? '', /member-1: none of its 6 nodes has 3 cpu free \(at most 1\)/);
});

test('3 × 2 DRA devices: claims the member allocates, 6 devices; 3 × 1 more then gets exactly the 2 left', async () => {
  const m2 = fleet.member('member-2').endpoint();
  const h100 = [`device.attributes["${GPU}"].model == "H100"`];
  await call(hub, 'POST', placements, placement('pairs', { namespace: 'ml', replicas: 3, cpu: '1', memory: '1Gi', accelerators: [{ deviceClassName: GPU, count: 2, selectors: h100 }] }));
  const template = await eventually(
    'the ResourceClaimTemplate',
    () => get<{ spec: { spec: { devices: { requests: { exactly: { count: number; selectors: unknown[] } }[] } } } }>(m2, '/apis/resource.k8s.io/v1/namespaces/ml/resourceclaimtemplates/pairs'),
    30_000,
  );
  assert.equal(template.spec.spec.devices.requests[0]?.exactly.count, 2);
  await eventually('six devices allocated by the member scheduler', async () => ((await allocated(m2)).length === 6 ? true : undefined), 60_000, 200);
  const three = await pods(m2, 'pairs');
  assert.ok(three.items.length === 3 && three.items.every((p) => p.spec.nodeName), 'the three Pods bound');
  // the fleet reader counts those claims as Orrery's own, not as taken by others
  const c2 = watcher.snapshot()?.byName.get('member-2');
  assert.equal(
    c2?.devices.reduce((s, d) => s + d.allocated, 0),
    0,
  );

  await call(hub, 'POST', placements, placement('singles', { namespace: 'ml', replicas: 3, cpu: '1', memory: '1Gi', accelerators: [{ deviceClassName: GPU, count: 1, selectors: h100 }] }));
  const d = await eventually('the second Deployment', () => get<{ spec: { replicas: number } }>(m2, '/apis/apps/v1/namespaces/ml/deployments/singles'), 30_000);
  assert.equal(d.spec.replicas, 2, 'exactly the two devices left');
  await eventually('eight devices allocated', async () => ((await allocated(m2)).length === 8 ? true : undefined), 60_000, 200);
  const status = await call<{ status?: { unscheduledReplicas?: number } }>(hub, 'GET', `${placements}/singles`);
  assert.equal(status.status?.unscheduledReplicas, 1);

  for (const name of ['pairs', 'singles']) await call(hub, 'DELETE', `${placements}/${name}`);
  await eventually(
    'the templates removed',
    async () => {
      const list = await call<{ items: unknown[] }>(m2, 'GET', '/apis/resource.k8s.io/v1/namespaces/ml/resourceclaimtemplates');
      return list.items.length === 0 ? true : undefined;
    },
    30_000,
  );
});

test('a selector for one model lands only where that model is, and explain names the selector elsewhere', async () => {
  const a100 = [`device.attributes["${GPU}"].model == "A100"`];
  const p = placement('a100-job', { namespace: 'ml', replicas: 2, cpu: '1', memory: '1Gi', accelerators: [{ deviceClassName: GPU, count: 1, selectors: a100 }] });
  await call(hub, 'POST', placements, p);
  const m3 = fleet.member('member-3').endpoint();
  await eventually('two A100s allocated in member-3', async () => ((await allocated(m3)).filter((r) => r.pool === 'a-0').length === 2 ? true : undefined), 60_000, 200);
  assert.equal(await get(fleet.member('member-2').endpoint(), '/apis/apps/v1/namespaces/ml/deployments/a100-job'), undefined);
  const state = controller.fleetState()!;
  const e = explained(state.explain(p));
  const refused = e.clusters.find((c) => c.name === 'member-2');
  assert.equal(refused?.reason?.code, 'SelectorMismatch');
  assert.match(refused?.reason?.message ?? '', /model == "A100"/);
});

test('device-plugin GPUs: the Pods request nvidia.com/gpu and the member binds them', async () => {
  await call(hub, 'POST', placements, placement('plugin-job', { namespace: 'ml', replicas: 3, cpu: '1', memory: '1Gi', accelerators: [{ resourceName: 'nvidia.com/gpu', count: 1 }] }));
  const m3 = fleet.member('member-3').endpoint();
  const list = await eventually(
    'three Pods bound',
    async () => {
      const l = await pods(m3, 'plugin-job');
      return l.items.length === 3 && l.items.every((x) => x.spec.nodeName) ? l : undefined;
    },
    30_000,
  );
  for (const pod of list.items) {
    assert.equal(pod.spec.nodeName, 'plugin-0');
    assert.equal(pod.spec.containers[0]?.resources?.requests?.['nvidia.com/gpu'], '1');
  }
});
