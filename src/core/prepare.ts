// Per-cycle preparation: the fleet as dense capacity vectors and each Placement with its
// per-replica demand worked out once, so filters, scores and the solver share integer arrays.
//
// Dimension 0 is milli-CPU, 1 memory bytes, 2 pods, then one per device class, sorted by name.

import type { Cluster, FleetSnapshot, Placement, PodSpec, ResourceList } from './model.js';
import { compareNames, placementKey } from './model.js';
import { parseMilli, parseUnits } from './quantity.js';
import { type Result, ok, err } from './result.js';

export const CPU = 0;
export const MEMORY = 1;
export const PODS = 2;
const BASE_DIMS = ['cpu', 'memory', 'pods'] as const;

export interface FleetIndex {
  readonly snapshot: FleetSnapshot;
  readonly clusters: readonly Cluster[];
  /** resource names by dimension */
  readonly dims: readonly string[];
  readonly dimOf: ReadonlyMap<string, number>;
  /** allocatable and free per cluster, row-major: [cluster * dims.length + dim] */
  readonly allocatable: Float64Array;
  readonly free: Float64Array;
}

export function indexFleet(snapshot: FleetSnapshot): FleetIndex {
  const classes = new Set<string>();
  for (const c of snapshot.clusters) for (const d of c.devices) classes.add(d.deviceClassName);
  const dims = [...BASE_DIMS, ...[...classes].sort(compareNames)];
  const dimOf = new Map(dims.map((d, i) => [d, i]));
  const n = dims.length;
  const allocatable = new Float64Array(snapshot.clusters.length * n);
  const free = new Float64Array(snapshot.clusters.length * n);
  snapshot.clusters.forEach((c, i) => {
    const row = i * n;
    allocatable[row + CPU] = c.allocatable.cpu;
    allocatable[row + MEMORY] = c.allocatable.memory;
    allocatable[row + PODS] = c.allocatable.pods;
    free[row + CPU] = Math.max(0, c.allocatable.cpu - c.allocated.cpu);
    free[row + MEMORY] = Math.max(0, c.allocatable.memory - c.allocated.memory);
    free[row + PODS] = Math.max(0, c.allocatable.pods - c.allocated.pods);
    for (const d of c.devices) {
      const dim = dimOf.get(d.deviceClassName) as number;
      allocatable[row + dim] = (allocatable[row + dim] as number) + d.total;
      free[row + dim] = (free[row + dim] as number) + Math.max(0, d.total - d.allocated);
    }
  });
  return { snapshot, clusters: snapshot.clusters, dims, dimOf, allocatable, free };
}

export interface SpreadRules {
  readonly minClusters: number;
  readonly maxClusters: number;
  readonly maxSkew: number;
  readonly topologyKey: string;
}

export interface PreparedPlacement {
  readonly key: string;
  readonly placement: Placement;
  readonly replicas: number;
  readonly priority: number;
  readonly gang: boolean;
  readonly strategy: 'Spread' | 'Pack';
  readonly spread: SpreadRules;
  /** Resources one replica needs, by fleet dimension. */
  readonly demand: Float64Array;
  /** Device classes requested that no cluster of the fleet offers. */
  readonly unknownDevices: readonly string[];
  /** Placements with equal keys pass the same filters on every cluster. */
  readonly eligibilityKey: string;
  /** Placements with equal keys get the same scores (stability aside). */
  readonly scoreKey: string;
}

interface PodRequests {
  readonly cpu: number;
  readonly memory: number;
}

function listRequests(list: ResourceList | undefined, path: string): Result<PodRequests, string> {
  let cpu = 0;
  let memory = 0;
  if (list?.cpu !== undefined) {
    const v = parseMilli(list.cpu);
    if (!v.ok) return err(`${path}.cpu: ${v.error}`);
    cpu = v.value;
  }
  if (list?.memory !== undefined) {
    const v = parseUnits(list.memory);
    if (!v.ok) return err(`${path}.memory: ${v.error}`);
    memory = v.value;
  }
  return ok({ cpu, memory });
}

/**
 * What the Kubernetes scheduler charges a node for one Pod: the larger of the app containers
 * (plus restartable init "sidecar" containers) and the peak of the init sequence, plus overhead.
 */
