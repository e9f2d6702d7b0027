// The fleet at a glance, for the web view: each cluster's room split three ways (what its other
// workloads use, what Orrery's placements reserve, what is free), its accelerators and node
// groups, and the capacity report's sums. Made from the same two snapshots as /v1/capacity, so
// the page and the API cannot disagree.

import { type CapacityReport, capacityReport } from './capacity.js';
import type { Cluster, FleetSnapshot, Resources } from './model.js';
import { devicesByClass, takesReplicas } from './model.js';

/** One resource of one cluster, in its own unit (milli-CPU, bytes, Pods, devices). */
export interface Usage {
  readonly allocatable: number;
  /** used by workloads that are not Orrery's */
  readonly others: number;
  /** reserved by the replicas Orrery placed */
  readonly orrery: number;
  readonly free: number;
}

export interface AcceleratorUsage extends Usage {
  readonly name: string;
  /** a DRA device class, or an extended resource a device plugin publishes */
  readonly source: 'deviceClass' | 'extendedResource';
}

export interface NodeGroupView {
  readonly count: number;
  /** per node */
  readonly cpu: number;
  readonly memory: number;
  readonly accelerators: readonly { readonly name: string; readonly total: number }[];
}

export interface ClusterView {
  readonly name: string;
  readonly region: string;
  readonly zone?: string;
  readonly healthy: boolean;
  readonly reachable: boolean;
  /** takes new replicas (healthy and readable) */
  readonly schedulable: boolean;
  readonly message?: string;
  readonly cpu: Usage;
  readonly memory: Usage;
  readonly pods: Usage;
  readonly accelerators: readonly AcceleratorUsage[];
  readonly nodeGroups?: readonly NodeGroupView[];
}

export interface FleetOverview {
  readonly generation: number;
  /** false while the inventory was listed only in part */
  readonly complete: boolean;
  readonly clusters: readonly ClusterView[];
  /** the capacity report of the fleet as Orrery's placements leave it, as /v1/capacity has it */
  readonly capacity: CapacityReport;
}

function usage(allocatable: number, read: number, occupied: number): Usage {
  const others = Math.min(allocatable, Math.max(0, read));
  const orrery = Math.min(allocatable - others, Math.max(0, occupied - read));
  return { allocatable, others, orrery, free: Math.max(0, allocatable - others - orrery) };
}

function accelerators(read: Cluster, now: Cluster): AcceleratorUsage[] {
  const out: AcceleratorUsage[] = [];
  const after = devicesByClass(now.devices);
  for (const [name, d] of devicesByClass(read.devices)) {
    out.push({ name, source: 'deviceClass', ...usage(d.total, d.allocated, after.get(name)?.allocated ?? d.allocated) });
  }
  for (const [name, total] of Object.entries(read.allocatable.extended ?? {})) {
    if (total <= 0) continue;
    const used = (r: Resources) => r.extended?.[name] ?? 0;
    out.push({ name, source: 'extendedResource', ...usage(total, used(read.allocated), used(now.allocated)) });
  }
  return out;
}

function nodeGroups(c: Cluster): NodeGroupView[] | undefined {
  return c.nodeGroups?.map((g) => ({
    count: g.count,
    cpu: g.allocatable.cpu,
    memory: g.allocatable.memory,
    accelerators: [
      ...[...devicesByClass(g.devices)].map(([name, d]) => ({ name, total: d.total })),
      ...Object.entries(g.allocatable.extended ?? {})
        .filter(([, t]) => t > 0)
        .map(([name, total]) => ({ name, total })),
    ],
  }));
}

/**
 * `read` is the fleet as read (others' use only), `occupied` the same fleet with Orrery's
 * placements counted as taken; both list the same clusters.
 */
export function fleetOverview(read: FleetSnapshot, occupied: FleetSnapshot): FleetOverview {
  const clusters = read.clusters.map((c): ClusterView => {
    const now = occupied.byName.get(c.name) ?? c;
    const groups = nodeGroups(c);
    return {
      name: c.name,
      region: c.location.region ?? '(none)',
      ...(c.location.zone !== undefined ? { zone: c.location.zone } : {}),
      healthy: c.healthy,
      reachable: c.reachable !== false,
      schedulable: takesReplicas(c),
      ...(c.message !== undefined ? { message: c.message } : {}),
      cpu: usage(c.allocatable.cpu, c.allocated.cpu, now.allocated.cpu),
      memory: usage(c.allocatable.memory, c.allocated.memory, now.allocated.memory),
      pods: usage(c.allocatable.pods, c.allocated.pods, now.allocated.pods),
      accelerators: accelerators(c, now),
      ...(groups !== undefined ? { nodeGroups: groups } : {}),
    };
  });
  return { generation: occupied.generation, complete: occupied.complete, clusters, capacity: capacityReport(occupied) };
}
