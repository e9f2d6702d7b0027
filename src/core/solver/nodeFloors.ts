// The node-level floors: one scheduler that sees every node group of every eligible cluster and
// places a tier's replicas one placement at a time, larger dominant share first, each replica on
// a node of the group that suits it best. node-best-fit: the group it leaves tightest (the fewest
// more replicas of its shape a node there still holds), as a bin packer on nodes does.
// least-fragmentation: the group whose devices it fragments least, in the manner of
// Fragmentation Gradient Descent (Weng et al., USENIX ATC '23): a node's fragmentation for a mix
// of replica shapes is, per shape weighted by its share of the replicas asked, the free devices
// on the node that a replica of that shape could not use there; the replica goes where that
// measure grows least (or falls most).
//
// Both place on the nodes as they go: what they answer binds as it is, with no packing after.

import type { Job } from '../cycle.js';
import type { FleetIndex } from '../prepare.js';
import { fitCount } from '../fit.js';
import { shareWeights } from '../objective.js';
import { compareNames } from '../model.js';
import { type ClusterNodes, type NodeDemand, type NodeShape, afterOne, devicesOnNode, fitOnNodes, packInto, packIntoGroup, perNode, tightestNode, usesShared } from '../nodes.js';
import { hasOwnLimits } from './aloneCap.js';
import { type TierState, fill } from './fillTier.js';
import { placedOf, take } from './placeOne.js';

export type NodeFloor = 'node-best-fit' | 'least-fragmentation';

/** One shape of the mix a fragmentation is measured against, and its share of the replicas. */
interface MixShape {
  readonly d: NodeDemand;
  readonly share: number;
}

/** Where one replica would go in one cluster, and how well it suits: lower is better, key by key. */
interface Choice {
  /** the group's index in the cluster's groups, or -1 for a cluster-wide device pool (packed as a whole) */
  readonly group: number;
  /** replicas the group's nodes hold in all */
  readonly holds: number;
  readonly keys: readonly number[];
}

/**
 * A node-level floor for one tier: placements larger first, each placing all it can, replica by
 * replica on the group that suits it best among every eligible cluster. Placements with rules of
 * their own (a gang, minClusters, maxClusters, a skew) are placed whole by the best-fit fill,
 * which keeps those rules, on the same nodes.
 */
/** Returns whether `s.nodes` hold exactly what `s.assign` places (a gang taken back leaves its room on the nodes). */
export function placeOnNodes(tier: readonly Job[], mixOf: readonly Job[], s: TierState, fleet: FleetIndex, floor: NodeFloor): boolean {
  return fillOnNodes(tier, mixOf, s, fleet, floor, 1, false);
}

const LEVELS = 10;

/**
 * Every placement of the tier raised together on the nodes, a tenth of its replicas at a time
 * (progressive filling: no replica size takes the room the others needed for the same worth),
 * each replica where `how` says it suits best; with `levels` 1, the node floor itself.
 */
export function fillOnNodes(tier: readonly Job[], mixOf: readonly Job[], s: TierState, fleet: FleetIndex, how: NodeFloor, levels = LEVELS, sparing = true): boolean {
  let exact = true;
  const mix = how === 'least-fragmentation' ? mixFrom(mixOf, s) : [];
  const plain = how === 'least-fragmentation' ? fragmentationKeys(mix) : bestFitKeys;
  const suit = sparing ? spareScarceKinds(pressureOf(mixOf, s, fleet), plain) : plain;
  const choices = new Choices(s, fleet, suit);
  const order = tier.filter((j) => placedOf(s.assign.get(j)) < j.p.replicas).sort((a, b) => b.value - a.value || compareNames(a.p.key, b.p.key));
  for (const band of levels === 1 ? [order] : bandsOf(order, fleet)) {
    for (let level = 1; level <= levels; level++) {
      for (const job of band) {
        if (hasOwnLimits(job)) {
          // all or nothing cannot come a slice at a time
          if (level > 1) continue;
          const before = s.assign.get(job);
          fill([job], s, fleet, { fair: false, order: 'best-fit', pack: true, onNodes: true, onFailure: 'release' });
          const after = s.assign.get(job);
          if (before !== undefined && after === undefined) exact = false;
          for (const row of new Set([...(before?.keys() ?? []), ...(after?.keys() ?? [])])) choices.touched(row);
          continue;
        }
        const want = job.p.replicas;
        placeReplicas(job, level === levels ? want : Math.ceil((want * level) / levels), s, fleet, choices);
      }
    }
  }
  return exact;
}

