// One scheduling run, in named steps: filter and score → keep → select → assign → decide.
//
// Placements are scheduled in priority tiers, highest first; a lower tier only ever sees the
// capacity the higher ones left. Every placement first keeps what it had, where that is still
// allowed (Steady), and only the difference is placed anew, so a new or resized placement never
// moves the replicas of another. Within a tier the greedy answer other schedulers give, one
// steered by the LP relaxation and, for small tiers, an exact integer program are built from the
// same starting point, and the best of them wins. A full cycle is a run over every placement;
// a step (fleetState.ts) is a run over what changed or waits, from what stays.

import { type ClusterAssignment, type Decision, type DecisionReason, FLOORS, type FleetSnapshot, type Placement, type SolveStats, compareNames, placementKey } from './model.js';
import { type Cycle, type Job, type ScheduleOptions, prepareCycle } from './cycle.js';
import { unscheduledMessage } from './explain.js';
import { type Assignment, keepPrevious, placedOf } from './solver/placeOne.js';
import { type FloorMemo, type TierContext, type TierStart, forgetUnreachable, newCounters, solveTier } from './solver/tier.js';
import { compareTiers, compareValue, worthOf } from './objective.js';
import { type Packed, fitToNodes, repackRows } from './solver/packOnNodes.js';
import { evenSpread, isEven } from './solver/evenSpread.js';
import { hasOwnLimits } from './solver/aloneCap.js';
import type { Issue } from './result.js';
import { type ClusterNodes, packInto } from './nodes.js';
import { counted } from './words.js';

/** What each placement keeps before anything new is placed, and the room that leaves. */
export interface Kept {
  readonly kept: Map<Job, Assignment>;
  readonly start: TierStart;
  /** whether the kept replicas are packed onto `start.nodes` already (they then stay on their nodes) */
  readonly onNodes: boolean;
}

/** What one run is asked to do. */
export interface RunInput {
  readonly snapshot: FleetSnapshot;
  /** the placements solved */
  readonly placements: readonly Placement[];
  readonly opts: ScheduleOptions;
  /** the keep step: a full cycle keeps every previous decision; a step keeps what stays */
  readonly keep: (cycle: Cycle, byTier: readonly Job[][]) => Kept;
  /** placements not solved that hold room where they are, which the reasons of those solved see */
  readonly standing?: readonly { readonly job: Job; readonly assign: Assignment }[];
  /** how many placements the fleet has after the run, for the stats */
  readonly count: (decided: number) => number;
}

/** What one run decided, and where. */
export interface RunOutcome {
  readonly cycle: Cycle;
  /** per solved placement (invalid ones have no job) */
  readonly solved: ReadonlyMap<string, { readonly job?: Job; readonly assign?: Assignment; readonly decision: Decision }>;
  readonly assign: ReadonlyMap<Job, Assignment>;
  /** capacity left after every assignment, summed per cluster */
  readonly free: Float64Array;
  /** each cluster's nodes with every assignment packed onto them */
  readonly nodes: readonly ClusterNodes[];
  /** the order replicas were packed onto nodes in: placement key, cluster name, replicas */
  readonly packOrder: readonly (readonly [string, string, number])[];
  readonly stats: SolveStats;
}

