// The HTTP API over real HTTP, in embedded mode: every route's happy path, a table of bad
// requests with their status and message, cached answers that follow the fleet, and metrics.

import assert from 'node:assert/strict';
import { ISSUE_CODES, type Issue, formatIssues, formatPath } from '../src/core/result.js';
import { checkPlacement } from '../src/core/validation.js';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { EmbeddedEngine } from '../src/embedded/engine.js';
import { loadFleet, loadPlacements } from '../src/fleet/snapshotFile.js';
import type { Placement } from '../src/core/model.js';
import { parseMilli } from '../src/core/quantity.js';

function milli(q: string): number {
  const r = parseMilli(q);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}
import { buildApp } from '../src/server/app.js';
import { StaticToken } from '../src/server/auth.js';
import { Metrics } from '../src/server/metrics.js';
import { MEMBER_REFUSALS, placement } from './fixtures.js';

const root = join(import.meta.dirname, '..', '..');
const TOKEN = 'test-token-123';
let app: FastifyInstance;
let base: string;

before(async () => {
  const fleet = await loadFleet(join(root, 'examples', 'fleet.yaml'));
  const placements = await loadPlacements(join(root, 'examples', 'placements.yaml'));
  assert.ok(fleet.ok && placements.ok);
  let engine: EmbeddedEngine | undefined;
  const metrics = new Metrics(() => engine);
  engine = new EmbeddedEngine(fleet.value.snapshot, placements.value, { observe: metrics.observe });
  app = await buildApp({ engine, metrics, auth: new StaticToken(TOKEN), bodyLimit: 64 * 1024 });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await app?.close();
});

