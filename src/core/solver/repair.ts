// The repair pass over a tier's answer: a replica that waits although an eligible cluster would
// hold it, were some replicas of the tier there elsewhere, gets that room, and those replicas
// move to clusters that hold them. Nothing is given up, so the tier is worth strictly more.
// Only replicas placed anew move (Steady), and only those of placements without rules of their
// own (gang, spread), which any cluster they are eligible for may take. It works on clusters that
// are one node, where the summed room is the node's and a move is exact.

import type { Job } from '../cycle.js';
import type { FleetIndex } from '../prepare.js';
import { fitCount } from '../prepare.js';
import type { TierState } from './fill.js';
import { type Assignment, placedOf, take } from './place.js';
import { hasOwnLimits } from './solo.js';
import { type ClusterNodes, packInto } from '../nodes.js';
import { compareNames } from '../model.js';

/** Cluster rows looked at, at most, in one repair: it is bounded, whatever the tier's size. */
const LOOKS = 2_000_000;

export function repair(
  tier: readonly Job[],
  s: TierState,
  fleet: FleetIndex,
  kept: ReadonlyMap<Job, Assignment>,
  startNodes: readonly ClusterNodes[],
): number {
  const dims = fleet.dims.length;
  let looks = 0;
  const exact = (job: Job) => !hasOwnLimits(job) && job.p.countedBySums;
  const oneNode = (row: number) => fleet.wholeNode[row] === 1;
  const touched = new Set<number>();
  const waiting = tier.filter((j) => exact(j) && placedOf(s.assign.get(j)) < j.p.replicas);
  if (waiting.length === 0) return 0;
  // Who has replicas on each row that may move: cheapest first.
  const onRow = new Map<number, Job[]>();
  for (const job of tier) {
    if (!exact(job)) continue;
    for (const row of s.assign.get(job)?.keys() ?? []) (onRow.get(row) ?? onRow.set(row, []).get(row)!).push(job);
  }
  for (const list of onRow.values()) list.sort((a, b) => a.value - b.value);
  const movable = (job: Job, row: number) => (s.assign.get(job)?.get(row) ?? 0) - (kept.get(job)?.get(row) ?? 0);
  const moveOne = (job: Job, from: number, to: number) => {
    const a = s.assign.get(job) as Assignment;
    const n = (a.get(from) as number) - 1;
    if (n === 0) a.delete(from);
    else a.set(from, n);
    a.set(to, (a.get(to) ?? 0) + 1);
    take(s.free, from * dims, job.p.demand, -1);
    take(s.free, to * dims, job.p.demand, 1);
    touched.add(from).add(to);
  };
  /** A row other than `not` that takes one more replica of `job`. */
  const elsewhere = (job: Job, not: number): number | undefined => {
    for (const row of job.order) {
      looks++;
      if (row === not || !oneNode(row) || job.avoid?.has(row)) continue;
      if (fitCount(s.free, row * dims, job.p.demand) >= 1 && job.nodeCap(row) > (s.assign.get(job)?.get(row) ?? 0)) return row;
    }
    return undefined;
  };
  let repaired = 0;
  waiting.sort((a, b) => b.value - a.value || a.eligibleCount - b.eligibleCount);
  for (const job of waiting) {
    for (const row of job.order) {
      if (looks > LOOKS) break;
      if (!oneNode(row) || job.avoid?.has(row)) continue;
      while (placedOf(s.assign.get(job)) < job.p.replicas && job.nodeCap(row) > (s.assign.get(job)?.get(row) ?? 0)) {
        const moves: [Job, number][] = [];
        for (const other of onRow.get(row) ?? []) {
          if (other === job) continue;
          while (fitCount(s.free, row * dims, job.p.demand) < 1 && movable(other, row) > 0) {
            const to = elsewhere(other, row);
            if (to === undefined) break;
            moveOne(other, row, to);
            moves.push([other, to]);
          }
          if (fitCount(s.free, row * dims, job.p.demand) >= 1) break;
        }
        if (fitCount(s.free, row * dims, job.p.demand) < 1) {
          // Not enough would move: put back what did.
          for (const [other, to] of moves.reverse()) moveOne(other, to, row);
          break;
        }
        for (const [other, to] of moves) {
          const list = onRow.get(to) ?? onRow.set(to, []).get(to)!;
          if (!list.includes(other)) list.push(other);
        }
        const a = s.assign.get(job) ?? new Map<number, number>();
        a.set(row, (a.get(row) ?? 0) + 1);
        s.assign.set(job, a);
        take(s.free, row * dims, job.p.demand, 1);
        touched.add(row);
        const here = onRow.get(row) ?? onRow.set(row, []).get(row)!;
        if (!here.includes(job)) here.push(job);
        repaired++;
      }
    }
  }
  // The nodes of the clusters it changed, packed again from where the tier started.
  const order = [...tier].sort((a, b) => b.value - a.value || compareNames(a.p.key, b.p.key));
  for (const row of touched) {
    let nodes = startNodes[row] as ClusterNodes;
    for (const job of order) {
      const n = movable(job, row);
      if (n > 0) nodes = packInto(nodes, job.p.node, n).nodes;
    }
    s.nodes[row] = nodes;
  }
  return repaired;
}
