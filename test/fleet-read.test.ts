// Reading a fleet from real control planes: ClusterProfiles on the hub, capacity and DRA
// devices from the members, access through exec plugins or a kubeconfig Secret, and a member
// whose API server goes away staying in the fleet as unreachable.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { ClusterProfileObject, ProviderFile } from '../src/fleet/access.js';
import { syncClusterSecrets } from '../src/controllers/argocdClusters.js';
import { ApiClient } from '../src/fleet/client.js';
import { readFleet } from '../src/fleet/reader.js';
import { parseFleet } from '../src/fleet/snapshotFile.js';
import { TestFleet, envtestDir } from './env/fleet.js';
import { type Endpoint, call, eventually, mergePatch } from './env/kube.js';
import { createAllocatedClaim, createDeviceClass, createNode, createResourceSlice, markPodsReady } from './env/members.js';
import { installCrd } from './env/hub.js';

const root = join(import.meta.dirname, '..', '..');
const plugin = join(root, 'test', 'fixtures', 'exec-plugin.mjs');
let fleet: TestFleet;
let hub: Endpoint;
let providers: ProviderFile;
let providerFile: string;

async function profile(name: string, labels: Record<string, string>, status: Record<string, unknown>): Promise<void> {
  const path = '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/fleet/clusterprofiles';
  await eventually(`ClusterProfile ${name}`, () =>
    call(hub, 'POST', path, { apiVersion: 'multicluster.x-k8s.io/v1alpha1', kind: 'ClusterProfile', metadata: { name, labels }, spec: { clusterManager: { name: 'tests' } } }),
  );
  await mergePatch(hub, `${path}/${name}/status`, { status });
}

const healthy = (ok: boolean) => [
  { type: 'ControlPlaneHealthy', status: ok ? 'True' : 'False', reason: ok ? 'Healthy' : 'Unreachable', message: ok ? '' : 'control plane down', lastTransitionTime: new Date().toISOString() },
];