async function http(method: string, path: string, body?: unknown, opts: { token?: string | null; raw?: string; type?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`;
  const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  if (payload !== undefined) headers['content-type'] = opts.type ?? 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // biome-ignore lint/suspicious/noExplicitAny: each test reads the answer of the route it asked, in that route's documented shape
  return { status: res.status, json: json as Record<string, any>, text, type: res.headers.get('content-type') ?? '' };
}

test('probes answer without a token', async () => {
  assert.deepEqual((await http('GET', '/healthz', undefined, { token: null })).json, { status: 'ok' });
  assert.deepEqual((await http('GET', '/readyz', undefined, { token: null })).json, { status: 'ready', problems: [] });
});

test('capacity per cluster, region and device class, with filters', async () => {
  const all = await http('GET', '/v1/capacity');
  assert.equal(all.status, 200);
  assert.equal(all.json.clusters.length, 8);
  assert.ok(all.json.regions.some((r: { name: string }) => r.name === 'europe-west4'));
  assert.deepEqual(
    all.json.deviceClasses.map((d: { deviceClassName: string }) => d.deviceClassName),
    ['gpu.nvidia.com', 'tpu.google.com'],
  );
  const west = all.json.clusters.find((c: { name: string }) => c.name === 'gke-us-west1');
  // the example placements already run there: less is free than the snapshot alone says (216)
  assert.equal(west.allocatable.cpu, '256');
  // 216 free in the snapshot, less the cpu the example placements' decisions put there
  const views = (await http('GET', '/v1/placements')).json.items as { placement: Placement; decision: { clusters: { name: string; replicas: number }[] } }[];
  const taken = views.reduce((sum, v) => {
    const cpu = v.placement.spec.template.spec.template.spec.containers.reduce((t, c) => t + milli(String(c.resources?.requests?.cpu ?? '0')), 0);
    return sum + cpu * (v.decision.clusters.find((c) => c.name === 'gke-us-west1')?.replicas ?? 0);
  }, 0);
  assert.ok(taken > 0, 'the examples place replicas there');
  assert.equal(milli(west.free.cpu), 216_000 - taken);
  assert.match(west.free.memory, /^\d+(Ki|Mi|Gi|Ti)?$/);
  const eu = await http('GET', '/v1/capacity?region=europe-west4');
  assert.deepEqual(
    eu.json.clusters.map((c: { name: string }) => c.name),
    ['aks-europe-west4', 'gke-europe-west4'],
  );
  const gpus = await http('GET', '/v1/capacity?deviceClass=gpu.nvidia.com&selector=environment%3Dproduction');
  assert.deepEqual(
    gpus.json.clusters.map((c: { name: string }) => c.name),
    ['eks-us-east1', 'gke-us-west1'],
  );
});

test('fit: how many replicas of a shape fit, per cluster and in total', async () => {
  const r = await http('GET', '/v1/capacity/fit?cpu=8&memory=64Gi&deviceClass=gpu.nvidia.com&devices=2');
  assert.equal(r.status, 200);
  assert.equal(
    r.json.total,
    r.json.clusters.reduce((s: number, c: { replicas: number }) => s + c.replicas, 0),
  );
  assert.ok(r.json.clusters.every((c: { name: string }) => ['gke-us-west1', 'eks-us-east1', 'gke-us-central1'].includes(c.name)));
  const eu = await http('GET', '/v1/capacity/fit?cpu=1&region=europe-west4');
  assert.ok(eu.json.total > 0);
  assert.ok(eu.json.clusters.every((c: { region: string }) => c.region === 'europe-west4'));
});

test('what-if answers without changing anything', async () => {
  const before = await http('GET', '/v1/capacity');
  const p = placement('batch', { namespace: 'data', replicas: 6, cpu: '4', memory: '8Gi', accelerators: [{ deviceClassName: 'tpu.google.com', count: 4 }] });
  const r = await http('POST', '/v1/whatif', { placements: [p, { spec: { ...p.spec, replicas: 100 } }] });
  assert.equal(r.status, 200);
  assert.equal(r.json.decisions.length, 2);
  assert.equal(r.json.decisions[0].placement, 'data/batch');
  assert.equal(r.json.decisions[1].placement, 'whatif/whatif-1');
  assert.ok(r.json.decisions[1].unscheduledReplicas > 0);
  assert.match(r.json.decisions[1].message, /replicas unscheduled/);
  assert.deepEqual((await http('GET', '/v1/capacity')).json, before.json, 'nothing changed');
  assert.equal((await http('GET', '/v1/namespaces/data/placements/batch')).status, 404);
});

test('submit, read, explain, scale and remove a placement', async () => {
  const p = placement('api', { namespace: 'shop', replicas: 4, cpu: '1', memory: '2Gi', clusterSelector: { matchLabels: { environment: 'production' } } });
  const put = await http('PUT', '/v1/namespaces/shop/placements/api', p);
  assert.equal(put.status, 200);
  assert.equal(put.json.decision.reason, 'Scheduled');
  const got = await http('GET', '/v1/namespaces/shop/placements/api');
  assert.deepEqual(got.json.decision, put.json.decision);
  const list = await http('GET', '/v1/placements');
  assert.ok(list.json.items.some((v: { decision: { placement: string } }) => v.decision.placement === 'shop/api'));
  const explain = await http('GET', '/v1/namespaces/shop/placements/api/explain');
  assert.equal(explain.status, 200);
  const staging = explain.json.clusters.find((c: { name: string }) => c.name === 'gke-europe-west4');
  assert.equal(staging.reason.plugin, 'ClusterSelector');
  const up = await http('POST', '/v1/namespaces/shop/placements/api/scale', { delta: 6 });
  assert.equal(up.status, 200);
  assert.equal(up.json.placement.spec.replicas, 10);
  const placed = (d: { clusters: { name: string; replicas: number }[] }) => d.clusters.reduce((s, c) => s + c.replicas, 0);
  assert.equal(placed(up.json.decision), 10);
  // the replicas it had stay where they were
  for (const c of put.json.decision.clusters) {
    assert.ok((up.json.decision.clusters.find((x: { name: string }) => x.name === c.name)?.replicas ?? 0) >= c.replicas);
  }
  const set = await http('POST', '/v1/namespaces/shop/placements/api/scale', { replicas: 2 });
  assert.equal(placed(set.json.decision), 2);
  assert.equal((await http('DELETE', '/v1/namespaces/shop/placements/api')).status, 204);
  assert.equal((await http('GET', '/v1/namespaces/shop/placements/api')).status, 404);
});

test('cached answers follow the fleet as placements change', async () => {
  const q = '/v1/capacity/fit?cpu=50&region=europe-west4';
  const first = await http('GET', q);
  assert.equal(first.json.total, 2);
  assert.deepEqual((await http('GET', q)).json, first.json, 'same answer while nothing changed');
  const hog = placement('hog', { namespace: 'ml', replicas: 1, cpu: '50', locality: { requiredRegions: ['europe-west4'] } });
  assert.equal((await http('PUT', '/v1/namespaces/ml/placements/hog', hog)).status, 200);
  const after = await http('GET', q);
  assert.equal(after.json.total, 1, 'the new placement took the room for one');
  await http('DELETE', '/v1/namespaces/ml/placements/hog');
  assert.equal((await http('GET', q)).json.total, first.json.total);
});

test('/v1/watch sends the version at once and again when a placement changes; /v1/fleet follows', async () => {
  const res = await fetch(`${base}/v1/watch`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const nextEvent = async (): Promise<{ version: number; generation: number }> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const m = /^event: version\ndata: (.*)$/m.exec(event);
        if (m) return JSON.parse(m[1]!);
        continue;
      }
      const { value, done } = await reader.read();
      assert.ok(!done, 'the stream stays open');
      buffer += value;
    }
  };
  const first = await nextEvent();
  const fleetBefore = await http('GET', '/v1/fleet');
  assert.equal(fleetBefore.json.version, first.version);
  const us = (c: { name: string }) => c.name === 'gke-us-central1';
  const cpuBefore = fleetBefore.json.clusters.find(us).cpu;
  const p = placement('watched', { namespace: 'ml', replicas: 2, cpu: '3', locality: { requiredRegions: ['us-central1'] } });
  assert.equal((await http('PUT', '/v1/namespaces/ml/placements/watched', p)).status, 200);
  const second = await nextEvent();
  assert.notEqual(second.version, first.version);
  const fleetAfter = await http('GET', '/v1/fleet');
  assert.equal(fleetAfter.json.version, second.version);
  assert.equal(fleetAfter.json.clusters.find(us).cpu.orrery, cpuBefore.orrery + 6000, 'two replicas of 3 CPU reserved');
  assert.equal(fleetAfter.json.clusters.find(us).cpu.free, cpuBefore.free - 6000);
  await http('DELETE', '/v1/namespaces/ml/placements/watched');
  assert.notEqual((await nextEvent()).version, second.version);
  await reader.cancel();
});

test('metrics name the series, after scheduling', async () => {
  await http('POST', '/v1/whatif', { placements: [placement('m', { replicas: 1 })] });
  const r = await http('GET', '/metrics');
  assert.equal(r.status, 200);
  assert.match(r.type, /text\/plain/);
  const series = new Map<string, number>();
  for (const line of r.text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert.ok(m, `a well-formed sample: ${line}`);
    series.set(m[1]!, Number(m[2]));
  }
  const has = (prefix: string) => [...series.keys()].some((k) => k.startsWith(prefix));
  for (const name of [
    'orrery_scheduling_duration_seconds_bucket',
    'orrery_solver_duration_seconds_bucket',
    'orrery_placements{condition="Scheduled"}',
    'orrery_unscheduled_replicas',
    'orrery_replicas_moved_total',
    'orrery_cluster_free_cpu_cores{cluster="gke-us-west1"}',
    'orrery_cluster_allocatable_memory_bytes{cluster="gke-us-west1"}',
    'orrery_cluster_allocatable_devices{cluster="gke-us-west1",device_class="gpu.nvidia.com"}',
    'process_resident_memory_bytes',
    'nodejs_heap_size_used_bytes',
    'orrery_cluster_free_devices{cluster="gke-us-west1",device_class="gpu.nvidia.com"}',
    'orrery_http_request_duration_seconds_bucket',
  ])
    assert.ok(has(name), `${name} is exported`);
  assert.ok((series.get('orrery_scheduling_duration_seconds_count{operation="whatif"}') ?? 0) >= 1);
  assert.equal(series.get('orrery_cluster_allocatable_cpu_cores{cluster="gke-us-west1"}'), 256);
  assert.equal(series.get('orrery_cluster_allocatable_devices{cluster="gke-us-west1",device_class="gpu.nvidia.com"}'), 32);
  assert.ok((series.get('orrery_cluster_free_cpu_cores{cluster="gke-us-west1"}') ?? 999) <= 256 - 40, 'free is what others and Orrery leave');
  assert.ok(
    [...series.keys()].some((k) => /^orrery_build_info\{version="\d+\.\d+\.\d+",nodejs_version="v\d+/.test(k)),
    'build info names the versions',
  );
});

const big = 'x'.repeat(70 * 1024);
const bad: [string, string, string, unknown, { token?: string | null; raw?: string; type?: string }, number, RegExp][] = [
  ['no token', 'GET', '/v1/capacity', undefined, { token: null }, 401, /a bearer token is required/],
  ['a wrong token', 'GET', '/v1/capacity', undefined, { token: 'nope' }, 401, /the bearer token is not valid/],
  ['metrics without a token', 'GET', '/metrics', undefined, { token: null }, 401, /bearer token/],
  ['malformed JSON', 'POST', '/v1/whatif', undefined, { raw: '{"placements": [' }, 400, /not valid JSON/],
  ['what-if without placements', 'POST', '/v1/whatif', {}, {}, 400, /^placements: required$/],
  ['what-if with an empty list', 'POST', '/v1/whatif', { placements: [] }, {}, 400, /^placements: must have at least 1 item$/],
  ['what-if with a string spec', 'POST', '/v1/whatif', { placements: ['web'] }, {}, 400, /^placements\[0\]: expected an object, got "web"$/],
  [
    'what-if with negative replicas',
    'POST',
    '/v1/whatif',
    { placements: [{ spec: { ...placement('x').spec, replicas: -2 } }] },
    {},
    400,
    /placements\[0\]\.spec\.replicas: must be between 0 and 100000, got -2/,
  ],
  [
    'what-if with an unknown device class',
    'POST',
    '/v1/whatif',
    { placements: [{ spec: { ...placement('x').spec, accelerators: [{ deviceClassName: 'fpga.example.com', count: 1 }] } }] },
    {},
    400,
    /no cluster offers fpga\.example\.com/,
  ],
  ['what-if with a bad quantity', 'POST', '/v1/whatif', { placements: [placement('x', { cpu: 'lots' })] }, {}, 400, /"lots" is not a quantity/],
  ['an oversized body', 'POST', '/v1/whatif', undefined, { raw: JSON.stringify({ placements: [{ spec: {}, pad: big }] }) }, 413, /larger than this server accepts/],
  ['a body that is not JSON', 'POST', '/v1/whatif', undefined, { raw: 'placements=1', type: 'text/plain' }, 415, /Unsupported Media Type|not supported/i],
  ['scale with negative replicas', 'POST', '/v1/namespaces/ml/placements/llm-inference/scale', { replicas: -1 }, {}, 400, /^replicas: must be between 0 and 100000, got -1$/],
  ['scale with replicas as text', 'POST', '/v1/namespaces/ml/placements/llm-inference/scale', { replicas: 'many' }, {}, 400, /^replicas: expected an integer, got "many"$/],
  ['scale with replicas as a numeral', 'POST', '/v1/namespaces/ml/placements/llm-inference/scale', { replicas: '5' }, {}, 400, /^replicas: expected an integer, got "5"$/],
  ['scale with both replicas and delta', 'POST', '/v1/namespaces/ml/placements/llm-inference/scale', { replicas: 1, delta: 1 }, {}, 400, /exactly one of replicas or delta/],
  ['scale with neither', 'POST', '/v1/namespaces/ml/placements/llm-inference/scale', {}, {}, 400, /exactly one of replicas or delta/],
  ['scale below zero by delta', 'POST', '/v1/namespaces/ml/placements/llm-inference/scale', { delta: -1000 }, {}, 400, /would take replicas below 0/],
  ['scale an unknown placement', 'POST', '/v1/namespaces/ml/placements/nope/scale', { replicas: 1 }, {}, 404, /placement ml\/nope not found/],
  ['read an unknown placement', 'GET', '/v1/namespaces/ml/placements/nope', undefined, {}, 404, /placement ml\/nope not found/],
  ['explain an unknown placement', 'GET', '/v1/namespaces/ml/placements/nope/explain', undefined, {}, 404, /placement ml\/nope not found/],
  ['put a placement whose name differs from the path', 'PUT', '/v1/namespaces/ml/placements/a', placement('b', { namespace: 'ml' }), {}, 400, /metadata says ml\/b, the path ml\/a/],
  ['put an invalid placement', 'PUT', '/v1/namespaces/ml/placements/a', { spec: { replicas: 1 } }, {}, 400, /^spec\.template: required$/],
  ['fit with a bad quantity', 'GET', '/v1/capacity/fit?cpu=12QB', undefined, {}, 400, /cpu: "12QB" is not a quantity/],
  ['fit with an unknown device class', 'GET', '/v1/capacity/fit?deviceClass=fpga', undefined, {}, 400, /no cluster offers device class fpga/],
  ['fit with an unknown extended resource', 'GET', '/v1/capacity/fit?resourceName=example.com%2Ffpga', undefined, {}, 400, /no cluster offers example\.com\/fpga/],
  ['fit with a class and a resource', 'GET', '/v1/capacity/fit?deviceClass=gpu.nvidia.com&resourceName=nvidia.com%2Fgpu', undefined, {}, 400, /give deviceClass or resourceName, not both/],
  ['fit without a shape', 'GET', '/v1/capacity/fit', undefined, {}, 400, /at least one of cpu, memory, deviceClass or resourceName/],
  ['capacity with a bad selector', 'GET', '/v1/capacity?selector=%3D%3Dx', undefined, {}, 400, /selector: /],
  ['capacity with an unknown parameter', 'GET', '/v1/capacity?colour=red', undefined, {}, 400, /^querystring\.colour: unknown field "colour"$/],
  ['an unknown route', 'GET', '/v1/nothing', undefined, {}, 404, /no route GET \/v1\/nothing/],
  ['a route asked with another method', 'POST', '/v1/capacity', {}, {}, 405, /^POST is not served on \/v1\/capacity: GET is$/],
  ['a name longer than a name may be', 'GET', `/v1/namespaces/ml/placements/${'n'.repeat(300)}`, undefined, {}, 400, /^params\.name: must be at most 253 characters, got 300$/],
  // the router's own refusals, in the same shape and without the path echoed back
  ['a path part longer than any route takes', 'GET', `/v1/namespaces/ml/placements/${'n'.repeat(2000)}`, undefined, {}, 414, /^a part of the path is longer than 1024 characters$/],
  ['a path with a broken %-escape', 'GET', '/v1/namespaces/ml/placements/%E0%A4%A', undefined, {}, 400, /^the path is not a valid URL/],
];

for (const [name, method, path, body, opts, status, message] of bad) {
  test(`refused: ${name}`, async () => {
    const r = await http(method, path, body, opts);
    assert.equal(r.status, status, r.text);
    assert.match(String(r.json?.message ?? r.text), message);
    assert.doesNotMatch(r.text, /\s+at \S+ \(/, 'no stack trace');
    const issues = (r.json as { issues?: { code: string; path: unknown[]; message: string }[] } | undefined)?.issues ?? [];
    assert.ok(issues.length > 0 && issues.every((i) => ISSUE_CODES.includes(i.code as never) && Array.isArray(i.path)), `issues with codes and paths: ${r.text}`);
  });
}

test("a refused Placement answers with the core's issues unchanged: codes and structured paths", async () => {
  const bad = { spec: { ...placement('x').spec, replicas: -2, accelerators: [{ deviceClassName: 'gpu.nvidia.com', count: 'two' }] } };
  const r = await http('PUT', '/v1/namespaces/team/placements/bad', bad);
  assert.equal(r.status, 400);
  assert.deepEqual((r.json as { issues: unknown }).issues, [
    { code: 'FieldValueInvalid', path: ['spec', 'replicas'], message: 'must be between 0 and 100000, got -2' },
    { code: 'FieldValueTypeInvalid', path: ['spec', 'accelerators', 0, 'count'], message: 'expected an integer, got "two"' },
  ]);
  const q = await http('GET', '/v1/capacity/fit?cpu=lots');
  assert.equal(q.status, 400);
  assert.deepEqual(
    (q.json as { issues: { code: string; path: unknown[] }[] }).issues.map((i) => [i.code, i.path]),
    [['QuantityInvalid', ['querystring', 'cpu']]],
  );
});

test('fit counts replicas of the shape, devices per replica divided in, from the fleet file itself', async () => {
  const f = await loadFleet(join(root, 'examples', 'fleet.yaml'));
  assert.ok(f.ok);
  const bare = await buildApp({ engine: new EmbeddedEngine(f.value.snapshot, []), auth: new StaticToken(TOKEN) });
  try {
    // what the file says is free, one node per cluster, counted here without the core
    const expected = (devices: number) =>
      f.value.snapshot.clusters
        .filter((c) => c.healthy && c.reachable !== false)
        .map((c) => {
          const gpu = c.devices.find((d) => d.deviceClassName === 'gpu.nvidia.com');
          if (gpu === undefined) return 0;
          return Math.max(
            0,
            Math.min(
              Math.floor((gpu.total - gpu.allocated) / devices),
              Math.floor((c.allocatable.cpu - c.allocated.cpu) / 8000),
              Math.floor((c.allocatable.memory - c.allocated.memory) / (64 * 2 ** 30)),
              c.allocatable.pods - c.allocated.pods,
            ),
          );
        })
        .reduce((s, n) => s + n, 0);
    for (const devices of [1, 2, 4]) {
      const r = await bare.inject({ method: 'GET', url: `/v1/capacity/fit?cpu=8&memory=64Gi&deviceClass=gpu.nvidia.com&devices=${devices}`, headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(r.statusCode, 200);
      assert.equal(r.json().total, expected(devices), `${devices} devices per replica`);
    }
    assert.notEqual(expected(1), expected(4), 'the shapes differ in what fits');
  } finally {
    await bare.close();
  }
});

test('the scale hook preempts on the embedded default: the inference service gets its GPUs from fine-tuning, the answer says so, and the metric counts it', async () => {
  const { EmbeddedEngine: Engine } = await import('../src/embedded/engine.js');
  const f = await loadFleet(join(root, 'examples', 'fleet.yaml'));
  const ps = await loadPlacements(join(root, 'examples', 'placements.yaml'));
  assert.ok(f.ok && ps.ok);
  let engine: InstanceType<typeof Engine> | undefined;
  const metrics = new Metrics(() => engine);
  engine = new Engine(f.value.snapshot, ps.value, { observe: metrics.observe });
  const own = await buildApp({ engine, metrics, auth: new StaticToken(TOKEN) });
  try {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const r = await own.inject({ method: 'POST', url: '/v1/namespaces/ml/placements/llm-inference/scale', headers: auth, payload: { delta: 2 } });
    assert.equal(r.statusCode, 200, r.body);
    const d = r.json().decision as { unscheduledReplicas: number; preemptions?: { preemptor: string; victim: string; cluster: string; replicas: number }[] };
    assert.equal(d.unscheduledReplicas, 0);
    assert.deepEqual([...new Set(d.preemptions?.map((p) => `${p.preemptor} <- ${p.victim}`))], ['ml/llm-inference <- ml/fine-tune']);
    const fine = await own.inject({ method: 'GET', url: '/v1/namespaces/ml/placements/fine-tune', headers: auth });
    assert.equal(fine.json().decision.reason, 'Preempted');
    const text = (await own.inject({ method: 'GET', url: '/metrics', headers: auth })).body;
    const taken = Number(/^orrery_preempted_replicas_total (\S+)$/m.exec(text)?.[1]);
    assert.equal(
      taken,
      d.preemptions?.reduce((n, p) => n + p.replicas, 0),
    );
  } finally {
    await own.close();
  }
});

for (const [name, spec, , field, message] of MEMBER_REFUSALS) {
  test(`refused up front as a member would refuse it: ${name}`, async () => {
    const body = { spec: { ...placement('x').spec, ...spec } };
    const r = await http('PUT', '/v1/namespaces/team/placements/member-refusal', body);
    assert.equal(r.status, 400, r.text);
    const issues = (r.json as { issues: Issue[] }).issues;
    const at = issues.find((i) => formatPath(i.path) === field);
    assert.ok(at !== undefined, `an issue at ${field}: ${r.text}`);
    assert.match(at.message, message);
    assert.equal((await http('GET', '/v1/namespaces/team/placements/member-refusal')).status, 404, 'nothing was stored');
    // a snapshot file's placements are held to the same rules, in the same words
    const checked = checkPlacement({ ...placement('x', { namespace: 'team' }), spec: body.spec });
    assert.ok(!checked.ok);
    const fromFile = checked.error.find((i) => formatPath(i.path) === field);
    assert.ok(fromFile !== undefined, `the validator names ${field}: ${formatIssues(checked.error)}`);
    assert.match(fromFile.message, message);
  });
}

test('with a token, every route but the probes, the page and the API description refuses a call without it', async () => {
  const doc = (await http('GET', '/openapi.json', undefined, { token: null })).json as { paths: Record<string, Record<string, unknown>> };
  const open = new Set(['/healthz', '/readyz']);
  let guarded = 0;
  for (const [path, methods] of Object.entries(doc.paths)) {
    const url = path.replace('{namespace}', 'ml').replace('{name}', 'llm-inference');
    for (const method of Object.keys(methods)) {
      if (method === 'head') continue;
      const r = await http(method.toUpperCase(), url, method === 'get' || method === 'delete' ? undefined : {}, { token: null });
      if (open.has(path)) assert.equal(r.status, 200, `${method} ${path} is a probe`);
      else {
        assert.equal(r.status, 401, `${method.toUpperCase()} ${path} without a token: ${r.text}`);
        guarded++;
      }
    }
  }
  assert.ok(guarded >= 10, `every data route was tried (${guarded})`);
  for (const path of ['/metrics', '/v1/watch']) assert.equal((await http('GET', path, undefined, { token: null })).status, 401, path);
  // open, and holding no fleet data
  for (const path of ['/ui/', '/ui/app.js', '/openapi.json', '/docs/']) assert.equal((await http('GET', path, undefined, { token: null })).status, 200, path);
  const page = (await http('GET', '/ui/', undefined, { token: null })).text;
  assert.doesNotMatch(page, /llm-inference|gke-us/, 'the page itself holds no placement or cluster');
});
