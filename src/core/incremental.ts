// A scheduled fleet kept as a state to go on from. Every change (a placement submitted, scaled or
// removed, a what-if) is one Steady step from it through scheduleFrom, the same step the hub
// controller takes while the fleet is unchanged: a preview and the controller give one answer.

import type { ScheduleOptions } from './cycle.js';
import type { Decision, FleetSnapshot, Placement, ScheduleResult, SolveStats } from './model.js';
import { placementKey } from './model.js';
import { type Change, type ScheduledCycle, type SteadyEntry, type SteadyStart, type StepOptions, changeTo, roomWithout, scheduleCycle, scheduleFrom, solveStep, withSpec } from './schedule.js';
import { occupiedSnapshot } from './capacity.js';
import { type PlacementExplanation, explainPlacement } from './explain.js';

export interface FleetState extends SteadyStart {
  readonly opts: ScheduleOptions;
}

/** The state a full cycle leaves. */
export function stateOf(snapshot: FleetSnapshot, s: ScheduledCycle, placements: readonly Placement[], opts: ScheduleOptions = {}): FleetState {
  const jobs = new Map(s.cycle.jobs.map((j) => [j.p.key, j]));
  const entries = new Map<string, SteadyEntry>();
  for (const p of placements) {
    const key = placementKey(p);
    if (entries.has(key)) continue;
    const job = jobs.get(key);
    const assign = job !== undefined ? s.assign.get(job) : undefined;
    entries.set(key, { placement: p, ...(job !== undefined ? { job, ...(assign !== undefined && assign.size > 0 ? { assign } : {}) } : {}) });
  }
  const decisions = new Map(s.result.decisions.map((d) => [d.placement, d]));
  return {
    snapshot,
    fleet: s.cycle.ctx.fleet,
    opts,
    entries,
    free: s.free,
    nodes: s.nodes,
    decisions,
    waiting: new Set([...decisions.values()].filter((d) => d.unscheduledReplicas > 0).map((d) => d.placement)),
  };
}

/** A full cycle, kept as a state to go on from. */
export function startFleet(snapshot: FleetSnapshot, placements: readonly Placement[], opts: ScheduleOptions = {}): FleetState {
  return stateOf(snapshot, scheduleCycle(snapshot, placements, opts), placements, opts);
}

/** One Steady step; the state after it and the stats of what it solved. */
export function step(state: FleetState, change: Change, opts: Omit<StepOptions, 'previous'> = {}): { state: FleetState; stats: SolveStats } {
  const { stats, ...next } = scheduleFrom(state, change, { ...state.opts, ...opts });
  return { state: { ...next, opts: state.opts }, stats };
}

/**
 * The hub controller's cycle. While the fleet is the one its state was made on, a Steady step
 * from that state to `placements`: the very step a preview takes, so what-if and the controller
 * agree. After the fleet changed (or replicas it placed could not start, and so are no longer
 * counted as kept), a full cycle, Steady from `previous`, the decisions in force.
 */
export function controllerCycle(
  state: FleetState | undefined,
  snapshot: FleetSnapshot,
  placements: readonly Placement[],
  previous: readonly Decision[],
  opts: ScheduleOptions & { readonly fresh?: boolean } = {},
): { state: FleetState; result: ScheduleResult } {
  const { fresh, ...rest } = opts;
  if (state !== undefined && state.snapshot === snapshot && fresh !== true) return controllerStep(state, changeTo(state, placements), rest);
  const cycle = scheduleCycle(snapshot, placements, { ...rest, previous });
  return { state: stateOf(snapshot, cycle, placements, rest), result: cycle.result };
}

/**
 * The controller's cycle while the fleet is unchanged, when it knows what changed since its
 * state: the step controllerCycle takes, without going over every placement to find the change.
 * `change.put` may hold placements that did not change (they stay as they are).
 */
export function controllerStep(state: FleetState, change: Change, opts: ScheduleOptions): { state: FleetState; result: ScheduleResult } {
  const r = step({ ...state, opts }, change);
  return { state: r.state, result: { decisions: [...r.state.decisions.values()], stats: r.stats } };
}

/**
 * The decisions the next step would make for `extra` placements beside the state's own,
 * changing nothing: what-if. An extra one with a key the state has replaces it.
 */
export function preview(state: FleetState, extra: readonly Placement[]): Decision[] {
  // A placement from outside (a what-if body) may carry the uid and generation of one in force
  // with another spec: only the very object in force counts as unchanged.
  const asked = extra.map((p) => (state.entries.get(placementKey(p))?.placement === p ? p : withSpec(p, p.spec)));
  const { solved } = solveStep(state, { put: asked }, state.opts);
  // An extra placement that is one the state has, unchanged, is not solved: its decision stands.
  return extra.map((p) => (solved.get(placementKey(p))?.decision ?? state.decisions.get(placementKey(p))) as Decision);
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
  const room = roomWithout(state, new Set([key]));
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
