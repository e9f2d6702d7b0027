// What of a member's Nodes and Pods capacity is made of, and which Nodes take new Pods: counted
// the way the Kubernetes scheduler counts them (summary.ts does the counting).

import type { PodSpec } from '../core/model.js';

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
