// Never overwrite, on real control planes: objects of the same name that someone else made in a
// member (a Deployment with the same selector, a Service, a ServiceExport, a
// ResourceClaimTemplate) are neither changed nor deleted, the Placement says why and its
// replicas go where they can; IfNoDiff and Always take an object over as named; the namespaces
// Orrery creates carry the hub namespace's Pod Security labels, which the member then enforces.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ClusterEngine } from '../src/controllers/engine.js';
import { Deployer, deploymentFor } from '../src/controllers/deployer.js';
import { EventRecorder } from '../src/controllers/events.js';
import { HubControllers } from '../src/controllers/hub.js';
import { ApiError } from '../src/fleet/client.js';

import type { FleetWatcher } from '../src/fleet/watcher.js';
import { placement } from './fixtures.js';
import { TestFleet, envtestDir } from './env/fleet.js';
import { type Endpoint, KubeError, apply, call, eventually, getOrNone, mergePatch } from './env/kube.js';
import { createDeviceClass, createNode, createResourceSlice, reapTerminatingPods } from './env/members.js';
import { clientOf, installCrd, registerMember, watchFleet, installHubCrds } from './env/hub.js';
import { PLACEMENT_LABEL } from '../src/names.js';

let fleet: TestFleet;
let hub: Endpoint;
let m1: Endpoint;
let m2: Endpoint;
let watcher: FleetWatcher;
let controller: HubControllers;
let engine: ClusterEngine;
const reapers: (() => void)[] = [];
const placements = (ns: string) => `/apis/placement.orrery.dev/v1alpha1/namespaces/${ns}/placements`;
const deployments = (ns: string) => `/apis/apps/v1/namespaces/${ns}/deployments`;
const RESTRICTED = { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' };

interface Deployment {
  metadata: { uid: string; generation: number; labels?: Record<string, string> };
  spec: { replicas: number; template: { spec: { containers: { name: string; image: string }[] } } };
}

interface PlacementStatus {
  status?: { unscheduledReplicas?: number; clusters?: { name: string; replicas: number }[]; conditions?: { type: string; status: string; reason: string; message: string }[] };
}

before(
  async () => {
    fleet = await TestFleet.start({ members: 2 });
    hub = fleet.hub.endpoint();
    [m1, m2] = fleet.members.map((m) => m.endpoint()) as [Endpoint, Endpoint];
    await installHubCrds(hub);
    await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fleet' } });
    await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: RESTRICTED } });
    await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: RESTRICTED } });
    for (const [i, m] of fleet.members.entries()) {
      const ep = m.endpoint();
      await installCrd(ep, join(envtestDir(), 'crds', 'multicluster.x-k8s.io_serviceexports.yaml'));
      await createNode(ep, { name: `${m.name}-node`, cpu: '16', memory: '64Gi', pods: 100, region: 'us-east1' });
      // shop exists in every member already, someone else's, without Pod Security labels
      await call(ep, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { owner: 'shop-team' } } });
      await registerMember(hub, m, 'fleet', { name: m.name }, { healthy: true });
      if (i === 1) {
        await createDeviceClass(ep, 'gpu.example.com', 'gpu.example.com');
        await createResourceSlice(ep, `${m.name}-gpus`, { driver: 'gpu.example.com', pool: m.name, nodeName: `${m.name}-node`, devices: ['gpu-0', 'gpu-1'] });
      }
      reapers.push(reapTerminatingPods(ep));
    }
    const client = clientOf(fleet.hub);
    // both members read, the GPUs of member-2 too
    watcher = await watchFleet(
      client,
      { namespace: 'fleet', coalesceMs: 20 },
      (s) => s.clusters.filter((c) => c.reachable !== false && c.allocatable.cpu > 0).length === 2 && (s.byName.get('member-2')?.devices.length ?? 0) > 0,
    );
    controller = new HubControllers(client, watcher, {
      resyncMs: 1000,
      events: new EventRecorder(client, 'tests', () => undefined),
      log: (m) => (process.env.ORRERY_TEST_LOG ? console.log(m) : undefined),
    });
    engine = new ClusterEngine(client, watcher, controller);
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

async function applied(ns: string, name: string): Promise<{ status: string; reason: string; message: string } | undefined> {
  const p = await call<PlacementStatus>(hub, 'GET', `${placements(ns)}/${name}`);
  return p.status?.conditions?.find((c) => c.type === 'Applied');
}

