// The API document is generated from the routes: it is a valid OpenAPI 3 document, names every
// route with an operation id, documents 401 and 403 where access is checked, and every answer
// the routes give (successes and refusals) has its status and body as the document says.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { EmbeddedEngine } from '../src/embedded/engine.js';
import { loadFleet, loadPlacements } from '../src/fleet/snapshotFile.js';
import { buildApp } from '../src/server/app.js';
import { StaticToken } from '../src/server/auth.js';
import { placement } from './fixtures.js';

const root = join(import.meta.dirname, '..', '..');
const TOKEN = 'docs-token';
let app: FastifyInstance;
const routes: { method: string; url: string }[] = [];

interface Operation {
  operationId?: string;
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

before(async () => {
  const fleet = await loadFleet(join(root, 'examples', 'fleet.yaml'));
  const placements = await loadPlacements(join(root, 'examples', 'placements.yaml'));
  assert.ok(fleet.ok && placements.ok);
  app = await buildApp({ engine: new EmbeddedEngine(fleet.value.snapshot, placements.value), auth: new StaticToken(TOKEN) });
  await app.ready();
  for (const r of collect(app)) routes.push(r);
});

after(async () => {
  await app?.close();
});

/** The routes fastify serves, read from its own route tree; the document's own pages left out. */
function collect(a: FastifyInstance): { method: string; url: string }[] {
  const out: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of a.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)(?:├── |└── )(.*) \(([^)]*)\)$/.exec(line);
    if (m === null) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const url = stack.join('');
    if (url === '/' || url === '/openapi.json' || url.startsWith('/docs') || url.startsWith('/ui')) continue;
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push({ method, url });
  }
  return out;
}

async function doc(): Promise<Doc> {
  const r = await app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(r.statusCode, 200);
  return r.json() as Doc;
}

