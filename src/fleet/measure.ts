// What of a member's Nodes and Pods capacity is made of, and which Nodes take new Pods: counted
// the way the Kubernetes scheduler counts them (summary.ts does the counting).

import type { PodSpec } from '../core/model.js';
import { PLACEMENT_LABEL } from '../names.js';

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

/** Ready, schedulable, and without a NoSchedule or NoExecute taint. */
export function nodeTakesPods(node: NodeObject): boolean {
  if (node.spec?.unschedulable === true) return false;
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return false;
  return !(node.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
}

/**
 * What capacity needs of a Pod, and nothing more: its node, phase, requests (containers, init
 * containers, overhead) and whether it is Orrery's own. A whole Pod is several KiB of heap.
 */
export function capacityView(p: PodObject & { metadata: { uid?: string; resourceVersion?: string } }): PodObject {
  const requests = (c: { name: string; resources?: { requests?: Readonly<Record<string, string | number | undefined>> } }) => ({
    name: c.name,
    ...(c.resources?.requests !== undefined ? { resources: { requests: c.resources.requests } } : {}),
  });
  const own = p.metadata.labels?.[PLACEMENT_LABEL];
  return {
    metadata: {
      name: p.metadata.name,
      ...(p.metadata.namespace !== undefined ? { namespace: p.metadata.namespace } : {}),
      ...(p.metadata.uid !== undefined ? { uid: p.metadata.uid } : {}),
      ...(p.metadata.resourceVersion !== undefined ? { resourceVersion: p.metadata.resourceVersion } : {}),
      ...(own !== undefined ? { labels: { [PLACEMENT_LABEL]: own } } : {}),
    },
    spec: {
      ...(p.spec.nodeName !== undefined ? { nodeName: p.spec.nodeName } : {}),
      containers: p.spec.containers.map(requests),
      ...(p.spec.initContainers !== undefined
        ? { initContainers: p.spec.initContainers.map((c) => ({ ...requests(c), ...(c.restartPolicy !== undefined ? { restartPolicy: c.restartPolicy } : {}) })) }
        : {}),
      ...(p.spec.overhead !== undefined ? { overhead: p.spec.overhead } : {}),
    },
    ...(p.status?.phase !== undefined ? { status: { phase: p.status.phase } } : {}),
  } as PodObject;
}
