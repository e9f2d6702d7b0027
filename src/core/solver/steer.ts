// The global view: an LP relaxation over placement classes (placements of the same demand and
// eligibility, merged: that leaves the relaxation's optimum unchanged) and cluster groups
// (clusters every class sees alike), with the capacity of a group summed and each class held to
// what the nodes hold of it alone. Its answer says how much of each class should go to each
// contended group; the exact pass follows those quotas so that, say, CPU-only work does not
// strand accelerators. Independent parts of the fleet (no class spans them) are solved apart.

import type { Job } from '../cycle.js';
import type { FleetIndex } from '../prepare.js';
import { replicasThatFit } from '../fit.js';
import { type LinearModel, type LpLibrary, solveLinear } from './lp.js';
import { hasOwnLimits, soloCap } from './aloneCap.js';

export interface SteeringClass {
  /** replicas of this class still to place */
  readonly replicas: number;
  readonly demand: Float64Array;
  /** per cluster row: may this class run there at all */
  readonly eligible: Uint8Array;
  /** per cluster row: preference 0..100 */
  readonly pref: Float64Array;
  /** per cluster row: the most replicas of the class (up to `upTo`) the cluster holds, Infinity where unknown */
  readonly nodeCap: (row: number, upTo: number) => number;
  /** one replica's dominant share of the fleet */
  readonly value: number;
  /** what one placed replica is worth in the relaxation's objective */
  placeValue: number;
  /** what a point of mean preference (0..100) of the group is worth per replica */
  prefValue: number;
  /** whether the relaxation prefers giving each class the same fraction of its replicas */
  fair: boolean;
  /** the placements merged into the class */
  readonly jobs: Job[];
}

/**
 * Placements merged into classes by `key`: the same key must mean the same eligibility. With
 * `mean`, demands may differ and the class takes their mean per replica (good enough to leave
 * room for lower tiers). A placement whose own rules hold it below what capacity allows takes
 * part with what it could place alone.
 */
export function steeringClasses(jobs: readonly Job[], remaining: (job: Job) => number, free: Float64Array, fleet: FleetIndex, key: (job: Job) => string, mean = false): SteeringClass[] {
  const dims = fleet.dims.length;
  const byKey = new Map<string, SteeringClass & { replicas: number; value: number }>();
  const out: SteeringClass[] = [];
  for (const job of jobs) {
    const n = hasOwnLimits(job) ? Math.min(remaining(job), soloCap(job, free, fleet)) : remaining(job);
    const k = key(job);
    let c = byKey.get(k);
    if (c === undefined) {
      c = {
        replicas: 0,
        demand: mean ? new Float64Array(dims) : job.p.demand,
        eligible: job.eligible,
        pref: job.basePref,
        nodeCap: mean ? () => Number.POSITIVE_INFINITY : classNodeCap(job, free, fleet),
        value: mean ? 0 : job.value,
        placeValue: 0,
        prefValue: 0,
        fair: false,
        jobs: [],
      };
      byKey.set(k, c);
      out.push(c);
    }
    if (mean && n > 0) {
      const total = c.replicas + n;
      for (let d = 0; d < dims; d++) c.demand[d] = ((c.demand[d] as number) * c.replicas + (job.p.demand[d] as number) * n) / total;
      c.value = (c.value * c.replicas + job.value * n) / total;
    }
    c.replicas += n;
    c.jobs.push(job);
  }
  return out;
}

/**
 * What one cluster holds of the class's replicas alone: whole replicas of its free sums, and of
 * its nodes as the snapshot has them. Summed over a group, this keeps the relaxation from
 * splitting one replica over clusters that each hold only part of it.
 */
function classNodeCap(job: Job, free: Float64Array, fleet: FleetIndex): (row: number, upTo: number) => number {
  return (row, upTo) => replicasThatFit(fleet, row, job.p, upTo, free);
}

export interface Grouping {
  /** group id per cluster row; -1 where no class is eligible */
  readonly groupOf: Int32Array;
  readonly groups: readonly (readonly number[])[];
  /** classes eligible in each group */
  readonly classesOf: readonly (readonly number[])[];
}

/**
 * Clusters are grouped by the set of classes that may use them; unpooled, each cluster is a
 * group of its own (the exact relaxation, larger).
 */