/** A Deployment as someone else would make it: their image, the selector a Placement of that name would have. */
function theirDeployment(name: string, image = 'theirs:1', extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop' },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'theirs', image }] } }, ...extra },
  };
}

async function events(name: string): Promise<{ reason: string; note: string }[]> {
  const list = await call<{ items: { reason: string; note: string; regarding: { name: string } }[] }>(hub, 'GET', '/apis/events.k8s.io/v1/namespaces/shop/events');
  return list.items.filter((e) => e.regarding.name === name);
}

test("someone else's Deployment with the same selector is neither changed nor deleted: the Placement says why, its replicas go to the other member", async () => {
  const before = await call<Deployment>(m1, 'POST', deployments('shop'), theirDeployment('web'));
  await call(hub, 'POST', placements('shop'), placement('web', { namespace: 'shop', replicas: 2, cpu: '1', memory: '1Gi' }));
  const cond = await until('Applied: Conflict', async () => {
    const c = await applied('shop', 'web');
    return c?.reason === 'Conflict' && c.status === 'False' ? c : undefined;
  });
  assert.match(cond.message, /^member-1: Deployment web exists, not made by Orrery \(takeOver: Never\)/);
  const ours = await until('the replicas in member-2', async () => ((await getOrNone<Deployment>(m2, `${deployments('shop')}/web`))?.spec.replicas === 2 ? true : undefined));
  assert.ok(ours);
  assert.deepEqual(controller.decisions().get('shop/web')?.clusters, [{ name: 'member-2', replicas: 2 }]);
  const now = await call<Deployment>(m1, 'GET', `${deployments('shop')}/web`);
  assert.equal(now.metadata.generation, before.metadata.generation, 'not written');
  assert.deepEqual(
    now.spec.template.spec.containers.map((c) => c.image),
    ['theirs:1'],
  );
  assert.equal(now.metadata.labels?.[PLACEMENT_LABEL], undefined);
  assert.equal(now.spec.replicas, 1);
  // told: an Event, the metric's source, and explain
  const said = await until('an ApplyConflict Event', async () => {
    const e = (await events('web')).filter((x) => x.reason === 'ApplyConflict');
    return e.length > 0 ? e : undefined;
  });
  assert.match(said[0]!.note, /^member-1: Deployment web exists/);
  assert.deepEqual(engine.conflicts(), [{ placement: 'shop/web', cluster: 'member-1' }]);
  const why = engine.explain('shop/web')?.clusters.find((c) => c.name === 'member-1');
  assert.equal(why?.eligible, true);
  assert.match(why?.avoided ?? '', /Deployment web exists, not made by Orrery/);
  // it stays that way across re-checks: nothing moves back, nothing is written
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal((await call<Deployment>(m1, 'GET', `${deployments('shop')}/web`)).metadata.generation, before.metadata.generation);
  assert.deepEqual(controller.decisions().get('shop/web')?.clusters, [{ name: 'member-2', replicas: 2 }]);
});

test("deleting the Placement removes only what it made: someone else's Deployment and namespaces stay", async () => {
  await call(hub, 'DELETE', `${placements('shop')}/web`);
  await until('the Placement gone', async () => ((await getOrNone(hub, `${placements('shop')}/web`)) === undefined ? true : undefined));
  await until('its Deployment gone from member-2', async () => ((await getOrNone(m2, `${deployments('shop')}/web`)) === undefined ? true : undefined));
  const theirs = await call<Deployment>(m1, 'GET', `${deployments('shop')}/web`);
  assert.deepEqual(
    theirs.spec.template.spec.containers.map((c) => c.image),
    ['theirs:1'],
  );
  for (const ep of [m1, m2]) {
    const ns = await call<{ metadata: { labels?: Record<string, string> }; status: { phase: string } }>(ep, 'GET', '/api/v1/namespaces/shop');
    assert.equal(ns.status.phase, 'Active');
    assert.equal(ns.metadata.labels?.owner, 'shop-team', 'a namespace Orrery did not make keeps its own labels');
    assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], undefined);
  }
  assert.deepEqual(engine.conflicts(), []);
  await call(m1, 'DELETE', `${deployments('shop')}/web`);
});

