// Spread means spread. The tier's answers are chosen for worth, and a floor that won packs a
// Spread placement onto the clusters it fits most tightly. Once the answer stands, each plain
// Spread placement gives back what it has over an even share of the clusters that hold it or
// could take one, and places it again over its eligible clusters as evenly as the room left
// allows (kept replicas stay where they are). The pipeline keeps the result only where, packed
// onto the nodes, it is worth as much at every priority.

import { compareNames } from '../model.js';
import type { Job } from '../cycle.js';
import type { FleetIndex } from '../prepare.js';
import { fitCount } from '../fit.js';
import { type ClusterNodes, fitOnNodes } from '../nodes.js';
import type { Packed } from './packOnNodes.js';
import { hasOwnLimits } from './aloneCap.js';
import { type Assignment, placeJob, placedOf, take } from './placeOne.js';

/**
 * The answer with every plain Spread placement (no gang, no cluster counts, no skew: those rules
 * divide it themselves) divided evenly where the room left allows; undefined when none changes.
 */
export function evenSpread(jobs: readonly Job[], packed: Packed, kept: ReadonlyMap<Job, Assignment>, fleet: FleetIndex): { assign: Map<Job, Assignment>; free: Float64Array } | undefined {
  const { assign: assignIn, free: freeIn, nodes } = packed;
  const spread = jobs.filter((j) => j.p.strategy === 'Spread' && !hasOwnLimits(j) && j.eligibleCount > 1 && !isEven(j, assignIn.get(j)));
  if (spread.length === 0) return undefined;
  spread.sort((a, b) => b.p.priority - a.p.priority || compareNames(a.p.key, b.p.key));
  const dims = fleet.dims.length;
  const assign = new Map(assignIn);
  const free = Float64Array.from(freeIn);
  let changed = false;
  for (const job of spread) {
    const had = assign.get(job) as Assignment;
    const elsewhere = roomElsewhere(job, had, free, dims);
    if (elsewhere === 0) continue;
    const placed = placedOf(had);
    const share = Math.ceil(placed / Math.min(placed, had.size + elsewhere));
    const own = kept.get(job);
    const rest = new Map<number, number>();
    const room = Float64Array.from(free);
    for (const [row, n] of had) {
      const stays = Math.min(n, Math.max(share, own?.get(row) ?? 0));
      rest.set(row, stays);
      if (n > stays) take(room, row * dims, job.p.demand, stays - n);
    }
    // Where it had none, what the packed answer's nodes still hold; where it had, its own room back.
    const r = placeJob(job, rest, room, fleet, { limit: (row, cap) => (had.has(row) ? cap : Math.min(cap, fitOnNodes(nodes[row] as ClusterNodes, job.p.node, cap))) });
    if (!r.ok || placedOf(r.assign) < placed) continue;
    assign.set(job, r.assign);
    free.set(room);
    changed = true;
  }
  return changed ? { assign, free } : undefined;
}

/** The eligible clusters the placement is not on yet whose summed room and nodes hold one more of its replicas. */
function roomElsewhere(job: Job, a: Assignment, free: Float64Array, dims: number): number {
  let n = 0;
  for (const row of job.order) if (!a.has(row) && !job.avoid?.has(row) && fitCount(free, row * dims, job.p.demand) >= 1 && job.nodeCap(row) >= 1) n++;
  return n;
}

/** No cluster holds more than its even share of what is placed. */
export function isEven(job: Job, a: Assignment | undefined): boolean {
  const placed = placedOf(a);
  if (placed < 2) return true;
  const share = Math.ceil(placed / Math.min(placed, job.eligibleCount));
  for (const n of a?.values() ?? []) if (n > share) return false;
  return true;
}
