// The record the two hub controllers share, as KubeFleet's scheduler and work applier share
// their bindings. The scheduling controller writes what each placement should run where (its
// Placement and decision) and which Placements are being deleted; the rollout controller writes,
// per placement and member, what it applied there, what the member refused and whose objects
// stand in the way, and says when replicas cannot start or a deleted Placement is let go.
// Neither controller holds the other: each writes its side here and is told when the other's moves.

import { EventEmitter } from 'node:events';
import { type Decision, type FleetSnapshot, type Placement, deliveredByOrrery } from '../core/model.js';
import type { Conflict } from './deployer.js';
import type { Rollout } from './status.js';
import { FINALIZER } from '../names.js';

/** A Placement as the hub serves it: with the metadata its deletion is read from. */
export type PlacementObject = Placement & {
  metadata: Placement['metadata'] & { deletionTimestamp?: string; finalizers?: string[]; resourceVersion?: string };
};

export function hasFinalizer(p: PlacementObject): boolean {
  return (p.metadata.finalizers ?? []).includes(FINALIZER);
}

/** A Placement deleted on the hub that waits on Orrery's finalizer: its members to be cleaned. */
export function waitsOnFinalizer(p: PlacementObject): boolean {
  return p.metadata.deletionTimestamp !== undefined && hasFinalizer(p);
}

/** One placement and where its decision puts replicas. */
export interface RolloutWork {
  readonly placement: PlacementObject;
  readonly decision: Decision;
}

/** Replicas of a placement that a member's scheduler has not bound for longer than the grace. */
export interface Stuck {
  readonly placement: string;
  readonly cluster: string;
  readonly replicas: number;
}

/** Objects of a placement in a member that someone else made (none: the conflict is over). */
export interface Conflicted {
  readonly placement: string;
  readonly cluster: string;
  readonly conflicts: readonly Conflict[] | undefined;
}

/** What the rollout applied for a placement in a member, and the Deployment as the member answered. */
export interface AppliedThere {
  /** the placement's version and the replicas applied (see signature) */
  readonly sig: string;
  readonly replicas: number;
  readonly uid?: string;
  readonly generation?: number;
  ready: number;
}

/** What was applied for a placement in a member: the placement's version and its replicas. */
export function signature(p: Placement, replicas: number): string {
  return `${p.metadata.uid ?? ''}|${p.metadata.generation ?? (p.metadata as { resourceVersion?: string }).resourceVersion ?? ''}|${replicas}`;
}

/** The key of a placement in a member, in the rollout's records. */
export const at = (key: string, cluster: string) => `${key}|${cluster}`;

export function splitAt(where: string): [string, string] {
  const i = where.lastIndexOf('|');
  return [where.slice(0, i), where.slice(i + 1)];
}

/** What the scheduling side changed: the placements it touched against what they were, and the deletions. */
export interface WantedChange {
  readonly before: ReadonlyMap<string, RolloutWork>;
  readonly touched: Iterable<string>;
  /** whether a placement left the decisions */
  readonly gone: boolean;
  readonly snapshot: FleetSnapshot;
  readonly deleting: readonly PlacementObject[];
}

export interface BookEvents {
  /** the scheduling side: decisions in force changed */
  wanted: [WantedChange];
  /** the scheduling side: apply again what no watch confirms (the periodic re-check, a new leader) */
  recheck: [];
  /** the rollout side: what a placement's rollout says moved, so its status is written again */
  progressed: [key: string];
  stuck: [Stuck];
  conflicted: [Conflicted];
  /** the rollout side: a deleted placement's members are clean and its finalizer is off */
  finalized: [key: string];
}

/** A placement's conflicts as a person reads them: cluster → what stands in the way there. */
function reasonsOf(byCluster: ReadonlyMap<string, readonly Conflict[]> | undefined): Map<string, string> {
  return new Map([...(byCluster ?? [])].map(([cluster, list]) => [cluster, list.map((c) => c.message).join('; ')]));
}