test('the document is valid OpenAPI 3 and every operation has an id', async () => {
  const d = await doc();
  assert.equal(d.openapi, '3.0.3');
  await SwaggerParser.validate(structuredClone(d) as never);
  const ids = Object.values(d.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
  assert.ok(
    ids.every((id) => typeof id === 'string' && id.length > 0),
    JSON.stringify(ids),
  );
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');
});

test('every route is in the document, and every guarded one documents 401 and 403', async () => {
  const d = await doc();
  assert.ok(routes.length >= 12, `${routes.length} routes`);
  for (const r of routes) {
    const op = d.paths[r.url.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
    assert.ok(op, `${r.method} ${r.url} is documented`);
    if (!['/healthz', '/readyz'].includes(r.url)) {
      assert.ok(op.responses['401'] && op.responses['403'], `${r.method} ${r.url} documents 401 and 403`);
      assert.deepEqual(op.security, [{ bearer: [] }]);
    }
  }
});

// One request per answer a route gives: what the route sends must be what the document says.
const samples: [string, string, string, unknown, number][] = [
  ['getCapacity', 'GET', '/v1/capacity?region=us-west1', undefined, 200],
  ['getCapacity', 'GET', '/v1/capacity?selector=%3D%3D', undefined, 400],
  ['getCapacityFit', 'GET', '/v1/capacity/fit?cpu=8&deviceClass=gpu.nvidia.com&devices=2', undefined, 200],
  ['getCapacityFit', 'GET', '/v1/capacity/fit?cpu=lots', undefined, 400],
  ['whatIf', 'POST', '/v1/whatif', { placements: [placement('w', { replicas: 2, cpu: '1' })] }, 200],
  ['whatIf', 'POST', '/v1/whatif', { placements: [{ spec: { replicas: -1 } }] }, 400],
  ['listPlacements', 'GET', '/v1/placements', undefined, 200],
  ['getPlacement', 'GET', '/v1/namespaces/ml/placements/llm-inference', undefined, 200],
  ['getPlacement', 'GET', '/v1/namespaces/ml/placements/nope', undefined, 404],
  ['putPlacement', 'PUT', '/v1/namespaces/team/placements/web', placement('web', { namespace: 'team', replicas: 2, cpu: '1' }), 200],
  ['putPlacement', 'PUT', '/v1/namespaces/team/placements/web', { metadata: { name: 'other' }, spec: {} }, 400],
  ['explainPlacement', 'GET', '/v1/namespaces/ml/placements/tpu-batch/explain', undefined, 200],
  ['explainPlacement', 'GET', '/v1/namespaces/ml/placements/nope/explain', undefined, 404],
  ['scalePlacement', 'POST', '/v1/namespaces/team/placements/web/scale', { delta: 1 }, 200],
  ['scalePlacement', 'POST', '/v1/namespaces/team/placements/web/scale', { delta: 1, replicas: 2 }, 400],
  ['scalePlacement', 'POST', '/v1/namespaces/team/placements/nope/scale', { replicas: 2 }, 404],
  ['deletePlacement', 'DELETE', '/v1/namespaces/team/placements/web', undefined, 204],
  ['deletePlacement', 'DELETE', '/v1/namespaces/team/placements/web', undefined, 404],
  ['getFleet', 'GET', '/v1/fleet', undefined, 200],
  ['getMetrics', 'GET', '/metrics', undefined, 200],
  ['healthz', 'GET', '/healthz', undefined, 200],
  ['readyz', 'GET', '/readyz', undefined, 200],
];

test('every answer has the status and body the document gives it', async () => {
  const d = await doc();
  const ajv = new Ajv({ strict: false, allErrors: true });
  const byId = new Map<string, Operation>();
  for (const ops of Object.values(d.paths)) for (const op of Object.values(ops)) byId.set(op.operationId!, op);
  // a stream never ends, so it cannot be injected: server.test.ts reads it over HTTP
  const streams = [...byId].filter(([, op]) => op.responses['200']?.content?.['text/event-stream'] !== undefined).map(([id]) => id);
  assert.deepEqual(streams, ['watchFleet']);
  assert.deepEqual([...new Set(samples.map((s) => s[0]))].sort(), [...byId.keys()].filter((id) => !streams.includes(id)).sort(), 'a sample for every operation');
  for (const [id, method, url, body, status] of samples) {
    const r = await app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${TOKEN}` }, ...(body !== undefined ? { payload: body as object } : {}) });
    assert.equal(r.statusCode, status, `${method} ${url}: ${r.body}`);
    const documented = byId.get(id)!.responses[String(status)];
    assert.ok(documented, `${id} documents ${status}`);
    const [type, media] = Object.entries(documented.content ?? {})[0] ?? [];
    if (status === 204) {
      assert.equal(r.body, '');
      continue;
    }
    assert.ok(media, `${id} ${status} has a schema`);
    assert.ok(r.headers['content-type']?.toString().startsWith(type === 'text/plain' ? 'text/plain' : 'application/json'), `${id}: ${r.headers['content-type']}`);
    const value = type === 'text/plain' ? r.body : r.json();
    const validate = ajv.compile(media.schema);
    assert.ok(validate(value), `${method} ${url}: ${ajv.errorsText(validate.errors)}`);
  }
  // without a token: 401, as documented
  const anon = await app.inject({ method: 'GET', url: '/v1/capacity' });
  assert.equal(anon.statusCode, 401);
  assert.ok(ajv.compile(byId.get('getCapacity')!.responses['401']!.content!['application/json']!.schema)(anon.json()));
});

test('the docs page is Swagger UI, with every asset served by Orrery itself', async () => {
  const page = await app.inject({ method: 'GET', url: '/docs/' });
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type']?.toString() ?? '', /text\/html/);
  const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(assets.length >= 3);
  for (const a of assets) {
    assert.ok(a.startsWith('/docs/') || a.startsWith('./'), `local asset: ${a}`);
    const url = a.startsWith('./') ? `/docs/${a.slice(2)}` : a;
    assert.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
  }
});

test('every route refuses a request without a token, but the probes and the pages that ask for one', async () => {
  const open = new Set(['/healthz', '/readyz']);
  const all: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)(?:├── |└── )(.*) \(([^)]*)\)$/.exec(line);
    if (m === null) continue;
    stack.length = m[1]!.length / 4;
    stack.push(m[2]!);
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') all.push({ method, url: stack.join('') });
  }
  const answers: string[] = [];
  for (const { method, url } of all) {
    const path = url.replace(':namespace', 'ml').replace(':name', 'llm-inference').replace('*', 'index.html');
    const r = await app.inject({ method: method as 'GET', url: path, ...(method === 'POST' || method === 'PUT' ? { payload: {} } : {}) });
    answers.push(`${method} ${url} ${r.statusCode}`);
    if (open.has(url)) assert.notEqual(r.statusCode, 401, `${method} ${url} is a probe`);
  }
  const refused = answers.filter((a) => a.endsWith(' 401'));
  const served = answers.filter((a) => !a.endsWith(' 401'));
  assert.ok(refused.length >= 12, `the API's routes refuse: ${refused.join(', ')}`);
  // what answers without a token: the probes, the web view's page and assets (it asks for the token), the API document and its page
  for (const a of served) assert.match(a, /^GET (\/healthz|\/readyz|\/|\/ui\/?.*|\/docs.*|\/openapi\.json) \d+$/, `served without a token: ${a}`);
});
