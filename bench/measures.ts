// What a schedule is worth and how it uses the fleet, as the benchmarks report it: worth by
// priority (the objective's own measure), replicas placed, the share of each device class used,
// and for each replica size (devices per replica) its share of the placed devices against its
// share of the asked ones, and whether it got all the fleet could hold of it.

import { type Decision, type FleetSnapshot, type Placement, takesReplicas } from '../src/core/model.js';
import { prepareCycle } from '../src/core/cycle.js';
import { fitCount } from '../src/core/fit.js';
import { type NodeDemand, fitOnNodes, perNode, usesShared } from '../src/core/nodes.js';
import type { FleetState } from '../src/core/fleetState.js';
import type { Job } from '../src/core/cycle.js';
import { repackRows } from '../src/core/solver/packOnNodes.js';
import { take } from '../src/core/solver/placeOne.js';
import { hasOwnLimits } from '../src/core/solver/aloneCap.js';

export interface Measures {
  /** priority → replicas placed */
  readonly placedByPriority: Record<string, number>;
  /** device class or extended resource → devices used of the free ones, and replicas asking it that wait */
  readonly devices: Record<string, { readonly free: number; readonly used: number; readonly waiting: number }>;
  /**
   * Per priority, devices per replica → share of the devices placed, share of the devices asked,
   * and whether the size got all the room left by higher priorities could hold of it: each
   * replica shape counted up to what the free nodes of its eligible clusters hold of it alone,
   * once the replicas of higher priorities are packed. A size the fleet's own fragmentation keeps
   * out (an 8-device replica where no node has 8 devices free) cannot have its share of the asked
   * devices, under any schedule that leaves higher priorities where they are.
   */
  readonly sizes: Record<string, Record<string, { readonly placed: number; readonly asked: number; readonly allItFits: boolean }>>;
}

