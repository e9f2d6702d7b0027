// What fits: how many replicas of a placement a cluster holds, by its summed free room and
// wholly on its nodes. Every solver, every report and explain ask here, so that they count alike.

import type { FleetIndex, PreparedPlacement } from './prepare.js';
import { type ClusterNodes, fitOnNodes } from './nodes.js';

/** How many replicas of `demand` fit into `free` at `row`. */
export function fitCount(free: Float64Array, row: number, demand: Float64Array): number {
  let n = Number.POSITIVE_INFINITY;
  for (let d = 0; d < demand.length; d++) {
    const need = demand[d] as number;
    if (need > 0) {
      const k = Math.floor((free[row + d] as number) / need);
      if (k < n) {
        if (k <= 0) return k;
        n = k;
      }
    }
  }
  return n;
}

/** Whether a cluster's summed room counts a placement exactly: it is one node, and the placement's devices are counted by class alone. */
export function sumsAreExact(fleet: FleetIndex, row: number, p: PreparedPlacement): boolean {
  return p.countedBySums && fleet.wholeNode[row] === 1;
}

/**
 * How many replicas of a placement fit in one cluster: by its summed free room and wholly on
 * its nodes as the snapshot has them, at most `limit`. The one count of what fits.
 */
export function replicasThatFit(fleet: FleetIndex, row: number, p: PreparedPlacement, limit = Number.POSITIVE_INFINITY, free = fleet.free): number {
  const sums = Math.min(limit, fitCount(free, row * fleet.dims.length, p.demand));
  if (sums <= 0) return 0;
  return sumsAreExact(fleet, row, p) ? sums : fitOnNodes(fleet.nodes[row] as ClusterNodes, p.node, sums);
}

/** What the solvers ask of a job: its demand, and how many of its replicas a cluster's nodes hold. */
interface Fitting {
  readonly p: { readonly demand: Float64Array };
  nodeCap(row: number): number;
}

/**
 * Replicas of a job a cluster takes beside `have` of its own already there: by the summed room
 * left in `free`, and by what its nodes hold of it as the snapshot has them. At most the job's
 * replicas, through its node cap; zero or less where the summed room is gone.
 */
export function roomFor(job: Fitting, free: Float64Array, dims: number, row: number, have = 0): number {
  const sums = fitCount(free, row * dims, job.p.demand);
  return sums <= 0 ? sums : Math.min(sums, job.nodeCap(row) - have);
}

/** Whether one more replica fits on a cluster as it is now packed: in its summed room and on one of its nodes. */
export function oneMoreFits(fleet: FleetIndex, free: Float64Array, nodes: readonly ClusterNodes[], row: number, p: PreparedPlacement): boolean {
  return fitCount(free, row * fleet.dims.length, p.demand) >= 1 && (fleet.wholeNode[row] === 1 || fitOnNodes(nodes[row] as ClusterNodes, p.node, 1) >= 1);
}

/** Node-level caps counted so far, by eligibility key: per row, the cap and the limit it was counted to. */
export type NodeCapCache = Map<string, { cap: Int32Array; limit: Int32Array }>;

/** Node-level caps, shared by placements of the same eligibility (and so the same demand). */
export function nodeCaps(fleet: FleetIndex, caps: NodeCapCache, p: PreparedPlacement): (row: number) => number {
  let known = caps.get(p.eligibilityKey);
  if (known === undefined) {
    const n = fleet.clusters.length;
    known = { cap: new Int32Array(n).fill(-1), limit: new Int32Array(n) };
    caps.set(p.eligibilityKey, known);
  }
  const { cap, limit } = known;
  const want = Math.max(1, p.replicas);
  return (row) => {
    // A one-node cluster's sums are its node: the summed fit, which the solver checks anyway, is exact.
    if (sumsAreExact(fleet, row, p)) return want;
    const c = cap[row] as number;
    // counted before, and either below its limit then or to a limit as high as this one
    if (c >= 0 && (c < (limit[row] as number) || (limit[row] as number) >= want)) return Math.min(c, want);
    const v = fitOnNodes(fleet.nodes[row] as ClusterNodes, p.node, want);
    cap[row] = v;
    limit[row] = want;
    return v;
  };
}