export function groupClusters(classes: readonly SteeringClass[], nClusters: number, pooled = true): Grouping {
  const signature = new Map<string, number>();
  const groupOf = new Int32Array(nClusters).fill(-1);
  const groups: number[][] = [];
  const classesOf: number[][] = [];
  const members: number[] = [];
  for (let row = 0; row < nClusters; row++) {
    members.length = 0;
    classes.forEach((c, k) => {
      if (c.eligible[row] === 1 && c.replicas > 0) members.push(k);
    });
    if (members.length === 0) continue;
    const sig = pooled ? members.join(',') : String(row);
    let g = signature.get(sig);
    if (g === undefined) {
      g = groups.length;
      signature.set(sig, g);
      groups.push([]);
      classesOf.push([...members]);
    }
    groups[g]?.push(row);
    groupOf[row] = g;
  }
  return { groupOf, groups, classesOf };
}

export function steeringVariables(grouping: Grouping): number {
  return grouping.classesOf.reduce((s, ks) => s + ks.length, 0);
}

// The fairness term: each class's replicas in equal slices, earlier slices worth a little
// more, so that among answers of equal worth the relaxation raises the class furthest behind.
const SLICES = 5;
/** the most the fairness term may add, as a share of a replica's worth */
export const FAIRNESS = 1e-3;

/**
 * The relaxation: x[k,g] replicas of class k in group g, each worth the class's placeValue plus
 * its prefValue times the group's mean preference; held to the group's summed free capacity
 * and to what the group's nodes hold of the class alone.
 */
export function buildSteeringModel(classes: readonly SteeringClass[], grouping: Grouping, free: Float64Array, dims: number, part: Part = wholeOf(classes, grouping)): LinearModel {
  const objective = new Map<string, number>();
  const columns = new Map<string, Map<string, number>>();
  const rows = new Map<string, { min?: number; max?: number }>();
  // Each resource row is expressed in units of its largest per-replica demand: bytes and
  // milli-cores next to device counts would otherwise strain the simplex's tolerances.
  const unit = new Float64Array(dims);
  for (const k of part.classes) for (let d = 0; d < dims; d++) unit[d] = Math.max(unit[d] as number, classes[k]!.demand[d] as number);
  const usedDims: number[] = [];
  for (let d = 0; d < dims; d++) if ((unit[d] as number) > 0) usedDims.push(d);
  for (const g of part.groups) {
    const members = grouping.groups[g] as readonly number[];
    for (const d of usedDims) {
      let cap = 0;
      for (const row of members) cap += free[row * dims + d] as number;
      rows.set(`g${g}d${d}`, { max: cap / (unit[d] as number) });
    }
    for (const k of grouping.classesOf[g] as number[]) {
      const c = classes[k] as SteeringClass;
      const name = `x${k}_${g}`;
      const column = new Map<string, number>([[`k${k}`, 1]]);
      for (const d of usedDims) {
        const need = c.demand[d] as number;
        if (need > 0) column.set(`g${g}d${d}`, need / (unit[d] as number));
      }
      let nodes = 0;
      for (const row of members) if (Number.isFinite(nodes)) nodes += c.nodeCap(row, Math.ceil(c.replicas));
      if (Number.isFinite(nodes)) {
        column.set(`n${k}_${g}`, 1);
        rows.set(`n${k}_${g}`, { max: nodes });
      }
      columns.set(name, column);
      let pref = 0;
      if (c.prefValue > 0) {
        for (const row of members) pref += c.pref[row] as number;
        pref /= members.length;
      }
      objective.set(name, c.placeValue + c.prefValue * pref);
    }
  }
  for (const k of part.classes) {
    const c = classes[k] as SteeringClass;
    rows.set(`k${k}`, { max: c.replicas });
    if (!c.fair || c.replicas === 0) continue;
    // Σ_g x[k,g] − Σ_s slice[k,s] = 0, each slice at most replicas / SLICES.
    const total = `f${k}`;
    for (const g of part.groups) {
      const col = columns.get(`x${k}_${g}`);
      if (col !== undefined) col.set(total, 1);
    }
    rows.set(total, { min: 0, max: 0 });
    for (let s = 0; s < SLICES; s++) {
      const name = `s${k}_${s}`;
      columns.set(
        name,
        new Map([
          [total, -1],
          [`${name}m`, 1],
        ]),
      );
      rows.set(`${name}m`, { max: c.replicas / SLICES });
      objective.set(name, (FAIRNESS * c.placeValue * (SLICES - 1 - s)) / (SLICES - 1));
    }
  }
  return { objective, columns, rows };
}

