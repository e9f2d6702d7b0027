// The scheduling controller on the hub: Placements and the fleet in, decisions out. It schedules
// on every change (coalesced) and on a periodic re-check, Steady from its last decisions, hands
// the decisions to the rollout controller (rollout.ts) to carry out in the members, then writes
// each Placement's status and PlacementDecision slices where they changed, and finishes the
// deletion of Placements once the members are clean.

import { EventEmitter } from 'node:events';
import { type FleetState, controllerCycle } from '../core/incremental.js';
import type { Decision, FleetSnapshot, Placement, ScheduleResult } from '../core/model.js';
import { placementKey } from '../core/model.js';
import { type Avoidance, activeAvoidance, avoid, holdUnreadable, withoutStuck } from '../core/grace.js';
import { ApiError, type ApiClient } from '../fleet/client.js';
import { Reflector } from '../fleet/reflector.js';
import type { FleetWatcher } from '../fleet/watcher.js';
import { type DecisionSlice, slicesFor } from './decisions.js';
import { FIELD_MANAGER } from './deployer.js';
import { forEachLimit } from './queues.js';
import { RolloutController, type RolloutWork, type Stuck, desiredByMember } from './rollout.js';
import { type PlacementStatus, type Rollout, statusFor } from './status.js';
import { type EventRecorder, decisionEvents } from './events.js';
import type { ProblemLog } from '../problems.js';

export const FINALIZER = 'placement.orrery.dev/cleanup';
const PLACEMENTS = '/apis/placement.orrery.dev/v1alpha1';
const DECISIONS = '/apis/multicluster.x-k8s.io/v1alpha1';
/** writes to the hub in flight at a time: status, slices, finalizers */
const HUB_WRITES = 16;

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
  /** writes in flight to one member at a time */
  readonly perMember?: number;
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
  private readonly rollout: RolloutController;
  private last = new Map<string, Decision>();
  private state: FleetState | undefined;
  private readonly writtenSlices = new Map<string, string>();
  /** what the hub was last written for each placement: unchanged, nothing is written again */
  private readonly hubWritten = new Map<string, { readonly p: Placement; readonly d: Decision; readonly rollout: string }>();
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
    this.rollout = new RolloutController(fleet, {
      ...(opts.perMember !== undefined ? { perMember: opts.perMember } : {}),
      ...(opts.pendingGraceMs !== undefined ? { pendingGraceMs: opts.pendingGraceMs } : {}),
      changed: () => this.trigger(),
      later: (ms) => this.later(ms),
      report: (source, problem) => this.report(source, problem),
      log: (message) => this.log(message),
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
    this.rollout.stop();
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
    const unstarted = this.stuck.size > 0;
    this.stuck = new Map();
    const next = controllerCycle(this.state, snapshot, live, previous, { avoid, clock: this.opts.clock ?? (() => performance.now()), fresh: unstarted });
    this.state = next.state;
    this.last = new Map(next.state.decisions);

    if (this.opts.writes !== undefined && !this.opts.writes()) {
      this.emit('reconciled', next.result);
      return;
    }
    const full = this.fullNext;
    this.fullNext = false;
    const work: RolloutWork[] = live.flatMap((p) => {
      const d = this.last.get(placementKey(p));
      return d === undefined ? [] : [{ placement: p, decision: d }];
    });
    for (const { placement: p, decision: d } of work) {
      for (const e of decisionEvents(told.get(placementKey(p)), d)) void this.opts.events?.record(p, e);
    }
    // Members first, every one side by side; then the hub, for what changed there.
    const { rollouts, stuck } = await this.rollout.carryOut(work, snapshot, full);
    this.noteStuck(stuck);
    await forEachLimit(work, HUB_WRITES, async ({ placement: p, decision: d }) => {
      const key = placementKey(p);
      const rollout = rollouts.get(key) as Rollout;
      const seen = rolloutSignature(rollout);
      const last = this.hubWritten.get(key);
      // The same Placement object, decision and rollout as last written: nothing to write.
      if (!full && last !== undefined && last.p === p && last.d === d && last.rollout === seen) return;
      for (const [cluster, why] of rollout.failed) {
        void this.opts.events?.record(p, { type: 'Warning', reason: 'ApplyFailed', action: 'Apply', note: `${cluster}: ${why}` });
      }
      const failures: string[] = [];
      const attempt = async (what: string, f: () => Promise<void>) => {
        try {
          await f();
        } catch (e) {
          failures.push(`${what}: ${(e as Error).message}`);
        }
      };
      await attempt('adding the finalizer', () => this.ensureFinalizer(p as PlacementObject));
      await attempt('writing status', () => this.writeStatus(p as PlacementObject, d, rollout));
      await attempt('writing PlacementDecisions', () => this.writeSlices(p, d, snapshot));
      this.settleWrites(p, failures);
      if (failures.length === 0) this.hubWritten.set(key, { p, d, rollout: seen });
      else this.hubWritten.delete(key);
    });
    // Something left a cluster, or a Placement is going: time to clean up.
    const left = this.rollout.leftBehind(work);
    if (full || deleting.length > 0 || left.length > 0) await this.prune(snapshot, desiredByMember(work), deleting, left);
    this.emit('reconciled', next.result);
  }

  /**
   * After a placement's writes: a failure is said (problem log, Event) and tried again with a
   * backoff; a success clears what was said.
   */
  private settleWrites(p: Placement, failures: readonly string[] | undefined): void {
    const key = placementKey(p);
    const source = placementSource(key);
    if (failures === undefined || failures.length === 0) {
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

  /**
   * Replicas the members could not start: placed elsewhere on the next cycle, and the cluster
   * takes no new replicas of that placement for a while.
   */
  private noteStuck(stuck: readonly Stuck[]): void {
    const now = Date.now();
    for (const s of stuck) {
      (this.stuck.get(s.placement) ?? this.stuck.set(s.placement, new Map()).get(s.placement)!).set(s.cluster, s.replicas);
      this.avoiding = avoid(this.avoiding, s.placement, s.cluster, now, this.opts.avoidMs ?? 300_000);
      this.log(`${s.placement}: ${s.replicas} replicas cannot start in ${s.cluster}; placing them elsewhere`);
      this.again = true;
    }
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
  private async prune(snapshot: FleetSnapshot, desired: Map<string, Set<string>>, deleting: readonly PlacementObject[], left: readonly string[]): Promise<void> {
    if (!snapshot.complete) {
      this.log('inventory incomplete: nothing is removed this cycle');
      return;
    }
    const unreachable = await this.rollout.prune(snapshot, desired, left);
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
      this.hubWritten.delete(placementKey(p));
      this.opts.problems?.forget(placementSource(placementKey(p)));
      for (const key of [...this.writtenSlices.keys()]) {
        if (key.startsWith(`${p.metadata.namespace}/${p.metadata.name}-`)) this.writtenSlices.delete(key);
      }
    }
  }
}

/** What a rollout says, as text to compare. */
function rolloutSignature(r: Rollout): string {
  return JSON.stringify([[...r.applied].sort(), [...r.ready].sort(), [...r.failed].sort()]);
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
