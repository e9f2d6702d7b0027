// The rollout controller: decisions in, members written. A loop of its own: it reads the
// decisions in force from the rollout book the scheduling controller writes, and writes back
// there what it found in each member (rolloutBook.ts); it applies each placement where its
// decision puts replicas (one coalescing queue a member, a few writes at a time, so a slow or
// dead member holds up only itself), watches Orrery's Deployments in every member so that
// readiness and drift show at once, says which replicas cannot start, removes what no decision
// wants, and holds the Placement's finalizer until the members are clean.

import type { FleetSnapshot, Placement } from '../core/model.js';
import { deliveredByOrrery, placementKey, samePlacement } from '../core/model.js';
import { ApiError, type ApiClient } from '../fleet/client.js';

import { Reflector } from '../fleet/reflector.js';
import { type Conflict, Deployer, type DeploymentView, deploymentView, placementLabel, stuckIn } from './deployer.js';
import { HubNamespaces } from './hubNamespaces.js';

import { KeyedQueue, QueueSet } from './queues.js';
import { type AppliedThere, type PlacementObject, type RolloutBook, type RolloutWork, type WantedChange, at, hasFinalizer, signature, splitAt } from './rolloutBook.js';
import { FIELD_MANAGER, FINALIZER, MANAGED_BY, placementPath } from '../names.js';
import type { PulledPlacement } from '../fleet/report.js';
import { retryDelay } from '../backoff.js';

/** What the rollout needs of the fleet reader: a client for each member it can reach. */
export interface Members {
  memberClient(name: string): ApiClient | undefined;
  /**
   * For a member whose agent carries out its decisions (pull mode), what the agent reports it
   * did; undefined for a member the hub writes to.
   */
  pulled?(name: string): { readonly placements: readonly PulledPlacement[]; readonly problem?: string } | undefined;
}

export interface RolloutOptions {
  /** writes in flight to one member at a time */
  readonly perMember?: number;
  /** finalizer writes in flight to the hub at a time */
  readonly hubWrites?: number;
  /** how long a replica may stay Pending for lack of room before it is reported stuck */
  readonly pendingGraceMs?: number;
  /** whether this instance may write (it leads) */
  readonly writes?: () => boolean;
  readonly report?: (source: string, problem: string | undefined) => void;
  readonly log?: (message: string) => void;
}

/**
 * Which placements (by label) each member should run: what pruning keeps. What Orrery made for
 * a placement another tool now delivers is kept everywhere: Orrery removes nothing of it.
 */
export function desiredByMember(work: Iterable<RolloutWork>): { byMember: Map<string, Set<string>>; everywhere: Set<string> } {
  const desired = new Map<string, Set<string>>();
  const everywhere = new Set<string>();
  for (const { placement, decision } of work) {
    const label = placementLabel(placementKey(placement));
    if (!deliveredByOrrery(placement)) {
      everywhere.add(label);
      continue;
    }
    for (const c of decision.clusters) {
      if (c.replicas <= 0) continue;
      (desired.get(c.name) ?? desired.set(c.name, new Set()).get(c.name)!).add(label);
    }
  }
  return { byMember: desired, everywhere };
}

/** Objects besides the Deployment, which no watch here follows: a re-check applies them again. */
function hasUnwatched(p: Placement): boolean {
  return p.spec.service !== undefined || (p.spec.accelerators ?? []).some((a) => a.deviceClassName !== undefined);
}

export class RolloutController {
  private readonly deployer = new Deployer();
  private snapshot: FleetSnapshot | undefined;
  private deleting: readonly PlacementObject[] = [];
  /** the deleted Placements (uid and resourceVersion) pruning last looked at */
  private deletingSeen = '';
  /** placement key + cluster → consecutive failed applies, for the backoff */
  private readonly attempts = new Map<string, number>();
  /** member → placement key → why the member refused its workload: one problem source a member */
  private readonly refusals = new Map<string, Map<string, string>>();
  /** Placements (key and uid) the finalizer was written to */
  private readonly finalizing = new Set<string>();
  /** something left a member and is not removed yet (the inventory was not whole) */
  private leftover = false;
  private readonly deployments = new Map<string, { client: ApiClient; reflector: Reflector<DeploymentView> }>();
  /** the hub's namespaces, for the Pod Security labels a member namespace Orrery makes carries */
  private readonly hubNamespaces: HubNamespaces;
  private readonly queues: QueueSet;
  private readonly hubQueue: KeyedQueue;
  /** the placement labels each member should run, and for which version of the decisions */
  private desired: { version: number; byMember: Map<string, Set<string>>; everywhere: Set<string> } | undefined;
  /** moves with every change of the decisions in force */
  private version = 0;
  private pruning = false;
  private pruneAgain = false;
  private stopped = false;

