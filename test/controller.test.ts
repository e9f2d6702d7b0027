// The controller on real control planes: a Placement becomes Deployments (and Services and
// ServiceExports) in the chosen members and PlacementDecisions on the hub; scaling, selector
// changes, an unhealthy member, a member that goes away, and deletion.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HubControllers } from '../src/controllers/hub.js';
import type { FleetWatcher } from '../src/fleet/watcher.js';
import { placement } from './fixtures.js';
import { TestFleet, envtestDir } from './env/fleet.js';
import { type Endpoint, KubeError, call, eventually, mergePatch } from './env/kube.js';
import { createNode, markPodsReady, reapTerminatingPods } from './env/members.js';
import { clientOf, installCrd, registerMember, watchFleet, installHubCrds } from './env/hub.js';

let fleet: TestFleet;
let hub: Endpoint;
let watcher: FleetWatcher;
let controller: HubControllers;
const reapers: (() => void)[] = [];
const profiles = '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/fleet/clusterprofiles';
const placements = '/apis/placement.orrery.dev/v1alpha1/namespaces/shop/placements';

const healthy = (ok: boolean) => ({
  status: {
    conditions: [
      { type: 'ControlPlaneHealthy', status: ok ? 'True' : 'False', reason: ok ? 'Healthy' : 'Down', message: ok ? 'fine' : 'control plane down', lastTransitionTime: new Date().toISOString() },
    ],
  },
});

