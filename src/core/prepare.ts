// Per-cycle preparation: the fleet as dense capacity vectors and node groups, and each Placement
// with its per-replica demand worked out once, so filters, scores and the solver share arrays.
//
// Dimensions: 0 milli-CPU, 1 memory bytes, 2 pods, then extended resources (nvidia.com/gpu, ...),
// sorted: the scalar dimensions, which a node has or has not. Then one per device class, sorted:
// a cluster's free devices of each class, summed. A device that several classes match counts in
// each of them there; per node, devices are held by kind (devices alike), each counted once.

import { type DeviceEnvironment, deviceEnvironment, matchesAll } from './cel.js';
import type { Cluster, DeviceAttribute, DeviceInventory, FleetSnapshot, Placement, Resources } from './model.js';
import { classesOf, compareNames, deviceKindKey, placementKey } from './model.js';
import { type ClusterNodes, type DeviceDemand, type NodeDemand, type NodeShape, clusterNodes as nodesOf, normalise } from './nodes.js';
import { type Result, ok } from './result.js';
import { podCost } from './podCost.js';

export const CPU = 0;
export const MEMORY = 1;
export const PODS = 2;
const BASE_DIMS = ['cpu', 'memory', 'pods'] as const;

/** Devices alike, wherever in the fleet they are. */
export interface DeviceKind {
  /** the class the inventory names them by, as read (the rest of `classes` also match) */
  readonly name: string;
  readonly classes: readonly string[];
  readonly attributes: Readonly<Record<string, DeviceAttribute>>;
  readonly driver: string;
}

export interface FleetIndex {
  readonly snapshot: FleetSnapshot;
  readonly clusters: readonly Cluster[];
  /** resource names by dimension */
  readonly dims: readonly string[];
  readonly dimOf: ReadonlyMap<string, number>;
  /** dimensions [0, scalarDims) are scalar resources; the rest device classes */
  readonly scalarDims: number;
  readonly kinds: readonly DeviceKind[];
  /** allocatable and free per cluster, row-major: [cluster * dims.length + dim] */
  readonly allocatable: Float64Array;
  readonly free: Float64Array;
  /** each cluster's nodes as the snapshot gives them, with their free room */
  readonly nodes: readonly ClusterNodes[];
  /** devices per cluster and kind, free or not: [cluster * kinds.length + kind] */
  readonly kindTotals: Float64Array;
  /** per cluster row, 1 where the cluster is one node with no shared pool: its sums are its node */
  readonly wholeNode: Uint8Array;
  /** which kinds a device request matches, by request key; filled as placements ask */
  readonly kindsOf: Map<string, Int32Array>;
  /** one NodeDemand per replica shape, by its key: what is counted per cluster state is remembered by demand */
  readonly demands: Map<string, NodeDemand>;
}

function extendedOf(r: Resources, name: string): number {
  return r.extended?.[name] ?? 0;
}

