// A member cluster's capacity from its Nodes and Pods, counted the way the Kubernetes scheduler
// counts it: allocatable of the Nodes that can take new Pods, minus the requests of the Pods
// bound to them that have not finished. Pure: objects in, numbers out.

import type { Resources } from '../core/model.js';
import type { PodSpec } from '../core/model.js';
import { podRequests } from '../core/prepare.js';
import { parseMilli, parseUnits } from '../core/quantity.js';

/** Pods of Orrery's own Deployments carry this label; they are not "other workloads". */
export const PLACEMENT_LABEL = 'placement.orrery.dev/placement';

export const REGION_LABEL = 'topology.kubernetes.io/region';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface NodeObject {
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec?: { readonly unschedulable?: boolean; readonly taints?: readonly { key: string; effect: string }[] };
  readonly status?: {
    readonly allocatable?: Readonly<Record<string, string | number>>;
    readonly conditions?: readonly { type: string; status: string }[];
  };
}

export interface PodObject {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec: PodSpec & { readonly nodeName?: string };
  readonly status?: { readonly phase?: string };
}

export interface MemberCapacity {
  readonly allocatable: Resources;
  readonly allocated: Resources;
  readonly nodes: number;
  /** the most common region and zone labels of the counted Nodes */
  readonly region?: string;
  readonly zone?: string;
}

/** Ready, schedulable, and without a NoSchedule or NoExecute taint. */
export function nodeTakesPods(node: NodeObject): boolean {
  if (node.spec?.unschedulable === true) return false;
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return false;
  return !(node.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
}

function quantity(v: string | number | undefined, milli: boolean): number {
  if (v === undefined) return 0;
  const r = milli ? parseMilli(v) : parseUnits(v);
  return r.ok ? r.value : 0;
}

function mostCommon(values: readonly (string | undefined)[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== undefined && v !== '') counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  let n = 0;
  for (const [v, c] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (c > n) [best, n] = [v, c];
  }
  return best;
}

export function measureMember(nodes: readonly NodeObject[], pods: readonly PodObject[]): MemberCapacity {
  const counted = nodes.filter(nodeTakesPods);
  const names = new Set(counted.map((n) => n.metadata.name));
  let cpu = 0;
  let memory = 0;
  let podSlots = 0;
  for (const n of counted) {
    cpu += quantity(n.status?.allocatable?.cpu, true);
    memory += quantity(n.status?.allocatable?.memory, false);
    podSlots += quantity(n.status?.allocatable?.pods, false);
  }
  let usedCpu = 0;
  let usedMemory = 0;
  let usedPods = 0;
  for (const p of pods) {
    const node = p.spec.nodeName;
    if (node === undefined || !names.has(node)) continue;
    if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    if (p.metadata.labels?.[PLACEMENT_LABEL] !== undefined) continue;
    const r = podRequests(p.spec, `pods/${p.metadata.namespace ?? ''}/${p.metadata.name}`);
    if (r.ok) {
      usedCpu += r.value.cpu;
      usedMemory += r.value.memory;
    }
    usedPods++;
  }
  const region = mostCommon(counted.map((n) => n.metadata.labels?.[REGION_LABEL]));
  const zone = mostCommon(counted.map((n) => n.metadata.labels?.[ZONE_LABEL]));
  return {
    allocatable: { cpu, memory, pods: podSlots },
    allocated: { cpu: usedCpu, memory: usedMemory, pods: usedPods },
    nodes: counted.length,
    ...(region !== undefined ? { region } : {}),
    ...(zone !== undefined ? { zone } : {}),
  };
}
