// One measurement in a process of its own, so that its peak RSS is its own:
//   node dist/bench/scenario.js NAME solver|FLOOR|bound|incremental|scale|scale-full RUNS
// Prints one JSON object.

import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FleetState } from '../src/core/fleetState.js';
import { API_VERSION, type Placement, isFloor, makeSnapshot } from '../src/core/model.js';
import { relaxationBound } from '../src/core/solver/bound.js';
import { SCENARIOS, generate } from './scenarios.js';
import { boundReplicas, worthByPriority } from '../test/invariants.js';
import { idleDevices, idleWhileWaiting, measure, spreadEvenness } from './measures.js';

const [name, mode = 'solver', runsArg = '5'] = process.argv.slice(2);
const spec = SCENARIOS.find((s) => s.name === name);
if (spec === undefined) {
  process.stderr.write(`unknown scenario ${name}; known: ${SCENARIOS.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}
const runs = Number(runsArg);
const scenario = generate(spec);
const clock = () => performance.now();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function rssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

let out: Record<string, unknown>;
if (mode === 'solver' || isFloor(mode)) {
  const solver = mode === 'solver' ? 'auto' : mode;
  const times: number[] = [];
  const hashes = new Set<string>();
  let last: FleetState | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = FleetState.start(scenario.snapshot, scenario.placements, { solver, clock });
    times.push(performance.now() - t0);
    hashes.add(createHash('sha256').update(JSON.stringify(last.result.decisions)).digest('hex'));
  }
  const state = last!;
  const s = state.result.stats;
  const maxRssMiB = rssMiB();
  out = {
    ...measure(scenario.snapshot, scenario.placements, state.result.decisions),
    valueByPriority: Object.fromEntries(worthByPriority(scenario.snapshot, scenario.placements, state.result)),
    idleWhileWaiting: idleWhileWaiting(state),
    idleDevices: idleDevices(state),
    spreadEvenness: spreadEvenness(state),
    medianMs: median(times),
    times,
    weightedPlaced: s.weightedPlaced,
    value: s.value,
    placedReplicas: s.placedReplicas,
    unscheduledReplicas: s.unscheduledReplicas,
    meanScore: s.meanScore,
    solver: s.solver,
    lpSolves: s.lpSolves,
    lpMs: s.lpMs,
    lpLibraries: s.lpLibraries,
    deterministic: hashes.size === 1,
    maxRssMiB,
    // replicas decided, and how many an independent node-level packing binds (after timing)
    binding: boundReplicas(scenario.snapshot, scenario.placements, state.result, state.packOrder),
  };
} else if (mode === 'bound') {
  // Each tier below the top is bounded under the solver's answer for the tiers above it.
  const answer = FleetState.start(scenario.snapshot, scenario.placements).result;
  const t0 = performance.now();
  const tiers = relaxationBound(scenario.snapshot, scenario.placements, answer.decisions);
  out = { tiers, ms: performance.now() - t0, maxRssMiB: rssMiB() };
} else if (mode === 'incremental') {
  const state = FleetState.start(scenario.snapshot, scenario.placements, { clock });
  const extras = generate({ ...spec, name: `${spec.name}-extra`, placements: runs, seed: spec.seed + 1000 }).placements;
  const times: number[] = [];
  let moved = 0;
  let preempted = 0;
  for (const [i, p] of extras.entries()) {
    const added = { ...p, metadata: { ...p.metadata, name: `added-${i}` }, spec: { ...p.spec, replicas: Math.min(p.spec.replicas, 8) } };
    const t0 = performance.now();
    const r = state.step({ put: [added] });
    times.push(performance.now() - t0);
    // Nothing but the new placement may change where it runs, but for the replicas it preempts.
    const where = (d: { clusters: readonly { name: string; replicas: number }[] } | undefined) => JSON.stringify(d?.clusters ?? []);
    for (const [key, d] of r.decisions) {
      if (key === `${added.metadata.namespace}/${added.metadata.name}` || where(d) === where(state.decisions.get(key))) continue;
      if ((d.preemptions ?? []).some((x) => x.victim === key)) preempted++;
      else moved++;
    }
  }
  // The full Steady re-check of the same change, for comparison.
  const previous = [...state.decisions.values()];
  const steady: number[] = [];
  for (let i = 0; i < 3; i++) {
    const added = { ...extras[0]!, metadata: { ...extras[0]!.metadata, name: 'added-0' } };
    const t0 = performance.now();
    FleetState.start(scenario.snapshot, [...scenario.placements, added], { previous, clock });
    steady.push(performance.now() - t0);
  }
  out = {
    placed: [...state.entries.values()].filter((e) => e.assign !== undefined).length,
    addOneMedianMs: median(times),
    addOneTimes: times,
    otherPlacementsChanged: moved,
    otherPlacementsPreempted: preempted,
    steadyRecheckMedianMs: median(steady),
    maxRssMiB: rssMiB(),
  };
} else if (mode === 'scale' || mode === 'scale-full') {
  // The scale hook's step, `runs` times: the highest-priority placements (by key) each grown by
  // two replicas in turn, each step from the last, as an autoscaler's scale-ups arrive. With
  // scale-full, batch work of priority 0 (below every placement of the scenario) first takes what
  // room each cluster has left, all of it placed, so that every scale-up takes its room from it.
  const top = Math.max(...scenario.placements.map((p) => p.spec.priority ?? 0));
  let snapshot = scenario.snapshot;
  let placements: readonly Placement[] = scenario.placements;
  if (mode === 'scale-full') {
    const occupied = FleetState.start(snapshot, placements, { clock }).occupied();
    const pinned = snapshot.clusters.map((c) => ({ ...c, labels: { ...c.labels, 'bench.orrery.dev/cluster': c.name } }));
    snapshot = makeSnapshot(pinned, snapshot.generation + 1);
    const fillers: Placement[] = [];
    for (const c of occupied.clusters) {
      if (!c.healthy || c.reachable === false) continue;
      const free = (k: 'cpu' | 'memory' | 'pods') => c.allocatable[k] - c.allocated[k];
      const replicas = Math.floor(Math.min(free('cpu') / 1000, free('memory') / 2 ** 31, free('pods')));
      if (replicas <= 0) continue;
      fillers.push({
        apiVersion: API_VERSION,
        kind: 'Placement',
        metadata: { name: `filler-${c.name}`, namespace: 'batch' },
        spec: {
          replicas,
          priority: 0,
          tolerations: [{ operator: 'Exists' }],
          clusterSelector: { matchLabels: { 'bench.orrery.dev/cluster': c.name } },
          template: {
            spec: {
              selector: { matchLabels: { app: 'filler' } },
              template: {
                metadata: { labels: { app: 'filler' } },
                spec: { containers: [{ name: 'main', image: 'registry.example.com/batch:1', resources: { requests: { cpu: '1', memory: '2Gi' } } }] },
              },
            },
          },
        },
      });
    }
    placements = [...placements, ...fillers];
  }
  let state = FleetState.start(snapshot, placements, { clock });
  const targets = scenario.placements
    .filter((p) => (p.spec.priority ?? 0) === top)
    .map((p) => `${p.metadata.namespace}/${p.metadata.name}`)
    .sort();
  const times: number[] = [];
  let preemptingSteps = 0;
  let preempted = 0;
  let short = 0;
  for (let i = 0; i < runs; i++) {
    const key = targets[i % targets.length] as string;
    const p = state.entries.get(key)!.placement;
    const t0 = performance.now();
    state = state.step({ put: [{ ...p, spec: { ...p.spec, replicas: p.spec.replicas + 2 } }] });
    times.push(performance.now() - t0);
    if (state.result.stats.preempted > 0) preemptingSteps++;
    preempted += state.result.stats.preempted;
    if ((state.decisions.get(key)?.unscheduledReplicas ?? 0) > 0) short++;
  }
  const sorted = [...times].sort((a, b) => a - b);
  out = {
    fillers: placements.length - scenario.placements.length,
    scaleUps: runs,
    priority: top,
    medianMs: median(times),
    p99Ms: sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)],
    maxMs: sorted[sorted.length - 1],
    stepsThatPreempted: preemptingSteps,
    replicasPreempted: preempted,
    scaleUpsLeftShort: short,
    maxRssMiB: rssMiB(),
  };
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify({ scenario: spec, mode, ...out })}\n`);
