// Decisions where Argo CD reads them. Argo CD's ClusterDecisionResource generator reads, by duck
// typing, resources of one kind in its own namespace: every entry of `status.clusters` whose
// `name` is an Argo CD cluster's name becomes one Application, each key of the entry a template
// parameter. Placements live in the teams' namespaces, where it never looks, so for every
// Placement delivered by another tool (`spec.delivery: External`) Orrery keeps one
// ClusterDecision in the Argo CD namespace: its clusters with replicas, by name, replicas as
// decimal strings (the generator takes every value of an entry as a string and fails on others).
// Orrery writes only ClusterDecisions it made and deletes only those.

import { API_VERSION, type Decision, type Placement, compareNames, placementKey } from '../core/model.js';
import type { ApiClient } from '../fleet/client.js';
import { FIELD_MANAGER, GROUP, MANAGED_BY, PLACEMENT_LABEL, objectName } from '../names.js';
import { placementLabel } from './deployer.js';
import { type LiveObject, ownedBy } from './ownership.js';

/** The labels a ClusterDecision carries, for an ApplicationSet's labelSelector. */
export const PLACEMENT_NAMESPACE_LABEL = `${GROUP}/placement-namespace`;
export const PLACEMENT_NAME_LABEL = `${GROUP}/placement-name`;

export interface ClusterDecisionObject {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: 'ClusterDecision';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: { readonly placementRef: { readonly namespace: string; readonly name: string } };
  readonly status: { readonly clusters: readonly { readonly name: string; readonly replicas: string }[] };
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * The name of a placement's ClusterDecision: `<namespace>.<name>`, which no two placements share
 * (a namespace has no dots); past 253 characters, cut and marked with a hash of the whole.
 */
export function clusterDecisionName(namespace: string, name: string): string {
  return objectName(`${namespace}.${name}`);
}

/** The ClusterDecision for a placement's decision, in the Argo CD namespace `namespace`. */
export function clusterDecisionFor(p: Placement, d: Decision, namespace: string): ClusterDecisionObject {
  const { namespace: ns, name } = p.metadata;
  return {
    apiVersion: API_VERSION,
    kind: 'ClusterDecision',
    metadata: {
      name: clusterDecisionName(ns, name),
      namespace,
      labels: {
        [MANAGED_BY]: FIELD_MANAGER,
        [PLACEMENT_LABEL]: placementLabel(placementKey(p)),
        [PLACEMENT_NAMESPACE_LABEL]: ns,
        // a name too long for a label value is selected by the ClusterDecision's name instead
        ...(name.length <= 63 && LABEL_VALUE.test(name) ? { [PLACEMENT_NAME_LABEL]: name } : {}),
      },
    },
    spec: { placementRef: { namespace: ns, name } },
    status: {
      clusters: d.clusters
        .filter((c) => c.replicas > 0)
        .sort((a, b) => compareNames(a.name, b.name))
        .map((c) => ({ name: c.name, replicas: String(c.replicas) })),
    },
  };
}

function collectionPath(namespace: string): string {
  return `/apis/${API_VERSION}/namespaces/${namespace}/clusterdecisions`;
}

type Live = LiveObject & {
  readonly spec?: { readonly placementRef?: { readonly namespace?: string; readonly name?: string } };
  readonly status?: { readonly clusters?: readonly { readonly name?: string; readonly replicas?: string }[] };
};

/** Whether a ClusterDecision already says what Orrery would write: its labels and clusters. */
function says(live: Live, body: ClusterDecisionObject): boolean {
  const labels = live.metadata.labels ?? {};
  return Object.entries(body.metadata.labels).every(([k, v]) => labels[k] === v) && JSON.stringify(live.status?.clusters ?? []) === JSON.stringify(body.status.clusters);
}

/** Which placement a ClusterDecision Orrery made is for, by key. */
function keyOf(o: Live): string | undefined {
  const ref = o.spec?.placementRef;
  return ref?.namespace !== undefined && ref.name !== undefined ? `${ref.namespace}/${ref.name}` : undefined;
}

/** The ClusterDecisions of one Argo CD namespace, as Orrery keeps them. */
export class ClusterDecisions {
  /** placement key → the ClusterDecision as last written, to write only what changed */
  private readonly written = new Map<string, string>();

  constructor(
    private readonly hub: ApiClient,
    readonly namespace: string,
  ) {}

  /** Where a placement's ClusterDecision is, as a person reads it. */
  where(p: Placement): string {
    return `${this.namespace}/clusterdecisions/${clusterDecisionName(p.metadata.namespace, p.metadata.name)}`;
  }

  /**
   * Writes a placement's ClusterDecision unless it is as last written (`again`: written
   * anyway, as the periodic re-check does). One of that name that Orrery did not make for this
   * placement is not written: the error says whose it is.
   */
  async publish(p: Placement, d: Decision, again = false): Promise<void> {
    const key = placementKey(p);
    const body = clusterDecisionFor(p, d, this.namespace);
    const text = JSON.stringify(body);
    if (!again && this.written.get(key) === text) return;
    const path = `${collectionPath(this.namespace)}/${body.metadata.name}`;
    const live = await this.hub.getIfThere<Live>(path);
    if (live !== undefined && !(ownedBy(live, placementLabel(key)) && keyOf(live) === key)) {
      this.written.delete(key);
      throw new Error(`${this.where(p)} exists and was not made by Orrery for this Placement`);
    }
    // A new one is created without force, so that one made meanwhile is refused, not merged.
    if (live === undefined || !says(live, body)) await this.hub.apply(path, body, FIELD_MANAGER, live !== undefined);
    this.written.set(key, text);
  }

  /** Whether a ClusterDecision was written for the placement by this process. */
  has(key: string): boolean {
    return this.written.has(key);
  }

  /** Removes the ClusterDecision Orrery made for a placement, if there is one. */
  async withdraw(p: { readonly metadata: { readonly namespace: string; readonly name: string } }): Promise<void> {
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    const path = `${collectionPath(this.namespace)}/${clusterDecisionName(p.metadata.namespace, p.metadata.name)}`;
    const live = await this.hub.getIfThere<Live>(path);
    if (live !== undefined && ownedBy(live, placementLabel(key)) && keyOf(live) === key) await this.hub.deleteIfThere(path, live.metadata.uid);
    this.written.delete(key);
  }

  /**
   * Removes every ClusterDecision Orrery made whose placement is not one of `keep` (deleted, or
   * delivered by Orrery now). Only with a whole list of the Placements: one missing from a
   * partial list is not gone. Returns the keys of those removed.
   */
  async sweep(keep: ReadonlySet<string>): Promise<string[]> {
    const listed = await this.hub.list<Live>(`${collectionPath(this.namespace)}?labelSelector=${encodeURIComponent(`${MANAGED_BY}=${FIELD_MANAGER}`)}`);
    const removed: string[] = [];
    for (const o of listed.items) {
      const key = keyOf(o);
      if (key === undefined || keep.has(key) || !ownedBy(o, placementLabel(key))) continue;
      await this.hub.deleteIfThere(`${collectionPath(this.namespace)}/${o.metadata.name}`, o.metadata.uid);
      this.written.delete(key);
      removed.push(key);
    }
    return removed;
  }
}
