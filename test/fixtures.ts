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
  if (!prepared.ok) throw new Error(prepared.error);
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
