// The orrery command as a user runs it: the shipped example, every output format, and
// malformed snapshot files, each refused with the path of the bad field and no stack trace.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { load } from 'js-yaml';
import { EmbeddedEngine } from '../src/embedded/engine.js';
import { loadFleet, loadPlacements } from '../src/fleet/snapshotFile.js';
import { buildApp } from '../src/server/app.js';
import { LoopbackOnly } from '../src/server/auth.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const fleet = join(root, 'examples', 'fleet.yaml');
const placements = join(root, 'examples', 'placements.yaml');

function orrery(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface PlanJson {
  decisions: { placement: string; clusters: { name: string; replicas: number }[]; unscheduledReplicas: number; reason: string; message: string }[];
  stats: { solveMs: number; placedReplicas: number; solver: string };
}

test('plan on the shipped example prints a table of every placement', () => {
  const r = orrery('plan', '--fleet', fleet, '--placements', placements);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0] ?? '', /^PLACEMENT\s+REPLICAS\s+SCHEDULED\s+UNSCHEDULED\s+CLUSTERS\s+REASON$/);
  for (const p of ['shop/storefront', 'ml/llm-inference', 'ml/fine-tune', 'ml/tpu-batch', 'analytics/reports']) {
    assert.ok(
      lines.some((l) => l.startsWith(p)),
      `${p} listed`,
    );
  }
  assert.match(r.stdout, /replicas placed, \d+ unscheduled; 5 placements on 8 clusters/);
});

test('plan --output json follows the contract', () => {
  const r = orrery('plan', '--fleet', fleet, '--placements', placements, '--output', 'json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as PlanJson;
  assert.deepEqual(Object.keys(out), ['decisions', 'stats']);
  assert.equal(typeof out.stats.solveMs, 'number');
  for (const d of out.decisions) {
    assert.match(d.placement, /^[a-z0-9-]+\/[a-z0-9-]+$/);
    assert.ok(Array.isArray(d.clusters));
    for (const c of d.clusters) assert.deepEqual(Object.keys(c), ['name', 'replicas']);
    assert.equal(typeof d.unscheduledReplicas, 'number');
    assert.ok(['Scheduled', 'PartiallyScheduled', 'Unschedulable'].includes(d.reason));
  }
  const storefront = out.decisions.find((d) => d.placement === 'shop/storefront')!;
  assert.equal(storefront.unscheduledReplicas, 0);
  assert.ok(
    storefront.clusters.every((c) => c.name !== 'onprem-frankfurt' && c.name !== 'edge-us-west2'),
    'tainted and unhealthy clusters are left out',
  );
  const tpu = out.decisions.find((d) => d.placement === 'ml/tpu-batch')!;
  assert.deepEqual(
    tpu.clusters.map((c) => c.name),
    ['aks-europe-west4'],
  );
});

test('plan --output yaml is the same object', () => {
  const json = JSON.parse(orrery('plan', '--fleet', fleet, '--placements', placements, '-o', 'json').stdout) as PlanJson;
  const yaml = load(orrery('plan', '--fleet', fleet, '--placements', placements, '-o', 'yaml').stdout) as PlanJson;
  assert.deepEqual(yaml.decisions, json.decisions);
});

test('plan --previous keeps an unchanged decision', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-'));
  const first = orrery('plan', '--fleet', fleet, '--placements', placements, '-o', 'json');
  writeFileSync(join(dir, 'previous.json'), first.stdout);
  const again = orrery('plan', '--fleet', fleet, '--placements', placements, '--previous', join(dir, 'previous.json'), '-o', 'json');
  assert.deepEqual((JSON.parse(again.stdout) as PlanJson).decisions, (JSON.parse(first.stdout) as PlanJson).decisions);
});

test('plan --solver greedy or best-fit runs that floor alone', () => {
  for (const solver of ['greedy', 'best-fit']) {
    const out = JSON.parse(orrery('plan', '--fleet', fleet, '--placements', placements, '--solver', solver, '-o', 'json').stdout) as PlanJson;
    assert.equal(out.stats.solver, solver);
  }
  const wrong = orrery('plan', '--fleet', fleet, '--solver', 'fastest');
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--solver must be auto, greedy, best-fit, node-best-fit, least-fragmentation, not "fastest"/);
});

