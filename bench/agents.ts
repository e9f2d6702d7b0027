// npm run bench:agents: a fleet whose members report through agents. Two parts, each on real
// control planes on this machine:
// 1. The hub at 1,000 members. A load generator stands in for the agents (in pull mode, so that
//    the hub connects to no member): it writes each member's ClusterReport (20 node groups, GPUs
//    on some) and renews every report on the agents' default heartbeat (20 s). `orrery serve`
//    runs with the heap deploy/ gives it and schedules 1,000 Placements. Measured: its RSS once they are placed and after two minutes of heartbeats, the
//    time from a summary that frees room to the decision that uses it, and the scheduling cycle.
// 2. The agent in a member of 5,000 Pods (Pod objects in the member's API server, bound to 100
//    Nodes): its RSS with the heap deploy/member/agent/ gives it.
// Before agents, the hub mirrored every Pod of every member: bench/pods.ts measures what each
// costs in its heap. Writes bench/results/agents.json.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MemberSummary } from '../src/fleet/summary.js';
import { reportDocument, reportsPath } from '../src/fleet/report.js';
import { TestFleet } from '../test/env/fleet.js';
import { apply, call, eventually } from '../test/env/kube.js';
import { createNode } from '../test/env/members.js';
import { installHubCrds } from '../test/env/hub.js';
import { placement } from '../test/fixtures.js';
import { nodeOptions } from './nodeOptions.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 1000);
const PLACEMENTS = Number(process.env.BENCH_PLACEMENTS ?? 1000);
const GROUPS = 20;
const PODS = Number(process.env.BENCH_PODS ?? 5000);
const HEARTBEAT_MS = 20_000;
const PROBES = 10;
const MODE = process.env.BENCH_MODE === 'Push' ? 'Push' : 'Pull';
/** pushed Placements are delivered by another tool: the bench has no members to write to */
const DELIVERY = MODE === 'Push' ? { delivery: 'External' as const } : {};
const GI = 2 ** 30;

const HUB_OPTIONS = nodeOptions('deploy/deployment.yaml');
const AGENT_OPTIONS = nodeOptions('deploy/member/agent/agent.yaml');

function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: Math.round(kb('VmRSS') / 1024), peakMiB: Math.round(kb('VmHWM') / 1024) };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Runs `fn` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

const name = (i: number) => `member-${String(i).padStart(4, '0')}`;

/** A member of 20 node groups; `full`: every node's room taken. Some members have GPUs. */
function summary(i: number, full = false): MemberSummary {
  const nodeGroups = Array.from({ length: GROUPS }, (_, g) => {
    const cpu = 8000 * (1 + ((i + g) % 12));
    const memory = 32 * GI * (1 + ((i + g) % 12));
    const gpus = g % 5 === 0 && i % 3 === 0 ? 8 : 0;
    const used = full ? 1 : ((i * 7 + g * 13) % 10) / 10;
    return {
      count: 1 + ((i + 3 * g) % 9),
      allocatable: { cpu, memory, pods: 110 },
      allocated: { cpu: Math.floor((cpu * used) / 100) * 100, memory: Math.floor((memory * used) / (64 * 2 ** 20)) * 64 * 2 ** 20, pods: Math.floor(110 * used) },
      devices:
        gpus > 0
          ? [
              {
                deviceClassName: 'gpu.example.com',
                driver: 'gpu.example.com',
                attributes: { 'gpu.example.com/model': g % 2 === 0 ? 'H100' : 'A100' },
                total: gpus,
                allocated: full ? gpus : Math.floor(gpus * used),
              },
            ]
          : [],
    };
  });
  const sum = (side: 'allocatable' | 'allocated') =>
    nodeGroups.reduce((a, g) => ({ cpu: a.cpu + g.count * g[side].cpu, memory: a.memory + g.count * g[side].memory, pods: a.pods + g.count * g[side].pods }), { cpu: 0, memory: 0, pods: 0 });
  const devices = new Map<string, { deviceClassName: string; driver: string; attributes: Record<string, string>; total: number; allocated: number }>();
  for (const g of nodeGroups) {
    for (const d of g.devices) {
      const key = d.attributes['gpu.example.com/model'] as string;
      const known = devices.get(key) ?? { ...d, total: 0, allocated: 0 };
      devices.set(key, { ...known, total: known.total + g.count * d.total, allocated: known.allocated + g.count * d.allocated });
    }
  }
  return { allocatable: sum('allocatable'), allocated: sum('allocated'), devices: [...devices.values()], nodeGroups, nodes: nodeGroups.reduce((n, g) => n + g.count, 0), region: `region-${i % 8}` };
}