test('a Service and a ServiceExport someone else made: neither changed, the placement waits and says where', async () => {
  const svc = await call<{ metadata: { resourceVersion: string }; spec: { ports: { port: number }[] } }>(m1, 'POST', '/api/v1/namespaces/shop/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'api' },
    spec: { selector: { app: 'theirs' }, ports: [{ port: 9090 }] },
  });
  const exp = await call<{ metadata: { resourceVersion: string } }>(m2, 'POST', '/apis/multicluster.x-k8s.io/v1beta1/namespaces/shop/serviceexports', {
    apiVersion: 'multicluster.x-k8s.io/v1beta1',
    kind: 'ServiceExport',
    metadata: { name: 'api', labels: { team: 'theirs' } },
  });
  await call(hub, 'POST', placements('shop'), placement('api', { namespace: 'shop', replicas: 2, service: { ports: [{ port: 80 }], export: true } }));
  const cond = await until('Applied: Conflict in both', async () => {
    const c = await applied('shop', 'api');
    return c?.reason === 'Conflict' && c.message.includes('member-1: ') && c.message.includes('member-2: ') ? c : undefined;
  });
  assert.match(cond.message, /member-1: Service api exists, not made by Orrery/);
  assert.match(cond.message, /member-2: ServiceExport api exists, not made by Orrery/);
  assert.match(cond.message, /no other cluster holds its replicas$/);
  const p = await until('the replicas unscheduled', async () => {
    const x = await call<PlacementStatus>(hub, 'GET', `${placements('shop')}/api`);
    return x.status?.unscheduledReplicas === 2 ? x : undefined;
  });
  assert.deepEqual(p.status?.clusters ?? [], []);
  for (const ep of [m1, m2]) assert.equal(await getOrNone(ep, `${deployments('shop')}/api`), undefined, 'nothing of the placement written');
  assert.equal((await call<{ metadata: { resourceVersion: string } }>(m1, 'GET', '/api/v1/namespaces/shop/services/api')).metadata.resourceVersion, svc.metadata.resourceVersion);
  assert.equal(
    (await call<{ metadata: { resourceVersion: string } }>(m2, 'GET', '/apis/multicluster.x-k8s.io/v1beta1/namespaces/shop/serviceexports/api')).metadata.resourceVersion,
    exp.metadata.resourceVersion,
  );
  // theirs go: the conflicts are looked at again, and the placement runs
  await call(m1, 'DELETE', '/api/v1/namespaces/shop/services/api');
  await call(m2, 'DELETE', '/apis/multicluster.x-k8s.io/v1beta1/namespaces/shop/serviceexports/api');
  await until('placed and applied once the way is clear', async () => {
    const c = await applied('shop', 'api');
    return c?.status === 'True' ? true : undefined;
  });
  const x = await call<PlacementStatus>(hub, 'GET', `${placements('shop')}/api`);
  assert.equal(x.status?.unscheduledReplicas, 0);
  await call(hub, 'DELETE', `${placements('shop')}/api`);
});

test('a ResourceClaimTemplate someone else made is not changed', async () => {
  const rct = await call<{ metadata: { resourceVersion: string } }>(m2, 'POST', '/apis/resource.k8s.io/v1/namespaces/shop/resourceclaimtemplates', {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceClaimTemplate',
    metadata: { name: 'train' },
    spec: { spec: { devices: { requests: [{ name: 'theirs', exactly: { deviceClassName: 'gpu.example.com', count: 2 } }] } } },
  });
  await call(hub, 'POST', placements('shop'), placement('train', { namespace: 'shop', replicas: 1, accelerators: [{ deviceClassName: 'gpu.example.com', count: 1 }] }));
  const cond = await until('Applied: Conflict', async () => {
    const c = await applied('shop', 'train');
    return c?.reason === 'Conflict' ? c : undefined;
  });
  assert.match(cond.message, /^member-2: ResourceClaimTemplate train exists, not made by Orrery/);
  assert.equal(await getOrNone(m2, `${deployments('shop')}/train`), undefined);
  assert.equal(
    (await call<{ metadata: { resourceVersion: string } }>(m2, 'GET', '/apis/resource.k8s.io/v1/namespaces/shop/resourceclaimtemplates/train')).metadata.resourceVersion,
    rct.metadata.resourceVersion,
  );
  await call(hub, 'DELETE', `${placements('shop')}/train`);
  await until('the Placement gone', async () => ((await getOrNone(hub, `${placements('shop')}/train`)) === undefined ? true : undefined));
  assert.ok(await getOrNone(m2, '/apis/resource.k8s.io/v1/namespaces/shop/resourceclaimtemplates/train'), 'still there after the Placement went');
});