function placeReplicas(job: Job, target: number, s: TierState, fleet: FleetIndex, choices: Choices): void {
  const dims = fleet.dims.length;
  const d = job.p.node;
  const a = s.assign.get(job) ?? new Map<number, number>();
  let need = target - placedOf(a);
  while (need > 0) {
    const best = choices.best(job);
    if (best === undefined) break;
    const { row, choice } = best;
    const c = s.nodes[row] as ClusterNodes;
    const n = Math.min(need, best.sums, choice.holds);
    const r = choice.group < 0 ? packInto(c, d, n) : packIntoGroup(c, d, choice.group, n);
    if (r.placed <= 0) throw new Error(`internal: ${job.p.key} placed nothing on row ${row}`);
    s.nodes[row] = r.nodes;
    take(s.free, row * dims, job.p.demand, r.placed);
    choices.touched(row);
    a.set(row, (a.get(row) ?? 0) + r.placed);
    need -= r.placed;
  }
  if (a.size > 0) s.assign.set(job, a);
}

interface Candidate {
  readonly row: number;
  /** the row's place in the placement's order: on equal suitability, preference decides */
  readonly pos: number;
  readonly choice: Choice;
  /** replicas the row's summed room holds */
  readonly sums: number;
}

/** Candidates of one order of clusters and one shape, best first, each row at most once. */
class CandidateHeap {
  private readonly items: Candidate[] = [];
  /** per row, its place in `items`, or -1 */
  private readonly at: Int32Array;
  /** how much of the log of rows placed on this heap has caught up with */
  read = 0;

  constructor(rows: number) {
    this.at = new Int32Array(rows).fill(-1);
  }

  top(): Candidate | undefined {
    return this.items[0];
  }

  /** the row's place in the order the heap was built from, while the row is in it */
  pos(row: number): number | undefined {
    const i = this.at[row] as number;
    return i < 0 ? undefined : (this.items[i] as Candidate).pos;
  }

  /** Puts, replaces or (with undefined) removes the row's candidate. */
  set(row: number, c: Candidate | undefined): void {
    const i = this.at[row] as number;
    if (i < 0) {
      if (c === undefined) return;
      this.items.push(c);
      this.at[row] = this.items.length - 1;
      this.up(this.items.length - 1);
      return;
    }
    if (c === undefined) {
      const last = this.items.pop() as Candidate;
      this.at[row] = -1;
      if (i === this.items.length) return;
      this.items[i] = last;
      this.at[last.row] = i;
      this.down(this.up(i));
      return;
    }
    this.items[i] = c;
    this.down(this.up(i));
  }

  private swap(i: number, j: number): void {
    const a = this.items[i] as Candidate;
    const b = this.items[j] as Candidate;
    this.items[i] = b;
    this.items[j] = a;
    this.at[b.row] = i;
    this.at[a.row] = j;
  }

  private up(i: number): number {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(this.items[i] as Candidate, this.items[parent] as Candidate)) break;
      this.swap(i, parent);
      i = parent;
    }
    return i;
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.items.length && before(this.items[l] as Candidate, this.items[m] as Candidate)) m = l;
      if (r < this.items.length && before(this.items[r] as Candidate, this.items[m] as Candidate)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}

/**
 * The best group of every eligible cluster for a placement, kept in a heap per set of eligible
 * clusters and shape (placements alike in both share it; on equal suitability the preference of
 * the first of them decides): a cluster is looked at again only after something was placed on
 * it, so that each replica costs a few heap steps, not a pass over the fleet. A cluster that had
 * no room is not looked at again: room only shrinks as a tier fills.
 */
class Choices {
  private readonly memo = new WeakMap<ClusterNodes, Map<NodeDemand, Choice | null>>();
  private readonly heaps = new Map<string, CandidateHeap>();
  /**
   * The rows placed on, in turn: a heap catches up when it is read. Cheaper than marking every
   * heap that holds a row as each replica is placed: hundreds of heaps may hold one row.
   */
  private readonly log: number[] = [];
  /** per row, its last place in the log */
  private readonly last: Int32Array;

  constructor(
    private readonly s: TierState,
    private readonly fleet: FleetIndex,
    private readonly suit: Suit,
  ) {
    this.last = new Int32Array(fleet.clusters.length).fill(-1);
  }

