// Whose an object in a member is, and what Orrery may do with it. An object is Orrery's for a
// placement when it carries the placement's label and Orrery's field manager has applied to it;
// anything else of the same name is someone else's. Orrery creates what is missing, writes with
// force only what is its own, and takes over someone else's object only when the placement asks
// (`spec.takeOver`, as KubeFleet's whenToTakeOver): `IfNoDiff` where the object already says what
// Orrery would write, `Always` whatever it says. Pure: the deployer reads, this decides.

import type { TakeOver } from '../core/model.js';
import { parseQuantity } from '../core/quantity.js';
import { FIELD_MANAGER, MANAGED_BY, PLACEMENT_LABEL } from '../names.js';

/** What ownership reads of an object in a member. */
export interface LiveObject {
  readonly metadata: {
    readonly name: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly managedFields?: readonly { readonly manager?: string; readonly operation?: string }[];
  };
  readonly spec?: unknown;
}

/** What Orrery does with one object it is about to write. */
export type Claim =
  /** nothing of that name: created, without force, so that one made meanwhile is not overwritten */
  | { readonly kind: 'create' }
  /** Orrery's own for this placement: applied with force */
  | { readonly kind: 'own'; readonly uid?: string }
  /**
   * someone else's, taken over as the placement asks: replaced by what Orrery writes (the
   * version read, so that a change since is not lost unseen), then Orrery's from then on
   */
  | { readonly kind: 'takeOver'; readonly uid?: string; readonly resourceVersion?: string }
  /** someone else's: not written */
  | { readonly kind: 'conflict'; readonly message: string };

/** Whether Orrery's field manager has applied to the object. */
function appliedByOrrery(o: LiveObject): boolean {
  return (o.metadata.managedFields ?? []).some((f) => f.manager === FIELD_MANAGER);
}

/** Whether the object is Orrery's for the placement whose label is `label`. */
export function ownedBy(o: LiveObject, label: string): boolean {
  return o.metadata.labels?.[MANAGED_BY] === FIELD_MANAGER && o.metadata.labels?.[PLACEMENT_LABEL] === label && appliedByOrrery(o);
}

/** Whether a shared object (a Namespace) is one Orrery made, for no placement in particular. */
export function madeByOrrery(o: LiveObject): boolean {
  return o.metadata.labels?.[MANAGED_BY] === FIELD_MANAGER && appliedByOrrery(o);
}

/**
 * What to do with `desired` (what Orrery would write) given what the member has of that name.
 * `kind` names the object in messages.
 */
export function claim(kind: string, live: LiveObject | undefined, desired: { readonly spec?: unknown }, label: string, takeOver: TakeOver = 'Never'): Claim {
  if (live === undefined) return { kind: 'create' };
  const uid = live.metadata.uid !== undefined ? { uid: live.metadata.uid } : {};
  if (ownedBy(live, label)) return { kind: 'own', ...uid };
  const version = live.metadata.resourceVersion !== undefined ? { resourceVersion: live.metadata.resourceVersion } : {};
  const whose =
    live.metadata.labels?.[PLACEMENT_LABEL] !== undefined && live.metadata.labels[PLACEMENT_LABEL] !== label ? `another placement's (${live.metadata.labels[PLACEMENT_LABEL]})` : 'not made by Orrery';
  if (takeOver === 'Always') return { kind: 'takeOver', ...uid, ...version };
  if (takeOver === 'IfNoDiff') {
    const diff = firstDifference(desired.spec, live.spec, 'spec');
    if (diff === undefined) return { kind: 'takeOver', ...uid, ...version };
    return { kind: 'conflict', message: `${kind} ${live.metadata.name} exists, ${whose}, and differs from what the placement would write at ${diff} (takeOver: IfNoDiff)` };
  }
  return { kind: 'conflict', message: `${kind} ${live.metadata.name} exists, ${whose} (takeOver: Never)` };
}

/** Labels Orrery adds to what it writes: they mark its own, and say nothing of a difference. */
const MARKERS = new Set([MANAGED_BY, PLACEMENT_LABEL]);

/**
 * The first field where `live` does not say what `desired` says, or undefined when it says all
 * of it. Only what Orrery would write is compared: a field the member defaulted (a Service's
 * clusterIP, a Deployment's strategy) is no difference. Quantities compare by amount ("1000m" is
 * "1"), lists item by item, and a Deployment's replicas are the decision's, not a difference.
 */
export function firstDifference(desired: unknown, live: unknown, path: string): string | undefined {
  if (desired === undefined) return undefined;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return path;
    for (const [i, d] of desired.entries()) {
      const diff = firstDifference(d, live[i], `${path}[${i}]`);
      if (diff !== undefined) return diff;
    }
    return undefined;
  }
  if (desired !== null && typeof desired === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return path;
    for (const [k, d] of Object.entries(desired as Record<string, unknown>)) {
      if (path === 'spec' && k === 'replicas') continue;
      if (path.endsWith('labels') && MARKERS.has(k)) continue;
      const diff = firstDifference(d, (live as Record<string, unknown>)[k], `${path}.${k}`);
      if (diff !== undefined) return diff;
    }
    return undefined;
  }
  return sameScalar(desired, live) ? undefined : path;
}

function sameScalar(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((typeof a !== 'string' && typeof a !== 'number') || (typeof b !== 'string' && typeof b !== 'number')) return false;
  const x = parseQuantity(String(a));
  const y = parseQuantity(String(b));
  return x.ok && y.ok && x.value === y.value;
}

/** The Pod Security labels of a namespace, which a namespace Orrery creates in a member carries over from the hub. */
export function podSecurityLabels(labels: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => k.startsWith('pod-security.kubernetes.io/')));
}
