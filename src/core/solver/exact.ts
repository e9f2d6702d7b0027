// A whole priority tier as one integer program, for tiers small enough to solve exactly:
// x[j,r] replicas of placement j on cluster r; capacity per cluster and resource; gang as
// all-or-nothing; min/max clusters through binary "uses cluster" variables; maxSkew through
// a per-placement floor that every domain stays within maxSkew of.

import { type FleetIndex, domainOf } from '../prepare.js';
import { roomFor } from '../fit.js';
import type { Job } from '../cycle.js';
import { type LinearModel, solveLinear } from './lp.js';
import type { TierContext } from './tier.js';

type Assignment = Map<number, number>;

/** A placement and a cluster it may get replicas on, with at most how many. */
export interface Pair {
  readonly j: number;
  readonly row: number;
  readonly cap: number;
}

/**
 * The placement × cluster pairs of a tier, or undefined when the tier is not one to solve
 * exactly: too many pairs, a rule the program does not model, or nothing to place.
 */
export function exactPairs(tier: readonly Job[], free: Float64Array, ctx: TierContext): Pair[] | undefined {
  const maxPairs = ctx.opts.exactMaxPairs ?? 48;
  const dims = ctx.fleet.dims.length;
  const pairs: Pair[] = [];
  for (let j = 0; j < tier.length; j++) {
    const job = tier[j] as Job;
    // Skew among the domains of whichever clusters get chosen is not modelled here.
    if (Number.isFinite(job.p.spread.maxSkew) && Number.isFinite(job.p.spread.maxClusters)) return undefined;
    // Eligible clusters bound the pairs from above: most tiers are refused right here.
    if (pairs.length + job.eligibleCount > 4 * maxPairs) return undefined;
    for (const row of job.order) {
      const cap = job.avoid?.has(row) ? 0 : Math.min(roomFor(job, free, dims, row), job.p.replicas);
      if (cap > 0) pairs.push({ j, row, cap });
    }
    if (pairs.length > maxPairs) return undefined;
  }
  return pairs.length === 0 ? undefined : pairs;
}

/** The integer program of a tier's pairs, in the form solver/lp.ts takes. */
export function buildExactModel(tier: readonly Job[], pairs: readonly Pair[], free: Float64Array, fleet: FleetIndex): LinearModel {
  const dims = fleet.dims.length;
  const totalReplicas = tier.reduce((s, job) => s + job.p.replicas, 0);
  // Worth in units of the least worthy replica, each unit large enough to outweigh any preference.
  let least = Number.POSITIVE_INFINITY;
  for (const job of tier) if (job.value > 0) least = Math.min(least, job.value);
  const place = (job: Job) => (Number.isFinite(least) ? job.value / least : 1) * (100 * totalReplicas + 1);
  const unit = new Float64Array(dims);
  for (const job of tier) for (let d = 0; d < dims; d++) unit[d] = Math.max(unit[d] as number, job.p.demand[d] as number);
  const objective = new Map<string, number>();
  const columns = new Map<string, Map<string, number>>();
  const rows = new Map<string, { min?: number; max?: number }>();
  const integers = new Set<string>();
  const binaries = new Set<string>();
  const column = (name: string) => {
    let c = columns.get(name);
    if (c === undefined) {
      c = new Map();
      columns.set(name, c);
    }
    return c;
  };

  for (const { j, row, cap } of pairs) {
    const job = tier[j] as Job;
    const x = `x${j}_${row}`;
    integers.add(x);
    objective.set(x, place(job) + job.pref(row));
    const cx = column(x);
    cx.set(`u${j}_${row}`, 1);
    rows.set(`u${j}_${row}`, { max: cap });
    for (let d = 0; d < dims; d++) {
      const need = job.p.demand[d] as number;
      if (need > 0) {
        // in units of the largest demand, for the simplex's tolerances
        cx.set(`c${row}_${d}`, need / (unit[d] as number));
        rows.set(`c${row}_${d}`, { max: (free[row * dims + d] as number) / (unit[d] as number) });
      }
    }
    cx.set(`n${j}`, 1);
    const { minClusters, maxClusters } = job.p.spread;
    if (minClusters > 0 || Number.isFinite(maxClusters)) {
      const y = `y${j}_${row}`;
      binaries.add(y);
      cx.set(`ly${j}_${row}`, 1).set(`uy${j}_${row}`, 1);
      column(y).set(`ly${j}_${row}`, -1).set(`uy${j}_${row}`, -cap).set(`m${j}`, 1);
      rows.set(`ly${j}_${row}`, { min: 0 });
      rows.set(`uy${j}_${row}`, { max: 0 });
    }
    if (Number.isFinite(job.p.spread.maxSkew)) {
      const domain = domainOf(fleet.clusters[row]!, job.p.spread.topologyKey) ?? '';
      cx.set(`dl${j}_${domain}`, 1).set(`dh${j}_${domain}`, 1);
    }
  }

  tier.forEach((job, j) => {
    if (!pairs.some((p) => p.j === j)) return;
    const R = job.p.replicas;
    const { minClusters, maxClusters, maxSkew } = job.p.spread;
    if (job.p.gang) {
      binaries.add(`z${j}`);
      column(`z${j}`).set(`n${j}`, -R);
      rows.set(`n${j}`, { min: 0, max: 0 });
    } else {
      rows.set(`n${j}`, { max: R });
    }
    if (minClusters > 0 || Number.isFinite(maxClusters)) {
      rows.set(`m${j}`, { max: Number.isFinite(maxClusters) ? maxClusters : pairs.length });
      if (minClusters > 0) {
        // Anything placed at all (w = 1) needs minClusters clusters.
        binaries.add(`w${j}`);
        column(`w${j}`).set(`nw${j}`, -R).set(`mn${j}`, -minClusters);
        for (const p of pairs) if (p.j === j) column(`x${j}_${p.row}`).set(`nw${j}`, 1);
        for (const p of pairs) if (p.j === j) column(`y${j}_${p.row}`).set(`mn${j}`, 1);
        rows.set(`nw${j}`, { max: 0 });
        rows.set(`mn${j}`, { min: 0 });
      }
    }
    if (Number.isFinite(maxSkew)) {
      const domains = new Set<string>();
      // Every eligible domain counts, also one with no room left: its count stays 0.
      for (const row of job.order) domains.add(domainOf(fleet.clusters[row]!, job.p.spread.topologyKey) ?? '');
      const floor = column(`s${j}`);
      for (const d of domains) {
        floor.set(`dl${j}_${d}`, -1).set(`dh${j}_${d}`, -1);
        rows.set(`dl${j}_${d}`, { min: 0 });
        rows.set(`dh${j}_${d}`, { max: maxSkew });
      }
    }
  });

  return { objective, columns, rows, integers, binaries };
}

