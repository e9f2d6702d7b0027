// orrery serve on a hub, as two real processes: one leads and writes, the other answers the
// API; writes are not repeated needlessly; the scale hook goes through the scale subresource;
// when the leader dies, the other takes over.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { placement } from './fixtures.js';
import { TestFleet } from './env/fleet.js';
import { type Endpoint, KubeError, call, eventually, mergePatch } from './env/kube.js';
import { createNode, markPodsReady } from './env/members.js';
import { installCrd, registerMember } from './env/hub.js';

const root = join(import.meta.dirname, '..', '..');
let fleet: TestFleet;
let hub: Endpoint;
const servers = new Map<string, { child: ChildProcess; url: string }>();
const placements = '/apis/placement.orrery.dev/v1alpha1/namespaces/shop/placements';
const lease = '/apis/coordination.k8s.io/v1/namespaces/orrery-system/leases/orrery-scheduler';

function startServer(name: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [join(root, 'dist', 'src', 'cli', 'main.js'), 'serve', '--kubeconfig', fleet.hub.kubeconfig('admin'), '--namespace', 'fleet', '--lease-namespace', 'orrery-system', '--lease-seconds', '3', '--port', '0'],
    { env: { ...process.env, POD_NAME: name, ORRERY_LOG: 'off' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving the HTTP API on (\S+)/.exec(err);
      if (m && !servers.has(name)) {
        servers.set(name, { child, url: m[1]! });
        resolve();
      }
    });
    child.once('exit', (code) => (servers.has(name) ? undefined : reject(new Error(`${name} exited with ${code}: ${err}`))));
  });
}

before(async () => {
  fleet = await TestFleet.start({ members: 1 });
  hub = fleet.hub.endpoint();
  await installCrd(hub, join(root, 'crds', 'placement.orrery.dev_placements.yaml'));
  await installCrd(hub, join(root, 'test', 'fixtures', 'crds', 'multicluster.x-k8s.io_clusterprofiles.yaml'));
  await installCrd(hub, join(root, 'test', 'fixtures', 'crds', 'multicluster.x-k8s.io_placementdecisions.yaml'));
  for (const ns of ['fleet', 'shop', 'orrery-system']) await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const m = fleet.member('member-1');
  await createNode(m.endpoint(), { name: 'node-1', cpu: '16', memory: '64Gi', pods: 100 });
  await registerMember(hub, m, 'fleet');
  await eventually('placements served', () => call(hub, 'GET', placements));
  await Promise.all([startServer('orrery-a'), startServer('orrery-b')]);
}, { timeout: 900_000 });

after(async () => {
  for (const { child } of servers.values()) child.kill('SIGKILL');
  await fleet?.stop();
});

async function replicas(): Promise<number | undefined> {
  try {
    const d = await call<{ spec: { replicas: number } }>(fleet.member('member-1').endpoint(), 'GET', '/apis/apps/v1/namespaces/shop/deployments/web');
    return d.spec.replicas;
  } catch (e) {
    if (e instanceof KubeError && e.status === 404) return undefined;
    throw e;
  }
}

const holder = async () => (await call<{ spec: { holderIdentity?: string } }>(hub, 'GET', lease)).spec.holderIdentity;

test('one of the two leads, and the Placement is carried out', async () => {
  await call(hub, 'POST', placements, placement('web', { namespace: 'shop', replicas: 3, cpu: '1' }));
  await eventually('deployed', async () => ((await replicas()) === 3 ? true : undefined), 30_000, 100);
  assert.ok(['orrery-a', 'orrery-b'].includes((await holder()) ?? ''));
});

test('nothing is written again while nothing changes', async () => {
  await new Promise((r) => setTimeout(r, 1000));
  const rv = async () => [
    (await call<{ metadata: { resourceVersion: string } }>(hub, 'GET', `${placements}/web`)).metadata.resourceVersion,
    (await call<{ metadata: { resourceVersion: string } }>(hub, 'GET', '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/shop/placementdecisions/web-0')).metadata.resourceVersion,
  ];
  const before = await rv();
  await new Promise((r) => setTimeout(r, 2500));
  assert.deepEqual(await rv(), before);
});

test('the scale hook of either instance scales through the hub', async () => {
  const follower = (await holder()) === 'orrery-a' ? 'orrery-b' : 'orrery-a';
  const res = await fetch(`${servers.get(follower)!.url}/v1/namespaces/shop/placements/web/scale`, {
    method: 'POST',
    headers: { authorization: `Bearer ${hub.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ replicas: 5 }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { decision: { clusters: { name: string; replicas: number }[] } };
  assert.deepEqual(body.decision.clusters, [{ name: 'member-1', replicas: 5 }]);
  const p = await call<{ spec: { replicas: number } }>(hub, 'GET', `${placements}/web`);
  assert.equal(p.spec.replicas, 5);
  await eventually('member follows', async () => ((await replicas()) === 5 ? true : undefined), 30_000, 100);
});

test('between re-checks the member watch shows readiness and drift at once', async () => {
  const m1 = fleet.member('member-1').endpoint();
  await eventually('pods bound', async () => {
    const pods = await call<{ items: { spec: { nodeName?: string } }[] }>(m1, 'GET', '/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb');
    return pods.items.length === 5 && pods.items.every((p) => p.spec.nodeName) ? true : undefined;
  }, 30_000, 100);
  await markPodsReady(m1, 'shop', 'app=web');
  await eventually('ready replicas in the status', async () => {
    const p = await call<{ status?: { clusters?: { readyReplicas?: number }[] } }>(hub, 'GET', `${placements}/web`);
    return p.status?.clusters?.[0]?.readyReplicas === 5 ? true : undefined;
  }, 15_000, 100);
  await call(m1, 'DELETE', '/apis/apps/v1/namespaces/shop/deployments/web');
  await eventually('recreated', async () => ((await replicas()) === 5 ? true : undefined), 15_000, 100);
});

test('when the leader dies, the other takes over', async () => {
  const leader = (await holder())!;
  servers.get(leader)!.child.kill('SIGKILL');
  servers.delete(leader);
  const next = await eventually('a new holder', async () => {
    const h = await holder();
    return h !== undefined && h !== leader ? h : undefined;
  }, 20_000, 200);
  assert.ok(servers.has(next));
  await mergePatch(hub, `${placements}/web`, { spec: { replicas: 2 } });
  await eventually('the new leader writes', async () => ((await replicas()) === 2 ? true : undefined), 30_000, 100);
});
