// Kubernetes Events on Placements (events.k8s.io/v1): what changed in a decision, and what
// could not be carried out. The builders are pure; the recorder posts, and does not post the
// same note about the same object twice within a while, as client-go's recorder aggregates.

import { randomBytes } from 'node:crypto';
import type { Decision, Placement } from '../core/model.js';
import type { ApiClient } from '../fleet/client.js';
import { REPORTING_CONTROLLER } from '../names.js';

export interface PlacementEvent {
  readonly type: 'Normal' | 'Warning';
  /** UpperCamelCase, as Kubernetes reasons are */
  readonly reason: 'Scheduled' | 'PartiallyScheduled' | 'Unschedulable' | 'Preempted' | 'Preempting' | 'ReplicasMoved' | 'ApplyFailed' | 'ApplyConflict' | 'WriteFailed';
  readonly action: 'Schedule' | 'Preempt' | 'Apply' | 'Write';
  readonly note: string;
}

function where(d: Decision): string {
  return d.clusters.map((c) => `${c.name}=${c.replicas}`).join(', ');
}

/**
 * What a new decision tells the Placement's owner, given the one before (undefined: none).
 * An unchanged decision tells nothing.
 */
export function decisionEvents(before: Decision | undefined, after: Decision): PlacementEvent[] {
  const same = before !== undefined && before.reason === after.reason && before.unscheduledReplicas === after.unscheduledReplicas && where(before) === where(after);
  if (same) return [];
  const events: PlacementEvent[] = [];
  const placed = after.clusters.reduce((s, c) => s + c.replicas, 0);
  if (after.reason === 'Scheduled') events.push({ type: 'Normal', reason: 'Scheduled', action: 'Schedule', note: `${placed} replicas: ${where(after)}` });
  else if (after.reason === 'PartiallyScheduled')
    events.push({ type: 'Warning', reason: 'PartiallyScheduled', action: 'Schedule', note: `${placed} replicas placed (${where(after)}), ${after.unscheduledReplicas} unscheduled: ${after.message}` });
  else if (after.reason !== 'Preempted') events.push({ type: 'Warning', reason: 'Unschedulable', action: 'Schedule', note: after.message });
  // what preemption took from this placement, or gave it
  for (const r of after.preemptions ?? []) {
    if (r.victim === after.placement)
      events.push({
        type: 'Warning',
        reason: 'Preempted',
        action: 'Preempt',
        note: `${r.replicas} replicas in ${r.cluster} taken by ${r.preemptor}, of higher priority; ${after.unscheduledReplicas} unscheduled`,
      });
    if (r.preemptor === after.placement) events.push({ type: 'Normal', reason: 'Preempting', action: 'Preempt', note: `took the room of ${r.replicas} replicas of ${r.victim} in ${r.cluster}` });
  }
  if (before !== undefined) {
    // A replica moved when one left a cluster and one arrived elsewhere; a shrink or a loss of
    // room only takes away, a growth only adds.
    const had = new Map(before.clusters.map((c) => [c.name, c.replicas]));
    const now = new Map(after.clusters.map((c) => [c.name, c.replicas]));
    const from: string[] = [];
    const to: string[] = [];
    let removed = 0;
    let added = 0;
    for (const [name, n] of had) {
      const gone = n - (now.get(name) ?? 0);
      if (gone <= 0) continue;
      removed += gone;
      from.push(`${gone} from ${name}`);
    }
    for (const [name, n] of now) {
      const come = n - (had.get(name) ?? 0);
      if (come <= 0) continue;
      added += come;
      to.push(`${come} to ${name}`);
    }
    const moved = Math.min(removed, added);
    if (moved > 0) events.push({ type: 'Normal', reason: 'ReplicasMoved', action: 'Schedule', note: `${moved} replicas moved: ${from.join(', ')}; ${to.join(', ')}` });
  }
  return events;
}

/** An events.k8s.io/v1 Event about a Placement. */
export function eventObject(p: Placement, e: PlacementEvent, instance: string, now: Date, suffix: string) {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: `${p.metadata.name}.${suffix}`, namespace: p.metadata.namespace },
    eventTime: now.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: instance,
    action: e.action,
    reason: e.reason,
    type: e.type,
    // the API server refuses notes over 1 kB
    note: e.note.length > 1024 ? `${e.note.slice(0, 1021)}...` : e.note,
    regarding: { apiVersion: p.apiVersion, kind: 'Placement', name: p.metadata.name, namespace: p.metadata.namespace, ...(p.metadata.uid !== undefined ? { uid: p.metadata.uid } : {}) },
  };
}

/** Events posted at a time, and how many may wait: past that, new ones are dropped and counted. */
const POSTS = 4;
const BACKLOG = 1000;

export class EventRecorder {
  private readonly recent = new Map<string, number>();
  private readonly backlog: (() => Promise<void>)[] = [];
  private posting = 0;
  private dropped = 0;

  constructor(
    private readonly hub: ApiClient,
    private readonly instance: string,
    private readonly log: (message: string) => void,
    private readonly quietMs = 10 * 60_000,
  ) {}

  /**
   * Posts the event unless the same was said about the same Placement lately. Events are
   * told, not waited for: a few are posted at a time, so that a burst of decisions does not
   * open a connection an event, and a full backlog drops new ones (said in the log).
   */
  record(p: Placement, e: PlacementEvent): void {
    const key = `${p.metadata.namespace}/${p.metadata.name}|${e.reason}|${e.note}`;
    const now = Date.now();
    const last = this.recent.get(key);
    if (last !== undefined && now - last < this.quietMs) return;
    if (this.backlog.length >= BACKLOG) {
      if (this.dropped++ === 0) this.log(`events are coming faster than the hub takes them: dropping ${e.reason} on ${p.metadata.namespace}/${p.metadata.name} and others`);
      return;
    }
    this.recent.set(key, now);
    if (this.recent.size > 10_000) for (const [k, t] of this.recent) if (now - t >= this.quietMs) this.recent.delete(k);
    const body = eventObject(p, e, this.instance, new Date(now), `${now.toString(16)}${randomBytes(3).toString('hex')}`);
    this.backlog.push(async () => {
      try {
        await this.hub.postOnly(`/apis/events.k8s.io/v1/namespaces/${p.metadata.namespace}/events`, body);
      } catch (err) {
        this.log(`recording event ${e.reason} on ${p.metadata.namespace}/${p.metadata.name}: ${(err as Error).message}`);
      }
    });
    this.pump();
  }

  private pump(): void {
    while (this.posting < POSTS && this.backlog.length > 0) {
      const post = this.backlog.shift() as () => Promise<void>;
      this.posting++;
      void post().finally(() => {
        this.posting--;
        if (this.backlog.length === 0 && this.posting === 0 && this.dropped > 0) {
          this.log(`${this.dropped} events were dropped`);
          this.dropped = 0;
        }
        this.pump();
      });
    }
  }
}
