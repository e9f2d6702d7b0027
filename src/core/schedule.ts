// filter → score → select → assign.
//
// Placements are scheduled in priority tiers, highest first; a lower tier only ever sees the
// capacity the higher ones left. In Steady mode (a previous decision is given) every placement
// first keeps what it had, where that is still allowed, and only the difference is placed anew,
// so a new or resized placement never moves the replicas of another. Within a tier the greedy
// answer other schedulers give, one steered by the LP relaxation and, for small tiers, an exact
// integer program are built from the same starting point, and the best of them wins.

import {
  type ClusterAssignment,
  type Decision,
  type DecisionReason,
  type FleetSnapshot,
  type Placement,
  type ScheduleResult,
  type SolveStats,
  compareNames,
  placementKey,
} from './model.js';
import { type Cycle, type Job, type ScheduleOptions, prepareCycle } from './cycle.js';
import { unscheduledMessage } from './explain.js';
import { type Assignment, keepPrevious, placedOf, release, take } from './solver/place.js';
import { type Floor, type TierContext, type TierStart, newCounters, solveTier } from './solver/tier.js';
import { compareTiers, worthOf } from './objective.js';
import { type Packed, fitToNodes, repackRows } from './solver/pack.js';
import { type ClusterNodes, packInto } from './nodes.js';

export type { Job, ScheduleOptions } from './cycle.js';

export function schedule(snapshot: FleetSnapshot, placements: readonly Placement[], opts: ScheduleOptions = {}): ScheduleResult {
  return scheduleCycle(snapshot, placements, opts).result;
}

/** The result and what an incremental step needs to go on from it. */
export interface ScheduledCycle {
  readonly result: ScheduleResult;
  readonly cycle: Cycle;
  readonly assign: ReadonlyMap<Job, Assignment>;
  /** capacity left after every assignment, summed per cluster */
  readonly free: Float64Array;
  /** each cluster's nodes with every assignment packed onto them */
  readonly nodes: readonly ClusterNodes[];
  /** the order replicas were packed onto nodes in: placement key, cluster name, replicas */
  readonly packOrder: readonly (readonly [string, string, number])[];
}

export function scheduleCycle(snapshot: FleetSnapshot, placements: readonly Placement[], opts: ScheduleOptions = {}): ScheduledCycle {
  const clock = opts.clock ?? (() => 0);
  const started = clock();
  const cycle = prepareCycle(snapshot, placements, opts);
  const { fleet } = cycle.ctx;
  const deadline = opts.budgetMs !== undefined ? started + opts.budgetMs : Number.POSITIVE_INFINITY;
  const byTier = tiers(cycle.jobs);
  // Everything kept is reserved before anything new is placed, highest priority first: a
  // new or grown placement, whatever its priority, never moves another's replicas.
  const free = Float64Array.from(fleet.free);
  const kept = new Map<Job, Assignment>();
  for (const tier of byTier) {
    for (const job of tier) {
      const k = keepPrevious(job, free, fleet.dims.length, fleet);
      if (k.size > 0) kept.set(job, k);
    }
  }
  const start: TierStart = { free, nodes: packKept(byTier, kept, fleet) };
  const counters = newCounters();
  const ctx: TierContext = { fleet, kept, counters, opts, clock, deadline };
  const { run, packed } = bestRun(byTier, ctx, start);
  const views = reasonViews(byTier, packed.assign, fleet, packed.nodes);
  const decisions = cycle.jobs.map((job) => decide(cycle, job, packed.assign.get(job), views.get(job) ?? packed.nodes));
  for (const [key, why] of cycle.invalid) decisions.push(invalidDecision(placements, key, why));
  decisions.sort((a, b) => compareNames(a.placement, b.placement));
  const totals = summarise(cycle.jobs, packed.assign, decisions);
  return {
    result: {
      decisions,
      stats: {
        solveMs: round(clock() - started),
        solver: run.solver,
        placements: decisions.length,
        clusters: fleet.clusters.length,
        ...totals,
        lpSolves: counters.lpSolves,
        lpMs: round(counters.lpMs),
        lpLibraries: { ...counters.libraries },
      },
    },
    cycle,
    assign: packed.assign,
    free: packed.free,
    nodes: packed.nodes,
    packOrder: packed.order.map(([key, row, n]) => [key, fleet.clusters[row]!.name, n] as const),
  };
}

