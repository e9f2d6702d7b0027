// The names Orrery is known by on the hub and in the members: its API group and paths, the
// label and field manager that mark what it made, its finalizer. One home, so that a reader
// finds them and a rename is one line.

import { createHash } from 'node:crypto';
import { API_VERSION } from './core/model.js';

/** Orrery's own API group, for Placements and for authorising callers of the HTTP API. */
export const GROUP = 'placement.orrery.dev';

/** The API path of Placements, and of one Placement or its status or scale subresource. */
export const PLACEMENTS = `/apis/${API_VERSION}`;
export function placementPath(namespace: string, name: string, subresource?: 'status' | 'scale'): string {
  return `${PLACEMENTS}/namespaces/${namespace}/placements/${name}${subresource !== undefined ? `/${subresource}` : ''}`;
}

/** The Cluster Inventory API's PlacementDecisions (KEP-5313). */
export const DECISION_API_VERSION = 'multicluster.x-k8s.io/v1alpha1';
export const DECISIONS = `/apis/${DECISION_API_VERSION}`;

/** Holds a deleted Placement until its members are clean. */
export const FINALIZER = `${GROUP}/cleanup`;

/** Marks what Orrery made for a placement (its value: placementLabel of the placement's key); Pods with it are not "other workloads". */
export const PLACEMENT_LABEL = `${GROUP}/placement`;
export const MANAGED_BY = 'app.kubernetes.io/managed-by';

/** The field manager of every server-side apply Orrery makes, and the value of MANAGED_BY on what it made. */
export const FIELD_MANAGER = 'orrery';

/** The scheduler a PlacementDecision names. */
export const SCHEDULER_NAME = 'orrery';

/** The controller Events name as theirs. */
export const REPORTING_CONTROLLER = `${GROUP}/scheduler`;

/** A label value: as it is up to 63 characters, else `h-` and a hash of `of` (the value itself unless given). */
export function labelValue(value: string, of = value): string {
  return value.length <= 63 ? value : `h-${createHash('sha256').update(of).digest('hex').slice(0, 40)}`;
}

/** An object name: as it is up to 253 characters, else cut and ended with a hash of the whole. */
export function objectName(whole: string): string {
  if (whole.length <= 253) return whole;
  return `${whole.slice(0, 236).replace(/[-.]+$/, '')}-${createHash('sha256').update(whole).digest('hex').slice(0, 16)}`;
}