export class RolloutBook extends EventEmitter<BookEvents> {
  /** the scheduling side's: the decisions in force, by placement key */
  wanted = new Map<string, RolloutWork>();
  /** the rollout side's: placement key + cluster → what was last applied there */
  readonly applied = new Map<string, AppliedThere>();
  /** the rollout side's: placement key + cluster → why it could not be applied */
  readonly failed = new Map<string, string>();
  /** the rollout side's: placement key → cluster → the objects there that are someone else's */
  readonly conflicts = new Map<string, Map<string, readonly Conflict[]>>();

  /** The decisions in force now, all of them, and the Placements being deleted. */
  want(work: readonly RolloutWork[], snapshot: FleetSnapshot, deleting: readonly PlacementObject[] = []): void {
    const before = this.wanted;
    this.wanted = new Map(work.map((w) => [w.decision.placement, w]));
    const gone = [...before.keys()].some((key) => !this.wanted.has(key));
    this.emit('wanted', { before, touched: [...this.wanted.keys()], gone, snapshot, deleting });
  }

  /** Some decisions changed (`work`) and some placements left (`gone`); the others stand as last written. */
  change(work: readonly RolloutWork[], gone: readonly string[], snapshot: FleetSnapshot, deleting: readonly PlacementObject[] = []): void {
    const before = new Map<string, RolloutWork>();
    for (const w of work) {
      const prev = this.wanted.get(w.decision.placement);
      if (prev !== undefined) before.set(w.decision.placement, prev);
      this.wanted.set(w.decision.placement, w);
    }
    let left = false;
    for (const key of gone) left = this.wanted.delete(key) || left;
    this.emit('wanted', { before, touched: work.map((w) => w.decision.placement), gone: left, snapshot, deleting });
  }

  recheck(): void {
    this.emit('recheck');
  }

  /** What a placement's rollout says now, for its status. */
  rolloutOf(key: string, d: Decision): Rollout {
    const applied = new Set<string>();
    const ready = new Map<string, number>();
    const failed = new Map<string, string>();
    const conflicts = reasonsOf(this.conflicts.get(key));
    const w = this.wanted.get(key);
    for (const c of d.clusters) {
      if (conflicts.has(c.name)) continue;
      const why = this.failed.get(at(key, c.name));
      if (why !== undefined) {
        failed.set(c.name, why);
        continue;
      }
      const a = this.applied.get(at(key, c.name));
      if (a === undefined || w === undefined || a.sig !== signature(w.placement, c.replicas)) continue;
      applied.add(c.name);
      ready.set(c.name, a.ready);
    }
    return { applied, ready, failed, conflicts };
  }

  /** Whether some chosen member of the placement has neither taken its decision nor refused it. */
  pending(key: string, d: Decision): boolean {
    const w = this.wanted.get(key);
    if (w !== undefined && !deliveredByOrrery(w.placement)) return false;
    const r = this.rolloutOf(key, d);
    return d.clusters.some((c) => !r.applied.has(c.name) && !r.failed.has(c.name) && !r.conflicts.has(c.name));
  }

  /** Why each placement avoids a cluster while someone else's objects stand there: placement key → cluster → why. */
  conflictReasons(): Map<string, Map<string, string>> {
    return new Map([...this.conflicts].map(([key, byCluster]) => [key, reasonsOf(byCluster)]));
  }

  /** Every conflict in force, one entry a placement and member. */
  conflictsNow(): { placement: string; cluster: string }[] {
    return [...this.conflicts].flatMap(([placement, byCluster]) => [...byCluster.keys()].map((cluster) => ({ placement, cluster })));
  }

  /** Nothing of a placement let go is kept. */
  forget(key: string): void {
    for (const where of [...this.applied.keys(), ...this.failed.keys()]) {
      if (splitAt(where)[0] !== key) continue;
      this.applied.delete(where);
      this.failed.delete(where);
    }
    this.conflicts.delete(key);
  }
}
