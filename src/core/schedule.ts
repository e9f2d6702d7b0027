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
import { type Assignment, keepPrevious, placedOf } from './solver/place.js';
import { type Floor, type TierContext, type TierStart, newCounters, solveTier } from './solver/tier.js';
import { compareTiers, worthOf } from './objective.js';
import { fitToNodes, repackRows } from './solver/pack.js';
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
  let run = runTiers(byTier, ctx, start);
  let packed = fitToNodes(cycle.jobs, run.assign, kept, fleet);
  if (opts.solver === undefined || opts.solver === 'auto') {
    // Each tier takes its worthiest answer, but an answer worth more to one tier can leave the
    // tiers below worse off: each floor's schedule as a whole is compared too, tier by tier from
    // the top once packed onto nodes, so that no priority gives up worth for a lower one.
    for (const floor of ['greedy', 'best-fit'] as const satisfies readonly Floor[]) {
      const other = runTiers(byTier, { ...ctx, opts: { ...opts, solver: floor } }, start);
      const otherPacked = fitToNodes(cycle.jobs, other.assign, kept, fleet);
      if (worthMore(otherPacked.assign, packed.assign, byTier)) [run, packed] = [other, otherPacked];
    }
  }
  const views = reasonViews(byTier, packed.assign, fleet);
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

/** Every tier in turn, highest priority first, each from what the ones before it left. */
function runTiers(byTier: readonly Job[][], ctx: TierContext, start: TierStart): TierRun {
  let at = start;
  const assign = new Map<Job, Assignment>();
  const solvers = new Set<string>();
  let allExact = byTier.length > 0;
  for (const [t, tier] of byTier.entries()) {
    const below = byTier.slice(t + 1).flat();
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
function reasonViews(byTier: readonly Job[][], assign: ReadonlyMap<Job, Assignment>, fleet: Cycle['ctx']['fleet']): Map<Job, readonly ClusterNodes[]> {
  const views = new Map<Job, readonly ClusterNodes[]>();
  const upTo: { job: Job; assign: Assignment }[] = [];
  for (const tier of byTier) {
    const unscheduled = tier.filter((job) => placedOf(assign.get(job)) < job.p.replicas);
    for (const job of tier) {
      const a = assign.get(job);
      if (a !== undefined) upTo.push({ job, assign: a });
    }
    if (unscheduled.length === 0) continue;
    const rows = new Set<number>();
    for (const x of upTo) for (const row of x.assign.keys()) rows.add(row);
    const view = repackRows(fleet, fleet.nodes, rows, upTo);
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

