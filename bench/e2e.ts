// npm run bench:e2e: Orrery on the test fleet, as `orrery serve` in a process of its own, at two
// sizes: a hub with 4 members and 1,000 Placements, and a hub with 10 members and 10,000. Measures
// the time from a Placement's creation to its Deployment existing in the chosen member (one at a
// time, and for every Placement of a burst created at once), how long the burst takes to be
// applied, and the controller's peak memory.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestFleet } from '../test/env/fleet.js';
import { type Endpoint, call, eventually } from '../test/env/kube.js';
import { createNode, reapTerminatingPods } from '../test/env/members.js';
import { installCrd, registerMember } from '../test/env/hub.js';
import { placement } from '../test/fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const SINGLE = Number(process.env.BENCH_SINGLE ?? 50);
/** members × placements, e.g. 4x1000,10x10000 */
const SIZES = (process.env.BENCH_E2E ?? '4x1000,10x10000').split(',').map((s) => s.split('x').map(Number) as [number, number]);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: Math.round(kb('VmRSS') / 1024), peakMiB: Math.round(kb('VmHWM') / 1024) };
}

interface Result {
  readonly members: number;
  readonly single: { placements: number; p50Ms: number; p99Ms: number };
  readonly burst: { placements: number; createdInMs: number; appliedInMs: number; p50Ms: number; p99Ms: number };
  readonly controller: { rssMiB: number; peakMiB: number };
}

async function run(members: number, burstSize: number): Promise<Result> {
  const fleet = await TestFleet.start({ members });
  const hub = fleet.hub.endpoint();
  let server: ChildProcess | undefined;
  const reapers: (() => void)[] = [];
  try {
    for (const f of ['crds/placement.orrery.dev_placements.yaml', 'deploy/cluster-inventory/multicluster.x-k8s.io_clusterprofiles.yaml', 'deploy/cluster-inventory/multicluster.x-k8s.io_placementdecisions.yaml']) {
      await installCrd(hub, join(root, f));
    }
    for (const ns of ['fleet', 'bench', 'orrery-system']) await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // room for every replica: 100m each, up to 500 Pods a node
    const nodes = Math.max(3, Math.ceil((SINGLE + burstSize) / members / 400));
    for (const m of fleet.members) {
      for (let i = 0; i < nodes; i++) await createNode(m.endpoint(), { name: `${m.name}-n${i}`, cpu: '64', memory: '256Gi', pods: 500 });
      reapers.push(reapTerminatingPods(m.endpoint(), 1000));
      await registerMember(hub, m, 'fleet');
    }
    const path = '/apis/placement.orrery.dev/v1alpha1/namespaces/bench/placements';
    await eventually('placements served', () => call(hub, 'GET', path));

    // the heap limit the manifests in deploy/ give the controller
    server = spawn(process.execPath, ['--max-old-space-size=256', join(root, 'dist', 'src', 'cli', 'main.js'), 'serve', '--kubeconfig', fleet.hub.kubeconfig('admin'), '--namespace', 'fleet', '--lease-namespace', 'orrery-system', '--port', '0'], {
      env: { ...process.env, ORRERY_LOG: 'off', POD_NAME: 'bench' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    server.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
      if (process.env.BENCH_VERBOSE) process.stderr.write(`[orrery] ${d.toString()}`);
    });
    await eventually('orrery leads', async () => (log.includes('leads') ? true : undefined), 60_000, 100);

    const exists = async (ep: Endpoint, name: string) => call(ep, 'GET', `/apis/apps/v1/namespaces/bench/deployments/${name}`).then(() => true, () => false);
    const anywhere = async (name: string) => (await Promise.all(fleet.members.map((m) => exists(m.endpoint(), name)))).some(Boolean);

    // 1. one at a time
    const latencies: number[] = [];
    for (let i = 0; i < SINGLE; i++) {
      const name = `one-${i}`;
      const t0 = performance.now();
      await call(hub, 'POST', path, placement(name, { namespace: 'bench', replicas: 1, cpu: '100m', memory: '64Mi' }));
      await eventually(`${name} applied`, async () => ((await anywhere(name)) ? true : undefined), 30_000, 10);
      latencies.push(performance.now() - t0);
    }

    // 2. a burst: every Placement's creation time, and when its Deployment was first seen
    const names = Array.from({ length: burstSize }, (_, i) => `burst-${i}`);
    const createdAt = new Map<string, number>();
    const seenAt = new Map<string, number>();
    const watching = fleet.members.map((m) => watchDeployments(m.endpoint(), (name) => (seenAt.has(name) ? undefined : seenAt.set(name, performance.now()))));
    const t1 = performance.now();
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(
        names.slice(i, i + 25).map(async (name) => {
          createdAt.set(name, performance.now());
          await call(hub, 'POST', path, placement(name, { namespace: 'bench', replicas: 1, cpu: '100m', memory: '64Mi' }));
        }),
      );
    }
    const created = performance.now() - t1;
    let said = 0;
    await eventually(
      'the burst applied',
      async () => {
        const n = names.filter((x) => seenAt.has(x)).length;
        if (performance.now() - said > 10_000) {
          said = performance.now();
          process.stderr.write(`[bench] ${members} members: ${n} of ${burstSize} applied after ${((performance.now() - t1) / 1000).toFixed(0)} s; controller RSS ${memoryOf(server!.pid!).rssMiB} MiB\n`);
        }
        return n === burstSize ? true : undefined;
      },
      900_000,
      250,
    );
    const burst = Math.max(...names.map((n) => seenAt.get(n)!)) - t1;
    for (const stop of watching) stop();
    const burstLatencies = names.map((n) => seenAt.get(n)! - createdAt.get(n)!);
    await new Promise((r) => setTimeout(r, 2000));
    return {
      members,
      single: { placements: SINGLE, p50Ms: Math.round(percentile(latencies, 50)), p99Ms: Math.round(percentile(latencies, 99)) },
      burst: { placements: burstSize, createdInMs: Math.round(created), appliedInMs: Math.round(burst), p50Ms: Math.round(percentile(burstLatencies, 50)), p99Ms: Math.round(percentile(burstLatencies, 99)) },
      controller: memoryOf(server.pid!),
    };
  } finally {
    server?.kill('SIGTERM');
    for (const stop of reapers) stop();
    await fleet.stop();
  }
}

