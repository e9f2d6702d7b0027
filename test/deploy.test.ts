// The manifests in deploy/ on a fresh hub of the test fleet, applied for real as the README
// says: every object is there, the Pods it makes pass the kubelet's non-root check, the
// optional parts apply on top, and the ServiceAccount may do exactly what Orrery does.

import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { load, loadAll } from 'js-yaml';
import { TestFleet } from './env/fleet.js';
import { call, eventually } from './env/kube.js';
import { withComponent } from './overlay.js';

const root = join(import.meta.dirname, '..', '..');
let fleet: TestFleet;

before(
  async () => {
    fleet = await TestFleet.start({ members: 0 });
  },
  { timeout: 900_000 },
);

after(async () => {
  await fleet?.stop();
});

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
}

function rendered(dir: string): Manifest[] {
  const r = fleet.hub.kubectl(['kustomize', dir]);
  assert.equal(r.code, 0, r.stderr);
  return loadAll(r.stdout) as Manifest[];
}

test('kubectl apply --server-side -k deploy/ brings up every object on a fresh hub', async () => {
  const r = fleet.hub.kubectl(['apply', '--server-side', '-k', join(root, 'deploy')]);
  assert.equal(r.code, 0, r.stderr);
  const objects = rendered(join(root, 'deploy'));
  assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
    'ClusterRole/orrery',
    'ClusterRole/orrery-metrics-reader',
    'ClusterRoleBinding/orrery',
    'CustomResourceDefinition/clusterdecisions.placement.orrery.dev',
    'CustomResourceDefinition/clusterreports.placement.orrery.dev',
    'CustomResourceDefinition/placements.placement.orrery.dev',
    'Deployment/orrery',
    'Namespace/orrery-system',
    'PodDisruptionBudget/orrery',
    'Role/orrery-leader-election',
    'RoleBinding/orrery-leader-election',
    'Service/orrery',
    'ServiceAccount/orrery',
  ]);
  for (const o of objects) {
    const got = fleet.hub.kubectl(['get', o.kind, o.metadata.name, ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : []), '-o', 'name']);
    assert.equal(got.code, 0, `${o.kind} ${o.metadata.name}: ${got.stderr}`);
  }
  const image = fleet.hub.kubectl(['get', 'deployment', 'orrery', '-n', 'orrery-system', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(image.stdout, `ghcr.io/orrery-dev/orrery:${version}`, 'the image is set by the kustomization, as a release names it');
});

/**
 * The kubelet's rule for runAsNonRoot: the user the container runs as (container context, else
 * Pod context, else the image's USER) must be known to be non-zero, so a named image user
 * without a numeric runAsUser is refused.
 */
function nonRootProblem(pod: { spec: { securityContext?: Ctx; containers: { name: string; securityContext?: Ctx }[] } }, imageUser: string): string | undefined {
  for (const c of pod.spec.containers) {
    const nonRoot = c.securityContext?.runAsNonRoot ?? pod.spec.securityContext?.runAsNonRoot;
    if (nonRoot !== true) continue;
    const uid = c.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser;
    if (uid !== undefined) {
      if (uid === 0) return `${c.name}: runAsUser 0 with runAsNonRoot`;
      continue;
    }
    const user = imageUser.split(':')[0] ?? '';
    if (!/^\d+$/.test(user)) return `${c.name}: image has non-numeric user (${user}), cannot verify user is non-root`;
    if (Number(user) === 0) return `${c.name}: image runs as root`;
  }
  return undefined;
}
interface Ctx {
  runAsNonRoot?: boolean;
  runAsUser?: number;
}

test('the Pods deploy/ makes pass the kubelet non-root check, and so does the image alone', async () => {
  const dockerUser = /^USER\s+(\S+)/m.exec(readFileSync(join(root, 'deploy', 'Dockerfile'), 'utf8'))?.[1] ?? '';
  assert.match(dockerUser, /^[1-9]\d*(:\d+)?$/, 'the Dockerfile names a numeric, non-root user');
  // the hub's controller manager makes the Pods; nothing runs them, but their spec is final
  const pods = await eventually('orrery Pods', async () => {
    const list = await call<{ items: { spec: { securityContext?: Ctx; containers: { name: string; securityContext?: Ctx }[] } }[] }>(
      fleet.hub.endpoint(),
      'GET',
      '/api/v1/namespaces/orrery-system/pods?labelSelector=app.kubernetes.io%2Fname%3Dorrery',
    );
    return list.items.length === 2 ? list.items : undefined;
  });
  for (const pod of pods) assert.equal(nonRootProblem(pod, dockerUser), undefined);
  // the check itself refuses what the kubelet refused before
  const named = { spec: { securityContext: { runAsNonRoot: true }, containers: [{ name: 'orrery' }] } };
  assert.match(nonRootProblem(named, 'node') ?? '', /non-numeric user/);
});

