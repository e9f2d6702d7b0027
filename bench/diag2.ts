import { generate, SCENARIOS } from './scenarios.js';
import { schedule } from '../src/core/schedule.js';
import { relaxationBound } from '../src/core/solver/bound.js';
const spec = SCENARIOS.find((s) => s.name === (process.argv[2] ?? 'medium-scarce'))!;
const sc = generate(spec);
const strip = process.argv[3] ?? 'all';
const ps = sc.placements.map((p) => {
  const { spread, gang, ...rest } = p.spec;
  const spec2: any = { ...rest };
  if (strip === 'gang' || strip === 'none') { if (spread) spec2.spread = spread; }
  if (strip === 'spread' || strip === 'none') { if (gang) spec2.gang = gang; }
  return { ...p, spec: spec2 };
});
for (const solver of ['greedy', 'auto'] as const) {
  const r = schedule(sc.snapshot, ps, { solver });
  console.log(solver, r.stats.weightedPlaced, r.stats.solver, r.stats.solveMs);
}
console.log('bound', relaxationBound(sc.snapshot, ps)?.weightedPlaced);
