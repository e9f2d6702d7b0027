// One priority tier: the greedy floors, the answer steered by the LP relaxation, and for small
// tiers the exact integer program, each from the same starting capacity; the worthiest wins.

import type { Job, ScheduleOptions } from '../cycle.js';
import { type FleetIndex, PODS } from '../prepare.js';
import { type Worth, compareWorth, worthOf } from '../objective.js';
import { FLOORS, type Floor, compareNames } from '../model.js';
import { solveExactTier } from './exact.js';
import { type FillOpts, type TierState, fill } from './fillTier.js';
import { type ClusterNodes, packInto } from '../nodes.js';
import type { LpLibrary } from './lp.js';
import { type Assignment, placedOf, take } from './placeOne.js';
import { hasOwnLimits, soloCap } from './aloneCap.js';
import { fillOnNodes, placeOnNodes } from './nodeFloors.js';
import { repair } from './repair.js';
import { type Steering, type SteeringClass, solveSteering, steeringClasses } from './steer.js';

/** What the solver did, for the stats. */
export interface SolveCounters {
  lpSolves: number;
  lpMs: number;
  /** relaxations each library solved */
  libraries: Record<LpLibrary, number>;
}

export function newCounters(): SolveCounters {
  return { lpSolves: 0, lpMs: 0, libraries: { 'javascript-lp-solver': 0, highs: 0 } };
}

/** What every tier of one solve shares. */
export interface TierContext {
  readonly fleet: FleetIndex;
  /** what each placement keeps of the previous decision, reserved before any tier is placed */
  readonly kept: ReadonlyMap<Job, Assignment>;
  readonly counters: SolveCounters;
  readonly opts: ScheduleOptions;
  readonly clock: () => number;
  /** past it, every tier takes its best floor */
  readonly deadline: number;
  /**
   * Answers already placed, with the start they were placed from: a solve tries its tiers
   * several ways, every way places the first tier from the same start, and ways that agree on a
   * tier start the next one from equal room.
   */
  readonly floors?: FloorMemo;
  /** nodes: every tier raised together on the nodes alone (a whole answer weighed beside the others) */
  readonly way?: 'nodes';
}

export type FloorMemo = { readonly start: TierStart; readonly tier: readonly Job[]; readonly floor: Floor | 'on-nodes'; readonly outcome: TierOutcome }[];

/** An answer placed once per start and tier however many ways the solve is tried. */
function remembered(ctx: TierContext, start: TierStart, tier: readonly Job[], floor: Floor | 'on-nodes', place: () => TierOutcome): TierOutcome {
  const known = ctx.floors?.find((x) => x.floor === floor && x.tier.length === tier.length && x.tier.every((job, i) => job === tier[i]) && sameStart(x.start, start));
  if (known !== undefined) return copyOutcome(known.outcome);
  const o = place();
  // Only the main way's answers are asked for again: each other way asks for its own answer alone.
  const main = (ctx.opts.solver === undefined || ctx.opts.solver === 'auto') && ctx.way === undefined;
  if (main) ctx.floors?.push({ start, tier, floor, outcome: copyOutcome(o) });
  return o;
}

/**
 * Forgets the answers no other way can ask for again, which would only hold memory: past the
 * first tier, a way that places one floor (or on-nodes) throughout starts a tier from the same
 * room as the main way only where the main way chose that floor before it.
 */
export function forgetUnreachable(memo: FloorMemo, first: TierStart, chosen: ReadonlySet<string>): void {
  const keep = memo.filter((x) => x.start === first || chosen.has(x.floor));
  memo.length = 0;
  memo.push(...keep);
}

/** Equal room: the same sums, and the same cluster states (states never change, so the same objects). */
function sameStart(a: TierStart, b: TierStart): boolean {
  if (a === b) return true;
  if (a.nodes.length !== b.nodes.length || a.free.length !== b.free.length) return false;
  for (let i = 0; i < a.nodes.length; i++) if (a.nodes[i] !== b.nodes[i]) return false;
  for (let i = 0; i < a.free.length; i++) if (a.free[i] !== b.free[i]) return false;
  return true;
}

export type { Floor };

/** The capacity a tier starts from: summed per cluster and on each cluster's nodes. */
export interface TierStart {
  readonly free: Float64Array;
  readonly nodes: readonly ClusterNodes[];
}