  constructor(
    private readonly hub: ApiClient,
    private readonly members: Members,
    private readonly book: RolloutBook,
    private readonly opts: RolloutOptions = {},
  ) {
    book.on('wanted', (c) => this.took(c));
    book.on('recheck', () => this.recheck());
    this.queues = new QueueSet(
      (member, key) => this.applyIn(member, key),
      opts.perMember ?? 4,
      (member, key, e) => opts.log?.(`applying ${key} in ${member}: ${(e as Error).message}`),
    );
    this.hubQueue = new KeyedQueue(
      (key) => this.addFinalizer(key),
      opts.hubWrites ?? 8,
      (key, e) => opts.log?.(`adding the finalizer to ${key}: ${(e as Error).message}`),
    );
    this.hubNamespaces = new HubNamespaces(hub, {
      changed: (ns) => this.podSecurityChanged(ns),
      health: (ok, why) => opts.report?.('Namespaces on the hub', ok ? undefined : why),
    });
  }

  stop(): void {
    this.stopped = true;
    this.queues.stop();
    this.hubQueue.stop();
    this.hubNamespaces.stop();
    for (const d of this.deployments.values()) d.reflector.stop();
  }

  private writes(): boolean {
    return !this.stopped && (this.opts.writes?.() ?? true);
  }

  /** What was told, against what was wanted before (`before`, for the keys `touched`). */
  private took({ before, touched, gone, snapshot, deleting }: WantedChange): void {
    this.version++;
    // A member may have come back: what it refused is looked at again.
    const moved = snapshot !== this.snapshot;
    const look = new Set(touched);
    if (moved) for (const where of this.book.failed.keys()) look.add(splitAt(where)[0]);
    this.snapshot = snapshot;
    this.watch(snapshot);
    let left = gone;
    for (const key of look) {
      const w = this.book.wanted.get(key);
      if (w === undefined) continue;
      if (!deliveredByOrrery(w.placement)) {
        this.handedOver(key);
        continue;
      }
      const prev = before.get(key);
      const same = prev !== undefined && prev.decision === w.decision && samePlacement(prev.placement, w.placement);
      if (same && !(moved && this.failing(key))) continue;
      if (prev?.decision.clusters.some((c) => !w.decision.clusters.some((x) => x.name === c.name))) left = true;
      // a new spec may take over what stood in the way (or no longer conflict with it): looked at again now
      if (prev !== undefined && !samePlacement(prev.placement, w.placement)) {
        for (const cluster of this.book.conflicts.get(key)?.keys() ?? []) if (!w.decision.clusters.some((c) => c.name === cluster)) void this.lookAgain(cluster, w.placement);
      }
      this.needsFinalizer(w.placement);
      this.consider(key, w);
    }
    if (left) this.leftover = true;
    // Deleted Placements, each as last read: a new one, one changed since, or a fleet that
    // changed (a member back within reach) is looked at now.
    const seen = deleting.map((p) => `${p.metadata.uid ?? placementKey(p)}|${p.metadata.resourceVersion ?? ''}`).join(',');
    const fresh = seen !== this.deletingSeen || moved;
    this.deleting = deleting;
    this.deletingSeen = seen;
    if (this.leftover || (fresh && deleting.length > 0)) this.pruneSoon();
  }

  /**
   * A placement another tool delivers: nothing of it is applied, and what Orrery found of it in
   * members (failures, conflicts) no longer stands.
   */
  private handedOver(key: string): void {
    let changed = false;
    for (const where of [...this.book.failed.keys()]) if (splitAt(where)[0] === key) changed = this.book.failed.delete(where) || changed;
    for (const member of [...this.refusals.keys()]) this.refused(member, key, undefined);
    for (const cluster of [...(this.book.conflicts.get(key)?.keys() ?? [])]) this.conflicted(key, cluster, undefined);
    if (changed) this.book.emit('progressed', key);
  }

