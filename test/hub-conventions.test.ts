// Orrery on a hub with the upstream Cluster Inventory CRDs and a member that grants it only
// deploy/member/'s role: profiles read in v1alpha2 and merged by inventory-member-id,
// PlacementDecisions the upstream schema accepts, a refused write that holds up nobody else,
// Events and printer columns, and everything carried out with exactly the member role.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EventRecorder } from '../src/controllers/events.js';
import { HubControllers } from '../src/controllers/hub.js';
import { MEMBER_ID_LABEL } from '../src/fleet/inventory.js';
import type { FleetWatcher } from '../src/fleet/watcher.js';
import { ProblemLog } from '../src/problems.js';
import { placement, readmeBlock } from './fixtures.js';
import { TestFleet, envtestDir } from './env/fleet.js';
import { type Endpoint, call, eventually, getOrNone, mergePatch, refuse } from './env/kube.js';
import { createNode, reapTerminatingPods } from './env/members.js';
import { clientOf, installCrd, watchFleet } from './env/hub.js';

const root = join(import.meta.dirname, '..', '..');
let fleet: TestFleet;
let hub: Endpoint;
let member: Endpoint;
let watcher: FleetWatcher;
let controller: HubControllers;
let stopReaper: () => void;
const said: string[] = [];
const placements = '/apis/placement.orrery.dev/v1alpha1/namespaces/shop/placements';
const decisions = '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/shop/placementdecisions';
const sa = 'system:serviceaccount:orrery-system:orrery';

