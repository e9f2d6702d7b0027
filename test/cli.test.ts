// The orrery command as a user runs it: the shipped example, every output format, and
// malformed snapshot files, each refused with the path of the bad field and no stack trace.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { load } from 'js-yaml';
import { EmbeddedEngine } from '../src/embedded/engine.js';
import { loadFleet, loadPlacements } from '../src/fleet/snapshotFile.js';
import { buildApp } from '../src/server/app.js';
import { LoopbackOnly } from '../src/server/auth.js';
import { serving } from './serving.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const fleet = join(root, 'examples', 'fleet.yaml');
const placements = join(root, 'examples', 'placements.yaml');

function orrery(...args: string[]) {
  return orreryIn({}, ...args);
}

/** The command with some environment variables set (or, with undefined, taken away). */
function orreryIn(env: Record<string, string | undefined>, ...args: string[]) {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) merged[k] = v;
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', env: merged });
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
  assert.match(output.stderr, /--output must be table, wide, name, json or yaml, not "xml"/);
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

test('-o name prints one name a line; -o wide adds columns', () => {
  const names = orrery('plan', '--fleet', fleet, '--placements', placements, '-o', 'name');
  assert.equal(names.code, 0, names.stderr);
  assert.deepEqual(names.stdout.trim().split('\n'), ['analytics/reports', 'ml/fine-tune', 'ml/llm-inference', 'ml/tpu-batch', 'shop/storefront']);
  const wide = orrery('plan', '--fleet', fleet, '--placements', placements, '-o', 'wide');
  assert.match(wide.stdout.split('\n')[0] ?? '', /REASON\s+PRIORITY\s+MESSAGE$/);
  assert.match(wide.stdout, /ml\/llm-inference .* 100 +10 replicas on/);
  assert.match(wide.stdout, /ml\/tpu-batch .*2 of 6 replicas unscheduled/);
  const clusters = orrery('capacity', '--fleet', fleet, '-o', 'name').stdout.trim().split('\n');
  assert.equal(clusters.length, 8);
  assert.ok(clusters.includes('onprem-frankfurt'), 'an unhealthy cluster is still a name');
  const capWide = orrery('capacity', '--fleet', fleet, '-o', 'wide').stdout;
  assert.match(capWide.split('\n')[0] ?? '', /^CLUSTER\s+REGION\s+ZONE\s+HEALTHY.*LABELS$/);
  assert.match(capWide, /aks-europe-west4\s+europe-west4\s+europe-west4-a\s+True.*provider=aks/);
  const eligible = orrery('explain', 'ml/tpu-batch', '--fleet', fleet, '--placements', placements, '-o', 'name');
  assert.deepEqual(eligible.stdout.trim().split('\n'), ['aks-europe-west4'], 'only the clusters it may go to');
  assert.match(orrery('explain', 'ml/tpu-batch', '--fleet', fleet, '--placements', placements, '-o', 'wide').stdout.split('\n')[0] ?? '', /^CLUSTER\s+REGION\s+ELIGIBLE/);
  const fleetOut = orrery('fleet', '-o', 'table');
  assert.equal(fleetOut.code, 2);
  assert.match(fleetOut.stderr, /--output must be yaml, json or name, not "table"/);
});

test('a directory, an empty file or a file of the wrong kind is named as such', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-'));
  const asFleet = orrery('plan', '--fleet', dir);
  assert.equal(asFleet.code, 1);
  assert.equal(asFleet.stderr, `error: ${dir} is a directory: give the file itself\n`);
  const empty = join(dir, 'empty.yaml');
  writeFileSync(empty, '');
  const noPlacements = orrery('plan', '--fleet', fleet, '--placements', empty);
  assert.equal(noPlacements.code, 1);
  assert.match(noPlacements.stderr, /empty.yaml: no Placements in it \(it is empty\)/);
  // the example fleet file lists no placements of its own
  const fleetAsPlacements = orrery('plan', '--fleet', fleet, '--placements', fleet);
  assert.equal(fleetAsPlacements.code, 1);
  assert.match(fleetAsPlacements.stderr, /no Placements in it \(it holds FleetSnapshot\)/);
  const placementsAsFleet = orrery('plan', '--fleet', placements);
  assert.equal(placementsAsFleet.code, 1);
  assert.match(placementsAsFleet.stderr, /expected one FleetSnapshot document, found 5/);
});

