import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placement } from '../../test/fixtures.js';
import { PLACEMENT_LABEL } from '../fleet/measure.js';
import { MANAGED_BY, deploymentFor, placementLabel, serviceFor } from './deployer.js';

test('a Deployment from the template, with the cluster replicas and the labels that tie it to its Placement', () => {
  const p = placement('web', { namespace: 'shop', replicas: 9 });
  const d = deploymentFor(p, 3) as { metadata: { name: string; namespace: string; labels: Record<string, string> }; spec: { replicas: number; template: { metadata: { labels: Record<string, string> } }; selector: unknown } };
  assert.equal(d.spec.replicas, 3);
  assert.deepEqual([d.metadata.name, d.metadata.namespace], ['web', 'shop']);
  assert.equal(d.metadata.labels[MANAGED_BY], 'orrery');
  assert.equal(d.metadata.labels[PLACEMENT_LABEL], 'shop.web');
  assert.deepEqual(d.spec.template.metadata.labels, { app: 'web', [MANAGED_BY]: 'orrery', [PLACEMENT_LABEL]: 'shop.web' });
  assert.deepEqual(d.spec.selector, { matchLabels: { app: 'web' } }, 'the selector is the template\'s own');
});

test('a Service only when asked for, selecting the Pods', () => {
  assert.equal(serviceFor(placement('web')), undefined);
  const s = serviceFor(placement('web', { service: { ports: [{ port: 80, targetPort: 8080 }] } })) as { spec: { selector: Record<string, string>; ports: { port: number; targetPort: number; protocol: string }[] } };
  assert.deepEqual(s.spec.selector, { app: 'web' });
  assert.deepEqual(s.spec.ports, [{ port: 80, targetPort: 8080, protocol: 'TCP' }]);
});

test('placement labels stay valid label values', () => {
  assert.equal(placementLabel('team/web'), 'team.web');
  const long = placementLabel(`${'n'.repeat(60)}/${'w'.repeat(60)}`);
  assert.ok(long.length <= 63 && /^[a-z0-9][-a-z0-9.]*[a-z0-9]$/.test(long));
});
