// An upper bound on the priority-weighted replicas any schedule can place: the LP relaxation
// over every placement at once, without integrality or priority order, with each group of
// look-alike clusters pooled. Gang and spread rules enter only as a cap on each placement:
// what it could place with the whole fleet to itself. Benchmarks measure answers against it.

import type { FleetSnapshot, Placement } from '../model.js';
import { type ScheduleOptions, prepareCycle } from '../cycle.js';
import { solveLinear } from './lp.js';
import { hasOwnLimits, soloCap } from './solo.js';
import { type SteeringClass, buildSteeringModel, groupClusters, readQuotas, steeringVariables } from './steer.js';

export interface Bound {
  readonly weightedPlaced: number;
  readonly variables: number;
}

export function relaxationBound(snapshot: FleetSnapshot, placements: readonly Placement[], opts: ScheduleOptions = {}): Bound | undefined {
  const cycle = prepareCycle(snapshot, placements, { ...opts, mode: 'Fresh' });
  const { fleet } = cycle.ctx;
  const classes: SteeringClass[] = [];
  const byKey = new Map<string, { replicas: number; demand: Float64Array; eligible: Uint8Array; pref: Float64Array; placeValue: number; prefValue: number; weight: number }>();
  for (const job of cycle.jobs) {
    const key = `${job.p.eligibilityKey}|${job.weight}`;
    let c = byKey.get(key);
    if (c === undefined) {
      c = { replicas: 0, demand: job.p.demand, eligible: job.eligible, pref: job.basePref, placeValue: job.weight, prefValue: 0, weight: job.weight };
      byKey.set(key, c);
      classes.push(c);
    }
    c.replicas += hasOwnLimits(job) ? soloCap(job, fleet.free, fleet) : job.p.replicas;
  }
  const grouping = groupClusters(classes, fleet.clusters.length);
  const model = buildSteeringModel(classes, grouping, fleet.free, fleet.dims.length);
  const solution = solveLinear(model);
  if (!solution.feasible) return undefined;
  const q = readQuotas(classes, grouping, solution.values, fleet.free, fleet.dims.length);
  return { weightedPlaced: q.bound, variables: steeringVariables(grouping) };
}
