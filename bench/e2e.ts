// npm run bench:e2e: Orrery on the test fleet, as `orrery serve` in a process of its own: a hub
// with 4 members and 1,000 Placements, a hub with 10 members and 10,000, and the latter again
// with members that are API servers alone. Measures the time from a Placement's creation to its
// Deployment existing in the chosen member (one at a time, and for every Placement of a burst
// created at once), how long the burst takes to be applied, the controller's peak memory, how
// many writes the members and the hub took for each Placement, and the hub API server's CPU
// time. Every control plane shares this machine: a member's controllers (Deployments →
// ReplicaSets → Pods → bindings → status) write a dozen times for each Deployment Orrery
// writes, so the run without them shows Orrery's own pace.

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
/** members × placements, e.g. 4x1000,10x10000; "-apiservers": members without their controllers */
const SIZES = (process.env.BENCH_E2E ?? '4x1000,10x10000,10x10000-apiservers').split(',').map((s) => {
  const [size, bare] = s.split('-');
  const [members, placements] = (size as string).split('x').map(Number) as [number, number];
  return { members, placements, controllers: bare !== 'apiservers' };
});

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

/** CPU time a process has used so far, user and system, in seconds. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are the 14th and 15th fields of the line, in clock ticks (100 a second here)
  return Math.round((Number(fields[11]) + Number(fields[12])) / 10) / 10;
}

function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: Math.round(kb('VmRSS') / 1024), peakMiB: Math.round(kb('VmHWM') / 1024) };
}

interface Result {
  readonly members: number;
  /** whether the members ran their controllers (kube-controller-manager, kube-scheduler) */
  readonly memberControllers: boolean;
  /** writes the members' API servers took, per Placement of the run, once they settled */
  readonly memberWritesPerPlacement: number;
  /** writes the hub's API server took per Placement once settled (its creation included), and its CPU time from the first Placement until then */
  readonly hub: { writesPerPlacement: number; cpuSeconds: number };
  readonly single: { placements: number; p50Ms: number; p99Ms: number };
  readonly burst: { placements: number; createdInMs: number; appliedInMs: number; p50Ms: number; p99Ms: number };
  readonly controller: { rssMiB: number; peakMiB: number; cpuSeconds: number };
}

