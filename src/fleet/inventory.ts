// The inventory as the hub lists it: ClusterProfiles in the newest version the hub serves, and
// one cluster for every profile that names the same member.

import type { ClusterProfileObject } from './access.js';
import type { ApiClient } from './client.js';
import { compareNames } from '../core/model.js';

const GROUP = 'multicluster.x-k8s.io';
/** Newest first. */
const PROFILE_VERSIONS = ['v1alpha2', 'v1alpha1'];
/** Marks one cluster listed in several namespaces (by several cluster managers). */
export const MEMBER_ID_LABEL = 'multicluster.x-k8s.io/inventory-member-id';

/** The newest ClusterProfile group version the hub serves, e.g. multicluster.x-k8s.io/v1alpha2. */
export async function clusterProfileVersion(hub: ApiClient): Promise<string> {
  for (const v of PROFILE_VERSIONS) if (await hub.serves(`${GROUP}/${v}`)) return `${GROUP}/${v}`;
  throw new Error(`the hub serves no ClusterProfile API (${PROFILE_VERSIONS.map((v) => `${GROUP}/${v}`).join(' or ')}): install the Cluster Inventory CRDs (deploy/cluster-inventory/)`);
}

export function profilesPath(groupVersion: string, namespace: string | undefined): string {
  return namespace ? `/apis/${groupVersion}/namespaces/${namespace}/clusterprofiles` : `/apis/${groupVersion}/clusterprofiles`;
}

export interface UniqueProfiles {
  readonly profiles: ClusterProfileObject[];
  /** profiles left out because another cluster already has their name */
  readonly clashes: { readonly profile: ClusterProfileObject; readonly with: ClusterProfileObject }[];
}

/**
 * One profile per cluster, the first by namespace. Profiles with the same inventory-member-id
 * are one cluster; so are profiles that share a name where one of them has no member id (a
 * cluster's name is its profile's name). Two member ids under one name are a clash: the later
 * is left out and reported.
 */
export function uniqueProfiles(listed: readonly ClusterProfileObject[]): UniqueProfiles {
  const sorted = [...listed].sort((a, b) => compareNames(a.metadata.namespace, b.metadata.namespace) || compareNames(a.metadata.name, b.metadata.name));
  const byMember = new Map<string, ClusterProfileObject>();
  const byName = new Map<string, ClusterProfileObject>();
  const profiles: ClusterProfileObject[] = [];
  const clashes: UniqueProfiles['clashes'] = [];
  for (const p of sorted) {
    const member = p.metadata.labels?.[MEMBER_ID_LABEL];
    if (member !== undefined && byMember.has(member)) continue;
    const taken = byName.get(p.metadata.name);
    if (taken !== undefined) {
      // Two member ids under one name are two clusters that cannot both be named so.
      if (member !== undefined && taken.metadata.labels?.[MEMBER_ID_LABEL] !== undefined) clashes.push({ profile: p, with: taken });
      continue;
    }
    if (member !== undefined) byMember.set(member, p);
    byName.set(p.metadata.name, p);
    profiles.push(p);
  }
  return { profiles, clashes };
}