/** A fleet scheduled: the decisions in force and what they assign, on one snapshot. */
export interface SteadyStart {
  readonly snapshot: FleetSnapshot;
  readonly fleet: Cycle['ctx']['fleet'];
  /**
   * By placement key, for every decision: the placement it was made for, the job that placement
   * was last solved as (none if it is invalid) and its assignment (none if nothing is placed).
   * One map, not one for each: a step copies what it does not change.
   */
  readonly entries: ReadonlyMap<string, SteadyEntry>;
  /** capacity left after every assignment, summed per cluster */
  readonly free: Float64Array;
  /** each cluster's nodes with every assignment packed onto them */
  readonly nodes: readonly ClusterNodes[];
  readonly decisions: ReadonlyMap<string, Decision>;
  /** keys of placements still short of replicas */
  readonly waiting: ReadonlySet<string>;
}

export interface SteadyEntry {
  readonly placement: Placement;
  readonly job?: Job;
  readonly assign?: Assignment;
}

/** Free capacity, summed and on nodes, as if the replicas of the placements `gone` names were not there; and the rows they leave. */
export function roomWithout(state: SteadyStart, gone: ReadonlySet<string>): { free: Float64Array; nodes: ClusterNodes[]; rows: Set<number> } {
  const free = Float64Array.from(state.free);
  const rows = new Set<number>();
  for (const key of gone) {
    const { job, assign } = state.entries.get(key) ?? {};
    if (job === undefined || assign === undefined) continue;
    release(free, state.fleet.dims.length, job, assign);
    for (const row of assign.keys()) rows.add(row);
  }
  if (rows.size === 0) return { free, nodes: [...state.nodes], rows };
  const staying: { job: Job; assign: Assignment }[] = [];
  for (const [key, { job, assign }] of state.entries) if (job !== undefined && assign !== undefined && !gone.has(key)) staying.push({ job, assign });
  return { free, nodes: repackRows(state.fleet, state.nodes, rows, staying), rows };
}

/** What changes in one step: placements submitted (new or replaced) and placements removed. */
export interface Change {
  readonly put?: readonly Placement[];
  readonly remove?: readonly string[];
}

export interface StepOptions extends ScheduleOptions {
  /**
   * Solve every placement again, not only those that can change. The answer is the same (the
   * property tests hold the two to it); this is what the quicker step is checked against.
   */
  readonly everything?: boolean;
}

/** A step's outcome: the fleet after it, and the stats of what was solved. */
export interface Stepped extends SteadyStart {
  readonly stats: SolveStats;
}

/**
 * Whether a placement is the one a decision was made for: the same object, or the same object
 * read again — its uid and generation, which the API server moves with every change of spec.
 * A copy made to try another spec must drop its generation (see withSpec).
 */
export function samePlacement(a: Placement | undefined, b: Placement): boolean {
  if (a === undefined) return false;
  if (a === b) return true;
  const [x, y] = [a.metadata, b.metadata];
  return x.uid !== undefined && x.uid === y.uid && x.generation !== undefined && x.generation === y.generation;
}

/** A placement with another spec, as a new version of it: no longer the one its decision was made for. */
export function withSpec(p: Placement, spec: Placement['spec']): Placement {
  const { generation: _read, ...metadata } = p.metadata;
  return { ...p, metadata, spec };
}

/** The change that takes a scheduled fleet to `placements`. */
export function changeTo(state: SteadyStart, placements: readonly Placement[]): Change {
  const keys = new Set<string>();
  const put: Placement[] = [];
  for (const p of placements) {
    const key = placementKey(p);
    if (keys.has(key)) continue;
    keys.add(key);
    if (!state.decisions.has(key) || !samePlacement(state.entries.get(key)?.placement, p)) put.push(p);
  }
  return { put, remove: [...state.decisions.keys()].filter((k) => !keys.has(k)) };
}