/** Writes an API server has taken (creates, updates, patches, applies, deletes), from its metrics. */
function writesTaken(ep: Endpoint): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/metrics', ep.server), { ca: ep.ca, headers: { authorization: `Bearer ${ep.token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let n = 0;
        for (const line of text.split('\n')) {
          if (line.startsWith('apiserver_request_total{') && /verb="(POST|PUT|PATCH|APPLY|DELETE)"/.test(line)) n += Number(line.slice(line.lastIndexOf(' ') + 1));
        }
        resolve(n);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function run(members: number, burstSize: number, controllers: boolean): Promise<Result> {
  const fleet = await TestFleet.start({ members, membersWithoutControllers: !controllers });
  const hub = fleet.hub.endpoint();
  let server: ChildProcess | undefined;
  const reapers: (() => void)[] = [];
  try {
    for (const f of [
      'crds/placement.orrery.dev_placements.yaml',
      'deploy/cluster-inventory/multicluster.x-k8s.io_clusterprofiles.yaml',
      'deploy/cluster-inventory/multicluster.x-k8s.io_placementdecisions.yaml',
    ]) {
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
    const hubPid = fleet.hub.apiserver.pid!;
    const [hubWritesBefore, hubCpuBefore] = [await writesTaken(hub), cpuOf(hubPid)];

    // the heap limit the manifests in deploy/ give the controller
    // BENCH_PROFILE=dir: the controller writes a CPU profile there when it stops
    const profile = process.env.BENCH_PROFILE !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    server = spawn(
      process.execPath,
      [
        ...profile,
        '--max-old-space-size=256',
        join(root, 'dist', 'src', 'cli', 'main.js'),
        'serve',
        '--kubeconfig',
        fleet.hub.kubeconfig('admin'),
        '--namespace',
        'fleet',
        '--lease-namespace',
        'orrery-system',
        '--port',
        '0',
      ],
      {
        env: { ...process.env, ORRERY_LOG: 'off', POD_NAME: 'bench' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let log = '';
    server.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
      if (process.env.BENCH_VERBOSE) process.stderr.write(`[orrery] ${d.toString()}`);
    });
    await eventually('orrery leads', async () => (log.includes('leads') ? true : undefined), 60_000, 100);

    const exists = async (ep: Endpoint, name: string) =>
      call(ep, 'GET', `/apis/apps/v1/namespaces/bench/deployments/${name}`).then(
        () => true,
        () => false,
      );
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
          process.stderr.write(
            `[bench] ${members} members: ${n} of ${burstSize} applied after ${((performance.now() - t1) / 1000).toFixed(0)} s; controller RSS ${memoryOf(server!.pid!).rssMiB} MiB\n`,
          );
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
    const controller = { ...memoryOf(server.pid!), cpuSeconds: cpuOf(server.pid!) };
    // The members' controllers go on after the last Deployment is written, and the hub takes
    // the burst's status, slices and Events after it: count the writes of both once they have
    // settled (no more than 0.5% in 5 s), or after two minutes.
    const memberWritesNow = async () => (await Promise.all(fleet.members.map((m) => writesTaken(m.endpoint())))).reduce((a, b) => a + b, 0);
    let [memberWrites, hubWrites] = [await memberWritesNow(), await writesTaken(hub)];
    for (const until = performance.now() + 120_000; performance.now() < until; ) {
      await new Promise((r) => setTimeout(r, 5000));
      const [m, h] = [await memberWritesNow(), await writesTaken(hub)];
      const settled = m - memberWrites <= memberWrites * 0.005 && h - hubWrites <= hubWrites * 0.005;
      [memberWrites, hubWrites] = [m, h];
      if (settled) break;
    }
    const hubTook = { writes: hubWrites - hubWritesBefore, cpuSeconds: Math.round((cpuOf(hubPid) - hubCpuBefore) * 10) / 10 };
    return {
      members,
      memberControllers: controllers,
      memberWritesPerPlacement: Math.round((memberWrites / (SINGLE + burstSize)) * 10) / 10,
      hub: { writesPerPlacement: Math.round((hubTook.writes / (SINGLE + burstSize)) * 10) / 10, cpuSeconds: hubTook.cpuSeconds },
      single: { placements: SINGLE, p50Ms: Math.round(percentile(latencies, 50)), p99Ms: Math.round(percentile(latencies, 99)) },
      burst: {
        placements: burstSize,
        createdInMs: Math.round(created),
        appliedInMs: Math.round(burst),
        p50Ms: Math.round(percentile(burstLatencies, 50)),
        p99Ms: Math.round(percentile(burstLatencies, 99)),
      },
      controller,
    };
  } finally {
    server?.kill('SIGTERM');
    if (server !== undefined && server.exitCode === null) await new Promise((r) => server!.once('exit', r));
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
for (const { members, placements, controllers } of SIZES) {
  const r = await run(members, placements, controllers);
  results.push(r);
  process.stderr.write(`[bench] ${JSON.stringify(r)}\n`);
}
const lines = [`machine: ${machine}; a hub and its members on loopback, all on this machine; the controller's heap limited to 256 MiB as deploy/ does`, ''];
lines.push(
  `${'MEMBERS'.padEnd(9)}${'CONTROLLERS'.padEnd(13)}${'PLACEMENTS'.padEnd(12)}${'MEMBER WRITES/P'.padEnd(17)}${'ONE P50/P99 MS'.padEnd(16)}${'BURST APPLIED S'.padEnd(17)}${'BURST P50/P99 MS'.padEnd(18)}${'RSS/PEAK MIB'.padEnd(14)}${'CPU S'.padEnd(7)}${'HUB WRITES/P'.padEnd(14)}HUB CPU S`,
);
for (const r of results) {
  lines.push(
    `${String(r.members).padEnd(9)}${(r.memberControllers ? 'yes' : 'no').padEnd(13)}${String(r.burst.placements + r.single.placements).padEnd(12)}${String(r.memberWritesPerPlacement).padEnd(17)}${`${r.single.p50Ms}/${r.single.p99Ms}`.padEnd(16)}${(r.burst.appliedInMs / 1000).toFixed(1).padEnd(17)}${`${r.burst.p50Ms}/${r.burst.p99Ms}`.padEnd(18)}${`${r.controller.rssMiB}/${r.controller.peakMiB}`.padEnd(14)}${String(r.controller.cpuSeconds ?? '').padEnd(7)}${String(r.hub?.writesPerPlacement ?? '').padEnd(14)}${r.hub?.cpuSeconds ?? ''}`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
const out = join(root, 'bench', 'results');
mkdirSync(out, { recursive: true });
// A run of some sizes replaces those sizes in the results file and keeps the others.
const file = join(out, 'e2e.json');
const sameRun = (a: Result, b: Result) => a.members === b.members && a.burst.placements === b.burst.placements && a.memberControllers === b.memberControllers;
let kept: Result[] = [];
try {
  const before = JSON.parse(readFileSync(file, 'utf8')) as { machine: string; results: Result[] };
  if (before.machine === machine) kept = before.results.filter((r) => r.memberControllers !== undefined && !results.some((x) => sameRun(x, r)));
} catch {
  // no results yet
}
writeFileSync(file, `${JSON.stringify({ machine, results: [...kept, ...results] }, null, 2)}\n`);
