import { performance } from 'node:perf_hooks';
import { generate, SCENARIOS } from './scenarios.js';
import { startFleet, placeOne } from '../src/core/incremental.js';
const spec = SCENARIOS.find((s) => s.name === (process.argv[2] ?? 'large'))!;
const sc = generate(spec);
let t = performance.now();
const state = startFleet(sc.snapshot, sc.placements);
console.log('full', (performance.now() - t).toFixed(0));
const extra = generate({ ...spec, placements: 1, seed: 999 }).placements[0]!;
for (let i = 0; i < 10; i++) {
  const added = { ...extra, metadata: { ...extra.metadata, name: `new-${i}` }, spec: { ...extra.spec, replicas: 4 } };
  t = performance.now();
  const r = placeOne(state, added);
  console.log('placeOne', (performance.now() - t).toFixed(2), r.decision.reason, r.decision.clusters.length);
}
