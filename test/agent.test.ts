// Members that join from their side: two members join as the README says and run `orrery agent`
// (a real process, reading its member as the agent's own ServiceAccount and writing to the hub as
// the identity the README's steps give it); a third is read directly. The hub reads the first two
// from their reports alone: the credential it holds for member-1 may not even list its Nodes.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { load } from 'js-yaml';
import { EventRecorder } from '../src/controllers/events.js';
import { HubControllers } from '../src/controllers/hub.js';
import type { Cluster } from '../src/core/model.js';
import { readMember } from '../src/fleet/reader.js';
import { summarizeMember } from '../src/fleet/summary.js';
import type { FleetWatcher } from '../src/fleet/watcher.js';
import { ProblemLog } from '../src/problems.js';
import { placement, readmeBlock } from './fixtures.js';
import { type ControlPlane, TestFleet } from './env/fleet.js';
import { type Endpoint, KubeError, apply, call, eventually, getOrNone, grant, mergePatch } from './env/kube.js';
import { createDeviceClass, createNode, createResourceSlice, markPodsReady, reapTerminatingPods } from './env/members.js';
import { clientOf, installHubCrds, registerMember, watchFleet } from './env/hub.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'orrery-agent-'));
let fleet: TestFleet;
let hub: Endpoint;
let watcher: FleetWatcher;
let controller: HubControllers;
let stopReaper: () => void;
const agents = new Map<string, { child: ChildProcess; output: () => string }>();
const reports = '/apis/placement.orrery.dev/v1alpha1/namespaces/fleet/clusterreports';
const MAX_AGE_MS = 3000;

/** One kubeconfig with a context for the hub and one for each member, as an admin keeps them. */
function adminKubeconfig(): string {
  const planes: ControlPlane[] = [fleet.hub, ...fleet.members];
  const configs = planes.map((p) => JSON.parse(readFileSync(p.kubeconfig('admin'), 'utf8')) as { clusters: [{ cluster: unknown }]; users: [{ user: unknown }] });
  const file = join(work, 'admin.kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: planes.map((p, i) => ({ name: p.name, cluster: configs[i]!.clusters[0].cluster })),
      users: planes.map((p, i) => ({ name: `${p.name}-admin`, user: configs[i]!.users[0].user })),
      contexts: planes.map((p) => ({ name: p.name, context: { cluster: p.name, user: `${p.name}-admin` } })),
      'current-context': 'hub',
    }),
  );
  return file;
}

/** The README's steps for one member, each run as written with the member's name put in. */
function join_(member: string, kubeconfig: string, heading = '### A member that joins from its side'): void {
  const steps = readmeBlock(heading)
    .replaceAll('deploy/member/', `${join(root, 'deploy', 'member')}/`)
    .replaceAll('member-1', member);
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', steps], { cwd: work, encoding: 'utf8', env: { ...process.env, KUBECONFIG: kubeconfig } });
  assert.equal(r.status, 0, `${steps}\n${r.stderr}`);
}

/** A kubeconfig for the member's agent ServiceAccount, as its Pod would read the member. */
function memberKubeconfig(m: ControlPlane): string {
  const token = m.kubectl(['-n', 'orrery-system', 'create', 'token', 'orrery-agent']);
  assert.equal(token.code, 0, token.stderr);
  const file = join(work, `${m.name}-agent.kubeconfig`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: m.name, cluster: { server: m.server, 'certificate-authority-data': Buffer.from(m.ca()).toString('base64') } }],
      users: [{ name: 'agent', user: { token: token.stdout.trim() } }],
      contexts: [{ name: m.name, context: { cluster: m.name, user: 'agent' } }],
      'current-context': m.name,
    }),
  );
  return file;
}

