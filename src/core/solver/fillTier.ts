// Filling a tier's placements from a starting point: in one pass, each placement taking all it
// can in turn, as the greedy floors do; or fairly, every placement raised together a tenth of
// its replicas at a time (progressive filling, which gives max-min fairness on the fraction of
// its replicas each placement gets), so that the first placements in line do not take the
// capacity the others needed for the same worth.

import type { Job } from '../cycle.js';
import type { FleetIndex } from '../prepare.js';
import { sumsAreExact } from '../fit.js';
import { type ClusterNodes, fitOnNodes, packInto } from '../nodes.js';
import { type Assignment, type PlaceOpts, placeJob, placedOf, release } from './placeOne.js';

/**
 * A tier's assignments and the capacity they leave, summed and on nodes, changed in place as
 * replicas are placed: summed room alone would let several replicas count on the same free node.
 */
export interface TierState {
  readonly assign: Map<Job, Assignment>;
  readonly free: Float64Array;
  readonly nodes: ClusterNodes[];
}

export interface FillOpts {
  /** one pass in order, or every placement raised together */
  readonly fair: boolean;
  readonly order?: PlaceOpts['order'];
  readonly pack?: boolean;
  /**
   * Whether replicas are placed on the nodes as well as the sums. Without it the nodes are left
   * as they are (the packing after the solve settles them): cheaper, for replicas small next to
   * their nodes.
   */
  readonly onNodes: boolean;
  /** per placement, how many more replicas it may put on a cluster */
  readonly limitFor?: (job: Job) => PlaceOpts['limit'];
  /** called with what a placement newly placed, per cluster row */
  readonly placed?: (job: Job, row: number, n: number) => void;
  /**
   * What a placement that cannot meet its rules (a gang, minClusters) does with the replicas it
   * kept from before: give them back (a last pass), or hold them for a later pass.
   */
  readonly onFailure: 'release' | 'hold';
}

const LEVELS = 10;

function limitOf(job: Job, opts: FillOpts, state: TierState, fleet: FleetIndex): PlaceOpts['limit'] {
  const outer = opts.limitFor?.(job);
  if (!opts.onNodes) return outer;
  const followed = state.nodes;
  return (row, cap) => {
    const n = outer === undefined ? cap : outer(row, cap);
    // A one-node cluster's sums are its node; nodes nothing was packed on yet hold what the
    // candidate count (the snapshot's nodes) already allows.
    if (n <= 0 || sumsAreExact(fleet, row, job.p) || followed[row] === fleet.nodes[row]) return n;
    return Math.min(n, fitOnNodes(followed[row] as ClusterNodes, job.p.node, n));
  };
}

export function fill(jobs: readonly Job[], state: TierState, fleet: FleetIndex, opts: FillOpts): void {
  const levels = opts.fair ? LEVELS : 1;
  const dims = fleet.dims.length;
  let active = jobs.filter((j) => placedOf(state.assign.get(j)) < j.p.replicas);
  for (let level = 1; level <= levels && active.length > 0; level++) {
    const next: Job[] = [];
    for (const job of active) {
      const want = job.p.replicas;
      // All or nothing cannot come a slice at a time.
      const target = job.p.gang || level === levels ? want : Math.min(want, Math.max(job.p.spread.minClusters, Math.ceil((want * level) / levels)));
      const before = state.assign.get(job);
      const had = placedOf(before);
      if (had >= target) {
        next.push(job);
        continue;
      }
      const r = placeJob(job, before, state.free, fleet, {
        limit: limitOf(job, opts, state, fleet),
        target,
        order: opts.order ?? 'preference',
        pack: opts.pack ?? false,
        ...(opts.onNodes ? { nodes: state.nodes } : {}),
      });
      if (!r.ok) {
        if (opts.onFailure === 'release' && before !== undefined) {
          // Its nodes keep the room taken until the answer is packed again: this tier only
          // sees less room than there is, never more.
          release(state.free, dims, job, before);
          state.assign.delete(job);
        }
        continue;
      }
      r.assign.forEach((n, row) => {
        const add = n - (before?.get(row) ?? 0);
        if (add <= 0) return;
        opts.placed?.(job, row, add);
        if (opts.onNodes) state.nodes[row] = packInto(state.nodes[row] as ClusterNodes, job.p.node, add).nodes;
      });
      state.assign.set(job, r.assign);
      // Capacity and limits only shrink as the tier fills: short of its target now, it gets no more later.
      if (placedOf(r.assign) >= target && target < want) next.push(job);
    }
    active = next;
  }
}