export function run(input: RunInput): RunOutcome {
  const { opts } = input;
  const clock = opts.clock ?? (() => 0);
  const started = clock();
  const deadline = opts.budgetMs !== undefined ? started + opts.budgetMs : Number.POSITIVE_INFINITY;
  // filter and score
  const cycle = prepareCycle(input.snapshot, input.placements, opts);
  const { fleet } = cycle.ctx;
  const byTier = tiers(cycle.jobs);
  // keep
  const { kept, start, onNodes } = input.keep(cycle, byTier);
  // select and assign: the tiers solved and packed onto nodes
  const counters = newCounters();
  const ctx: TierContext = { fleet, kept, counters, opts, clock, deadline };
  const chosen = bestRun(byTier, ctx, start, onNodes ? start : undefined);
  // A floor asked for alone is the baseline as it places: neither evened nor completed.
  const floorAlone = opts.solver !== undefined && opts.solver !== 'auto';
  const { run: best, packed } = floorAlone ? chosen : spreadEvenly(byTier, ctx, chosen, onNodes ? start : undefined);
  // decide
  const solved = decideAll(cycle, byTier, packed, input.standing ?? [], input.placements);
  const decisions = [...solved.values()].map((x) => x.decision);
  return {
    cycle,
    solved,
    assign: packed.assign,
    free: packed.free,
    nodes: packed.nodes,
    packOrder: packed.order.map(([key, row, n]) => [key, fleet.clusters[row]!.name, n] as const),
    stats: {
      solveMs: round(clock() - started),
      solver: best.solver,
      placements: input.count(solved.size),
      clusters: fleet.clusters.length,
      ...summarise(cycle.jobs, packed.assign, decisions),
      preempted: 0,
      lpSolves: counters.lpSolves,
      lpMs: round(counters.lpMs),
      lpLibraries: { ...counters.libraries },
    },
  };
}

/**
 * The keep step of a full cycle: every placement keeps what its previous decision still allows,
 * highest priority first, before anything new is placed — a new or grown placement, whatever
 * its priority, never moves another's replicas. The kept replicas are then packed onto the
 * snapshot's nodes.
 */
export function keepEverything(cycle: Cycle, byTier: readonly Job[][]): Kept {
  const { fleet } = cycle.ctx;
  const free = Float64Array.from(fleet.free);
  const kept = new Map<Job, Assignment>();
  for (const tier of byTier) {
    for (const job of tier) {
      const k = keepPrevious(job, free, fleet.dims.length, fleet);
      if (k.size > 0) kept.set(job, k);
    }
  }
  return { kept, start: { free, nodes: packKept(byTier, kept, fleet) }, onNodes: false };
}

/**
 * The decide step: each solved placement's decision, its reasons read against every assignment
 * after the run. Reasons are read without what lower priorities hold: with nothing of lower
 * priority than a placement left short placed anywhere, every reason reads the final packing as it is.
 */
function decideAll(
  cycle: Cycle,
  byTier: readonly Job[][],
  packed: Packed,
  standing: readonly { readonly job: Job; readonly assign: Assignment }[],
  placements: readonly Placement[],
): Map<string, { job?: Job; assign?: Assignment; decision: Decision }> {
  const active = cycle.jobs;
  const isShort = (job: Job) => placedOf(packed.assign.get(job)) < job.p.replicas;
  let views = new Map<Job, readonly ClusterNodes[]>();
  if (active.some(isShort)) {
    const shortOf = Math.max(...active.filter(isShort).map((job) => job.p.priority));
    const lowerHeld = [...active.map((job) => ({ job, size: packed.assign.get(job)?.size ?? 0 })), ...standing.map((s) => ({ job: s.job, size: s.assign.size }))].some(
      (x) => x.job.p.priority < shortOf && x.size > 0,
    );
    if (lowerHeld) {
      const after = new Map<Job, Assignment>(packed.assign);
      for (const s of standing) after.set(s.job, s.assign);
      views = reasonViews(standing.length === 0 ? byTier : tiers([...active, ...standing.map((s) => s.job)]), after, cycle.ctx.fleet, packed.nodes);
    }
  }
  const solved = new Map<string, { job?: Job; assign?: Assignment; decision: Decision }>();
  for (const job of active) {
    const a = packed.assign.get(job);
    solved.set(job.p.key, { job, ...(a !== undefined && a.size > 0 ? { assign: a } : {}), decision: decide(cycle, job, a, views.get(job) ?? packed.nodes) });
  }
  for (const [key, why] of cycle.invalid) solved.set(key, { decision: invalidDecision(placements, key, why) });
  return solved;
}