before(
  async () => {
    fleet = await TestFleet.start({ members: 3 });
    hub = fleet.hub.endpoint();
    await installCrd(hub, join(root, 'deploy', 'cluster-inventory', 'multicluster.x-k8s.io_clusterprofiles.yaml'));
    await installCrd(hub, join(root, 'deploy', 'cluster-inventory', 'multicluster.x-k8s.io_placementdecisions.yaml'));
    await installCrd(hub, join(envtestDir(), 'crds', 'multicluster.x-k8s.io_serviceexports.yaml'));
    await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fleet' } });

    // member-1: two nodes, a workload, GPUs through DRA
    const m1 = fleet.member('member-1').endpoint();
    await createNode(m1, { name: 'm1-a', cpu: '8', memory: '32Gi', pods: 50, region: 'us-east1', zone: 'us-east1-b' });
    await createNode(m1, { name: 'm1-b', cpu: '8', memory: '32Gi', pods: 50, region: 'us-east1', zone: 'us-east1-b' });
    await call(m1, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'other-team' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'other-team' } },
        template: { metadata: { labels: { app: 'other-team' } }, spec: { containers: [{ name: 'c', image: 'example', resources: { requests: { cpu: '500m', memory: '1Gi' } } }] } },
      },
    });
    await createDeviceClass(m1, 'gpu.example.com', 'gpu.example.com');
    await createResourceSlice(m1, 'm1-a-gpus', { driver: 'gpu.example.com', pool: 'm1-a', nodeName: 'm1-a', devices: ['gpu-0', 'gpu-1', 'gpu-2', 'gpu-3'] });
    await createAllocatedClaim(m1, 'default', 'training', 'gpu.example.com', [{ driver: 'gpu.example.com', pool: 'm1-a', device: 'gpu-2' }]);
    // the real scheduler binds the three Pods
    await eventually(
      'three Pods bound on member-1',
      async () => {
        const pods = await call<{ items: { spec: { nodeName?: string } }[] }>(m1, 'GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dother-team');
        return pods.items.length === 3 && pods.items.every((p) => p.spec.nodeName) ? true : undefined;
      },
      30_000,
    );

    // what a kubelet would report once the containers run
    assert.equal(await markPodsReady(m1, 'default', 'app=other-team'), 3);
    await eventually(
      'the Deployment to count three ready replicas',
      async () => {
        const d = await call<{ status?: { readyReplicas?: number } }>(m1, 'GET', '/apis/apps/v1/namespaces/default/deployments/other-team');
        return d.status?.readyReplicas === 3 ? true : undefined;
      },
      30_000,
    );

    // member-2: one node, reached through a kubeconfig Secret on the hub
    const m2 = fleet.member('member-2').endpoint();
    await createNode(m2, { name: 'm2-a', cpu: '4', memory: '16Gi', pods: 20, region: 'europe-west4', zone: 'europe-west4-a' });
    await call(hub, 'POST', '/api/v1/namespaces/fleet/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'member-2' },
      data: { config: Buffer.from(readFileSync(fleet.member('member-2').kubeconfig('admin'))).toString('base64') },
    });

    providers = {
      providers: [
        { name: 'tests', execConfig: { apiVersion: 'client.authentication.k8s.io/v1', command: 'node', args: [plugin, 'good'], provideClusterInfo: true, interactiveMode: 'Never' } },
        { name: 'broken', execConfig: { command: 'node', args: [plugin, 'garbage'], provideClusterInfo: true } },
        { name: 'failing', execConfig: { command: 'node', args: [plugin, 'fail'], provideClusterInfo: true } },
      ],
    };
    providerFile = join(fleet.dir, 'providers.json');
    writeFileSync(providerFile, JSON.stringify(providers));
    const access = (name: string, member: string, provider: string) => ({
      name: provider,
      cluster: {
        server: fleet.member(member).server,
        'certificate-authority-data': Buffer.from(fleet.member(member).ca()).toString('base64'),
        extensions: [{ name: 'client.authentication.k8s.io/exec', extension: { token: fleet.member(member).endpoint().token, cluster: name } }],
      },
    });
    await profile(
      'member-1',
      { environment: 'production' },
      {
        conditions: healthy(true),
        version: { kubernetes: 'v1.34.4' },
        properties: [{ name: 'location', value: 'us-east1/us-east1-b' }],
        // the deprecated alias loses to accessProviders under the same name
        credentialProviders: [{ name: 'tests', cluster: { server: 'https://127.0.0.1:1' } }],
        accessProviders: [access('member-1', 'member-1', 'tests')],
      },
    );
    await profile('member-2', { environment: 'staging' }, { conditions: healthy(true) });
    await profile('member-3', { environment: 'production' }, { conditions: healthy(true), accessProviders: [access('member-3', 'member-3', 'broken')] });
  },
  { timeout: 900_000 },
);

after(async () => {
  await fleet?.stop();
});

function hubClient(): ApiClient {
  const kc = new KubeConfig();
  kc.loadFromFile(fleet.hub.kubeconfig('admin'));
  return new ApiClient(kc);
}

test('the snapshot has what the members hold', async () => {
  const read = await readFleet(hubClient(), { providers });
  const c1 = read.snapshot.byName.get('member-1')!;
  assert.equal(c1.reachable, undefined);
  assert.equal(c1.healthy, true);
  assert.deepEqual(c1.labels, { environment: 'production' });
  assert.equal(c1.version, 'v1.34.4');
  assert.deepEqual(c1.location, { region: 'us-east1', zone: 'us-east1-b' });
  assert.deepEqual(c1.allocatable, { cpu: 16_000, memory: 64 * 2 ** 30, pods: 100 });
  assert.deepEqual(c1.allocated, { cpu: 1500, memory: 3 * 2 ** 30, pods: 3 });
  assert.deepEqual(c1.devices, [{ deviceClassName: 'gpu.example.com', driver: 'gpu.example.com', total: 4, allocated: 1 }]);
  // per node: the GPUs with the node that publishes them; the other team's Pods where they run
  const groups = (c1.nodeGroups ?? []).map((g) => ({ count: g.count, cpu: g.allocatable.cpu, used: g.allocated.cpu, gpus: g.devices.map((d) => `${d.total - d.allocated}/${d.total}`).join() }));
  assert.equal(
    groups.reduce((s, g) => s + g.count, 0),
    2,
  );
  assert.equal(
    groups.reduce((s, g) => s + g.count * g.used, 0),
    1500,
  );
  assert.deepEqual(groups.map((g) => g.gpus).sort(), ['', '3/4']);
  assert.equal(read.members.find((m) => m.name === 'member-1')?.via, 'tests');

  const c2 = read.snapshot.byName.get('member-2')!;
  assert.deepEqual(c2.location, { region: 'europe-west4', zone: 'europe-west4-a' }, 'from the nodes when the profile has no location');
  assert.deepEqual(c2.allocatable, { cpu: 4000, memory: 16 * 2 ** 30, pods: 20 });
  assert.equal(read.members.find((m) => m.name === 'member-2')?.via, 'secret');
});

