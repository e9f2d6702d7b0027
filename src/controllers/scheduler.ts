// The controller on the hub: Placements and the fleet in, decisions out. It schedules on every
// change (coalesced) and on a periodic re-check, Steady from its last decisions, then writes
// each Placement's status and PlacementDecision slices where they changed, and has the deployer
// carry the decisions out in the members.

import { EventEmitter } from 'node:events';
import { type FleetState, stateOf } from '../core/incremental.js';
import type { Decision, FleetSnapshot, Placement, ScheduleResult } from '../core/model.js';
import { placementKey } from '../core/model.js';
import { scheduleCycle } from '../core/schedule.js';
import { type Avoidance, type PodView, activeAvoidance, avoid, holdUnreadable, stuckPods, withoutStuck } from '../core/grace.js';
import { ApiError, type ApiClient } from '../fleet/client.js';
import { Reflector } from '../fleet/reflector.js';
import type { FleetWatcher } from '../fleet/watcher.js';
import { type DecisionSlice, slicesFor } from './decisions.js';
import { Deployer, FIELD_MANAGER, MANAGED_BY, placementLabel } from './deployer.js';
import { PLACEMENT_LABEL } from '../fleet/measure.js';
import { type PlacementStatus, type Rollout, statusFor } from './status.js';
import { type EventRecorder, decisionEvents } from './events.js';
import type { ProblemLog } from '../problems.js';

export const FINALIZER = 'placement.orrery.dev/cleanup';
const PLACEMENTS = '/apis/placement.orrery.dev/v1alpha1';
const DECISIONS = '/apis/multicluster.x-k8s.io/v1alpha1';

interface DeploymentObject {
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string };
  spec?: { replicas?: number };
  status?: { readyReplicas?: number };
}

type PlacementObject = Placement & {
  metadata: Placement['metadata'] & { deletionTimestamp?: string; finalizers?: string[]; resourceVersion?: string };
  status?: PlacementStatus;
};

export interface SchedulerOptions {
  /** how long a member may be unreadable before its replicas are placed elsewhere */
  readonly unreachableGraceMs?: number;
  /** how long a replica may stay Pending for lack of room before it is placed elsewhere */
  readonly pendingGraceMs?: number;
  /** how long a cluster then takes no new replicas of that placement */
  readonly avoidMs?: number;
  readonly resyncMs?: number;
  readonly coalesceMs?: number;
  /** Whether this instance may write (it leads); one that may not still keeps decisions for the API. */
  readonly writes?: () => boolean;
  readonly clock?: () => number;
  readonly log?: (message: string) => void;
  /** where writes that keep failing are said (one source per Placement) */
  readonly problems?: ProblemLog;
  /** Events on Placements; without one, none are posted */
  readonly events?: EventRecorder;
}

export interface SchedulerEvents {
  /** after every reconcile: the decisions in force and what the cycle took */
  reconciled: [ScheduleResult];
}

export class SchedulerController extends EventEmitter<SchedulerEvents> {
  private readonly placements: Reflector<PlacementObject>;
  private readonly deployer = new Deployer();
  private last = new Map<string, Decision>();
  private state: FleetState | undefined;
  private readonly writtenSlices = new Map<string, string>();
  /** placement key → consecutive cycles whose writes for it failed, for the backoff */
  private readonly writeFailures = new Map<string, number>();
  /** replicas stuck Pending for lack of room: placement key → cluster → count */
  private stuck = new Map<string, Map<string, number>>();
  /** placement key → cluster → until when it takes no new replicas of it */
  private avoiding: Avoidance = new Map();
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private stopped = false;
  private fullNext = true;
  /** what was last applied where: placement key + cluster → signature and ready replicas */
  private readonly applied = new Map<string, { sig: string; ready: number; at: number }>();
  /** each member's Deployments that Orrery made, watched: readiness and drift show at once */
  private readonly deployments = new Map<string, { client: ApiClient; reflector: Reflector<DeploymentObject> }>();

  constructor(
    private readonly hub: ApiClient,
    private readonly fleet: FleetWatcher,
    private readonly opts: SchedulerOptions = {},
  ) {
    super();
    this.placements = new Reflector<PlacementObject>(hub, `${PLACEMENTS}/placements`, {
      changed: () => this.trigger(),
      health: (ok, why) => this.report('Placements on the hub', ok ? undefined : why),
    });
  }