test('the hub is found as kubectl finds it: --kubeconfig, KUBECONFIG, ~/.kube/config, --context', () => {
  const home = mkdtempSync(join(tmpdir(), 'orrery-home-'));
  const none = orreryIn({ HOME: home, KUBECONFIG: undefined }, 'fleet');
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no kubeconfig: give --kubeconfig FILE, set KUBECONFIG, or write ~\/.kube\/config/);
  assert.doesNotMatch(none.stderr, /Invalid URL/);
  const wrongKind = orreryIn({ HOME: home }, 'fleet', '--kubeconfig', fleet);
  assert.equal(wrongKind.stderr, `error: ${fleet}: not a kubeconfig (it is a FleetSnapshot)\n`);
  assert.match(orreryIn({ HOME: home }, 'fleet', '--kubeconfig', home).stderr, /is a directory, not a kubeconfig file/);
  // Two contexts, neither with a server that answers: which one was used shows in the error.
  const config = (port: number, current: string) => `apiVersion: v1
kind: Config
current-context: ${current}
clusters:
- name: a
  cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}
- name: b
  cluster: {server: "https://127.0.0.1:${port + 1}", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: t}
contexts:
- name: first
  context: {cluster: a, user: u}
- name: second
  context: {cluster: b, user: u}
`;
  mkdirSync(join(home, '.kube'));
  writeFileSync(join(home, '.kube', 'config'), config(1, 'first'));
  const fromHome = orreryIn({ HOME: home, KUBECONFIG: undefined }, 'fleet');
  assert.equal(fromHome.code, 1);
  assert.match(fromHome.stderr, /reading ClusterProfiles from the hub: .*127\.0\.0\.1:1\b/);
  const envFile = join(home, 'other');
  writeFileSync(envFile, config(3, 'first'));
  const fromEnv = orreryIn({ HOME: home, KUBECONFIG: envFile }, 'fleet', '--context', 'second');
  assert.match(fromEnv.stderr, /127\.0\.0\.1:4\b/, 'KUBECONFIG before ~/.kube/config, and the context asked for');
  const unknown = orreryIn({ HOME: home, KUBECONFIG: envFile }, 'fleet', '--context', 'third');
  assert.equal(unknown.stderr, `error: no context "third" in ${envFile} (contexts: first, second)\n`);
});

test('completion: bash completes commands, flags and their values', () => {
  const script = orrery('completion', 'bash');
  assert.equal(script.code, 0, script.stderr);
  const dir = mkdtempSync(join(tmpdir(), 'orrery-'));
  writeFileSync(join(dir, 'orrery.bash'), script.stdout);
  const complete = (...words: string[]) => {
    const line = words.map((w) => `'${w}'`).join(' ');
    const r = spawnSync('bash', ['-c', `source ${join(dir, 'orrery.bash')}; COMP_WORDS=(orrery ${line}); COMP_CWORD=${words.length}; _orrery; printf '%s\\n' "\${COMPREPLY[@]}"`], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout
      .trim()
      .split('\n')
      .filter((x) => x !== '');
  };
  assert.deepEqual(complete('pl'), ['plan']);
  assert.ok(complete('plan', '--').includes('--solver'));
  assert.ok(!complete('plan', '--').includes('--kubeconfig'), 'flags of another command are not offered');
  assert.deepEqual(complete('plan', '--solver', ''), ['auto', 'greedy', 'best-fit', 'node-best-fit', 'least-fragmentation']);
  assert.deepEqual(complete('fleet', '-o', ''), ['yaml', 'json', 'name']);
  assert.deepEqual(complete('completion', ''), ['bash', 'zsh']);
  const bad = orrery('completion', 'fish');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /completion needs one shell: bash or zsh/);
});

/** Runs `orrery serve` on the example, makes one request, stops it; returns what it wrote. */
async function serveOnce(env: Record<string, string | undefined>): Promise<string> {
  const s = await serving(process.execPath, [cli, 'serve', '--fleet', fleet, '--placements', placements, '--port', '0'], { cwd: root, env: { ...process.env, ...env } });
  assert.equal((await fetch(`${s.url}/v1/placements`)).status, 200);
  await s.stop();
  return s.output();
}

test('serve on a snapshot logs no requests unless ORRERY_LOG=info', async () => {
  const quiet = await serveOnce({ ORRERY_LOG: undefined });
  assert.match(quiet, /orrery: serving 8 clusters and 5 placements on http/);
  assert.doesNotMatch(quiet, /request completed|incoming request/);
  assert.doesNotMatch(quiet, /Warning/, 'no deprecation warnings either');
  const logged = await serveOnce({ ORRERY_LOG: 'info' });
  assert.match(logged, /"url":"\/v1\/placements"/);
  assert.match(logged, /request completed/);
});
