// The answer made true on nodes. The solver divides replicas by clusters' summed room, each
// placement capped by what the nodes hold of it alone; several placements on one cluster must
// also pack together. Every cluster's replicas are packed onto its nodes — replicas that stay
// first, then by priority, larger replicas before smaller — and what does not pack is taken
// back and placed again against the nodes' exact room. No replica is sent where no node holds it.

import { compareNames } from '../model.js';
import type { Job } from '../cycle.js';
import type { FleetIndex } from '../prepare.js';
import { type ClusterNodes, fitOnNodes, packInto, packIntoGroup, packOneNode, perNode, usesShared } from '../nodes.js';
import { type Assignment, placeJob, placedOf, take } from './placeOne.js';

interface Item {
  readonly job: Job;
  readonly row: number;
  readonly n: number;
  readonly kept: boolean;
}

const largest = new WeakMap<FleetIndex, Float64Array>();

/** The most any cluster has of each dimension. */
function largestOf(fleet: FleetIndex): Float64Array {
  let most = largest.get(fleet);
  if (most === undefined) {
    const n = fleet.dims.length;
    most = new Float64Array(n);
    for (let r = 0; r < fleet.clusters.length; r++) for (let d = 0; d < n; d++) most[d] = Math.max(most[d] as number, fleet.allocatable[r * n + d] as number);
    largest.set(fleet, most);
  }
  return most;
}

/** Larger replicas first: the dominant share one replica takes of the largest cluster. */
function sizeOf(job: Job, fleet: FleetIndex): number {
  const most = largestOf(fleet);
  let s = 0;
  for (let d = 0; d < most.length; d++) {
    const need = job.p.demand[d] as number;
    if (need > 0 && (most[d] as number) > 0) s = Math.max(s, need / (most[d] as number));
  }
  return s;
}

/** The order replicas are packed in: kept before new, higher priority, larger, then by name. */
export function packingOrder(items: Item[], fleet: FleetIndex): Item[] {
  const size = new Map<Job, number>();
  const sz = (j: Job) => size.get(j) ?? size.set(j, sizeOf(j, fleet)).get(j)!;
  return items.sort((a, b) => Number(b.kept) - Number(a.kept) || b.job.p.priority - a.job.p.priority || sz(b.job) - sz(a.job) || compareNames(a.job.p.key, b.job.p.key) || a.row - b.row);
}

/** Packs every item onto the nodes; returns the nodes after and what did not pack. */
export function packAll(fleet: FleetIndex, items: readonly Item[], from: readonly ClusterNodes[] = fleet.nodes): { nodes: ClusterNodes[]; short: Map<Job, Map<number, number>> } {
  const nodes = [...from];
  const short = new Map<Job, Map<number, number>>();
  const note = (it: Item, placed: number) => {
    if (placed >= it.n) return;
    const m = short.get(it.job) ?? new Map<number, number>();
    m.set(it.row, (m.get(it.row) ?? 0) + it.n - placed);
    short.set(it.job, m);
  };
  // A cluster's packing depends only on its own items, in their order: one-node clusters are
  // packed in one go.
  const oneNode = new Map<number, Item[]>();
  for (const it of items) {
    if (fleet.wholeNode[it.row] === 1) {
      (oneNode.get(it.row) ?? oneNode.set(it.row, []).get(it.row)!).push(it);
      continue;
    }
    const r = packInto(nodes[it.row] as ClusterNodes, it.job.p.node, it.n);
    nodes[it.row] = r.nodes;
    note(it, r.placed);
  }
  for (const [row, list] of oneNode) {
    const r = packOneNode(
      nodes[row] as ClusterNodes,
      list.map((it) => ({ d: it.job.p.node, n: it.n })),
    );
    nodes[row] = r.nodes;
    list.forEach((it, i) => {
      note(it, r.placed[i] as number);
    });
  }
  return { nodes, short };
}

function itemsOf(assign: ReadonlyMap<Job, Assignment>, kept: ReadonlyMap<Job, Assignment>, fleet: FleetIndex, keptPacked = false): Item[] {
  const items: Item[] = [];
  for (const [job, a] of assign) {
    for (const [row, n] of a) {
      if (n <= 0 || fleet.clusters[row]?.hold === true) continue;
      const k = Math.min(n, kept.get(job)?.get(row) ?? 0);
      if (k > 0 && !keptPacked) items.push({ job, row, n: k, kept: true });
      if (n > k) items.push({ job, row, n: n - k, kept: false });
    }
  }
  return packingOrder(items, fleet);
}