export interface TierOutcome extends TierStart {
  readonly assign: Map<Job, Assignment>;
  readonly worth: Worth;
  readonly solver: 'optimal' | 'steered' | 'on-nodes' | Floor;
  /**
   * Whether `nodes` hold every replica of the tier as it was placed: such an answer binds as it
   * is, and is not packed again.
   */
  readonly packed: boolean;
}

/** The tier's placements with what they keep (reserved in `start` already), on a copy of the capacity. */
function startState(tier: readonly Job[], ctx: TierContext, start: TierStart): TierState {
  const assign = new Map<Job, Assignment>();
  for (const job of tier) {
    const a = ctx.kept.get(job);
    if (a !== undefined) assign.set(job, new Map(a));
  }
  return { assign, free: Float64Array.from(start.free), nodes: [...start.nodes] };
}

function outcome(tier: readonly Job[], s: TierState, solver: TierOutcome['solver'], packed: boolean): TierOutcome {
  return { assign: s.assign, free: s.free, nodes: s.nodes, worth: worthOf(tier, s.assign), solver, packed };
}

/**
 * A floor. greedy: placements in name order, each taking all it can on its best-scored clusters
 * first, as other multi-cluster schedulers place; best-fit: on the clusters it fits most tightly
 * first, as a bin packer does; the node floors (nodeFloors.ts): replica by replica on the node
 * groups of the whole fleet, larger replicas first. The node floors' shapes to keep room for are
 * those of the tier and of `below`.
 */
export function placeFloor(tier: readonly Job[], ctx: TierContext, start: TierStart, floor: Floor, below: readonly Job[] = []): TierOutcome {
  return remembered(ctx, start, tier, floor, () => {
    const s = startState(tier, ctx, start);
    let packed: boolean;
    if (floor === 'greedy' || floor === 'best-fit') {
      fill(tier, s, ctx.fleet, { fair: false, order: floor === 'greedy' ? 'preference' : 'best-fit', pack: floor === 'best-fit', onNodes: true, onFailure: 'release' });
      packed = false;
    } else packed = placeOnNodes(tier, [...tier, ...below], s, ctx.fleet, floor);
    return outcome(tier, s, floor, packed);
  });
}

/** An outcome of one's own: what is done with it next changes its assignments in place. */
function copyOutcome(o: TierOutcome): TierOutcome {
  return { ...o, assign: new Map([...o.assign].map(([job, a]) => [job, new Map(a)])), free: Float64Array.from(o.free), nodes: [...o.nodes] };
}

/**
 * Every placement raised together, steered by the relaxation's quotas unless `below` is
 * undefined. The relaxation sees clusters only as groups and nodes only one class at a time:
 * its quotas can cost fairness that the fill alone keeps, so both answers are weighed.
 */
function placeFairly(tier: readonly Job[], below: readonly Job[] | undefined, ctx: TierContext, start: TierStart): TierOutcome {
  const s = startState(tier, ctx, start);
  const order = tier.filter((j) => placedOf(s.assign.get(j)) < j.p.replicas).sort(scarceFirst);
  const bands = bandsOf(order, ctx.fleet);
  const remaining = (j: Job) => j.p.replicas - placedOf(s.assign.get(j));
  const steering = below === undefined ? undefined : steer(order, below, remaining, s.free, ctx);
  const quotas = steering === undefined ? undefined : quotaLimits(steering);
  for (const band of bands) {
    const how = { fair: true, order: band.order, onNodes: band.onNodes } as const;
    // A gang (or minClusters) that does not fit its quotas holds what it had and waits for the
    // second pass: the relaxation judged that capacity better used by others.
    if (quotas !== undefined) fill(band, s, ctx.fleet, { ...how, ...quotas, onFailure: 'hold' });
    // What the quotas did not cover goes wherever it fits.
    fill(band, s, ctx.fleet, { ...how, onFailure: 'release' });
  }
  repair(tier, s, ctx.fleet, ctx.kept, start.nodes);
  return outcome(tier, s, 'steered', false);
}

/**
 * Placements that ask for devices are filled before those that do not: in a cluster the
 * relaxation sees only as part of its group, CPU-only replicas could otherwise take the CPU
 * that the devices there need, leaving them idle. Device replicas go where they fit most
 * tightly first, so that small ones fill the gaps and the larger ones find whole nodes.
 */
interface Band extends Array<Job> {
  readonly order: 'preference' | 'best-fit';
  readonly onNodes: boolean;
}