/**
 * The tiers solved, and packed onto nodes (onto `base`, where kept replicas are packed already,
 * when given). Each tier takes its worthiest answer, but an answer worth more to one tier can
 * leave the tiers below worse off: each floor's schedule as a whole is compared too, tier by tier
 * from the top once packed onto nodes, so that no priority gives up worth for a lower one.
 */
function bestRun(byTier: readonly Job[][], tierCtx: TierContext, start: TierStart, base?: TierStart): { run: TierRun; packed: Packed } {
  const ctx: TierContext = { ...tierCtx, floors: [] };
  const jobs = byTier.flat();
  const pack = (r: TierRun) => (r.packed ? asPacked(r, ctx.kept) : fitToNodes(jobs, r.assign, ctx.kept, ctx.fleet, base));
  let run = runTiers(byTier, ctx, start);
  let packed = pack(run);
  if (ctx.opts.solver === undefined || ctx.opts.solver === 'auto') {
    forgetUnreachable(ctx.floors as FloorMemo, start, run.solvers);
    for (const floor of FLOORS) {
      const other = runTiers(byTier, { ...ctx, opts: { ...ctx.opts, solver: floor } }, start, cannotWin(byTier, packed));
      if (other === undefined) continue;
      // the same assignment packs the same (unless only the other was placed on the nodes as it
      // went, which may bind what packing after the solve does not): nothing to weigh
      if (sameAssignment(other.assign, run.assign) && (!other.packed || run.packed)) continue;
      const otherPacked = pack(other);
      if (worthMore(otherPacked.assign, packed.assign, byTier)) [run, packed] = [other, otherPacked];
    }
    if (hasNodeGroups(ctx.fleet)) {
      const other = runTiers(byTier, { ...ctx, way: 'nodes' }, start, cannotWin(byTier, packed));
      if (other !== undefined && (!sameAssignment(other.assign, run.assign) || (other.packed && !run.packed))) {
        const otherPacked = pack(other);
        if (worthMore(otherPacked.assign, packed.assign, byTier)) [run, packed] = [other, otherPacked];
      }
    }
  }
  return { run, packed };
}

/** The chosen answer with its Spread placements divided evenly (evenSpread.ts), where the room left allows. */
function spreadEvenly(byTier: readonly Job[][], ctx: TierContext, chosen: { run: TierRun; packed: Packed }, base?: TierStart): { run: TierRun; packed: Packed } {
  const packed = evenSpread(byTier.flat(), chosen.packed, ctx.kept, ctx.fleet, base);
  return packed === undefined ? chosen : { run: chosen.run, packed };
}

/** Whether any cluster is more than one node: only then do the nodes tell more than the sums. */
function hasNodeGroups(fleet: Cycle['ctx']['fleet']): boolean {
  return fleet.wholeNode.some((x) => x === 0);
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
  /** every tier placed on `nodes` as it went: the answer binds as it is */
  readonly packed: boolean;
  /** the ways the tiers' answers came from */
  readonly solvers: ReadonlySet<string>;
  readonly nodes: readonly ClusterNodes[];
}

