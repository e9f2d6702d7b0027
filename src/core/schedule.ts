// filter → score → select → assign.
//
// Placements are scheduled in priority tiers, highest first; a lower tier only ever sees the
// capacity the higher ones left. In Steady mode (a previous decision is given) every placement
// first keeps what it had, where that is still allowed, and only the difference is placed anew,
// so a new or resized placement never moves the replicas of another. Within a tier two
// answers are built from the same starting point — the greedy one other schedulers give, and
// one steered by the LP relaxation (and, for small tiers, an exact integer program) — and the
// one that places more priority-weighted replicas, then scores higher, wins.

import {
  type ClusterAssignment,
  type Decision,
  type DecisionReason,
  type FleetSnapshot,
  type Placement,
  type ScheduleResult,
  compareNames,
  placementKey,
} from './model.js';
import { type CycleContext, type Profile, runFilters } from './framework.js';
import { defaultProfile } from './profile.js';
import { type FleetIndex, type PreparedPlacement, domainOf, fitCount, indexFleet, preparePlacement } from './prepare.js';
import { type Candidate, allocate, sortCandidates } from './solver/allocate.js';
import { solveLinear } from './solver/lp.js';
import { type SteeringClass, buildSteeringModel, groupClusters, readQuotas, steeringVariables } from './solver/steer.js';
import { solveExactTier } from './solver/exact.js';
import { unscheduledMessage } from './explain.js';

export interface ScheduleOptions {
  /** The decision in force; with it, scheduling is Steady unless mode says Fresh. */
  readonly previous?: readonly Decision[];
  readonly mode?: 'Steady' | 'Fresh';
  /** greedy: the baseline only, as other multi-cluster schedulers place. */
  readonly solver?: 'auto' | 'greedy';
  readonly profile?: Profile;
  /** Milliseconds, for stats only: the core keeps no clock of its own. */
  readonly clock?: () => number;
  /** Largest tier (in placement × cluster pairs) solved as one exact integer program. */
  readonly exactMaxPairs?: number;
  /** Largest steering relaxation, in variables. */
  readonly steerMaxVariables?: number;
}

/** A placement made ready for this cycle. */
export interface Job {
  readonly p: PreparedPlacement;
  readonly weight: number;
  /** eligible cluster rows, best first */
  readonly order: Int32Array;
  readonly eligible: Uint8Array;
  /** preference per cluster row */
  readonly pref: Float64Array;
  readonly previous: ReadonlyMap<number, number> | undefined;
}

type Assignment = Map<number, number>;

interface TierOutcome {
  readonly assign: Map<Job, Assignment>;
  readonly failed: Map<Job, string>;
  readonly free: Float64Array;
  readonly placed: number;
  readonly score: number;
  readonly solver: 'optimal' | 'steered' | 'greedy';
}

export interface Cycle {
  readonly ctx: CycleContext;
  readonly profile: Profile;
  readonly jobs: readonly Job[];
  readonly invalid: ReadonlyMap<string, string>;
}