export function indexFleet(snapshot: FleetSnapshot): FleetIndex {
  const classes = new Set<string>();
  const extended = new Set<string>();
  const kindIndex = new Map<string, number>();
  const kinds: DeviceKind[] = [];
  const noteKinds = (devices: readonly DeviceInventory[]) => {
    for (const d of devices) {
      classes.add(d.deviceClassName);
      for (const c of classesOf(d)) classes.add(c);
      const key = deviceKindKey(d);
      if (!kindIndex.has(key)) {
        kindIndex.set(key, kinds.length);
        kinds.push({ name: d.deviceClassName, classes: [...classesOf(d)].sort(compareNames), attributes: d.attributes ?? {}, driver: d.driver ?? d.deviceClassName });
      }
    }
  };
  for (const c of snapshot.clusters) {
    for (const k of Object.keys(c.allocatable.extended ?? {})) extended.add(k);
    noteKinds(c.devices);
    for (const g of c.nodeGroups ?? []) {
      for (const k of Object.keys(g.allocatable.extended ?? {})) extended.add(k);
      noteKinds(g.devices);
    }
  }
  const scalarNames = [...BASE_DIMS, ...[...extended].sort(compareNames)];
  const dims = [...scalarNames, ...[...classes].sort(compareNames)];
  const dimOf = new Map(dims.map((d, i) => [d, i]));
  const scalarDims = scalarNames.length;
  const n = dims.length;
  const allocatable = new Float64Array(snapshot.clusters.length * n);
  const free = new Float64Array(snapshot.clusters.length * n);
  const scalarOf = (r: Resources) => {
    const v = new Float64Array(scalarDims);
    v[CPU] = r.cpu;
    v[MEMORY] = r.memory;
    v[PODS] = r.pods;
    for (let i = BASE_DIMS.length; i < scalarDims; i++) v[i] = extendedOf(r, scalarNames[i] as string);
    return v;
  };
  const devicesOf = (devices: readonly DeviceInventory[], side: 'total' | 'free') => {
    const v = new Float64Array(kinds.length);
    for (const d of devices) {
      const k = kindIndex.get(deviceKindKey(d)) as number;
      v[k] = (v[k] as number) + (side === 'total' ? d.total : Math.max(0, d.total - d.allocated));
    }
    return v;
  };
  const nodes: ClusterNodes[] = [];
  const kindTotals = new Float64Array(snapshot.clusters.length * kinds.length);
  snapshot.clusters.forEach((c, i) => {
    kindTotals.set(devicesOf(c.devices, 'total'), i * kinds.length);
    const row = i * n;
    const alloc = scalarOf(c.allocatable);
    const used = scalarOf(c.allocated);
    for (let d = 0; d < scalarDims; d++) {
      allocatable[row + d] = alloc[d] as number;
      free[row + d] = Math.max(0, (alloc[d] as number) - (used[d] as number));
    }
    for (const dev of c.devices) {
      for (const cls of classesOf(dev)) {
        const dim = dimOf.get(cls) as number;
        allocatable[row + dim] = (allocatable[row + dim] as number) + dev.total;
        free[row + dim] = (free[row + dim] as number) + Math.max(0, dev.total - dev.allocated);
      }
    }
    nodes.push(clusterNodes(c, scalarOf, devicesOf, kinds.length));
  });
  const wholeNode = Uint8Array.from(nodes, (c) => (c.groups.length <= 1 && (c.groups[0]?.count ?? 1) === 1 && c.shared.every((x) => x === 0) ? 1 : 0));
  return { snapshot, clusters: snapshot.clusters, dims, dimOf, scalarDims, kinds, allocatable, free, nodes, kindTotals, wholeNode, kindsOf: new Map(), demands: new Map() };
}

/** A cluster's node groups with their free room; without any, one node of the whole cluster. */
function clusterNodes(c: Cluster, scalarOf: (r: Resources) => Float64Array, devicesOf: (d: readonly DeviceInventory[], side: 'total' | 'free') => Float64Array, kinds: number): ClusterNodes {
  const room = (allocatable: Resources, allocated: Resources) => {
    const a = scalarOf(allocatable);
    const u = scalarOf(allocated);
    for (let i = 0; i < a.length; i++) a[i] = Math.max(0, (a[i] as number) - (u[i] as number));
    return a;
  };
  if (c.nodeGroups === undefined) {
    return nodesOf(normalise([{ count: 1, free: room(c.allocatable, c.allocated), devices: devicesOf(c.devices, 'free') }]), new Float64Array(kinds));
  }
  const groups: NodeShape[] = c.nodeGroups.map((g) => ({ count: g.count, free: room(g.allocatable, g.allocated), devices: devicesOf(g.devices, 'free') }));
  // What the cluster lists beyond its nodes' own devices is a pool every node may use.
  const shared = devicesOf(c.devices, 'free');
  for (const g of groups) for (let k = 0; k < kinds; k++) shared[k] = Math.max(0, (shared[k] as number) - g.count * (g.devices[k] as number));
  return nodesOf(normalise(groups), shared);
}

/**
 * The device kinds one request matches (its class, and its selectors if it has any), those that
 * fewer classes match first: a replica takes those before the devices more requests could use.
 */
export function kindsFor(fleet: FleetIndex, deviceClassName: string, selectors: readonly string[]): Int32Array {
  const key = JSON.stringify([deviceClassName, selectors]);
  let out = fleet.kindsOf.get(key);
  if (out === undefined) {
    const found: number[] = [];
    fleet.kinds.forEach((k, i) => {
      if (!k.classes.includes(deviceClassName)) return;
      if (selectors.length > 0 && !matchesAll(environmentOf(k), selectors)) return;
      found.push(i);
    });
    found.sort((a, b) => fleet.kinds[a]!.classes.length - fleet.kinds[b]!.classes.length || a - b);
    out = Int32Array.from(found);
    fleet.kindsOf.set(key, out);
  }
  return out;
}