/** Some classes and the groups only they use: a model of its own. */
export interface Part {
  readonly classes: readonly number[];
  readonly groups: readonly number[];
}

function wholeOf(classes: readonly SteeringClass[], grouping: Grouping): Part {
  return { classes: classes.map((_, k) => k), groups: grouping.groups.map((_, g) => g) };
}

/** The independent parts: classes linked by a group they share, with their groups. */
export function partsOf(classes: readonly SteeringClass[], grouping: Grouping): Part[] {
  const parent = classes.map((_, k) => k);
  const root = (k: number): number => {
    while (parent[k] !== k) k = parent[k] = parent[parent[k] as number] as number;
    return k;
  };
  for (const ks of grouping.classesOf) for (const k of ks.slice(1)) parent[root(k)] = root(ks[0] as number);
  const parts = new Map<number, { classes: number[]; groups: number[] }>();
  const partOf = (k: number) => parts.get(root(k)) ?? parts.set(root(k), { classes: [], groups: [] }).get(root(k))!;
  classes.forEach((c, k) => {
    if (c.replicas > 0) partOf(k).classes.push(k);
  });
  grouping.classesOf.forEach((ks, g) => {
    partOf(ks[0] as number).groups.push(g);
  });
  return [...parts.values()].filter((p) => p.groups.length > 0);
}

export interface Quotas {
  /** replicas class k may place in group g while the group is contended, by `${k}:${g}` */
  readonly quota: ReadonlyMap<string, number>;
  /** groups whose capacity the relaxation uses up in some resource */
  readonly contended: ReadonlySet<number>;
  /** the relaxation's worth: the sum over classes of their placed replicas times their value */
  readonly value: number;
}

export function readQuotas(classes: readonly SteeringClass[], grouping: Grouping, values: ReadonlyMap<string, number>, free: Float64Array, dims: number): Quotas {
  const quota = new Map<string, number>();
  const contended = new Set<number>();
  let value = 0;
  grouping.groups.forEach((members, g) => {
    const use = new Float64Array(dims);
    for (const k of grouping.classesOf[g] as number[]) {
      const v = values.get(`x${k}_${g}`) ?? 0;
      const c = classes[k] as SteeringClass;
      value += v * c.value;
      // Rounding up: the exact pass may not be able to use a fraction, and must not be
      // starved of the replica it rounds to.
      quota.set(`${k}:${g}`, Math.ceil(v - 1e-6));
      for (let d = 0; d < dims; d++) use[d] = (use[d] as number) + v * (c.demand[d] as number);
    }
    for (let d = 0; d < dims; d++) {
      let cap = 0;
      for (const row of members) cap += free[row * dims + d] as number;
      if (cap > 0 && (use[d] as number) >= cap * 0.98) contended.add(g);
    }
  });
  return { quota, contended, value };
}

export interface Steering {
  readonly grouping: Grouping;
  readonly quotas: Quotas;
  readonly library: LpLibrary;
}

/** Builds, solves and reads the relaxation; undefined when it is too large or has no answer. */
export function solveSteering(
  classes: readonly SteeringClass[],
  free: Float64Array,
  fleet: FleetIndex,
  limits: {
    readonly maxVariables: number;
    readonly timeoutMs?: number;
    readonly pooled?: boolean;
    /** whole replicas: the integer program (HiGHS), answered only when solved to optimality in time */
    readonly integral?: boolean;
  },
): Steering | undefined {
  const grouping = groupClusters(classes, fleet.clusters.length, limits.pooled ?? true);
  if (steeringVariables(grouping) > limits.maxVariables) return undefined;
  const dims = fleet.dims.length;
  const values = new Map<string, number>();
  let library: LpLibrary = 'javascript-lp-solver';
  for (const part of partsOf(classes, grouping)) {
    const relaxed = buildSteeringModel(classes, grouping, free, dims, part);
    const model = limits.integral === true ? { ...relaxed, integers: new Set([...relaxed.columns.keys()].filter((v) => v.startsWith('x'))) } : relaxed;
    const solution = solveLinear(model, {
      ...(limits.timeoutMs !== undefined ? { timeoutMs: limits.timeoutMs } : {}),
      ...(limits.integral === true ? { library: 'highs' as const } : {}),
    });
    if (!solution.feasible) return undefined;
    if (solution.library === 'highs') library = 'highs';
    for (const [name, v] of solution.values) values.set(name, v);
  }
  return { grouping, quotas: readQuotas(classes, grouping, values, free, dims), library };
}
