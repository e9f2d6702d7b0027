// PlacementDecision slices (multicluster.x-k8s.io/v1alpha1, KEP-5313) for a decision: at most
// 100 clusters a slice, labelled so consumers can find and join them. Pure.

import type { Decision, FleetSnapshot, Placement } from '../core/model.js';
import { DECISION_API_VERSION, SCHEDULER_NAME } from '../names.js';

export const PLACEMENT_KEY = 'multicluster.x-k8s.io/placement-key';
export const DECISION_KEY = 'multicluster.x-k8s.io/decision-key';
export const DECISION_INDEX = 'multicluster.x-k8s.io/decision-index';
export const SLICE_SIZE = 100;

export interface DecisionSlice {
  readonly apiVersion: typeof DECISION_API_VERSION;
  readonly kind: 'PlacementDecision';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly ownerReferences: readonly { apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean }[];
  };
  readonly decisions: readonly { clusterProfileRef: { name: string; namespace?: string }; reason: string }[];
  readonly schedulerName: string;
}

export function slicesFor(p: Placement, d: Decision, snapshot: FleetSnapshot): DecisionSlice[] {
  const { name, namespace, uid } = p.metadata;
  const chunks: (typeof d.clusters)[] = [];
  for (let i = 0; i < d.clusters.length; i += SLICE_SIZE) chunks.push(d.clusters.slice(i, i + SLICE_SIZE));
  if (chunks.length === 0) chunks.push([]);
  const many = chunks.length > 1;
  return chunks.map((chunk, i) => ({
    apiVersion: DECISION_API_VERSION,
    kind: 'PlacementDecision',
    metadata: {
      name: `${name}-${i}`,
      namespace,
      labels: { [PLACEMENT_KEY]: name, ...(many ? { [DECISION_KEY]: name, [DECISION_INDEX]: String(i) } : {}) },
      ownerReferences: uid ? [{ apiVersion: p.apiVersion, kind: 'Placement', name, uid, controller: true, blockOwnerDeletion: true }] : [],
    },
    decisions: chunk.map((c) => {
      const ns = snapshot.byName.get(c.name)?.profileNamespace;
      return {
        // The shipped type has only name and namespace: anything more is refused by its schema.
        clusterProfileRef: { name: c.name, ...(ns !== undefined ? { namespace: ns } : {}) },
        reason: `${c.replicas} replicas`,
      };
    }),
    schedulerName: SCHEDULER_NAME,
  }));
}