  start(): void {
    this.placements.start();
    this.fleet.on('snapshot', () => this.trigger());
    // The periodic re-check applies everything again (repairing drift) and looks for replicas
    // that cannot start; the cycles in between apply only what changed.
    this.resync = setInterval(() => {
      this.fullNext = true;
      this.trigger();
    }, this.opts.resyncMs ?? 30_000);
    this.trigger();
  }

  stop(): void {
    this.stopped = true;
    this.placements.stop();
    for (const d of this.deployments.values()) d.reflector.stop();
    if (this.timer) clearTimeout(this.timer);
    if (this.resync) clearInterval(this.resync);
  }

  /** A full re-check now: everything applied again, as when this instance has just become leader. */
  recheck(): void {
    this.fullNext = true;
    this.trigger();
  }

  /** The decisions in force, by placement key. */
  decisions(): ReadonlyMap<string, Decision> {
    return this.last;
  }

  /** The fleet state after the last cycle, for what-if and capacity answers. */
  fleetState(): FleetState | undefined {
    return this.state;
  }

  placementObjects(): readonly Placement[] {
    return this.placements.items().filter((p) => p.metadata.deletionTimestamp === undefined);
  }

  private later(ms: number): void {
    if (this.stopped) return;
    setTimeout(() => this.trigger(), Math.max(0, ms)).unref();
  }

