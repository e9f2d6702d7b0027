// The manifests in deploy/ on a real hub: every object accepted server-side (dry run where
// nothing should run), and the ServiceAccount allowed exactly what Orrery needs.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TestFleet } from './env/fleet.js';
import { call } from './env/kube.js';

const root = join(import.meta.dirname, '..', '..');
let fleet: TestFleet;

before(async () => {
  fleet = await TestFleet.start({ members: 0 });
  // the namespace the kubeconfig-Secret RoleBinding lives in
  await call(fleet.hub.endpoint(), 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fleet' } });
  // the inventory's CRDs, which a cluster manager brings to a real hub
  for (const f of ['multicluster.x-k8s.io_clusterprofiles.yaml', 'multicluster.x-k8s.io_placementdecisions.yaml']) {
    const r = fleet.hub.kubectl(['apply', '--server-side', '-f', join(root, 'test', 'fixtures', 'crds', f)]);
    assert.equal(r.code, 0, r.stderr);
  }
}, { timeout: 900_000 });

after(async () => {
  await fleet?.stop();
});

test('kubectl apply --server-side accepts every manifest', () => {
  const ns = fleet.hub.kubectl(['apply', '--server-side', '-f', join(root, 'deploy', 'namespace.yaml')]);
  assert.equal(ns.code, 0, ns.stderr);
  // what does not run anything is applied for real; the workload itself only in a dry run
  for (const file of ['crds/placement.orrery.dev_placements.yaml', 'deploy/rbac.yaml']) {
    const r = fleet.hub.kubectl(['apply', '--server-side', '-f', join(root, file)]);
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
  }
  const all = fleet.hub.kubectl(['apply', '--server-side', '--dry-run=server', '-k', join(root, 'deploy')]);
  assert.equal(all.code, 0, all.stderr);
  for (const kind of ['deployment.apps/orrery', 'service/orrery', 'poddisruptionbudget.policy/orrery', 'clusterrole.rbac.authorization.k8s.io/orrery']) {
    assert.match(all.stdout, new RegExp(`${kind.replace(/\./g, '\\.')} serverside-applied \\(server dry run\\)`));
  }
});

const sa = 'system:serviceaccount:orrery-system:orrery';
const can = (verb: string, resource: string, ns?: string) => {
  const [what, sub] = resource.split('/');
  return fleet.hub.kubectl(['auth', 'can-i', verb, what!, ...(sub ? [`--subresource=${sub}`] : []), `--as=${sa}`, ...(ns ? ['-n', ns] : ['--all-namespaces'])]).stdout.trim();
};

test('the ServiceAccount may do what Orrery does', () => {
  for (const [verb, resource, ns] of [
    ['watch', 'placements.placement.orrery.dev'],
    ['patch', 'placements.placement.orrery.dev/status'],
    ['update', 'placements.placement.orrery.dev/scale'],
    ['list', 'clusterprofiles.multicluster.x-k8s.io'],
    ['create', 'placementdecisions.multicluster.x-k8s.io'],
    ['delete', 'placementdecisions.multicluster.x-k8s.io'],
    ['create', 'tokenreviews.authentication.k8s.io'],
    ['create', 'subjectaccessreviews.authorization.k8s.io'],
    ['update', 'leases.coordination.k8s.io', 'orrery-system'],
    ['get', 'secrets', 'fleet'],
  ] as const) {
    assert.equal(can(verb, resource, ns), 'yes', `${verb} ${resource}${ns ? ` in ${ns}` : ''}`);
  }
});

test('and nothing more', () => {
  for (const [verb, resource, ns] of [
    ['delete', 'placements.placement.orrery.dev'],
    ['create', 'placements.placement.orrery.dev'],
    ['update', 'clusterprofiles.multicluster.x-k8s.io'],
    ['get', 'secrets', 'default'],
    ['list', 'secrets', 'fleet'],
    ['update', 'leases.coordination.k8s.io', 'kube-system'],
    ['create', 'deployments.apps', 'default'],
  ] as const) {
    assert.equal(can(verb, resource, ns), 'no', `${verb} ${resource}${ns ? ` in ${ns}` : ''}`);
  }
});