/**
 * The Steady step from the decisions in force, on the snapshot they were made on: what the hub
 * controller runs while the fleet is unchanged, and what every preview (what-if, the scale
 * hook's answer, an embedded write) runs, so that all give the same answer. Replicas that stay
 * stay on their nodes; a placement that is new or changed is placed from what it keeps; one that
 * waits is placed again when a cluster it may use gets room back; in priority tiers, as a full
 * cycle does. A placement that is unchanged and has all its replicas takes no part: it has
 * nothing to place, and its decision stands as it was. Every placement still waiting when a
 * cycle or step ends waits for room its rules do not let it have (the last pass of each tried
 * them all), and nothing a step places makes room: it waits on until room comes back.
 */
export function solveStep(state: SteadyStart, change: Change, opts: StepOptions = {}): SolvedStep {
  const clock = opts.clock ?? (() => 0);
  const started = clock();
  const deadline = opts.budgetMs !== undefined ? started + opts.budgetMs : Number.POSITIVE_INFINITY;
  const fleet = state.fleet;
  const dims = fleet.dims.length;
  const put = new Map<string, Placement>();
  for (const p of change.put ?? []) if (!put.has(placementKey(p))) put.set(placementKey(p), p);
  // A placement put as it was is no change.
  for (const [key, p] of put) if (state.decisions.has(key) && samePlacement(state.entries.get(key)?.placement, p)) put.delete(key);
  const removed = new Set((change.remove ?? []).filter((k) => state.decisions.has(k) && !put.has(k)));
  // What no longer holds gives its room back: placements removed or changed.
  const goneKeys = new Set([...put.keys(), ...removed]);
  const gone = (key: string) => goneKeys.has(key);
  const { free, nodes, rows } = roomWithout(state, goneKeys);
  const freed = [...rows];
  // What is solved: what changed, what waits where room came back, and (everything) the rest.
  const redo: Placement[] = [...put.values()];
  const again = opts.everything ? [...state.decisions.keys()] : freed.length > 0 ? [...state.waiting] : [];
  for (const key of again) {
    if (gone(key)) continue;
    const { job, placement } = state.entries.get(key) as SteadyEntry;
    const waits = state.waiting.has(key);
    if (job === undefined || (waits && freed.some((row) => job.eligible[row] === 1)) || (!waits && opts.everything)) redo.push(placement);
  }
  const previous: Decision[] = [];
  for (const p of redo) {
    const d = state.decisions.get(placementKey(p));
    if (d !== undefined) previous.push(d);
  }
  const cycle = prepareCycle(state.snapshot, redo, { ...opts, previous });
  const kept = new Map<Job, Assignment>();
  for (const tier of tiers(cycle.jobs)) {
    for (const job of tier) {
      if (!put.has(job.p.key)) {
        // Unchanged and solved again: what it has stays where it is.
        const a = state.entries.get(job.p.key)?.assign;
        if (a !== undefined && a.size > 0) kept.set(job, new Map(a));
        continue;
      }
      // New or changed: it keeps what it had where that still holds, on nodes too.
      const k = keepPrevious(job, free, dims, fleet);
      for (const [row, n] of k) {
        if (fleet.clusters[row]?.hold === true) continue;
        const p = packInto(nodes[row] as ClusterNodes, job.p.node, n);
        nodes[row] = p.nodes;
        if (p.placed < n) {
          take(free, row * dims, job.p.demand, p.placed - n);
          if (p.placed === 0) k.delete(row);
          else k.set(row, p.placed);
        }
      }
      if (k.size > 0) kept.set(job, k);
    }
  }
  const active = cycle.jobs;
  const byTier = tiers(active);
  const start: TierStart = { free, nodes };
  const counters = newCounters();
  const ctx: TierContext = { fleet, kept, counters, opts, clock, deadline };
  const { run, packed } = bestRun(byTier, ctx, start, start);
  // Each placement solved gets its decision, read against every assignment after the step.
  const short = active.some((job) => placedOf(packed.assign.get(job)) < job.p.replicas);
  const solvedKeys = new Set([...active.map((j) => j.p.key), ...cycle.invalid.keys()]);
  let views = new Map<Job, readonly ClusterNodes[]>();
  // Reasons are read without what lower priorities hold: with nothing of lower priority than a
  // placement left short placed anywhere, every reason reads the final packing as it is.
  const shortOf = Math.max(...active.filter((job) => placedOf(packed.assign.get(job)) < job.p.replicas).map((job) => job.p.priority));
  let lowerHeld = short && active.some((job) => job.p.priority < shortOf && (packed.assign.get(job)?.size ?? 0) > 0);
  if (short && !lowerHeld) {
    for (const [key, x] of state.entries) {
      if (x.job !== undefined && x.assign !== undefined && x.job.p.priority < shortOf && !gone(key) && !solvedKeys.has(key)) {
        lowerHeld = true;
        break;
      }
    }
  }
  if (lowerHeld) {
    const after = new Map<Job, Assignment>(packed.assign);
    const all: Job[] = [...active];
    for (const [key, { job, assign }] of state.entries) {
      if (job === undefined || gone(key) || solvedKeys.has(key)) continue;
      all.push(job);
      if (assign !== undefined) after.set(job, assign);
    }
    views = reasonViews(tiers(all), after, fleet, packed.nodes);
  }
  const solved = new Map<string, { job?: Job; assign?: Assignment; decision: Decision }>();
  for (const job of active) {
    const a = packed.assign.get(job);
    solved.set(job.p.key, { job, ...(a !== undefined && a.size > 0 ? { assign: a } : {}), decision: decide(cycle, job, a, views.get(job) ?? packed.nodes) });
  }
  for (const [key, why] of cycle.invalid) solved.set(key, { decision: invalidDecision(redo, key, why) });
  const decisions = [...solved.values()].map((x) => x.decision);
  const added = [...put.keys()].filter((k) => !state.decisions.has(k)).length;
  return {
    state,
    solved,
    removed,
    redo,
    free: packed.free,
    nodes: packed.nodes,
    stats: {
      solveMs: round(clock() - started),
      solver: run.solver,
      placements: state.decisions.size - removed.size + added,
      clusters: fleet.clusters.length,
      ...summarise(active, packed.assign, decisions),
      lpSolves: counters.lpSolves,
      lpMs: round(counters.lpMs),
      lpLibraries: { ...counters.libraries },
    },
  };
}