/** The assignment a solution gives, or undefined if rounding broke a capacity or a rule. */
export function readExact(tier: readonly Job[], pairs: readonly Pair[], values: ReadonlyMap<string, number>, free: Float64Array, fleet: FleetIndex): Map<Job, Assignment> | undefined {
  const dims = fleet.dims.length;
  const left = Float64Array.from(free);
  const assign = new Map<Job, Assignment>();
  for (const { j, row } of pairs) {
    const n = Math.round(values.get(`x${j}_${row}`) ?? 0);
    if (n <= 0) continue;
    const job = tier[j] as Job;
    for (let d = 0; d < dims; d++) left[row * dims + d] = (left[row * dims + d] as number) - n * (job.p.demand[d] as number);
    let a = assign.get(job);
    if (a === undefined) {
      a = new Map();
      assign.set(job, a);
    }
    a.set(row, n);
  }
  // Rounding must not have broken a capacity row; if it did, the heuristics answer instead.
  for (const v of left) if (v < -1e-6) return undefined;
  for (const job of tier) {
    const placed = [...(assign.get(job)?.values() ?? [])].reduce((s, n) => s + n, 0);
    if (placed > job.p.replicas || (job.p.gang && placed > 0 && placed < job.p.replicas)) return undefined;
  }
  return assign;
}

export function solveExactTier(tier: readonly Job[], free: Float64Array, ctx: TierContext): { assign: Map<Job, Assignment> } | undefined {
  const pairs = exactPairs(tier, free, ctx);
  if (pairs === undefined) return undefined;
  const { clock, deadline, counters } = ctx;
  const t0 = clock();
  // Small as the model is, branch and bound gets a cap of its own, inside the budget.
  const solution = solveLinear(buildExactModel(tier, pairs, free, ctx.fleet), { timeoutMs: Math.max(1, Math.min(500, deadline - t0)) });
  counters.lpSolves++;
  counters.lpMs += clock() - t0;
  counters.libraries[solution.library]++;
  if (!solution.feasible) return undefined;
  const assign = readExact(tier, pairs, solution.values, free, ctx.fleet);
  return assign === undefined ? undefined : { assign };
}
