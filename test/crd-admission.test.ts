// The Placement CRD on a real API server: malformed Placements are refused at admission with
// a message that says what is wrong; valid ones are accepted; the scale subresource works
// with kubectl scale.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { load } from 'js-yaml';
import { MEMBER_REFUSALS, placement } from './fixtures.js';
import { TestFleet } from './env/fleet.js';
import { KubeError, call, eventually } from './env/kube.js';

const root = join(import.meta.dirname, '..', '..');
let fleet: TestFleet;

before(
  async () => {
    fleet = await TestFleet.start({ members: 0 });
    const crd = load(readFileSync(join(root, 'crds', 'placement.orrery.dev_placements.yaml'), 'utf8'));
    const hub = fleet.hub.endpoint();
    await call(hub, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    await eventually('the Placement CRD to be established', async () => {
      const got = await call<{ status?: { conditions?: { type: string; status: string }[] } }>(hub, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/placements.placement.orrery.dev');
      return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });
    await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    // A new CRD takes a moment to be served for writes.
    await eventually('placements to be served', () => call(hub, 'GET', '/apis/placement.orrery.dev/v1alpha1/namespaces/team/placements'));
  },
  { timeout: 900_000 },
);

after(async () => {
  await fleet?.stop();
});

const path = '/apis/placement.orrery.dev/v1alpha1/namespaces/team/placements';

async function create(p: unknown): Promise<{ ok: true } | { ok: false; status: number; message: string }> {
  try {
    await call(fleet.hub.endpoint(), 'POST', path, p);
    return { ok: true };
  } catch (e) {
    if (e instanceof KubeError) return { ok: false, status: e.status, message: String(e.body.message ?? '') };
    throw e;
  }
}

function withSpec(name: string, spec: Record<string, unknown>) {
  const p = placement(name, { namespace: 'team' });
  return { ...p, spec: { ...p.spec, ...spec } };
}

test('a valid Placement is accepted, with defaults filled in', async () => {
  const r = await create(
    withSpec('valid', {
      replicas: 3,
      accelerators: [
        { deviceClassName: 'gpu.nvidia.com', count: 2, selectors: ['device.attributes["gpu.nvidia.com"].productName == "H100"'] },
        { resourceName: 'nvidia.com/gpu', count: 1 },
      ],
      spread: { minClusters: 1, maxClusters: 3, maxSkew: 1, topologyKey: 'zone' },
    }),
  );
  assert.deepEqual(r, { ok: true });
  const got = await call<{ spec: { strategy: string; priority: number; preemptionPolicy: string } }>(fleet.hub.endpoint(), 'GET', `${path}/valid`);
  assert.equal(got.spec.strategy, 'Spread');
  assert.equal(got.spec.priority, 0);
  assert.equal(got.spec.preemptionPolicy, 'PreemptLowerPriority');
  assert.deepEqual(await create(withSpec('budgets', { disruption: { maxUnavailable: '25%' } })), { ok: true });
  assert.deepEqual(await create(withSpec('counted', { disruption: { maxUnavailable: 2 } })), { ok: true });
});

const template = placement('x').spec.template;
const cases: [string, Record<string, unknown>, RegExp][] = [
  ['negative replicas', { replicas: -1 }, /spec\.replicas: Invalid value: -1: spec\.replicas in body should be greater than or equal to 0/],
  ['replicas not a number', { replicas: 'three' }, /spec\.replicas: Invalid value: "string": spec\.replicas in body must be of type integer/],
  ['unknown strategy', { strategy: 'Scatter' }, /spec\.strategy: Unsupported value: "Scatter": supported values: "Spread", "Pack"/],
  [
    'device count zero',
    { accelerators: [{ deviceClassName: 'gpu.nvidia.com', count: 0 }] },
    /spec\.accelerators\[0\]\.count: Invalid value: 0: spec\.accelerators\[0\]\.count in body should be greater than or equal to 1/,
  ],
  ['device class not a name', { accelerators: [{ deviceClassName: 'GPU!', count: 1 }] }, /spec\.accelerators\[0\]\.deviceClassName: Invalid value: "GPU!"/],
  ['class and resource both', { accelerators: [{ deviceClassName: 'gpu.nvidia.com', resourceName: 'nvidia.com/gpu', count: 1 }] }, /give exactly one of deviceClassName \(DRA\) or resourceName/],
  ['a resource name without a domain', { accelerators: [{ resourceName: 'gpu', count: 1 }] }, /spec\.accelerators\[0\]\.resourceName: Invalid value: "gpu"/],
  ['selectors on an extended resource', { accelerators: [{ resourceName: 'nvidia.com/gpu', count: 1, selectors: ['true'] }] }, /selectors narrow DRA devices; they need deviceClassName/],
  [
    'a class requested twice',
    {
      accelerators: [
        { deviceClassName: 'gpu.nvidia.com', count: 1 },
        { deviceClassName: 'gpu.nvidia.com', count: 2 },
      ],
    },
    /each device class and each extended resource may be requested once/,
  ],
  ['maxClusters below minClusters', { spread: { minClusters: 3, maxClusters: 2 } }, /spec\.spread\.maxClusters: Invalid value: "object": spread\.maxClusters must be at least spread\.minClusters/],
  ['maxSkew zero', { spread: { maxSkew: 0 } }, /spec\.spread\.maxSkew: Invalid value: 0: spec\.spread\.maxSkew in body should be greater than or equal to 1/],
  [
    'bad selector operator',
    { clusterSelector: { matchExpressions: [{ key: 'env', operator: 'Like', values: ['x'] }] } },
    /spec\.clusterSelector\.matchExpressions\[0\]\.operator: Unsupported value: "Like"/,
  ],
  ['In without values', { clusterSelector: { matchExpressions: [{ key: 'env', operator: 'In' }] } }, /values must be given for In and NotIn, and only for them/],
  ['Exists with values', { clusterSelector: { matchExpressions: [{ key: 'env', operator: 'Exists', values: ['x'] }] } }, /values must be given for In and NotIn, and only for them/],
  [
    'weight out of range',
    { locality: { preferred: [{ region: 'eu', weight: 101 }] } },
    /spec\.locality\.preferred\[0\]\.weight: Invalid value: 101: spec\.locality\.preferred\[0\]\.weight in body should be less than or equal to 100/,
  ],
  ['priority out of range', { priority: 5000 }, /spec\.priority: Invalid value: 5000: spec\.priority in body should be less than or equal to 1000/],
  ['toleration Exists with a value', { tolerations: [{ key: 'spot', operator: 'Exists', value: 'yes' }] }, /value must be empty when operator is Exists/],
  ['toleration effect unknown', { tolerations: [{ key: 'spot', effect: 'Sometimes' }] }, /spec\.tolerations\[0\]\.effect: Unsupported value: "Sometimes"/],
  ['replicas inside the template', { template: { spec: { ...template.spec, replicas: 3 } } }, /must not set replicas: spec\.replicas of the Placement decides/],
  [
    'no containers',
    { template: { spec: { ...template.spec, template: { spec: { containers: [] } } } } },
    /spec\.template\.spec\.template\.spec\.containers: Invalid value: 0: spec\.template\.spec\.template\.spec\.containers in body should have at least 1 items/,
  ],
  [
    'request not a quantity',
    { template: { spec: { ...template.spec, template: { spec: { containers: [{ name: 'c', resources: { requests: { cpu: 'lots' } } }] } } } } },
    /spec\.template\.spec\.template\.spec\.containers\[0\]\.resources\.requests\.cpu: Invalid value: "lots": spec\.template\.spec\.template\.spec\.containers\[0\]\.resources\.requests\.cpu in body should match/,
  ],
  ['service port out of range', { service: { ports: [{ port: 70000 }] } }, /spec\.service\.ports\[0\]\.port: Invalid value: 70000/],
  [
    'a container without an image',
    { template: { spec: { ...template.spec, template: { spec: { containers: [{ name: 'c' }] } } } } },
    /spec\.template\.spec\.template\.spec\.containers\[0\]\.image: Required value/,
  ],
  ['missing template', { template: undefined }, /spec\.template: Required value/],
  ...MEMBER_REFUSALS.map(([name, spec, admission]) => [name, spec, admission] as [string, Record<string, unknown>, RegExp]),
  ['unknown preemption policy', { preemptionPolicy: 'Sometimes' }, /spec\.preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"/],
  ['a budget over a hundred percent', { disruption: { maxUnavailable: '150%' } }, /spec\.disruption\.maxUnavailable: Invalid value: "": must be a count of at least 0 or a percent from 0% to 100%/],
  ['a negative budget', { disruption: { maxUnavailable: -1 } }, /spec\.disruption\.maxUnavailable: Invalid value: "": must be a count of at least 0 or a percent from 0% to 100%/],
];

for (const [name, spec, message] of cases) {
  test(`refused at admission: ${name}`, async () => {
    const r = await create(withSpec(`bad-${name.replace(/[^a-z0-9]+/g, '-')}`, spec));
    assert.equal(r.ok, false, `${name} was accepted`);
    if (r.ok) return;
    assert.equal(r.status, 422);
    assert.match(r.message, message);
  });
}

test('a placement with a service and a dotted name is refused at admission, as a Service of that name would be in every member', async () => {
  const r = await create(withSpec('web.v2', { service: { ports: [{ port: 80 }] } }));
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.message, /its name must be a DNS-1035 label/);
  assert.deepEqual(await create(withSpec('web.v3', {})), { ok: true }, 'without a service, a dotted name is fine');
});

test('kubectl scale writes spec.replicas through the scale subresource', async () => {
  assert.deepEqual(await create(withSpec('scaled', { replicas: 2 })), { ok: true });
  const scale = fleet.hub.kubectl(['-n', 'team', 'scale', 'placement/scaled', '--replicas=7']);
  assert.equal(scale.code, 0, scale.stderr);
  const got = await call<{ spec: { replicas: number } }>(fleet.hub.endpoint(), 'GET', `${path}/scaled`);
  assert.equal(got.spec.replicas, 7);
  const read = await call<{ kind: string; spec: { replicas: number } }>(fleet.hub.endpoint(), 'GET', `${path}/scaled/scale`);
  assert.deepEqual([read.kind, read.spec.replicas], ['Scale', 7]);
  const refused = fleet.hub.kubectl(['-n', 'team', 'scale', 'placement/scaled', '--replicas=-1']);
  assert.notEqual(refused.code, 0);
});

test('kubectl get shows the printer columns', () => {
  const r = fleet.hub.kubectl(['-n', 'team', 'get', 'plc']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^NAME\s+REPLICAS\s+READY\s+UNSCHEDULED\s+SCHEDULED\s+AGE/);
  assert.match(r.stdout, /\nscaled\s+7\s/);
});