test('capacity prints clusters, regions and device classes', () => {
  const r = orrery('capacity', '--fleet', fleet);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^CLUSTER\s+REGION\s+HEALTHY\s+CPU\s+MEMORY\s+PODS/);
  assert.match(r.stdout, /gke-us-west1\s+us-west1\s+True\s+216\/256\s+824Gi\/1Ti\s+1880\/2000\s+gpu.nvidia.com=24\/32/);
  assert.match(r.stdout, /\nREGION\s+CLUSTERS/);
  assert.match(r.stdout, /gpu.nvidia.com\s+3\s+30\s+56/);
  const json = JSON.parse(orrery('capacity', '--fleet', fleet, '-o', 'json').stdout) as { total: { clusters: number; free: { cpu: string } } };
  assert.equal(json.total.clusters, 7, 'the unhealthy cluster is not counted');
  assert.equal(json.total.free.cpu, '667500m');
});

test('usage errors exit 2 and say what is wrong', () => {
  const none = orrery('plan');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /plan needs --fleet FILE/);
  const unknown = orrery('frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const flag = orrery('plan', '--fleet', fleet, '--bogus');
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /bogus/);
  const output = orrery('plan', '--fleet', fleet, '-o', 'xml');
  assert.equal(output.code, 2);
  assert.match(output.stderr, /--output must be table, json or yaml, not "xml"/);
  assert.equal(orrery('--help').code, 0);
});

const bad: [file: string, message: string][] = [
  ['bad-quantity.yaml', 'clusters[3].allocatable.memory: "12QB" is not a quantity'],
  ['missing-allocatable.yaml', 'clusters[0].allocatable: is required'],
  ['wrong-kind.yaml', 'kind: expected FleetSnapshot, got "Fleet"'],
  ['wrong-api-version.yaml', 'apiVersion: expected placement.orrery.dev/v1alpha1, got "v1"'],
  ['duplicate-name.yaml', 'clusters[1].name: duplicate cluster name a (also clusters[0])'],
  ['bad-taint-effect.yaml', 'clusters[0].taints[0].effect: expected one of NoSchedule, PreferNoSchedule, NoExecute, got "Sometimes"'],
  ['devices-over-allocated.yaml', 'clusters[0].devices[0].allocated: 10 allocated is more than the 8 devices in total'],
  ['unknown-field.yaml', 'clusters[0].allocatble: unknown field'],
  ['not-yaml.yaml', 'not-yaml.yaml: line 6, column 1:'],
  ['clusters-not-a-list.yaml', 'clusters: expected a list, got an object'],
  ['healthy-not-boolean.yaml', 'clusters[0].healthy: expected true or false, got "yes"'],
  ['bad-name.yaml', 'clusters[0].name: "Not_A_Name" is not a valid name'],
  ['negative-cpu.yaml', 'clusters[0].allocatable.cpu: "-4" is negative'],
  ['empty.yaml', 'expected one FleetSnapshot document, found 0'],
  ['label-not-string.yaml', 'clusters[0].labels.tier: expected a string, got number 3'],
  ['bad-placement.yaml', 'placements[0].spec.template.spec.template.spec.containers[0].resources.requests.cpu: "lots" is not a quantity'],
];

