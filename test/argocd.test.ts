// Argo CD delivers where Orrery decides, on real control planes: a Placement with
// spec.delivery External is decided and published as a ClusterDecision in the Argo CD
// namespace, read here as Argo CD's ClusterDecisionResource generator reads it (with the
// ConfigMap deploy/argocd/ ships), and nothing of it is written in members; the Argo CD cluster
// Secrets follow the ClusterProfiles, and their credentials reach the members.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { load } from 'js-yaml';
import { syncClusterSecrets } from '../src/controllers/argocdClusters.js';
import { EventRecorder } from '../src/controllers/events.js';
import { HubControllers } from '../src/controllers/hub.js';
import type { FleetWatcher } from '../src/fleet/watcher.js';
import { placement } from './fixtures.js';
import { TestFleet } from './env/fleet.js';
import { type Endpoint, call, eventually, getOrNone, mergePatch } from './env/kube.js';
import { createNode, reapTerminatingPods } from './env/members.js';
import { clientOf, registerMember, watchFleet, installHubCrds } from './env/hub.js';

const root = join(import.meta.dirname, '..', '..');
let fleet: TestFleet;
let hub: Endpoint;
let members: Endpoint[];
let watcher: FleetWatcher;
let controller: HubControllers;
const reapers: (() => void)[] = [];
const profiles = '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/fleet/clusterprofiles';
const placements = (ns: string) => `/apis/placement.orrery.dev/v1alpha1/namespaces/${ns}/placements`;
const decisions = '/apis/placement.orrery.dev/v1alpha1/namespaces/argocd/clusterdecisions';
const secrets = '/api/v1/namespaces/argocd/secrets';

