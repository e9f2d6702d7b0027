// What an answer is worth, and which of two answers is better.
//
// Priority tiers are served in order, highest first. Within a tier a placed replica is worth its
// dominant share: the largest fraction it takes of the healthy fleet's free CPU, memory, any
// extended resource, or devices of any one class. An 8-GPU replica so weighs as much as eight
// 1-GPU ones, and a GPU replica what its GPU is worth, where counting replicas would leave the
// accelerators idle for the sake of more small CPU replicas. Among answers of equal worth the
// fairer wins: max-min over the fraction of its asked replicas each placement gets. Then the
// preference scores; Steady (no moves without cause) is kept by construction, not weighed.
// Across tiers, worth at every priority comes before fairness, and fairness before preferences.

import type { Job } from './cycle.js';
import { PODS, type FleetIndex } from './prepare.js';
import { takesReplicas } from './model.js';

type Assignment = ReadonlyMap<number, number>;

const weightsOf = new WeakMap<FleetIndex, Float64Array>();

/**
 * Per dimension, what one unit is worth: one over the free total of the clusters that take
 * replicas (healthy and readable). Pods are
 * a count limit, not a resource anyone is short of for its own sake: they weigh nothing.
 */
export function shareWeights(fleet: FleetIndex): Float64Array {
  let w = weightsOf.get(fleet);
  if (w === undefined) {
    const dims = fleet.dims.length;
    const total = new Float64Array(dims);
    fleet.clusters.forEach((c, row) => {
      if (!takesReplicas(c)) return;
      for (let d = 0; d < dims; d++) total[d] = (total[d] as number) + (fleet.free[row * dims + d] as number);
    });
    w = new Float64Array(dims);
    for (let d = 0; d < dims; d++) if (d !== PODS && (total[d] as number) > 0) w[d] = 1 / (total[d] as number);
    weightsOf.set(fleet, w);
  }
  return w;
}

/** One replica's dominant share of the healthy fleet's free capacity. */
export function replicaValue(demand: Float64Array, fleet: FleetIndex): number {
  const w = shareWeights(fleet);
  let v = 0;
  for (let d = 0; d < demand.length; d++) v = Math.max(v, (demand[d] as number) * (w[d] as number));
  return v;
}

export interface Worth {
  /** the sum of the placed replicas' dominant shares */
  readonly value: number;
  /** each placement's placed fraction of its asked replicas, lowest first */
  readonly fractions: Float64Array;
  /** the summed preference of the clusters the replicas landed on */
  readonly score: number;
}

export function worthOf(jobs: readonly Job[], assign: ReadonlyMap<Job, Assignment>): Worth {
  let value = 0;
  let score = 0;
  const fractions = new Float64Array(jobs.length);
  jobs.forEach((job, i) => {
    let placed = 0;
    // forEach, not for-of: no entry array per cluster, in the solver's hottest loop
    assign.get(job)?.forEach((n, row) => {
      placed += n;
      score += n * job.pref(row);
    });
    value += placed * job.value;
    fractions[i] = job.p.replicas > 0 ? placed / job.p.replicas : 1;
  });
  return { value, fractions: fractions.sort(), score };
}

// Sums of shares differ in their last bits with the order they were added in: closer than
// this, two values are the same.
const SAME = 1e-9;

/** Positive when `a` is worth more than `b`, negative when less, else 0. */
export function compareValue(a: Worth, b: Worth): number {
  const scale = Math.max(Math.abs(a.value), Math.abs(b.value), 1e-12);
  return Math.abs(a.value - b.value) > SAME * scale ? a.value - b.value : 0;
}

/** Positive when `a` is the fairer (max-min on the placed fractions), negative when `b` is, else 0. */
export function compareFairness(a: Worth, b: Worth): number {
  for (let i = 0; i < a.fractions.length; i++) {
    const d = (a.fractions[i] as number) - (b.fractions[i] as number);
    if (Math.abs(d) > SAME) return d;
  }
  return 0;
}

export function compareScore(a: Worth, b: Worth): number {
  const d = a.score - b.score;
  return Math.abs(d) > SAME * Math.max(1, Math.abs(a.score)) ? d : 0;
}

/**
 * Positive when `a` is the better answer for the same jobs, negative when `b` is, else 0.
 * Without `score`, preferences are left out: as when tiers below are still to be placed, whose
 * worth comes before any tier's preferences.
 */
export function compareWorth(a: Worth, b: Worth, score = true): number {
  return compareValue(a, b) || compareFairness(a, b) || (score ? compareScore(a, b) : 0);
}

/**
 * Whole schedules, tier by tier from the top: worth first at every priority, then fairness at
 * every priority, then preferences (unless `scored` is false). A higher tier's preference never
 * costs a lower tier worth.
 */
export function compareTiers(a: readonly Worth[], b: readonly Worth[], scored = true): number {
  for (const cmp of scored ? [compareValue, compareFairness, compareScore] : [compareValue, compareFairness]) {
    for (let t = 0; t < a.length; t++) {
      const c = cmp(a[t] as Worth, b[t] as Worth);
      if (c !== 0) return c;
    }
  }
  return 0;
}
