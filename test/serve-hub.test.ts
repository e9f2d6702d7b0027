// orrery serve on a hub, as two real processes: one leads and writes, the other answers the
// API; writes are not repeated needlessly; the scale hook goes through the scale subresource;
// when the leader dies, the other takes over.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { placement } from './fixtures.js';
import { TestFleet } from './env/fleet.js';
import { type Endpoint, KubeError, call, eventually, grant, mergePatch } from './env/kube.js';
import { createNode, markPodsReady } from './env/members.js';
import { registerMember, installHubCrds } from './env/hub.js';
import { launchBrowser } from './browser.js';

const root = join(import.meta.dirname, '..', '..');
let fleet: TestFleet;
let hub: Endpoint;
const servers = new Map<string, { child: ChildProcess; url: string }>();
const placements = '/apis/placement.orrery.dev/v1alpha1/namespaces/shop/placements';
const lease = '/apis/coordination.k8s.io/v1/namespaces/orrery-system/leases/orrery-scheduler';

function startServer(name: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      join(root, 'dist', 'src', 'cli', 'main.js'),
      'serve',
      '--kubeconfig',
      fleet.hub.kubeconfig('admin'),
      '--namespace',
      'fleet',
      '--lease-namespace',
      'orrery-system',
      '--lease-seconds',
      '3',
      '--port',
      '0',
      '--argocd-namespace',
      'gitops',
      '--argocd-cluster-secrets',
    ],
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

before(
  async () => {
    fleet = await TestFleet.start({ members: 1 });
    hub = fleet.hub.endpoint();
    await installHubCrds(hub);
    for (const ns of ['fleet', 'shop', 'orrery-system', 'gitops']) await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const m = fleet.member('member-1');
    await createNode(m.endpoint(), { name: 'node-1', cpu: '16', memory: '64Gi', pods: 100 });
    await registerMember(hub, m, 'fleet');
    await eventually('placements served', () => call(hub, 'GET', placements));
    await Promise.all([startServer('orrery-a'), startServer('orrery-b')]);
  },
  { timeout: 900_000 },
);

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

test('with --argocd-cluster-secrets, the leader keeps an Argo CD cluster Secret for the member in --argocd-namespace', async () => {
  const s = await eventually(
    'the cluster Secret',
    async () => {
      try {
        return await call<{ metadata: { labels: Record<string, string>; managedFields: { manager: string }[] }; data: Record<string, string> }>(
          hub,
          'GET',
          '/api/v1/namespaces/gitops/secrets/cluster-member-1',
        );
      } catch (e) {
        if (e instanceof KubeError && e.status === 404) return undefined;
        throw e;
      }
    },
    30_000,
    100,
  );
  assert.equal(s.metadata.labels['argocd.argoproj.io/secret-type'], 'cluster');
  assert.equal(Buffer.from(s.data.name ?? '', 'base64').toString(), 'member-1');
  assert.deepEqual([...new Set(s.metadata.managedFields.map((f) => f.manager))], ['orrery']);
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
  await eventually(
    'pods bound',
    async () => {
      const pods = await call<{ items: { spec: { nodeName?: string } }[] }>(m1, 'GET', '/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb');
      return pods.items.length === 5 && pods.items.every((p) => p.spec.nodeName) ? true : undefined;
    },
    30_000,
    100,
  );
  await markPodsReady(m1, 'shop', 'app=web');
  await eventually(
    'ready replicas in the status',
    async () => {
      const p = await call<{ status?: { clusters?: { readyReplicas?: number }[] } }>(hub, 'GET', `${placements}/web`);
      return p.status?.clusters?.[0]?.readyReplicas === 5 ? true : undefined;
    },
    15_000,
    100,
  );
  await call(m1, 'DELETE', '/apis/apps/v1/namespaces/shop/deployments/web');
  await eventually('recreated', async () => ((await replicas()) === 5 ? true : undefined), 15_000, 100);
});

test('when the leader dies, the other takes over', async () => {
  const leader = (await holder())!;
  servers.get(leader)!.child.kill('SIGKILL');
  servers.delete(leader);
  const next = await eventually(
    'a new holder',
    async () => {
      const h = await holder();
      return h !== undefined && h !== leader ? h : undefined;
    },
    20_000,
    200,
  );
  assert.ok(servers.has(next));
  await mergePatch(hub, `${placements}/web`, { spec: { replicas: 2 } });
  await eventually('the new leader writes', async () => ((await replicas()) === 2 ? true : undefined), 30_000, 100);
});