test('takeOver: IfNoDiff takes over only an object that already says what Orrery would write; Always takes it over whole', async () => {
  const onM1 = { clusterSelector: { matchLabels: { name: 'member-1' } } };
  // "same": what Orrery would write for it, less Orrery's labels, made by someone else
  const same = placement('same', { namespace: 'shop', replicas: 1, takeOver: 'IfNoDiff', ...onM1 });
  const want = deploymentFor(same, 1) as ReturnType<typeof theirDeployment>;
  const strip = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).filter(([k]) => !k.includes('orrery') && k !== 'app.kubernetes.io/managed-by'));
  const made = await apply<Deployment>(
    m1,
    `${deployments('shop')}/same`,
    {
      ...want,
      metadata: { name: 'same', namespace: 'shop' },
      spec: { ...want.spec, replicas: 3, template: { ...want.spec.template, metadata: { labels: strip(want.spec.template.metadata.labels) } } },
    },
    'someone',
  );
  await call(m1, 'POST', deployments('shop'), theirDeployment('differs', 'theirs:2'));
  await call(m1, 'POST', deployments('shop'), theirDeployment('whole', 'theirs:3', { minReadySeconds: 5 }));
  await call(hub, 'POST', placements('shop'), same);
  await call(hub, 'POST', placements('shop'), placement('differs', { namespace: 'shop', replicas: 1, takeOver: 'IfNoDiff', ...onM1 }));
  await call(hub, 'POST', placements('shop'), placement('whole', { namespace: 'shop', replicas: 2, takeOver: 'Always', ...onM1 }));

  const taken = await until('same taken over', async () => {
    const d = await call<Deployment>(m1, 'GET', `${deployments('shop')}/same`);
    return d.metadata.labels?.[PLACEMENT_LABEL] === 'shop.same' && d.spec.replicas === 1 ? d : undefined;
  });
  assert.equal(taken.metadata.uid, made.metadata.uid, 'the same object');
  const differs = await until('differs: Conflict', async () => {
    const c = await applied('shop', 'differs');
    return c?.reason === 'Conflict' ? c : undefined;
  });
  assert.match(differs.message, /differs from what the placement would write at spec\.template\.spec\.containers\[0\]\.image \(takeOver: IfNoDiff\)/);
  assert.deepEqual(
    (await call<Deployment>(m1, 'GET', `${deployments('shop')}/differs`)).spec.template.spec.containers.map((c) => c.image),
    ['theirs:2'],
  );
  const whole = await until('whole taken over', async () => {
    const d = await call<Deployment & { spec: { minReadySeconds?: number } }>(m1, 'GET', `${deployments('shop')}/whole`);
    return d.metadata.labels?.[PLACEMENT_LABEL] === 'shop.whole' ? d : undefined;
  });
  assert.deepEqual(
    whole.spec.template.spec.containers.map((c) => [c.name, c.image]),
    [['main', 'example']],
    "Orrery's container alone: theirs is not merged in",
  );
  assert.equal(whole.spec.minReadySeconds, undefined, 'what only they set is gone');
  assert.equal(whole.spec.replicas, 2);
  // No claim of theirs is left on the object: a write cut short (a status update raced it) is
  // followed by one that ends the same.
  await until('Orrery the only manager of the object', async () => {
    const managers = (await call<{ metadata: { managedFields: { manager: string; subresource?: string }[] } }>(m1, 'GET', `${deployments('shop')}/whole`)).metadata.managedFields;
    return JSON.stringify(managers.filter((f) => f.subresource === undefined).map((f) => f.manager)) === '["orrery"]' ? true : undefined;
  });
  // taken over, they are Orrery's: they go with their Placements; differs stays
  for (const name of ['same', 'differs', 'whole']) await call(hub, 'DELETE', `${placements('shop')}/${name}`);
  await until('taken-over Deployments removed with their Placements', async () =>
    (await getOrNone(m1, `${deployments('shop')}/same`)) === undefined && (await getOrNone(m1, `${deployments('shop')}/whole`)) === undefined ? true : undefined,
  );
  assert.ok(await getOrNone(m1, `${deployments('shop')}/differs`));
});