/** What one step solved, before it is made the fleet's state. */
export interface SolvedStep {
  readonly state: SteadyStart;
  /** by key: each placement solved, its job and assignment (none if invalid or unplaced), and its decision */
  readonly solved: ReadonlyMap<string, { readonly job?: Job; readonly assign?: Assignment; readonly decision: Decision }>;
  readonly removed: ReadonlySet<string>;
  readonly redo: readonly Placement[];
  readonly free: Float64Array;
  readonly nodes: readonly ClusterNodes[];
  /** of what was solved, but for the count of placements */
  readonly stats: SolveStats;
}

/** The fleet after a step: what was solved replaces what it was; the rest stands as it was. */
export function afterStep(step: SolvedStep): Stepped {
  const { state, solved, removed } = step;
  const entries = new Map(state.entries);
  const decisions = new Map(state.decisions);
  const waiting = new Set(state.waiting);
  for (const key of removed) {
    entries.delete(key);
    decisions.delete(key);
    waiting.delete(key);
  }
  const redone = new Map(step.redo.map((p) => [placementKey(p), p]));
  for (const [key, x] of solved) {
    const placement = redone.get(key) as Placement;
    entries.set(key, { placement, ...(x.job !== undefined ? { job: x.job, ...(x.assign !== undefined ? { assign: x.assign } : {}) } : {}) });
    decisions.set(key, x.decision);
    if (x.decision.unscheduledReplicas > 0) waiting.add(key);
    else waiting.delete(key);
  }
  return { snapshot: state.snapshot, fleet: state.fleet, entries, free: step.free, nodes: step.nodes, decisions, waiting, stats: step.stats };
}

/** The step, and the fleet after it. */
export function scheduleFrom(state: SteadyStart, change: Change, opts: StepOptions = {}): Stepped {
  return afterStep(solveStep(state, change, opts));
}

/**
 * The tiers solved, and packed onto nodes (onto `base`, where kept replicas are packed already,
 * when given). Each tier takes its worthiest answer, but an answer worth more to one tier can
 * leave the tiers below worse off: each floor's schedule as a whole is compared too, tier by tier
 * from the top once packed onto nodes, so that no priority gives up worth for a lower one.
 */