export function podRequests(spec: PodSpec, path = 'spec.template.spec.template.spec'): Result<PodRequests, string> {
  let cpu = 0;
  let memory = 0;
  for (const [i, c] of spec.containers.entries()) {
    const r = listRequests(c.resources?.requests, `${path}.containers[${i}].resources.requests`);
    if (!r.ok) return r;
    cpu += r.value.cpu;
    memory += r.value.memory;
  }
  let sidecarCpu = 0;
  let sidecarMemory = 0;
  let initCpu = 0;
  let initMemory = 0;
  for (const [i, c] of (spec.initContainers ?? []).entries()) {
    const r = listRequests(c.resources?.requests, `${path}.initContainers[${i}].resources.requests`);
    if (!r.ok) return r;
    if (c.restartPolicy === 'Always') {
      sidecarCpu += r.value.cpu;
      sidecarMemory += r.value.memory;
      initCpu = Math.max(initCpu, sidecarCpu);
      initMemory = Math.max(initMemory, sidecarMemory);
    } else {
      initCpu = Math.max(initCpu, sidecarCpu + r.value.cpu);
      initMemory = Math.max(initMemory, sidecarMemory + r.value.memory);
    }
  }
  cpu = Math.max(cpu + sidecarCpu, initCpu);
  memory = Math.max(memory + sidecarMemory, initMemory);
  const overhead = listRequests(spec.overhead, `${path}.overhead`);
  if (!overhead.ok) return overhead;
  return ok({ cpu: cpu + overhead.value.cpu, memory: memory + overhead.value.memory });
}

function topologyKeyOf(key: string | undefined): string {
  return key === undefined || key === '' ? 'region' : key;
}

export function preparePlacement(p: Placement, fleet: FleetIndex): Result<PreparedPlacement, string> {
  const spec = p.spec;
  const pod = podRequests(spec.template.spec.template.spec);
  if (!pod.ok) return pod;
  const demand = new Float64Array(fleet.dims.length);
  demand[CPU] = pod.value.cpu;
  demand[MEMORY] = pod.value.memory;
  demand[PODS] = 1;
  const unknownDevices: string[] = [];
  const devices: [string, number][] = [];
  for (const a of spec.accelerators ?? []) {
    devices.push([a.deviceClassName, a.count]);
    const dim = fleet.dimOf.get(a.deviceClassName);
    if (dim === undefined) unknownDevices.push(a.deviceClassName);
    else demand[dim] = (demand[dim] ?? 0) + a.count;
  }
  devices.sort((a, b) => compareNames(a[0], b[0]));
  const replicas = spec.replicas;
  const s = spec.spread ?? {};
  const spread: SpreadRules = {
    // A placement cannot span more clusters than it has replicas.
    minClusters: Math.min(s.minClusters ?? 0, replicas),
    maxClusters: s.maxClusters ?? Number.POSITIVE_INFINITY,
    maxSkew: s.maxSkew ?? Number.POSITIVE_INFINITY,
    topologyKey: topologyKeyOf(s.topologyKey),
  };
  const eligibilityKey = JSON.stringify([
    spec.clusterSelector ?? null,
    spec.tolerations ?? null,
    spec.locality?.requiredRegions ?? null,
    devices,
    Array.from(demand),
  ]);
  const strategy = spec.strategy ?? 'Spread';
  const scoreKey = JSON.stringify([eligibilityKey, spec.locality?.preferred ?? null, strategy]);
  return ok({
    key: placementKey(p),
    placement: p,
    replicas,
    priority: spec.priority ?? 0,
    gang: spec.gang ?? false,
    strategy,
    spread,
    demand,
    unknownDevices,
    eligibilityKey,
    scoreKey,
  });
}

/** How many replicas of `demand` fit into `free` at `row`. */
export function fitCount(free: Float64Array, row: number, demand: Float64Array): number {
  let n = Number.POSITIVE_INFINITY;
  for (let d = 0; d < demand.length; d++) {
    const need = demand[d] as number;
    if (need > 0) {
      const k = Math.floor((free[row + d] as number) / need);
      if (k < n) n = k;
    }
  }
  return n;
}

/** The topology domain a cluster belongs to for a spread key. */
export function domainOf(c: Cluster, topologyKey: string): string | undefined {
  switch (topologyKey) {
    case 'region':
      return c.location.region;
    case 'zone':
      return c.location.zone;
    case 'cluster':
      return c.name;
    default:
      return c.labels[topologyKey];
  }
}
