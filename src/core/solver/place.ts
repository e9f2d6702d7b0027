// Placing one placement on top of what it keeps: candidates, allocation, and the capacity
// bookkeeping that goes with it.

import type { FleetIndex } from '../prepare.js';
import { domainOf, fitCount } from '../prepare.js';
import { compareNames } from '../model.js';
import type { Job } from '../cycle.js';
import { type Candidate, allocate } from './allocate.js';

/** cluster row → replicas */
export type Assignment = Map<number, number>;

/**
 * The previous replicas that may stay: on clusters still eligible, as many as still fit, the
 * best-scored clusters first so that a shrink leaves the worst ones. Reserves their capacity.
 */
export function keepPrevious(job: Job, free: Float64Array, dims: number, fleet: FleetIndex): Assignment {
  const kept: Assignment = new Map();
  if (job.previous === undefined) return kept;
  const rows = [...job.previous.keys()].filter((r) => job.eligible[r] === 1);
  rows.sort((a, b) => job.pref(b) - job.pref(a) || compareNames(fleet.clusters[a]!.name, fleet.clusters[b]!.name));
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

export function take(free: Float64Array, base: number, demand: Float64Array, n: number): void {
  for (let d = 0; d < demand.length; d++) free[base + d] = (free[base + d] as number) - n * (demand[d] as number);
}

export interface PlaceOpts {
  /** per cluster row, how many more replicas this placement may put there */
  readonly limit?: (row: number, cap: number) => number;
}

export function candidatesFor(job: Job, kept: Assignment | undefined, free: Float64Array, fleet: FleetIndex, opts: PlaceOpts): Candidate[] {
  const dims = fleet.dims.length;
  const out: Candidate[] = [];
  const key = job.p.spread.topologyKey;
  for (const row of job.order) {
    const have = kept?.get(row) ?? 0;
    let cap = fitCount(free, row * dims, job.p.demand);
    if (opts.limit !== undefined && cap > 0) cap = opts.limit(row, cap);
    if (cap <= 0 && have === 0) continue;
    const c = fleet.clusters[row]!;
    out.push({ row, name: c.name, cap: Math.max(0, cap), pref: job.pref(row), domain: domainOf(c, key) ?? '', kept: have });
  }
  return out;
}

/** Places one job on top of `kept`; returns the new assignment or why it failed. */
export function placeJob(
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

export function release(free: Float64Array, dims: number, job: Job, a: Assignment): void {
  for (const [row, n] of a) take(free, row * dims, job.p.demand, -n);
}

export function placedOf(a: Assignment | undefined): number {
  let s = 0;
  for (const n of a?.values() ?? []) s += n;
  return s;
}

