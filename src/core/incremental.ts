// One placement at a time on top of a scheduled fleet, the way an event-driven controller
// works between full cycles: the new or changed placement takes only capacity that is free,
// so nothing else moves. A full cycle (schedule) re-checks everything, with priorities.

import { type Cycle, type Job, type ScheduleOptions, prepareCycle } from './cycle.js';
import type { FleetIndex } from './prepare.js';
import type { Decision, FleetSnapshot, Placement } from './model.js';
import { placementKey } from './model.js';
import { type ScheduledCycle, decide, invalidDecision, scheduleCycle } from './schedule.js';
import { type Assignment, keepPrevious, placeJob, release, take } from './solver/place.js';
import { repackRows } from './solver/pack.js';
import { type ClusterNodes, fitOnNodes, packInto } from './nodes.js';
import { occupiedSnapshot } from './capacity.js';
import { type PlacementExplanation, explainPlacement } from './explain.js';

export interface FleetState {
  readonly snapshot: FleetSnapshot;
  readonly fleet: FleetIndex;
  readonly opts: ScheduleOptions;
  /** placement key → cluster row → replicas, with the demand that reserved them */
  readonly placed: ReadonlyMap<string, { readonly job: Job; readonly assign: Assignment }>;
  readonly free: Float64Array;
  /** each cluster's nodes with every assignment packed onto them */
  readonly nodes: readonly ClusterNodes[];
  readonly decisions: ReadonlyMap<string, Decision>;
}

export function stateOf(snapshot: FleetSnapshot, s: ScheduledCycle, opts: ScheduleOptions = {}): FleetState {
  const placed = new Map<string, { job: Job; assign: Assignment }>();
  for (const [job, assign] of s.assign) placed.set(job.p.key, { job, assign });
  return { snapshot, fleet: s.cycle.ctx.fleet, opts, placed, free: s.free, nodes: s.nodes, decisions: new Map(s.result.decisions.map((d) => [d.placement, d])) };
}

/** A full cycle, kept as a state to go on from. */
export function startFleet(snapshot: FleetSnapshot, placements: readonly Placement[], opts: ScheduleOptions = {}): FleetState {
  return stateOf(snapshot, scheduleCycle(snapshot, placements, opts), opts);
}

/**
 * Places a new placement, or re-places a changed one keeping what it had where it can.
 * Returns the new state and the placement's decision; no other placement's replicas move.
 */
export function placeOne(state: FleetState, placement: Placement): { state: FleetState; decision: Decision } {
  const key = placementKey(placement);
  const before = state.decisions.get(key);
  const cycle: Cycle = prepareCycle(state.snapshot, [placement], {
    ...state.opts,
    ...(before !== undefined ? { previous: [before] } : { previous: [] }),
  });
  const fleet = cycle.ctx.fleet;
  const dims = fleet.dims.length;
  const free = Float64Array.from(state.free);
  const placed = new Map(state.placed);
  const old = placed.get(key);
  let nodes = [...state.nodes];
  if (old !== undefined) {
    release(free, dims, old.job, old.assign);
    placed.delete(key);
    nodes = repackRows(fleet, nodes, old.assign.keys(), placed.values());
  }
  const decisions = new Map(state.decisions);
  const job = cycle.jobs[0];
  if (job === undefined) {
    const decision = invalidDecision([placement], key, cycle.invalid.get(key) ?? 'not schedulable');
    decisions.set(key, decision);
    return { state: { ...state, placed, free, nodes, decisions }, decision };
  }
  // What it keeps must still pack where it is; what is new goes where nodes hold it now.
  const kept = keepPrevious(job, free, dims, fleet);
  for (const [row, n] of kept) {
    const p = packInto(nodes[row] as ClusterNodes, job.p.node, n);
    nodes[row] = p.nodes;
    if (p.placed < n) {
      take(free, row * dims, job.p.demand, p.placed - n);
      if (p.placed === 0) kept.delete(row);
      else kept.set(row, p.placed);
    }
  }
  let assign: Assignment = kept;
  const r =
    kept.size > 0 && sum(kept) >= job.p.replicas
      ? undefined
      : placeJob(job, kept, free, fleet, { limit: (row, cap) => Math.min(cap, fitOnNodes(nodes[row] as ClusterNodes, job.p.node, cap)) });
  if (r !== undefined) {
    if (r.ok) {
      assign = r.assign;
      for (const [row, n] of assign) {
        const add = n - (kept.get(row) ?? 0);
        if (add > 0) nodes[row] = packInto(nodes[row] as ClusterNodes, job.p.node, add).nodes;
      }
    } else {
      release(free, dims, job, kept);
      assign = new Map();
      nodes = repackRows(fleet, nodes, kept.keys(), placed.values());
    }
  }
  if (assign.size > 0) placed.set(key, { job, assign });
  const decision = decide(cycle, job, assign, nodes);
  decisions.set(key, decision);
  return { state: { ...state, placed, free, nodes, decisions }, decision };
}

