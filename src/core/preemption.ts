// Preemption by priority, as a PriorityClass preempts inside a cluster: a placement short of
// replicas (spec.preemptionPolicy PreemptLowerPriority, the default) may take room from
// placements of strictly lower priority, in the clusters it may use. Replicas are taken where
// they free room for the preemptor (the same cluster), as few as will do: from the lowest
// priority first, then the most recently created; a gang or minClusters placement loses all of
// its replicas in a cluster or none there; no placement loses more at once than its
// spec.disruption.maxUnavailable allows (the rest waits for the next step). A gang preemptor
// takes room only where all its replicas then fit. Pure: the fleet state asks this what to
// take, then solves again with the victims' replicas gone (fleetState.ts).

import type { Job } from './cycle.js';
import { fitCount } from './fit.js';
import { type Placement, type Preemption, compareNames } from './model.js';
import { type ClusterNodes, fitOnNodes } from './nodes.js';
import type { FleetIndex } from './prepare.js';
import { type Assignment, release, take } from './solver/placeOne.js';
import { repackRows } from './solver/packOnNodes.js';

/** A placement as it holds room now. */
export interface Holding {
  readonly job: Job;
  readonly assign: Assignment;
}

/** What preemption takes: by victim key, cluster row → replicas; and each taking as it is told. */
export interface Taken {
  readonly byVictim: ReadonlyMap<string, ReadonlyMap<number, number>>;
  readonly records: readonly Preemption[];
}

/** Whether a placement may preempt: unless its spec says Never. */
export function preempts(p: Placement): boolean {
  return p.spec.preemptionPolicy !== 'Never';
}

/**
 * How many replicas of a placement may be taken at once: its spec.disruption.maxUnavailable, a
 * count or a percent of its replicas rounded up (as a PodDisruptionBudget's); unbounded without one.
 */
export function disruptionBudget(p: Placement): number {
  const max = p.spec.disruption?.maxUnavailable;
  if (max === undefined) return Number.POSITIVE_INFINITY;
  if (typeof max === 'number') return max;
  const pct = Number(max.slice(0, -1));
  return Math.ceil((pct * p.spec.replicas) / 100);
}

/** All of a placement's replicas in a cluster or none: a gang's, or one that must keep its clusters. */
function wholeClusters(job: Job): boolean {
  return job.p.gang || job.p.spread.minClusters > 1;
}

function createdAt(job: Job): number {
  const t = job.p.placement.metadata.creationTimestamp;
  const ms = t === undefined ? Number.NaN : Date.parse(t);
  return Number.isFinite(ms) ? ms : 0;
}

/** Victims in the order they give room: lowest priority first, then the most recently created, then by key. */
function victimOrder(a: Job, b: Job): number {
  return a.p.priority - b.p.priority || createdAt(b) - createdAt(a) || compareNames(a.p.key, b.p.key);
}

/**
 * The replicas to take for `short` placements (each short by the count given, highest
 * priority first) from the placements holding room. `free` and `nodes` are the fleet as every
 * holding leaves it. Nothing is taken for a placement that cannot gain by it.
 */
