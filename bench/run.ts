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

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { only: { type: 'string' }, runs: { type: 'string' } } });
const only = values.only?.split(',');
const scenarios = SCENARIOS.filter((s) => only === undefined || only.includes(s.name));

function measure(name: string, mode: string, runs: number): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--max-old-space-size=4096', join(here, 'scenario.js'), name, mode, String(runs)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out) as Record<string, unknown>;
}

/** Solver against greedy in priority order: the first priority, from the top, where they differ. */
function firstDifference(a: Record<string, number>, b: Record<string, number>): string {
  const priorities = [...new Set([...Object.keys(a), ...Object.keys(b)])].map(Number).sort((x, y) => y - x);
  for (const p of priorities) {
    const d = (a[p] ?? 0) - (b[p] ?? 0);
    if (d !== 0) return `${d > 0 ? '+' : ''}${d} @p${p}`;
  }
  return 'same';
}

const rows: Record<string, unknown>[] = [];
for (const s of scenarios) {
  const runs = Number(values.runs ?? (s.clusters >= 1000 ? 3 : 7));
  process.stderr.write(`${s.name} (${s.clusters} clusters × ${s.placements} placements, ${s.variant}) ...\n`);
  const greedy = measure(s.name, 'greedy', runs);
  const solver = measure(s.name, 'solver', runs);
  const bound = measure(s.name, 'bound', 1);
  const b = bound.weightedPlaced as number;
  rows.push({
    name: s.name,
    clusters: s.clusters,
    placements: s.placements,
    variant: s.variant,
    solver,
    greedy,
    bound,
    placedVsGreedy: (solver.weightedPlaced as number) / (greedy.weightedPlaced as number),
    byPriority: firstDifference(solver.placedByPriority as Record<string, number>, greedy.placedByPriority as Record<string, number>),
    placedVsBound: b > 0 ? (solver.weightedPlaced as number) / b : null,
  });
}
const incremental = scenarios.some((s) => s.name === 'large') ? measure('large', 'incremental', 21) : undefined;
const incrementalNodes = scenarios.some((s) => s.name === 'large-fragmented') ? measure('large-fragmented', 'incremental', 21) : undefined;
// The hub's mirror of member Pods: whole Pods against the capacity view it keeps.
const pods = JSON.parse(execFileSync(process.execPath, ['--expose-gc', join(here, 'pods.js'), '20000'], { encoding: 'utf8' })) as {
  bytesPerPod: { whole: number; capacityView: number };
  podsPerMiB: { whole: number; capacityView: number };
};

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  date: new Date().toISOString(),
};

const pad = (v: unknown, n: number) => String(v).padEnd(n);
const bindsOf = (b: unknown) => {
  const { decided, bound } = b as { decided: number; bound: number };
  return decided === 0 ? '-' : `${((100 * bound) / decided).toFixed(1)}%`;
};
const f = (v: unknown, d = 1) => (typeof v === 'number' ? v.toFixed(d) : String(v));
const lines = [
  `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`,
  '',
  [pad('SCENARIO', 18), pad('SIZE', 12), pad('SOLVER MS', 10), pad('GREEDY MS', 10), pad('PLACED (W)', 11), pad('GREEDY (W)', 11), pad('LP BOUND', 11), pad('VS GREEDY', 10), pad('BY PRIORITY', 13), pad('VS BOUND', 9), pad('SCORE', 12), pad('RSS MIB', 8), pad('BINDS', 8), 'SAME OUTPUT'].join(' '),
  ...rows.map((r) => {
    const sv = r.solver as Record<string, number | boolean>;
    const gr = r.greedy as Record<string, number | boolean>;
    const bd = r.bound as Record<string, number>;
    return [
      pad(r.name, 18),
      pad(`${r.clusters}x${r.placements}`, 12),
      pad(f(sv.medianMs), 10),
      pad(f(gr.medianMs), 10),
      pad(sv.weightedPlaced, 11),
      pad(gr.weightedPlaced, 11),
      pad(f(bd.weightedPlaced, 0), 11),
      pad(f(((r.placedVsGreedy as number) - 1) * 100, 2) + '%', 10),
      pad(r.byPriority, 13),
      pad(f((r.placedVsBound as number) * 100, 2) + '%', 9),
      pad(`${f(sv.meanScore)}/${f(gr.meanScore)}`, 12),
      pad(sv.maxRssMiB, 8),
      pad(bindsOf(sv.binding), 8),
      String(sv.deterministic && gr.deterministic),
    ].join(' ');
  }),
];
for (const [name, inc] of [['large', incremental], ['large-fragmented', incrementalNodes]] as const) {
  if (inc === undefined) continue;
  lines.push(
    '',
    `add one placement to '${name}' (${inc.placed} placed): median ${f(inc.addOneMedianMs, 2)} ms over 21; ` +
      `other placements changed: ${inc.otherPlacementsChanged}; full Steady re-check: ${f(inc.steadyRecheckMedianMs)} ms`,
  );
}
lines.push(
  '',
  `member Pods mirrored on the hub: whole ${pods.bytesPerPod.whole} B each (${pods.podsPerMiB.whole} per MiB of heap), ` +
    `capacity view ${pods.bytesPerPod.capacityView} B (${pods.podsPerMiB.capacityView} per MiB)`,
);
lines.push('', 'PLACED (W): replicas placed weighted by priority + 1 (solver median run); VS BOUND: against the LP relaxation;');
lines.push('BY PRIORITY: solver minus greedy replicas at the highest priority where they differ (priorities are served in order);');
lines.push('SCORE: mean preference of the clusters replicas landed on, solver/greedy; times are medians;');
lines.push('BINDS: of the replicas the solver decided, the share an independent node-level packing binds.');
process.stdout.write(lines.join('\n') + '\n');

const results = join(here, '..', '..', 'bench', 'results');
mkdirSync(results, { recursive: true });
writeFileSync(join(results, only ? `core-${only.join('+')}.json` : 'core.json'), JSON.stringify({ machine, scenarios: rows, incremental, incrementalNodes, pods }, null, 2) + '\n');
