import { generate, SCENARIOS } from './scenarios.js';
import { schedule } from '../src/core/schedule.js';
import { indexFleet } from '../src/core/prepare.js';
const spec = SCENARIOS.find((s) => s.name === (process.argv[2] ?? 'medium-scarce'))!;
const sc = generate(spec);
for (const solver of ['greedy', 'auto'] as const) {
  const r = schedule(sc.snapshot, sc.placements, { solver });
  const byKey = new Map(sc.placements.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
  const un: Record<string, number> = {};
  const free = Float64Array.from(indexFleet(sc.snapshot).free);
  const fi = indexFleet(sc.snapshot);
  const D = fi.dims.length;
  const row = new Map(fi.clusters.map((c, i) => [c.name, i]));
  for (const d of r.decisions) {
    const p = byKey.get(d.placement)!;
    const kind = (p.spec.accelerators?.[0]?.deviceClassName ?? 'cpu') + (p.spec.gang ? '+gang' : '') + (p.spec.spread ? '+spread' : '');
    un[kind] = (un[kind] ?? 0) + d.unscheduledReplicas * ((p.spec.priority ?? 0) + 1);
    const dem = new Float64Array(D);
    // approximate demand
  }
  console.log(solver, r.stats.weightedPlaced, un);
  void free; void row;
}
