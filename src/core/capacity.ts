// Free and allocatable capacity of a fleet, per cluster, per region and per device class.

import type { Cluster, DeviceInventory, FleetSnapshot, Placement, Resources } from './model.js';
import { API_VERSION, compareNames, devicesByClass, makeSnapshot, takesReplicas } from './model.js';
import { type FleetIndex, indexFleet, preparePlacement } from './prepare.js';
import { replicasThatFit } from './fit.js';
import { type Profile, runFilters } from './framework.js';
import { defaultProfile } from './profile.js';
import { fitFilter } from './filters/fit.js';
import { type ClusterNodes, nodeTotals } from './nodes.js';
import { formatBytes, formatMilli } from './quantity.js';

export interface Amounts {
  cpu: number;
  memory: number;
  pods: number;
}

export interface DeviceAmounts {
  total: number;
  free: number;
}

export interface CapacityRow {
  readonly name: string;
  readonly clusters: number;
  readonly allocatable: Amounts;
  readonly free: Amounts;
  /** per device class (DRA) */
  readonly devices: Record<string, DeviceAmounts>;
  /** per extended resource that device plugins publish, e.g. nvidia.com/gpu */
  readonly extended: Record<string, DeviceAmounts>;
}

/** One kind of accelerator over the clusters that take replicas. */
export interface AcceleratorTotal {
  readonly clusters: number;
  readonly total: number;
  readonly free: number;
}

export interface CapacityReport {
  readonly clusters: readonly (CapacityRow & { readonly region: string; readonly healthy: boolean })[];
  readonly regions: readonly CapacityRow[];
  readonly deviceClasses: readonly (AcceleratorTotal & { readonly deviceClassName: string })[];
  readonly extendedResources: readonly (AcceleratorTotal & { readonly resourceName: string })[];
  readonly total: CapacityRow;
}

function emptyRow(name: string): { name: string; clusters: number; allocatable: Amounts; free: Amounts; devices: Record<string, DeviceAmounts>; extended: Record<string, DeviceAmounts> } {
  return { name, clusters: 0, allocatable: { cpu: 0, memory: 0, pods: 0 }, free: { cpu: 0, memory: 0, pods: 0 }, devices: {}, extended: {} };
}

function addAmounts(into: Record<string, DeviceAmounts>, from: Readonly<Record<string, DeviceAmounts>>): void {
  for (const [k, d] of Object.entries(from)) {
    const s = (into[k] ??= { total: 0, free: 0 });
    s.total += d.total;
    s.free += d.free;
  }
}

function totals(rows: readonly Readonly<Record<string, DeviceAmounts>>[]): Map<string, AcceleratorTotal> {
  const out = new Map<string, { clusters: number; total: number; free: number }>();
  for (const row of rows) {
    for (const [k, d] of Object.entries(row)) {
      const s = out.get(k) ?? { clusters: 0, total: 0, free: 0 };
      s.clusters++;
      s.total += d.total;
      s.free += d.free;
      out.set(k, s);
    }
  }
  return new Map([...out].sort((a, b) => compareNames(a[0], b[0])));
}

/** Unhealthy and unreachable clusters are listed but count for nothing in the sums: nothing new can go there. */
export function capacityReport(snapshot: FleetSnapshot): CapacityReport {
  const clusters = [];
  const counted: ReturnType<typeof emptyRow>[] = [];
  const regions = new Map<string, ReturnType<typeof emptyRow>>();
  const total = emptyRow('total');
  for (const c of snapshot.clusters) {
    const row = emptyRow(c.name);
    row.clusters = 1;
    row.allocatable = { ...c.allocatable };
    row.free = {
      cpu: Math.max(0, c.allocatable.cpu - c.allocated.cpu),
      memory: Math.max(0, c.allocatable.memory - c.allocated.memory),
      pods: Math.max(0, c.allocatable.pods - c.allocated.pods),
    };
    for (const [cls, d] of devicesByClass(c.devices)) addAmounts(row.devices, { [cls]: { total: d.total, free: Math.max(0, d.total - d.allocated) } });
    for (const [name, t] of Object.entries(c.allocatable.extended ?? {})) {
      if (t > 0) row.extended[name] = { total: t, free: Math.max(0, t - (c.allocated.extended?.[name] ?? 0)) };
    }
    const region = c.location.region ?? '(none)';
    clusters.push({ ...row, region, healthy: c.healthy });
    if (!takesReplicas(c)) continue;
    counted.push(row);
    let r = regions.get(region);
    if (r === undefined) {
      r = emptyRow(region);
      regions.set(region, r);
    }
    for (const sum of [r, total]) {
      sum.clusters++;
      for (const k of ['cpu', 'memory', 'pods'] as const) {
        sum.allocatable[k] += row.allocatable[k];
        sum.free[k] += row.free[k];
      }
      addAmounts(sum.devices, row.devices);
      addAmounts(sum.extended, row.extended);
    }
  }
  return {
    clusters,
    regions: [...regions.values()].sort((a, b) => compareNames(a.name, b.name)),
    deviceClasses: [...totals(counted.map((r) => r.devices))].map(([deviceClassName, t]) => ({ deviceClassName, ...t })),
    extendedResources: [...totals(counted.map((r) => r.extended))].map(([resourceName, t]) => ({ resourceName, ...t })),
    total,
  };
}

/**
 * The snapshot with what Orrery itself placed counted as allocated, per cluster and per node:
 * `free` per cluster row and dimension, `nodes` per cluster row, as the fleet index has them.
 */