function bandsOf(order: readonly Job[], fleet: FleetIndex): Band[] {
  const devices: Band = Object.assign([] as Job[], { order: 'best-fit' as const, onNodes: true });
  // CPU-only replicas are small next to their nodes: the sums place them well enough, and the
  // packing after the solve settles the rest, at a fraction of the cost.
  const rest: Band = Object.assign([] as Job[], { order: 'preference' as const, onNodes: false });
  for (const job of order) (usesDevices(job, fleet) ? devices : rest).push(job);
  return [devices, rest].filter((b) => b.length > 0);
}

function usesDevices(job: Job, fleet: FleetIndex): boolean {
  for (let d = PODS + 1; d < fleet.dims.length; d++) if ((job.p.demand[d] as number) > 0) return true;
  return false;
}

/** Each class's quota in each contended group, drawn down as replicas are placed. */
function quotaLimits({ steered, classOf }: { steered: Steering; classOf: Map<Job, number> }): Pick<FillOpts, 'limitFor' | 'placed'> {
  const { groupOf } = steered.grouping;
  const { quota, contended } = steered.quotas;
  const left = new Map(quota);
  const limitFor: FillOpts['limitFor'] = (job) => {
    // A skew counts every eligible domain: quotas must not hide one.
    if (Number.isFinite(job.p.spread.maxSkew)) return undefined;
    const k = classOf.get(job) as number;
    const tentative = new Map<number, number>();
    return (row, cap) => {
      const g = groupOf[row] as number;
      if (!contended.has(g)) return cap;
      const q = tentative.get(g) ?? left.get(`${k}:${g}`) ?? 0;
      const n = Math.min(cap, q);
      tentative.set(g, q - n);
      return n;
    };
  };
  const placed = (job: Job, row: number, n: number) => {
    const key = `${classOf.get(job) as number}:${groupOf[row] as number}`;
    left.set(key, (left.get(key) ?? 0) - n);
  };
  return { limitFor, placed };
}

/** Scarce resources first: rules of their own (all or nothing), the worthiest replicas, the fewest eligible clusters. */
function scarceFirst(a: Job, b: Job): number {
  return Number(hasOwnLimits(b)) - Number(hasOwnLimits(a)) || b.value - a.value || a.eligibleCount - b.eligibleCount || compareNames(a.p.key, b.p.key);
}

const maskKeys = new WeakMap<Uint8Array, string>();

/** The same set of eligible clusters gives the same key, whatever placement it came from. */
function maskKey(mask: Uint8Array): string {
  let key = maskKeys.get(mask);
  if (key === undefined) {
    const rows: number[] = [];
    for (let i = 0; i < mask.length; i++) if (mask[i] === 1) rows.push(i);
    key = rows.join(',');
    maskKeys.set(mask, key);
  }
  return key;
}

// The relaxation's objective, lexicographic in effect: the tier's least worthy replica is worth
// TIER; the fairness term adds at most a thousandth of a replica's worth; a point of preference
// PREFER per replica; and every replica of the tiers below together at most BELOW each, so that
// this tier leaves them the capacity only they can use without giving up any of its own.
const TIER = 1000;
const PREFER = 1e-3;
const BELOW = 0.5;

/** Quotas for the tier from the relaxation; the placements of lower tiers take part at a lower worth. */
function steer(jobs: readonly Job[], below: readonly Job[], remaining: (job: Job) => number, free: Float64Array, ctx: TierContext): { steered: Steering; classOf: Map<Job, number> } | undefined {
  if (jobs.length < 2 && below.length === 0) return undefined;
  const { fleet, opts, clock, deadline, counters } = ctx;
  const own = steeringClasses(jobs, remaining, free, fleet, (j) => j.p.eligibilityKey);
  let least = Number.POSITIVE_INFINITY;
  for (const c of own) if (c.value > 0) least = Math.min(least, c.value);
  for (const c of own) {
    c.placeValue = Number.isFinite(least) ? (TIER * c.value) / least : TIER;
    c.prefValue = PREFER;
    c.fair = true;
  }
  // Lower tiers only need to be roughly right: one class per priority and set of eligible
  // clusters, with the mean demand of its replicas, keeps the relaxation small.
  const lower = steeringClasses(
    below,
    (j) => j.p.replicas - placedOf(ctx.kept.get(j)),
    free,
    fleet,
    (j) => `${j.weight}|${maskKey(j.eligible)}`,
    true,
  );
  const top = (f: (c: SteeringClass) => number) => Math.max(1e-300, ...lower.map(f));
  const mostValue = top((c) => c.value);
  const mostWeight = top((c) => c.jobs[0]!.weight);
  for (const c of lower) c.placeValue = (BELOW * (c.value / mostValue) * c.jobs[0]!.weight) / mostWeight;
  const classes = [...own, ...lower];
  const t0 = clock();
  const limits = (maxVariables: number, pooled: boolean) => ({
    maxVariables,
    pooled,
    ...(Number.isFinite(deadline) ? { timeoutMs: Math.max(1, deadline - clock()) } : {}),
  });
  // Cluster by cluster where the model stays small; look-alike clusters pooled where it would not.
  const steered = solveSteering(classes, free, fleet, limits(opts.steerMaxVariables ?? 20_000, false)) ?? solveSteering(classes, free, fleet, limits(opts.steerMaxVariables ?? 200_000, true));
  counters.lpMs += clock() - t0;
  if (steered === undefined) return undefined;
  counters.lpSolves++;
  counters.libraries[steered.library]++;
  const classOf = new Map<Job, number>();
  own.forEach((c, k) => {
    for (const job of c.jobs) classOf.set(job, k);
  });
  return { steered, classOf };
}

