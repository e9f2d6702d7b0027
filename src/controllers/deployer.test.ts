import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placement } from '../../test/fixtures.js';

import { DEVICE_CLAIM, claimTemplateFor, deploymentFor, placementLabel, serviceFor } from './deployer.js';
import { MANAGED_BY, PLACEMENT_LABEL } from '../names.js';

test('a Deployment from the template, with the cluster replicas and the labels that tie it to its Placement', () => {
  const p = placement('web', { namespace: 'shop', replicas: 9 });
  const d = deploymentFor(p, 3) as {
    metadata: { name: string; namespace: string; labels: Record<string, string> };
    spec: { replicas: number; template: { metadata: { labels: Record<string, string> } }; selector: unknown };
  };
  assert.equal(d.spec.replicas, 3);
  assert.deepEqual([d.metadata.name, d.metadata.namespace], ['web', 'shop']);
  assert.equal(d.metadata.labels[MANAGED_BY], 'orrery');
  assert.equal(d.metadata.labels[PLACEMENT_LABEL], 'shop.web');
  assert.deepEqual(d.spec.template.metadata.labels, { app: 'web', [MANAGED_BY]: 'orrery', [PLACEMENT_LABEL]: 'shop.web' });
  assert.deepEqual(d.spec.selector, { matchLabels: { app: 'web' } }, "the selector is the template's own");
});

test('a Service only when asked for, selecting the Pods', () => {
  assert.equal(serviceFor(placement('web')), undefined);
  const s = serviceFor(placement('web', { service: { ports: [{ port: 80, targetPort: 8080 }] } })) as {
    spec: { selector: Record<string, string>; ports: { port: number; targetPort: number; protocol: string }[] };
  };
  assert.deepEqual(s.spec.selector, { app: 'web' });
  assert.deepEqual(s.spec.ports, [{ port: 80, targetPort: 8080, protocol: 'TCP' }]);
});

test('placement labels stay valid label values', () => {
  assert.equal(placementLabel('team/web'), 'team.web');
  const long = placementLabel(`${'n'.repeat(60)}/${'w'.repeat(60)}`);
  assert.ok(long.length <= 63 && /^[a-z0-9][-a-z0-9.]*[a-z0-9]$/.test(long));
});

test('DRA accelerators: a ResourceClaimTemplate with the class, count and selectors, claimed by every container', () => {
  const p = placement('train', {
    namespace: 'ml',
    accelerators: [{ deviceClassName: 'gpu.example.com', count: 2, selectors: ['device.attributes["gpu.example.com"].model == "H100"'] }],
  });
  const t = claimTemplateFor(p, 'resource.k8s.io/v1') as {
    metadata: { name: string; labels: Record<string, string> };
    spec: { metadata: { labels: Record<string, string> }; spec: { devices: { requests: unknown[] } } };
  };
  assert.equal(t.metadata.name, 'train');
  assert.equal(t.spec.metadata.labels[PLACEMENT_LABEL], 'ml.train', "its claims are known for Orrery's own");
  assert.deepEqual(t.spec.spec.devices.requests, [
    {
      name: 'req-0',
      exactly: { deviceClassName: 'gpu.example.com', allocationMode: 'ExactCount', count: 2, selectors: [{ cel: { expression: 'device.attributes["gpu.example.com"].model == "H100"' } }] },
    },
  ]);
  const beta = claimTemplateFor(p, 'resource.k8s.io/v1beta1') as { spec: { spec: { devices: { requests: { deviceClassName?: string }[] } } } };
  assert.equal(beta.spec.spec.devices.requests[0]?.deviceClassName, 'gpu.example.com', 'v1beta1 has no exactly');
  const d = deploymentFor(p, 3) as { spec: { template: { spec: { resourceClaims: unknown[]; containers: { resources: { claims: unknown[] } }[] } } } };
  assert.deepEqual(d.spec.template.spec.resourceClaims, [{ name: DEVICE_CLAIM, resourceClaimTemplateName: 'train' }]);
  assert.deepEqual(d.spec.template.spec.containers[0]?.resources.claims, [{ name: DEVICE_CLAIM }]);
  assert.equal(claimTemplateFor(placement('web'), 'resource.k8s.io/v1'), undefined);
});

test('device-plugin accelerators: requests and limits of the first container', () => {
  const p = placement('infer', { cpu: '2', accelerators: [{ resourceName: 'nvidia.com/gpu', count: 1 }] });
  const d = deploymentFor(p, 1) as {
    spec: { template: { spec: { resourceClaims?: unknown; containers: { resources: { requests: Record<string, string>; limits: Record<string, string>; claims?: unknown } }[] } } };
  };
  const r = d.spec.template.spec.containers[0]!.resources;
  assert.deepEqual(r.requests, { cpu: '2', memory: '1Gi', 'nvidia.com/gpu': '1' });
  assert.deepEqual(r.limits, { 'nvidia.com/gpu': '1' });
  assert.equal(r.claims, undefined);
  assert.equal(d.spec.template.spec.resourceClaims, undefined);
});