/** Filters and scores every placement against every cluster, sharing work between look-alikes. */
export function prepareCycle(snapshot: FleetSnapshot, placements: readonly Placement[], opts: ScheduleOptions = {}): Cycle {
  const fleet = indexFleet(snapshot);
  const profile = opts.profile ?? defaultProfile;
  const steady = opts.mode !== 'Fresh';
  const previous = new Map<string, Map<string, number>>();
  if (steady) {
    for (const d of opts.previous ?? []) previous.set(d.placement, new Map(d.clusters.map((c) => [c.name, c.replicas])));
  }
  const ctx: CycleContext = { fleet, previous };
  const rowOf = new Map(fleet.clusters.map((c, i) => [c.name, i]));
  const nClusters = fleet.clusters.length;
  const shared = profile.scores.filter((s) => s.plugin.name !== 'Stability');
  const stability = profile.scores.find((s) => s.plugin.name === 'Stability');
  const totalWeight = profile.scores.reduce((s, w) => s + w.weight, 0) || 1;

  const eligibleCache = new Map<string, Uint8Array>();
  const scoreCache = new Map<string, { pref: Float64Array; order: Int32Array }>();
  const jobs: Job[] = [];
  const invalid = new Map<string, string>();
  const seen = new Set<string>();
  for (const placement of [...placements].sort((a, b) => compareNames(placementKey(a), placementKey(b)))) {
    const key = placementKey(placement);
    if (seen.has(key)) continue;
    seen.add(key);
    const prepared = preparePlacement(placement, fleet);
    if (!prepared.ok) {
      invalid.set(key, prepared.error);
      continue;
    }
    const p = prepared.value;
    let eligible = eligibleCache.get(p.eligibilityKey);
    if (eligible === undefined) {
      eligible = new Uint8Array(nClusters);
      for (let row = 0; row < nClusters; row++) {
        if (runFilters(profile, ctx, p, fleet.clusters[row]!, row).ok) eligible[row] = 1;
      }
      eligibleCache.set(p.eligibilityKey, eligible);
    }
    let scored = scoreCache.get(p.scoreKey);
    if (scored === undefined) {
      const pref = new Float64Array(nClusters);
      const rows: number[] = [];
      for (let row = 0; row < nClusters; row++) {
        if (eligible[row] !== 1) continue;
        let sum = 0;
        for (const { plugin, weight } of shared) sum += weight * clamp(plugin.score(ctx, p, fleet.clusters[row]!, row));
        pref[row] = sum / totalWeight;
        rows.push(row);
      }
      scored = { pref, order: orderRows(rows, pref, fleet) };
      scoreCache.set(p.scoreKey, scored);
    }
    const before = previous.get(key);
    let job: Job;
    if (before === undefined || before.size === 0 || stability === undefined) {
      job = { p, weight: p.priority + 1, order: scored.order, eligible, pref: scored.pref, previous: undefined };
    } else {
      // Only placements that ran before pay for their own copy of the preferences.
      const pref = Float64Array.from(scored.pref);
      const prevRows = new Map<number, number>();
      for (const [name, n] of before) {
        const row = rowOf.get(name);
        if (row === undefined || n <= 0) continue;
        prevRows.set(row, n);
        if (eligible[row] === 1) pref[row] = (pref[row] as number) + (stability.weight * 100) / totalWeight;
      }
      job = { p, weight: p.priority + 1, order: orderRows(Array.from(scored.order), pref, fleet), eligible, pref, previous: prevRows };
    }
    jobs.push(job);
  }
  return { ctx, profile, jobs, invalid };
}

function orderRows(rows: number[], pref: Float64Array, fleet: FleetIndex): Int32Array {
  const names = fleet.clusters;
  rows.sort((a, b) => (pref[b] as number) - (pref[a] as number) || compareNames(names[a]!.name, names[b]!.name));
  return Int32Array.from(rows);
}

function clamp(s: number): number {
  return Number.isFinite(s) ? Math.min(100, Math.max(0, s)) : 0;
}