  /** Whether a member refused something of the placement. */
  private failing(key: string): boolean {
    const w = this.book.wanted.get(key);
    return w?.decision.clusters.some((c) => this.book.failed.has(at(key, c.name))) === true;
  }

  /**
   * Everything applied again that the watches cannot confirm (a Deployment whose replicas or
   * generation differ, objects no watch follows), Pods that cannot start looked for, and what
   * no decision wants removed: at the periodic re-check the scheduling controller makes, and when
   * this instance has just become leader.
   */
  recheck(): void {
    if (!this.writes()) return;
    for (const [key, w] of this.book.wanted) {
      if (!deliveredByOrrery(w.placement)) continue;
      this.needsFinalizer(w.placement);
      for (const c of w.decision.clusters) {
        // its agent applies it, and says so in its report
        if (this.members.pulled?.(c.name) !== undefined) continue;
        const a = this.book.applied.get(at(key, c.name));
        if (a === undefined || a.sig !== signature(w.placement, c.replicas) || hasUnwatched(w.placement) || !this.confirmed(c.name, w.placement, a)) this.queue(c.name, key);
      }
    }
    // A conflict in a member the decision left is looked at again: someone may have removed theirs.
    for (const [key, byCluster] of this.book.conflicts) {
      const w = this.book.wanted.get(key);
      if (w === undefined) continue;
      for (const cluster of byCluster.keys()) if (!w.decision.clusters.some((c) => c.name === cluster)) void this.lookAgain(cluster, w.placement);
    }
    // Namespaces whose Pod Security labels a write could not carry over are tried again.
    for (const ns of new Set((this.snapshot?.clusters ?? []).flatMap((c) => this.deployer.madeNamespaces(c.name)))) this.podSecurityChanged(ns);
    void this.lookForStuck();
    this.pruneSoon();
  }

  /**
   * The Pod Security labels of a hub namespace changed (or were first read): every member
   * namespace of that name that Orrery made gets them.
   */
  private podSecurityChanged(ns: string): void {
    if (!this.writes()) return;
    for (const c of this.snapshot?.clusters ?? []) {
      const client = this.members.memberClient(c.name);
      if (client === undefined || !this.deployer.madeNamespaces(c.name).includes(ns)) continue;
      void this.hubNamespaces
        .podSecurity(ns)
        .then((labels) => this.deployer.ensureNamespace(c.name, client, ns, labels))
        .catch((e: unknown) => this.opts.log?.(`Pod Security labels of namespace ${ns} in ${c.name}: ${(e as Error).message}`));
    }
  }

  /** Whether the objects of a placement that conflicted in a member still do. */
  private async lookAgain(member: string, p: Placement): Promise<void> {
    const client = this.members.memberClient(member);
    if (client === undefined || !this.writes()) return;
    try {
      this.conflicted(placementKey(p), member, await this.deployer.conflicts(member, client, p));
    } catch (e) {
      this.opts.log?.(`looking again at the conflicts of ${placementKey(p)} in ${member}: ${(e as Error).message}`);
    }
  }

  /** A placement's conflicts in a member, as last found (none: empty or undefined). */
  private conflicted(key: string, member: string, found: readonly Conflict[] | undefined): void {
    const list = found !== undefined && found.length > 0 ? found : undefined;
    const byCluster = this.book.conflicts.get(key);
    const before = byCluster?.get(member);
    if (JSON.stringify(before) === JSON.stringify(list)) return;
    if (list !== undefined) (byCluster ?? this.book.conflicts.set(key, new Map()).get(key)!).set(member, list);
    else if (byCluster !== undefined) {
      byCluster.delete(member);
      if (byCluster.size === 0) this.book.conflicts.delete(key);
    }
    this.book.emit('conflicted', { placement: key, cluster: member, conflicts: list });
  }

