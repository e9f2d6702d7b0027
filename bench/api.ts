// npm run bench:api: the HTTP API under load, with the 100-cluster × 1,000-placement bench
// fleet loaded. The server runs in a process of its own; autocannon drives it over loopback.
// What-if bodies differ from request to request, so the answer cache does not flatter it.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { dump } from 'js-yaml';
import { toSnapshotDocument } from '../src/fleet/snapshotFile.js';
import { SCENARIOS, generate } from './scenarios.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const TOKEN = 'bench-token';

async function startServer(fleetFile: string, port: number): Promise<ChildProcess> {
  // BENCH_PROFILE=dir: the server writes a CPU profile there when it stops
  const profile = process.env.BENCH_PROFILE !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, join(root, 'dist', 'src', 'cli', 'main.js'), 'serve', '--fleet', fleetFile, '--port', String(port)], {
    env: { ...process.env, ORRERY_TOKEN: TOKEN, ORRERY_LOG: 'off' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => (d.toString().includes('serving') ? resolve() : undefined));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return child;
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const spec = SCENARIOS.find((s) => s.name === 'medium')!;
const scenario = generate(spec);
const dir = mkdtempSync(join(tmpdir(), 'orrery-bench-api-'));
const fleetFile = join(dir, 'fleet.yaml');
writeFileSync(fleetFile, dump(toSnapshotDocument(scenario.snapshot, scenario.placements), { noRefs: true }));
const port = 18000 + Math.floor(Math.random() * 1000);
const server = await startServer(fleetFile, port);
const base = `http://127.0.0.1:${port}`;
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const sample = scenario.placements.slice(0, 50);
let n = 0;

const duration = Number(process.env.BENCH_SECONDS ?? 10);
const results: Record<string, autocannon.Result> = {};
try {
  // warm up the server's JIT before measuring
  await run({ url: `${base}/v1/capacity`, headers, duration: 2, connections: 4 });
  results.whatif = await run({
    url: `${base}/v1/whatif`,
    method: 'POST',
    headers,
    connections: 10,
    duration,
    requests: [
      {
        setupRequest: (req) => {
          const p = sample[n++ % sample.length]!;
          // a different replica count each time: no two bodies alike, no cached answers
          return { ...req, body: JSON.stringify({ placements: [{ spec: { ...p.spec, replicas: 1 + (n % 97) } }] }) };
        },
      },
    ],
  });
  const target = scenario.placements[0]!;
  const path = `/v1/namespaces/${target.metadata.namespace}/placements/${target.metadata.name}/scale`;
  results.scale = await run({
    url: `${base}${path}`,
    method: 'POST',
    headers,
    connections: 10,
    duration,
    requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ delta: n++ % 2 === 0 ? 1 : -1 }) }) }],
  });
} finally {
  server.kill('SIGTERM');
  if (server.exitCode === null) await new Promise((r) => server.once('exit', r));
}

const row = (name: string, r: autocannon.Result) =>
  `${name.padEnd(10)} ${String(Math.round(r.requests.average)).padEnd(12)} ${String(r.latency.p50).padEnd(8)} ${String(r.latency.p99).padEnd(8)} ${String(r.non2xx).padEnd(6)} ${r.errors}`;
const machine = `${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, node ${process.version}`;
process.stdout.write(
  [
    `machine: ${machine}; fleet: ${spec.clusters} clusters, ${spec.placements} placements; 10 connections, ${duration} s each`,
    '',
    `${'ROUTE'.padEnd(10)} ${'REQUESTS/S'.padEnd(12)} ${'P50 MS'.padEnd(8)} ${'P99 MS'.padEnd(8)} ${'NON2XX'.padEnd(6)} ERRORS`,
    row('whatif', results.whatif!),
    row('scale', results.scale!),
    '',
  ].join('\n'),
);
const out = join(root, 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'api.json'),
  `${JSON.stringify(
    {
      machine,
      fleet: { clusters: spec.clusters, placements: spec.placements },
      whatif: { requestsPerSecond: results.whatif!.requests.average, latencyMs: results.whatif!.latency, non2xx: results.whatif!.non2xx },
      scale: { requestsPerSecond: results.scale!.requests.average, latencyMs: results.scale!.latency, non2xx: results.scale!.non2xx },
    },
    null,
    2,
  )}\n`,
);