for (const [file, message] of bad) {
  test(`a malformed snapshot is refused: ${file}`, () => {
    const path = join(root, 'test', 'fixtures', 'bad', file);
    const r = orrery('plan', '--fleet', path);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.includes(message), `expected "${message}" in:\n${r.stderr}`);
    assert.ok(r.stderr.startsWith(`error: ${path}: `), 'names the file');
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('a bad placement reports every problem at once', () => {
  const r = orrery('plan', '--fleet', join(root, 'test', 'fixtures', 'bad', 'bad-placement.yaml'));
  assert.match(r.stderr, /placements\[0\]\.spec\.replicas: must be between 0 and 100000, got -1/);
  assert.match(r.stderr, /placements\[0\]\.spec\.spread\.maxClusters: must be at least minClusters \(3\), got 2/);
});

test('a missing file is named', () => {
  const r = orrery('plan', '--fleet', 'nope.yaml');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'error: nope.yaml: no such file\n');
});

test('explain lists each cluster with its filter reason or scores', () => {
  const r = orrery('explain', 'shop/storefront', '--fleet', fleet, '--placements', placements);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^CLUSTER\s+ELIGIBLE\s+REPLICAS\s+ROOM\s+SCORE\s+SCORES OR REASON/);
  assert.match(r.stdout, /onprem-frankfurt\s+False\s+0\s+-\s+-\s+TaintToleration: cluster has taint maintenance=true:NoSchedule that is not tolerated/);
  assert.match(r.stdout, /edge-us-west2\s+False\s+0\s+-\s+-\s+ClusterHealth/);
  // replicas placed there, and how many the room left beside the other placements would hold
  assert.match(r.stdout, /aks-europe-west4\s+True\s+4\s+12\s+[\d.]+\s+Headroom=\d+/);
  const json = JSON.parse(orrery('explain', 'shop/storefront', '--fleet', fleet, '--placements', placements, '-o', 'json').stdout) as { filtered: Record<string, number> };
  assert.deepEqual(json.filtered, { 'ClusterHealth/ClusterUnhealthy': 1, 'ClusterSelector/SelectorMismatch': 2, 'TaintToleration/UntoleratedTaint': 1 });
  const missing = orrery('explain', 'shop/nothing', '--fleet', fleet, '--placements', placements);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no placement shop\/nothing/);
});

test('--version prints the package version; every command explains itself with --help', () => {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const v = orrery('--version');
  assert.equal(v.code, 0);
  assert.equal(v.stdout.trim(), `orrery ${version}`);
  for (const [command, flag] of [
    ['serve', '--lease-namespace'],
    ['plan', '--previous'],
    ['capacity', '--placements'],
    ['explain', 'NAMESPACE/NAME'],
    ['fleet', '--clusterprofile-provider-file'],
  ] as const) {
    const r = orrery(command, '--help');
    assert.equal(r.code, 0, `${command}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage:\\n  orrery ${command} `, 'm'));
    assert.ok(r.stdout.includes(flag), `${command} --help names ${flag}`);
  }
  const serve = orrery('serve', '--help').stdout;
  for (const word of ['--in-cluster', 'PORT', 'ORRERY_LOG', 'ORRERY_TOKEN']) assert.ok(serve.includes(word), `serve --help names ${word}`);
});

async function api(path: string): Promise<unknown> {
  const f = await loadFleet(fleet);
  const p = await loadPlacements(placements);
  assert.ok(f.ok && p.ok);
  const app = await buildApp({ engine: new EmbeddedEngine(f.value.snapshot, p.value), auth: new LoopbackOnly() });
  try {
    const r = await app.inject({ method: 'GET', url: path });
    assert.equal(r.statusCode, 200, r.body);
    return r.json();
  } finally {
    await app.close();
  }
}

test('capacity with placements answers what /v1/capacity answers on the same files', async () => {
  const cli = JSON.parse(orrery('capacity', '--fleet', fleet, '--placements', placements, '-o', 'json').stdout) as Record<string, unknown>;
  const { generation: _generation, ...fromApi } = (await api('/v1/capacity')) as Record<string, unknown>;
  assert.deepEqual(cli, fromApi);
  const bare = JSON.parse(orrery('capacity', '--fleet', fleet, '-o', 'json').stdout) as { total: { free: { cpu: string } } };
  assert.notDeepEqual(bare.total.free, (cli as { total: { free: unknown } }).total.free, 'the placements take room');
});

test('explain gives the same scores, weights and decision from the CLI and the API', async () => {
  for (const key of ['ml/tpu-batch', 'shop/storefront', 'ml/llm-inference']) {
    const cli = JSON.parse(orrery('explain', key, '--fleet', fleet, '--placements', placements, '-o', 'json').stdout) as Record<string, unknown>;
    const [ns, name] = key.split('/');
    assert.deepEqual(cli, await api(`/v1/namespaces/${ns}/placements/${name}/explain`), key);
  }
  const r = orrery('explain', 'ml/tpu-batch', '--fleet', fleet, '--placements', placements);
  assert.match(r.stdout, /^weights: Headroom=1 FreeAccelerators=1 TaintPreference=1 Stability=2$/m);
  assert.match(r.stdout, /^decision: PartiallyScheduled, aks-europe-west4=4; 2 unscheduled: .*1 Insufficient tpu\.google\.com/m);
});