export function choosePreemptions(
  fleet: FleetIndex,
  free: Float64Array,
  nodes: readonly ClusterNodes[],
  holdings: ReadonlyMap<string, Holding>,
  short: readonly { readonly job: Job; readonly missing: number }[],
): Taken {
  const dims = fleet.dims.length;
  let lowest = Number.POSITIVE_INFINITY;
  for (const h of holdings.values()) if (h.assign.size > 0) lowest = Math.min(lowest, h.job.p.priority);
  // nothing of lower priority holds room anywhere for any of them: nothing to take
  const may = short.filter((s) => s.missing > 0 && s.job.p.priority > lowest && preempts(s.job.p.placement));
  if (may.length === 0) return { byVictim: new Map(), records: [] };
  const room = { free: Float64Array.from(free), nodes: [...nodes] };
  /** what each holding has left as preemption goes */
  const left = new Map<string, Assignment>([...holdings].map(([key, h]) => [key, new Map(h.assign)]));
  const budget = new Map<string, number>([...holdings].map(([key, h]) => [key, disruptionBudget(h.job.p.placement)]));
  const byVictim = new Map<string, Map<number, number>>();
  const records: Preemption[] = [];
  /** cluster row → the placements holding replicas there */
  const atRow = new Map<number, Set<string>>();
  for (const [key, h] of holdings) for (const [row, n] of h.assign) if (n > 0) (atRow.get(row) ?? atRow.set(row, new Set()).get(row)!).add(key);
  /** room given to preemptors so far, by cluster row: packed again with what stays there */
  const given = new Map<number, Holding[]>();
  const ordered = may.sort((a, b) => b.job.p.priority - a.job.p.priority || compareNames(a.job.p.key, b.job.p.key));
  for (const { job, missing } of ordered) {
    // What this preemptor changes, to put back if it takes nothing: the room as it was, and the
    // holdings and budgets it touches as they were (not the whole fleet's, which is large).
    const before = {
      free: Float64Array.from(room.free),
      nodes: [...room.nodes],
      left: new Map<string, Assignment>(),
      budget: new Map<string, number>(),
      given: new Map([...given].map(([r, l]) => [r, [...l]])),
    };
    const mine: { victim: string; row: number; n: number }[] = [];
    let need = missing;
    while (need > 0) {
      const best = cheapestRow(fleet, room, left, budget, holdings, atRow, given, job);
      if (best === undefined) break;
      for (const { victim, n } of best.takes) {
        const h = holdings.get(victim) as Holding;
        const a = left.get(victim) as Assignment;
        if (!before.left.has(victim)) {
          before.left.set(victim, new Map(a));
          before.budget.set(victim, budget.get(victim) ?? 0);
        }
        const now = (a.get(best.row) ?? 0) - n;
        if (now > 0) a.set(best.row, now);
        else a.delete(best.row);
        release(room.free, dims, h.job, new Map([[best.row, n]]));
        budget.set(victim, (budget.get(victim) ?? 0) - n);
        mine.push({ victim, row: best.row, n });
      }
      // the preemptor's replica goes there, so that its next one looks for room of its own
      (given.get(best.row) ?? given.set(best.row, []).get(best.row)!).push({ job, assign: new Map([[best.row, 1]]) });
      take(room.free, best.row * dims, job.p.demand, 1);
      room.nodes = repackRows(fleet, room.nodes, [best.row], staying(best.row, atRow, left, holdings, given));
      need--;
    }
    // A gang preemptor takes nothing unless all of its replicas then fit.
    if (mine.length === 0 || (job.p.gang && need > 0)) {
      room.free = before.free;
      room.nodes = before.nodes;
      for (const [victim, a] of before.left) left.set(victim, a);
      for (const [victim, b] of before.budget) budget.set(victim, b);
      restore(given, before.given);
      continue;
    }
    for (const { victim, row, n } of mine) {
      const t = byVictim.get(victim) ?? byVictim.set(victim, new Map()).get(victim)!;
      t.set(row, (t.get(row) ?? 0) + n);
    }
    const merged = new Map<string, number>();
    for (const { victim, row, n } of mine) merged.set(`${victim}\u0000${row}`, (merged.get(`${victim}\u0000${row}`) ?? 0) + n);
    for (const [k, n] of merged) {
      const [victim, row] = k.split('\u0000') as [string, string];
      records.push({ preemptor: job.p.key, victim, cluster: fleet.clusters[Number(row)]!.name, replicas: n });
    }
  }
  records.sort((a, b) => compareNames(a.preemptor, b.preemptor) || compareNames(a.victim, b.victim) || compareNames(a.cluster, b.cluster));
  return { byVictim, records };
}

/**
 * The cluster where one more replica of `job` fits after taking the fewest replicas of lower
 * priority (ties: the cluster the placement prefers). Undefined where none would.
 */