async function profile(namespace: string, name: string, kubeconfigSecret: string): Promise<void> {
  const path = `/apis/multicluster.x-k8s.io/v1alpha2/namespaces/${namespace}/clusterprofiles`;
  await eventually(`ClusterProfile ${namespace}/${name}`, () =>
    call(hub, 'POST', path, {
      apiVersion: 'multicluster.x-k8s.io/v1alpha2',
      kind: 'ClusterProfile',
      metadata: { name, labels: { [MEMBER_ID_LABEL]: 'member-1' } },
      spec: { clusterManager: { name: 'tests' } },
    }),
  );
  // the README's steps made the first profile's Secret
  if (namespace !== 'fleet') await call(hub, 'POST', `/api/v1/namespaces/${namespace}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: { config: kubeconfigSecret } });
  await mergePatch(hub, `${path}/${name}/status`, {
    status: {
      conditions: [{ type: 'ControlPlaneHealthy', status: 'True', reason: 'Healthy', message: 'fine', lastTransitionTime: new Date().toISOString() }],
      properties: [{ name: 'location', value: 'us-east1' }],
    },
  });
}

before(
  async () => {
    fleet = await TestFleet.start({ members: 1 });
    hub = fleet.hub.endpoint();
    const m = fleet.member('member-1');
    member = m.endpoint();
    for (const file of ['crds', 'deploy/cluster-inventory']) {
      const r = fleet.hub.kubectl(['apply', '--server-side', '-k', join(root, file)]);
      assert.equal(r.code, 0, r.stderr);
    }
    for (const ns of ['fleet', 'fleet-b', 'shop']) await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // The hub refuses PlacementDecisions of one name, and the member Deployments of one, as policies might.
    await refuse(hub, 'refuse-some-decisions', { group: 'multicluster.x-k8s.io', resource: 'placementdecisions' }, "!object.metadata.name.startsWith('refused-')", 'refused by the hub policy');
    await refuse(member, 'refuse-some-deployments', { group: 'apps', resource: 'deployments' }, "object.metadata.name != 'not-here'", 'refused by the member policy');
    // The member: two nodes, ServiceExport served, and Orrery's ServiceAccount with deploy/member/.
    await installCrd(member, join(envtestDir(), 'crds', 'multicluster.x-k8s.io_serviceexports.yaml'));
    for (const n of ['node-a', 'node-b']) await createNode(member, { name: n, cpu: '4', memory: '16Gi', pods: 50 });
    // The README's steps that give the hub a member, run as they are written: the member's admin
    // applies deploy/member/ and makes a kubeconfig for Orrery's identity alone; the hub keeps it
    // in the Secret named after the profile.
    const steps = readmeBlock('### Giving the hub a member');
    const [inMember, onHub] = steps.split('# on the hub');
    const work = mkdtempSync(join(tmpdir(), 'orrery-member-'));
    const run = (script: string, kubeconfig: string) => {
      const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script.replaceAll('deploy/member/', `${join(root, 'deploy', 'member')}/`)], {
        cwd: work,
        encoding: 'utf8',
        env: { ...process.env, KUBECONFIG: kubeconfig },
      });
      assert.equal(r.status, 0, `${script}\n${r.stderr}`);
    };
    run(inMember ?? '', m.kubeconfig());
    run((onHub ?? '').replaceAll('PROFILE_NAMESPACE', 'fleet').replaceAll('PROFILE_NAME', 'member-1'), fleet.hub.kubeconfig());
    const secret = readFileSync(join(work, 'member.kubeconfig')).toString('base64');
    // the same member, listed by two cluster managers in two namespaces
    await profile('fleet', 'member-1', secret);
    await profile('fleet-b', 'member-1-alias', secret);
    stopReaper = reapTerminatingPods(member);

    const client = clientOf(fleet.hub);
    const problems = new ProblemLog((line) => said.push(line));
    watcher = await watchFleet(client, { coalesceMs: 20, problems });
    controller = new HubControllers(client, watcher, { resyncMs: 1000, problems, events: new EventRecorder(client, 'tests', (line) => said.push(line)) });
    controller.start();
  },
  { timeout: 900_000 },
);

after(async () => {
  stopReaper?.();
  controller?.stop();
  watcher?.stop();
  await fleet?.stop();
});

const get = getOrNone;

interface EventList {
  items: { reason: string; type: string; note: string; regarding: { name: string } }[];
}
const eventsOf = async (name: string) => (await call<EventList>(hub, 'GET', `/apis/events.k8s.io/v1/namespaces/shop/events?fieldSelector=${encodeURIComponent(`regarding.name=${name}`)}`)).items;

test('profiles are read in v1alpha2, and two profiles of one member id are one cluster', async () => {
  const snapshot = await eventually(
    'a snapshot with the member readable',
    async () => {
      const s = watcher.snapshot();
      if (s?.clusters.length === 1 && s.clusters[0]?.reachable !== false) return s;
      // what the timeout then reports
      throw new Error(`snapshot: ${JSON.stringify(s?.clusters.map((c) => [c.name, c.reachable, c.message]))}; said: ${said.join(' | ')}`);
    },
    30_000,
  );
  assert.deepEqual(
    snapshot.clusters.map((c) => [c.name, c.profileNamespace, c.location.region]),
    [['member-1', 'fleet', 'us-east1']],
  );
  assert.equal(snapshot.complete, true);
});

test('a Placement is carried out with only the member role, and its decision fits the upstream schema', async () => {
  const web = {
    ...placement('web', { namespace: 'shop', replicas: 3, cpu: '1' }),
    spec: { ...placement('web', { namespace: 'shop', replicas: 3, cpu: '1' }).spec, service: { ports: [{ port: 80 }], export: true } },
  };
  await call(hub, 'POST', placements, web);
  await eventually(
    'Deployment, Service and ServiceExport in the member',
    async () => {
      const d = await get<{ spec: { replicas: number } }>(member, '/apis/apps/v1/namespaces/shop/deployments/web');
      const s = await get(member, '/api/v1/namespaces/shop/services/web');
      const x = await get(member, '/apis/multicluster.x-k8s.io/v1beta1/namespaces/shop/serviceexports/web');
      return d?.spec.replicas === 3 && s !== undefined && x !== undefined ? true : undefined;
    },
    30_000,
  );
  const slice = await eventually('the PlacementDecision', () => get<{ decisions: { clusterProfileRef: Record<string, string>; reason: string }[] }>(hub, `${decisions}/web-0`), 15_000);
  assert.deepEqual(slice.decisions, [{ clusterProfileRef: { name: 'member-1', namespace: 'fleet' }, reason: '3 replicas' }]);
  const events = await eventually('a Scheduled event', async () => {
    const list = await eventsOf('web');
    return list.some((e) => e.reason === 'Scheduled') ? list : undefined;
  });
  assert.equal(events.find((e) => e.reason === 'Scheduled')?.note, '3 replicas: member-1=3');
});

test('a write the hub refuses for one Placement is reported on it and holds up no other', async () => {
  await call(hub, 'POST', placements, placement('refused-web', { namespace: 'shop', replicas: 1, cpu: '100m' }));
  const warning = await eventually('a WriteFailed event', async () => (await eventsOf('refused-web')).find((e) => e.reason === 'WriteFailed'), 30_000);
  assert.match(warning.note, /writing PlacementDecisions: .*refused by the hub policy/);
  assert.equal(warning.type, 'Warning');
  assert.ok(
    said.some((l) => /^Placement shop\/refused-web: writing PlacementDecisions: .*refused by the hub policy/.test(l)),
    said.join('\n'),
  );
  // its other writes went through: the workload runs and the status says so
  const status = await eventually('its status', async () => (await get<{ status?: { replicas?: number } }>(hub, `${placements}/refused-web`))?.status);
  assert.equal(status.replicas, 1);
  assert.ok(await get(member, '/apis/apps/v1/namespaces/shop/deployments/refused-web'));
  // and a Placement that comes after it is published as usual
  await call(hub, 'POST', placements, placement('after', { namespace: 'shop', replicas: 1, cpu: '100m' }));
  await eventually('the next PlacementDecision', () => get(hub, `${decisions}/after-0`), 30_000);
});

test('a member that refuses a workload gets an ApplyFailed Event and the Applied condition says why', async () => {
  await call(hub, 'POST', placements, placement('not-here', { namespace: 'shop', replicas: 1, cpu: '100m' }));
  const e = await eventually('an ApplyFailed event', async () => (await eventsOf('not-here')).find((x) => x.reason === 'ApplyFailed'), 30_000);
  assert.equal(e.type, 'Warning');
  assert.match(e.note, /^member-1: .*refused by the member policy/);
  const applied = await eventually('the Applied condition', async () => {
    const p = await get<{ status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } }>(hub, `${placements}/not-here`);
    return p?.status?.conditions?.find((c) => c.type === 'Applied' && c.status === 'False');
  });
  assert.equal(applied.reason, 'ApplyFailed');
  assert.match(applied.message, /refused by the member policy/);
});

test('PartiallyScheduled shows in kubectl get, with the unscheduled replicas and an Event', async () => {
  // two 4-CPU nodes hold 2 replicas of 3 CPU, not 3: the rest waits
  await call(hub, 'POST', placements, placement('big', { namespace: 'shop', replicas: 6, cpu: '1500m' }));
  const row = await eventually(
    'the printer columns',
    async () => {
      const r = fleet.hub.kubectl(['get', 'placements.placement.orrery.dev', 'big', '-n', 'shop']);
      return /PartiallyScheduled/.test(r.stdout) ? r.stdout : undefined;
    },
    30_000,
    200,
  );
  const [head, line] = row.trim().split('\n');
  assert.deepEqual(head?.split(/\s+/), ['NAME', 'REPLICAS', 'READY', 'UNSCHEDULED', 'SCHEDULED', 'AGE']);
  const cells = line!.split(/\s+/);
  assert.equal(cells[1], '6');
  assert.ok(Number(cells[3]) > 0, line);
  assert.equal(cells[4], 'PartiallyScheduled');
  const e = await eventually('a PartiallyScheduled event', async () => (await eventsOf('big')).find((x) => x.reason === 'PartiallyScheduled'));
  assert.equal(e.type, 'Warning');
});

test('deleting a Placement removes its objects from the member, with the member role alone', async () => {
  await call(hub, 'DELETE', `${placements}/web`);
  await eventually(
    'removed from the member',
    async () => {
      const d = await get(member, '/apis/apps/v1/namespaces/shop/deployments/web');
      const s = await get(member, '/api/v1/namespaces/shop/services/web');
      const x = await get(member, '/apis/multicluster.x-k8s.io/v1beta1/namespaces/shop/serviceexports/web');
      return d === undefined && s === undefined && x === undefined ? true : undefined;
    },
    30_000,
  );
  await eventually('the Placement gone', async () => ((await get(hub, `${placements}/web`)) === undefined ? true : undefined), 30_000);
});

test('the member role allows what Orrery does there and nothing more', () => {
  const m = fleet.member('member-1');
  const can = (verb: string, resource: string, ns?: string) => m.kubectl(['auth', 'can-i', verb, resource, `--as=${sa}`, ...(ns ? ['-n', ns] : ['--all-namespaces'])]).stdout.trim();
  for (const [verb, resource, ns] of [
    ['watch', 'nodes'],
    ['list', 'pods'],
    ['watch', 'resourceslices.resource.k8s.io'],
    ['list', 'resourceclaims.resource.k8s.io'],
    ['create', 'namespaces'],
    ['patch', 'deployments.apps', 'shop'],
    ['delete', 'services', 'shop'],
    ['create', 'serviceexports.multicluster.x-k8s.io', 'shop'],
    ['patch', 'resourceclaimtemplates.resource.k8s.io', 'shop'],
  ] as const) {
    assert.equal(can(verb, resource, ns), 'yes', `${verb} ${resource}`);
  }
  for (const [verb, resource, ns] of [
    ['delete', 'nodes'],
    ['delete', 'pods', 'shop'],
    ['get', 'secrets', 'shop'],
    ['delete', 'namespaces'],
    ['create', 'resourceclaims.resource.k8s.io', 'shop'],
    ['update', 'resourceslices.resource.k8s.io'],
    ['create', 'clusterrolebindings.rbac.authorization.k8s.io'],
  ] as const) {
    assert.equal(can(verb, resource, ns), 'no', `${verb} ${resource}`);
  }
});

test("the member's policy lets Orrery's identity touch only what it made, or what its owner hands over", async () => {
  const m = fleet.member('member-1');
  const deployment = (name: string, labels: Record<string, string>) =>
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'shop', labels },
      spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'example' }] } } },
    });
  const asOrrery = (args: string[], input?: string) => m.kubectl([...args, `--as=${sa}`], 'admin', input);
  // Someone else's Deployment, made by the member's admin.
  const theirs = m.kubectl(['apply', '-f', '-'], 'admin', deployment('theirs', { team: 'shop' }));
  assert.equal(theirs.code, 0, theirs.stderr);

  const unlabelled = asOrrery(['apply', '--server-side', '--field-manager=orrery', '-f', '-'], deployment('unlabelled', {}));
  assert.notEqual(unlabelled.code, 0, 'an object without its label is not created');
  assert.match(unlabelled.stderr, /Orrery writes only what it labels as its own \(app.kubernetes.io\/managed-by=orrery\): deployments unlabelled is not/);

  const overwrite = asOrrery(['apply', '--server-side', '--force-conflicts', '--field-manager=orrery', '-f', '-'], deployment('theirs', { 'app.kubernetes.io/managed-by': 'orrery' }));
  assert.notEqual(overwrite.code, 0, "someone else's object is not taken by putting the label on it");
  assert.match(overwrite.stderr, /Orrery may change or delete only what it made: deployments theirs is not labelled/);
  const remove = asOrrery(['delete', 'deployment', 'theirs', '-n', 'shop']);
  assert.notEqual(remove.code, 0);
  assert.match(remove.stderr, /Orrery may change or delete only what it made/);
  assert.ok(await get(member, '/apis/apps/v1/namespaces/shop/deployments/theirs'), 'still there');

  // Its own: made, changed and deleted.
  const own = asOrrery(['apply', '--server-side', '--field-manager=orrery', '-f', '-'], deployment('own', { 'app.kubernetes.io/managed-by': 'orrery' }));
  assert.equal(own.code, 0, own.stderr);
  assert.equal(asOrrery(['label', 'deployment', 'own', '-n', 'shop', 'extra=1']).code, 0);
  assert.equal(asOrrery(['delete', 'deployment', 'own', '-n', 'shop']).code, 0);

  // Handed over by its owner: then Orrery may take it.
  assert.equal(m.kubectl(['label', 'deployment', 'theirs', '-n', 'shop', 'placement.orrery.dev/take-over=allowed']).code, 0);
  const taken = asOrrery(['apply', '--server-side', '--force-conflicts', '--field-manager=orrery', '-f', '-'], deployment('theirs', { 'app.kubernetes.io/managed-by': 'orrery' }));
  assert.equal(taken.code, 0, taken.stderr);
  // The admin is not held to the policy.
  assert.equal(m.kubectl(['delete', 'deployment', 'theirs', '-n', 'shop']).code, 0);
});
