import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placement } from '../../test/fixtures.js';
import { checkPlacement } from './validation.js';
import { type Issue, formatPath } from './result.js';

const issuesOf = (v: unknown): readonly Issue[] => {
  const r = checkPlacement(v);
  return r.ok ? [] : r.error;
};

const messages = (v: unknown) => issuesOf(v).map((i) => `${formatPath(i.path)}: ${i.message}`);
const base = placement('web') as unknown as Record<string, unknown> & { spec: Record<string, unknown> };
const withSpec = (spec: Record<string, unknown>) => ({ ...base, spec: { ...base.spec, ...spec } });

test('a valid placement passes and gets the default namespace', () => {
  const { metadata, ...rest } = base as unknown as { metadata: { name: string } };
  const r = checkPlacement({ ...rest, metadata: { name: metadata.name } });
  assert.ok(r.ok);
  assert.equal(r.value.metadata.namespace, 'default');
});

const cases: [string, Record<string, unknown>, string | RegExp][] = [
  ['negative replicas', { replicas: -1 }, 'spec.replicas: must be between 0 and 100000, got -1'],
  ['fractional replicas', { replicas: 1.5 }, 'spec.replicas: expected an integer, got number 1.5'],
  ['unknown strategy', { strategy: 'Scatter' }, 'spec.strategy: expected one of Spread, Pack, got "Scatter"'],
  ['unknown preemption policy', { preemptionPolicy: 'Sometimes' }, 'spec.preemptionPolicy: expected one of PreemptLowerPriority, Never, got "Sometimes"'],
  ['a budget over a hundred percent', { disruption: { maxUnavailable: '150%' } }, 'spec.disruption.maxUnavailable: must be a count or a percent from 0% to 100%, got "150%"'],
  ['an unknown budget field', { disruption: { minAvailable: 1 } }, /spec\.disruption\.minAvailable/],
  ['unknown delivery', { delivery: 'Flux' }, 'spec.delivery: expected one of Orrery, External, got "Flux"'],
  ['device count zero', { accelerators: [{ deviceClassName: 'gpu.nvidia.com', count: 0 }] }, 'spec.accelerators[0].count: must be between 1 and 1024, got 0'],
  [
    'device class twice',
    {
      accelerators: [
        { deviceClassName: 'gpu', count: 1 },
        { deviceClassName: 'gpu', count: 1 },
      ],
    },
    'spec.accelerators[1]: gpu is requested twice',
  ],
  [
    'class and resource both',
    { accelerators: [{ deviceClassName: 'gpu', resourceName: 'nvidia.com/gpu', count: 1 }] },
    "spec.accelerators[0]: give exactly one of deviceClassName (DRA) or resourceName (a device plugin's extended resource)",
  ],
  ['neither class nor resource', { accelerators: [{ count: 1 }] }, "spec.accelerators[0]: give exactly one of deviceClassName (DRA) or resourceName (a device plugin's extended resource)"],
  ['resource name without a domain', { accelerators: [{ resourceName: 'gpu', count: 1 }] }, 'spec.accelerators[0].resourceName: "gpu" is not an extended resource name such as nvidia.com/gpu'],
  [
    'selectors on an extended resource',
    { accelerators: [{ resourceName: 'nvidia.com/gpu', count: 1, selectors: ['true'] }] },
    'spec.accelerators[0].selectors: selectors narrow DRA devices: they need deviceClassName',
  ],
  [
    'a selector that is not CEL',
    { accelerators: [{ deviceClassName: 'gpu', count: 1, selectors: ['device.driver =='] }] },
    /^spec\.accelerators\[0\]\.selectors\[0\]: not a valid CEL expression: .*expecting/,
  ],
  [
    'bad selector operator',
    { clusterSelector: { matchExpressions: [{ key: 'a', operator: 'Like', values: ['x'] }] } },
    'spec.clusterSelector.matchExpressions[0].operator: expected one of In, NotIn, Exists, DoesNotExist, got "Like"',
  ],
  ['In without values', { clusterSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }, 'spec.clusterSelector.matchExpressions[0].values: must not be empty for operator In'],
  [
    'Exists with values',
    { clusterSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } },
    'spec.clusterSelector.matchExpressions[0].values: must be empty for operator Exists',
  ],
  ['weight out of range', { locality: { preferred: [{ region: 'eu', weight: 101 }] } }, 'spec.locality.preferred[0].weight: must be between 1 and 100, got 101'],
  ['maxClusters below minClusters', { spread: { minClusters: 3, maxClusters: 2 } }, 'spec.spread.maxClusters: must be at least minClusters (3), got 2'],
  ['maxSkew zero', { spread: { maxSkew: 0 } }, 'spec.spread.maxSkew: must be at least 1, got 0'],
  ['toleration Exists with value', { tolerations: [{ key: 'a', operator: 'Exists', value: 'x' }] }, 'spec.tolerations[0].value: must be empty when operator is Exists'],
  ['priority too high', { priority: 5000 }, 'spec.priority: must be between 0 and 1000, got 5000'],
  ['gang not boolean', { gang: 'yes' }, 'spec.gang: expected true or false, got "yes"'],
  ['service port out of range', { service: { ports: [{ port: 70000 }] } }, 'spec.service.ports[0].port: must be between 1 and 65535, got 70000'],
  ['unknown spec field', { replica: 3 }, 'spec.replica: unknown field'],
  [
    'a container without an image',
    { template: { spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web' }] } } } } },
    'spec.template.spec.template.spec.containers[0].image: required',
  ],
];

for (const [name, spec, message] of cases) {
  test(`refused: ${name}`, () => {
    const found = messages(withSpec(spec));
    assert.ok(
      found.some((m) => (typeof message === 'string' ? m.startsWith(message) : message.test(m))),
      `expected "${message}" in ${JSON.stringify(found)}`,
    );
  });
}

test('accelerators: a DRA class with CEL selectors, or a device plugin resource, pass', () => {
  const r = checkPlacement(
    withSpec({
      accelerators: [
        { deviceClassName: 'gpu.nvidia.com', count: 2, selectors: ['device.attributes["gpu.nvidia.com"].productName == "H100"'] },
        { resourceName: 'nvidia.com/gpu', count: 1 },
      ],
    }),
  );
  assert.deepEqual(r.ok ? [] : r.error, []);
});

test('replicas inside the template are refused', () => {
  const p = placement('web');
  const bad = { ...p, spec: { ...p.spec, template: { spec: { ...p.spec.template.spec, replicas: 3 } } } };
  assert.deepEqual(messages(bad), ['spec.template.spec.replicas: must not be set: spec.replicas of the Placement decides']);
});

test('a template without containers is refused', () => {
  const p = placement('web');
  const bad = { ...p, spec: { ...p.spec, template: { spec: { template: { spec: { containers: [] } } } } } };
  assert.deepEqual(messages(bad), ['spec.template.spec.template.spec.containers: must have at least one container']);
});

test('wrong kind and apiVersion', () => {
  const found = messages({ ...base, apiVersion: 'apps/v1', kind: 'Deployment' });
  assert.deepEqual(found.slice(0, 2), ['apiVersion: expected placement.orrery.dev/v1alpha1, got "apps/v1"', 'kind: expected Placement, got "Deployment"']);
});

test('an issue has a code from the closed set and a structured path', () => {
  const [issue] = issuesOf(withSpec({ accelerators: [{ deviceClassName: 'gpu', count: 'two' }] }));
  assert.deepEqual(issue, { code: 'FieldValueTypeInvalid', path: ['spec', 'accelerators', 0, 'count'], message: 'expected an integer, got "two"' });
  const [unknown] = issuesOf(withSpec({ replica: 3 }));
  assert.equal(unknown?.code, 'FieldValueNotSupported');
  assert.deepEqual(unknown?.path, ['spec', 'replica']);
  const [label] = issuesOf(withSpec({ clusterSelector: { matchLabels: { 'topology.kubernetes.io/region': 5 } } }));
  assert.deepEqual(label?.path, ['spec', 'clusterSelector', 'matchLabels', 'topology.kubernetes.io/region'], 'a key with dots and a slash is one key');
  assert.equal(formatPath(label!.path), 'spec.clusterSelector.matchLabels["topology.kubernetes.io/region"]');
});

test('a placement with a service needs a name a Service may have: no dots', () => {
  const dotted = { ...base, metadata: { name: 'web.v2' }, spec: { ...base.spec, service: { ports: [{ port: 80 }] } } };
  assert.ok(messages(dotted).some((m) => m.startsWith('metadata.name: a Placement with spec.service names a Service in every member')));
  assert.deepEqual(messages({ ...dotted, spec: base.spec }), [], 'without a service, a dotted name is fine');
});
