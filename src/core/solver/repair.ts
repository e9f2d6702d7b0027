// The repair pass over a tier's answer: a replica that waits although an eligible cluster would
// hold it, were some replicas of the tier there elsewhere, gets that room, and those replicas
// move to clusters that hold them. Nothing is given up, so the tier is worth strictly more.
// Only replicas placed anew move (Steady), and only those of placements without rules of their
// own (gang, spread), which any cluster they are eligible for may take. Room is made on clusters
// of one node, where the summed room is the node's; a moved replica goes wherever a node holds it,
// and a cluster it leaves is packed again from where the tier started.

import type { Job } from '../cycle.js';
import type { FleetIndex } from '../prepare.js';
import { oneMoreFits } from '../fit.js';
import type { TierState } from './fillTier.js';
import { type Assignment, placedOf, take } from './placeOne.js';
import { hasOwnLimits } from './aloneCap.js';
import { type ClusterNodes, packInto } from '../nodes.js';
import { compareNames } from '../model.js';

/** Cluster rows looked at, at most, in one repair: it is bounded, whatever the tier's size. */
const LOOKS = 2_000_000;

export function repair(tier: readonly Job[], s: TierState, fleet: FleetIndex, kept: ReadonlyMap<Job, Assignment>, startNodes: readonly ClusterNodes[]): number {
  const dims = fleet.dims.length;
  let looks = 0;
  const exact = (job: Job) => !hasOwnLimits(job) && job.p.countedBySums;
  const waiting = tier.filter((j) => exact(j) && placedOf(s.assign.get(j)) < j.p.replicas);
  if (waiting.length === 0) return 0;
  const movable = (job: Job, row: number) => (s.assign.get(job)?.get(row) ?? 0) - (kept.get(job)?.get(row) ?? 0);
  // Every job of the tier with replicas placed anew on each row (they are packed again when
  // replicas leave it); those that may move, cheapest first.
  const onRow = new Map<number, Job[]>();
  const note = (job: Job, row: number) => {
    const list = onRow.get(row) ?? onRow.set(row, []).get(row)!;
    if (!list.includes(job)) list.push(job);
  };
  for (const job of tier) for (const row of s.assign.get(job)?.keys() ?? []) if (movable(job, row) > 0) note(job, row);
  const byValue = (a: Job, b: Job) => a.value - b.value || compareNames(a.p.key, b.p.key);
  for (const list of onRow.values()) list.sort(byValue);
  /** One more replica of `job` fits on `row`: in its summed room and on one of its nodes. */
  const fitsOne = (job: Job, row: number) => oneMoreFits(fleet, s.free, s.nodes, row, job.p);
  /** The row's nodes with the tier's new replicas packed again from the tier's start; undefined if some do not pack. */
  const repack = (row: number): ClusterNodes | undefined => {
    let nodes = startNodes[row] as ClusterNodes;
    const list = [...(onRow.get(row) ?? [])].sort((a, b) => -byValue(a, b));
    looks += list.length;
    for (const job of list) {
      const n = movable(job, row);
      if (n <= 0) continue;
      const r = packInto(nodes, job.p.node, n);
      if (r.placed < n) return undefined;
      nodes = r.nodes;
    }
    return nodes;
  };
  const shift = (job: Job, from: number, to: number) => {
    const a = s.assign.get(job) as Assignment;
    const n = (a.get(from) as number) - 1;
    if (n === 0) a.delete(from);
    else a.set(from, n);
    a.set(to, (a.get(to) ?? 0) + 1);
    take(s.free, from * dims, job.p.demand, -1);
    take(s.free, to * dims, job.p.demand, 1);
  };
  /** A row other than `not` that takes one more replica of `job` now. */
  const elsewhere = (job: Job, not: number): number | undefined => {
    for (const row of job.order) {
      looks++;
      if (row === not || job.avoid?.has(row)) continue;
      if (job.nodeCap(row) > (s.assign.get(job)?.get(row) ?? 0) && fitsOne(job, row)) return row;
    }
    return undefined;
  };
  /**
   * Moves replicas off `row` until one of `job` fits there; undoes them all if it never does.
   * Only on clusters of one node, where the room moves free is the node's: on larger ones, which
   * node a move frees is found only by packing again, at a cost no tier of the bench repaid.
   */
  const makeRoom = (job: Job, row: number): boolean => {
    const saved = new Map<number, ClusterNodes>([[row, s.nodes[row] as ClusterNodes]]);
    const moves: [Job, number][] = [];
    const undo = () => {
      for (const [other, to] of moves.reverse()) shift(other, to, row);
      for (const [r, nodes] of saved) s.nodes[r] = nodes;
    };
    for (const other of onRow.get(row) ?? []) {
      if (other === job || !exact(other)) continue;
      while (!fitsOne(job, row) && movable(other, row) > 0) {
        const to = elsewhere(other, row);
        if (to === undefined) break;
        if (!saved.has(to)) saved.set(to, s.nodes[to] as ClusterNodes);
        shift(other, row, to);
        moves.push([other, to]);
        s.nodes[to] = packInto(s.nodes[to] as ClusterNodes, other.p.node, 1).nodes;
      }
      if (fitsOne(job, row)) break;
    }
    if (!fitsOne(job, row)) {
      undo();
      return false;
    }
    for (const [other, to] of moves) note(other, to);
    // The node is packed again once repair is done: its summed room is the node's meanwhile.
    if (moves.length > 0) left.add(row);
    return true;
  };
  /** one-node clusters replicas left, to pack again at the end */
  const left = new Set<number>();
  let repaired = 0;
  waiting.sort((a, b) => b.value - a.value || a.eligibleCount - b.eligibleCount);
  for (const job of waiting) {
    for (const row of job.order) {
      if (looks > LOOKS) break;
      // Room is made on one-node clusters only (makeRoom); what fits elsewhere as it is, the
      // tier's last pass places.
      if (fleet.wholeNode[row] !== 1 || job.avoid?.has(row)) continue;
      while (placedOf(s.assign.get(job)) < job.p.replicas && job.nodeCap(row) > (s.assign.get(job)?.get(row) ?? 0)) {
        if (!fitsOne(job, row) && !makeRoom(job, row)) break;
        const a = s.assign.get(job) ?? new Map<number, number>();
        a.set(row, (a.get(row) ?? 0) + 1);
        s.assign.set(job, a);
        take(s.free, row * dims, job.p.demand, 1);
        s.nodes[row] = packInto(s.nodes[row] as ClusterNodes, job.p.node, 1).nodes;
        note(job, row);
        repaired++;
      }
    }
  }
  for (const row of left) s.nodes[row] = repack(row) ?? (s.nodes[row] as ClusterNodes);
  return repaired;
}
