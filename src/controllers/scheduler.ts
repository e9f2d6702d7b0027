// The scheduling controller on the hub: Placements and the fleet in, decisions out. It schedules
// on every change that can move a decision (coalesced) and on a periodic re-check, Steady from
// the decisions in force, writes them into the rollout book (rolloutBook.ts) for the rollout
// controller to carry out without waiting for it, and writes each Placement's status and
// PlacementDecision slices through a queue of its own as decisions and what the book says of
// the rollouts change.

import { EventEmitter } from 'node:events';
import { FleetState } from '../core/fleetState.js';
import type { ScheduleOptions } from '../core/cycle.js';
import type { Decision, FleetSnapshot, Placement, ScheduleResult } from '../core/model.js';
import { deliveredByOrrery, placementKey, sameDecision } from '../core/model.js';
import { type Avoidance, activeAvoidance, avoid, holdUnreadable, withoutConflicts, withoutStuck } from '../core/grace.js';
import { ApiError, type ApiClient } from '../fleet/client.js';
import { Reflector } from '../fleet/reflector.js';
import type { FleetWatcher } from '../fleet/watcher.js';
import { slicesFor } from './decisions.js';

import { KeyedQueue } from './queues.js';
import { type Conflicted, type PlacementObject as HubPlacement, type RolloutBook, type RolloutWork, type Stuck, waitsOnFinalizer } from './rolloutBook.js';
import { type PlacementStatus, type Published, type Rollout, statusFor } from './status.js';
import { ClusterDecisions } from './clusterDecisions.js';
import { type EventRecorder, decisionEvents } from './events.js';
import { type ProblemLog, reporter } from '../problems.js';
import { DECISIONS, FIELD_MANAGER, PLACEMENTS, placementPath } from '../names.js';
import { retryDelay } from '../backoff.js';

/** status and slice writes to the hub in flight at a time */
const HUB_WRITES = 16;

type PlacementObject = HubPlacement & { status?: PlacementStatus };

export interface SchedulerOptions {
  /** how long a member may be unreadable before its replicas are placed elsewhere */
  readonly unreachableGraceMs?: number;
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
  /** where the ClusterDecisions of placements Argo CD delivers go: Argo CD's namespace (default argocd) */
  readonly argocdNamespace?: string;
}

export interface SchedulerEvents {
  /** after every reconcile: the decisions in force and what the cycle took */
  reconciled: [ScheduleResult];
}

export class SchedulerController extends EventEmitter<SchedulerEvents> {
  private readonly placements: Reflector<PlacementObject>;
  private readonly hubQueue: KeyedQueue;
  /** the decisions of placements another tool delivers, where Argo CD reads them */
  private readonly clusterDecisions: ClusterDecisions;
  private state: FleetState | undefined;
  /** placement key → slice name → the slice as last written */
  private readonly writtenSlices = new Map<string, Map<string, string>>();
  /** what the hub was last written for each placement: unchanged, nothing is written again */
  private readonly hubWritten = new Map<string, { readonly generation: number | undefined; readonly d: Decision; readonly rollout: string }>();
  /** placements whose hub writes are looked at again even if nothing seems changed */
  private readonly forced = new Set<string>();
  /** placement key → consecutive writes for it that failed, for the backoff */
  private readonly writeFailures = new Map<string, number>();
  /** Placements changed since the last cycle, in what scheduling reads of them */
  private changed = new Set<string>();
  /** the Placements were listed again: the next cycle goes over all of them */
  private relisted = true;
  /** Placements being deleted that wait on the finalizer */
  private deleting = new Set<string>();
  /** what scheduling reads of each Placement (generation, deletion), to tell status-only changes */
  private readonly scheduled = new Map<string, string>();
  /** replicas stuck Pending for lack of room: placement key → cluster → count */
  private stuck = new Map<string, Map<string, number>>();
  /** placement key → cluster → until when it takes no new replicas of it */
  private avoiding: Avoidance = new Map();
  /** a conflict began or ended since the last cycle: the next goes over every Placement */
  private conflictsMoved = false;
  private running = false;
  private again = false;
  /** how long the last cycle took */
  private lastCycleMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private stopped = false;
  private fullNext = true;

