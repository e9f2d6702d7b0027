// How long the scheduler waits before it acts on trouble in a member, as pure functions of
// what it saw and the clock: a member that cannot be read keeps its replicas for a grace period;
// replicas its own scheduler cannot start for a grace period are placed elsewhere, and that
// cluster takes no new replicas of the placement for a while.

import type { Decision, FleetSnapshot } from './model.js';
import { makeSnapshot } from './model.js';

/**
 * The snapshot with every member that cannot be read, for less than `graceMs`, held: it keeps
 * what runs there and takes nothing new. `since` says from when a member could not be read
 * (undefined: it can be read again although the snapshot does not say so yet, also held).
 * `recheckAt` is when the first grace runs out, to schedule again then.
 */
export function holdUnreadable(snapshot: FleetSnapshot, since: (cluster: string) => number | undefined, now: number, graceMs: number): { snapshot: FleetSnapshot; recheckAt?: number } {
  if (!snapshot.clusters.some((c) => c.reachable === false)) return { snapshot };
  let recheckAt: number | undefined;
  const clusters = snapshot.clusters.map((c) => {
    if (c.reachable !== false) return c;
    const from = since(c.name);
    if (from !== undefined && now - from >= graceMs) return c;
    if (from !== undefined) recheckAt = Math.min(recheckAt ?? Number.POSITIVE_INFINITY, from + graceMs);
    return { ...c, hold: true };
  });
  return { snapshot: makeSnapshot(clusters, snapshot.generation, snapshot.complete), ...(recheckAt !== undefined ? { recheckAt } : {}) };
}

/** What a Pod says of whether it could be scheduled, as the member reports it. */
export interface PodView {
  readonly nodeName?: string;
  readonly createdAt?: string;
  readonly scheduled?: { readonly status: string; readonly reason?: string; readonly since?: string };
}

/** Pods the member's scheduler has found no room for, for `graceMs` or longer. */
export function stuckPods(pods: readonly PodView[], now: number, graceMs: number): number {
  let stuck = 0;
  for (const pod of pods) {
    if (pod.nodeName) continue;
    const c = pod.scheduled;
    if (c?.status !== 'False' || c.reason !== 'Unschedulable') continue;
    const since = Date.parse(pod.createdAt ?? c.since ?? '');
    if (Number.isFinite(since) && now - since >= graceMs) stuck++;
  }
  return stuck;
}

/** Clusters a placement takes no new replicas on, until a time and why: placement key → cluster → both. */
export type Avoidance = ReadonlyMap<string, ReadonlyMap<string, { readonly until: number; readonly why: string }>>;

/** Avoidance with one more cluster for a placement, for `forMs` from now. */
export function avoid(current: Avoidance, key: string, cluster: string, now: number, forMs: number, why: string): Avoidance {
  const next = new Map(current);
  next.set(key, new Map(current.get(key) ?? []).set(cluster, { until: now + forMs, why }));
  return next;
}

/**
 * What is still avoided at `now`, as the solver takes it (placement → cluster → why), and the
 * avoidance with what ran out dropped. `standing`: clusters avoided for as long as a cause
 * lasts rather than for a time (someone else's objects where the placement would write).
 */
export function activeAvoidance(current: Avoidance, now: number, standing: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map()): { avoid: Map<string, Map<string, string>>; kept: Avoidance } {
  const active = new Map<string, Map<string, string>>();
  const kept = new Map<string, Map<string, { until: number; why: string }>>();
  for (const [key, clusters] of current) {
    for (const [name, a] of clusters) {
      if (a.until <= now) continue;
      (active.get(key) ?? active.set(key, new Map()).get(key)!).set(name, a.why);
      (kept.get(key) ?? kept.set(key, new Map()).get(key)!).set(name, a);
    }
  }
  for (const [key, clusters] of standing) {
    for (const [name, why] of clusters) (active.get(key) ?? active.set(key, new Map()).get(key)!).set(name, why);
  }
  return { avoid: active, kept };
}

/**
 * The decision in force with the replicas that could not start taken off the clusters they
 * were sent to: they count as not placed there, so the next cycle places them elsewhere.
 */
export function withoutStuck(decision: Decision, stuck: ReadonlyMap<string, number> | undefined): Decision {
  if (stuck === undefined) return decision;
  return {
    ...decision,
    clusters: decision.clusters.map((c) => ({ name: c.name, replicas: Math.max(0, c.replicas - (stuck.get(c.name) ?? 0)) })).filter((c) => c.replicas > 0),
  };
}

/**
 * The decision in force without the clusters where nothing of the placement could be written
 * (someone else's objects stand there): none of its replicas run there, so the next cycle
 * places them elsewhere.
 */
export function withoutConflicts(decision: Decision, conflicts: ReadonlyMap<string, unknown> | undefined): Decision {
  if (conflicts === undefined || !decision.clusters.some((c) => conflicts.has(c.name))) return decision;
  return { ...decision, clusters: decision.clusters.filter((c) => !conflicts.has(c.name)) };
}