test('the web view on the hub: signed in with a hub token, it shows the member and follows the Placement', async () => {
  const url = [...servers.values()][0]?.url as string;
  const { browser, close } = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${url}/`);
    await page.locator('#token').fill(hub.token);
    await page.locator('#login button').click();
    await page.locator('[data-cluster="member-1"]').waitFor({ timeout: 15_000 });
    const row = page.locator('tr[data-placement="shop/web"]');
    await row.locator('[data-where="member-1"]').filter({ hasText: 'member-1 × 2' }).waitFor({ timeout: 15_000 });
    // the hub's own conditions are shown, as the Placement's status has them
    await row.getByText('Scheduled=True').waitFor();
    await mergePatch(hub, `${placements}/web`, { spec: { replicas: 3 } });
    await row.locator('[data-field="asked"]').filter({ hasText: '3' }).waitFor({ timeout: 15_000 });
    await row.locator('[data-where="member-1"]').filter({ hasText: 'member-1 × 3' }).waitFor({ timeout: 15_000 });
    // one CPU a replica: what Orrery reserves on the member's card is the decision's
    const title = await page.locator('[data-cluster="member-1"] .bar').first().getAttribute('title');
    assert.match(title ?? '', /Orrery 3[ ,]/);
    // the member goes dark in the inventory: its card says so within seconds, without a reload
    const profile = '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/fleet/clusterprofiles/member-1/status';
    const health = (status: 'True' | 'False') => ({
      status: {
        conditions: [
          {
            type: 'ControlPlaneHealthy',
            status,
            reason: status === 'True' ? 'Healthy' : 'Unreachable',
            message: status === 'True' ? 'ok' : 'the API server does not answer',
            lastTransitionTime: new Date().toISOString(),
          },
        ],
      },
    });
    await mergePatch(hub, profile, health('False'));
    await page.locator('[data-cluster="member-1"] .badge.bad').waitFor({ timeout: 10_000 });
    await mergePatch(hub, profile, health('True'));
    await page.locator('[data-cluster="member-1"] .badge:not(.bad)').waitFor({ timeout: 10_000 });
  } finally {
    await close();
  }
});

/** Runs orrery serve on the hub and gathers what it says until it exits or `until` matches. */
function serveOnce(args: readonly string[], user: 'admin' | 'bob', until?: (err: string) => boolean): Promise<{ code: number | null; err: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(root, 'dist', 'src', 'cli', 'main.js'), 'serve', '--kubeconfig', fleet.hub.kubeconfig(user), '--port', '0', ...args], {
    env: { ...process.env, POD_NAME: `probe-${user}`, ORRERY_LOG: 'off' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (until?.(err)) resolve({ code: null, err, child });
    });
    child.once('exit', (code) => resolve({ code, err, child }));
  });
}

test('a Lease namespace that does not exist is a clear error at start', async () => {
  const r = await serveOnce(['--namespace', 'fleet', '--lease-namespace', 'no-such-namespace'], 'admin');
  assert.equal(r.code, 1);
  assert.match(r.err, /the Lease namespace "no-such-namespace" does not exist on the hub: create it, or name another with --lease-namespace/);
});

test('without --lease-namespace the Lease goes to "default", which every hub has', async () => {
  const r = await serveOnce(['--namespace', 'fleet'], 'admin', (err) => /serving the HTTP API on \S+\n/.test(err));
  try {
    assert.match(r.err, /leader election on the Lease default\/orrery-scheduler/);
    await eventually('a Lease in default', () => call(hub, 'GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/orrery-scheduler'));
  } finally {
    r.child.kill('SIGTERM');
  }
});

test('a hub list that keeps failing is logged with its cause and shows on /readyz and in the metrics', async () => {
  // bob may take the Lease in "default", and review callers, and nothing else: no ClusterProfiles, no Placements
  await grant(hub, 'bob', 'bob-leases', [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'patch', 'update'] }], 'default');
  await grant(hub, 'bob', 'bob-reviews', [
    { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
    { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
  ]);
  const r = await serveOnce(['--namespace', 'fleet', '--lease-namespace', 'default'], 'bob', (err) => /serving the HTTP API on \S+\n/.test(err) && /ClusterProfiles on the hub: /.test(err));
  try {
    assert.match(r.err, /ClusterProfiles on the hub: .*forbidden/i);
    const url = /serving the HTTP API on (\S+)/.exec(r.err)?.[1];
    assert.ok(url, r.err);
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 503, 'never listed: not ready');
    const body = (await ready.json()) as { problems: { source: string; message: string }[] };
    assert.ok(
      body.problems.some((p) => p.source === 'ClusterProfiles on the hub' && /forbidden/i.test(p.message)),
      JSON.stringify(body),
    );
    assert.ok(
      body.problems.some((p) => p.source === 'Placements on the hub'),
      JSON.stringify(body),
    );
    const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${hub.token}` } });
    assert.match(await metrics.text(), /^orrery_problem_duration_seconds\{source="ClusterProfiles on the hub"\} \d/m);
  } finally {
    r.child.kill('SIGTERM');
  }
});