  /**
   * The agent of a member in pull mode reported what it carried out: every placement decided
   * there takes its word, and deleted Placements may now be let go.
   */
  pulledChanged(member: string): void {
    for (const [key, w] of this.book.wanted) {
      if (!deliveredByOrrery(w.placement) || !w.decision.clusters.some((c) => c.name === member)) continue;
      if (this.fromAgent(key, member)) this.book.emit('progressed', key);
    }
    if (this.deleting.length > 0 || this.leftover) this.pruneSoon();
  }

  /**
   * What a pull-mode member's agent did with a placement, taken into the book as the hub's own
   * writes would be: applied for this version of the placement and these replicas (and how many
   * are ready), refused, or someone else's objects in the way; until the agent says so, pending.
   * Answers whether anything changed.
   */
  private fromAgent(key: string, member: string): boolean {
    const w = this.book.wanted.get(key);
    const c = w?.decision.clusters.find((x) => x.name === member);
    const state = this.members.pulled?.(member);
    if (w === undefined || c === undefined || state === undefined) return false;
    const where = at(key, member);
    const sig = signature(w.placement, c.replicas);
    const p = w.placement;
    const entry = state.placements.find(
      (e) => e.namespace === p.metadata.namespace && e.name === p.metadata.name && e.uid === (p.metadata.uid ?? '') && e.generation === (p.metadata.generation ?? 0) && e.replicas === c.replicas,
    );
    const before = JSON.stringify([this.book.applied.get(where), this.book.failed.get(where)]);
    if (entry?.state === 'Applied') {
      this.book.applied.set(where, { sig, replicas: c.replicas, ready: entry.readyReplicas });
      this.book.failed.delete(where);
    } else {
      if (this.book.applied.get(where)?.sig !== sig) this.book.applied.delete(where);
      if (entry?.state === 'Failed') this.book.failed.set(where, `its agent: ${entry.message ?? 'failed'}`);
      else if (state.problem !== undefined) this.book.failed.set(where, `its agent: ${state.problem}`);
      else this.book.failed.delete(where);
    }
    this.conflicted(key, member, entry?.state === 'Conflict' ? [{ object: `the workload in ${member}`, message: entry.message ?? 'someone else made it' }] : undefined);
    return before !== JSON.stringify([this.book.applied.get(where), this.book.failed.get(where)]);
  }

  /** Resolves once nothing is queued or being written. */
  async idle(): Promise<void> {
    await Promise.all([this.queues.idle(), this.hubQueue.idle()]);
    while (this.pruning) await new Promise((r) => setTimeout(r, 10));
  }

  /** Queues, for each chosen member, what is not applied there as decided. */
  private consider(key: string, w: RolloutWork): void {
    let changed = false;
    for (const c of w.decision.clusters) {
      const where = at(key, c.name);
      if (this.members.pulled?.(c.name) !== undefined) {
        // Its agent acts on the Placement's status: that is written now, not once the agent has applied it.
        this.fromAgent(key, c.name);
        changed = true;
        continue;
      }
      if (this.book.applied.get(where)?.sig === signature(w.placement, c.replicas)) {
        // applied as decided, though the member may have been out of reach since
        if (this.book.failed.delete(where)) changed = true;
        continue;
      }
      if (this.members.memberClient(c.name) === undefined) {
        const why = this.snapshot?.byName.get(c.name)?.message ?? 'member not reachable';
        if (this.book.failed.get(where) !== why) changed = true;
        this.book.failed.set(where, why);
        continue;
      }
      this.queue(c.name, key);
    }
    if (changed) this.book.emit('progressed', key);
  }

  /**
   * A member's answer to a placement's workload: refused (`why`) or not. What a member keeps
   * refusing is one problem a member, named by the Placement it refused first: a member that
   * refuses many is said once (and again while it lasts, as the problem log does), not once for each.
   */
  private refused(member: string, key: string, why: string | undefined): void {
    const now = this.refusals.get(member) ?? new Map<string, string>();
    if (why === undefined && !now.delete(key)) return;
    if (why !== undefined) now.set(key, why);
    if (now.size === 0) this.refusals.delete(member);
    else this.refusals.set(member, now);
    const [first] = now;
    const others = now.size > 1 ? ' (and other Placements)' : '';
    this.opts.report?.(`Workloads in ${member}`, first === undefined ? undefined : `refuses ${first[0]}: ${first[1]}${others}`);
  }

