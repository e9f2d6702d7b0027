import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placement } from '../../test/fixtures.js';

import { deploymentFor, serviceFor } from './deployer.js';
import { type LiveObject, claim, firstDifference, madeByOrrery, ownedBy, podSecurityLabels } from './ownership.js';
import { FIELD_MANAGER, MANAGED_BY, PLACEMENT_LABEL } from '../names.js';

const ours = { [MANAGED_BY]: 'orrery', [PLACEMENT_LABEL]: 'shop.web' };
const applied = [{ manager: FIELD_MANAGER, operation: 'Apply' }];
const live = (labels: Record<string, string> | undefined, managers = applied, spec?: unknown): LiveObject => ({
  metadata: { name: 'web', uid: 'u1', ...(labels ? { labels } : {}), managedFields: managers },
  ...(spec !== undefined ? { spec } : {}),
});

test("an object is Orrery's for a placement only with that placement's label and Orrery's field manager", () => {
  assert.equal(ownedBy(live(ours), 'shop.web'), true);
  assert.equal(ownedBy(live(ours), 'shop.api'), false, "another placement's");
  assert.equal(ownedBy(live(ours, [{ manager: 'kubectl-client-side-apply', operation: 'Update' }]), 'shop.web'), false, 'labels copied by someone else');
  assert.equal(ownedBy(live({ app: 'web' }), 'shop.web'), false);
  assert.equal(madeByOrrery(live({ [MANAGED_BY]: 'orrery' })), true);
  assert.equal(madeByOrrery(live({ [MANAGED_BY]: 'orrery' }, [])), false);
});

test('a claim: create what is missing, force only on what is ours, take over only as asked', () => {
  const p = placement('web', { namespace: 'shop' });
  const want = deploymentFor(p, 2) as { spec: unknown };
  assert.deepEqual(claim('Deployment', undefined, want, 'shop.web'), { kind: 'create' });
  assert.deepEqual(claim('Deployment', live(ours), want, 'shop.web'), { kind: 'own', uid: 'u1' });
  const theirs = live({ app: 'web' }, [{ manager: 'kubectl', operation: 'Update' }], {
    replicas: 5,
    selector: { matchLabels: { app: 'web' } },
    template: { spec: { containers: [{ name: 'other', image: 'theirs:1' }] } },
  });
  const never = claim('Deployment', theirs, want, 'shop.web');
  assert.equal(never.kind, 'conflict');
  assert.equal(never.kind === 'conflict' && never.message, 'Deployment web exists, not made by Orrery (takeOver: Never)');
  assert.equal(claim('Deployment', theirs, want, 'shop.web', 'Never').kind, 'conflict');
  const ifNoDiff = claim('Deployment', theirs, want, 'shop.web', 'IfNoDiff');
  assert.equal(ifNoDiff.kind, 'conflict');
  assert.match(ifNoDiff.kind === 'conflict' ? ifNoDiff.message : '', /differs from what the placement would write at spec\.template\.metadata/);
  assert.deepEqual(claim('Deployment', theirs, want, 'shop.web', 'Always'), { kind: 'takeOver', uid: 'u1' });
  const another = claim('Deployment', live({ [MANAGED_BY]: 'orrery', [PLACEMENT_LABEL]: 'shop.api' }), want, 'shop.web');
  assert.match(another.kind === 'conflict' ? another.message : '', /another placement's \(shop\.api\)/);
});

test('IfNoDiff compares only what Orrery would write: member defaults, quantities by amount, its own markers and the replicas are no difference', () => {
  const p = placement('web', { namespace: 'shop', cpu: '1', memory: '1Gi' });
  const want = deploymentFor(p, 2) as { spec: { template: { spec: { containers: { name: string; image?: string }[] } } } };
  // as the member would hold it: defaulted fields, other replicas, no Orrery labels, "1000m" for "1"
  const container = want.spec.template.spec.containers[0]!;
  const same = {
    replicas: 7,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate' },
    revisionHistoryLimit: 10,
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { restartPolicy: 'Always', containers: [{ ...container, resources: { requests: { cpu: '1000m', memory: '1Gi' } }, terminationMessagePath: '/dev/termination-log' }] },
    },
  };
  assert.equal(firstDifference(want.spec, same, 'spec'), undefined);
  assert.deepEqual(claim('Deployment', live({ app: 'web' }, [], same), want, 'shop.web', 'IfNoDiff'), { kind: 'takeOver', uid: 'u1' });
  const image = { ...same, template: { ...same.template, spec: { ...same.template.spec, containers: [{ ...same.template.spec.containers[0], image: 'theirs:2' }] } } };
  assert.equal(firstDifference(want.spec, image, 'spec'), 'spec.template.spec.containers[0].image');
  const twoContainers = { ...same, template: { ...same.template, spec: { ...same.template.spec, containers: [...same.template.spec.containers, { name: 'sidecar' }] } } };
  assert.equal(firstDifference(want.spec, twoContainers, 'spec'), 'spec.template.spec.containers', 'a list with more items differs');
  const svc = serviceFor(placement('web', { service: { ports: [{ port: 80, targetPort: 8080 }] } })) as { spec: unknown };
  assert.equal(firstDifference(svc.spec, { clusterIP: '10.0.0.9', type: 'ClusterIP', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] }, 'spec'), undefined);
  assert.equal(firstDifference(svc.spec, { selector: { app: 'web' }, ports: [{ port: 81, targetPort: 8080, protocol: 'TCP' }] }, 'spec'), 'spec.ports[0].port');
});

test('Pod Security labels, and only those, carry over', () => {
  assert.deepEqual(podSecurityLabels({ 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn-version': 'latest', team: 'a' }), {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/warn-version': 'latest',
  });
  assert.deepEqual(podSecurityLabels(undefined), {});
});
