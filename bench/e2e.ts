// npm run bench:e2e: Orrery on the test fleet (a hub and four members), as `orrery serve` in a
// process of its own. Measures the time from a Placement's creation to its Deployment existing
// in the chosen member (one at a time), how long 1,000 Placements created at once take to be
// applied, and the controller's peak memory.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
const BURST = Number(process.env.BENCH_BURST ?? 1000);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: Math.round(kb('VmRSS') / 1024), peakMiB: Math.round(kb('VmHWM') / 1024) };
}

const fleet = await TestFleet.start({ members: 4 });
const hub = fleet.hub.endpoint();
let server: ChildProcess | undefined;
const reapers: (() => void)[] = [];
try {
  for (const f of ['crds/placement.orrery.dev_placements.yaml', 'deploy/cluster-inventory/multicluster.x-k8s.io_clusterprofiles.yaml', 'deploy/cluster-inventory/multicluster.x-k8s.io_placementdecisions.yaml']) {
    await installCrd(hub, join(root, f));
  }
  for (const ns of ['fleet', 'bench', 'orrery-system']) await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const m of fleet.members) {
    for (let i = 0; i < 3; i++) await createNode(m.endpoint(), { name: `${m.name}-n${i}`, cpu: '64', memory: '256Gi', pods: 500 });
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
  server.stderr?.on('data', (d: Buffer) => (log += d.toString()));
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

  // 2. a burst
  const t1 = performance.now();
  const names = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
  for (let i = 0; i < names.length; i += 25) {
    await Promise.all(names.slice(i, i + 25).map((name) => call(hub, 'POST', path, placement(name, { namespace: 'bench', replicas: 1, cpu: '100m', memory: '64Mi' }))));
  }
  const created = performance.now() - t1;
  const selector = encodeURIComponent('app.kubernetes.io/managed-by=orrery');
  await eventually(
    'the burst applied',
    async () => {
      let n = 0;
      for (const m of fleet.members) n += (await call<{ items: unknown[] }>(m.endpoint(), 'GET', `/apis/apps/v1/namespaces/bench/deployments?labelSelector=${selector}`)).items.length;
      return n >= SINGLE + BURST ? true : undefined;
    },
    300_000,
    250,
  );
  const burst = performance.now() - t1;
  await new Promise((r) => setTimeout(r, 2000));
  const memory = memoryOf(server.pid!);

  const machine = `${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, node ${process.version}`;
  const result = {
    machine,
    fleet: { members: fleet.members.length },
    single: { placements: SINGLE, p50Ms: Math.round(percentile(latencies, 50)), p99Ms: Math.round(percentile(latencies, 99)) },
    burst: { placements: BURST, createdInMs: Math.round(created), appliedInMs: Math.round(burst) },
    controller: memory,
  };
  process.stdout.write(
    [
      `machine: ${machine}; a hub and ${fleet.members.length} members on loopback, all on this machine`,
      `creation → Deployment in its member, one at a time (${SINGLE}): p50 ${result.single.p50Ms} ms, p99 ${result.single.p99Ms} ms`,
      `${BURST} Placements created at once (in ${(created / 1000).toFixed(1)} s): all applied after ${(burst / 1000).toFixed(1)} s`,
      `controller memory with ${SINGLE + BURST} Placements: RSS ${memory.rssMiB} MiB, peak ${memory.peakMiB} MiB`,
      '',
    ].join('\n'),
  );
  const out = join(root, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'e2e.json'), JSON.stringify(result, null, 2) + '\n');
} finally {
  server?.kill('SIGTERM');
  for (const stop of reapers) stop();
  await fleet.stop();
}
