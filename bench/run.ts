// npm run bench: every scenario, the solver against the greedy baseline and the LP bound,
// each measurement in its own process. Prints a table and writes bench/results/core.json.
//   npm run bench -- [--only NAME,NAME] [--runs N]

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SCENARIOS } from './scenarios.js';
import { LARGE_FLEET } from './nodeOptions.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { only: { type: 'string' }, runs: { type: 'string' } } });
const only = values.only?.split(',');
const scenarios = SCENARIOS.filter((s) => only === undefined || only.includes(s.name));

function measure(name: string, mode: string, runs: number): Record<string, unknown> {
  // Orrery and its floors run with the options a large fleet's hub is given; the bound, the
  // bench's own yardstick, with room to spare.
  const options = mode === 'bound' ? ['--max-old-space-size=4096'] : LARGE_FLEET;
  const out = execFileSync(process.execPath, [...options, join(here, 'scenario.js'), name, mode, String(runs)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out) as Record<string, unknown>;
}

type Worth = Record<string, number>;

/** Priorities, highest first. */
function prioritiesOf(...ws: Worth[]): string[] {
  return [...new Set(ws.flatMap((w) => Object.keys(w)))].sort((a, b) => Number(b) - Number(a));
}

/** The solver against a floor: by how much it is worth more at the first priority, from the top, where they differ. */
function againstFloor(solver: Worth, floor: Worth): string {
  for (const p of prioritiesOf(solver, floor)) {
    const a = solver[p] ?? 0;
    const b = floor[p] ?? 0;
    if (Math.abs(a - b) > 1e-9 * Math.max(1, a, b)) return `${a > b ? '+' : ''}${b > 0 ? `${(((a - b) / b) * 100).toFixed(1)}%` : 'new'} @p${p}`;
  }
  return 'same';
}

/** The solver's worth against the bound, per priority. */
function againstBound(solver: Worth, bound: { priority: number; value: number; pooled: boolean; integral: boolean }[]): string {
  const mark = (t: { pooled: boolean; integral: boolean }) => (t.integral ? '' : t.pooled ? '**' : '*');
  return bound.map((t) => `p${t.priority} ${t.value > 0 ? (((solver[t.priority] ?? 0) / t.value) * 100).toFixed(1) : '-'}%${mark(t)}`).join(' ');
}

/** The device class used least, as a share of its free devices, with the replicas that wait for any. */
function deviceUse(devices: Record<string, { free: number; used: number; waiting: number }>): string {
  const list = Object.entries(devices).filter(([, d]) => d.free > 0);
  if (list.length === 0) return '-';
  const [name, least] = list.sort((a, b) => a[1].used / a[1].free - b[1].used / b[1].free)[0]!;
  return `${((100 * least.used) / least.free).toFixed(0)}% ${name.split('.')[0]} ${least.waiting}w`;
}

/** The replica size furthest from its share of the demand at its own priority, in points. */
/**
 * The replica size furthest from its share of the demand at its own priority, in points; marked
 * where that size got all the room left by higher priorities holds of it (no schedule that
 * leaves them be could give it more).
 */
function sizeSpread(sizes: Record<string, Record<string, { placed: number; asked: number; allItFits: boolean }>>): string {
  const list = Object.entries(sizes).flatMap(([prio, at]) => (Object.keys(at).length < 2 ? [] : Object.entries(at).map(([size, v]) => [`${size}@p${prio}`, v] as const)));
  if (list.length === 0) return '-';
  const [size, worst] = list.sort((a, b) => Math.abs(b[1].placed - b[1].asked) - Math.abs(a[1].placed - a[1].asked))[0]!;
  return `${((worst.placed - worst.asked) * 100).toFixed(1)} pt (${size}${worst.placed < worst.asked && worst.allItFits ? ', all it fits' : ''})`;
}

/** The device kind with the largest share of its free devices idle while replicas that could use them wait. */
function idleDeviceShare(idle: Record<string, { free: number; idle: number; stranded: number }> | undefined, how: 'idle' | 'stranded'): string {
  const list = Object.entries(idle ?? {});
  if (list.length === 0) return '-';
  const [name, worst] = list.sort((a, b) => b[1][how] / b[1].free - a[1][how] / a[1].free)[0]!;
  return `${((100 * worst[how]) / worst.free).toFixed(1)}% ${name.split('.')[0]}`;
}

function evenness(e: { spread: number; even: number } | undefined): string {
  return e === undefined || e.spread === 0 ? '-' : `${e.even}/${e.spread}`;
}

const rows: Record<string, unknown>[] = [];
for (const s of scenarios) {
  const runs = Number(values.runs ?? (s.clusters >= 1000 ? 3 : 7));
  process.stderr.write(`${s.name} (${s.clusters} clusters × ${s.placements} placements, ${s.variant}) ...\n`);
  const greedy = measure(s.name, 'greedy', runs);
  const bestFit = measure(s.name, 'best-fit', runs);
  const nodeBestFit = measure(s.name, 'node-best-fit', runs);
  const leastFrag = measure(s.name, 'least-fragmentation', runs);
  const solver = measure(s.name, 'solver', runs);
  const bound = measure(s.name, 'bound', 1);
  const worth = solver.valueByPriority as Worth;
  rows.push({
    name: s.name,
    clusters: s.clusters,
    placements: s.placements,
    variant: s.variant,
    solver,
    greedy,
    bestFit,
    nodeBestFit,
    leastFrag,
    bound,
    vsGreedy: againstFloor(worth, greedy.valueByPriority as Worth),
    vsBestFit: againstFloor(worth, bestFit.valueByPriority as Worth),
    vsNodeBestFit: againstFloor(worth, nodeBestFit.valueByPriority as Worth),
    vsLeastFrag: againstFloor(worth, leastFrag.valueByPriority as Worth),
    vsBound: againstBound(worth, bound.tiers as { priority: number; value: number; pooled: boolean; integral: boolean }[]),
  });
}
const incremental = scenarios.some((s) => s.name === 'large') ? measure('large', 'incremental', 21) : undefined;
const incrementalNodes = scenarios.some((s) => s.name === 'large-fragmented') ? measure('large-fragmented', 'incremental', 21) : undefined;
// The hub's mirror of member Pods: whole Pods against the capacity view it keeps.
const pods = JSON.parse(execFileSync(process.execPath, ['--expose-gc', join(here, 'pods.js'), '20000'], { encoding: 'utf8' })) as {
  bytesPerPod: { whole: number; usage: number };
  podsPerMiB: { whole: number; usage: number };
};

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  nodeOptions: LARGE_FLEET.join(' '),
  date: new Date().toISOString(),
};