export function measure(snapshot: FleetSnapshot, placements: readonly Placement[], decisions: readonly Decision[]): Measures {
  const cycle = prepareCycle(snapshot, placements, { mode: 'Fresh' });
  const { fleet } = cycle.ctx;
  const dims = fleet.dims.length;
  const byKey = new Map(decisions.map((d) => [d.placement, d]));
  const rowOf = new Map(fleet.clusters.map((c, row) => [c.name, row]));
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
  // per priority and replica shape: its size, replicas asked and placed, and the rows any of them may use
  const shapes = new Map<string, { prio: string; size: number; asked: number; placed: number; job: Job; rows: Set<number> }>();
  const assigned: { job: Job; assign: Map<number, number> }[] = [];
  for (const job of cycle.jobs) {
    const d = byKey.get(job.p.key);
    const placed = d === undefined ? 0 : d.clusters.reduce((s, c) => s + c.replicas, 0);
    if (d !== undefined && placed > 0) assigned.push({ job, assign: new Map(d.clusters.map((c) => [rowOf.get(c.name) as number, c.replicas])) });
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
      const key = `${prio}|${job.p.node.key ?? ''}`;
      const shape = shapes.get(key) ?? shapes.set(key, { prio, size, asked: 0, placed: 0, job, rows: new Set() }).get(key)!;
      shape.asked += job.p.replicas;
      shape.placed += placed;
      for (const row of job.order) shape.rows.add(row);
    }
  }
  const devices: Record<string, { free: number; used: number; waiting: number }> = {};
  for (const d of deviceDims) {
    if ((free[d] as number) > 0 || (used[d] as number) > 0) devices[fleet.dims[d]!] = { free: free[d] as number, used: used[d] as number, waiting: waiting[d] as number };
  }
  // Whether each size got all it could: per priority, the room higher priorities leave.
  const fitsAll = new Map<string, Map<number, boolean>>();
  for (const prio of new Set([...shapes.values()].map((x) => x.prio))) {
    const above = assigned.filter((x) => x.job.p.priority > Number(prio));
    const nodes = repackRows(fleet, fleet.nodes, fleet.clusters.keys(), above);
    const room = Float64Array.from(fleet.free);
    for (const { job, assign } of above) for (const [row, n] of assign) take(room, row * dims, job.p.demand, n);
    const at = fitsAll.set(prio, new Map()).get(prio)!;
    for (const { size, asked, placed, job, rows } of [...shapes.values()].filter((x) => x.prio === prio)) {
      let holds = 0;
      for (const row of rows) {
        if (holds >= asked) break;
        if (takesReplicas(fleet.clusters[row]!)) holds += Math.min(fitCount(room, row * dims, job.p.demand), fitOnNodes(nodes[row]!, job.p.node, asked));
      }
      at.set(size, (at.get(size) ?? true) && placed >= Math.min(asked, holds));
    }
  }
  const sizes: Record<string, Record<string, { placed: number; asked: number; allItFits: boolean }>> = {};
  for (const [prio, askedAt] of sizeAsked) {
    const placedAt = sizePlaced.get(prio) ?? new Map<number, number>();
    const totalPlaced = [...placedAt.values()].reduce((s, x) => s + x, 0);
    const totalAsked = [...askedAt.values()].reduce((s, x) => s + x, 0);
    const at: Record<string, { placed: number; asked: number; allItFits: boolean }> = {};
    for (const [size, asked] of [...askedAt].sort((a, b) => a[0] - b[0])) {
      at[String(size)] = {
        placed: totalPlaced > 0 ? (placedAt.get(size) ?? 0) / totalPlaced : 0,
        asked: asked / totalAsked,
        allItFits: fitsAll.get(prio)?.get(size) ?? false,
      };
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
 * Devices left free while replicas that could use them wait, by device kind. A free device is
 * idle where a waiting replica asking its kind, on a cluster eligible for it, would fit whole on
 * its node (CPU, memory, pods and every device it asks): a schedule could have used it. It is
 * stranded where such a replica would have the node's CPU, memory and pods but too few of its
 * devices are free there (an 8-device replica on a node with 5 free): only a smaller replica
 * could use it. Against each kind's free devices before the schedule.
 */
export function idleDevices(s: FleetState): Record<string, { readonly free: number; readonly idle: number; readonly stranded: number }> {
  const { fleet } = s;
  const unscheduled = new Map(s.result.decisions.map((d) => [d.placement, d.unscheduledReplicas]));
  // waiting replicas that ask devices, one class per shape and set of eligible clusters
  const waiting = new Map<string, { kinds: Set<number>; node: NodeDemand; eligible: Uint8Array }>();
  for (const { job } of s.entries.values()) {
    if (job === undefined || (unscheduled.get(job.p.key) ?? 0) === 0 || job.p.node.requests.length === 0) continue;
    const key = `${job.p.node.key}|${job.p.eligibilityKey}`;
    if (!waiting.has(key)) waiting.set(key, { kinds: new Set(job.p.node.requests.flatMap((r) => [...r.kinds])), node: job.p.node, eligible: job.eligible });
  }
  const names = fleet.kinds.map((k) => k.name);
  const out: Record<string, { free: number; idle: number; stranded: number }> = {};
  for (const n of names) out[n] = { free: 0, idle: 0, stranded: 0 };
  fleet.clusters.forEach((c, row) => {
    if (!takesReplicas(c)) return;
    for (const g of fleet.nodes[row]!.groups) {
      g.devices.forEach((v, k) => {
        out[names[k]!]!.free += g.count * v;
      });
    }
    const nodes = s.nodes[row]!;
    for (const g of nodes.groups) {
      g.devices.forEach((v, k) => {
        if (v <= 0) return;
        let how: 'idle' | 'stranded' | undefined;
        for (const w of waiting.values()) {
          if (w.eligible[row] !== 1 || !w.kinds.has(k)) continue;
          if (!w.node.scalar.every((need, i) => need <= (g.free[i] as number))) continue;
          how = perNode(g, w.node, usesShared(nodes, w.node) ? nodes.shared : undefined) >= 1 ? 'idle' : 'stranded';
          if (how === 'idle') break;
        }
        if (how !== undefined) out[names[k]!]![how] += g.count * v;
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