const environments = new WeakMap<DeviceKind, DeviceEnvironment>();
function environmentOf(k: DeviceKind): DeviceEnvironment {
  let env = environments.get(k);
  if (env === undefined) {
    env = deviceEnvironment(k.driver, k.attributes);
    environments.set(k, env);
  }
  return env;
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
  /** What one replica needs of one node. */
  readonly node: NodeDemand;
  /** each device request in words, in the order of node.requests */
  readonly requestNames: readonly string[];
  /**
   * Whether the summed room of a one-node cluster counts this placement exactly: its device
   * requests have no selectors and match devices of no other class.
   */
  readonly countedBySums: boolean;
  /** Device classes and extended resources requested that no cluster of the fleet offers. */
  readonly unknownDevices: readonly string[];
  /** Device requests whose selectors no device of the fleet matches. */
  readonly unmatchedSelectors: readonly string[];
  /** Placements with equal keys pass the same filters on every cluster. */
  readonly eligibilityKey: string;
}

function topologyKeyOf(key: string | undefined): string {
  return key === undefined || key === '' ? 'region' : key;
}

export function preparePlacement(p: Placement, fleet: FleetIndex): Result<PreparedPlacement> {
  const spec = p.spec;
  const pod = podCost(spec.template.spec.template.spec);
  if (!pod.ok) return pod;
  const demand = new Float64Array(fleet.dims.length);
  demand[CPU] = pod.value.cpu;
  demand[MEMORY] = pod.value.memory;
  demand[PODS] = 1;
  const unknownDevices: string[] = [];
  const unmatchedSelectors: string[] = [];
  const requests: DeviceDemand[] = [];
  const requestNames: string[] = [];
  for (const a of spec.accelerators ?? []) {
    const name = a.resourceName ?? a.deviceClassName ?? '';
    const dim = fleet.dimOf.get(name);
    if (dim === undefined) {
      unknownDevices.push(name);
      continue;
    }
    demand[dim] = (demand[dim] ?? 0) + a.count;
    if (a.deviceClassName !== undefined) {
      const selectors = a.selectors ?? [];
      const kinds = kindsFor(fleet, a.deviceClassName, selectors);
      if (kinds.length === 0) unmatchedSelectors.push(`${a.deviceClassName} where ${selectors.join(' && ')}`);
      requests.push({ count: a.count, kinds });
      requestNames.push(selectors.length > 0 ? `${a.deviceClassName} (${selectors.join(' && ')})` : a.deviceClassName);
    }
  }
  const scalar = demand.slice(0, fleet.scalarDims);
  const nodeKey = `${scalar.join(',')}|${requests.map((r) => `${r.count}:${r.kinds.join('.')}`).join(';')}`;
  let node = fleet.demands.get(nodeKey);
  if (node === undefined) fleet.demands.set(nodeKey, (node = { key: nodeKey, scalar, requests }));
  const countedBySums = (spec.accelerators ?? []).every((a) => (a.selectors ?? []).length === 0) && requests.every((r) => [...r.kinds].every((k) => fleet.kinds[k]?.classes.length === 1));
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
    (spec.accelerators ?? []).map((a) => [a.deviceClassName ?? null, a.resourceName ?? null, a.selectors ?? [], a.count]),
    Array.from(demand),
  ]);
  const strategy = spec.strategy ?? 'Spread';
  return ok({
    key: placementKey(p),
    placement: p,
    replicas,
    priority: spec.priority ?? 0,
    gang: spec.gang ?? false,
    strategy,
    spread,
    demand,
    node,
    countedBySums,
    requestNames,
    unknownDevices,
    unmatchedSelectors,
    eligibilityKey,
  });
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

/** The fleet's clusters by topology domain for one key: each domain numbered, a cluster without one in domain ''. */
export interface Domains {
  /** per cluster row, its domain's number */
  readonly of: Int32Array;
  /** per number, the domain's name */
  readonly names: readonly string[];
}

const domainsMemo = new WeakMap<FleetIndex, Map<string, Domains>>();

/** Numbered once per fleet and key: a skew looks its domains up for every cluster it lists. */
export function domainsOf(fleet: FleetIndex, topologyKey: string): Domains {
  let byKey = domainsMemo.get(fleet);
  if (byKey === undefined) domainsMemo.set(fleet, (byKey = new Map()));
  let known = byKey.get(topologyKey);
  if (known === undefined) {
    const names: string[] = [];
    const number = new Map<string, number>();
    const of = Int32Array.from(fleet.clusters, (c) => {
      const name = domainOf(c, topologyKey) ?? '';
      let n = number.get(name);
      if (n === undefined) {
        n = names.length;
        number.set(name, n);
        names.push(name);
      }
      return n;
    });
    known = { of, names };
    byKey.set(topologyKey, known);
  }
  return known;
}