  constructor(
    private readonly hub: ApiClient,
    private readonly fleet: FleetWatcher,
    /** what the rollout controller is to carry out, and what it found */
    private readonly book: RolloutBook,
    private readonly opts: SchedulerOptions = {},
  ) {
    super();
    this.clusterDecisions = new ClusterDecisions(hub, opts.argocdNamespace ?? 'argocd');
    book.on('progressed', (key) => this.hubQueue.add(key));
    book.on('stuck', (x) => this.noteStuck(x));
    book.on('conflicted', (c) => this.noteConflict(c));
    book.on('finalized', (key) => this.forget(key));
    this.placements = new Reflector<PlacementObject>(hub, `${PLACEMENTS}/placements`, {
      changed: (o, deleted) => this.placementChanged(o, deleted === true),
      health: (ok, why) => this.report('Placements on the hub', ok ? undefined : why),
    });
    this.hubQueue = new KeyedQueue(
      (key) => this.writeHub(key),
      HUB_WRITES,
      (key, e) => this.log(`writing ${key} to the hub: ${(e as Error).message}`),
    );
  }

  start(): void {
    this.placements.start();
    this.fleet.on('snapshot', () => this.trigger());
    // The periodic re-check writes the hub again where it drifted, has the rollout apply what
    // its watches cannot confirm, and looks for replicas that cannot start.
    this.resync = setInterval(() => {
      this.fullNext = true;
      this.trigger();
    }, this.opts.resyncMs ?? 30_000);
    this.trigger();
  }

  stop(): void {
    this.stopped = true;
    this.placements.stop();
    this.hubQueue.stop();
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
    return this.state?.decisions ?? new Map();
  }

  /** The fleet state after the last cycle, for what-if and capacity answers. */
  fleetState(): FleetState | undefined {
    return this.state;
  }

  placementObjects(): readonly Placement[] {
    return this.placements.items().filter((p) => p.metadata.deletionTimestamp === undefined);
  }

  private writes(): boolean {
    return !this.stopped && (this.opts.writes?.() ?? true);
  }

  /**
   * A Placement changed on the hub. Only a change scheduling reads (a new one, its spec, its
   * deletion) schedules again; its status and finalizers, written here, do not.
   */
  private placementChanged(o: PlacementObject | undefined, deleted: boolean): void {
    if (o === undefined) {
      this.relisted = true;
      this.trigger();
      return;
    }
    const key = placementKey(o);
    if (!deleted && waitsOnFinalizer(o)) this.deleting.add(key);
    else this.deleting.delete(key);
    const read = schedulingRead(o);
    if (deleted) {
      // gone from the hub, with or without the finalizer: nothing of it is kept
      this.scheduled.delete(key);
      this.forget(key);
      if (!deliveredByOrrery(o) || this.clusterDecisions.has(key)) this.withdraw(o);
    } else if (this.scheduled.get(key) === read) return;
    else this.scheduled.set(key, read);
    this.changed.add(key);
    this.trigger();
  }

  private later(ms: number): void {
    if (this.stopped) return;
    setTimeout(() => this.trigger(), Math.max(0, ms)).unref();
  }