before(
  async () => {
    fleet = await TestFleet.start({ members: 2 });
    hub = fleet.hub.endpoint();
    await installHubCrds(hub);
    for (const ns of ['fleet', 'shop']) await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (const [i, m] of fleet.members.entries()) {
      await installCrd(m.endpoint(), join(envtestDir(), 'crds', 'multicluster.x-k8s.io_serviceexports.yaml'));
      await createNode(m.endpoint(), { name: `${m.name}-node`, cpu: '16', memory: '64Gi', pods: 100, region: i === 0 ? 'us-east1' : 'europe-west4' });
      await registerMember(hub, m, 'fleet', { environment: i === 0 ? 'production' : 'staging' });
      await mergePatch(hub, `${profiles}/${m.name}/status`, healthy(true));
    }
    for (const m of fleet.members) reapers.push(reapTerminatingPods(m.endpoint()));
    const client = clientOf(fleet.hub);
    // both members read, Nodes and all
    watcher = await watchFleet(client, { namespace: 'fleet', coalesceMs: 20 }, (s) => s.clusters.filter((c) => c.reachable !== false && c.allocatable.cpu > 0).length === 2);
    controller = new HubControllers(client, watcher, { resyncMs: 500, pendingGraceMs: 1000, unreachableGraceMs: 15_000 });
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

async function deployment(member: string, name: string): Promise<{ spec: { replicas: number } } | undefined> {
  try {
    return await call(fleet.member(member).endpoint(), 'GET', `/apis/apps/v1/namespaces/shop/deployments/${name}`);
  } catch (e) {
    if (e instanceof KubeError && e.status === 404) return undefined;
    throw e;
  }
}

/** Replicas per member that can be read now; a member that is down is left out. */
async function replicasEverywhere(name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of fleet.members) {
    if (!m.apiserver.alive) continue;
    const d = await deployment(m.name, name);
    if (d !== undefined) out[m.name] = d.spec.replicas;
  }
  return out;
}

async function until<T>(what: string, f: () => Promise<T | undefined>): Promise<T> {
  return eventually(what, f, 30_000, 100);
}

const web = () => placement('web', { namespace: 'shop', replicas: 4, cpu: '1', memory: '1Gi', service: { ports: [{ port: 80, targetPort: 8080 }], export: true } });

test('a Placement becomes Deployments, Services and ServiceExports where it was placed, and PlacementDecisions', async () => {
  await call(hub, 'POST', placements, web());
  const placed = await until('web deployed', async () => {
    const r = await replicasEverywhere('web');
    return Object.values(r).reduce((s, n) => s + n, 0) === 4 ? r : undefined;
  });
  assert.deepEqual(placed, { 'member-1': 2, 'member-2': 2 });
  for (const m of fleet.members) {
    const ep = m.endpoint();
    const svc = await until(`the Service on ${m.name}`, () => call<{ spec: { ports: { port: number }[] } }>(ep, 'GET', '/api/v1/namespaces/shop/services/web'));
    assert.equal(svc.spec.ports[0]?.port, 80);
    await until(`the ServiceExport on ${m.name}`, () => call(ep, 'GET', '/apis/multicluster.x-k8s.io/v1beta1/namespaces/shop/serviceexports/web'));
  }
  const decision = await until('a PlacementDecision', async () => {
    const d = await call<{
      decisions: { clusterProfileRef: { name: string; namespace: string } }[];
      schedulerName: string;
      metadata: { labels: Record<string, string>; ownerReferences: { kind: string }[] };
    }>(hub, 'GET', '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/shop/placementdecisions/web-0').catch(() => undefined);
    return d?.decisions.length === 2 ? d : undefined;
  });
  assert.deepEqual(decision.decisions.map((x) => x.clusterProfileRef.name).sort(), ['member-1', 'member-2']);
  assert.equal(decision.decisions[0]?.clusterProfileRef.namespace, 'fleet');
  assert.equal(decision.schedulerName, 'orrery');
  assert.equal(decision.metadata.labels['multicluster.x-k8s.io/placement-key'], 'web');
  assert.equal(decision.metadata.ownerReferences[0]?.kind, 'Placement');
  const status = await until('status written', async () => {
    const p = await call<{ status?: { replicas: number; conditions?: { type: string; status: string }[]; clusters?: unknown[] } }>(hub, 'GET', `${placements}/web`);
    return p.status?.conditions?.some((c) => c.type === 'Scheduled' && c.status === 'True') ? p.status : undefined;
  });
  assert.equal(status.replicas, 4);
  assert.equal(status.clusters?.length, 2);
});

test('ready replicas in the members are counted in the Placement status', async () => {
  for (const m of fleet.members) await markPodsReady(m.endpoint(), 'shop', 'app=web');
  const status = await until('Available', async () => {
    const p = await call<{ status?: { conditions?: { type: string; status: string }[]; clusters?: { name: string; readyReplicas: number }[] } }>(hub, 'GET', `${placements}/web`);
    return p.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ? p.status : undefined;
  });
  assert.deepEqual(
    status.clusters?.map((c) => c.readyReplicas),
    [2, 2],
  );
});

test('drift is repaired: a deleted or edited Deployment comes back as decided', async () => {
  const m1 = fleet.member('member-1').endpoint();
  await call(m1, 'DELETE', '/apis/apps/v1/namespaces/shop/deployments/web');
  await until('recreated', async () => ((await deployment('member-1', 'web'))?.spec.replicas === 2 ? true : undefined));
  await mergePatch(m1, '/apis/apps/v1/namespaces/shop/deployments/web', { spec: { replicas: 7 } });
  await until('restored', async () => ((await deployment('member-1', 'web'))?.spec.replicas === 2 ? true : undefined));
});

test('kubectl scale: the members follow', async () => {
  const r = fleet.hub.kubectl(['-n', 'shop', 'scale', 'placement/web', '--replicas=8']);
  assert.equal(r.code, 0, r.stderr);
  const placed = await until('8 replicas', async () => {
    const x = await replicasEverywhere('web');
    return Object.values(x).reduce((s, n) => s + n, 0) === 8 ? x : undefined;
  });
  assert.deepEqual(placed, { 'member-1': 4, 'member-2': 4 });
});

test('a new selector moves the replicas, and removes them where they no longer belong', async () => {
  await mergePatch(hub, `${placements}/web`, { spec: { clusterSelector: { matchLabels: { environment: 'staging' } } } });
  const moved = await until('all on member-2', async () => {
    const x = await replicasEverywhere('web');
    return x['member-1'] === undefined && x['member-2'] === 8 ? x : undefined;
  });
  assert.deepEqual(moved, { 'member-2': 8 });
  await until('the Service and ServiceExport left member-1', async () => {
    const gone = await call(fleet.member('member-1').endpoint(), 'GET', '/api/v1/namespaces/shop/services/web').then(
      () => false,
      () => true,
    );
    return gone ? true : undefined;
  });
  await mergePatch(hub, `${placements}/web`, { spec: { clusterSelector: null } });
});

test('with the selector gone, nothing moves back on its own', async () => {
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await replicasEverywhere('web'), { 'member-2': 8 });
});

