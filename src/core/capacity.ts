// Free and allocatable capacity of a fleet, per cluster, per region and per device class.

import type { Cluster, FleetSnapshot } from './model.js';
import { compareNames, makeSnapshot } from './model.js';
import { indexFleet } from './prepare.js';
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
  readonly devices: Record<string, DeviceAmounts>;
}

export interface CapacityReport {
  readonly clusters: readonly (CapacityRow & { readonly region: string; readonly healthy: boolean })[];
  readonly regions: readonly CapacityRow[];
  readonly deviceClasses: readonly { readonly deviceClassName: string; readonly clusters: number; readonly total: number; readonly free: number }[];
  readonly total: CapacityRow;
}

function emptyRow(name: string): { name: string; clusters: number; allocatable: Amounts; free: Amounts; devices: Record<string, DeviceAmounts> } {
  return { name, clusters: 0, allocatable: { cpu: 0, memory: 0, pods: 0 }, free: { cpu: 0, memory: 0, pods: 0 }, devices: {} };
}

/** Unhealthy and unreachable clusters are listed but count for nothing in the sums: nothing new can go there. */
export function capacityReport(snapshot: FleetSnapshot): CapacityReport {
  const clusters = [];
  const regions = new Map<string, ReturnType<typeof emptyRow>>();
  const classes = new Map<string, { deviceClassName: string; clusters: number; total: number; free: number }>();
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
    for (const d of c.devices) row.devices[d.deviceClassName] = { total: d.total, free: Math.max(0, d.total - d.allocated) };
    const region = c.location.region ?? '(none)';
    clusters.push({ ...row, region, healthy: c.healthy });
    if (!c.healthy || c.reachable === false) continue;
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
      for (const [cls, d] of Object.entries(row.devices)) {
        const s = (sum.devices[cls] ??= { total: 0, free: 0 });
        s.total += d.total;
        s.free += d.free;
      }
    }
    for (const [cls, d] of Object.entries(row.devices)) {
      const s = classes.get(cls) ?? { deviceClassName: cls, clusters: 0, total: 0, free: 0 };
      s.clusters++;
      s.total += d.total;
      s.free += d.free;
      classes.set(cls, s);
    }
  }
  return {
    clusters,
    regions: [...regions.values()].sort((a, b) => compareNames(a.name, b.name)),
    deviceClasses: [...classes.values()].sort((a, b) => compareNames(a.deviceClassName, b.deviceClassName)),
    total,
  };
}

/**
 * The snapshot with what Orrery itself placed counted as allocated: `free` is per cluster row
 * and dimension, in the order indexFleet gives them.
 */
export function occupiedSnapshot(snapshot: FleetSnapshot, free: Float64Array): FleetSnapshot {
  const { dims } = indexFleet(snapshot);
  const n = dims.length;
  const clusters: Cluster[] = snapshot.clusters.map((c, row) => {
    const at = (d: number) => free[row * n + d] as number;
    return {
      ...c,
      allocated: {
        cpu: c.allocatable.cpu - at(0),
        memory: c.allocatable.memory - at(1),
        pods: c.allocatable.pods - at(2),
      },
      devices: c.devices.map((d) => ({ ...d, allocated: d.total - at(dims.indexOf(d.deviceClassName)) })),
    };
  });
  return makeSnapshot(clusters, snapshot.generation, snapshot.complete);
}

export interface Shape {
  /** milli-CPU per replica */
  readonly cpu: number;
  /** bytes per replica */
  readonly memory: number;
  readonly devices?: { readonly deviceClassName: string; readonly count: number };
}

export interface FitReport {
  readonly clusters: readonly { readonly name: string; readonly region: string; readonly replicas: number }[];
  readonly total: number;
}

/** How many replicas of a shape fit in each cluster now, among the clusters `keep` accepts. */
export function fitReport(snapshot: FleetSnapshot, free: Float64Array, shape: Shape, keep: (c: Cluster) => boolean): FitReport {
  const { dims } = indexFleet(snapshot);
  const n = dims.length;
  const dev = shape.devices ? dims.indexOf(shape.devices.deviceClassName) : -1;
  const clusters = [];
  let total = 0;
  for (const [row, c] of snapshot.clusters.entries()) {
    if (!c.healthy || c.reachable === false || !keep(c)) continue;
    if (shape.devices && !c.devices.some((d) => d.deviceClassName === shape.devices?.deviceClassName && d.total > 0)) continue;
    const at = (d: number) => free[row * n + d] as number;
    let fit = Math.floor(at(2));
    if (shape.cpu > 0) fit = Math.min(fit, Math.floor(at(0) / shape.cpu));
    if (shape.memory > 0) fit = Math.min(fit, Math.floor(at(1) / shape.memory));
    if (shape.devices) fit = Math.min(fit, Math.floor(at(dev) / shape.devices.count));
    fit = Math.max(0, fit);
    clusters.push({ name: c.name, region: c.location.region ?? '', replicas: fit });
    total += fit;
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
  return { clusters: report.clusters.map(row), regions: report.regions.map(row), deviceClasses: report.deviceClasses, total: row(report.total) };
}
