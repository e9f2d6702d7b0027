import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

const podSpec = (spec: Record<string, unknown>) => ({ template: { spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec } } } });
const podLabels = (labels: Record<string, string>) => ({
  template: { spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels }, spec: { containers: [{ name: 'main', image: 'example' }] } } } },
});
const POD = 'spec.template.spec.template.spec';

/**
 * Templates every member's API server would refuse in the Deployment or Service Orrery makes
 * from them: each with what admission says of it (the CRD) and the field and words the HTTP
 * API and snapshot files give.
 */
export const MEMBER_REFUSALS: [name: string, spec: Record<string, unknown>, admission: RegExp, field: string, message: RegExp][] = [
  [
    'a container name that is not a DNS label',
    podSpec({ containers: [{ name: 'Web_1', image: 'nginx' }] }),
    /containers\[0\]\.name: Invalid value: "Web_1"/,
    `${POD}.containers[0].name`,
    /"Web_1" is not a DNS-1123 label/,
  ],
  [
    'two containers of one name',
    podSpec({
      containers: [
        { name: 'web', image: 'nginx' },
        { name: 'web', image: 'nginx' },
      ],
    }),
    /containers\[1\]: Duplicate value/,
    `${POD}.containers[1].name`,
    /duplicate container name "web" \(also containers\[0\]\)/,
  ],
  [
    'an init container named as a container',
    podSpec({ containers: [{ name: 'web', image: 'nginx' }], initContainers: [{ name: 'web', image: 'busybox' }] }),
    /an init container may not share its name with a container/,
    `${POD}.initContainers[0].name`,
    /duplicate container name "web" \(also containers\[0\]\)/,
  ],
  [
    'an image with a space',
    podSpec({ containers: [{ name: 'web', image: 'nginx latest' }] }),
    /containers\[0\]\.image: Invalid value: "nginx latest"/,
    `${POD}.containers[0].image`,
    /must not hold spaces/,
  ],
  [
    'a container port above 65535',
    podSpec({ containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 70000 }] }] }),
    /containers\[0\]\.ports\[0\]\.containerPort: Invalid value: 70000/,
    `${POD}.containers[0].ports[0].containerPort`,
    /must be between 1 and 65535, got 70000/,
  ],
  [
    'a port name longer than 15',
    podSpec({ containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80, name: 'a-much-too-long-name' }] }] }),
    /containers\[0\]\.ports\[0\]\.name: Too long/,
    `${POD}.containers[0].ports[0].name`,
    /must be at most 15 characters/,
  ],
  [
    'a port name without a letter',
    podSpec({ containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80, name: '8080' }] }] }),
    /a port name needs a letter and may not hold '--'/,
    `${POD}.containers[0].ports[0].name`,
    /a port name needs a letter and may not hold '--'/,
  ],
  ['a label value with a space', podLabels({ app: 'bad value' }), /labels\.app: Invalid value: "bad value"/, 'spec.template.spec.template.metadata.labels.app', /"bad value" is not a label value/],
  ['a label key with a space', podLabels({ 'bad key': 'x' }), /label keys must be qualified names/, 'spec.template.spec.template.metadata.labels["bad key"]', /label keys must be qualified names/],
  [
    'a resource name with two slashes',
    podSpec({ containers: [{ name: 'web', image: 'nginx', resources: { requests: { 'a/b/c': '1' } } }] }),
    /resource names are qualified names such as cpu, memory or example.com\/device/,
    `${POD}.containers[0].resources.requests["a/b/c"]`,
    /resource names are qualified names such as cpu, memory or example.com\/device/,
  ],
  [
    'a Service port name in capitals',
    { service: { ports: [{ port: 80, name: 'HTTP' }] } },
    /spec\.service\.ports\[0\]\.name: Invalid value: "HTTP"/,
    'spec.service.ports[0].name',
    /"HTTP" is not a DNS-1123 label/,
  ],
  [
    'two Service ports, one unnamed',
    { service: { ports: [{ port: 80, name: 'http' }, { port: 443 }] } },
    /a Service with more than one port names every port/,
    'spec.service.ports[1].name',
    /a Service with more than one port names every port/,
  ],
  [
    'a Service target port of 0',
    { service: { ports: [{ port: 80, targetPort: 0 }] } },
    /spec\.service\.ports\[0\]\.targetPort: Invalid value/,
    'spec.service.ports[0].targetPort',
    /must be between 1 and 65535, got 0/,
  ],
];

/** The first shell block of the README after a heading: its commands as a script. */
export function readmeBlock(heading: string): string {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README has no heading ${heading}`);
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (m?.[1] === undefined) throw new Error(`README has no sh block after ${heading}`);
  return m[1];
}