test('a credential plugin that prints garbage gives a clear message, not a crash', async () => {
  const read = await readFleet(hubClient(), { providers });
  const c3 = read.snapshot.byName.get('member-3')!;
  assert.equal(c3.reachable, false);
  assert.match(c3.message ?? '', /credential plugin node printed something that is not an ExecCredential: "hello, this is not JSON/);
  await mergePatch(hub, '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/fleet/clusterprofiles/member-3/status', {
    status: { accessProviders: [{ name: 'failing', cluster: { server: fleet.member('member-3').server } }] },
  });
  const again = await readFleet(hubClient(), { providers });
  assert.match(again.snapshot.byName.get('member-3')!.message ?? '', /credential plugin node failed: no credentials for this cluster/);
});

test('a member whose API server stops turns unreachable, not gone, and comes back', async () => {
  const m2 = fleet.member('member-2');
  await m2.stopApiServer();
  const down = await readFleet(hubClient(), { providers });
  const c2 = down.snapshot.byName.get('member-2');
  assert.ok(c2, 'still in the fleet');
  assert.equal(c2.reachable, false);
  assert.ok(down.snapshot.byName.get('member-1')?.reachable !== false, 'the others are unaffected');
  await m2.startApiServer();
  const up = await readFleet(hubClient(), { providers });
  assert.equal(up.snapshot.byName.get('member-2')?.reachable, undefined);
  assert.deepEqual(up.snapshot.byName.get('member-2')?.allocatable, { cpu: 4000, memory: 16 * 2 ** 30, pods: 20 });
});

test('an unhealthy ControlPlaneHealthy condition is carried over', async () => {
  await mergePatch(hub, '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/fleet/clusterprofiles/member-2/status', { status: { conditions: healthy(false) } });
  const read = await readFleet(hubClient(), { providers, namespace: 'fleet' });
  assert.equal(read.snapshot.byName.get('member-2')?.healthy, false);
  assert.equal(read.snapshot.byName.get('member-2')?.message, 'control plane down');
  await mergePatch(hub, '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/fleet/clusterprofiles/member-2/status', { status: { conditions: healthy(true) } });
});

test('a credential is reused while it lasts and fetched again when it runs out', async () => {
  const calls = (lifetime: number) => {
    const file = join(fleet.dir, `calls-${lifetime}`);
    writeFileSync(file, '');
    const counting: ProviderFile = {
      providers: [
        {
          name: 'tests',
          execConfig: {
            command: 'node',
            args: [plugin, 'good'],
            provideClusterInfo: true,
            env: [
              { name: 'COUNT_FILE', value: file },
              { name: 'EXPIRES_IN', value: String(lifetime) },
            ],
          },
        },
      ],
    };
    return { file, counting };
  };
  for (const [lifetime, expected] of [
    [3600, 1],
    [5, 2],
  ] as const) {
    const { file, counting } = calls(lifetime);
    const cache = new Map();
    await readFleet(hubClient(), { providers: counting, accessCache: cache });
    const again = await readFleet(hubClient(), { providers: counting, accessCache: cache });
    assert.equal(again.snapshot.byName.get('member-1')?.reachable, undefined);
    const member1Calls = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l === fleet.member('member-1').server).length;
    assert.equal(member1Calls, expected, `a token that lasts ${lifetime} s`);
  }
});