/**
 * Raised together on the nodes, band by band, each replica where it fragments the free devices
 * least, then where it fits most tightly: what the node floors place, without their larger-first
 * unfairness.
 */
function raisedOnNodes(tier: readonly Job[], below: readonly Job[], ctx: TierContext, start: TierStart): TierOutcome {
  return remembered(ctx, start, tier, 'on-nodes', () => {
    const s = startState(tier, ctx, start);
    const packed = fillOnNodes(tier, [...tier, ...below], s, ctx.fleet, 'least-fragmentation');
    return outcome(tier, s, 'on-nodes', packed);
  });
}

function everyReplicaPlaced(tier: readonly Job[], o: TierOutcome): boolean {
  return tier.every((j) => placedOf(o.assign.get(j)) >= j.p.replicas);
}

/**
 * Whether an answer places of each placement all that any answer could: every replica, or as
 * many as the room at the start holds of it alone under its own rules (a bound: what others take
 * and its nodes as they fill only lower it). Then its worth and fairness are the most the tier
 * can have. A placement that keeps replicas counts only with every replica placed.
 */
export function placesAllItCan(tier: readonly Job[], o: TierOutcome, ctx: TierContext, start: TierStart, alone: Map<Job, number>): boolean {
  for (const job of tier) {
    const placed = placedOf(o.assign.get(job));
    if (placed >= job.p.replicas) continue;
    if (ctx.kept.has(job)) return false;
    let cap = alone.get(job);
    if (cap === undefined) alone.set(job, (cap = soloCap(job, start.free, ctx.fleet)));
    if (placed < cap) return false;
  }
  return true;
}

export interface TierResult {
  readonly outcome: TierOutcome;
  /** whether the exact integer program was solved for this tier */
  readonly exact: boolean;
}

/**
 * Places what the tier's placements still need on top of what they keep: the worthiest of the
 * floors, the steered answer and (small tiers) the exact one, completed so that no replica the
 * room left can hold waits.
 */
export function solveTier(tier: readonly Job[], below: readonly Job[], ctx: TierContext, start: TierStart): TierResult {
  const chosen = chooseTier(tier, below, ctx, start);
  return { ...chosen, outcome: completed(tier, chosen.outcome, ctx) };
}

/**
 * An answer with every placement still short of its replicas given what the room left holds,
 * the worthiest replicas first, each in its own shape: what a heuristic left (a bin packer's
 * Pack that broke a spread rule, quotas) goes to this tier before the tiers below see the room.
 */
function completed(tier: readonly Job[], o: TierOutcome, ctx: TierContext): TierOutcome {
  const short = tier.filter((j) => placedOf(o.assign.get(j)) < j.p.replicas);
  if (short.length === 0) return o;
  short.sort((a, b) => b.value - a.value || compareNames(a.p.key, b.p.key));
  const s: TierState = { assign: new Map(o.assign), free: Float64Array.from(o.free), nodes: [...o.nodes] };
  fill(short, s, ctx.fleet, { fair: false, order: 'preference', onNodes: true, onFailure: 'hold' });
  return { ...s, worth: worthOf(tier, s.assign), solver: o.solver, packed: o.packed };
}

