// The rollout controller: decisions in, members written. It applies each placement's workload
// where its decision puts replicas (one queue a member, a few writes at a time, so a slow or dead
// member holds up only itself), watches Orrery's Deployments in every member so that readiness
// and drift show at once, says which replicas cannot start, and removes what no decision wants.

import type { Decision, FleetSnapshot, Placement } from '../core/model.js';
import { placementKey } from '../core/model.js';
import { type PodView, stuckPods } from '../core/grace.js';
import type { ApiClient } from '../fleet/client.js';
import { PLACEMENT_LABEL } from '../fleet/measure.js';
import { Reflector } from '../fleet/reflector.js';
import { Deployer, MANAGED_BY, placementLabel } from './deployer.js';
import { inQueues } from './queues.js';
import type { Rollout } from './status.js';

interface DeploymentObject {
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string };
  spec?: { replicas?: number };
  status?: { readyReplicas?: number };
}

/** One placement and where its decision puts replicas. */
export interface RolloutWork {
  readonly placement: Placement;
  readonly decision: Decision;
}

/** Replicas of a placement that a member's scheduler has not bound for longer than the grace. */
export interface Stuck {
  readonly placement: string;
  readonly cluster: string;
  readonly replicas: number;
}

/** What the rollout needs of the fleet reader: a client for each member it can reach. */
export interface Members {
  memberClient(name: string): ApiClient | undefined;
}

export interface RolloutOptions {
  /** writes in flight to one member at a time */
  readonly perMember?: number;
  /** how long a replica may stay Pending for lack of room before it is reported stuck */
  readonly pendingGraceMs?: number;
  /** a member's Deployments changed: readiness or drift to look at */
  readonly changed?: () => void;
  /** look again in this many ms (a write a member refused, a watch not caught up yet) */
  readonly later?: (ms: number) => void;
  readonly report?: (source: string, problem: string | undefined) => void;
  readonly log?: (message: string) => void;
}

/** Which placements (by label) each member should run: what pruning keeps. */
export function desiredByMember(work: readonly RolloutWork[]): Map<string, Set<string>> {
  const desired = new Map<string, Set<string>>();
  for (const { placement, decision } of work) {
    const label = placementLabel(placementKey(placement));
    for (const c of decision.clusters) {
      if (c.replicas <= 0) continue;
      (desired.get(c.name) ?? desired.set(c.name, new Set()).get(c.name)!).add(label);
    }
  }
  return desired;
}

/** What was applied for a placement in a member: the placement's version and its replicas. */
function signature(p: Placement, replicas: number): string {
  return `${p.metadata.uid ?? ''}|${p.metadata.generation ?? (p.metadata as { resourceVersion?: string }).resourceVersion ?? ''}|${replicas}`;
}

/** Right after an apply a member's watch may not have caught up: judge drift only after this. */
const SETTLE_MS = 2000;

export class RolloutController {
  private readonly deployer = new Deployer();
  /** placement key + cluster → what was last applied there, and its ready replicas */
  private readonly applied = new Map<string, { sig: string; ready: number; at: number }>();
  private readonly deployments = new Map<string, { client: ApiClient; reflector: Reflector<DeploymentObject> }>();

  constructor(
    private readonly members: Members,
    private readonly opts: RolloutOptions = {},
  ) {}

  stop(): void {
    for (const d of this.deployments.values()) d.reflector.stop();
  }

  /**
   * Applies every placement where its decision puts replicas: all members side by side, each
   * through its own queue. With `full`, everything is applied again (drift repair) and Pods
   * that cannot start are looked for; else only what changed or drifted.
   */
  async carryOut(work: readonly RolloutWork[], snapshot: FleetSnapshot, full: boolean): Promise<{ rollouts: Map<string, Rollout>; stuck: Stuck[] }> {
    this.watch(snapshot);
    const rollouts = new Map<string, Rollout>();
    const stuck: Stuck[] = [];
    const tasks: { queue: string; run: () => Promise<void> }[] = [];
    /** member → label → key of placements with replicas not ready there: their Pods are looked at */
    const unready = new Map<string, Map<string, string>>();
    for (const { placement: p, decision: d } of work) {
      const key = placementKey(p);
      const r = { applied: new Set<string>(), ready: new Map<string, number>(), failed: new Map<string, string>() };
      rollouts.set(key, r);
      for (const c of d.clusters) {
        const at = `${key}|${c.name}`;
        const sig = signature(p, c.replicas);
        const before = this.applied.get(at);
        const seen = this.seen(c.name, p);
        const settled = before !== undefined && Date.now() - before.at > SETTLE_MS;
        const differs = seen.watched && (seen.d === undefined || seen.d.spec?.replicas !== c.replicas);
        // Not settled yet: look again once it is, even if nothing else happens by then.
        if (differs && !settled && before !== undefined) this.opts.later?.(before.at + SETTLE_MS + 100 - Date.now());
        if (!full && before?.sig === sig && !(settled && differs)) {
          r.applied.add(c.name);
          r.ready.set(c.name, seen.d?.status?.readyReplicas ?? before.ready);
          continue;
        }
        const client = this.members.memberClient(c.name);
        if (client === undefined) {
          r.failed.set(c.name, snapshot.byName.get(c.name)?.message ?? 'member not reachable');
          continue;
        }
        tasks.push({
          queue: c.name,
          run: async () => {
            try {
              const a = await this.deployer.apply(c.name, client, p, c.replicas);
              r.applied.add(c.name);
              r.ready.set(c.name, a.readyReplicas);
              this.applied.set(at, { sig, ready: a.readyReplicas, at: Date.now() });
              if (full && a.readyReplicas < c.replicas) (unready.get(c.name) ?? unready.set(c.name, new Map()).get(c.name)!).set(placementLabel(key), key);
            } catch (e) {
              r.failed.set(c.name, (e as Error).message);
              // a member that refused (busy, or a CRD still settling) is tried again soon
              this.opts.later?.(1000);
            }
          },
        });
      }
    }
    await Promise.all(inQueues(tasks, this.opts.perMember ?? 4));
    // One list of Orrery's Pods a member, not one a placement.
    await Promise.all(
      [...unready].map(async ([member, labels]) => {
        const client = this.members.memberClient(member);
        if (client === undefined) return;
        try {
          for (const [label, n] of await this.stuckIn(client, new Set(labels.keys()))) stuck.push({ placement: labels.get(label) as string, cluster: member, replicas: n });
        } catch (e) {
          this.opts.log?.(`looking for Pods that cannot start in ${member}: ${(e as Error).message}`);
        }
      }),
    );
    return { rollouts, stuck };
  }