  private queue(member: string, key: string): void {
    if (this.writes()) this.queues.add(member, key);
  }

  /** One placement's workload written to one member, as wanted when its turn comes. */
  private async applyIn(member: string, key: string): Promise<void> {
    if (!this.writes()) return;
    const w = this.book.wanted.get(key);
    const c = w?.decision.clusters.find((x) => x.name === member);
    // no longer wanted there: pruning's business; delivered by another tool: not Orrery's to write
    if (w === undefined || c === undefined || !deliveredByOrrery(w.placement)) {
      this.refused(member, key, undefined);
      return;
    }
    // its agent applies it
    if (this.members.pulled?.(member) !== undefined) return;
    const where = at(key, member);
    const client = this.members.memberClient(member);
    if (client === undefined) {
      this.book.failed.set(where, this.snapshot?.byName.get(member)?.message ?? 'member not reachable');
      this.book.emit('progressed', key);
      return;
    }
    try {
      const outcome = await this.deployer.apply(member, client, w.placement, c.replicas, await this.hubNamespaces.podSecurity(w.placement.metadata.namespace));
      this.book.failed.delete(where);
      this.attempts.delete(where);
      this.refused(member, key, undefined);
      this.conflicted(key, member, outcome.ok ? undefined : outcome.conflicts);
      if (!outcome.ok) {
        // Someone else's: nothing written, and not tried again until the placement or the decision changes or the re-check.
        this.book.emit('progressed', key);
        return;
      }
      const a = outcome.applied;
      this.book.applied.set(where, {
        sig: signature(w.placement, c.replicas),
        replicas: c.replicas,
        ready: a.readyReplicas,
        ...(a.uid !== undefined ? { uid: a.uid } : {}),
        ...(a.generation !== undefined ? { generation: a.generation } : {}),
      });
    } catch (e) {
      this.book.failed.set(where, (e as Error).message);
      this.refused(member, key, (e as Error).message);
      // a member that refused (busy, or a CRD still settling) is tried again, later each time
      const n = (this.attempts.get(where) ?? 0) + 1;
      this.attempts.set(where, n);
      setTimeout(() => this.queue(member, key), retryDelay(n)).unref();
    }
    this.book.emit('progressed', key);
    // moved away while it was written: what was just written is to go
    if (!this.book.wanted.get(key)?.decision.clusters.some((x) => x.name === member)) this.pruneSoon();
  }

  /** The finalizer goes on every placement Orrery writes to members, so that deletion waits for cleanup. */
  private needsFinalizer(p: PlacementObject): void {
    if (hasFinalizer(p) || this.finalizing.has(finalizerKey(p))) return;
    if (this.writes()) this.hubQueue.add(placementKey(p));
  }

  private async addFinalizer(key: string): Promise<void> {
    const p = this.book.wanted.get(key)?.placement;
    if (p === undefined || !this.writes() || hasFinalizer(p)) return;
    const source = `Placement ${key}: finalizer`;
    try {
      await this.hub.applyOnly(
        placementPath(p.metadata.namespace, p.metadata.name),
        { apiVersion: p.apiVersion, kind: 'Placement', metadata: { name: p.metadata.name, namespace: p.metadata.namespace, finalizers: [FINALIZER] } },
        FIELD_MANAGER,
      );
      this.finalizing.add(finalizerKey(p));
      this.opts.report?.(source, undefined);
    } catch (e) {
      this.opts.report?.(source, `adding the finalizer: ${(e as Error).message}`);
      setTimeout(() => this.needsFinalizer(p), 2000).unref();
    }
  }

  /** Pruning soon, once at a time; asked again while it runs, it runs again after. */
  private pruneSoon(): void {
    if (this.pruning) {
      this.pruneAgain = true;
      return;
    }
    this.pruning = true;
    void this.prune().finally(() => {
      this.pruning = false;
      if (this.pruneAgain) {
        this.pruneAgain = false;
        this.pruneSoon();
      }
    });
  }