before(
  async () => {
    fleet = await TestFleet.start({ members: 2 });
    hub = fleet.hub.endpoint();
    members = fleet.members.map((m) => m.endpoint());
    await installHubCrds(hub, 'crds/placement.orrery.dev_clusterdecisions.yaml');
    for (const ns of ['fleet', 'team', 'argocd']) await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // the generator's ConfigMap as deploy/argocd/ ships it
    await call(hub, 'POST', '/api/v1/namespaces/argocd/configmaps', load(readFileSync(join(root, 'deploy', 'argocd', 'configmap.yaml'), 'utf8')));
    // a cluster someone registered in Argo CD by hand: Orrery leaves it alone
    await call(hub, 'POST', secrets, secret('legacy', { name: 'legacy', server: 'https://legacy.example:6443', config: '{}' }));
    for (const [i, m] of fleet.members.entries()) {
      await createNode(m.endpoint(), { name: `${m.name}-node`, cpu: '16', memory: '64Gi', pods: 100, region: i === 0 ? 'us-east1' : 'europe-west4' });
      await registerMember(hub, m, 'fleet', { env: 'prod', tier: i === 0 ? 'gold' : 'silver' }, { healthy: true });
      reapers.push(reapTerminatingPods(m.endpoint()));
    }
    const client = clientOf(fleet.hub);
    watcher = await watchFleet(client, { namespace: 'fleet', coalesceMs: 20 }, (s) => s.clusters.filter((c) => c.reachable !== false && c.allocatable.cpu > 0).length === 2);
    controller = new HubControllers(client, watcher, {
      resyncMs: 1000,
      argocdClusterSecrets: true,
      events: new EventRecorder(client, 'tests', () => undefined),
      log: (m) => (process.env.ORRERY_TEST_LOG ? console.log(m) : undefined),
    });
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

const until = <T>(what: string, f: () => Promise<T | undefined>) => eventually(what, f, 45_000, 100);

function secret(name: string, data: Record<string, string>, labels: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, labels: { 'argocd.argoproj.io/secret-type': 'cluster', ...labels } },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

interface SecretObject {
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
}
const decoded = (s: SecretObject, key: string) => Buffer.from(s.data?.[key] ?? '', 'base64').toString('utf8');

/**
 * What Argo CD's ClusterDecisionResource generator makes of the resources it is pointed at, as
 * its source reads them: the ConfigMap names the apiVersion and the plural resource ("kind"), the
 * list key (default clusters) and the match key (none: nothing); resources are listed in the
 * Argo CD namespace by name or label selector, none found is an error; each entry whose match
 * value is an Argo CD cluster's name gives that cluster's name and server and every key of the
 * entry, each taken as a string (anything else stops the generator).
 */
async function generate(configMap: string, by: { name: string } | { labels: Record<string, string> }): Promise<Record<string, string>[]> {
  const cm = await call<{ data: Record<string, string> }>(hub, 'GET', `/api/v1/namespaces/argocd/configmaps/${configMap}`);
  const selector =
    'name' in by
      ? `fieldSelector=${encodeURIComponent(`metadata.name=${by.name}`)}`
      : `labelSelector=${encodeURIComponent(
          Object.entries(by.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
        )}`;
  const listed = await call<{ items: { metadata: { name: string }; status?: Record<string, unknown> }[] }>(hub, 'GET', `/apis/${cm.data.apiVersion}/namespaces/argocd/${cm.data.kind}?${selector}`);
  if (listed.items.length === 0) throw new Error('no clusterDecisionResources found');
  const listKey = cm.data.statusListKey || 'clusters';
  const matchKey = cm.data.matchKey ?? '';
  if (matchKey === '') return [];
  const entries = listed.items.flatMap((o) => (o.status === undefined || Object.keys(o.status).length === 0 ? [] : (o.status[listKey] as Record<string, unknown>[])));
  const clusters = (await call<{ items: SecretObject[] }>(hub, 'GET', `${secrets}?labelSelector=${encodeURIComponent('argocd.argoproj.io/secret-type=cluster')}`)).items;
  const out: Record<string, string>[] = [];
  for (const entry of entries) {
    const match = entry[matchKey];
    if (typeof match !== 'string' || match === '') continue;
    const cluster = clusters.find((s) => decoded(s, 'name') === match);
    if (cluster === undefined) continue;
    const params: Record<string, string> = { name: decoded(cluster, 'name'), server: decoded(cluster, 'server') };
    for (const [k, v] of Object.entries(entry)) {
      if (typeof v !== 'string') throw new Error(`the generator takes every value as a string: ${k} is ${JSON.stringify(v)}`);
      params[k] = v;
    }
    out.push(params);
  }
  return out;
}

function argo(name: string, replicas: number, extra: Record<string, unknown> = {}) {
  const p = placement(name, { namespace: 'team', replicas });
  return { ...p, spec: { ...p.spec, delivery: 'External', ...extra } };
}

async function condition(ns: string, name: string, type: string): Promise<{ status: string; reason: string; message: string } | undefined> {
  const p = await call<{ status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } }>(hub, 'GET', `${placements(ns)}/${name}`);
  return p.status?.conditions?.find((c) => c.type === type);
}

test('the Argo CD cluster Secrets: one per ClusterProfile, named and labelled after it, whose credentials reach the member; a hand-made one is left alone', async () => {
  const got = await until('a Secret for each profile', async () => {
    const list = await call<{ items: SecretObject[] }>(hub, 'GET', `${secrets}?labelSelector=${encodeURIComponent('app.kubernetes.io/managed-by=orrery')}`);
    return list.items.length === 2 ? list.items.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1)) : undefined;
  });
  assert.deepEqual(
    got.map((s) => s.metadata.name),
    ['cluster-member-1', 'cluster-member-2'],
  );
  for (const [i, s] of got.entries()) {
    const m = fleet.members[i]!;
    assert.equal(decoded(s, 'name'), m.name);
    assert.equal(decoded(s, 'server'), m.server);
    assert.equal(s.metadata.labels?.['argocd.argoproj.io/secret-type'], 'cluster');
    assert.equal(s.metadata.labels?.env, 'prod', "the profile's labels, for an ApplicationSet's cluster selector");
    assert.equal(s.metadata.labels?.tier, i === 0 ? 'gold' : 'silver');
    // the config as Argo CD takes it, tried against the member
    const config = JSON.parse(decoded(s, 'config')) as { bearerToken: string; tlsClientConfig: { caData: string } };
    const version = await httpsGet(`${m.server}/version`, config.bearerToken, Buffer.from(config.tlsClientConfig.caData, 'base64').toString('utf8'));
    assert.match(version, /"gitVersion"/);
  }
  const legacy = await call<SecretObject>(hub, 'GET', `${secrets}/legacy`);
  assert.equal(decoded(legacy, 'server'), 'https://legacy.example:6443');
  assert.equal(legacy.metadata.labels?.['app.kubernetes.io/managed-by'], undefined);
});