/** Watches the bench namespace's Deployments in one member; calls `seen` with each name added. */
function watchDeployments(ep: Endpoint, seen: (name: string) => void): () => void {
  let stopped = false;
  let current: ReturnType<typeof request> | undefined;
  const watch = () => {
    if (stopped) return;
    const url = new URL('/apis/apps/v1/namespaces/bench/deployments?watch=1&allowWatchBookmarks=false', ep.server);
    current = request(url, { ca: ep.ca, headers: { authorization: `Bearer ${ep.token}` } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 1);
          const e = JSON.parse(line) as { type: string; object: { metadata: { name: string } } };
          if (e.type === 'ADDED') seen(e.object.metadata.name);
        }
      });
      res.on('end', watch);
    });
    current.on('error', () => setTimeout(watch, 100));
    current.end();
  };
  watch();
  return () => {
    stopped = true;
    current?.destroy();
  };
}

const machine = `${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, node ${process.version}`;
const results: Result[] = [];
for (const [members, burst] of SIZES) {
  const r = await run(members, burst);
  results.push(r);
  process.stderr.write(`[bench] ${JSON.stringify(r)}\n`);
}
const lines = [`machine: ${machine}; a hub and its members on loopback, all on this machine; the controller's heap limited to 256 MiB as deploy/ does`, ''];
lines.push(`${'MEMBERS'.padEnd(9)}${'PLACEMENTS'.padEnd(12)}${'ONE P50/P99 MS'.padEnd(16)}${'BURST APPLIED S'.padEnd(17)}${'BURST P50/P99 MS'.padEnd(18)}${'RSS/PEAK MIB'}`);
for (const r of results) {
  lines.push(
    `${String(r.members).padEnd(9)}${String(r.burst.placements + r.single.placements).padEnd(12)}${`${r.single.p50Ms}/${r.single.p99Ms}`.padEnd(16)}${(r.burst.appliedInMs / 1000).toFixed(1).padEnd(17)}${`${r.burst.p50Ms}/${r.burst.p99Ms}`.padEnd(18)}${r.controller.rssMiB}/${r.controller.peakMiB}`,
  );
}
process.stdout.write(lines.join('\n') + '\n');
const out = join(root, 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'e2e.json'), JSON.stringify({ machine, results }, null, 2) + '\n');