/** Whether a placement with `a` still keeps its own all-or-nothing rules. */
function whole(job: Job, a: Assignment): boolean {
  const placed = placedOf(a);
  if (placed === 0) return true;
  if (job.p.gang && placed < job.p.replicas) return false;
  return a.size >= Math.min(job.p.spread.minClusters, job.p.replicas);
}

export interface Packed {
  readonly assign: Map<Job, Assignment>;
  readonly free: Float64Array;
  readonly nodes: ClusterNodes[];
  /** the order replicas were packed in: placement key, cluster row, replicas (a checker's hint) */
  readonly order: readonly (readonly [string, number, number])[];
}

/**
 * Makes an assignment pack onto nodes: trims what does not fit (a gang or minClusters placement
 * that loses any replica is taken back whole), then places every placement still short of its
 * replicas again where nodes hold them now: highest priority first, larger replicas before
 * smaller, so that the room the trimmed ones held and the holes between replicas get used.
 */
/**
 * With `base`, kept replicas are already packed there (and taken from its free room): they stay
 * on their nodes and only new replicas are packed, onto it.
 */
export function fitToNodes(
  jobs: readonly Job[],
  assignIn: ReadonlyMap<Job, Assignment>,
  kept: ReadonlyMap<Job, Assignment>,
  fleet: FleetIndex,
  base?: { readonly nodes: readonly ClusterNodes[]; readonly free: Float64Array },
): Packed {
  const assign = new Map<Job, Assignment>([...assignIn].map(([j, a]) => [j, new Map(a)]));
  const retry = new Set<Job>();
  const keptPacked = base !== undefined;
  let items = itemsOf(assign, kept, fleet, keptPacked);
  let packed = packAll(fleet, items, base?.nodes);
  for (;;) {
    for (const [job, rows] of packed.short) {
      const a = assign.get(job)!;
      for (const [row, n] of rows) {
        const left = (a.get(row) ?? 0) - n;
        if (left > 0) a.set(row, left);
        else a.delete(row);
      }
      retry.add(job);
    }
    const broken = [...retry].filter((j) => assign.has(j) && !whole(j, assign.get(j)!));
    if (packed.short.size === 0 && broken.length === 0) break;
    for (const j of broken) {
      // Kept replicas already packed stay; only what was new is taken back, once.
      const k = keptPacked ? kept.get(j) : undefined;
      if (k !== undefined && k.size > 0) assign.set(j, new Map(k));
      else assign.delete(j);
      retry.delete(j);
    }
    // Trimmed or taken back: pack what stays again, so that the room they held is free.
    items = itemsOf(assign, kept, fleet, keptPacked);
    packed = packAll(fleet, items, base?.nodes);
  }
  const packOrder: [string, number, number][] = items.map((it) => [it.job.p.key, it.row, it.n]);
  const dims = fleet.dims.length;
  const free = Float64Array.from(base?.free ?? fleet.free);
  for (const [job, a] of assign) {
    for (const [row, n] of a) {
      if (fleet.clusters[row]?.hold === true) continue;
      const taken = keptPacked ? n - Math.min(n, kept.get(job)?.get(row) ?? 0) : n;
      if (taken > 0) take(free, row * dims, job.p.demand, taken);
    }
  }
  const nodes = packed.nodes;
  placeShort(jobs, assign, free, nodes, fleet, packOrder);
  for (const [job, a] of [...assign]) if (a.size === 0) assign.delete(job);
  return { assign, free, nodes, order: packOrder };
}

/**
 * Every placement still short of its replicas placed again where the nodes hold them now,
 * highest priority first, the worthiest replicas first; packed onto `nodes` as they go.
 */