function httpsGet(url: string, token: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` }, ca }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode}: ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

test('an External placement: decided, published as the generator reads it (clusters with replicas, by name, replicas as strings), and nothing of it in members', async () => {
  await call(hub, 'POST', placements('team'), argo('web', 4, { spread: { minClusters: 2 } }));
  const params = await until('two Applications', async () => {
    const got = await generate('orrery-clusterdecisions', { labels: { 'placement.orrery.dev/placement-namespace': 'team', 'placement.orrery.dev/placement-name': 'web' } }).catch(() => []);
    return got.length === 2 ? got : undefined;
  });
  assert.deepEqual(
    params.map((p) => p.name),
    ['member-1', 'member-2'],
    'in a stable order',
  );
  assert.deepEqual(
    params.map((p) => p.server),
    fleet.members.map((m) => m.server),
  );
  assert.equal(
    params.reduce((s, p) => s + Number(p.replicas), 0),
    4,
  );
  // the same by name
  assert.deepEqual(await generate('orrery-clusterdecisions', { name: 'team.web' }), params);
  // the Placement's own status and the PlacementDecision slice agree
  const status = await call<{ status: { clusters: { name: string; replicas: number }[] } }>(hub, 'GET', `${placements('team')}/web`);
  assert.deepEqual(
    status.status.clusters.map((c) => [c.name, String(c.replicas)]),
    params.map((p) => [p.name, p.replicas]),
  );
  const applied = await until('Applied Published', async () => {
    const c = await condition('team', 'web', 'Applied');
    return c?.reason === 'Published' ? c : undefined;
  });
  assert.match(applied.message, /argocd\/clusterdecisions\/team\.web/);
  assert.equal((await condition('team', 'web', 'Available'))?.status, 'Unknown');
  const slice = await getOrNone(hub, '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/team/placementdecisions/web-0');
  assert.ok(slice, 'the PlacementDecision is written as for any placement');
  // nothing in the members: no Deployment, no namespace, no finalizer waiting on them
  await new Promise((r) => setTimeout(r, 2500));
  for (const m of members) {
    assert.equal(await getOrNone(m, '/apis/apps/v1/namespaces/team/deployments/web'), undefined);
    assert.equal(await getOrNone(m, '/api/v1/namespaces/team'), undefined);
  }
  const p = await call<{ metadata: { finalizers?: string[] } }>(hub, 'GET', `${placements('team')}/web`);
  assert.deepEqual(p.metadata.finalizers ?? [], []);

  // every decision: scaled down to one cluster, exactly that cluster is listed
  await mergePatch(hub, `${placements('team')}/web`, { spec: { replicas: 1, spread: null } });
  const one = await until('one Application', async () => {
    const got = await generate('orrery-clusterdecisions', { name: 'team.web' });
    return got.length === 1 ? got : undefined;
  });
  assert.equal(one[0]?.replicas, '1');

  // deleted: its ClusterDecision goes, and the generator finds nothing
  await call(hub, 'DELETE', `${placements('team')}/web`);
  await until('the ClusterDecision removed', async () => ((await getOrNone(hub, `${decisions}/team.web`)) === undefined ? true : undefined));
  await assert.rejects(generate('orrery-clusterdecisions', { name: 'team.web' }), /no clusterDecisionResources found/);
});

test('handed over to Argo CD and back: what Orrery applied stays while Argo CD delivers; delivered by Orrery again, the ClusterDecision goes', async () => {
  await call(hub, 'POST', placements('team'), { ...placement('api', { namespace: 'team', replicas: 2 }) });
  const where = await until('applied by Orrery', async () => {
    for (const [i, m] of members.entries()) if (await getOrNone(m, '/apis/apps/v1/namespaces/team/deployments/api')) return i;
    return undefined;
  });
  await mergePatch(hub, `${placements('team')}/api`, { spec: { delivery: 'External' } });
  await until('published', async () => ((await getOrNone(hub, `${decisions}/team.api`)) !== undefined ? true : undefined));
  // a few re-checks later, the Deployment Orrery made is still there, untouched
  const before = await call<{ metadata: { generation: number } }>(members[where]!, 'GET', '/apis/apps/v1/namespaces/team/deployments/api');
  await new Promise((r) => setTimeout(r, 3000));
  const after = await call<{ metadata: { generation: number } }>(members[where]!, 'GET', '/apis/apps/v1/namespaces/team/deployments/api');
  assert.equal(after.metadata.generation, before.metadata.generation);
  await mergePatch(hub, `${placements('team')}/api`, { spec: { delivery: 'Orrery' } });
  await until('the ClusterDecision removed', async () => ((await getOrNone(hub, `${decisions}/team.api`)) === undefined ? true : undefined));
  await until('Applied by Orrery again', async () => ((await condition('team', 'api', 'Applied'))?.reason === 'Applied' ? true : undefined));
  await call(hub, 'DELETE', `${placements('team')}/api`);
});

test('a ClusterDecision of that name that Orrery did not make is neither written nor deleted: the Placement says why', async () => {
  const theirs = {
    apiVersion: 'placement.orrery.dev/v1alpha1',
    kind: 'ClusterDecision',
    metadata: { name: 'team.taken' },
    spec: { placementRef: { namespace: 'team', name: 'taken' } },
    status: { clusters: [{ name: 'member-1', replicas: '9' }] },
  };
  await call(hub, 'POST', decisions, theirs);
  await call(hub, 'POST', placements('team'), argo('taken', 2));
  const c = await until('PublishFailed', async () => {
    const got = await condition('team', 'taken', 'Applied');
    return got?.reason === 'PublishFailed' ? got : undefined;
  });
  assert.match(c.message, /argocd\/clusterdecisions\/team\.taken exists and was not made by Orrery/);
  const still = await call<{ status: { clusters: { replicas: string }[] } }>(hub, 'GET', `${decisions}/team.taken`);
  assert.equal(still.status.clusters[0]?.replicas, '9');
  await call(hub, 'DELETE', `${placements('team')}/taken`);
  await new Promise((r) => setTimeout(r, 2500));
  assert.ok(await getOrNone(hub, `${decisions}/team.taken`), 'not removed with the Placement');
});

test('the Secrets follow the profiles: labels changed, and a profile gone is removed only while the inventory is whole', async () => {
  await mergePatch(hub, `${profiles}/member-1`, { metadata: { labels: { tier: 'platinum' } } });
  await until('labels followed', async () => {
    const s = await call<SecretObject>(hub, 'GET', `${secrets}/cluster-member-1`);
    return s.metadata.labels?.tier === 'platinum' ? true : undefined;
  });
  // a pass that does not see member-2 on a partial inventory removes nothing
  const partial = await syncClusterSecrets(
    clientOf(fleet.hub),
    'argocd',
    watcher.clusterProfiles().filter((p) => p.metadata.name !== 'member-2'),
    undefined,
    false,
  );
  assert.deepEqual(partial.deleted, []);
  assert.ok(await getOrNone(hub, `${secrets}/cluster-member-2`));
  await call(hub, 'DELETE', `${profiles}/member-2`);
  await until('its Secret removed', async () => ((await getOrNone(hub, `${secrets}/cluster-member-2`)) === undefined ? true : undefined));
  assert.ok(await getOrNone(hub, `${secrets}/cluster-member-1`));
  assert.ok(await getOrNone(hub, `${secrets}/legacy`), 'the hand-made Secret stays');
});
