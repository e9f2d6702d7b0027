// Leader election on a real hub: one leader among candidates, the Lease handed over when the
// leader stops, and taken over when a leader dies without handing it over.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { LeaderElector } from '../src/controllers/leader.js';
import { ApiClient } from '../src/fleet/client.js';
import { TestFleet } from './env/fleet.js';
import { call, eventually } from './env/kube.js';

let fleet: TestFleet;
let client: ApiClient;
const electors: LeaderElector[] = [];

before(
  async () => {
    fleet = await TestFleet.start({ members: 0 });
    await call(fleet.hub.endpoint(), 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'orrery-system' } });
    const kc = new KubeConfig();
    kc.loadFromFile(fleet.hub.kubeconfig('admin'));
    client = new ApiClient(kc);
  },
  { timeout: 900_000 },
);

after(async () => {
  for (const e of electors) await e.stop(false);
  await fleet?.stop();
});

function candidate(identity: string): LeaderElector {
  const e = new LeaderElector(client, { namespace: 'orrery-system', name: 'orrery-scheduler', identity, leaseSeconds: 2, renewEveryMs: 300, retryEveryMs: 200 });
  electors.push(e);
  e.start();
  return e;
}

const leaders = () => electors.filter((e) => e.isLeader);

test('one leader among three candidates, and it stays the only one', async () => {
  candidate('a');
  candidate('b');
  candidate('c');
  await eventually('a leader', async () => (leaders().length === 1 ? true : undefined), 10_000, 50);
  for (let i = 0; i < 20; i++) {
    assert.ok(leaders().length <= 1, 'never two leaders');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(leaders().length, 1);
});

test('a leader that stops hands over the Lease', async () => {
  const first = leaders()[0]!;
  await first.stop();
  const next = await eventually('a new leader', async () => (leaders().length === 1 && leaders()[0] !== first ? leaders()[0] : undefined), 5_000, 50);
  assert.notEqual(next, first);
  const lease = await call<{ spec: { holderIdentity: string; leaseTransitions: number } }>(
    fleet.hub.endpoint(),
    'GET',
    '/apis/coordination.k8s.io/v1/namespaces/orrery-system/leases/orrery-scheduler',
  );
  assert.ok(lease.spec.leaseTransitions >= 1);
});

test('a leader that dies loses the Lease once it runs out', async () => {
  const dead = leaders()[0]!;
  const t0 = Date.now();
  await dead.stop(false);
  const next = await eventually('a leader after expiry', async () => (leaders().length === 1 && leaders()[0] !== dead ? leaders()[0] : undefined), 10_000, 50);
  assert.ok(next);
  assert.ok(Date.now() - t0 >= 1000, 'not before the Lease ran out');
});