export function occupiedSnapshot(fleet: FleetIndex, free: Float64Array, nodes: readonly ClusterNodes[]): FleetSnapshot {
  const { dims, scalarDims, kinds } = fleet;
  const n = dims.length;
  const resources = (v: Float64Array): Resources => {
    const extended: Record<string, number> = {};
    for (let i = 3; i < scalarDims; i++) extended[dims[i] as string] = v[i] as number;
    return { cpu: v[0] as number, memory: v[1] as number, pods: v[2] as number, ...(scalarDims > 3 ? { extended } : {}) };
  };
  const deviceList = (v: Float64Array, total: (k: number) => number): DeviceInventory[] => {
    const out: DeviceInventory[] = [];
    kinds.forEach((k, i) => {
      const t = total(i);
      if (t <= 0) return;
      const rest = k.classes.filter((c) => c !== k.name);
      out.push({
        deviceClassName: k.name,
        ...(rest.length > 0 ? { alsoMatches: rest } : {}),
        ...(k.driver !== k.name ? { driver: k.driver } : {}),
        ...(Object.keys(k.attributes).length > 0 ? { attributes: k.attributes } : {}),
        total: t,
        allocated: t - (v[i] as number),
      });
    });
    return out;
  };
  const clusters: Cluster[] = fleet.clusters.map((c, row) => {
    const room = nodes[row] as ClusterNodes;
    const { devices: freeDevices } = nodeTotals(room, scalarDims, kinds.length);
    const allocatable = resources(Float64Array.from({ length: scalarDims }, (_, d) => fleet.allocatable[row * n + d] as number));
    const used = Float64Array.from({ length: scalarDims }, (_, d) => (fleet.allocatable[row * n + d] as number) - (free[row * n + d] as number));
    return {
      ...c,
      allocated: resources(used),
      devices: deviceList(freeDevices, (k) => fleet.kindTotals[row * kinds.length + k] as number),
      ...(c.nodeGroups !== undefined
        ? {
            nodeGroups: room.groups.map((g) => ({
              count: g.count,
              allocatable: resources(g.free),
              allocated: resources(new Float64Array(scalarDims)),
              devices: deviceList(g.devices, (k) => g.devices[k] as number),
            })),
          }
        : {}),
      allocatable,
    };
  });
  return makeSnapshot(clusters, fleet.snapshot.generation, fleet.snapshot.complete);
}

export interface Shape {
  /** milli-CPU per replica */
  readonly cpu: number;
  /** bytes per replica */
  readonly memory: number;
  readonly devices?: { readonly deviceClassName: string; readonly count: number; readonly selectors?: readonly string[] };
  readonly extended?: { readonly resourceName: string; readonly count: number };
}

export interface FitReport {
  readonly clusters: readonly { readonly name: string; readonly region: string; readonly replicas: number }[];
  readonly total: number;
}

/** A placement of one replica of a shape, to ask the core what fits. */
function shapePlacement(shape: Shape): Placement {
  return {
    apiVersion: API_VERSION,
    kind: 'Placement',
    metadata: { name: 'fit', namespace: 'fit' },
    spec: {
      replicas: 1,
      template: { spec: { template: { spec: { containers: [{ name: 'fit', resources: { requests: { cpu: `${shape.cpu}m`, memory: String(shape.memory) } } }] } } } },
      accelerators: [
        ...(shape.devices ? [{ deviceClassName: shape.devices.deviceClassName, count: shape.devices.count, ...(shape.devices.selectors ? { selectors: shape.devices.selectors } : {}) }] : []),
        ...(shape.extended ? [{ resourceName: shape.extended.resourceName, count: shape.extended.count }] : []),
      ],
    },
  };
}

/**
 * How many replicas of a shape fit in each cluster of `now` (the fleet as placements leave it),
 * each wholly on one node, among the clusters `keep` accepts that the profile's filters let take
 * it (healthy, readable, untainted, with the devices it asks for); those it does not fit now are
 * listed with 0.
 */
export function fitReport(now: FleetSnapshot, shape: Shape, keep: (c: Cluster) => boolean, profile: Profile = defaultProfile): FitReport {
  const fleet = indexFleet(now);
  const prepared = preparePlacement(shapePlacement(shape), fleet);
  const clusters = [];
  let total = 0;
  if (prepared.ok) {
    const p = prepared.value;
    const ctx = { fleet, previous: new Map() };
    for (const [row, c] of now.clusters.entries()) {
      if (!keep(c)) continue;
      const r = runFilters(profile, ctx, p, c, row);
      if (!r.ok && r.reason.plugin !== fitFilter.name) continue;
      const fit = r.ok ? replicasThatFit(fleet, row, p) : 0;
      clusters.push({ name: c.name, region: c.location.region ?? '', replicas: fit });
      total += fit;
    }
  }
  clusters.sort((a, b) => b.replicas - a.replicas || compareNames(a.name, b.name));
  return { clusters, total };
}

function quantities(a: Amounts) {
  return { cpu: formatMilli(a.cpu), memory: formatBytes(a.memory), pods: a.pods };
}

/** The report with cpu and memory as Kubernetes quantities ("500m", "64Gi"), for JSON and YAML. */
export function reportAsQuantities(report: CapacityReport) {
  const row = <T extends CapacityRow>(r: T) => ({ ...r, allocatable: quantities(r.allocatable), free: quantities(r.free) });
  return { clusters: report.clusters.map(row), regions: report.regions.map(row), deviceClasses: report.deviceClasses, extendedResources: report.extendedResources, total: row(report.total) };
}