function bestRun(byTier: readonly Job[][], tierCtx: TierContext, start: TierStart, base?: TierStart): { run: TierRun; packed: Packed } {
  const ctx: TierContext = { ...tierCtx, floors: new WeakMap() };
  const jobs = byTier.flat();
  const pack = (r: TierRun) => fitToNodes(jobs, r.assign, ctx.kept, ctx.fleet, base);
  let run = runTiers(byTier, ctx, start);
  let packed = pack(run);
  if (ctx.opts.solver === undefined || ctx.opts.solver === 'auto') {
    for (const floor of ['greedy', 'best-fit'] as const satisfies readonly Floor[]) {
      const other = runTiers(byTier, { ...ctx, opts: { ...ctx.opts, solver: floor } }, start);
      // the same assignment packs the same: nothing to weigh
      if (sameAssignment(other.assign, run.assign)) continue;
      const otherPacked = pack(other);
      if (worthMore(otherPacked.assign, packed.assign, byTier)) [run, packed] = [other, otherPacked];
    }
  }
  return { run, packed };
}

function sameAssignment(a: ReadonlyMap<Job, Assignment>, b: ReadonlyMap<Job, Assignment>): boolean {
  if (a.size !== b.size) return false;
  for (const [job, x] of a) {
    const y = b.get(job);
    if (y === undefined || x.size !== y.size) return false;
    for (const [row, n] of x) if (y.get(row) !== n) return false;
  }
  return true;
}

interface TierRun {
  readonly assign: Map<Job, Assignment>;
  readonly free: Float64Array;
  readonly solver: SolveStats['solver'];
}

/** The snapshot's nodes with the kept replicas packed on them, highest priority first. */
function packKept(byTier: readonly Job[][], kept: ReadonlyMap<Job, Assignment>, fleet: Cycle['ctx']['fleet']): ClusterNodes[] {
  const nodes = [...fleet.nodes];
  for (const tier of byTier) {
    for (const job of tier) {
      for (const [row, n] of kept.get(job) ?? []) {
        // What runs on a held cluster takes nothing of what the snapshot counts free.
        if (fleet.clusters[row]?.hold !== true) nodes[row] = packInto(nodes[row] as ClusterNodes, job.p.node, n).nodes;
      }
    }
  }
  return nodes;
}

/**
 * Every tier in turn, highest priority first, each from what the ones before it left. A
 * placement whose kept replicas are all it asks for has nothing to place: it takes no part.
 */
function runTiers(byTier: readonly Job[][], ctx: TierContext, start: TierStart): TierRun {
  let at = start;
  const assign = new Map<Job, Assignment>();
  const solvers = new Set<string>();
  const open = byTier.map((tier) =>
    tier.filter((job) => {
      const k = ctx.kept.get(job);
      if (placedOf(k) < job.p.replicas) return true;
      if (k !== undefined) assign.set(job, new Map(k));
      return false;
    }),
  );
  let allExact = byTier.length > 0;
  for (const [t, tier] of open.entries()) {
    if (tier.length === 0) continue;
    const below = open.slice(t + 1).flat();
    const { outcome, exact } = solveTier(tier, below, ctx, at);
    if (!exact) allExact = false;
    solvers.add(outcome.solver);
    for (const [job, a] of outcome.assign) assign.set(job, a);
    at = outcome;
  }
  const floor = ctx.opts.solver === 'greedy' || ctx.opts.solver === 'best-fit' ? ctx.opts.solver : undefined;
  const solver = floor ?? (allExact ? 'optimal' : solvers.has('steered') ? 'steered' : solvers.has('best-fit') ? 'best-fit' : 'greedy');
  return { assign, free: at.free, solver };
}

function worthMore(a: ReadonlyMap<Job, Assignment>, b: ReadonlyMap<Job, Assignment>, byTier: readonly Job[][]): boolean {
  return compareTiers(byTier.map((t) => worthOf(t, a)), byTier.map((t) => worthOf(t, b))) > 0;
}

/**
 * The nodes a placement's reasons are read from: its own tier's and higher tiers' replicas
 * packed, lower tiers' left out. What lower priorities hold is not why a higher one could not be
 * placed, and the reasons read the same whether or not a previous decision was given.
 */