export function placeShort(jobs: readonly Job[], assign: Map<Job, Assignment>, free: Float64Array, nodes: ClusterNodes[], fleet: FleetIndex, packOrder: (readonly [string, number, number])[]): void {
  const order = jobs.filter((j) => placedOf(assign.get(j)) < j.p.replicas);
  order.sort((a, b) => b.p.priority - a.p.priority || b.value - a.value || compareNames(a.p.key, b.p.key));
  for (const job of order) {
    const had = assign.get(job);
    const r = placeJob(job, had, free, fleet, { limit: (row, cap) => Math.min(cap, fitOnNodes(nodes[row] as ClusterNodes, job.p.node, cap)) });
    if (!r.ok) continue;
    for (const [row, n] of r.assign) {
      const add = n - (had?.get(row) ?? 0);
      if (add <= 0) continue;
      const p = packInto(nodes[row] as ClusterNodes, job.p.node, add);
      nodes[row] = p.nodes;
      packOrder.push([job.p.key, row, add]);
      // fitOnNodes said they fit: they pack
      if (p.placed !== add) throw new Error(`internal: ${job.p.key} packed ${p.placed} of ${add} on row ${row}`);
    }
    assign.set(job, r.assign);
  }
}

/**
 * Some clusters packed again, each alone, as fitToNodes packs them (or, where that leaves a
 * replica out, tightest first), with what `assign` has there: from `base` (kept replicas packed
 * there already) or from the snapshot. Per cluster, its nodes, or undefined where anything on it
 * no longer packs.
 */
export function packRowsAgain(
  fleet: FleetIndex,
  assign: ReadonlyMap<Job, Assignment>,
  kept: ReadonlyMap<Job, Assignment>,
  rows: ReadonlySet<number>,
  base?: { readonly nodes: readonly ClusterNodes[] },
): Map<number, ClusterNodes | undefined> {
  const on = new Map<Job, Assignment>();
  for (const [job, a] of assign) {
    let here: Assignment | undefined;
    for (const [row, n] of a) if (rows.has(row)) (here ??= new Map()).set(row, n);
    if (here !== undefined) on.set(job, here);
  }
  const byRow = new Map<number, Item[]>();
  for (const it of itemsOf(on, kept, fleet, base !== undefined)) (byRow.get(it.row) ?? byRow.set(it.row, []).get(it.row)!).push(it);
  const from = base?.nodes ?? fleet.nodes;
  const out = new Map<number, ClusterNodes | undefined>();
  for (const row of rows) {
    const items = byRow.get(row) ?? [];
    const packed = packAll(fleet, items, from);
    out.set(row, packed.short.size === 0 ? packed.nodes[row] : packTightly(from[row] as ClusterNodes, items));
  }
  return out;
}

/**
 * Packs items onto one cluster's nodes in their order (kept first, larger first), each replica
 * on the group whose nodes hold the fewest more of it: where packing on the emptiest nodes first
 * leaves a large replica without a whole node, the tightest fit often does not.
 */
function packTightly(from: ClusterNodes, items: readonly Item[]): ClusterNodes | undefined {
  let c = from;
  for (const it of items) {
    let left = it.n;
    while (left > 0) {
      if (usesShared(c, it.job.p.node)) {
        const r = packInto(c, it.job.p.node, left);
        if (r.placed < left) return undefined;
        c = r.nodes;
        break;
      }
      let best = -1;
      let fewest = Number.POSITIVE_INFINITY;
      c.groups.forEach((g, i) => {
        const k = perNode(g, it.job.p.node, undefined);
        if (k >= 1 && k < fewest) [best, fewest] = [i, k];
      });
      if (best < 0) return undefined;
      const r = packIntoGroup(c, it.job.p.node, best, left);
      c = r.nodes;
      left -= r.placed;
    }
  }
  return c;
}

/**
 * The nodes of some clusters packed again from the snapshot with what is assigned there now: how
 * room is given back when a placement leaves them.
 */
export function repackRows(fleet: FleetIndex, nodes: readonly ClusterNodes[], rows: Iterable<number>, assigned: Iterable<{ readonly job: Job; readonly assign: Assignment }>): ClusterNodes[] {
  const wanted = new Set(rows);
  const out = [...nodes];
  const items: Item[] = [];
  for (const { job, assign } of assigned) {
    for (const [row, n] of assign) if (wanted.has(row) && n > 0 && fleet.clusters[row]?.hold !== true) items.push({ job, row, n, kept: false });
  }
  const packed = packAll(fleet, packingOrder(items, fleet)).nodes;
  for (const row of wanted) out[row] = packed[row] as ClusterNodes;
  return out;
}