test('an unhealthy member: its replicas move, the others stay', async () => {
  await call(hub, 'POST', placements, placement('api', { namespace: 'shop', replicas: 2, cpu: '1', memory: '1Gi', clusterSelector: { matchLabels: { environment: 'production' } } }));
  await until('api on member-1', async () => ((await deployment('member-1', 'api'))?.spec.replicas === 2 ? true : undefined));
  await mergePatch(hub, `${profiles}/member-2/status`, healthy(false));
  const after = await until('web moved to member-1', async () => {
    const x = await replicasEverywhere('web');
    return x['member-1'] === 8 && x['member-2'] === undefined ? x : undefined;
  });
  assert.deepEqual(after, { 'member-1': 8 });
  assert.equal((await deployment('member-1', 'api'))?.spec.replicas, 2, 'api stayed where it was');
  await mergePatch(hub, `${profiles}/member-2/status`, healthy(true));
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await replicasEverywhere('web'), { 'member-1': 8 }, 'not moved back on recovery');
});

test('a member whose API server stops: nothing is deleted anywhere, nothing moves within the grace period', async () => {
  const m1 = fleet.member('member-1');
  const before = await replicasEverywhere('web');
  await m1.stopApiServer();
  await until('member-1 unreachable', async () => (watcher.snapshot()?.byName.get('member-1')?.reachable === false ? true : undefined));
  // let the controller run several cycles on that view
  await new Promise((r) => setTimeout(r, 2000));
  assert.deepEqual(controller.decisions().get('shop/web')?.clusters, [{ name: 'member-1', replicas: 8 }], 'the decision holds');
  assert.equal(await deployment('member-2', 'web'), undefined, 'nothing was added elsewhere either');
  await m1.startApiServer();
  await until('member-1 back', async () => (watcher.snapshot()?.byName.get('member-1')?.reachable !== false ? true : undefined));
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(await replicasEverywhere('web'), before);
  assert.equal((await deployment('member-1', 'api'))?.spec.replicas, 2);
});

test('a member unreadable past the grace period: its replicas are placed elsewhere, and removed there only once it is back', async () => {
  const m1 = fleet.member('member-1');
  await m1.stopApiServer();
  const moved = await until('web re-placed on member-2', async () => {
    const x = await replicasEverywhere('web');
    return x['member-2'] === 8 ? x : undefined;
  });
  assert.equal(moved['member-1'], undefined, 'member-1 cannot be read at all');
  await m1.startApiServer();
  await until('the old copy on member-1 removed once it is back', async () => ((await deployment('member-1', 'web')) === undefined ? true : undefined));
  assert.equal((await deployment('member-1', 'api'))?.spec.replicas, 2, 'what still belongs there stays');
});

test('replicas that stay Pending for lack of room are placed elsewhere', async () => {
  // member-1 has room for 15 cpu in total, but on no single node; member-2 on one
  await createNode(fleet.member('member-1').endpoint(), { name: 'member-1-small', cpu: '6', memory: '64Gi', pods: 100, region: 'us-east1' });
  await createNode(fleet.member('member-2').endpoint(), { name: 'member-2-big', cpu: '32', memory: '64Gi', pods: 100, region: 'europe-west4' });
  await call(hub, 'POST', placements, placement('big', { namespace: 'shop', replicas: 1, cpu: '15', memory: '1Gi', locality: { preferred: [{ region: 'us-east1', weight: 100 }] } }));
  const first = await until('big placed', async () => {
    const x = await replicasEverywhere('big');
    return Object.keys(x).length > 0 ? x : undefined;
  });
  assert.deepEqual(first, { 'member-1': 1 }, 'the preferred region first');
  // member-1's kube-scheduler reconnects to its API server, restarted by an earlier test, with
  // a backoff: it may take a while to call the Pod Unschedulable, which is what Orrery waits for.
  const moved = await eventually(
    'big moved',
    async () => {
      const x = await replicasEverywhere('big');
      return x['member-2'] === 1 && x['member-1'] === undefined ? x : undefined;
    },
    90_000,
    200,
  );
  assert.deepEqual(moved, { 'member-2': 1 });
  await call(hub, 'DELETE', `${placements}/big`);
});

test('deleting the Placement removes everything it created', async () => {
  await call(hub, 'DELETE', `${placements}/web`);
  await call(hub, 'DELETE', `${placements}/api`);
  await until('web and api gone from the members', async () => {
    const x = { ...(await replicasEverywhere('web')), ...(await replicasEverywhere('api')) };
    return Object.keys(x).length === 0 ? true : undefined;
  });
  await until('the Placement is gone', async () =>
    call(hub, 'GET', `${placements}/web`).then(
      () => undefined,
      (e) => (e instanceof KubeError && e.status === 404 ? true : undefined),
    ),
  );
  await until('the PlacementDecision is collected', async () =>
    call(hub, 'GET', '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/shop/placementdecisions/web-0').then(
      () => undefined,
      (e) => (e instanceof KubeError && e.status === 404 ? true : undefined),
    ),
  );
});