  /**
   * Removes, from every member that can be reached, what Orrery made there that no decision
   * wants — only while the inventory is whole — and then lets deleted Placements go.
   */
  private async prune(): Promise<void> {
    const snapshot = this.snapshot;
    if (snapshot === undefined || !this.writes()) return;
    if (!snapshot.complete) {
      this.opts.log?.('inventory incomplete: nothing is removed');
      return;
    }
    // what a member out of reach or a failed call keeps is removed on the next re-check
    this.leftover = false;
    const unreachable = new Set<string>();
    await Promise.all(
      snapshot.clusters.map(async (c) => {
        const pulled = this.members.pulled?.(c.name);
        if (pulled !== undefined) {
          // its agent removes what no decision wants there: clean once its report lists none of the deleted
          const left = new Set(pulled.placements.map((e) => `${e.namespace}/${e.name}`));
          if (this.deleting.some((p) => left.has(placementKey(p)))) unreachable.add(c.name);
          for (const [where] of this.book.applied) {
            const [key, cluster] = splitAt(where);
            if (cluster === c.name && !left.has(key)) this.book.applied.delete(where);
          }
          return;
        }
        const client = this.members.memberClient(c.name);
        if (client === undefined) {
          unreachable.add(c.name);
          return;
        }
        try {
          await this.deployer.prune(c.name, client, (label) => this.keeps(c.name, label));
          // what was applied there and is no longer wanted is gone now
          for (const [where] of this.book.applied) {
            const [key, cluster] = splitAt(where);
            if (cluster === c.name && !this.book.wanted.get(key)?.decision.clusters.some((x) => x.name === cluster)) this.book.applied.delete(where);
          }
        } catch (e) {
          unreachable.add(c.name);
          this.opts.log?.(`pruning ${c.name}: ${(e as Error).message}`);
        }
      }),
    );
    if (this.deleting.length === 0) return;
    // Only once every member that may still run them has been cleaned up.
    if (unreachable.size > 0) {
      this.opts.log?.(`deleted Placements wait for ${[...unreachable].sort().join(', ')} to be cleaned up`);
      setTimeout(() => this.pruneSoon(), 5000).unref();
      return;
    }
    for (const p of this.deleting) await this.release(p);
  }