function reasonViews(byTier: readonly Job[][], assign: ReadonlyMap<Job, Assignment>, fleet: Cycle['ctx']['fleet'], final: readonly ClusterNodes[]): Map<Job, readonly ClusterNodes[]> {
  const views = new Map<Job, readonly ClusterNodes[]>();
  const upTo: { job: Job; assign: Assignment }[] = [];
  // The rows lower tiers hold replicas on, tier by tier from the bottom: only those are packed
  // again without them; every other row is as the final packing has it.
  const lowerRows: Set<number>[] = [];
  let below = new Set<number>();
  for (let t = byTier.length - 1; t >= 0; t--) {
    lowerRows[t] = below;
    const rows = new Set(below);
    for (const job of byTier[t] as Job[]) for (const row of assign.get(job)?.keys() ?? []) rows.add(row);
    below = rows;
  }
  for (const [t, tier] of byTier.entries()) {
    const unscheduled = tier.filter((job) => placedOf(assign.get(job)) < job.p.replicas);
    for (const job of tier) {
      const a = assign.get(job);
      if (a !== undefined) upTo.push({ job, assign: a });
    }
    if (unscheduled.length === 0) continue;
    const rows = lowerRows[t] as Set<number>;
    const view = rows.size === 0 ? final : repackRows(fleet, final, rows, upTo);
    for (const job of unscheduled) views.set(job, view);
  }
  return views;
}

/** The decision for one placement from its assignment. */
export function decide(cycle: Cycle, job: Job, a: Assignment | undefined, nodes: readonly ClusterNodes[]): Decision {
  const { fleet } = cycle.ctx;
  const clusters: ClusterAssignment[] = [];
  let placed = 0;
  for (const [row, n] of a ?? []) {
    if (n <= 0) continue;
    clusters.push({ name: fleet.clusters[row]!.name, replicas: n });
    placed += n;
  }
  clusters.sort((x, y) => compareNames(x.name, y.name));
  const unscheduled = job.p.replicas - placed;
  const reason: DecisionReason = unscheduled === 0 ? 'Scheduled' : placed > 0 ? 'PartiallyScheduled' : 'Unschedulable';
  const message =
    unscheduled === 0 ? `${placed} replicas on ${clusters.length} clusters` : unscheduledMessage(cycle, job, nodes, placed, clusters.length);
  return { placement: job.p.key, clusters, unscheduledReplicas: unscheduled, reason, message };
}

export function invalidDecision(placements: readonly Placement[], key: string, why: string): Decision {
  const p = placements.find((x) => placementKey(x) === key);
  const replicas = typeof p?.spec.replicas === 'number' ? p.spec.replicas : 0;
  return { placement: key, clusters: [], unscheduledReplicas: replicas, reason: 'Unschedulable', message: `invalid placement: ${why}` };
}

function summarise(jobs: readonly Job[], assign: ReadonlyMap<Job, Assignment>, decisions: readonly Decision[]) {
  let weightedPlaced = 0;
  let value = 0;
  let placedReplicas = 0;
  let moves = 0;
  let score = 0;
  for (const job of jobs) {
    const a = assign.get(job);
    let placed = 0;
    for (const [row, n] of a ?? []) {
      placed += n;
      score += n * job.pref(row);
    }
    weightedPlaced += placed * job.weight;
    value += placed * job.value;
    placedReplicas += placed;
    if (job.previous !== undefined) moves += movedReplicas(job, a ?? new Map());
  }
  const unscheduledReplicas = decisions.reduce((s, d) => s + d.unscheduledReplicas, 0);
  const meanScore = placedReplicas === 0 ? 0 : Math.round((score / placedReplicas) * 100) / 100;
  return { weightedPlaced, value, placedReplicas, unscheduledReplicas, meanScore, moves };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export function tiers(jobs: readonly Job[]): Job[][] {
  const byPriority = new Map<number, Job[]>();
  for (const j of jobs) {
    const list = byPriority.get(j.p.priority) ?? [];
    list.push(j);
    byPriority.set(j.p.priority, list);
  }
  return [...byPriority.keys()].sort((a, b) => b - a).map((k) => byPriority.get(k)!);
}

export function movedReplicas(job: Job, now: Assignment): number {
  let removed = 0;
  let before = 0;
  for (const [row, n] of job.previous ?? []) {
    before += n;
    removed += Math.max(0, n - (now.get(row) ?? 0));
  }
  // Replicas removed because the placement shrank did not move.
  return Math.max(0, removed - Math.max(0, before - job.p.replicas));
}

