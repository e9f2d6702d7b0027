// One priority tier: the greedy answer, the answer steered by the LP relaxation, and for
// small tiers the exact integer program, each from the same starting capacity.

import { compareNames } from '../model.js';
import type { Job, ScheduleOptions } from '../cycle.js';
import type { FleetIndex } from '../prepare.js';
import { solveExactTier } from './exact.js';
import { solveLinear } from './lp.js';
import { type Assignment, placeJob, placedOf, release } from './place.js';
import { hasOwnLimits, soloCap } from './solo.js';
import { type SteeringClass, buildSteeringModel, groupClusters, readQuotas, steeringVariables } from './steer.js';

export interface TierOutcome {
  readonly assign: Map<Job, Assignment>;
  readonly free: Float64Array;
  readonly placed: number;
  readonly score: number;
  readonly solver: 'optimal' | 'steered' | 'greedy';
}

function placeTier(
  tier: readonly Job[],
  below: readonly Job[],
  kept: ReadonlyMap<Job, Assignment>,
  startFree: Float64Array,
  fleet: FleetIndex,
  mode: 'greedy' | 'steered',
  stats: { lpSolves: number; lpMs: number },
  opts: ScheduleOptions,
  clock: () => number,
  deadline: number,
): TierOutcome {
  const dims = fleet.dims.length;
  const free = Float64Array.from(startFree);
  const assign = new Map<Job, Assignment>();
  for (const job of tier) {
    const a = kept.get(job);
    if (a !== undefined) assign.set(job, new Map(a));
  }

  const commit = (job: Job, r: ReturnType<typeof placeJob>) => {
    if (r.ok) {
      assign.set(job, r.assign);
    } else {
      // All or nothing: a gang (or minClusters) that cannot be met gives back what it kept.
      const had = assign.get(job);
      if (had !== undefined) release(free, dims, job, had);
      assign.delete(job);
    }
  };

  if (mode === 'greedy') {
    for (const job of tier) {
      if (placedOf(assign.get(job)) < job.p.replicas) commit(job, placeJob(job, assign.get(job), free, fleet));
    }
    return outcomeOf(tier, assign, free, 'greedy');
  }

  const open = tier.filter((j) => placedOf(assign.get(j)) < j.p.replicas);
  const order = [...open].sort(constrainedFirst);
  const steering = steer(open, below, (j) => j.p.replicas - placedOf(assign.get(j) ?? kept.get(j)), free, fleet, stats, opts, clock, deadline);
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
      // A skew counts every eligible domain: quotas must not hide one.
      const r = placeJob(job, assign.get(job), free, fleet, Number.isFinite(job.p.spread.maxSkew) ? {} : { limit });
      // A gang (or minClusters) that does not fit its quotas keeps what it had and waits for
      // the second pass: the relaxation judged that capacity better used by others.
      if (!r.ok) continue;
      for (const [row, n] of r.assign) {
        const g = grouping.groupOf[row] as number;
        const before = assign.get(job)?.get(row) ?? 0;
        if (n > before) left.set(`${k}:${g}`, (left.get(`${k}:${g}`) ?? 0) - (n - before));
      }
      commit(job, r);
    }
  }
  // What the quotas did not cover goes wherever it fits.
  for (const job of order) {
    if (placedOf(assign.get(job)) >= job.p.replicas) continue;
    commit(job, placeJob(job, assign.get(job), free, fleet));
  }
  return outcomeOf(tier, assign, free, 'steered');
}

/** Scarce resources first: device users, then placements with rules of their own (gang, spread), then the fewest eligible clusters. */
function constrainedFirst(a: Job, b: Job): number {
  const dev = (j: Job) => (j.p.demand.length > 3 ? j.p.demand.subarray(3).reduce((s, x) => s + x, 0) : 0);
  return (
    dev(b) - dev(a) ||
    Number(hasOwnLimits(b)) - Number(hasOwnLimits(a)) ||
    a.eligibleCount - b.eligibleCount ||
    b.p.replicas * (b.p.demand[0] as number) - a.p.replicas * (a.p.demand[0] as number) ||
    compareNames(a.p.key, b.p.key)
  );
}

const maskKeys = new WeakMap<Uint8Array, string>();

/** The same set of eligible clusters gives the same key, whatever placement it came from. */
function maskKey(mask: Uint8Array): string {
  let key = maskKeys.get(mask);
  if (key === undefined) {
    const rows: number[] = [];
    for (let i = 0; i < mask.length; i++) if (mask[i] === 1) rows.push(i);
    key = rows.join(',');
    maskKeys.set(mask, key);
  }
  return key;
}

// The relaxation's objective: a replica of this tier outweighs any number of lower-tier
// replicas it could realistically trade for; lower tiers' capacity outweighs this tier's
// preferences; preferences break the remaining ties.
const PLACE = 1e6;
const PREFER = 5;
const BELOW = 1000;

/**
 * Quotas for the tier from the relaxation. The placements of lower tiers take part with a
 * smaller value, so that this tier leaves them the capacity only they can use.
 */