/** An answer placed on the nodes as it went, as the packing step gives it: nothing to trim. */
function asPacked(r: TierRun, kept: ReadonlyMap<Job, Assignment>): Packed {
  const items: (readonly [string, number, number])[] = [];
  for (const [job, a] of r.assign) {
    for (const [row, n] of a) {
      const k = Math.min(n, kept.get(job)?.get(row) ?? 0);
      if (k > 0) items.push([job.p.key, row, k]);
      if (n > k) items.push([job.p.key, row, n - k]);
    }
  }
  return { assign: new Map([...r.assign].filter(([, a]) => a.size > 0).map(([j, a]) => [j, new Map(a)])), free: Float64Array.from(r.free), nodes: [...r.nodes], order: items };
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
 * Whether a way tried beside the chosen answer can no longer beat it, after its tier `t`: whole
 * schedules are compared on worth tier by tier from the top, and an answer placed on the nodes as
 * it went is worth as placed (nothing is packed after it). One worth less at the first tier where
 * they differ loses whatever its tiers below would be: they need not be placed.
 */
function cannotWin(byTier: readonly Job[][], best: Packed): (t: number, assign: ReadonlyMap<Job, Assignment>, packed: boolean) => boolean {
  let settled = false;
  return (t, assign, packed) => {
    if (settled || !packed) {
      settled = true;
      return false;
    }
    const c = compareValue(worthOf(byTier[t] as Job[], assign), worthOf(byTier[t] as Job[], best.assign));
    if (c !== 0) settled = true;
    return c < 0;
  };
}

/**
 * Every tier in turn, highest priority first, each from what the ones before it left. A
 * placement whose kept replicas are all it asks for has nothing to place: it takes no part.
 * With `stop`, the run is given up (undefined) as soon as it says so after a tier.
 */
function runTiers(byTier: readonly Job[][], ctx: TierContext, start: TierStart): TierRun;
function runTiers(byTier: readonly Job[][], ctx: TierContext, start: TierStart, stop: (t: number, assign: ReadonlyMap<Job, Assignment>, packed: boolean) => boolean): TierRun | undefined;
function runTiers(byTier: readonly Job[][], ctx: TierContext, start: TierStart, stop?: (t: number, assign: ReadonlyMap<Job, Assignment>, packed: boolean) => boolean): TierRun | undefined {
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
  let packed = true;
  for (const [t, tier] of open.entries()) {
    if (tier.length === 0) continue;
    const below = open.slice(t + 1).flat();
    const { outcome, exact } = solveTier(tier, below, ctx, at);
    if (!exact) allExact = false;
    if (!outcome.packed) packed = false;
    solvers.add(outcome.solver);
    for (const [job, a] of outcome.assign) assign.set(job, a);
    at = outcome;
    if (stop?.(t, assign, packed) === true) return undefined;
  }
  const floor = ctx.opts.solver === undefined || ctx.opts.solver === 'auto' ? undefined : ctx.opts.solver;
  const solver = floor ?? (allExact ? 'optimal' : solvers.has('steered') ? 'steered' : solvers.has('on-nodes') ? 'on-nodes' : (FLOORS.find((f) => solvers.has(f)) ?? 'greedy'));
  return { assign, free: at.free, solver, packed, nodes: at.nodes, solvers };
}

function worthMore(a: ReadonlyMap<Job, Assignment>, b: ReadonlyMap<Job, Assignment>, byTier: readonly Job[][]): boolean {
  return (
    compareTiers(
      byTier.map((t) => worthOf(t, a)),
      byTier.map((t) => worthOf(t, b)),
    ) > 0
  );
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
  const message = unscheduled === 0 ? `${counted(placed, 'replica')} on ${counted(clusters.length, 'cluster')}${unevenNote(job, a)}` : unscheduledMessage(cycle, job, nodes, placed, clusters.length);
  return { placement: job.p.key, clusters, unscheduledReplicas: unscheduled, reason, message };
}

/**
 * A Spread placement not divided evenly says so; explain shows each cluster's room. (How much
 * room a cluster's nodes have left depends on how they were packed, which a step and a full
 * cycle may do differently: the words do not.)
 */
function unevenNote(job: Job, a: Assignment | undefined): string {
  if (job.p.strategy !== 'Spread' || hasOwnLimits(job) || a === undefined || isEven(job, a)) return '';
  return ', not evenly: the room the other placements leave allows no more';
}

export function invalidDecision(placements: readonly Placement[], key: string, why: Issue): Decision {
  const p = placements.find((x) => placementKey(x) === key);
  const replicas = typeof p?.spec.replicas === 'number' ? p.spec.replicas : 0;
  return { placement: key, clusters: [], unscheduledReplicas: replicas, reason: 'Unschedulable', message: `invalid placement: ${why.message}` };
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
