// What a schedule is worth and how it uses the fleet, as the benchmarks report it: worth by
// priority (the objective's own measure), replicas placed, the share of each device class used,
// and for each replica size (devices per replica) its share of the placed devices against its
// share of the asked ones.

import { type Decision, type FleetSnapshot, type Placement, takesReplicas } from '../src/core/model.js';
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
  /** per priority, devices per replica → share of the devices placed, share of the devices asked */
  readonly sizes: Record<string, Record<string, { readonly placed: number; readonly asked: number }>>;
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
  const sizePlaced = new Map<string, Map<number, number>>();
  const sizeAsked = new Map<string, Map<number, number>>();
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
    if (size > 0) {
      const placedAt = sizePlaced.get(prio) ?? sizePlaced.set(prio, new Map()).get(prio)!;
      const askedAt = sizeAsked.get(prio) ?? sizeAsked.set(prio, new Map()).get(prio)!;
      placedAt.set(size, (placedAt.get(size) ?? 0) + placed * size);
      askedAt.set(size, (askedAt.get(size) ?? 0) + job.p.replicas * size);
    }
  }
  const devices: Record<string, { free: number; used: number; waiting: number }> = {};
  for (const d of deviceDims) {
    if ((free[d] as number) > 0 || (used[d] as number) > 0) devices[fleet.dims[d]!] = { free: free[d] as number, used: used[d] as number, waiting: waiting[d] as number };
  }
  const sizes: Record<string, Record<string, { placed: number; asked: number }>> = {};
  for (const [prio, askedAt] of sizeAsked) {
    const placedAt = sizePlaced.get(prio) ?? new Map<number, number>();
    const totalPlaced = [...placedAt.values()].reduce((s, x) => s + x, 0);
    const totalAsked = [...askedAt.values()].reduce((s, x) => s + x, 0);
    const at: Record<string, { placed: number; asked: number }> = {};
    for (const [size, asked] of [...askedAt].sort((a, b) => a[0] - b[0])) {
      at[String(size)] = { placed: totalPlaced > 0 ? (placedAt.get(size) ?? 0) / totalPlaced : 0, asked: asked / totalAsked };
    }
    sizes[prio] = at;
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

/**
 * Devices left free while replicas that could use them wait, by device kind: a free device is
 * counted where a waiting replica's request matches its kind and its node still has the CPU,
 * memory and pods (every scalar resource) such a replica needs, on a cluster eligible for it.
 * Against each kind's free devices before the schedule.
 */
export function idleDevices(s: FleetState): Record<string, { readonly free: number; readonly idle: number }> {
  const { fleet } = s;
  const unscheduled = new Map(s.result.decisions.map((d) => [d.placement, d.unscheduledReplicas]));
  // waiting replicas that ask devices, one class per shape and set of eligible clusters
  const waiting = new Map<string, { kinds: Set<number>; scalar: Float64Array; eligible: Uint8Array }>();
  for (const { job } of s.entries.values()) {
    if (job === undefined || (unscheduled.get(job.p.key) ?? 0) === 0 || job.p.node.requests.length === 0) continue;
    const key = `${job.p.node.key}|${job.p.eligibilityKey}`;
    if (!waiting.has(key)) waiting.set(key, { kinds: new Set(job.p.node.requests.flatMap((r) => [...r.kinds])), scalar: job.p.node.scalar, eligible: job.eligible });
  }
  const names = fleet.kinds.map((k) => k.name);
  const out: Record<string, { free: number; idle: number }> = {};
  for (const n of names) out[n] = { free: 0, idle: 0 };
  fleet.clusters.forEach((c, row) => {
    if (!takesReplicas(c)) return;
    for (const g of fleet.nodes[row]!.groups) {
      g.devices.forEach((v, k) => {
        out[names[k]!]!.free += g.count * v;
      });
    }
    for (const g of s.nodes[row]!.groups) {
      g.devices.forEach((v, k) => {
        if (v <= 0) return;
        for (const w of waiting.values()) {
          if (w.eligible[row] !== 1 || !w.kinds.has(k)) continue;
          if (w.scalar.every((need, i) => need <= (g.free[i] as number))) {
            out[names[k]!]!.idle += g.count * v;
            return;
          }
        }
      });
    }
  });
  for (const [n, v] of Object.entries(out)) if (v.free === 0) delete out[n];
  return out;
}

/**
 * Spread placements (no rules of their own, at least two replicas placed, at least two eligible
 * clusters): how many, and how many are divided evenly, no cluster holding more than
 * ceil(placed / clusters it could use).
 */
export function spreadEvenness(s: FleetState): { readonly spread: number; readonly even: number } {
  let spread = 0;
  let even = 0;
  for (const { job } of s.entries.values()) {
    if (job === undefined || job.p.strategy !== 'Spread' || hasOwnLimits(job) || job.eligibleCount < 2) continue;
    const d = s.decisions.get(job.p.key);
    const placed = d?.clusters.reduce((t, c) => t + c.replicas, 0) ?? 0;
    if (placed < 2) continue;
    spread++;
    const most = Math.max(...(d?.clusters.map((c) => c.replicas) ?? [0]));
    if (most <= Math.ceil(placed / Math.min(placed, job.eligibleCount))) even++;
  }
  return { spread, even };
}
