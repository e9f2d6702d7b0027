// An upper bound on what any schedule can be worth, tier by tier: the LP relaxation of the
// tier's placements merged by demand and eligibility, without integrality, each group of
// look-alike clusters pooled and each placement held to what the nodes hold of it alone. Gang
// and spread rules enter only as a cap on each placement: what it could place with the whole
// fleet to itself. The tiers below the top see the capacity a given answer's higher tiers left,
// so each tier's bound is what that tier could be worth under that answer's higher tiers.
// Benchmarks measure answers against it.

import type { Decision, FleetSnapshot, Placement } from '../model.js';
import { type ScheduleOptions, prepareCycle } from '../cycle.js';
import { tiers } from '../pipeline.js';
import { take } from './placeOne.js';
import { solveSteering, steeringClasses, steeringVariables } from './steer.js';
import type { LpLibrary } from './lp.js';

export interface TierBound {
  readonly priority: number;
  /** the relaxation's worth: placed replicas times their dominant shares */
  readonly value: number;
  readonly variables: number;
  readonly library: LpLibrary;
  /** whether replicas were whole: the integer program, solved to optimality */
  readonly integral: boolean;
  /** whether look-alike clusters were pooled: a looser bound, for models too large to solve per cluster */
  readonly pooled: boolean;
}

/** Per-cluster relaxations up to this size (HiGHS solves them in well under a minute). */
const EXACT_BOUND_VARIABLES = 400_000;

export function relaxationBound(
  snapshot: FleetSnapshot,
  placements: readonly Placement[],
  given: readonly Decision[] = [],
  /** boundIntegerMs: time for the integer program (0: none, the relaxation only) */
  opts: ScheduleOptions & { readonly boundMaxVariables?: number; readonly boundIntegerMs?: number } = {},
): TierBound[] {
  const cycle = prepareCycle(snapshot, placements, { ...opts, mode: 'Fresh' });
  const { fleet } = cycle.ctx;
  const dims = fleet.dims.length;
  const rowOf = new Map(fleet.clusters.map((c, i) => [c.name, i]));
  const answer = new Map(given.map((d) => [d.placement, d]));
  const free = Float64Array.from(fleet.free);
  const out: TierBound[] = [];
  for (const tier of tiers(cycle.jobs)) {
    const classes = steeringClasses(
      tier,
      (j) => j.p.replicas,
      free,
      fleet,
      (j) => j.p.eligibilityKey,
    );
    let least = Number.POSITIVE_INFINITY;
    for (const c of classes) if (c.value > 0) least = Math.min(least, c.value);
    // scaled for the simplex's tolerances; the worth is read from the classes' own values
    for (const c of classes) c.placeValue = Number.isFinite(least) ? c.value / least : 1;
    // Whole replicas where the integer program is solved within a minute; else the relaxation,
    // cluster by cluster where it fits, clusters pooled by look-alikes where it does not.
    const perCluster = { maxVariables: opts.boundMaxVariables ?? EXACT_BOUND_VARIABLES, pooled: false };
    const integerMs = opts.boundIntegerMs ?? 60_000;
    const integral = integerMs > 0 ? solveSteering(classes, free, fleet, { ...perCluster, integral: true, timeoutMs: integerMs }) : undefined;
    const exact = integral ?? solveSteering(classes, free, fleet, perCluster);
    const steering = exact ?? solveSteering(classes, free, fleet, { maxVariables: Number.POSITIVE_INFINITY });
    out.push({
      priority: tier[0]!.p.priority,
      integral: integral !== undefined,
      pooled: exact === undefined,
      value: steering?.quotas.value ?? 0,
      variables: steering === undefined ? 0 : steeringVariables(steering.grouping),
      library: steering?.library ?? 'javascript-lp-solver',
    });
    for (const job of tier) {
      for (const c of answer.get(job.p.key)?.clusters ?? []) {
        const row = rowOf.get(c.name);
        if (row !== undefined) take(free, row * dims, job.p.demand, c.replicas);
      }
    }
  }
  return out;
}