function cheapestRow(
  fleet: FleetIndex,
  room: { free: Float64Array; nodes: ClusterNodes[] },
  left: ReadonlyMap<string, Assignment>,
  budget: ReadonlyMap<string, number>,
  holdings: ReadonlyMap<string, Holding>,
  atRow: ReadonlyMap<number, ReadonlySet<string>>,
  given: ReadonlyMap<number, readonly Holding[]>,
  job: Job,
): { row: number; takes: { victim: string; n: number }[] } | undefined {
  const dims = fleet.dims.length;
  let best: { row: number; takes: { victim: string; n: number }[]; cost: number } | undefined;
  // at its most clusters already, it can use room only where it runs
  const mine = new Set<number>([...(holdings.get(job.p.key)?.assign.keys() ?? [])]);
  for (const [row, list] of given) if (list.some((h) => h.job === job)) mine.add(row);
  const onlyMine = mine.size >= job.p.spread.maxClusters;
  for (const row of job.order) {
    // one replica taken is the fewest there can be: the most preferred cluster where that does stands
    if (best?.cost === 1) break;
    if (job.eligible[row] !== 1 || job.avoid?.has(row) === true || fleet.clusters[row]?.hold === true || (onlyMine && !mine.has(row))) continue;
    const there = atRow.get(row);
    if (there === undefined) continue;
    const victims: Job[] = [];
    for (const key of there) {
      const h = holdings.get(key) as Holding;
      if (h.job.p.priority < job.p.priority && (left.get(key)?.get(row) ?? 0) > 0 && (budget.get(key) ?? 0) > 0) victims.push(h.job);
    }
    if (victims.length === 0) continue;
    victims.sort(victimOrder);
    const free = Float64Array.from(room.free.subarray(row * dims, (row + 1) * dims));
    const here = new Map<string, Assignment>();
    for (const key of there) here.set(key, new Map([[row, left.get(key)?.get(row) ?? 0]]));
    const takes: { victim: string; n: number }[] = [];
    let cost = 0;
    // the summed room first (cheap); the nodes only once the sums would hold a replica
    const fits = () => fitCount(free, 0, job.p.demand) >= 1 && (fleet.wholeNode[row] === 1 || fitOnNodes(repacked(fleet, room.nodes, row, here, holdings, given), job.p.node, 1) >= 1);
    let ok = fits();
    for (const v of victims) {
      if (ok || (best !== undefined && cost >= best.cost)) break;
      const a = here.get(v.p.key) as Assignment;
      const has = a.get(row) ?? 0;
      const cap = Math.min(has, budget.get(v.p.key) ?? 0);
      // all of them or none here
      if (wholeClusters(v) && cap < has) continue;
      const step = wholeClusters(v) ? has : 1;
      let taken = 0;
      while (taken < cap && !ok) {
        const n = Math.min(step, cap - taken);
        taken += n;
        cost += n;
        a.set(row, has - taken);
        for (let d = 0; d < dims; d++) free[d] = (free[d] as number) + n * (v.p.demand[d] as number);
        ok = fits();
      }
      if (taken > 0) takes.push({ victim: v.p.key, n: taken });
    }
    if (ok && takes.length > 0 && (best === undefined || cost < best.cost)) best = { row, takes, cost };
  }
  return best === undefined ? undefined : { row: best.row, takes: best.takes };
}

/** A cluster's nodes packed again with what stays there (`here`, by holding) and what preemptors were given. */
function repacked(
  fleet: FleetIndex,
  nodes: readonly ClusterNodes[],
  row: number,
  here: ReadonlyMap<string, Assignment>,
  holdings: ReadonlyMap<string, Holding>,
  given: ReadonlyMap<number, readonly Holding[]>,
): ClusterNodes {
  const staying: Holding[] = [...(given.get(row) ?? [])];
  for (const [key, assign] of here) staying.push({ job: (holdings.get(key) as Holding).job, assign });
  return repackRows(fleet, nodes, [row], staying)[row] as ClusterNodes;
}

/** What holds room on a cluster row as preemption goes: what the holdings have left there, and what preemptors were given. */
function staying(
  row: number,
  atRow: ReadonlyMap<number, ReadonlySet<string>>,
  left: ReadonlyMap<string, Assignment>,
  holdings: ReadonlyMap<string, Holding>,
  given: ReadonlyMap<number, readonly Holding[]>,
): Holding[] {
  const out: Holding[] = [...(given.get(row) ?? [])];
  for (const key of atRow.get(row) ?? []) out.push({ job: (holdings.get(key) as Holding).job, assign: new Map([[row, left.get(key)?.get(row) ?? 0]]) });
  return out;
}

function restore<K, V>(into: Map<K, V>, from: ReadonlyMap<K, V>): void {
  into.clear();
  for (const [k, v] of from) into.set(k, v);
}