  touched(row: number): void {
    this.last[row] = this.log.length;
    this.log.push(row);
  }

  best(job: Job): Candidate | undefined {
    if (job.avoid !== undefined && job.avoid.size > 0) return this.scan(job);
    const heap = this.heapOf(job);
    for (let k = heap.read; k < this.log.length; k++) {
      const row = this.log[k] as number;
      // a row placed on again is looked at once, at its last place
      if (this.last[row] !== k) continue;
      const pos = heap.pos(row);
      if (pos !== undefined) heap.set(row, this.candidate(job, row, pos));
    }
    heap.read = this.log.length;
    return heap.top();
  }

  private heapOf(job: Job): CandidateHeap {
    const key = `${heapKey(job.order)}|${job.p.node.key ?? job.p.key}`;
    let heap = this.heaps.get(key);
    if (heap === undefined) {
      const h = new CandidateHeap(this.fleet.clusters.length);
      job.order.forEach((row, pos) => {
        const c = this.candidate(job, row, pos);
        if (c !== undefined) h.set(row, c);
      });
      h.read = this.log.length;
      this.heaps.set(key, h);
      heap = h;
    }
    return heap;
  }

  private scan(job: Job): Candidate | undefined {
    let best: Candidate | undefined;
    job.order.forEach((row, pos) => {
      if (job.avoid?.has(row)) return;
      const c = this.candidate(job, row, pos);
      if (c !== undefined && (best === undefined || before(c, best))) best = c;
    });
    return best;
  }

  private candidate(job: Job, row: number, pos: number): Candidate | undefined {
    const sums = fitCount(this.s.free, row * this.fleet.dims.length, job.p.demand);
    if (sums <= 0) return undefined;
    const choice = choiceIn(this.s.nodes[row] as ClusterNodes, job.p.node, this.suit, this.memo);
    if (choice === null) return undefined;
    return { row, pos, choice, sums };
  }
}

function before(a: Candidate, b: Candidate): boolean {
  return better(a.choice.keys, b.choice.keys) || (!better(b.choice.keys, a.choice.keys) && a.pos < b.pos);
}

function better(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d < 0;
  }
  return false;
}

/** Writes how well one replica suits a group into `out` from `at` on, key by key (lower is better). */
type Suit = (g: NodeShape, d: NodeDemand, perNodeCount: number, out: number[], at: number) => void;

/** The keys of the group being looked at: only the best so far is copied. */
const scratch: number[] = [];

/**
 * The best group of one cluster for a shape, remembered per cluster state (states never change:
 * packing makes new ones). A cluster whose devices for the shape come from a cluster-wide pool
 * is taken as a whole, as tightly as its tightest node.
 */
function choiceIn(c: ClusterNodes, d: NodeDemand, suit: Suit, memo: WeakMap<ClusterNodes, Map<NodeDemand, Choice | null>>): Choice | null {
  let known = memo.get(c);
  if (known === undefined) memo.set(c, (known = new Map()));
  const hit = known.get(d);
  if (hit !== undefined) return hit;
  let best: Choice | null = null;
  if (usesShared(c, d)) {
    const k = tightestNode(c, d);
    if (Number.isFinite(k)) best = { group: -1, holds: fitOnNodes(c, d), keys: [0, 0, k] };
  } else {
    c.groups.forEach((g, i) => {
      const k = perNode(g, d, undefined);
      if (k < 1) return;
      suit(g, d, k, scratch, 0);
      if (best === null || better(scratch, best.keys)) best = { group: i, holds: k * g.count, keys: scratch.slice() };
    });
  }
  known.set(d, best);
  return best;
}

/**
 * Best fit: the node that holds the fewest more replicas of the shape, then the one with the
 * fewest free devices (replicas that need none keep off accelerator nodes), then the least CPU.
 */
const bestFitKeys: Suit = (g, _d, k, out, at) => {
  out[at] = k;
  out[at + 1] = devicesOnNode(g);
  out[at + 2] = g.free[0] as number;
};

/**
 * How hard each device kind is pressed: the devices still asked that it could serve (a request
 * open to several kinds counted evenly over them) over its free devices. A replica that may use
 * several kinds takes the least pressed, and leaves the scarce model to those that need it.
 */