export function schedule(snapshot: FleetSnapshot, placements: readonly Placement[], opts: ScheduleOptions = {}): ScheduleResult {
  const clock = opts.clock ?? (() => 0);
  const started = clock();
  const cycle = prepareCycle(snapshot, placements, opts);
  const { fleet } = cycle.ctx;
  const dims = fleet.dims.length;
  let free: Float64Array = Float64Array.from(fleet.free);
  const assign = new Map<Job, Assignment>();
  const failed = new Map<Job, string>();
  const stats = { lpSolves: 0, lpMs: 0 };
  let steeredWon = false;
  let anyExact = false;
  let allExact = true;

  for (const tier of tiers(cycle.jobs)) {
    // Keep what each placement had, where it is still eligible and still fits.
    const kept = new Map<Job, Assignment>();
    const tierFree = Float64Array.from(free);
    for (const job of tier) {
      const k = keepPrevious(job, tierFree, dims, fleet);
      if (k.size > 0) kept.set(job, k);
    }
    const greedy = placeTier(tier, kept, tierFree, fleet, 'greedy', stats, opts, clock);
    let best = greedy;
    if (opts.solver !== 'greedy') {
      const steered = placeTier(tier, kept, tierFree, fleet, 'steered', stats, opts, clock);
      if (better(steered, best)) best = steered;
      const exact = kept.size === 0 ? solveExactTier(tier, tierFree, fleet, opts.exactMaxPairs ?? 150, stats, clock) : undefined;
      if (exact !== undefined) {
        anyExact = true;
        const exactOutcome = outcomeOf(tier, exact.assign, exact.free, 'optimal');
        // The exact answer only replaces a heuristic one that it strictly beats in placement:
        // the heuristics keep the Spread/Pack shape that the objective does not see.
        if (exactOutcome.placed > best.placed + 1e-9) best = exactOutcome;
        else if (best.placed >= exactOutcome.placed - 1e-9) best = { ...best, solver: 'optimal' };
      } else allExact = false;
    } else allExact = false;
    if (best.solver === 'steered') steeredWon = true;
    for (const [job, a] of best.assign) assign.set(job, a);
    for (const [job, why] of best.failed) failed.set(job, why);
    free = best.free;
  }
  const solver = opts.solver === 'greedy' ? 'greedy' : anyExact && allExact ? 'optimal' : steeredWon ? 'steered' : 'greedy';

  const decisions: Decision[] = [];
  let weightedPlaced = 0;
  let placedReplicas = 0;
  let unscheduledReplicas = 0;
  let moves = 0;
  const byKey = new Map<string, Decision>();
  for (const job of cycle.jobs) {
    const a = assign.get(job) ?? new Map<number, number>();
    const clusters: ClusterAssignment[] = [];
    let placed = 0;
    for (const [row, n] of a) {
      if (n <= 0) continue;
      clusters.push({ name: fleet.clusters[row]!.name, replicas: n });
      placed += n;
    }
    clusters.sort((x, y) => compareNames(x.name, y.name));
    const unscheduled = job.p.replicas - placed;
    const reason: DecisionReason = unscheduled === 0 ? 'Scheduled' : placed > 0 ? 'PartiallyScheduled' : 'Unschedulable';
    const message =
      unscheduled === 0
        ? `${placed} replicas on ${clusters.length} clusters`
        : unscheduledMessage(cycle, job, free, placed, failed.get(job));
    const d: Decision = { placement: job.p.key, clusters, unscheduledReplicas: unscheduled, reason, message };
    byKey.set(job.p.key, d);
    weightedPlaced += placed * job.weight;
    placedReplicas += placed;
    unscheduledReplicas += unscheduled;
    if (job.previous !== undefined) moves += movedReplicas(job, a);
  }
  for (const [key, why] of cycle.invalid) {
    const p = placements.find((x) => placementKey(x) === key);
    const replicas = typeof p?.spec.replicas === 'number' ? p.spec.replicas : 0;
    byKey.set(key, { placement: key, clusters: [], unscheduledReplicas: replicas, reason: 'Unschedulable', message: `invalid placement: ${why}` });
    unscheduledReplicas += replicas;
  }
  for (const key of [...byKey.keys()].sort(compareNames)) decisions.push(byKey.get(key)!);
  return {
    decisions,
    stats: {
      solveMs: round(clock() - started),
      solver,
      placements: decisions.length,
      clusters: fleet.clusters.length,
      weightedPlaced,
      placedReplicas,
      unscheduledReplicas,
      moves,
      lpSolves: stats.lpSolves,
      lpMs: round(stats.lpMs),
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function tiers(jobs: readonly Job[]): Job[][] {
  const byPriority = new Map<number, Job[]>();
  for (const j of jobs) {
    const list = byPriority.get(j.p.priority) ?? [];
    list.push(j);
    byPriority.set(j.p.priority, list);
  }
  return [...byPriority.keys()].sort((a, b) => b - a).map((k) => byPriority.get(k)!);
}

function movedReplicas(job: Job, now: Assignment): number {
  let removed = 0;
  let before = 0;
  for (const [row, n] of job.previous ?? []) {
    before += n;
    removed += Math.max(0, n - (now.get(row) ?? 0));
  }
  // Replicas removed because the placement shrank did not move.
  return Math.max(0, removed - Math.max(0, before - job.p.replicas));
}

/**
 * The previous replicas that may stay: on clusters still eligible, as many as still fit, the
 * best-scored clusters first so that a shrink leaves the worst ones. Reserves their capacity.
 */
function keepPrevious(job: Job, free: Float64Array, dims: number, fleet: FleetIndex): Assignment {
  const kept: Assignment = new Map();
  if (job.previous === undefined) return kept;
  const rows = [...job.previous.keys()].filter((r) => job.eligible[r] === 1);
  rows.sort((a, b) => (job.pref[b] as number) - (job.pref[a] as number) || compareNames(fleet.clusters[a]!.name, fleet.clusters[b]!.name));
  let left = job.p.replicas;
  let clusters = 0;
  for (const row of rows) {
    if (left === 0 || clusters >= job.p.spread.maxClusters) break;
    const n = Math.min(job.previous.get(row) ?? 0, fitCount(free, row * dims, job.p.demand), left);
    if (n <= 0) continue;
    take(free, row * dims, job.p.demand, n);
    kept.set(row, n);
    left -= n;
    clusters++;
  }
  return kept;
}

function take(free: Float64Array, base: number, demand: Float64Array, n: number): void {
  for (let d = 0; d < demand.length; d++) free[base + d] = (free[base + d] as number) - n * (demand[d] as number);
}

interface PlaceOpts {
  /** per cluster row, how many more replicas this placement may put there */
  readonly limit?: (row: number, cap: number) => number;
}

function candidatesFor(job: Job, kept: Assignment | undefined, free: Float64Array, fleet: FleetIndex, opts: PlaceOpts): Candidate[] {
  const dims = fleet.dims.length;
  const out: Candidate[] = [];
  const key = job.p.spread.topologyKey;
  for (const row of job.order) {
    const have = kept?.get(row) ?? 0;
    let cap = fitCount(free, row * dims, job.p.demand);
    if (opts.limit !== undefined && cap > 0) cap = opts.limit(row, cap);
    if (cap <= 0 && have === 0) continue;
    const c = fleet.clusters[row]!;
    out.push({ row, name: c.name, cap: Math.max(0, cap), pref: job.pref[row] as number, domain: domainOf(c, key) ?? '', kept: have });
  }
  return out;
}

/** Places one job on top of `kept`; returns the new assignment or why it failed. */
function placeJob(
  job: Job,
  kept: Assignment | undefined,
  free: Float64Array,
  fleet: FleetIndex,
  opts: PlaceOpts = {},
): { ok: true; assign: Assignment } | { ok: false; code: string } {
  const cands = candidatesFor(job, kept, free, fleet, opts);
  const r = allocate(cands, { replicas: job.p.replicas, strategy: job.p.strategy, spread: job.p.spread, gang: job.p.gang });
  if (!r.ok) return { ok: false, code: r.code };
  const dims = fleet.dims.length;
  const assign: Assignment = new Map(kept ?? []);
  cands.forEach((c, i) => {
    const add = r.adds[i] as number;
    if (add > 0) {
      take(free, c.row * dims, job.p.demand, add);
      assign.set(c.row, (assign.get(c.row) ?? 0) + add);
    }
  });
  return { ok: true, assign };
}

function release(free: Float64Array, dims: number, job: Job, a: Assignment): void {
  for (const [row, n] of a) take(free, row * dims, job.p.demand, -n);
}

function placedOf(a: Assignment | undefined): number {
  let s = 0;
  for (const n of a?.values() ?? []) s += n;
  return s;
}

function placeTier(
  tier: readonly Job[],
  kept: ReadonlyMap<Job, Assignment>,
  startFree: Float64Array,
  fleet: FleetIndex,
  mode: 'greedy' | 'steered',
  stats: { lpSolves: number; lpMs: number },
  opts: ScheduleOptions,
  clock: () => number,
): TierOutcome {
  const dims = fleet.dims.length;
  const free = Float64Array.from(startFree);
  const assign = new Map<Job, Assignment>();
  const failed = new Map<Job, string>();
  for (const [job, a] of kept) assign.set(job, new Map(a));

  const commit = (job: Job, r: ReturnType<typeof placeJob>) => {
    if (r.ok) {
      assign.set(job, r.assign);
      failed.delete(job);
    } else {
      // All or nothing: a gang (or minClusters) that cannot be met gives back what it kept.
      const had = assign.get(job);
      if (had !== undefined) release(free, dims, job, had);
      assign.delete(job);
      failed.set(job, r.code);
    }
  };

  if (mode === 'greedy') {
    for (const job of tier) commit(job, placeJob(job, assign.get(job), free, fleet));
    return outcomeOf(tier, assign, free, 'greedy', failed);
  }

  const open = tier.filter((j) => placedOf(assign.get(j)) < j.p.replicas);
  const order = [...open].sort(constrainedFirst);
  const steering = steer(open, (j) => j.p.replicas - placedOf(assign.get(j)), free, fleet, stats, opts, clock);
  if (steering !== undefined) {
    const { grouping, quotas, classOf } = steering;
    const left = new Map(quotas.quota);
    for (const job of order) {
      const k = classOf.get(job) as number;
      const tentative = new Map<number, number>();
      const limit = (row: number, cap: number) => {
        const g = grouping.groupOf[row] as number;
        if (!quotas.contended.has(g)) return cap;
        const q = tentative.has(g) ? (tentative.get(g) as number) : (left.get(`${k}:${g}`) ?? 0);
        const n = Math.min(cap, q);
        tentative.set(g, q - n);
        return n;
      };
      let r = placeJob(job, assign.get(job), free, fleet, { limit });
      if (!r.ok && job.p.gang) r = placeJob(job, assign.get(job), free, fleet);
      if (r.ok) {
        for (const [row, n] of r.assign) {
          const g = grouping.groupOf[row] as number;
          const before = assign.get(job)?.get(row) ?? 0;
          if (n > before) left.set(`${k}:${g}`, (left.get(`${k}:${g}`) ?? 0) - (n - before));
        }
      }
      commit(job, r);
    }
  }
  // What the quotas did not cover goes wherever it fits.
  for (const job of order) {
    if (placedOf(assign.get(job)) >= job.p.replicas) continue;
    commit(job, placeJob(job, assign.get(job), free, fleet));
  }
  return outcomeOf(tier, assign, free, 'steered', failed);
}

/** Scarce resources first: device users, gangs, then the fewest eligible clusters. */
function constrainedFirst(a: Job, b: Job): number {
  const dev = (j: Job) => (j.p.demand.length > 3 ? j.p.demand.subarray(3).reduce((s, x) => s + x, 0) : 0);
  return (
    dev(b) - dev(a) ||
    Number(b.p.gang) - Number(a.p.gang) ||
    a.order.length - b.order.length ||
    b.p.replicas * (b.p.demand[0] as number) - a.p.replicas * (a.p.demand[0] as number) ||
    compareNames(a.p.key, b.p.key)
  );
}

function steer(
  jobs: readonly Job[],
  remaining: (job: Job) => number,
  free: Float64Array,
  fleet: FleetIndex,
  stats: { lpSolves: number; lpMs: number },
  opts: ScheduleOptions,
  clock: () => number,
) {
  if (jobs.length < 2) return undefined;
  const dims = fleet.dims.length;
  const classIndex = new Map<string, number>();
  const classes: { replicas: number; demand: Float64Array; eligible: Uint8Array; pref: Float64Array; weight: number }[] = [];
  const classOf = new Map<Job, number>();
  for (const job of jobs) {
    let k = classIndex.get(job.p.eligibilityKey);
    if (k === undefined) {
      k = classes.length;
      classIndex.set(job.p.eligibilityKey, k);
      classes.push({ replicas: 0, demand: job.p.demand, eligible: job.eligible, pref: job.pref, weight: job.weight });
    }
    classes[k]!.replicas += remaining(job);
    classOf.set(job, k);
  }
  const steeringClasses: SteeringClass[] = classes;
  const grouping = groupClusters(steeringClasses, fleet.clusters.length);
  if (steeringVariables(grouping) > (opts.steerMaxVariables ?? 3000)) return undefined;
  const model = buildSteeringModel(steeringClasses, grouping, free, dims, { withPreference: true });
  const t0 = clock();
  const solution = solveLinear(model);
  stats.lpSolves++;
  stats.lpMs += clock() - t0;
  if (!solution.feasible) return undefined;
  const quotas = readQuotas(steeringClasses, grouping, solution.values, free, dims);
  return { grouping, quotas, classOf };
}

function outcomeOf(
  tier: readonly Job[],
  assign: Map<Job, Assignment>,
  free: Float64Array,
  solver: TierOutcome['solver'],
  failed: Map<Job, string> = new Map(),
): TierOutcome {
  let placed = 0;
  let score = 0;
  for (const job of tier) {
    for (const [row, n] of assign.get(job) ?? []) {
      placed += n * job.weight;
      score += n * (job.pref[row] as number);
    }
  }
  return { assign, failed, free, placed, score, solver };
}

function better(a: TierOutcome, b: TierOutcome): boolean {
  if (a.placed !== b.placed) return a.placed > b.placed;
  return a.score > b.score + 1e-9;
}