  /** Whether anything was applied for these placement keys that `work` no longer asks for. */
  leftBehind(work: readonly RolloutWork[]): string[] {
    const wanted = new Set(work.flatMap(({ placement, decision }) => decision.clusters.map((c) => `${placementKey(placement)}|${c.name}`)));
    return [...this.applied.keys()].filter((k) => !wanted.has(k));
  }

  /**
   * Removes, from every member that can be reached, what Orrery made there that `desired` does
   * not name. Returns the members it could not clean up (unreachable, or a call failed).
   */
  async prune(snapshot: FleetSnapshot, desired: ReadonlyMap<string, ReadonlySet<string>>, left: readonly string[]): Promise<Set<string>> {
    const unreachable = new Set<string>();
    await Promise.all(
      snapshot.clusters.map(async (c) => {
        const client = this.members.memberClient(c.name);
        if (client === undefined) {
          unreachable.add(c.name);
          return;
        }
        try {
          await this.deployer.prune(c.name, client, desired.get(c.name) ?? new Set());
        } catch (e) {
          unreachable.add(c.name);
          this.opts.log?.(`pruning ${c.name}: ${(e as Error).message}`);
        }
      }),
    );
    if (unreachable.size === 0) for (const k of left) this.applied.delete(k);
    return unreachable;
  }

  /** Keeps a watch on Orrery's Deployments in every member that can be reached. */
  private watch(snapshot: FleetSnapshot): void {
    for (const c of snapshot.clusters) {
      const client = this.members.memberClient(c.name);
      const current = this.deployments.get(c.name);
      if (client === undefined || current?.client === client) continue;
      current?.reflector.stop();
      const reflector = new Reflector<DeploymentObject>(client, `/apis/apps/v1/deployments?labelSelector=${encodeURIComponent(`${MANAGED_BY}=orrery`)}`, {
        changed: () => this.opts.changed?.(),
        health: (ok, why) => this.opts.report?.(`Deployments in ${c.name}`, ok ? undefined : why),
      });
      this.deployments.set(c.name, { client, reflector });
      reflector.start();
    }
  }

  /** The Deployment as the member's watch last saw it, if it is watched. */
  private seen(cluster: string, p: Placement): { watched: boolean; d?: DeploymentObject } {
    const w = this.deployments.get(cluster);
    if (w === undefined || !w.reflector.synced()) return { watched: false };
    const d = w.reflector.get(p.metadata.namespace, p.metadata.name);
    return d ? { watched: true, d } : { watched: true };
  }

  /** Per placement label of `labels`: how many of its Pods in the member have waited to be bound past the grace. */
  private async stuckIn(client: ApiClient, labels: ReadonlySet<string>): Promise<Map<string, number>> {
    const selector = encodeURIComponent(`${MANAGED_BY}=orrery`);
    const pods = await client.list<{
      metadata: { creationTimestamp?: string; labels?: Record<string, string> };
      spec: { nodeName?: string };
      status?: { conditions?: { type: string; status: string; reason?: string; lastTransitionTime?: string }[] };
    }>(`/api/v1/pods?labelSelector=${selector}`);
    const views = new Map<string, PodView[]>();
    for (const pod of pods.items) {
      const label = pod.metadata.labels?.[PLACEMENT_LABEL];
      if (label === undefined || !labels.has(label)) continue;
      const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
      (views.get(label) ?? views.set(label, []).get(label)!).push({
        ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
        ...(pod.metadata.creationTimestamp ? { createdAt: pod.metadata.creationTimestamp } : {}),
        ...(c ? { scheduled: { status: c.status, ...(c.reason ? { reason: c.reason } : {}), ...(c.lastTransitionTime ? { since: c.lastTransitionTime } : {}) } } : {}),
      });
    }
    const now = Date.now();
    const out = new Map<string, number>();
    for (const [label, list] of views) {
      const n = stuckPods(list, now, this.opts.pendingGraceMs ?? 60_000);
      if (n > 0) out.set(label, n);
    }
    return out;
  }
}