test('orrery fleet prints a snapshot file that orrery plan takes', () => {
  const cli = join(root, 'dist', 'src', 'cli', 'main.js');
  const r = spawnSync(process.execPath, [cli, 'fleet', '--kubeconfig', fleet.hub.kubeconfig('admin'), '--clusterprofile-provider-file', providerFile], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: fleet\/member-3: credential plugin/);
  const parsed = parseFleet(r.stdout, 'fleet.yaml');
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  assert.deepEqual(parsed.value.snapshot.byName.get('member-1')?.devices, [{ deviceClassName: 'gpu.example.com', driver: 'gpu.example.com', total: 4, allocated: 1 }]);
  assert.equal(
    parsed.value.snapshot.byName.get('member-1')?.nodeGroups?.reduce((s, g) => s + g.count, 0),
    2,
    'node groups written and read back',
  );
  const file = join(fleet.dir, 'fleet.yaml');
  writeFileSync(file, r.stdout);
  const placements = join(fleet.dir, 'placements.yaml');
  writeFileSync(
    placements,
    `apiVersion: placement.orrery.dev/v1alpha1
kind: Placement
metadata: {name: llm, namespace: ml}
spec:
  replicas: 4
  accelerators: [{deviceClassName: gpu.example.com, count: 1}]
  template: {spec: {template: {spec: {containers: [{name: c, image: app:1, resources: {requests: {cpu: "1"}}}]}}}}
`,
  );
  const plan = spawnSync(process.execPath, [cli, 'plan', '--fleet', file, '--placements', placements, '-o', 'json'], { encoding: 'utf8' });
  assert.equal(plan.status, 0, plan.stderr);
  const d = (JSON.parse(plan.stdout) as { decisions: { clusters: { name: string; replicas: number }[]; unscheduledReplicas: number }[] }).decisions[0]!;
  assert.deepEqual(d.clusters, [{ name: 'member-1', replicas: 3 }], 'three GPUs are free, all on member-1');
  assert.equal(d.unscheduledReplicas, 1);
});

test("Argo CD cluster Secrets from the same profiles: the provider's exec plugin for Argo CD to run, and the kubeconfig Secret's token, each with the member's CA", async () => {
  await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'argocd' } });
  const client = hubClient();
  const listed = await client.list<ClusterProfileObject>('/apis/multicluster.x-k8s.io/v1alpha1/namespaces/fleet/clusterprofiles');
  const r = await syncClusterSecrets(client, 'argocd', listed.items, providers, true);
  assert.deepEqual(r.written.sort(), ['cluster-member-1', 'cluster-member-2', 'cluster-member-3']);
  const config = async (name: string) => {
    const s = await call<{ data: Record<string, string> }>(hub, 'GET', `/api/v1/namespaces/argocd/secrets/${name}`);
    return JSON.parse(Buffer.from(s.data.config ?? '', 'base64').toString('utf8')) as {
      bearerToken?: string;
      execProviderConfig?: { command: string; args: string[] };
      tlsClientConfig: { caData?: string };
    };
  };
  const viaProvider = await config('cluster-member-1');
  assert.deepEqual(viaProvider.execProviderConfig, { command: 'node', args: [plugin, 'good'], apiVersion: 'client.authentication.k8s.io/v1' });
  assert.equal(viaProvider.tlsClientConfig.caData, Buffer.from(fleet.member('member-1').ca()).toString('base64'));
  const viaSecret = await config('cluster-member-2');
  assert.equal(viaSecret.bearerToken, fleet.member('member-2').endpoint().token);
  assert.equal(Buffer.from(viaSecret.tlsClientConfig.caData ?? '', 'base64').toString('utf8'), fleet.member('member-2').ca());
  // a second pass writes nothing: every Secret already says it
  assert.deepEqual((await syncClusterSecrets(client, 'argocd', listed.items, providers, true)).written, []);
});
