// Placement status from a decision: the conditions, the per-cluster replicas, and the fields
// the scale subresource reads. Pure; a condition keeps its lastTransitionTime while its status
// does not change, so an unchanged decision writes an unchanged status.

import { type Decision, type Placement, deliveredByOrrery } from '../core/model.js';
import { counted } from '../core/words.js';

export interface Condition {
  readonly type: 'Scheduled' | 'Applied' | 'Available';
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

export interface ClusterStatus {
  readonly name: string;
  readonly replicas: number;
  readonly readyReplicas?: number;
  readonly reason?: string;
}

export interface PlacementStatus {
  readonly observedGeneration?: number;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly selector: string;
  readonly unscheduledReplicas: number;
  readonly clusters: readonly ClusterStatus[];
  readonly conditions: readonly Condition[];
}

/** What the deployer saw in each chosen member. */
export interface Rollout {
  /** clusters where the workload is applied as decided */
  readonly applied: ReadonlySet<string>;
  /** ready replicas per cluster */
  readonly ready: ReadonlyMap<string, number>;
  /** why a cluster could not be applied to, per cluster */
  readonly failed: ReadonlyMap<string, string>;
  /** per cluster, the objects there that someone else made, which the placement would have written */
  readonly conflicts: ReadonlyMap<string, string>;
}

/**
 * For a placement another tool delivers (`spec.delivery: External`): whether its decision is
 * published where that tool reads it, and where (or why not).
 */
export interface Published {
  readonly ok: boolean;
  readonly message: string;
}

/** The label selector of the workload's Pods, in the text form the scale subresource wants. */
export function selectorOf(p: Placement): string {
  const labels = p.spec.template.spec.selector?.matchLabels ?? p.spec.template.spec.template.metadata?.labels ?? {};
  return Object.entries(labels)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function condition(previous: readonly Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>, now: string): Condition {
  const before = previous?.find((c) => c.type === next.type);
  const since = before !== undefined && before.status === next.status ? before.lastTransitionTime : now;
  return { ...next, lastTransitionTime: since };
}

/**
 * Where someone else's objects stand in the way, and what became of those clusters' replicas:
 * a conflicting cluster is avoided, so its replicas are elsewhere or unscheduled.
 */
function conflictMessage(d: Decision, rollout: Rollout): string {
  const where = [...rollout.conflicts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([cluster, why]) => `${cluster}: ${why}`);
  const placed = d.clusters.filter((c) => !rollout.conflicts.has(c.name));
  const failed = [...rollout.failed].filter(([n]) => placed.some((c) => c.name === n)).map(([n, why]) => `${n}: ${why}`);
  const rest = placed.length === 0 ? 'no other cluster holds its replicas' : `the replicas run in ${placed.map((c) => c.name).join(', ')}`;
  return `${where.join('; ')}; ${rest}${failed.length > 0 ? `; ${failed.join('; ')}` : ''}`;
}

export function statusFor(p: Placement, d: Decision, rollout: Rollout | undefined, previous: PlacementStatus | undefined, now: string, published?: Published): PlacementStatus {
  if (!deliveredByOrrery(p)) return externalStatus(p, d, previous, now, published);
  const generation = p.metadata.generation;
  const placed = d.clusters.reduce((s, c) => s + c.replicas, 0);
  const ready = d.clusters.reduce((s, c) => s + (rollout?.ready.get(c.name) ?? 0), 0);
  const pending = d.clusters.filter((c) => !(rollout?.applied.has(c.name) ?? false));
  const failures = [...(rollout?.failed ?? [])].filter(([name]) => d.clusters.some((c) => c.name === name));
  const gen = generation !== undefined ? { observedGeneration: generation } : {};
  const conditions = [
    condition(previous?.conditions, { type: 'Scheduled', status: d.reason === 'Scheduled' ? 'True' : 'False', reason: d.reason, message: d.message, ...gen }, now),
    condition(
      previous?.conditions,
      rollout === undefined
        ? { type: 'Applied', status: 'Unknown', reason: 'Pending', message: 'not applied yet', ...gen }
        : rollout.conflicts.size > 0
          ? { type: 'Applied', status: 'False', reason: 'Conflict', message: conflictMessage(d, rollout), ...gen }
          : failures.length > 0
            ? { type: 'Applied', status: 'False', reason: 'ApplyFailed', message: failures.map(([n, why]) => `${n}: ${why}`).join('; '), ...gen }
            : pending.length > 0
              ? { type: 'Applied', status: 'False', reason: 'Applying', message: `not yet applied to ${pending.map((c) => c.name).join(', ')}`, ...gen }
              : { type: 'Applied', status: 'True', reason: 'Applied', message: `applied to ${counted(d.clusters.length, 'cluster')}`, ...gen },
      now,
    ),
    condition(
      previous?.conditions,
      placed > 0 && ready >= p.spec.replicas
        ? { type: 'Available', status: 'True', reason: 'ReplicasReady', message: `${ready} of ${p.spec.replicas} replicas ready`, ...gen }
        : { type: 'Available', status: 'False', reason: 'ReplicasNotReady', message: `${ready} of ${p.spec.replicas} replicas ready`, ...gen },
      now,
    ),
  ];
  return {
    ...gen,
    replicas: placed,
    readyReplicas: ready,
    selector: selectorOf(p),
    unscheduledReplicas: d.unscheduledReplicas,
    clusters: d.clusters.map((c) => ({
      name: c.name,
      replicas: c.replicas,
      readyReplicas: rollout?.ready.get(c.name) ?? 0,
      ...(rollout?.failed.get(c.name) !== undefined ? { reason: rollout.failed.get(c.name) } : {}),
    })),
    conditions,
  };
}

/**
 * The status of a placement another tool delivers: Applied says whether its decision is
 * published where that tool reads it; readiness is that tool's to tell, so Available is Unknown.
 */
function externalStatus(p: Placement, d: Decision, previous: PlacementStatus | undefined, now: string, published: Published | undefined): PlacementStatus {
  const generation = p.metadata.generation;
  const gen = generation !== undefined ? { observedGeneration: generation } : {};
  const conditions = [
    condition(previous?.conditions, { type: 'Scheduled', status: d.reason === 'Scheduled' ? 'True' : 'False', reason: d.reason, message: d.message, ...gen }, now),
    condition(
      previous?.conditions,
      published === undefined
        ? { type: 'Applied', status: 'Unknown', reason: 'Pending', message: 'not published yet', ...gen }
        : published.ok
          ? { type: 'Applied', status: 'True', reason: 'Published', message: published.message, ...gen }
          : { type: 'Applied', status: 'False', reason: 'PublishFailed', message: published.message, ...gen },
      now,
    ),
    condition(
      previous?.conditions,
      { type: 'Available', status: 'Unknown', reason: 'DeliveredExternally', message: 'another tool runs the replicas (spec.delivery: External); Orrery does not read their readiness', ...gen },
      now,
    ),
  ];
  return {
    ...gen,
    replicas: d.clusters.reduce((s, c) => s + c.replicas, 0),
    readyReplicas: 0,
    selector: selectorOf(p),
    unscheduledReplicas: d.unscheduledReplicas,
    clusters: d.clusters.map((c) => ({ name: c.name, replicas: c.replicas })),
    conditions,
  };
}
