// The global view: an LP relaxation over placement classes (same demand, same eligibility)
// and cluster groups (same eligibility for every class), with the capacity of a group summed.
// Its answer says how much of each class should go to each contended group; the exact pass
// follows those quotas so that, say, CPU-only work does not strand accelerators.

import type { LinearModel } from './lp.js';

export interface SteeringClass {
  /** replicas of this class still to place */
  readonly replicas: number;
  readonly demand: Float64Array;
  /** per cluster row: may this class run there at all */
  readonly eligible: Uint8Array;
  /** per cluster row: preference 0..100 */
  readonly pref: Float64Array;
  /** what one placed replica of the class is worth in the objective */
  readonly placeValue: number;
  /** what a point of mean preference (0..100) of the group is worth per replica */
  readonly prefValue: number;
  /** priority weight (priority + 1), for the bound */
  readonly weight: number;
}

export interface Grouping {
  /** group id per cluster row; -1 where no class is eligible */
  readonly groupOf: Int32Array;
  readonly groups: readonly (readonly number[])[];
  /** classes eligible in each group */
  readonly classesOf: readonly (readonly number[])[];
}

/** Clusters are grouped by the set of classes that may use them. */
export function groupClusters(classes: readonly SteeringClass[], nClusters: number): Grouping {
  const signature = new Map<string, number>();
  const groupOf = new Int32Array(nClusters).fill(-1);
  const groups: number[][] = [];
  const classesOf: number[][] = [];
  for (let row = 0; row < nClusters; row++) {
    const members: number[] = [];
    classes.forEach((c, k) => {
      if (c.eligible[row] === 1) members.push(k);
    });
    if (members.length === 0) continue;
    const sig = members.join(',');
    let g = signature.get(sig);
    if (g === undefined) {
      g = groups.length;
      signature.set(sig, g);
      groups.push([]);
      classesOf.push(members);
    }
    groups[g]?.push(row);
    groupOf[row] = g;
  }
  return { groupOf, groups, classesOf };
}

export function steeringVariables(grouping: Grouping): number {
  return grouping.classesOf.reduce((s, ks) => s + ks.length, 0);
}

/**
 * The relaxation: x[k,g] replicas of class k in group g, each worth the class's placeValue
 * plus its prefValue times the group's mean preference.
 */
export function buildSteeringModel(
  classes: readonly SteeringClass[],
  grouping: Grouping,
  free: Float64Array,
  dims: number,
): LinearModel {
  const objective = new Map<string, number>();
  const columns = new Map<string, Map<string, number>>();
  const rows = new Map<string, { max: number }>();
  // Each resource row is expressed in units of its largest per-replica demand: bytes and
  // milli-cores next to device counts would otherwise strain the simplex's tolerances.
  const unit = new Float64Array(dims);
  for (const c of classes) for (let d = 0; d < dims; d++) unit[d] = Math.max(unit[d] as number, c.demand[d] as number);
  const usedDims: number[] = [];
  for (let d = 0; d < dims; d++) if ((unit[d] as number) > 0) usedDims.push(d);
  grouping.groups.forEach((members, g) => {
    for (const d of usedDims) {
      let cap = 0;
      for (const row of members) cap += free[row * dims + d] as number;
      rows.set(`g${g}d${d}`, { max: cap / (unit[d] as number) });
    }
    for (const k of grouping.classesOf[g] as number[]) {
      const c = classes[k] as SteeringClass;
      const column = new Map<string, number>([[`k${k}`, 1]]);
      for (const d of usedDims) {
        const need = c.demand[d] as number;
        if (need > 0) column.set(`g${g}d${d}`, need / (unit[d] as number));
      }
      const name = `x${k}_${g}`;
      columns.set(name, column);
      let pref = 0;
      if (c.prefValue > 0) {
        for (const row of members) pref += c.pref[row] as number;
        pref /= members.length;
      }
      objective.set(name, c.placeValue + c.prefValue * pref);
    }
  });
  classes.forEach((c, k) => rows.set(`k${k}`, { max: c.replicas }));
  return { objective, columns, rows };
}

export interface Quotas {
  /** replicas class k may place in group g while the group is contended */
  readonly quota: ReadonlyMap<string, number>;
  /** groups whose capacity the relaxation uses up in some resource */
  readonly contended: ReadonlySet<number>;
  /** the relaxation's placed replicas, weighted */
  readonly bound: number;
}

export function readQuotas(
  classes: readonly SteeringClass[],
  grouping: Grouping,
  values: ReadonlyMap<string, number>,
  free: Float64Array,
  dims: number,
): Quotas {
  const quota = new Map<string, number>();
  const contended = new Set<number>();
  let bound = 0;
  grouping.groups.forEach((members, g) => {
    const use = new Float64Array(dims);
    for (const k of grouping.classesOf[g] as number[]) {
      const v = values.get(`x${k}_${g}`) ?? 0;
      const c = classes[k] as SteeringClass;
      bound += v * c.weight;
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
  return { quota, contended, bound };
}