function report(i: number, full = false) {
  const now = new Date().toISOString();
  return reportDocument(name(i), 'fleet', { version: 'bench', heartbeatTime: now, mode: MODE }, summary(i, full), now, MODE === 'Pull' ? [] : undefined);
}

/** The first part: the hub at MEMBERS members, read from reports only. */
async function hubAtScale(fleet: TestFleet) {
  const hub = fleet.hub.endpoint();
  // Members whose agents pull (BENCH_MODE=Push: the hub writes to them, with a kubeconfig Secret for
  // each; the Placements are then delivered by another tool, so that it never writes).
  const config = Buffer.from(readFileSync(fleet.hub.kubeconfig('admin'))).toString('base64');
  const members = Array.from({ length: MEMBERS }, (_, i) => i);
  const t0 = performance.now();
  await pool(members, 16, async (i) => {
    if (MODE === 'Push') await call(hub, 'POST', '/api/v1/namespaces/fleet/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: name(i) }, data: { config } });
    await eventually(`ClusterProfile ${name(i)}`, () =>
      call(hub, 'POST', '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/fleet/clusterprofiles', {
        apiVersion: 'multicluster.x-k8s.io/v1alpha1',
        kind: 'ClusterProfile',
        metadata: { name: name(i), labels: { name: name(i) } },
        spec: { clusterManager: { name: 'bench' } },
      }),
    );
    // the probes' members start full, so that their probe waits for a report that frees room
    await apply(hub, reportsPath('fleet', name(i)), report(i, i % Math.floor(MEMBERS / PROBES) === 0), 'orrery-agent');
  });
  process.stderr.write(`[bench] ${MEMBERS} members and their reports written in ${Math.round(performance.now() - t0)} ms\n`);
  // the agents' heartbeats, all the while
  const freed = new Set<number>();
  let beating = true;
  let failedRenewals = 0;
  const heartbeats = (async () => {
    while (beating) {
      const round = performance.now();
      await pool(members, 8, async (i) => {
        if (!beating) return;
        const body = report(i, i % Math.floor(MEMBERS / PROBES) === 0 && !freed.has(i));
        // a renewal that fails is counted and said at the end: the hub would see that member go stale
        await apply(hub, reportsPath('fleet', name(i)), body, 'orrery-agent').catch(() => failedRenewals++);
        await new Promise((r) => setTimeout(r, Math.max(0, HEARTBEAT_MS / MEMBERS - 1)));
      });
      await new Promise((r) => setTimeout(r, Math.max(0, HEARTBEAT_MS - (performance.now() - round))));
    }
  })();

  const path = '/apis/placement.orrery.dev/v1alpha1/namespaces/bench/placements';
  await eventually('placements served', () => call(hub, 'GET', path));
  const work = Array.from({ length: PLACEMENTS }, (_, i) =>
    placement(`p-${i}`, {
      namespace: 'bench',
      replicas: 1 + (i % 4),
      cpu: `${1 + (i % 4)}`,
      memory: `${2 + (i % 6)}Gi`,
      ...DELIVERY,
      ...(i % 10 === 0 ? { accelerators: [{ deviceClassName: 'gpu.example.com', count: 1 + (i % 3) }] } : {}),
    }),
  );
  await pool(work, 16, (p) => call(hub, 'POST', path, p));

  const server: ChildProcess = spawn(
    process.execPath,
    [
      // what the manifests in deploy/ give the controller
      ...HUB_OPTIONS,
      cli,
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
    { env: { ...process.env, ORRERY_LOG: 'off', POD_NAME: 'bench' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  server.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
    if (process.env.BENCH_VERBOSE) process.stderr.write(`[orrery] ${d.toString()}`);
  });
  const started = performance.now();
  const scheduled = async () => {
    const list = await call<{ items: { status?: { conditions?: { type: string; status: string; reason?: string }[] } }[] }>(hub, 'GET', path);
    return list.items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Scheduled')).length;
  };
  await eventually('every placement decided', async () => ((await scheduled()) >= PLACEMENTS ? true : undefined), 900_000, 1000);
  const firstCycleMs = Math.round(performance.now() - started);
  const afterFirst = memoryOf(server.pid!);
  process.stderr.write(`[bench] ${PLACEMENTS} placements decided in ${firstCycleMs} ms; RSS ${afterFirst.rssMiB} MiB\n`);

  // a summary that frees room, and the decision that uses it
  const changes: number[] = [];
  for (let k = 0; k < PROBES; k++) {
    const i = k * Math.floor(MEMBERS / PROBES);
    const probe = placement(`probe-${k}`, { namespace: 'bench', replicas: 2, cpu: '4', memory: '8Gi', ...DELIVERY, clusterSelector: { matchLabels: { name: name(i) } } });
    await call(hub, 'POST', path, probe);
    await eventually(`probe-${k} unschedulable`, async () => {
      const p = await call<{ status?: { unscheduledReplicas?: number } }>(hub, 'GET', `${path}/probe-${k}`);
      return p.status?.unscheduledReplicas === 2 ? true : undefined;
    });
    freed.add(i);
    const t = performance.now();
    await apply(hub, reportsPath('fleet', name(i)), report(i, false), 'orrery-agent');
    await eventually(
      `probe-${k} placed`,
      async () => {
        const p = await call<{ status?: { clusters?: { name: string; replicas: number }[] } }>(hub, 'GET', `${path}/probe-${k}`);
        return p.status?.clusters?.some((c) => c.name === name(i) && c.replicas === 2) ? true : undefined;
      },
      60_000,
      10,
    );
    changes.push(Math.round(performance.now() - t));
  }
  process.stderr.write(`[bench] summary change to decision: ${changes.join(', ')} ms\n`);
  // two minutes of heartbeats: the hub's memory with the fleet steady
  await new Promise((r) => setTimeout(r, Number(process.env.BENCH_STEADY_MS ?? 120_000)));
  const steady = memoryOf(server.pid!);
  const metrics = await fetchMetrics(log, hub.token);
  beating = false;
  await heartbeats;
  server.kill('SIGTERM');
  return {
    members: MEMBERS,
    mode: MODE,
    nodeGroupsPerMember: GROUPS,
    placements: PLACEMENTS + PROBES,
    nodeOptions: HUB_OPTIONS.join(' '),
    firstDecisionsMs: firstCycleMs,
    rssMiB: { afterFirstDecisions: afterFirst.rssMiB, afterHeartbeats: steady.rssMiB, peak: steady.peakMiB },
    summaryChangeToDecisionMs: { median: median(changes), max: Math.max(...changes), each: changes },
    cycleSeconds: metrics,
    failedRenewals,
  };
}

/** The scheduling cycle's mean and count, from the server's own histogram. */
async function fetchMetrics(log: string, token: string): Promise<{ mean: number; count: number } | undefined> {
  const url = /serving the HTTP API on (\S+)/.exec(log)?.[1];
  if (url === undefined) return undefined;
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const sum = Number(/orrery_scheduling_duration_seconds_sum\{operation="cycle"\} (\S+)/.exec(text)?.[1]);
  const count = Number(/orrery_scheduling_duration_seconds_count\{operation="cycle"\} (\S+)/.exec(text)?.[1]);
  return Number.isFinite(sum) && count > 0 ? { mean: Math.round((sum / count) * 1000) / 1000, count } : undefined;
}

/** The second part: one agent in a member of PODS Pods. */
async function agentAtScale(fleet: TestFleet) {
  const hub = fleet.hub.endpoint();
  const member = fleet.members[0]!;
  const ep = member.endpoint();
  const nodes = Array.from({ length: 100 }, (_, i) => `node-${i}`);
  for (const n of nodes) await createNode(ep, { name: n, cpu: '64', memory: '256Gi', pods: 110 });
  const t0 = performance.now();
  await pool(
    Array.from({ length: PODS }, (_, i) => i),
    16,
    (i) =>
      call(ep, 'POST', '/api/v1/namespaces/default/pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `web-${i}`, labels: { app: 'web', 'pod-template-hash': '7d9c6b5f4' } },
        spec: {
          nodeName: nodes[i % nodes.length],
          containers: [
            {
              name: 'web',
              image: 'registry.example.com/shop/web:2.14.3',
              ports: [{ name: 'http', containerPort: 8080 }],
              env: [{ name: 'LOG_LEVEL', value: 'info' }],
              resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
            },
          ],
        },
      }),
  );
  process.stderr.write(`[bench] ${PODS} Pods in ${member.name} in ${Math.round(performance.now() - t0)} ms\n`);
  const agent = spawn(
    process.execPath,
    [
      // what deploy/member/agent/ gives the agent
      ...AGENT_OPTIONS,
      cli,
      'agent',
      '--kubeconfig',
      member.kubeconfig('admin'),
      '--hub-kubeconfig',
      fleet.hub.kubeconfig('admin'),
      '--cluster-name',
      member.name,
      '--cluster-namespace',
      'fleet',
      '--port',
      '0',
      '--address',
      '127.0.0.1',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  agent.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const path = reportsPath('fleet', member.name);
  await eventually(
    'the agent reported the member',
    async () => {
      const r = await call<{ summary?: { nodes: number; allocated: { pods: number } } }>(hub, 'GET', path).catch(() => undefined);
      return r?.summary?.allocated.pods === PODS ? true : undefined;
    },
    120_000,
    200,
  ).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}: ${log}`);
  });
  const reported = memoryOf(agent.pid!);
  // Pods come and go: 500 deleted and made again, and the agent's memory after
  const t1 = performance.now();
  await pool(
    Array.from({ length: 500 }, (_, i) => i),
    16,
    async (i) => {
      await call(ep, 'DELETE', `/api/v1/namespaces/default/pods/web-${i}?gracePeriodSeconds=0`);
    },
  );
  await eventually('the agent saw the churn', async () => {
    const r = await call<{ summary?: { allocated: { pods: number } } }>(hub, 'GET', path);
    return r.summary?.allocated.pods === PODS - 500 ? true : undefined;
  });
  const churnMs = Math.round(performance.now() - t1);
  const after = memoryOf(agent.pid!);
  agent.kill('SIGTERM');
  return { pods: PODS, nodes: nodes.length, nodeOptions: AGENT_OPTIONS.join(' '), rssMiB: { reported: reported.rssMiB, afterChurn: after.rssMiB, peak: after.peakMiB }, churnReportedMs: churnMs };
}

const fleet = await TestFleet.start({ members: 1, membersWithoutControllers: true });
try {
  await installHubCrds(fleet.hub.endpoint(), 'crds/placement.orrery.dev_clusterreports.yaml', 'crds/placement.orrery.dev_clusterdecisions.yaml');
  for (const ns of ['fleet', 'bench', 'orrery-system', 'argocd']) await call(fleet.hub.endpoint(), 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  // BENCH_PARTS=agent or hub: one part alone
  const parts = (process.env.BENCH_PARTS ?? 'agent,hub').split(',');
  const agent = parts.includes('agent') ? await agentAtScale(fleet) : undefined;
  process.stderr.write(`[bench] agent: ${JSON.stringify(agent)}\n`);
  const hub = parts.includes('hub') ? await hubAtScale(fleet) : undefined;
  const result = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    at: new Date().toISOString(),
    hub,
    agent,
  };
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'agents.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await fleet.stop();
}
