// What a schedule is worth and how it uses the fleet, as the benchmarks report it: worth by
// priority (the objective's own measure), replicas placed, the share of each device class used,
// and for each replica size (devices per replica) its share of the placed devices against its
// share of the asked ones.

import type { Decision, FleetSnapshot, Placement } from '../src/core/model.js';
import { prepareCycle } from '../src/core/cycle.js';
import { fitCount } from '../src/core/fit.js';
import { fitOnNodes } from '../src/core/nodes.js';
import type { FleetState } from '../src/core/fleetState.js';
import { hasOwnLimits } from '../src/core/solver/aloneCap.js';

export interface Measures {
  /** priority → replicas placed */
  readonly placedByPriority: Record<string, number>;
  /** device class or extended resource → devices used of the free ones, and replicas asking it that wait */
  readonly devices: Record<string, { readonly free: number; readonly used: number; readonly waiting: number }>;
  /** devices per replica → share of the devices placed, share of the devices asked (equal priorities only) */
  readonly sizes: Record<string, { readonly placed: number; readonly asked: number }>;
}

export function measure(snapshot: FleetSnapshot, placements: readonly Placement[], decisions: readonly Decision[]): Measures {
  const cycle = prepareCycle(snapshot, placements, { mode: 'Fresh' });
  const { fleet } = cycle.ctx;
  const dims = fleet.dims.length;
  const byKey = new Map(decisions.map((d) => [d.placement, d]));
  const placedByPriority: Record<string, number> = {};
  const deviceDims: number[] = [];
  for (let d = 3; d < dims; d++) deviceDims.push(d);
  const free = new Float64Array(dims);
  fleet.clusters.forEach((c, row) => {
    if (c.healthy) for (const d of deviceDims) free[d] = (free[d] as number) + (fleet.free[row * dims + d] as number);
  });
  const used = new Float64Array(dims);
  const waiting = new Float64Array(dims);
  const sizePlaced = new Map<number, number>();
  const sizeAsked = new Map<number, number>();
  const priorities = new Set(cycle.jobs.map((j) => j.p.priority));
  for (const job of cycle.jobs) {
    const d = byKey.get(job.p.key);
    const placed = d === undefined ? 0 : d.clusters.reduce((s, c) => s + c.replicas, 0);
    const prio = String(job.p.priority);
    placedByPriority[prio] = (placedByPriority[prio] ?? 0) + placed;
    let size = 0;
    for (const dim of deviceDims) {
      const need = job.p.demand[dim] as number;
      used[dim] = (used[dim] as number) + placed * need;
      if (need > 0) waiting[dim] = (waiting[dim] as number) + job.p.replicas - placed;
      size += need;
    }
    if (size > 0 && priorities.size === 1) {
      sizePlaced.set(size, (sizePlaced.get(size) ?? 0) + placed * size);
      sizeAsked.set(size, (sizeAsked.get(size) ?? 0) + job.p.replicas * size);
    }
  }
  const devices: Record<string, { free: number; used: number; waiting: number }> = {};
  for (const d of deviceDims) {
    if ((free[d] as number) > 0 || (used[d] as number) > 0) devices[fleet.dims[d]!] = { free: free[d] as number, used: used[d] as number, waiting: waiting[d] as number };
  }
  const totalPlaced = [...sizePlaced.values()].reduce((s, x) => s + x, 0);
  const totalAsked = [...sizeAsked.values()].reduce((s, x) => s + x, 0);
  const sizes: Record<string, { placed: number; asked: number }> = {};
  for (const [size, asked] of [...sizeAsked].sort((a, b) => a[0] - b[0])) {
    sizes[String(size)] = { placed: totalPlaced > 0 ? (sizePlaced.get(size) ?? 0) / totalPlaced : 0, asked: asked / totalAsked };
  }
  return { placedByPriority, devices, sizes };
}

/**
 * Replicas that wait although an eligible cluster holds one of them, summed and on its nodes,
 * after the schedule: capacity left idle. Placements whose own rules (gang, spread) can hold
 * them back are left out.
 */
export function idleWhileWaiting(s: FleetState): number {
  const { fleet } = s;
  const dims = fleet.dims.length;
  const unscheduled = new Map(s.result.decisions.map((d) => [d.placement, d.unscheduledReplicas]));
  let waiting = 0;
  for (const { job } of s.entries.values()) {
    if (job === undefined) continue;
    if ((unscheduled.get(job.p.key) ?? 0) === 0 || hasOwnLimits(job)) continue;
    for (const row of job.order) {
      if (fitCount(s.free, row * dims, job.p.demand) >= 1 && fitOnNodes(s.nodes[row]!, job.p.node, 1) >= 1) {
        waiting += unscheduled.get(job.p.key) ?? 0;
        break;
      }
    }
  }
  return waiting;
}