  private trigger(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reconcile();
    }, this.opts.coalesceMs ?? 20);
  }

  private log(message: string): void {
    this.opts.log?.(message);
  }

  /** A source's state after an attempt: with a problem log, said there; else failures are logged. */
  private report(source: string, problem: string | undefined): void {
    if (this.opts.problems !== undefined) this.opts.problems.report(source, problem);
    else if (problem !== undefined) this.log(`${source}: ${problem}`);
  }

  private async reconcile(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      await this.cycle();
    } catch (e) {
      this.log(`reconcile failed: ${(e as Error).message}`);
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.trigger();
      }
    }
  }

  private async cycle(): Promise<void> {
    const read = this.fleet.snapshot();
    if (read === undefined) return;
    const snapshot = this.withGrace(read);
    const all = this.placements.items();
    const live = all.filter((p) => p.metadata.deletionTimestamp === undefined);
    const deleting = all.filter((p) => p.metadata.deletionTimestamp !== undefined && (p.metadata.finalizers ?? []).includes(FINALIZER));

    // Before the first cycle, what the placements' status says is the decision in force.
    const previous: Decision[] = [];
    /** the decision in force before this cycle, as its owner was last told it */
    const told = new Map<string, Decision>();
    for (const p of live) {
      const key = placementKey(p);
      const known = this.last.get(key) ?? fromStatus(key, p.status);
      if (known === undefined) continue;
      told.set(key, known);
      previous.push(withoutStuck(known, this.stuck.get(key)));
    }
    const { avoid, kept } = activeAvoidance(this.avoiding, Date.now());
    this.avoiding = kept;
    this.stuck = new Map();
    const cycle = scheduleCycle(snapshot, live, { previous, avoid, clock: this.opts.clock ?? (() => performance.now()) });
    this.state = stateOf(snapshot, cycle);
    this.last = new Map(cycle.result.decisions.map((d) => [d.placement, d]));

    if (this.opts.writes !== undefined && !this.opts.writes()) {
      this.emit('reconciled', cycle.result);
      return;
    }
    const full = this.fullNext;
    this.fullNext = false;
    this.watchDeployments(snapshot);
    const desired = new Map<string, Set<string>>(); // member → placement labels it should run
    const wanted = new Set<string>();
    for (const p of live) {
      const key = placementKey(p);
      const d = this.last.get(key);
      if (d === undefined) continue;
      await this.carryOut(p, d, told.get(key), snapshot, desired, wanted, full);
    }
    // Something left a cluster, or a Placement is going: time to clean up.
    const left = [...this.applied.keys()].filter((k) => !wanted.has(k));
    if (full || deleting.length > 0 || left.length > 0) {
      if (await this.prune(snapshot, desired, deleting)) for (const k of left) this.applied.delete(k);
    }
    this.emit('reconciled', cycle.result);
  }

  /**
   * Everything written for one Placement: each step on its own, so that a write the hub or a
   * member refuses holds up neither the other steps nor any other Placement. A failure is
   * logged, posted as an Event on the Placement and tried again with a backoff.
   */
  private async carryOut(
    p: PlacementObject,
    d: Decision,
    before: Decision | undefined,
    snapshot: FleetSnapshot,
    desired: Map<string, Set<string>>,
    wanted: Set<string>,
    full: boolean,
  ): Promise<void> {
    const key = placementKey(p);
    const failures: string[] = [];
    const step = async (what: string, f: () => Promise<void>) => {
      try {
        await f();
      } catch (e) {
        failures.push(`${what}: ${(e as Error).message}`);
      }
    };
    for (const e of decisionEvents(before, d)) void this.opts.events?.record(p, e);
    let rollout: Rollout | undefined;
    await step('adding the finalizer', () => this.ensureFinalizer(p));
    await step('applying to members', async () => {
      rollout = await this.rollout(p, d, snapshot, desired, wanted, full);
    });
    for (const [cluster, why] of rollout?.failed ?? []) {
      void this.opts.events?.record(p, { type: 'Warning', reason: 'ApplyFailed', action: 'Apply', note: `${cluster}: ${why}` });
    }
    await step('writing status', () => this.writeStatus(p, d, rollout));
    await step('writing PlacementDecisions', () => this.writeSlices(p, d, snapshot));
    const source = placementSource(key);
    if (failures.length === 0) {
      this.writeFailures.delete(key);
      this.report(source, undefined);
      return;
    }
    const n = (this.writeFailures.get(key) ?? 0) + 1;
    this.writeFailures.set(key, n);
    const message = failures.join('; ');
    this.report(source, message);
    void this.opts.events?.record(p, { type: 'Warning', reason: 'WriteFailed', action: 'Write', note: message });
    this.later(Math.min(30_000, 500 * 2 ** Math.min(n, 6)));
  }

  /** Keeps a watch on Orrery's Deployments in every member that can be reached. */
  private watchDeployments(snapshot: FleetSnapshot): void {
    for (const c of snapshot.clusters) {
      const client = this.fleet.memberClient(c.name);
      const current = this.deployments.get(c.name);
      if (client === undefined || current?.client === client) continue;
      current?.reflector.stop();
      const reflector = new Reflector<DeploymentObject>(client, `/apis/apps/v1/deployments?labelSelector=${encodeURIComponent(`${MANAGED_BY}=orrery`)}`, {
        changed: () => this.trigger(),
        health: (ok, why) => this.report(`Deployments in ${c.name}`, ok ? undefined : why),
      });
      this.deployments.set(c.name, { client, reflector });
      reflector.start();
    }
  }

  /** The Deployment as the member's watch last saw it, if it is watched. */
  private seen(cluster: string, p: Placement): { watched: boolean; d?: DeploymentObject } {
    const w = this.deployments.get(cluster);
    if (w === undefined || !w.reflector.synced()) return { watched: false };
    const d = w.reflector.items().find((x) => x.metadata.name === p.metadata.name && x.metadata.namespace === p.metadata.namespace);
    return d ? { watched: true, d } : { watched: true };
  }

  /** Members unreadable for less than the grace period keep their replicas. */
  private withGrace(s: FleetSnapshot): FleetSnapshot {
    const now = Date.now();
    const held = holdUnreadable(s, (name) => this.fleet.unreadableSince(name), now, this.opts.unreachableGraceMs ?? 60_000);
    // When the grace runs out, its replicas go elsewhere: be there to place them.
    if (held.recheckAt !== undefined) this.later(held.recheckAt - now + 50);
    return held.snapshot;
  }

  private async ensureFinalizer(p: PlacementObject): Promise<void> {
    if ((p.metadata.finalizers ?? []).includes(FINALIZER)) return;
    await this.hub.apply(
      `${PLACEMENTS}/namespaces/${p.metadata.namespace}/placements/${p.metadata.name}`,
      { apiVersion: p.apiVersion, kind: 'Placement', metadata: { name: p.metadata.name, namespace: p.metadata.namespace, finalizers: [FINALIZER] } },
      FIELD_MANAGER,
    );
  }

  private async rollout(
    p: PlacementObject,
    d: Decision,
    snapshot: FleetSnapshot,
    desired: Map<string, Set<string>>,
    wanted: Set<string>,
    full: boolean,
  ): Promise<Rollout> {
    const applied = new Set<string>();
    const ready = new Map<string, number>();
    const failed = new Map<string, string>();
    const key = placementKey(p);
    const label = placementLabel(key);
    for (const c of d.clusters) {
      (desired.get(c.name) ?? desired.set(c.name, new Set()).get(c.name)!).add(label);
      const at = `${key}|${c.name}`;
      wanted.add(at);
      const sig = `${p.metadata.uid ?? ''}|${p.metadata.generation ?? p.metadata.resourceVersion ?? ''}|${c.replicas}`;
      const before = this.applied.get(at);
      const seen = this.seen(c.name, p);
      // Applied before and, as far as the member's watch shows, still as applied: nothing to do.
      // Right after an apply the watch may not have caught up: give it a moment before judging.
      const settled = before !== undefined && Date.now() - before.at > 2000;
      const differs = seen.watched && (seen.d === undefined || seen.d.spec?.replicas !== c.replicas);
      const drifted = settled && differs;
      // Not settled yet: look again once it is, even if nothing else happens by then.
      if (differs && !settled && before !== undefined) this.later(before.at + 2100 - Date.now());
      if (!full && before?.sig === sig && !drifted) {
        applied.add(c.name);
        ready.set(c.name, seen.d?.status?.readyReplicas ?? before.ready);
        continue;
      }
      const client = this.fleet.memberClient(c.name);
      if (client === undefined) {
        failed.set(c.name, snapshot.byName.get(c.name)?.message ?? 'member not reachable');
        continue;
      }
      try {
        const r = await this.deployer.apply(c.name, client, p, c.replicas);
        applied.add(c.name);
        ready.set(c.name, r.readyReplicas);
        this.applied.set(at, { sig, ready: r.readyReplicas, at: Date.now() });
        if (full && r.readyReplicas < c.replicas) await this.checkPending(p, c.name, client);
      } catch (e) {
        failed.set(c.name, (e as Error).message);
        // a member that refused (busy, or a CRD still settling) is tried again soon
        this.later(1000);
      }
    }
    return { applied, ready, failed };
  }

  /**
   * Pods of the placement that the member's scheduler could not place, for longer than the
   * grace period: the cluster is at its ceiling for this placement. They are placed elsewhere
   * on the next cycle, and the cluster takes no new replicas of it for a while.
   */
  private async checkPending(p: Placement, cluster: string, client: ApiClient): Promise<void> {
    const selector = encodeURIComponent(`${PLACEMENT_LABEL}=${placementLabel(placementKey(p))}`);
    const pods = await client.list<{ metadata: { creationTimestamp?: string }; spec: { nodeName?: string }; status?: { conditions?: { type: string; status: string; reason?: string; lastTransitionTime?: string }[] } }>(
      `/api/v1/namespaces/${p.metadata.namespace}/pods?labelSelector=${selector}`,
    );
    const now = Date.now();
    const views = pods.items.map((pod): PodView => {
      const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
      return {
        ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
        ...(pod.metadata.creationTimestamp ? { createdAt: pod.metadata.creationTimestamp } : {}),
        ...(c ? { scheduled: { status: c.status, ...(c.reason ? { reason: c.reason } : {}), ...(c.lastTransitionTime ? { since: c.lastTransitionTime } : {}) } } : {}),
      };
    });
    const stuck = stuckPods(views, now, this.opts.pendingGraceMs ?? 60_000);
    if (stuck === 0) return;
    const key = placementKey(p);
    (this.stuck.get(key) ?? this.stuck.set(key, new Map()).get(key)!).set(cluster, stuck);
    this.avoiding = avoid(this.avoiding, key, cluster, now, this.opts.avoidMs ?? 300_000);
    this.log(`${key}: ${stuck} replicas cannot start in ${cluster}; placing them elsewhere`);
    this.again = true;
  }

  private async writeStatus(p: PlacementObject, d: Decision, rollout: Rollout | undefined): Promise<void> {
    const status = statusFor(p, d, rollout, p.status, new Date().toISOString());
    // The server may order fields its own way: compare content, not text.
    if (canonical(status) === canonical(p.status)) return;
    await this.hub.apply(
      `${PLACEMENTS}/namespaces/${p.metadata.namespace}/placements/${p.metadata.name}/status`,
      { apiVersion: p.apiVersion, kind: 'Placement', metadata: { name: p.metadata.name, namespace: p.metadata.namespace }, status },
      FIELD_MANAGER,
    );
  }

  private async writeSlices(p: Placement, d: Decision, snapshot: FleetSnapshot): Promise<void> {
    const slices = slicesFor(p, d, snapshot);
    const ns = p.metadata.namespace;
    for (const s of slices) {
      const key = `${ns}/${s.metadata.name}`;
      const body = JSON.stringify(s);
      // Unchanged slices are not written again.
      if (this.writtenSlices.get(key) === body) continue;
      await this.hub.apply(`${DECISIONS}/namespaces/${ns}/placementdecisions/${s.metadata.name}`, s, FIELD_MANAGER);
      this.writtenSlices.set(key, body);
    }
    await this.dropSlices(ns, p.metadata.name, slices);
  }

  /** Slices past the ones a decision needs, left from when it needed more. */
  private async dropSlices(ns: string, name: string, keep: readonly DecisionSlice[]): Promise<void> {
    const names = new Set(keep.map((s) => s.metadata.name));
    for (const key of [...this.writtenSlices.keys()]) {
      const [sliceNs, slice] = key.split('/') as [string, string];
      if (sliceNs !== ns || names.has(slice) || !slice.startsWith(`${name}-`)) continue;
      try {
        await this.hub.delete(`${DECISIONS}/namespaces/${ns}/placementdecisions/${slice}`);
      } catch (e) {
        // already gone is what was wanted; anything else is this Placement's failed write
        if (!(e instanceof ApiError && e.status === 404)) throw e;
      }
      this.writtenSlices.delete(key);
    }
  }

  /**
   * Removes workloads no longer chosen — only from members that can be reached, and only while
   * the inventory is whole — and finishes the deletion of Placements that were deleted.
   */
  private async prune(snapshot: FleetSnapshot, desired: Map<string, Set<string>>, deleting: readonly PlacementObject[]): Promise<boolean> {
    if (!snapshot.complete) {
      this.log('inventory incomplete: nothing is removed this cycle');
      return false;
    }
    const unreachable = new Set<string>();
    for (const c of snapshot.clusters) {
      const client = this.fleet.memberClient(c.name);
      if (client === undefined) {
        unreachable.add(c.name);
        continue;
      }
      try {
        await this.deployer.prune(c.name, client, desired.get(c.name) ?? new Set());
      } catch (e) {
        unreachable.add(c.name);
        this.log(`pruning ${c.name}: ${(e as Error).message}`);
      }
    }
    for (const p of deleting) {
      // Only once every member that may still run it has been cleaned up.
      if (unreachable.size > 0) continue;
      const finalizers = (p.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
      try {
        await this.hub.mergePatch(`${PLACEMENTS}/namespaces/${p.metadata.namespace}/placements/${p.metadata.name}`, {
          metadata: { finalizers, resourceVersion: p.metadata.resourceVersion },
        });
      } catch (e) {
        if (!(e instanceof ApiError && (e.status === 404 || e.status === 409))) throw e;
      }
      this.last.delete(placementKey(p));
      this.avoiding = new Map([...this.avoiding].filter(([k]) => k !== placementKey(p)));
      this.writeFailures.delete(placementKey(p));
      this.opts.problems?.forget(placementSource(placementKey(p)));
      for (const key of [...this.writtenSlices.keys()]) {
        if (key.startsWith(`${p.metadata.namespace}/${p.metadata.name}-`)) this.writtenSlices.delete(key);
      }
    }
    return unreachable.size === 0;
  }
}

/** The problem source for one Placement's writes. */
function placementSource(key: string): string {
  return `Placement ${key}`;
}

/** The decision a Placement's status records, as a new leader finds it. */
function fromStatus(key: string, status: PlacementStatus | undefined): Decision | undefined {
  if (status?.clusters === undefined) return undefined;
  const scheduled = status.conditions?.find((c) => c.type === 'Scheduled');
  const reason = scheduled?.reason === 'PartiallyScheduled' || scheduled?.reason === 'Unschedulable' ? scheduled.reason : 'Scheduled';
  return {
    placement: key,
    clusters: status.clusters.map((c) => ({ name: c.name, replicas: c.replicas })),
    unscheduledReplicas: status.unscheduledReplicas ?? 0,
    reason,
    message: scheduled?.message ?? '',
  };
}

/** JSON with object keys sorted, so that equal content gives equal text. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );
}