test("a namespace Orrery creates carries the hub namespace's Pod Security labels, kept in step, and the member enforces them", async () => {
  await call(hub, 'POST', placements('team-a'), placement('web', { namespace: 'team-a', replicas: 2, spread: { minClusters: 2 } }));
  for (const ep of [m1, m2]) {
    const ns = await until('team-a in the member', () => getOrNone<{ metadata: { labels: Record<string, string> } }>(ep, '/api/v1/namespaces/team-a'));
    assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
    assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce-version'], 'latest');
  }
  // A Pod that runs as root by default: "restricted" refuses it, "baseline" lets it be; a hostPath volume neither.
  const plain = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'plain' }, spec: { containers: [{ name: 'c', image: 'x' }] } };
  const hostPath = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'host' }, spec: { containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'h', hostPath: { path: '/' } }] } };
  const refused = (level: string) => (e: unknown) => e instanceof KubeError && e.status === 403 && e.message.includes(`violates PodSecurity "${level}`);
  await assert.rejects(call(m1, 'POST', '/api/v1/namespaces/team-a/pods', plain), refused('restricted:latest'));
  // the hub's namespace relaxes to baseline: the members follow
  await mergePatch(hub, '/api/v1/namespaces/team-a', { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/enforce-version': null } } });
  for (const ep of [m1, m2]) {
    await until('baseline in the member', async () => {
      const ns = await call<{ metadata: { labels: Record<string, string> } }>(ep, 'GET', '/api/v1/namespaces/team-a');
      return ns.metadata.labels['pod-security.kubernetes.io/enforce'] === 'baseline' && ns.metadata.labels['pod-security.kubernetes.io/enforce-version'] === undefined ? true : undefined;
    });
  }
  await call(m2, 'POST', '/api/v1/namespaces/team-a/pods', plain);
  await assert.rejects(call(m2, 'POST', '/api/v1/namespaces/team-a/pods', hostPath), refused('baseline'));
  await call(m2, 'DELETE', '/api/v1/namespaces/team-a/pods/plain?gracePeriodSeconds=0');
  await call(hub, 'DELETE', `${placements('team-a')}/web`);
  await until('its Deployments gone', async () =>
    (await getOrNone(m1, `${deployments('team-a')}/web`)) === undefined && (await getOrNone(m2, `${deployments('team-a')}/web`)) === undefined ? true : undefined,
  );
  assert.ok(await getOrNone(m1, '/api/v1/namespaces/team-a'), 'Orrery never deletes a namespace');
});

test('an object Orrery made, then deleted and made again by someone else, is not overwritten: the write carries the uid it knew', async () => {
  const member = clientOf(fleet.member('member-1'));
  const deployer = new Deployer();
  const p = { ...placement('reborn', { namespace: 'shop', replicas: 1 }), metadata: { name: 'reborn', namespace: 'shop', uid: 'u-reborn', generation: 1 } };
  const first = await deployer.apply('member-1', member, p, 1);
  assert.ok(first.ok);
  await call(m1, 'DELETE', `${deployments('shop')}/reborn`);
  await eventually('gone', async () => ((await getOrNone(m1, `${deployments('shop')}/reborn`)) === undefined ? true : undefined));
  const theirs = await call<Deployment>(m1, 'POST', deployments('shop'), theirDeployment('reborn', 'theirs:9'));
  // the deployer still takes it for the one it made: the API server refuses the write, the uid being another
  await assert.rejects(deployer.apply('member-1', member, p, 2), (e: unknown) => e instanceof ApiError && (e.status === 422 || e.status === 409));
  // and looked at again, it is someone else's: a conflict, nothing written
  const again = await deployer.apply('member-1', member, p, 2);
  assert.equal(again.ok, false);
  assert.match(again.ok ? '' : (again.conflicts[0]?.message ?? ''), /Deployment reborn exists, not made by Orrery/);
  const now = await call<Deployment>(m1, 'GET', `${deployments('shop')}/reborn`);
  assert.equal(now.metadata.uid, theirs.metadata.uid);
  assert.equal(now.metadata.generation, theirs.metadata.generation, 'not written');
  assert.deepEqual(
    now.spec.template.spec.containers.map((c) => c.image),
    ['theirs:9'],
  );
  await call(m1, 'DELETE', `${deployments('shop')}/reborn`);
});
