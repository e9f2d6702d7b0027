// Spread means spread. The tier's answers are chosen for worth, and a floor that won packs a
// Spread placement onto the clusters it fits most tightly. Once the answer stands, each plain
// Spread placement gives back what it has over an even share of the clusters that hold it or
// could take one, and places it again over its eligible clusters as evenly as the room left
// allows (kept replicas stay where they are); then placements of one shape trade replicas
// (tradeReplicas.ts), which needs no room. Every replica stays placed: spreading costs no
// placement any worth.

import { compareNames } from '../model.js';
import type { Job } from '../cycle.js';
import type { FleetIndex } from '../prepare.js';
import { oneMoreFits } from '../fit.js';
import { type ClusterNodes, fitOnNodes, packInto } from '../nodes.js';
import { type Packed, packRowsAgain, placeShort } from './packOnNodes.js';
import { evenShare, tradeReplicas, tradesReplicas } from './tradeReplicas.js';
import { type Assignment, placeJob, placedOf, take } from './placeOne.js';

/**
 * The answer with every plain Spread placement (no gang, no cluster counts, no skew: those rules
 * divide it themselves) divided evenly where the room left allows, packed: replicas moved onto a
 * cluster are packed onto its nodes as the answer left them, and the clusters they left are packed
 * again once. Undefined when nothing changes or a cluster they left no longer packs.
 */
export function evenSpread(jobs: readonly Job[], packed: Packed, kept: ReadonlyMap<Job, Assignment>, fleet: FleetIndex, base?: { readonly nodes: readonly ClusterNodes[] }): Packed | undefined {
  const divided = divideInRoom(jobs, packed, kept, fleet, base);
  // Then what trading between look-alikes divides, with no room needed. (Trading first would
  // leave less to divide, and the clusters that division packs again hold waiting replicas.)
  return tradeReplicas(jobs, divided ?? packed, kept) ?? divided;
}

function divideInRoom(jobs: readonly Job[], packed: Packed, kept: ReadonlyMap<Job, Assignment>, fleet: FleetIndex, base?: { readonly nodes: readonly ClusterNodes[] }): Packed | undefined {
  const spread = jobs.filter((j) => tradesReplicas(j) && !isEven(j, packed.assign.get(j)));
  if (spread.length === 0) return undefined;
  spread.sort((a, b) => b.p.priority - a.p.priority || compareNames(a.p.key, b.p.key));
  // A cluster that, with less on it, no longer packs gives nothing; the others are tried again.
  const frozen = new Set<number>();
  for (let attempt = 0; attempt < 4; attempt++) {
    const moved = divide(spread, packed, kept, fleet, frozen);
    if (moved === undefined) return undefined;
    const stuck = new Set<number>();
    for (const [row, c] of packRowsAgain(fleet, moved.assign, kept, moved.left, base)) {
      if (c === undefined) stuck.add(row);
      else moved.nodes[row] = c;
    }
    if (stuck.size === 0) {
      const order: (readonly [string, number, number])[] = [...moved.assign].flatMap(([job, a]) => [...a].map(([row, n]) => [job.p.key, row, n] as const));
      // Packed again, the clusters replicas left may hold one that waits.
      placeShort(jobs, moved.assign, moved.free, moved.nodes, fleet, order);
      return { assign: moved.assign, free: moved.free, nodes: moved.nodes, order };
    }
    for (const row of stuck) frozen.add(row);
  }
  return undefined;
}

/** The division itself: the clusters replicas left are yet to be packed again. */
function divide(spread: readonly Job[], packed: Packed, kept: ReadonlyMap<Job, Assignment>, fleet: FleetIndex, frozen: ReadonlySet<number>) {
  const dims = fleet.dims.length;
  const assign = new Map(packed.assign);
  const free = Float64Array.from(packed.free);
  const nodes = [...packed.nodes];
  const left = new Set<number>();
  for (const job of spread) {
    const had = assign.get(job) as Assignment;
    const placed = placedOf(had);
    const elsewhere = roomElsewhere(job, had, free, nodes, fleet, placed - had.size);
    if (elsewhere === 0) continue;
    const share = Math.ceil(placed / Math.min(placed, had.size + elsewhere));
    const own = kept.get(job);
    const rest = new Map<number, number>();
    // What it gives back is returned to `free` in place, and taken again if it cannot be placed anew.
    const back = new Map<number, number>();
    for (const [row, n] of had) {
      const stays = frozen.has(row) ? n : Math.min(n, Math.max(share, own?.get(row) ?? 0));
      rest.set(row, stays);
      if (n > stays) {
        back.set(row, n - stays);
        take(free, row * dims, job.p.demand, stays - n);
      }
    }
    // What it gave back of a cluster it may take again; beyond that, what the nodes hold now.
    const r = placeJob(job, rest, free, fleet, { limit: (row, cap) => Math.min(cap, (back.get(row) ?? 0) + fitOnNodes(nodes[row] as ClusterNodes, job.p.node, cap)) });
    if (!r.ok || placedOf(r.assign) < placed) {
      if (r.ok) for (const [row, n] of r.assign) take(free, row * dims, job.p.demand, -(n - (rest.get(row) ?? 0)));
      for (const [row, n] of back) take(free, row * dims, job.p.demand, n);
      continue;
    }
    for (const row of new Set([...had.keys(), ...r.assign.keys()])) {
      const more = (r.assign.get(row) ?? 0) - (had.get(row) ?? 0);
      if (more < 0) left.add(row);
      if (more <= 0) continue;
      const p = packInto(nodes[row] as ClusterNodes, job.p.node, more);
      if (p.placed !== more) throw new Error(`internal: ${job.p.key} packed ${p.placed} of ${more} on row ${row}`);
      nodes[row] = p.nodes;
    }
    assign.set(job, r.assign);
  }
  return left.size === 0 ? undefined : { assign, free, nodes, left };
}

/** The eligible clusters the placement is not on yet whose summed room and nodes hold one more of its replicas, counted up to `enough`. */
function roomElsewhere(job: Job, a: Assignment, free: Float64Array, nodes: readonly ClusterNodes[], fleet: FleetIndex, enough: number): number {
  let n = 0;
  for (const row of job.order) {
    if (n >= enough) break;
    if (!a.has(row) && !job.avoid?.has(row) && oneMoreFits(fleet, free, nodes, row, job.p)) n++;
  }
  return n;
}

/** No cluster holds more than its even share of what is placed. */
export function isEven(job: Job, a: Assignment | undefined): boolean {
  const placed = placedOf(a);
  if (placed < 2) return true;
  const share = evenShare(job, placed);
  for (const n of a?.values() ?? []) if (n > share) return false;
  return true;
}