/** Removes a placement and gives its capacity back. */
export function removeOne(state: FleetState, key: string): FleetState {
  const old = state.placed.get(key);
  const placed = new Map(state.placed);
  const decisions = new Map(state.decisions);
  placed.delete(key);
  decisions.delete(key);
  const free = Float64Array.from(state.free);
  if (old === undefined) return { ...state, placed, free, decisions };
  release(free, old.job.p.demand.length, old.job, old.assign);
  const nodes = repackRows(state.fleet, state.nodes, old.assign.keys(), placed.values());
  return { ...state, placed, free, nodes, decisions };
}

function sum(a: Assignment): number {
  let s = 0;
  for (const n of a.values()) s += n;
  return s;
}

/** Free capacity, summed and on nodes, as if one placement's replicas were not there. */
export function roomWithout(state: FleetState, key: string): { free: Float64Array; nodes: readonly ClusterNodes[] } {
  const old = state.placed.get(key);
  if (old === undefined) return { free: state.free, nodes: state.nodes };
  const free = Float64Array.from(state.free);
  release(free, old.job.p.demand.length, old.job, old.assign);
  const rest = [...state.placed.values()].filter((x) => x !== old);
  return { free, nodes: repackRows(state.fleet, state.nodes, old.assign.keys(), rest) };
}

/** The decisions for placements placed one after another on a state, which stays as it was. */
export function placeAll(state: FleetState, placements: readonly Placement[]): Decision[] {
  let s = state;
  const out: Decision[] = [];
  for (const p of placements) {
    const r = placeOne(s, p);
    s = r.state;
    out.push(r.decision);
  }
  return out;
}

export type ScheduledExplanation = PlacementExplanation & { readonly decision?: Decision };

/**
 * Why a placement of a scheduled fleet went where it did: filters against the fleet as the
 * schedule leaves it, less the placement's own replicas; scores as the solver gave them on the
 * snapshot it scheduled, with the decisions in force as the previous ones. The API and the CLI
 * both answer with this.
 */
export function explainScheduled(state: FleetState, placement: Placement): ScheduledExplanation | { readonly placement: string; readonly invalid: string } {
  const key = placementKey(placement);
  const room = roomWithout(state, key);
  const now = occupiedSnapshot(state.fleet, room.free, room.nodes);
  const e = explainPlacement(now, placement, { ...state.opts, previous: [...state.decisions.values()] }, state.snapshot);
  if ('invalid' in e) return e;
  const decision = state.decisions.get(key);
  return decision === undefined ? e : { ...e, decision };
}

/** The fleet as the schedule leaves it: what Orrery placed counted as taken, per node too. */
export function occupied(state: FleetState): FleetSnapshot {
  return occupiedSnapshot(state.fleet, state.free, state.nodes);
}
