// The fleet kept current by watches on real control planes: changes in members show up in the
// snapshot, irrelevant changes do not move its generation, a member whose API server stops
// turns unreachable with its last capacity kept, and a deleted ClusterProfile leaves.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { FleetSnapshot } from '../src/core/model.js';
import { ApiClient } from '../src/fleet/client.js';
import { FleetWatcher } from '../src/fleet/watcher.js';
import { TestFleet } from './env/fleet.js';
import { type Endpoint, call, eventually, mergePatch } from './env/kube.js';
import { createDeviceClass, createNode, createResourceSlice } from './env/members.js';
import { installCrd, registerMember } from './env/hub.js';

const root = join(import.meta.dirname, '..', '..');
let fleet: TestFleet;
let hub: Endpoint;
let watcher: FleetWatcher;

const profiles = '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/fleet/clusterprofiles';

before(
  async () => {
    fleet = await TestFleet.start({ members: 2 });
    hub = fleet.hub.endpoint();
    await installCrd(hub, join(root, 'deploy', 'cluster-inventory', 'multicluster.x-k8s.io_clusterprofiles.yaml'));
    await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fleet' } });
    for (const m of fleet.members) await registerMember(hub, m, 'fleet');
    const kc = new KubeConfig();
    kc.loadFromFile(fleet.hub.kubeconfig('admin'));
    watcher = new FleetWatcher(new ApiClient(kc), { namespace: 'fleet', coalesceMs: 20, missingGraceMs: 60_000 });
    watcher.start();
    await watcher.ready;
  },
  { timeout: 900_000 },
);

after(async () => {
  watcher?.stop();
  await fleet?.stop();
});

/** Waits for a snapshot that satisfies `check`, and says how long it took. */
async function until(what: string, check: (s: FleetSnapshot) => boolean, timeoutMs = 5000): Promise<{ snapshot: FleetSnapshot; ms: number }> {
  const t0 = Date.now();
  const snapshot = await eventually(
    what,
    async () => {
      const s = watcher.snapshot();
      return s !== undefined && check(s) ? s : undefined;
    },
    timeoutMs,
    10,
  );
  return { snapshot, ms: Date.now() - t0 };
}

test('both members are read and reachable', async () => {
  const { snapshot } = await until('both members reachable', (s) => s.clusters.length === 2 && s.clusters.every((c) => c.reachable !== false));
  assert.deepEqual(
    snapshot.clusters.map((c) => c.name),
    ['member-1', 'member-2'],
  );
});

test('node creates, updates and deletes show up in the snapshot', async () => {
  const m1 = fleet.member('member-1').endpoint();
  await createNode(m1, { name: 'w1', cpu: '8', memory: '32Gi', pods: 40, region: 'us-east1', zone: 'us-east1-c' });
  const created = await until('w1 counted', (s) => s.byName.get('member-1')?.allocatable.cpu === 8000);
  assert.deepEqual(created.snapshot.byName.get('member-1')?.location, { region: 'us-east1', zone: 'us-east1-c' });
  await mergePatch(m1, '/api/v1/nodes/w1/status', { status: { allocatable: { cpu: '12', memory: '32Gi', pods: '40' }, capacity: { cpu: '12', memory: '32Gi', pods: '40' } } });
  await until('w1 resized', (s) => s.byName.get('member-1')?.allocatable.cpu === 12_000);
  await call(m1, 'DELETE', '/api/v1/nodes/w1');
  const deleted = await until('w1 gone', (s) => s.byName.get('member-1')?.allocatable.cpu === 0);
  process.stdout.write(`# node create/delete seen after ${created.ms} / ${deleted.ms} ms\n`);
});

test('a change that does not matter leaves the generation alone', async () => {
  const m2 = fleet.member('member-2').endpoint();
  await createNode(m2, { name: 'w2', cpu: '4', memory: '16Gi', pods: 20 });
  const { snapshot } = await until('w2 counted', (s) => s.byName.get('member-2')?.allocatable.cpu === 4000);
  const generation = snapshot.generation;
  await mergePatch(m2, '/api/v1/nodes/w2', { metadata: { annotations: { note: 'irrelevant' } } });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(watcher.snapshot()?.generation, generation);
  await mergePatch(m2, '/api/v1/nodes/w2', { spec: { unschedulable: true } });
  const cordoned = await until('w2 cordoned', (s) => s.byName.get('member-2')?.allocatable.cpu === 0);
  assert.ok(cordoned.snapshot.generation > generation);
  await mergePatch(m2, '/api/v1/nodes/w2', { spec: { unschedulable: false } });
  await until('w2 back', (s) => s.byName.get('member-2')?.allocatable.cpu === 4000);
});

test('DRA devices published in a member show up', async () => {
  const m1 = fleet.member('member-1').endpoint();
  await createDeviceClass(m1, 'gpu.example.com', 'gpu.example.com');
  // a pool for all nodes: the cluster lists it, no node group does
  await createResourceSlice(m1, 'pool-a', { driver: 'gpu.example.com', pool: 'pool-a', devices: ['g0', 'g1'] });
  const { snapshot } = await until('two GPUs', (s) => s.byName.get('member-1')?.devices[0]?.total === 2);
  assert.deepEqual(
    snapshot.byName.get('member-1')?.nodeGroups?.flatMap((g) => g.devices),
    [],
  );
});

test('a member API server that stops turns the cluster unreachable, keeping it, and it comes back', async () => {
  const m2 = fleet.member('member-2');
  await m2.stopApiServer();
  const down = await until('member-2 unreachable', (s) => s.byName.get('member-2')?.reachable === false, 15_000);
  const c2 = down.snapshot.byName.get('member-2')!;
  assert.equal(c2.allocatable.cpu, 4000, 'the last known capacity is kept');
  assert.ok(down.snapshot.byName.get('member-1')?.reachable !== false);
  await m2.startApiServer();
  await until('member-2 back', (s) => s.byName.get('member-2')?.reachable !== false, 30_000);
});

test('a deleted ClusterProfile leaves the fleet', async () => {
  await call(hub, 'DELETE', `${profiles}/member-1`);
  await until('member-1 gone', (s) => !s.byName.has('member-1') && s.byName.has('member-2'));
});