function chooseTier(tier: readonly Job[], below: readonly Job[], ctx: TierContext, start: TierStart): TierResult {
  const { opts, clock, deadline } = ctx;
  if (opts.solver !== undefined && opts.solver !== 'auto') return { outcome: placeFloor(tier, ctx, start, opts.solver, below), exact: false };
  if (ctx.way === 'nodes') return { outcome: raisedOnNodes(tier, below, ctx, start), exact: false };
  // With tiers below still to place, their worth comes before this tier's preferences.
  const scored = below.length === 0;
  const alone = new Map<Job, number>();
  let best: TierOutcome | undefined;
  // Unscored, an answer that places all it can is worth the most the tier can be worth: nothing
  // placed after it can be worth more (only the steered answer stands at equal worth).
  let most = false;
  for (const floor of FLOORS) {
    const o = placeFloor(tier, ctx, start, floor, below);
    if (best !== undefined && compareWorth(o.worth, best.worth, scored) <= 0) continue;
    best = o;
    most = !scored && placesAllItCan(tier, best, ctx, start, alone);
    if (most) break;
  }
  if (best === undefined) throw new Error('internal: no floor');
  // Past the deadline the floor is the answer; and with every replica placed and no tier below
  // to leave room for, there is nothing left to gain.
  if (clock() >= deadline || (below.length === 0 && everyReplicaPlaced(tier, best))) return { outcome: best, exact: false };
  if (!most) {
    const fair = placeFairly(tier, undefined, ctx, start);
    if (compareWorth(fair.worth, best.worth, scored) > 0) best = fair;
    const onNodes = raisedOnNodes(tier, below, ctx, start);
    if (compareWorth(onNodes.worth, best.worth, scored) > 0) best = onNodes;
  }
  // Steering for the tiers below must never cost this tier: it stands only at equal or more worth
  // here, and at equal worth it stands, as it also left room for the tiers below.
  const steered = placeFairly(tier, below, ctx, start);
  if (compareWorth(steered.worth, best.worth, scored) >= 0) best = steered;
  const tierKeeps = tier.some((job) => ctx.kept.has(job));
  const exact = tierKeeps || clock() >= deadline ? undefined : solveExactTier(tier, start.free, ctx);
  if (exact === undefined) return { outcome: best, exact: false };
  const packed = settle(start, exact.assign, ctx.kept, ctx.fleet);
  const exactOutcome: TierOutcome = { ...packed, worth: worthOf(tier, packed.assign), solver: 'optimal', packed: false };
  // The exact answer replaces a heuristic one only when it is worth strictly more: the
  // heuristics keep the fairness and the Spread/Pack shape that its objective does not see.
  best = exactOutcome.worth.value > best.worth.value * (1 + 1e-9) + 1e-15 ? exactOutcome : { ...best, solver: 'optimal' };
  return { outcome: best, exact: true };
}

/**
 * An answer of summed room made true on the nodes: packed, larger replicas first, trimmed to
 * what packs; a placement with rules of its own (gang, spread) that would lose a replica is taken
 * back whole. What the tier's answers are compared on.
 */
function settle(start: TierStart, assignIn: ReadonlyMap<Job, Assignment>, kept: ReadonlyMap<Job, Assignment>, fleet: FleetIndex): TierStart & { assign: Map<Job, Assignment> } {
  // What is kept is packed in `start` already.
  const items = [...assignIn].flatMap(([job, a]) => [...a].map(([row, n]) => ({ job, row, n: n - (kept.get(job)?.get(row) ?? 0) })));
  items.sort((a, b) => b.job.value - a.job.value || compareNames(a.job.p.key, b.job.p.key) || a.row - b.row);
  const dropped = new Set<Job>();
  for (;;) {
    const nodes = [...start.nodes];
    const free = Float64Array.from(start.free);
    const assign = new Map<Job, Assignment>();
    for (const [job, a] of kept) if (assignIn.has(job)) assign.set(job, new Map(a));
    let broken = false;
    for (const { job, row, n } of items) {
      if (dropped.has(job) || n <= 0) continue;
      const r = packInto(nodes[row] as ClusterNodes, job.p.node, n);
      if (r.placed < n && hasOwnLimits(job)) {
        // taken back whole; the others pack again without it
        dropped.add(job);
        broken = true;
        continue;
      }
      nodes[row] = r.nodes;
      if (r.placed === 0) continue;
      take(free, row * fleet.dims.length, job.p.demand, r.placed);
      const a = assign.get(job) ?? assign.set(job, new Map()).get(job)!;
      a.set(row, (a.get(row) ?? 0) + r.placed);
    }
    if (!broken) return { assign, free, nodes };
  }
}