function pressureOf(jobs: readonly Job[], s: TierState, fleet: FleetIndex): Float64Array {
  const kinds = fleet.kinds.length;
  const supply = new Float64Array(kinds);
  for (const c of s.nodes) {
    for (const g of c.groups) for (let k = 0; k < kinds; k++) supply[k] = (supply[k] as number) + g.count * (g.devices[k] as number);
    for (let k = 0; k < kinds; k++) supply[k] = (supply[k] as number) + (c.shared[k] as number);
  }
  const asked = new Float64Array(kinds);
  for (const job of jobs) {
    const n = job.p.replicas - placedOf(s.assign.get(job));
    if (n <= 0) continue;
    for (const r of job.p.node.requests) {
      const open = [...r.kinds].filter((k) => (supply[k] as number) > 0);
      for (const k of open) asked[k] = (asked[k] as number) + (n * r.count) / open.length;
    }
  }
  return asked.map((a, k) => ((supply[k] as number) > 0 ? a / (supply[k] as number) : 0));
}

/** The pressure on the kinds a replica would take on a node first, then `then`. */
function spareScarceKinds(pressure: Float64Array, then: Suit): Suit {
  return (g, d, k, out, at) => {
    let most = 0;
    for (const r of d.requests) for (const kind of r.kinds) if ((g.devices[kind] as number) > 0) most = Math.max(most, pressure[kind] as number);
    out[at] = most;
    then(g, d, k, out, at + 1);
  };
}

/**
 * Placements by the resource they take the largest share of: the scarcest device class first
 * (its devices worth the most each), then the rest. Within a band replicas of every size are
 * worth the same per device, and are raised together; a band worth more per device goes first.
 */
function bandsOf(order: readonly Job[], fleet: FleetIndex): Job[][] {
  const w = shareWeights(fleet);
  const bands = new Map<number, Job[]>();
  for (const job of order) {
    let dominant = -1;
    let most = 0;
    for (let d = fleet.scalarDims; d < fleet.dims.length; d++) {
      const v = (job.p.demand[d] as number) * (w[d] as number);
      if (v > most) [most, dominant] = [v, d];
    }
    (bands.get(dominant) ?? bands.set(dominant, []).get(dominant)!).push(job);
  }
  return [...bands].sort((a, b) => (a[0] < 0 ? 1 : b[0] < 0 ? -1 : (w[b[0]] as number) - (w[a[0]] as number))).map(([, jobs]) => jobs);
}

/** The replica shapes still asked, each weighed by its share of the replicas. */
function mixFrom(jobs: readonly Job[], s: TierState): MixShape[] {
  const byKey = new Map<string, { d: NodeDemand; n: number }>();
  let total = 0;
  for (const job of jobs) {
    const n = job.p.replicas - placedOf(s.assign.get(job));
    if (n <= 0) continue;
    const key = job.p.node.key ?? job.p.key;
    const e = byKey.get(key) ?? byKey.set(key, { d: job.p.node, n: 0 }).get(key)!;
    e.n += n;
    total += n;
  }
  return [...byKey.values()].map((e) => ({ d: e.d, share: e.n / total }));
}

/** A node's fragmentation for the mix: per shape, the free devices a replica of it could not use. */
function fragmentation(g: NodeShape, mix: readonly MixShape[]): number {
  const free = devicesOnNode(g);
  if (free === 0) return 0;
  let f = 0;
  for (const m of mix) {
    // A shape that needs no devices uses none of them; one that fits uses them all as it fits.
    if (m.d.requests.length === 0 || perNode(g, m.d, undefined) < 1) f += m.share * free;
  }
  return f;
}

/** Least fragmentation growth, then best fit. */
function fragmentationKeys(mix: readonly MixShape[]): Suit {
  // Groups a packing leaves alone stay the same objects: what one replica does to them is
  // worked out once per shape.
  const growth = new WeakMap<NodeShape, Map<NodeDemand, number>>();
  return (g, d, k, out, at) => {
    let known = growth.get(g);
    if (known === undefined) growth.set(g, (known = new Map()));
    let grows = known.get(d);
    if (grows === undefined) {
      grows = fragmentation(afterOne(g, d), mix) - fragmentation(g, mix);
      known.set(d, grows);
    }
    out[at] = grows;
    bestFitKeys(g, d, k, out, at + 1);
  };
}

const orderKeys = new WeakMap<Int32Array, number>();
let orderCount = 0;
function heapKey(order: Int32Array): number {
  return orderKeys.get(order) ?? orderKeys.set(order, ++orderCount).get(order)!;
}
