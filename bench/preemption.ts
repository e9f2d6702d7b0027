// npm run bench:preemption: the scale hook's answer time on the 1,000-cluster fleet, 100
// scale-ups of its highest-priority placements: with the room left filled by batch work of the
// lowest priority, so that each scale-up takes its room from it, beside the same fleet with room
// to spare. Each in a process of its own. Writes bench/results/preemption.json.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LARGE_FLEET } from './nodeOptions.js';

const here = dirname(fileURLToPath(import.meta.url));
const rows: Record<string, unknown>[] = [];
for (const [mode, contention] of [
  ['scale', 'none'],
  ['scale-full', 'preempting'],
] as const) {
  const name = 'large';
  process.stderr.write(`${name}, ${contention} ...\n`);
  const out = execFileSync(process.execPath, [...LARGE_FLEET, join(here, 'scenario.js'), name, mode, '100'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  rows.push({ name, contention, ...(JSON.parse(out) as Record<string, unknown>) });
}
const f = (x: unknown) => (typeof x === 'number' ? x.toFixed(1) : String(x));
process.stdout.write('FLEET             CONTENTION   MEDIAN ms   P99 ms   PREEMPTING STEPS   REPLICAS TAKEN   LEFT SHORT\n');
for (const r of rows) {
  process.stdout.write(
    `${String(r.name).padEnd(18)}${String(r.contention).padEnd(13)}${f(r.medianMs).padStart(9)}${f(r.p99Ms).padStart(9)}${String(r.stepsThatPreempted).padStart(19)}${String(r.replicasPreempted).padStart(17)}${String(r.scaleUpsLeftShort).padStart(13)}\n`,
  );
}
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
writeFileSync(join(here, '..', '..', 'bench', 'results', 'preemption.json'), `${JSON.stringify({ machine, rows }, null, 2)}\n`);
