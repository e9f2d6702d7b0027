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

function limitOf(job: Job, opts: FillOpts, state: TierState, fleet: FleetIndex, gone: Uint8Array): PlaceOpts['limit'] {
  const outer = opts.limitFor?.(job);
  if (!opts.onNodes) return outer;
  const followed = state.nodes;
  return (row, cap) => {
    const n = outer === undefined ? cap : outer(row, cap);
    // A one-node cluster's sums are its node; nodes nothing was packed on yet hold what the
    // candidate count (the snapshot's nodes) already allows.
    if (n <= 0 || sumsAreExact(fleet, row, job.p) || followed[row] === fleet.nodes[row]) return n;
    const k = fitOnNodes(followed[row] as ClusterNodes, job.p.node, n);
    // (Not under quotas: a cluster passed over would no longer draw on its group's quota for
    // the clusters after it, as it does when it is looked at.)
    if (k === 0 && outer === undefined) gone[row] = 1;
    return Math.min(n, k);
  };
}

/**
 * A shape's summed demand and its demand of one node: what the room for it depends on. Replicas
 * of one shape are interchangeable.
 */
const shapeKeys = new WeakMap<Job, string>();
export function shapeKey(job: Job): string {
  let key = shapeKeys.get(job);
  if (key === undefined) {
    key = `${job.p.node.key ?? job.p.key}|${job.p.demand.join(',')}`;
    shapeKeys.set(job, key);
  }
  return key;
}

export function fill(jobs: readonly Job[], state: TierState, fleet: FleetIndex, opts: FillOpts): void {
  const levels = opts.fair ? LEVELS : 1;
  const dims = fleet.dims.length;
  // Per shape, the rows with no room for it left: room only shrinks as the tier fills, but for
  // what a placement gives back (its rows are cleared then). A fair fill scans every eligible
  // cluster at each of its levels; most, on a full fleet, have none.
  const goneFor = new Map<string, Uint8Array>();
  const gone = (job: Job) => {
    const key = shapeKey(job);
    return goneFor.get(key) ?? goneFor.set(key, new Uint8Array(fleet.clusters.length)).get(key)!;
  };
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
      const noRoom = gone(job);
      const r = placeJob(job, before, state.free, fleet, {
        gone: noRoom,
        limit: limitOf(job, opts, state, fleet, noRoom),
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
          for (const g of goneFor.values()) for (const row of before.keys()) g[row] = 0;
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
