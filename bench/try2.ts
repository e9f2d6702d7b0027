import { performance } from 'node:perf_hooks';
import { generate, SCENARIOS } from './scenarios.js';
import { schedule } from '../src/core/schedule.js';
const spec = SCENARIOS.find((s) => s.name === (process.argv[2] ?? 'large'))!;
const sc = generate(spec);
const clock = () => performance.now();
const first = schedule(sc.snapshot, sc.placements, { clock });
console.log('full', first.stats.solveMs, first.stats.solver);
const extra = generate({ ...spec, placements: 1, seed: 999 }).placements[0]!;
const added = { ...extra, metadata: { ...extra.metadata, name: 'new-one' }, spec: { ...extra.spec, replicas: 4 } };
for (let i = 0; i < Number(process.env.N ?? 5); i++) {
  const r = schedule(sc.snapshot, [...sc.placements, added], { clock, previous: first.decisions });
  console.log('add one', r.stats.solveMs, 'moves', r.stats.moves, JSON.stringify(r.decisions.find((d) => d.placement.endsWith('new-one'))));
}
const again = schedule(sc.snapshot, sc.placements, { clock, previous: first.decisions });
console.log('same', JSON.stringify(again.decisions) === JSON.stringify(first.decisions), again.stats.solveMs);