  /** The finalizer taken off a deleted Placement whose members are clean. */
  private async release(p: PlacementObject): Promise<void> {
    const key = placementKey(p);
    const finalizers = (p.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
    try {
      await this.hub.mergePatch(placementPath(p.metadata.namespace, p.metadata.name), {
        metadata: { finalizers, resourceVersion: p.metadata.resourceVersion },
      });
    } catch (e) {
      // changed meanwhile: the change brings it here again, as it is now
      if (e instanceof ApiError && e.status === 409) return;
      // gone already is what was wanted; anything else is tried again
      if (!(e instanceof ApiError && e.status === 404)) {
        this.opts.log?.(`releasing ${key}: ${(e as Error).message}`);
        setTimeout(() => this.pruneSoon(), 5000).unref();
        return;
      }
    }
    this.book.forget(key);
    for (const member of [...this.refusals.keys()]) this.refused(member, key, undefined);
    this.finalizing.delete(finalizerKey(p));
    this.opts.report?.(`Placement ${key}: finalizer`, undefined);
    this.book.emit('finalized', key);
  }

  /** Whether what Orrery made in a member for the placement of `label` stays (worked out once for each set of decisions). */
  private keeps(member: string, label: string): boolean {
    if (this.desired?.version !== this.version) this.desired = { version: this.version, ...desiredByMember(this.book.wanted.values()) };
    return this.desired.everywhere.has(label) || this.desired.byMember.get(member)?.has(label) === true;
  }

  /** Keeps a watch on Orrery's Deployments in every member that can be reached. */
  private watch(snapshot: FleetSnapshot): void {
    for (const c of snapshot.clusters) {
      const client = this.members.memberClient(c.name);
      const current = this.deployments.get(c.name);
      if (client === undefined || current?.client === client) continue;
      current?.reflector.stop();
      const reflector = new Reflector<DeploymentView>(
        client,
        `/apis/apps/v1/deployments?labelSelector=${encodeURIComponent(`${MANAGED_BY}=orrery`)}`,
        {
          changed: (o, deleted) => this.observed(c.name, o, deleted === true),
          health: (ok, why) => this.opts.report?.(`Deployments in ${c.name}`, ok ? undefined : why),
        },
        deploymentView,
      );
      this.deployments.set(c.name, { client, reflector });
      reflector.start();
    }
  }

  /**
   * A member's Deployment changed (or, after a list, any may have): drift is applied again,
   * readiness goes to the placement's status.
   */
  private observed(member: string, o: DeploymentView | undefined, deleted: boolean): void {
    if (o === undefined) {
      for (const [key, w] of this.book.wanted) if (w.decision.clusters.some((c) => c.name === member)) this.check(member, key);
      return;
    }
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    const a = this.book.applied.get(at(key, member));
    // the deletion of one Deployment before the one applied since
    if (deleted && a?.uid !== undefined && o.metadata.uid !== a.uid) return;
    this.check(member, key);
  }

  private check(member: string, key: string): void {
    const w = this.book.wanted.get(key);
    const c = w?.decision.clusters.find((x) => x.name === member);
    const a = this.book.applied.get(at(key, member));
    if (w === undefined || c === undefined || a === undefined || a.sig !== signature(w.placement, c.replicas)) return;
    const seen = this.seen(member, w.placement);
    // an event from before the apply says nothing of it
    if (seen !== undefined && a.generation !== undefined && (seen.metadata.generation ?? 0) < a.generation && seen.metadata.uid === a.uid) return;
    if (!this.confirmed(member, w.placement, a)) {
      this.queue(member, key);
      return;
    }
    const ready = seen?.status.readyReplicas ?? 0;
    if (ready !== a.ready) {
      a.ready = ready;
      this.book.emit('progressed', key);
    }
  }

  /** Whether the member's watch shows the Deployment as it was applied. */
  private confirmed(member: string, p: Placement, a: AppliedThere): boolean {
    const w = this.deployments.get(member);
    if (w === undefined || !w.reflector.synced()) return false;
    const d = w.reflector.get(p.metadata.namespace, p.metadata.name);
    if (d === undefined || d.spec.replicas !== a.replicas) return false;
    if (a.uid !== undefined && d.metadata.uid !== a.uid) return false;
    return a.generation === undefined || d.metadata.generation === a.generation;
  }

  /** The Deployment as the member's watch last saw it, if it is watched. */
  private seen(cluster: string, p: Placement): DeploymentView | undefined {
    const w = this.deployments.get(cluster);
    if (w === undefined || !w.reflector.synced()) return undefined;
    return w.reflector.get(p.metadata.namespace, p.metadata.name);
  }

  /** Placements with replicas not ready: one list of Orrery's Pods a member, not one a placement. */
  private async lookForStuck(): Promise<void> {
    const unready = new Map<string, Map<string, string>>();
    for (const [key, w] of this.book.wanted) {
      if (!deliveredByOrrery(w.placement)) continue;
      for (const c of w.decision.clusters) {
        const a = this.book.applied.get(at(key, c.name));
        if (a === undefined) continue;
        const ready = this.seen(c.name, w.placement)?.status.readyReplicas ?? a.ready;
        if (ready < c.replicas) (unready.get(c.name) ?? unready.set(c.name, new Map()).get(c.name)!).set(placementLabel(key), key);
      }
    }
    await Promise.all(
      [...unready].map(async ([member, labels]) => {
        // a member whose agent pulls counts its own, and says how many in its report
        const pulled = this.members.pulled?.(member);
        if (pulled !== undefined) {
          for (const e of pulled.placements) {
            const key = `${e.namespace}/${e.name}`;
            if ((e.stuckReplicas ?? 0) > 0 && labels.has(placementLabel(key))) this.book.emit('stuck', { placement: key, cluster: member, replicas: e.stuckReplicas as number });
          }
          return;
        }
        const client = this.members.memberClient(member);
        if (client === undefined) return;
        try {
          for (const [label, n] of await stuckIn(client, new Set(labels.keys()), this.opts.pendingGraceMs ?? 60_000))
            this.book.emit('stuck', { placement: labels.get(label) as string, cluster: member, replicas: n });
        } catch (e) {
          this.opts.log?.(`looking for Pods that cannot start in ${member}: ${(e as Error).message}`);
        }
      }),
    );
  }
}

function finalizerKey(p: Placement): string {
  return `${placementKey(p)}|${p.metadata.uid ?? ''}`;
}