/** What the README's steps left in the member: the agent's hub credential and its ClusterProfile. */
function agentSecret(m: ControlPlane): { kubeconfig: string; name: string; namespace: string } {
  const r = m.kubectl(['-n', 'orrery-system', 'get', 'secret', 'orrery-agent-hub', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const data = (JSON.parse(r.stdout) as { data: Record<string, string> }).data;
  const text = (k: string) => Buffer.from(data[k] ?? '', 'base64').toString('utf8');
  const file = join(work, `${m.name}-hub.kubeconfig`);
  writeFileSync(file, text('kubeconfig'));
  return { kubeconfig: file, name: text('cluster-name'), namespace: text('cluster-namespace') };
}

async function startAgent(m: ControlPlane, opts: { pull?: boolean } = {}): Promise<void> {
  const s = agentSecret(m);
  const child = spawn(
    process.execPath,
    [
      cli,
      'agent',
      '--kubeconfig',
      memberKubeconfig(m),
      '--hub-kubeconfig',
      s.kubeconfig,
      '--cluster-name',
      s.name,
      '--cluster-namespace',
      s.namespace,
      '--heartbeat-seconds',
      '1',
      '--port',
      '0',
      '--address',
      '127.0.0.1',
      ...(opts.pull === true ? ['--pull'] : []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  agents.set(m.name, { child, output: () => err });
  await eventually(`${m.name}'s agent reported`, async () => {
    if (child.exitCode !== null) throw new Error(`the agent exited: ${err}`);
    return /reported fleet\//.test(err) ? true : undefined;
  }).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}; the agent said: ${err}`);
  });
}

async function stopAgent(name: string): Promise<void> {
  const a = agents.get(name);
  if (a === undefined) return;
  agents.delete(name);
  const exited = new Promise((resolve) => a.child.once('exit', resolve));
  a.child.kill('SIGTERM');
  await exited;
}

before(
  async () => {
    fleet = await TestFleet.start({ members: 3 });
    hub = fleet.hub.endpoint();
    await installHubCrds(hub, 'crds/placement.orrery.dev_clusterreports.yaml');
    for (const ns of ['fleet']) await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const [m1, m2, m3] = fleet.members as [ControlPlane, ControlPlane, ControlPlane];
    for (const n of ['a', 'b']) await createNode(m1.endpoint(), { name: `node-${n}`, cpu: '8', memory: '32Gi', pods: 50, labels: { 'topology.kubernetes.io/region': 'eu' } });
    await createNode(m2.endpoint(), { name: 'gpu-node', cpu: '16', memory: '64Gi', pods: 50 });
    await createDeviceClass(m2.endpoint(), 'gpu.example.com', 'gpu.example.com');
    await createResourceSlice(m2.endpoint(), 'gpu-node', {
      driver: 'gpu.example.com',
      pool: 'gpu-node',
      nodeName: 'gpu-node',
      devices: ['gpu-0', 'gpu-1', 'gpu-2', 'gpu-3'],
      attributes: { model: { string: 'H100' } },
    });
    await createNode(m3.endpoint(), { name: 'node-c', cpu: '4', memory: '16Gi', pods: 50 });
    // a workload of someone else's, holding part of member-1
    await call(m1.endpoint(), 'POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'theirs' },
      spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'example', resources: { requests: { cpu: '3', memory: '4Gi' } } }] },
    });
    for (const m of [m1, m2, m3]) await registerMember(hub, m, 'fleet', { member: m.name }, { healthy: true });
    // The hub's credential for member-1 is alice's, who may write Orrery's workloads there but not
    // read its Nodes or Pods: member-1's capacity can be read only through its agent.
    const all = ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'];
    await grant(m1.endpoint(), 'alice', 'writes-only', [
      { apiGroups: ['apps'], resources: ['deployments'], verbs: all },
      { apiGroups: [''], resources: ['services', 'namespaces'], verbs: all },
      { apiGroups: ['resource.k8s.io'], resources: ['resourceclaimtemplates'], verbs: all },
      { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceexports'], verbs: all },
    ]);
    await mergePatch(hub, '/api/v1/namespaces/fleet/secrets/member-1', { data: { config: Buffer.from(readFileSync(m1.kubeconfig('alice'))).toString('base64') } });
    const kubeconfig = adminKubeconfig();
    for (const m of [m1, m2]) {
      // the token controller fills the token Secret in a moment after the first step
      await eventually(`${m.name} joined`, async () => {
        try {
          join_(m.name, kubeconfig);
          return true;
        } catch (e) {
          if (/has not filled in the token yet/.test((e as Error).message)) return undefined;
          throw e;
        }
      });
    }
    stopReaper = reapTerminatingPods(m2.endpoint());
    await Promise.all([startAgent(m1), startAgent(m2)]);
    const client = clientOf(fleet.hub);
    const problems = new ProblemLog(() => undefined);
    watcher = await watchFleet(client, { coalesceMs: 20, problems, reportMaxAgeMs: MAX_AGE_MS }, (s) => s.clusters.length === 3 && s.clusters.every((c) => c.reachable !== false));
    controller = new HubControllers(client, watcher, { resyncMs: 600_000, unreachableGraceMs: 1000, problems, events: new EventRecorder(client, 'tests', () => undefined) });
    controller.start();
  },
  { timeout: 900_000 },
);

after(async () => {
  for (const name of [...agents.keys()]) await stopAgent(name);
  stopReaper?.();
  controller?.stop();
  watcher?.stop();
  await fleet?.stop();
});

function cluster(name: string): Cluster {
  const c = watcher.snapshot()?.byName.get(name);
  assert.ok(c, `no ${name} in the snapshot`);
  return c;
}

/** What the hub would make of the member reading it itself, as an admin may. */
async function direct(m: ControlPlane) {
  const s = summarizeMember(await readMember(clientOf(m)));
  return { allocatable: s.allocatable, allocated: s.allocated, devices: s.devices, nodeGroups: s.nodeGroups };
}

const capacity = (c: Cluster) => ({ allocatable: c.allocatable, allocated: c.allocated, devices: c.devices, nodeGroups: c.nodeGroups });

test('the hub reads the members with agents from their reports, equal to reading them itself, and the third directly', async () => {
  assert.equal(watcher.readWay('member-1'), 'agent');
  assert.equal(watcher.readWay('member-2'), 'agent');
  assert.equal(watcher.readWay('member-3'), 'direct');
  for (const m of fleet.members) assert.deepEqual(capacity(cluster(m.name)), await direct(m), m.name);
  assert.equal(cluster('member-1').location.region, 'eu', "the region its nodes are labelled with, from the agent's report");
  assert.equal(cluster('member-2').devices[0]?.total, 4);
  // without its agent, the hub's own credential could not have read member-1
  await assert.rejects(readMember(clientOf(fleet.member('member-1'), 'alice')), /403/);
});

test("the agent's identity on the hub may write its own report and nothing else", async () => {
  const s = agentSecret(fleet.member('member-1'));
  const doc = load(readFileSync(s.kubeconfig, 'utf8')) as { users: [{ user: { token: string } }] };
  const as = { ...hub, token: doc.users[0].user.token };
  const own = await call<{ agent: { version: string } }>(as, 'GET', `${reports}/member-1`);
  assert.match(own.agent.version, /^\d+\.\d+\.\d+/);
  const refused = async (what: string, p: Promise<unknown>) => {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    assert.ok(e instanceof KubeError && e.status === 403, `${what}: ${String(e)}`);
  };
  await refused("another member's report", call(as, 'GET', `${reports}/member-2`));
  await refused(
    "writing another member's report",
    apply(as, `${reports}/member-3`, {
      apiVersion: 'placement.orrery.dev/v1alpha1',
      kind: 'ClusterReport',
      metadata: { name: 'member-3' },
      agent: { version: '0', heartbeatTime: new Date().toISOString() },
    }),
  );
  await refused('listing reports', call(as, 'GET', reports));
  await refused('reading Placements', call(as, 'GET', '/apis/placement.orrery.dev/v1alpha1/placements'));
  await refused('reading Secrets', call(as, 'GET', '/api/v1/namespaces/fleet/secrets'));
});

test('a change in a member reaches the hub through its agent', async () => {
  const before = cluster('member-1').allocatable.cpu;
  const started = Date.now();
  await createNode(fleet.member('member-1').endpoint(), { name: 'node-new', cpu: '8', memory: '32Gi', pods: 50 });
  await eventually('the new node on the hub', async () => (cluster('member-1').allocatable.cpu === before + 8000 ? true : undefined), 15_000, 50);
  const took = Date.now() - started;
  // changes are gathered for 2 s before a report is written; a heartbeat alone moves nothing
  assert.ok(took < 5000, `${took} ms`);
  assert.deepEqual(capacity(cluster('member-1')), await direct(fleet.member('member-1')));
  const generation = watcher.snapshot()?.generation;
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(watcher.snapshot()?.generation, generation, 'heartbeats that say nothing new make no new snapshot');
});

test('orrery fleet says which way each member was read', () => {
  const r = spawnSync(process.execPath, [cli, 'fleet', '--kubeconfig', fleet.hub.kubeconfig('admin'), '-o', 'name'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['member-1', 'member-2', 'member-3']);
  assert.match(r.stderr, /read: from their agents' reports: member-1, member-2; directly: member-3/);
});

test('a stopped agent makes its member unreadable after the limit, deleting nothing; back, it is read again', { timeout: 120_000 }, async () => {
  const m2 = fleet.member('member-2');
  const placements = '/apis/placement.orrery.dev/v1alpha1/namespaces/default/placements';
  const deployment = '/apis/apps/v1/namespaces/default/deployments/web';
  await call(hub, 'POST', placements, placement('web', { replicas: 2, clusterSelector: { matchLabels: { member: 'member-2' } } }));
  const made = await eventually('the Deployment in member-2', () => getOrNone<{ metadata: { uid: string } }>(m2.endpoint(), deployment), 30_000);
  await stopAgent('member-2');
  const stopped = Date.now();
  await eventually('member-2 unreadable', async () => (cluster('member-2').reachable === false ? true : undefined), 15_000, 50);
  assert.ok(Date.now() - stopped >= MAX_AGE_MS - 1500, 'not before the limit (less the last heartbeat)');
  assert.match(cluster('member-2').message ?? '', /its agent has not reported for \d+ s \(the limit is 3 s\)/);
  assert.equal(cluster('member-2').allocatable.cpu, 16_000, 'its last known capacity is kept');
  // past the scheduler's grace: the decision leaves member-2, but nothing is removed from a member that cannot be read
  await eventually('the placement moved off member-2', async () => {
    const p = await call<{ status?: { clusters?: { name: string; replicas: number }[] } }>(hub, 'GET', `${placements}/web`);
    return (p.status?.clusters ?? []).every((c) => c.name !== 'member-2' || c.replicas === 0) ? true : undefined;
  });
  await new Promise((r) => setTimeout(r, 3000));
  const still = await getOrNone<{ metadata: { uid: string } }>(m2.endpoint(), deployment);
  assert.equal(still?.metadata.uid, made.metadata.uid, 'the Deployment stays while its member cannot be read');
  await startAgent(m2);
  await eventually('member-2 read again', async () => (cluster('member-2').reachable !== false ? true : undefined), 15_000, 50);
  await eventually('the placement back on member-2', async () => {
    const p = await call<{ status?: { clusters?: { name: string; replicas: number }[] } }>(hub, 'GET', `${placements}/web`);
    return p.status?.clusters?.some((c) => c.name === 'member-2' && c.replicas === 2) ? true : undefined;
  });
  assert.equal((await getOrNone<{ metadata: { uid: string } }>(m2.endpoint(), deployment))?.metadata.uid, made.metadata.uid);
});

test('in pull mode the agent carries a Placement out and back out again, the hub holding no credential for its member', { timeout: 180_000 }, async () => {
  const m2 = fleet.member('member-2');
  const placements = '/apis/placement.orrery.dev/v1alpha1/namespaces/default/placements';
  const deployments = '/apis/apps/v1/namespaces/default/deployments';
  await stopAgent('member-2');
  join_('member-2', join(work, 'admin.kubeconfig'), '#### In pull mode');
  assert.equal(await getOrNone(hub, '/api/v1/namespaces/fleet/secrets/member-2'), undefined, 'the hub holds no credential for member-2');
  await startAgent(m2, { pull: true });
  await eventually('member-2 pulls', async () =>
    watcher.pulled('member-2') !== undefined && watcher.memberClient('member-2') === undefined && cluster('member-2').reachable !== false ? true : undefined,
  );
  await call(hub, 'POST', placements, placement('pulled', { replicas: 2, clusterSelector: { matchLabels: { member: 'member-2' } } }));
  const made = await eventually(
    'the Deployment the agent applied',
    () => getOrNone<{ metadata: { labels: Record<string, string> }; spec: { replicas: number } }>(m2.endpoint(), `${deployments}/pulled`),
    30_000,
  );
  assert.equal(made.metadata.labels['app.kubernetes.io/managed-by'], 'orrery');
  assert.equal(made.spec.replicas, 2);
  type Status = { status?: { readyReplicas?: number; clusters?: { name: string; replicas: number; readyReplicas?: number }[]; conditions?: { type: string; status: string; reason: string }[] } };
  const status = () => call<Status>(hub, 'GET', `${placements}/pulled`);
  await eventually('Applied, from the agent', async () => ((await status()).status?.conditions?.some((c) => c.type === 'Applied' && c.status === 'True') ? true : undefined), 30_000);
  await eventually(
    'ready, from the agent',
    async () => {
      await markPodsReady(m2.endpoint(), 'default', 'app=pulled');
      const s = (await status()).status;
      return s?.readyReplicas === 2 && s.clusters?.find((c) => c.name === 'member-2')?.readyReplicas === 2 ? true : undefined;
    },
    60_000,
    250,
  );
  // drift: someone deletes the Deployment; the agent applies it again
  const first = await call<{ metadata: { uid: string } }>(m2.endpoint(), 'GET', `${deployments}/pulled`);
  await call(m2.endpoint(), 'DELETE', `${deployments}/pulled`);
  await eventually('the Deployment applied again', async () => {
    const again = await getOrNone<{ metadata: { uid: string } }>(m2.endpoint(), `${deployments}/pulled`);
    return again !== undefined && again.metadata.uid !== first.metadata.uid ? true : undefined;
  });
  // the placement the hub pushed there before is the agent's to keep now: nothing a decision wants is removed
  assert.ok(await getOrNone(m2.endpoint(), `${deployments}/web`));
  // and back out: the Placement's deletion waits for the agent to remove its workload
  await call(hub, 'DELETE', `${placements}/pulled`);
  await eventually('the Deployment removed by the agent', async () => ((await getOrNone(m2.endpoint(), `${deployments}/pulled`)) === undefined ? true : undefined), 30_000);
  await eventually('the Placement let go', async () => ((await getOrNone(hub, `${placements}/pulled`)) === undefined ? true : undefined), 30_000);
  assert.ok(await getOrNone(m2.endpoint(), `${deployments}/web`), 'still there');
  assert.match(agents.get('member-2')?.output() ?? '', /reported fleet\/member-2/);
});

test('a report that goes away turns its member back to being read directly', async () => {
  await stopAgent('member-1');
  await call(hub, 'DELETE', `${reports}/member-1`);
  // the hub's own credential for member-1 may read nothing: read directly, it is unreadable, and says why
  await eventually('member-1 read directly', async () => (watcher.readWay('member-1') === 'direct' && cluster('member-1').reachable === false ? true : undefined), 15_000, 50);
  assert.match(cluster('member-1').message ?? '', /forbidden/);
});
