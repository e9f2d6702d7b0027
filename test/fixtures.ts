// Builders for clusters and placements in tests: terse, with sensible defaults.

import { API_VERSION, type Cluster, type Placement, type PlacementSpec, type FleetSnapshot, makeSnapshot } from '../src/core/model.js';

const GI = 2 ** 30;

export interface ClusterOpts {
  cpu?: number; // cores
  memoryGi?: number;
  pods?: number;
  usedCpu?: number;
  usedMemoryGi?: number;
  usedPods?: number;
  region?: string;
  zone?: string;
  labels?: Record<string, string>;
  healthy?: boolean;
  taints?: Cluster['taints'];
  devices?: Record<string, number | [number, number]>;
}

export interface NodeGroupOpts {
  count: number;
  cpu: number; // cores per node
  memoryGi?: number;
  pods?: number;
  usedCpu?: number;
  /** devices per node of each class: total, or [total, allocated] */
  devices?: Record<string, number | [number, number]>;
  extended?: Record<string, number>;
}

/** A cluster of node groups; its totals are their sums. */
export function nodeCluster(name: string, groups: NodeGroupOpts[], o: Omit<ClusterOpts, 'cpu' | 'memoryGi' | 'pods' | 'usedCpu' | 'usedMemoryGi' | 'usedPods' | 'devices'> = {}): Cluster {
  const nodeGroups = groups.map((g) => ({
    count: g.count,
    allocatable: { cpu: g.cpu * 1000, memory: (g.memoryGi ?? 16) * GI, pods: g.pods ?? 110, ...(g.extended ? { extended: g.extended } : {}) },
    allocated: { cpu: (g.usedCpu ?? 0) * 1000, memory: 0, pods: 0 },
    devices: Object.entries(g.devices ?? {}).map(([deviceClassName, v]) => ({ deviceClassName, total: Array.isArray(v) ? v[0] : v, allocated: Array.isArray(v) ? v[1] : 0 })),
  }));
  const sum = (f: (g: (typeof nodeGroups)[number]) => number) => nodeGroups.reduce((s, g) => s + g.count * f(g), 0);
  const extended: Record<string, number> = {};
  for (const g of nodeGroups) for (const [k, v] of Object.entries(g.allocatable.extended ?? {})) extended[k] = (extended[k] ?? 0) + g.count * v;
  const devices = new Map<string, { total: number; allocated: number }>();
  for (const g of nodeGroups) {
    for (const d of g.devices) {
      const t = devices.get(d.deviceClassName) ?? { total: 0, allocated: 0 };
      t.total += g.count * d.total;
      t.allocated += g.count * d.allocated;
      devices.set(d.deviceClassName, t);
    }
  }
  return {
    ...cluster(name, o),
    allocatable: { cpu: sum((g) => g.allocatable.cpu), memory: sum((g) => g.allocatable.memory), pods: sum((g) => g.allocatable.pods), ...(Object.keys(extended).length > 0 ? { extended } : {}) },
    allocated: { cpu: sum((g) => g.allocated.cpu), memory: 0, pods: 0 },
    devices: [...devices].map(([deviceClassName, d]) => ({ deviceClassName, ...d })),
    nodeGroups,
  };
}

export function cluster(name: string, o: ClusterOpts = {}): Cluster {
  return {
    name,
    labels: o.labels ?? {},
    location: { ...(o.region !== undefined ? { region: o.region } : {}), ...(o.zone !== undefined ? { zone: o.zone } : {}) },
    healthy: o.healthy ?? true,
    taints: o.taints ?? [],
    allocatable: { cpu: (o.cpu ?? 16) * 1000, memory: (o.memoryGi ?? 64) * GI, pods: o.pods ?? 110 },
    allocated: { cpu: (o.usedCpu ?? 0) * 1000, memory: (o.usedMemoryGi ?? 0) * GI, pods: o.usedPods ?? 0 },
    devices: Object.entries(o.devices ?? {}).map(([deviceClassName, v]) => ({
      deviceClassName,
      total: Array.isArray(v) ? v[0] : v,
      allocated: Array.isArray(v) ? v[1] : 0,
    })),
  };
}

export function fleet(...clusters: Cluster[]): FleetSnapshot {
  return makeSnapshot(clusters);
}

export interface PlacementOpts extends Partial<Omit<PlacementSpec, 'template'>> {
  namespace?: string;
  cpu?: string;
  memory?: string;
}

export function placement(name: string, o: PlacementOpts = {}): Placement {
  const { namespace, cpu, memory, ...spec } = o;
  return {
    apiVersion: API_VERSION,
    kind: 'Placement',
    metadata: { name, namespace: namespace ?? 'default' },
    spec: {
      replicas: 1,
      ...spec,
      template: {
        spec: {
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: 'main', image: 'example', resources: { requests: { cpu: cpu ?? '1', memory: memory ?? '1Gi' } } }] },
          },
        },
      },
    },
  };
}

import type { CycleContext, FilterResult } from '../src/core/framework.js';
import { type PreparedPlacement, indexFleet, preparePlacement } from '../src/core/prepare.js';

/** A filter or score plugin's view of one placement on a fleet. */
export function pluginView(snapshot: FleetSnapshot, p: Placement, previous: ReadonlyMap<string, ReadonlyMap<string, number>> = new Map()) {
  const fleet = indexFleet(snapshot);
  const ctx: CycleContext = { fleet, previous };
  const prepared = preparePlacement(p, fleet);
  if (!prepared.ok) throw new Error(prepared.error.message);
  const row = (name: string) => {
    const i = fleet.clusters.findIndex((c) => c.name === name);
    if (i < 0) throw new Error(`no cluster ${name}`);
    return i;
  };
  return { ctx, p: prepared.value as PreparedPlacement, cluster: (name: string) => fleet.clusters[row(name)]!, row };
}

export function code(r: FilterResult): string {
  return r.ok ? 'ok' : r.reason.code;
}