function steer(
  jobs: readonly Job[],
  below: readonly Job[],
  remaining: (job: Job) => number,
  free: Float64Array,
  fleet: FleetIndex,
  stats: { lpSolves: number; lpMs: number },
  opts: ScheduleOptions,
  clock: () => number,
  deadline: number,
) {
  if (jobs.length < 2) return undefined;
  const dims = fleet.dims.length;
  const classIndex = new Map<string, number>();
  const classes: { replicas: number; demand: Float64Array; eligible: Uint8Array; pref: Float64Array; placeValue: number; prefValue: number; weight: number }[] = [];
  const classOf = new Map<Job, number>();
  const maxBelow = Math.max(1, ...below.map((j) => j.weight));
  const add = (job: Job, replicas: number, lower: boolean) => {
    // Lower tiers only need to be roughly right: one class per set of eligible clusters, with
    // the mean demand of its replicas, keeps the relaxation small.
    const key = lower ? `below|${job.weight}|${maskKey(job.eligible)}` : job.p.eligibilityKey;
    let k = classIndex.get(key);
    if (k === undefined) {
      k = classes.length;
      classIndex.set(key, k);
      classes.push({
        replicas: 0,
        demand: lower ? new Float64Array(dims) : job.p.demand,
        eligible: job.eligible,
        pref: job.basePref,
        placeValue: lower ? (BELOW * job.weight) / maxBelow : PLACE,
        prefValue: lower ? 0 : PREFER,
        weight: job.weight,
      });
    }
    const c = classes[k]!;
    // A placement's own rules may hold it below what capacity allows: tell the relaxation.
    const n = hasOwnLimits(job) ? Math.min(replicas, soloCap(job, free, fleet)) : replicas;
    if (lower && n > 0) {
      for (let d = 0; d < dims; d++) c.demand[d] = ((c.demand[d] as number) * c.replicas + (job.p.demand[d] as number) * n) / (c.replicas + n);
    }
    c.replicas += n;
    return k;
  };
  for (const job of jobs) classOf.set(job, add(job, remaining(job), false));
  for (const job of below) add(job, remaining(job), true);
  const steeringClasses: SteeringClass[] = classes;
  const grouping = groupClusters(steeringClasses, fleet.clusters.length);
  if (steeringVariables(grouping) > (opts.steerMaxVariables ?? 3000)) return undefined;
  const model = buildSteeringModel(steeringClasses, grouping, free, dims);
  const t0 = clock();
  const solution = solveLinear(model, Number.isFinite(deadline) ? { timeoutMs: Math.max(1, deadline - t0) } : {});
  stats.lpSolves++;
  stats.lpMs += clock() - t0;
  if (!solution.feasible) return undefined;
  const quotas = readQuotas(steeringClasses, grouping, solution.values, free, dims);
  return { grouping, quotas, classOf };
}

export function outcomeOf(
  tier: readonly Job[],
  assign: Map<Job, Assignment>,
  free: Float64Array,
  solver: TierOutcome['solver'],
): TierOutcome {
  let placed = 0;
  let score = 0;
  for (const job of tier) {
    for (const [row, n] of assign.get(job) ?? []) {
      placed += n * job.weight;
      score += n * job.pref(row);
    }
  }
  return { assign, free, placed, score, solver };
}

function better(a: TierOutcome, b: TierOutcome): boolean {
  if (a.placed !== b.placed) return a.placed > b.placed;
  return a.score > b.score + 1e-9;
}

export interface TierResult {
  readonly outcome: TierOutcome;
  /** whether the exact integer program was solved for this tier */
  readonly exact: boolean;
}

/**
 * Places what the tier's placements still need on top of what they keep, the best of the
 * greedy, steered and (small tiers) exact answers.
 */
export function solveTier(
  tier: readonly Job[],
  below: readonly Job[],
  kept: ReadonlyMap<Job, Assignment>,
  free: Float64Array,
  fleet: FleetIndex,
  stats: { lpSolves: number; lpMs: number },
  opts: ScheduleOptions,
  clock: () => number,
  deadline = Number.POSITIVE_INFINITY,
): TierResult {
  const greedy = placeTier(tier, below, kept, free, fleet, 'greedy', stats, opts, clock, deadline);
  // The greedy answer is the floor: past the deadline it is the answer.
  if (opts.solver === 'greedy' || clock() >= deadline) return { outcome: greedy, exact: false };
  const steered = placeTier(tier, below, kept, free, fleet, 'steered', stats, opts, clock, deadline);
  let best = better(steered, greedy) ? steered : greedy;
  if (below.length > 0 && clock() < deadline) {
    // Steering for the tiers below must never cost this tier a replica: the answer steered
    // for this tier alone stands whenever it places more here.
    const selfish = placeTier(tier, [], kept, free, fleet, 'steered', stats, opts, clock, deadline);
    if (selfish.placed > best.placed) best = selfish;
  }
  const tierKeeps = tier.some((job) => kept.has(job));
  const exact = tierKeeps || clock() >= deadline ? undefined : solveExactTier(tier, free, fleet, opts.exactMaxPairs ?? 48, stats, clock, deadline);
  if (exact === undefined) return { outcome: best, exact: false };
  const exactOutcome = outcomeOf(tier, exact.assign, exact.free, 'optimal');
  // The exact answer replaces a heuristic one only when it places strictly more: the
  // heuristics keep the Spread/Pack shape that the objective does not see.
  if (exactOutcome.placed > best.placed + 1e-9) best = exactOutcome;
  else best = { ...best, solver: 'optimal' };
  return { outcome: best, exact: true };
}
