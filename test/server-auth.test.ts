// The HTTP API's cluster-mode security on a real hub: tokens checked with TokenReview, routes
// authorised with SubjectAccessReview against the callers' RBAC.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { KubeConfig } from '@kubernetes/client-node';
import { EmbeddedEngine } from '../src/embedded/engine.js';
import { ApiClient } from '../src/fleet/client.js';
import { loadFleet, loadPlacements } from '../src/fleet/snapshotFile.js';
import { buildApp } from '../src/server/app.js';
import { KubeAuthenticator } from '../src/server/kubeAuth.js';
import { type User, TestFleet } from './env/fleet.js';
import { bind, call, grant } from './env/kube.js';

const root = join(import.meta.dirname, '..', '..');
let fleet: TestFleet;
let app: FastifyInstance;
let base: string;

before(
  async () => {
    fleet = await TestFleet.start({ members: 0 });
    const hub = fleet.hub.endpoint();
    // alice may read capacity everywhere, scrape /metrics with the role deploy/ ships, and read
    // placements in "team"; bob may do nothing
    await grant(hub, 'alice', 'orrery-capacity-reader', [{ apiGroups: ['placement.orrery.dev'], resources: ['capacity'], verbs: ['get'] }]);
    const scrape = fleet.hub.kubectl(['apply', '--server-side', '-f', join(root, 'deploy', 'metrics-reader.yaml')]);
    assert.equal(scrape.code, 0, scrape.stderr);
    await bind(hub, 'alice', 'orrery-metrics-reader', 'ClusterRole');
    await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    await grant(hub, 'alice', 'placement-reader', [{ apiGroups: ['placement.orrery.dev'], resources: ['placements'], verbs: ['get', 'list'] }], 'team');
    const fleetFile = await loadFleet(join(root, 'examples', 'fleet.yaml'));
    const placements = await loadPlacements(join(root, 'examples', 'placements.yaml'));
    assert.ok(fleetFile.ok && placements.ok);
    const kc = new KubeConfig();
    kc.loadFromFile(fleet.hub.kubeconfig('admin'));
    app = await buildApp({ engine: new EmbeddedEngine(fleetFile.value.snapshot, placements.value), auth: new KubeAuthenticator(new ApiClient(kc)) });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  },
  { timeout: 900_000 },
);

after(async () => {
  await app?.close();
  await fleet?.stop();
});

async function as(user: User | 'nobody' | 'forged', method: string, path: string, body?: unknown) {
  const token = user === 'nobody' ? undefined : user === 'forged' ? 'not-a-real-token' : fleet.hub.endpoint(user).token;
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : { text }) as { message?: string; text?: string } };
}

const cases: [string, User | 'nobody' | 'forged', string, string, unknown, number, RegExp | undefined][] = [
  ['no token', 'nobody', 'GET', '/v1/capacity', undefined, 401, /a bearer token is required/],
  ['a token the hub does not know', 'forged', 'GET', '/v1/capacity', undefined, 401, /the bearer token is not valid/],
  ['bob without any RBAC right reads capacity', 'bob', 'GET', '/v1/capacity', undefined, 403, /bob may not get capacity \(placement\.orrery\.dev\)/],
  ['alice reads capacity', 'alice', 'GET', '/v1/capacity', undefined, 200, undefined],
  ['alice reads a placement in her namespace', 'alice', 'GET', '/v1/namespaces/team/placements/none', undefined, 404, /not found/],
  ['alice reads a placement elsewhere', 'alice', 'GET', '/v1/namespaces/ml/placements/llm-inference', undefined, 403, /alice may not get placements in namespace ml/],
  ['alice scales without the scale right', 'alice', 'POST', '/v1/namespaces/team/placements/x/scale', { replicas: 1 }, 403, /alice may not update placements\/scale in namespace team/],
  ['bob scrapes /metrics without the scrape role', 'bob', 'GET', '/metrics', undefined, 403, /bob may not get \/metrics$/],
  ['alice scrapes /metrics with orrery-metrics-reader', 'alice', 'GET', '/metrics', undefined, 200, undefined],
  ['the admin scales', 'admin', 'POST', '/v1/namespaces/ml/placements/llm-inference/scale', { delta: 1 }, 200, undefined],
];

for (const [name, user, method, path, body, status, message] of cases) {
  test(name, async () => {
    const r = await as(user, method, path, body);
    assert.equal(r.status, status, JSON.stringify(r.json));
    if (message) assert.match(r.json.message ?? '', message);
    if (path === '/metrics' && status === 200) assert.match(r.json.text ?? '', /^orrery_build_info\{/m);
  });
}
