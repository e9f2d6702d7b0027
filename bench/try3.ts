import { performance } from 'node:perf_hooks';
import { generate, SCENARIOS } from './scenarios.js';
import { schedule } from '../src/core/schedule.js';
import { prepareCycle } from '../src/core/cycle.js';
const spec = SCENARIOS.find((s) => s.name === (process.argv[2] ?? 'large'))!;
const sc = generate(spec);
const first = schedule(sc.snapshot, sc.placements, {});
const ps = [...sc.placements];
for (let i = 0; i < 10; i++) {
  let t = performance.now();
  prepareCycle(sc.snapshot, ps, { previous: first.decisions });
  const a = performance.now() - t;
  t = performance.now();
  schedule(sc.snapshot, ps, { previous: first.decisions });
  const b = performance.now() - t;
  console.log('prepare', a.toFixed(1), 'schedule', b.toFixed(1), 'unscheduled jobs', first.decisions.filter((d) => d.unscheduledReplicas > 0).length);
}