const pad = (v: unknown, n: number) => String(v).padEnd(n);
const bindsOf = (b: unknown) => {
  const { decided, bound } = b as { decided: number; bound: number };
  return decided === 0 ? '-' : `${((100 * bound) / decided).toFixed(1)}%`;
};
const f = (v: unknown, d = 1) => (typeof v === 'number' ? v.toFixed(d) : String(v));
const lines = [
  `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node} ${machine.nodeOptions}`,
  '',
  [
    pad('SCENARIO', 18),
    pad('SIZE', 11),
    pad('SOLVER MS', 10),
    pad('RSS MIB', 8),
    pad('VS BOUND', 20),
    pad('VS GREEDY', 14),
    pad('VS BEST-FIT', 14),
    pad('VS NODE-BF', 14),
    pad('VS LEAST-FRAG', 14),
    pad('PLACED', 14),
    pad('DEVICES', 16),
    pad('IDLE', 5),
    pad('IDLE DEV', 10),
    pad('STRANDED', 10),
    pad('SPREAD', 9),
    pad('SIZES', 30),
    pad('BINDS', 7),
    'SAME',
  ].join(' '),
  ...rows.map((r) => {
    const sv = r.solver as Record<string, unknown>;
    const gr = r.greedy as Record<string, unknown>;
    const total = (x: Record<string, unknown>) => Object.values(x.placedByPriority as Record<string, number>).reduce((a, b) => a + b, 0);
    return [
      pad(r.name, 18),
      pad(`${r.clusters}x${r.placements}`, 11),
      pad(f(sv.medianMs, 0), 10),
      pad(sv.maxRssMiB, 8),
      pad(r.vsBound, 20),
      pad(r.vsGreedy, 14),
      pad(r.vsBestFit, 14),
      pad(r.vsNodeBestFit, 14),
      pad(r.vsLeastFrag, 14),
      pad(`${total(sv)}/${total(gr)}`, 14),
      pad(deviceUse(sv.devices as Record<string, { free: number; used: number; waiting: number }>), 16),
      pad(sv.idleWhileWaiting, 5),
      pad(idleDeviceShare(sv.idleDevices as Record<string, { free: number; idle: number; stranded: number }>, 'idle'), 10),
      pad(idleDeviceShare(sv.idleDevices as Record<string, { free: number; idle: number; stranded: number }>, 'stranded'), 10),
      pad(evenness(sv.spreadEvenness as { spread: number; even: number }), 9),
      pad(sizeSpread(sv.sizes as Record<string, Record<string, { placed: number; asked: number; allItFits: boolean }>>), 30),
      pad(bindsOf(sv.binding), 7),
      String(sv.deterministic && gr.deterministic && [r.bestFit, r.nodeBestFit, r.leastFrag].every((x) => (x as Record<string, unknown>).deterministic)),
    ].join(' ');
  }),
];
for (const [name, inc] of [
  ['large', incremental],
  ['large-fragmented', incrementalNodes],
] as const) {
  if (inc === undefined) continue;
  lines.push(
    '',
    `add one placement to '${name}' (${inc.placed} placed): median ${f(inc.addOneMedianMs, 2)} ms over 21; ` +
      `other placements changed: ${inc.otherPlacementsChanged} (and ${inc.otherPlacementsPreempted ?? 0} preempted by it); full Steady re-check: ${f(inc.steadyRecheckMedianMs)} ms`,
  );
}
lines.push(
  '',
  `member Pods mirrored on the hub: whole ${pods.bytesPerPod.whole} B each (${pods.podsPerMiB.whole} per MiB of heap), ` + `usage ${pods.bytesPerPod.usage} B (${pods.podsPerMiB.usage} per MiB)`,
);
lines.push(
  '',
  "Worth: the placed replicas' dominant shares of the fleet (the objective), per priority.",
  'VS BOUND: worth against the LP relaxation of the same objective, per priority, each tier under the',
  "  solver's answer for the tiers above (* pooled look-alike clusters: a looser bound, model too large);",
  'VS GREEDY / BEST-FIT / NODE-BF / LEAST-FRAG: worth against each floor at the first priority, from the top, where they differ;',
  'PLACED: replicas, solver/greedy; DEVICES: the device class used least, share of its free devices, replicas waiting for it;',
  'IDLE: replicas that wait while an eligible cluster holds one (placements without rules of their own);',
  'IDLE DEV: the device kind with the largest share of its free devices idle on nodes where a waiting replica',
  '  that asks them would fit whole (CPU, memory, pods, devices); STRANDED: the same, where such a replica would have the',
  '  CPU, memory and pods but too few devices free on the node; SPREAD: Spread placements divided evenly, of those placed on 2+;',
  'SIZES: at equal priority, the replica size (devices) furthest from its share of the asked devices; "all it fits" where',
  '  that size got every replica the room higher priorities left holds of it (each shape alone, on its eligible clusters);',
  'BINDS: of the replicas decided, the share an independent node-level packing binds; times are medians.',
);
process.stdout.write(`${lines.join('\n')}\n`);

const results = join(here, '..', '..', 'bench', 'results');
mkdirSync(results, { recursive: true });
writeFileSync(join(results, only ? `core-${only.join('+')}.json` : 'core.json'), `${JSON.stringify({ machine, scenarios: rows, incremental, incrementalNodes, pods }, null, 2)}\n`);