  private trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) return;
    // Under a stream of changes, a cycle waits twice as long as the last took: the more there is
    // to go over, the more changes each cycle takes in, and scheduling keeps to a third of a core.
    const wait = Math.min(1000, Math.max(this.opts.coalesceMs ?? 20, 2 * this.lastCycleMs));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reconcile();
    }, wait);
  }

  private log(message: string): void {
    this.opts.log?.(message);
  }

  /** A source's state after an attempt: with a problem log, said there; else failures are logged. */
  private report(source: string, problem: string | undefined): void {
    reporter(this.opts.problems, this.opts.log)(source, problem);
  }

  private async reconcile(): Promise<void> {
    this.running = true;
    const started = performance.now();
    try {
      this.cycle();
    } catch (e) {
      this.log(`reconcile failed: ${(e as Error).message}`);
    } finally {
      this.lastCycleMs = performance.now() - started;
      this.running = false;
      if (this.again) {
        this.again = false;
        this.trigger();
      }
    }
  }

  private cycle(): void {
    const read = this.fleet.snapshot();
    if (read === undefined) return;
    const snapshot = this.withGrace(read);
    const { avoid, kept } = activeAvoidance(this.avoiding, Date.now(), this.book.conflictReasons());
    this.avoiding = kept;
    const opts = { avoid, clock: this.opts.clock ?? (() => performance.now()) };
    const state = this.state;
    // While the fleet is the one the state was made on, nothing is stuck and no re-check is due,
    // only what changed is gone over; else every Placement.
    if (state !== undefined && state.snapshot === snapshot && this.stuck.size === 0 && !this.conflictsMoved && !this.relisted && !(this.fullNext && this.writes()))
      this.stepCycle(state, snapshot, opts);
    else this.fullCycle(snapshot, opts);
  }

  /** A cycle over every Placement: after a list, a change of the fleet, stuck replicas, a re-check. */
  private fullCycle(snapshot: FleetSnapshot, opts: ScheduleOptions): void {
    this.relisted = false;
    // a conflict that began or ended changes what the decisions in force are taken to be
    const conflicted = this.conflictsMoved;
    this.conflictsMoved = false;
    this.changed = new Set();
    const all = this.placements.items();
    const live = all.filter((p) => p.metadata.deletionTimestamp === undefined);
    const deleting = all.filter(waitsOnFinalizer);
    this.deleting = new Set(deleting.map((p) => placementKey(p)));

    // Before the first cycle, what the placements' status says is the decision in force.
    const previous: Decision[] = [];
    /** the decision in force before this cycle, as its owner was last told it */
    const told = new Map<string, Decision>();
    const inForce = this.state?.decisions;
    for (const p of live) {
      const key = placementKey(p);
      const known = inForce?.get(key) ?? fromStatus(key, p.status);
      if (known === undefined) continue;
      told.set(key, known);
      previous.push(withoutConflicts(withoutStuck(known, this.stuck.get(key)), this.book.conflicts.get(key)));
    }
    const unstarted = this.stuck.size > 0;
    this.stuck = new Map();
    const cycleOpts = { ...opts, fresh: unstarted || conflicted };
    const next = this.state === undefined ? FleetState.start(snapshot, live, { ...opts, previous }) : this.state.cycle(snapshot, live, previous, cycleOpts);
    this.state = next;

    if (!this.writes()) {
      this.emit('reconciled', next.result);
      return;
    }
    const full = this.fullNext;
    this.fullNext = false;
    const decisions = next.decisions;
    const work: RolloutWork[] = [];
    for (const p of live) {
      const d = decisions.get(placementKey(p));
      if (d !== undefined) work.push({ placement: p, decision: d });
    }
    // The members are the rollout's: it is told and not waited for.
    this.book.want(work, snapshot, deleting);
    if (full) {
      if (this.placements.synced()) void this.sweepClusterDecisions(live);
      this.book.recheck();
      for (const { decision: d } of work) {
        this.forced.add(d.placement);
        // behind any placement whose decision or rollout moved meanwhile
        this.hubQueue.add(d.placement, true);
      }
    }
    this.decided(work, told, full);
    this.emit('reconciled', next.result);
  }

  /** A cycle over what changed since the last: the step from the state, as its cycle takes it. */
  private stepCycle(state: FleetState, snapshot: FleetSnapshot, opts: ScheduleOptions): void {
    const keys = this.changed;
    this.changed = new Set();
    const put: PlacementObject[] = [];
    const remove: string[] = [];
    for (const key of keys) {
      const p = this.placementOf(key);
      if (p !== undefined && p.metadata.deletionTimestamp === undefined) put.push(p);
      else if (state.decisions.has(key)) remove.push(key);
    }
    const next = state.step({ put, remove }, opts);
    this.state = next;
    if (!this.writes()) {
      this.emit('reconciled', next.result);
      return;
    }
    // What the step decided anew: what was put or removed, what waited for room, and what preemption took from.
    const work: RolloutWork[] = [];
    const gone: string[] = [];
    for (const key of new Set([...keys, ...next.touched])) {
      const d = next.decisions.get(key);
      const p = this.placementOf(key);
      if (d === undefined || p === undefined || p.metadata.deletionTimestamp !== undefined) {
        if (state.decisions.has(key)) gone.push(key);
        continue;
      }
      if (d !== state.decisions.get(key)) work.push({ placement: p, decision: d });
    }
    this.book.change(
      work,
      gone,
      snapshot,
      [...this.deleting].flatMap((key) => this.placementOf(key) ?? []),
    );
    this.decided(work, state.decisions, false);
    this.emit('reconciled', next.result);
  }

  /** Events for decisions that changed, and their hub writes queued unless the rollout will bring them. */
  private decided(work: readonly RolloutWork[], told: ReadonlyMap<string, Decision>, full: boolean): void {
    for (const { placement: p, decision: d } of work) {
      const key = d.placement;
      const before = told.get(key);
      // The decision in force, kept: the rollout's word brings any write it needs.
      if (before === d) continue;
      for (const e of decisionEvents(before, d)) this.opts.events?.record(p, e);
      if (full) continue;
      const last = this.hubWritten.get(key);
      if (last !== undefined && last.generation === p.metadata.generation && sameDecision(last.d, d)) continue;
      // While members are being written, the rollout's word brings the status write.
      if (!this.book.pending(key, d)) this.hubQueue.add(key);
    }
  }

  private placementOf(key: string): PlacementObject | undefined {
    const [ns, name] = key.split('/') as [string, string];
    return this.placements.get(ns, name);
  }

  /** One placement's status and PlacementDecision slices, as its decision and rollout are now. */
  private async writeHub(key: string): Promise<void> {
    const p = this.placementOf(key);
    const d = this.state?.decisions.get(key);
    const snapshot = this.state?.snapshot;
    if (p === undefined || d === undefined || snapshot === undefined || p.metadata.deletionTimestamp !== undefined || !this.writes()) return;
    const rollout = this.book.rolloutOf(key, d);
    const seen = rolloutSignature(rollout);
    const forced = this.forced.delete(key);
    const last = this.hubWritten.get(key);
    // The same Placement, decision and rollout as last written: nothing to write.
    if (!forced && last !== undefined && last.generation === p.metadata.generation && sameDecision(last.d, d) && last.rollout === seen) return;
    for (const [cluster, why] of rollout.failed) {
      this.opts.events?.record(p, { type: 'Warning', reason: 'ApplyFailed', action: 'Apply', note: `${cluster}: ${why}` });
    }
    const failures: string[] = [];
    const attempt = async (what: string, f: () => Promise<void>) => {
      try {
        await f();
      } catch (e) {
        failures.push(`${what}: ${(e as Error).message}`);
      }
    };
    let published: Published | undefined;
    if (!deliveredByOrrery(p)) {
      try {
        await this.clusterDecisions.publish(p, d, forced);
        published = { ok: true, message: `delivered by another tool: the decision is published in ${this.clusterDecisions.where(p)}` };
      } catch (e) {
        published = { ok: false, message: `publishing ${this.clusterDecisions.where(p)}: ${(e as Error).message}` };
        failures.push(published.message);
      }
    } else if (this.clusterDecisions.has(key)) await attempt('withdrawing its ClusterDecision', () => this.clusterDecisions.withdraw(p));
    await attempt('writing status', () => this.writeStatus(p, d, rollout, published));
    await attempt('writing PlacementDecisions', () => this.writeSlices(p, d, snapshot));
    this.settleWrites(p, failures);
    if (failures.length === 0) this.hubWritten.set(key, { generation: p.metadata.generation, d, rollout: seen });
    else this.hubWritten.delete(key);
  }

  /**
   * After a placement's writes: a failure is said (problem log, Event) and tried again with a
   * backoff; a success clears what was said.
   */
  private settleWrites(p: Placement, failures: readonly string[]): void {
    const key = placementKey(p);
    const source = placementSource(key);
    if (failures.length === 0) {
      if (this.writeFailures.delete(key)) this.report(source, undefined);
      return;
    }
    const n = (this.writeFailures.get(key) ?? 0) + 1;
    this.writeFailures.set(key, n);
    const message = failures.join('; ');
    this.report(source, message);
    this.opts.events?.record(p, { type: 'Warning', reason: 'WriteFailed', action: 'Write', note: message });
    setTimeout(() => this.hubQueue.add(key), retryDelay(n)).unref();
  }

  /**
   * Replicas a member could not start: placed elsewhere on the next cycle, and the cluster
   * takes no new replicas of that placement for a while.
   */
  private noteStuck(s: Stuck): void {
    (this.stuck.get(s.placement) ?? this.stuck.set(s.placement, new Map()).get(s.placement)!).set(s.cluster, s.replicas);
    this.avoiding = avoid(this.avoiding, s.placement, s.cluster, Date.now(), this.opts.avoidMs ?? 300_000, `${s.replicas} replicas could not start there`);
    this.log(`${s.placement}: ${s.replicas} replicas cannot start in ${s.cluster}; placing them elsewhere`);
    this.trigger();
  }

  /**
   * Someone else's objects stand where a placement would write in a member (or no longer do):
   * the cluster is avoided while they stand, its replicas placed elsewhere where room is, and the
   * Placement's owner is told by an Event.
   */
  private noteConflict(c: Conflicted): void {
    if (c.conflicts === undefined) this.log(`${c.placement}: the conflict in ${c.cluster} is over`);
    else {
      const p = this.placementOf(c.placement);
      for (const x of c.conflicts) {
        this.log(`${c.placement}: ${c.cluster}: ${x.message}; placing its replicas elsewhere`);
        if (p !== undefined) this.opts.events?.record(p, { type: 'Warning', reason: 'ApplyConflict', action: 'Apply', note: `${c.cluster}: ${x.message}` });
      }
    }
    this.conflictsMoved = true;
    this.trigger();
  }

  /** A deleted Placement's members are clean and its finalizer is off: nothing of it is kept. */
  private forget(key: string): void {
    if (this.avoiding.has(key)) this.avoiding = new Map([...this.avoiding].filter(([k]) => k !== key));
    this.writeFailures.delete(key);
    this.hubWritten.delete(key);
    this.writtenSlices.delete(key);
    this.opts.problems?.forget(placementSource(key));
  }

  /** A deleted Placement's ClusterDecision removed; one that fails is left to the next sweep. */
  private withdraw(p: Placement): void {
    if (!this.writes()) return;
    this.clusterDecisions.withdraw(p).catch((e: unknown) => this.log(`removing the ClusterDecision of ${placementKey(p)}: ${(e as Error).message}`));
  }

  /**
   * ClusterDecisions Orrery made whose placement is gone or delivered by Orrery now are removed
   * (the whole list of Placements at hand): a deletion this instance did not see, or one that failed.
   */
  private async sweepClusterDecisions(live: readonly Placement[]): Promise<void> {
    const keep = new Set(live.filter((p) => !deliveredByOrrery(p)).map((p) => placementKey(p)));
    const source = `ClusterDecisions in ${this.clusterDecisions.namespace}`;
    try {
      for (const key of await this.clusterDecisions.sweep(keep)) this.log(`removed the ClusterDecision of ${key}: its Placement is gone or delivered by Orrery`);
      this.report(source, undefined);
    } catch (e) {
      // the kind not installed, or no Argo CD namespace Orrery may read: nothing of it Orrery
      // could have written (a placement that needs one says so in its status)
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) return;
      this.report(source, (e as Error).message);
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

  private async writeStatus(p: PlacementObject, d: Decision, rollout: Rollout, published: Published | undefined): Promise<void> {
    const status = statusFor(p, d, rollout, p.status, new Date().toISOString(), published);
    // The server may order fields its own way: compare content, not text.
    if (canonical(status) === canonical(p.status)) return;
    await this.hub.applyOnly(
      placementPath(p.metadata.namespace, p.metadata.name, 'status'),
      { apiVersion: p.apiVersion, kind: 'Placement', metadata: { name: p.metadata.name, namespace: p.metadata.namespace }, status },
      FIELD_MANAGER,
    );
  }

  private async writeSlices(p: Placement, d: Decision, snapshot: FleetSnapshot): Promise<void> {
    const slices = slicesFor(p, d, snapshot);
    const ns = p.metadata.namespace;
    const key = placementKey(p);
    const written = this.writtenSlices.get(key) ?? this.writtenSlices.set(key, new Map()).get(key)!;
    for (const s of slices) {
      const body = JSON.stringify(s);
      // Unchanged slices are not written again.
      if (written.get(s.metadata.name) === body) continue;
      await this.hub.applyOnly(`${DECISIONS}/namespaces/${ns}/placementdecisions/${s.metadata.name}`, s, FIELD_MANAGER);
      written.set(s.metadata.name, body);
    }
    // Slices past the ones the decision needs, left from when it needed more.
    const names = new Set(slices.map((s) => s.metadata.name));
    for (const slice of [...written.keys()]) {
      if (names.has(slice)) continue;
      try {
        await this.hub.delete(`${DECISIONS}/namespaces/${ns}/placementdecisions/${slice}`);
      } catch (e) {
        // already gone is what was wanted; anything else is this Placement's failed write
        if (!(e instanceof ApiError && e.status === 404)) throw e;
      }
      written.delete(slice);
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

/**
 * What scheduling reads of a Placement, as a string that changes when that does: which object it
 * is, its spec (the API server moves the generation with every change of it) and its deletion.
 * Its status and finalizers, which the controllers write, are not read. A Placement being
 * deleted waits on its finalizer: every change of it counts.
 */
export function schedulingRead(o: HubPlacement): string {
  const { uid, generation, deletionTimestamp, resourceVersion } = o.metadata;
  const deleting = deletionTimestamp !== undefined ? `|${deletionTimestamp}|${resourceVersion ?? ''}` : '';
  return `${uid ?? ''}|${generation ?? ''}${deleting}`;
}

/** The decision a Placement's status records, as a new leader finds it. */
function fromStatus(key: string, status: PlacementStatus | undefined): Decision | undefined {
  if (status?.clusters === undefined) return undefined;
  const scheduled = status.conditions?.find((c) => c.type === 'Scheduled');
  const reason = scheduled?.reason === 'PartiallyScheduled' || scheduled?.reason === 'Unschedulable' || scheduled?.reason === 'Preempted' ? scheduled.reason : 'Scheduled';
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