test('the optional kubeconfig-Secret component applies on top, for the profiles namespace', async () => {
  await call(fleet.hub.endpoint(), 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fleet' } });
  const dir = withComponent('profile-secrets');
  try {
    const r = fleet.hub.kubectl(['apply', '--server-side', '-k', dir]);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(can('get', 'secrets', 'fleet'), 'yes');
});

interface Container {
  env: { name: string; value?: string }[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
}

test('the optional large-fleet component gives the Deployment its heap and memory, and changes nothing else', () => {
  const dir = withComponent('large-fleet');
  try {
    const container = (objects: Manifest[]) => {
      const d = objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: Container[] } } } };
      return d.spec.template.spec.containers[0] as Container;
    };
    const plain = rendered(join(root, 'deploy'));
    const large = rendered(dir);
    const patch = container([load(readFileSync(join(root, 'deploy', 'components', 'large-fleet', 'deployment.yaml'), 'utf8')) as Manifest]);
    const options = (x: Container) => x.env.find((e) => e.name === 'NODE_OPTIONS')?.value;
    const c = container(large);
    const p = container(plain);
    assert.match(options(c) ?? '', /--max-semi-space-size=64/);
    assert.equal(options(c), options(patch));
    assert.notEqual(options(c), options(p));
    // the patch's memory over deploy/'s CPU request
    assert.deepEqual(c.resources, { requests: { ...p.resources.requests, ...patch.resources.requests }, limits: patch.resources.limits });
    // everything else as deploy/ has it
    p.env = p.env.map((e) => (e.name === 'NODE_OPTIONS' ? { ...e, value: options(c) } : e));
    p.resources = c.resources;
    assert.deepEqual(large, plain);
    const r = fleet.hub.kubectl(['apply', '--server-side', '--dry-run=server', '-k', dir]);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the optional Cluster Inventory CRDs install with kustomize too', () => {
  const r = fleet.hub.kubectl(['apply', '--server-side', '-k', join(root, 'deploy', 'cluster-inventory')]);
  assert.equal(r.code, 0, r.stderr);
  const served = fleet.hub.kubectl(['get', 'crd', 'clusterprofiles.multicluster.x-k8s.io', '-o', 'jsonpath={.spec.versions[*].name}']);
  assert.equal(served.stdout, 'v1alpha1 v1alpha2');
});

test('deploy/argocd/ applies in the Argo CD namespace: the generator ConfigMap, and the rights for Orrery and for the ApplicationSet controller there only', () => {
  fleet.hub.kubectl(['create', 'namespace', 'argocd']);
  const r = fleet.hub.kubectl(['apply', '--server-side', '-k', join(root, 'deploy', 'argocd')]);
  assert.equal(r.code, 0, r.stderr);
  const cm = fleet.hub.kubectl(['get', 'configmap', 'orrery-clusterdecisions', '-n', 'argocd', '-o', 'jsonpath={.data.kind}/{.data.statusListKey}/{.data.matchKey}']);
  assert.equal(cm.stdout, 'clusterdecisions/clusters/name');
  for (const verb of ['create', 'patch', 'delete']) assert.equal(can(verb, 'clusterdecisions.placement.orrery.dev', 'argocd'), 'yes');
  assert.equal(can('create', 'secrets', 'argocd'), 'yes');
  assert.equal(can('create', 'clusterdecisions.placement.orrery.dev', 'default'), 'no');
  const appset = 'system:serviceaccount:argocd:argocd-applicationset-controller';
  const as = (verb: string, ns: string) => fleet.hub.kubectl(['auth', 'can-i', verb, 'clusterdecisions.placement.orrery.dev', `--as=${appset}`, '-n', ns]).stdout.trim();
  assert.equal(as('list', 'argocd'), 'yes');
  assert.equal(as('patch', 'argocd'), 'no');
  // the example ApplicationSet names the ConfigMap shipped beside it
  const example = loadAll(readFileSync(join(root, 'deploy', 'argocd', 'applicationset.yaml'), 'utf8')) as { spec: { generators: { clusterDecisionResource: { configMapRef: string } }[] } }[];
  assert.equal(example[0]?.spec.generators[0]?.clusterDecisionResource.configMapRef, 'orrery-clusterdecisions');
});

const sa = 'system:serviceaccount:orrery-system:orrery';
function can(verb: string, resource: string, ns?: string): string {
  const [what, sub] = resource.split('/');
  return fleet.hub.kubectl(['auth', 'can-i', verb, what!, ...(sub ? [`--subresource=${sub}`] : []), `--as=${sa}`, ...(ns ? ['-n', ns] : ['--all-namespaces'])]).stdout.trim();
}

test('the ServiceAccount may do what Orrery does', () => {
  for (const [verb, resource, ns] of [
    ['watch', 'placements.placement.orrery.dev'],
    ['patch', 'placements.placement.orrery.dev/status'],
    ['update', 'placements.placement.orrery.dev/scale'],
    ['list', 'clusterprofiles.multicluster.x-k8s.io'],
    ['watch', 'clusterreports.placement.orrery.dev'],
    ['watch', 'namespaces'],
    ['create', 'placementdecisions.multicluster.x-k8s.io'],
    ['delete', 'placementdecisions.multicluster.x-k8s.io'],
    ['create', 'events.events.k8s.io'],
    ['create', 'tokenreviews.authentication.k8s.io'],
    ['create', 'subjectaccessreviews.authorization.k8s.io'],
    ['update', 'leases.coordination.k8s.io', 'orrery-system'],
  ] as const) {
    assert.equal(can(verb, resource, ns), 'yes', `${verb} ${resource}${ns ? ` in ${ns}` : ''}`);
  }
});

test('and nothing more', () => {
  for (const [verb, resource, ns] of [
    ['delete', 'placements.placement.orrery.dev'],
    ['create', 'placements.placement.orrery.dev'],
    ['update', 'clusterprofiles.multicluster.x-k8s.io'],
    ['patch', 'clusterreports.placement.orrery.dev', 'fleet'],
    ['get', 'secrets', 'default'],
    ['list', 'secrets', 'fleet'],
    ['delete', 'events.events.k8s.io', 'default'],
    ['update', 'leases.coordination.k8s.io', 'kube-system'],
    ['create', 'deployments.apps', 'default'],
    ['patch', 'namespaces'],
  ] as const) {
    assert.equal(can(verb, resource, ns), 'no', `${verb} ${resource}${ns ? ` in ${ns}` : ''}`);
  }
});
