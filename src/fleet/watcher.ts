// The fleet kept current: ClusterProfiles watched on the hub, and each member read either from
// the ClusterReport its agent keeps on the hub or, without one, by watching its Nodes, Pods and
// DRA objects in the member. Every change is folded into a new snapshot, coalesced, and the
// generation moves only when the snapshot's content does. A member whose agent pulls is never
// connected to: the hub holds no credential for it.
//
// Faults never shrink the fleet: a member that cannot be listed, or whose agent's report goes
// unrenewed, turns unreachable (its last known capacity is kept, nothing new goes there), and a ClusterProfile that a relist of the
// hub no longer shows stays, unreachable, until the watch reports it deleted or it has been
// missing for a grace period.

import { EventEmitter } from 'node:events';
import type { Cluster, FleetSnapshot } from '../core/model.js';
import { compareNames, makeSnapshot } from '../core/model.js';
import { type ClusterProfileObject, type MemberAccess, type ProviderFile, resolveAccess } from './access.js';
import { ApiClient } from './client.js';
import { clusterProfileVersion, profilesPath, uniqueProfiles } from './inventory.js';
import { type Measured, clusterOf, generationOf } from './reader.js';
import { MemberMirror } from './mirror.js';
import { type ClusterReportObject, REPORT_MAX_AGE_MS, type PulledPlacement, type ReadWay, type Report, readReport, reportProblem, reportsPath, reportsServed } from './report.js';
import type { Result } from '../core/result.js';
import { ProblemLog } from '../problems.js';
import { Reflector } from './reflector.js';

export interface WatcherOptions {
  readonly namespace?: string;
  readonly providers?: ProviderFile;
  /** how long changes are gathered before a new snapshot is made */
  readonly coalesceMs?: number;
  /** how long a ClusterProfile missing from a hub relist is kept, unreachable */
  readonly missingGraceMs?: number;
  /** where lists that keep failing are said; without one, nowhere */
  readonly problems?: ProblemLog;
  /** how long an agent's ClusterReport may go unrenewed before its member counts as unreadable */
  readonly reportMaxAgeMs?: number;
}

/** The problem source for the hub's inventory. */
export const INVENTORY_SOURCE = 'ClusterProfiles on the hub';
/** The problem source for the agents' reports. */
export const REPORTS_SOURCE = 'ClusterReports on the hub';
/** The problem source for one member. */
export const memberSource = (name: string) => `member ${name}`;

class MemberWatch {
  private access: MemberAccess | undefined;
  /** how to reach the member, once access is resolved */
  client: ApiClient | undefined;
  private accessError: string | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  /** the member read directly, while it has no agent */
  private mirror: MemberMirror | undefined;
  /** the member as its agent last reported it, and when (by this clock) the report was last renewed */
  private report: { read: Result<Report, string>; heartbeat: string | undefined; content: string; seenAt: number } | undefined;
  private staleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly profile: () => ClusterProfileObject,
    private readonly hub: ApiClient,
    private readonly providers: ProviderFile | undefined,
    private readonly changed: () => void,
    private readonly reportMaxAgeMs: number,
    /** what an agent in pull mode carried out changed */
    private readonly pulledChanged: () => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    // a member whose agent pulls is never connected to
    if (this.pulls()) return;
    const r = await resolveAccess(this.profile(), this.providers, this.hub);
    if (this.stopped || this.pulls()) return;
    if (!r.ok) {
      this.accessError = r.error;
      this.changed();
      // The plugin or Secret may be fixed later: try again.
      this.retry = setTimeout(() => void this.start(), 5000);
      return;
    }
    this.accessError = undefined;
    this.access = r.value;
    this.client = new ApiClient(r.value.kc);
    if (this.report === undefined) this.readDirectly();
    else this.changed();
    // Credentials that run out are fetched again before they do.
    if (r.value.expires !== undefined) {
      this.retry = setTimeout(() => this.restart(), Math.max(1000, r.value.expires - Date.now() - 60_000));
    }
  }

  private readDirectly(): void {
    if (this.client === undefined || this.mirror !== undefined || this.stopped) return;
    this.mirror = new MemberMirror(this.client, this.changed);
    void this.mirror.start();
  }

  private restart(): void {
    this.mirror?.stop();
    this.mirror = undefined;
    void this.start();
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.mirror?.stop();
  }

  /**
   * The member's ClusterReport changed (undefined: it has none, or no longer). A member with a
   * report is read from it alone; one whose report is gone is read directly again.
   */
  setReport(o: ClusterReportObject | undefined): void {
    if (o === undefined) {
      if (this.report === undefined) return;
      const wasPulling = this.pulls();
      this.report = undefined;
      if (this.staleTimer) clearTimeout(this.staleTimer);
      if (wasPulling) void this.start();
      else this.readDirectly();
      if (this.pulledContent !== undefined) {
        this.pulledContent = undefined;
        this.pulledChanged();
      }
      this.changed();
      return;
    }
    const read = readReport(o);
    const heartbeat = read.ok ? read.value.agent.heartbeatTime : undefined;
    const content = JSON.stringify(read.ok ? { summary: read.value.summary, problem: read.value.agent.problem, mode: read.value.agent.mode } : read.error);
    const pulledContent = read.ok && read.value.pulled !== undefined ? JSON.stringify([read.value.pulled, read.value.agent.pullProblem]) : undefined;
    const now = Date.now();
    const before = this.report;
    const pulledBefore = this.pulledContent;
    this.pulledContent = pulledContent;
    // Freshness by this clock: when a renewal was seen. A report first seen counts from its own
    // heartbeat if that is older, so that a hub starting up does not take a long-gone agent's word.
    const seenAt = before === undefined ? Math.min(now, heartbeat !== undefined ? Date.parse(heartbeat) : now) : before.heartbeat !== heartbeat ? now : before.seenAt;
    const wasPulling = this.pulls();
    this.report = { read, heartbeat, content, seenAt };
    if (this.mirror !== undefined) {
      this.mirror.stop();
      this.mirror = undefined;
    }
    if (this.pulls() && !wasPulling) this.forgetAccess();
    else if (!this.pulls() && wasPulling && before !== undefined) void this.start();
    if (pulledContent !== pulledBefore) this.pulledChanged();
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.staleTimer = setTimeout(() => this.changed(), Math.max(0, seenAt + this.reportMaxAgeMs - now) + 10);
    // a renewal that says nothing new moves no snapshot
    if (before === undefined || before.content !== content || this.staleness(before.seenAt, now) !== this.staleness(seenAt, now)) this.changed();
  }

  /** what the agent's report last said it carried out, to tell a change */
  private pulledContent: string | undefined;

  /** Whether the member's agent carries out its decisions (pull mode). */
  pulls(): boolean {
    return this.report?.read.ok === true && this.report.read.value.agent.mode === 'Pull';
  }

  /** In pull mode, what the agent carried out and why it cannot read the decisions, if it cannot. */
  pulled(): { placements: readonly PulledPlacement[]; problem?: string } | undefined {
    const r = this.report?.read;
    if (r?.ok !== true || r.value.pulled === undefined) return undefined;
    return { placements: r.value.pulled, ...(r.value.agent.pullProblem !== undefined ? { problem: r.value.agent.pullProblem } : {}) };
  }

  /** The hub holds no credential for a member whose agent pulls. */
  private forgetAccess(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.access = undefined;
    this.accessError = undefined;
    this.client = undefined;
  }

  private staleness(seenAt: number, now: number): boolean {
    return now - seenAt > this.reportMaxAgeMs;
  }

  way(): ReadWay {
    return this.report !== undefined ? 'agent' : 'direct';
  }

  /** since when (ms) the member has been unreadable, while it is */
  private troubleSince: number | undefined;

  /** Why the member cannot be read (or, read through its agent, written) now; undefined when it can. */
  problem(): string | undefined {
    const why = this.pulls() ? this.reportProblem() : (this.reportProblem() ?? this.accessError ?? (this.access === undefined ? 'connecting' : this.mirror?.problem()));
    if (why === undefined) this.troubleSince = undefined;
    else this.troubleSince ??= Date.now();
    return why;
  }

  private reportProblem(): string | undefined {
    const r = this.report;
    return r === undefined ? undefined : reportProblem(r.read, Date.now() - r.seenAt, this.reportMaxAgeMs);
  }

  /** Since when the member has been unreadable; undefined while it can be read. */
  unreadableSince(): number | undefined {
    this.problem();
    return this.troubleSince;
  }

  /** The member's summary as last read, by whichever way it is read. */
  private measured(): Measured | undefined {
    if (this.report !== undefined) return this.report.read.ok ? this.report.read.value.summary : undefined;
    return this.mirror?.summary();
  }

  private lastMeasured: Measured | undefined;

  cluster(): Cluster {
    const problem = this.problem();
    // a member that cannot be read keeps the capacity it was last read with
    if (problem === undefined) this.lastMeasured = this.measured() ?? this.lastMeasured;
    return clusterOf(this.profile(), this.lastMeasured, problem);
  }
}

export interface Inventory {
  readonly profiles: ReadonlyMap<string, ClusterProfileObject>;
  /** names held although the hub no longer lists them, with since when (ms) */
  readonly missing: ReadonlyMap<string, number>;
}

/**
 * The inventory after a change on the hub. A profile the watch reported deleted is gone; one
 * that a list merely did not show is held, as missing, for the grace period: a short list must
 * not read as clusters leaving the fleet.
 */
export function mergeInventory(prev: Inventory, listed: readonly ClusterProfileObject[], deletedByWatch: (p: ClusterProfileObject) => boolean, now: number, graceMs: number): Inventory {
  const profiles = new Map(listed.map((p) => [p.metadata.name, p]));
  const missing = new Map<string, number>();
  for (const [name, p] of prev.profiles) {
    if (profiles.has(name) || deletedByWatch(p)) continue;
    const since = prev.missing.get(name) ?? now;
    if (now - since < graceMs) {
      profiles.set(name, p);
      missing.set(name, since);
    }
  }
  return { profiles, missing };
}

function accessOf(p: ClusterProfileObject | undefined): string {
  return JSON.stringify([p?.status?.accessProviders ?? null, p?.status?.credentialProviders ?? null]);
}

export interface FleetWatcherEvents {
  snapshot: [FleetSnapshot];
  /** what the agent of a member in pull mode carried out changed */
  pulled: [string];
}

export class FleetWatcher extends EventEmitter<FleetWatcherEvents> {
  private readonly members = new Map<string, MemberWatch>();
  private profiles: Reflector<ClusterProfileObject> | undefined;
  /** agents' ClusterReports; undefined where the hub does not serve them (every member is read directly) */
  private reports: Reflector<ClusterReportObject> | undefined;
  /** whether members may be started: the reports listed once, or not served */
  private reportsKnown = false;
  private readonly problems: ProblemLog;
  private startTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** profiles seen before that the latest hub list did not show, with when they went missing */
  private missing = new Map<string, number>();
  private graceTimer: NodeJS.Timeout | undefined;
  private known = new Map<string, ClusterProfileObject>();
  private hubProblem: string | undefined;
  private current: FleetSnapshot | undefined;
  private generation = 0;
  private lastHash: number | undefined;
  private pending: NodeJS.Timeout | undefined;
  private readyResolve: (() => void) | undefined;
  readonly ready: Promise<void>;

  constructor(
    private readonly hub: ApiClient,
    private readonly opts: WatcherOptions = {},
  ) {
    super();
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
    this.problems = opts.problems ?? new ProblemLog(() => undefined);
  }

  /**
   * Finds the newest ClusterProfile version the hub serves, then lists and watches it, and the
   * agents' ClusterReports where the hub serves them: members are read only once the reports are
   * listed, so that a member with an agent is never read directly first.
   */
  start(attempt = 0): void {
    this.stopped = false;
    void Promise.all([clusterProfileVersion(this.hub), reportsServed(this.hub)]).then(
      ([version, served]) => {
        if (this.stopped) return;
        if (served) {
          this.reports = new Reflector<ClusterReportObject>(this.hub, reportsPath(this.opts.namespace), {
            changed: (o, deleted) => this.reportChanged(o, deleted === true),
            health: (ok, why) => {
              this.problems.report(REPORTS_SOURCE, ok ? undefined : why);
              // listed, or failing: members wait no longer (those without credentials of their own stay unreadable)
              if (!this.reportsKnown) {
                this.reportsKnown = true;
                this.profilesChanged();
              }
            },
          });
          this.reports.start();
        } else this.reportsKnown = true;
        this.profiles = new Reflector<ClusterProfileObject>(this.hub, profilesPath(version, this.opts.namespace), {
          changed: () => this.profilesChanged(),
          health: (ok, why) => {
            this.hubProblem = ok ? undefined : why;
            this.problems.report(INVENTORY_SOURCE, this.hubProblem);
            this.schedule();
          },
        });
        this.profiles.start();
      },
      (e: unknown) => {
        if (this.stopped) return;
        this.hubProblem = (e as Error).message;
        this.problems.fail(INVENTORY_SOURCE, this.hubProblem);
        this.startTimer = setTimeout(() => this.start(attempt + 1), Math.min(5000, 200 * 2 ** attempt));
      },
    );
  }

  /** A ClusterReport changed (or, without one, all may have after a list): its member is told. */
  private reportChanged(o: ClusterReportObject | undefined, deleted: boolean): void {
    if (o !== undefined) {
      const m = this.members.get(o.metadata.name);
      if (m !== undefined && m.profile().metadata.namespace === o.metadata.namespace) m.setReport(deleted ? undefined : o);
      return;
    }
    for (const m of this.members.values()) m.setReport(this.reportOf(m.profile()));
  }

  /** The report of a member, where its agent wrote one (beside its ClusterProfile). */
  private reportOf(p: ClusterProfileObject): ClusterReportObject | undefined {
    return this.reports?.get(p.metadata.namespace, p.metadata.name);
  }

  /** In pull mode, what the member's agent carried out; undefined for a member the hub writes to. */
  pulled(name: string): { placements: readonly PulledPlacement[]; problem?: string } | undefined {
    return this.members.get(name)?.pulled();
  }

  /** How a member's capacity is read now. */
  readWay(name: string): ReadWay | undefined {
    return this.members.get(name)?.way();
  }

  stop(): void {
    this.stopped = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    this.profiles?.stop();
    this.reports?.stop();
    for (const m of this.members.values()) m.stop();
    this.members.clear();
    if (this.pending) clearTimeout(this.pending);
    if (this.graceTimer) clearTimeout(this.graceTimer);
  }

  /** The latest snapshot; undefined until the hub has been listed once. */
  snapshot(): FleetSnapshot | undefined {
    return this.current;
  }

  /** The ClusterProfiles of the fleet, one a cluster, those held while missing from a list included. */
  clusterProfiles(): ClusterProfileObject[] {
    return [...this.known.values()];
  }

  /** Since when a member has been unreadable (ms); undefined while it can be read. */
  unreadableSince(name: string): number | undefined {
    return this.members.get(name)?.unreadableSince();
  }

  /** A client for a member, when Orrery can reach it. */
  memberClient(name: string): ApiClient | undefined {
    const m = this.members.get(name);
    return m !== undefined && m.problem() === undefined ? m.client : undefined;
  }

  /** Why the hub cannot be listed now, if it cannot. */
  problem(): string | undefined {
    return this.hubProblem;
  }

  private profilesChanged(): void {
    const reflector = this.profiles;
    if (reflector === undefined) return;
    const { profiles, clashes } = uniqueProfiles(reflector.items());
    for (const { profile: p, with: w } of clashes) {
      this.problems.fail(`ClusterProfile ${p.metadata.namespace}/${p.metadata.name}`, `left out: ${w.metadata.namespace}/${w.metadata.name} is another cluster of the same name`);
    }
    const next = mergeInventory({ profiles: this.known, missing: this.missing }, profiles, (p) => reflector.deletedByWatch(p), Date.now(), this.opts.missingGraceMs ?? 300_000);
    for (const [name, m] of this.members) {
      const p = next.profiles.get(name);
      // A profile that went away, or that now says to reach the cluster differently.
      if (p === undefined || accessOf(this.known.get(name)) !== accessOf(p)) {
        m.stop();
        this.members.delete(name);
        if (p === undefined) this.problems.forget(memberSource(name));
      }
    }
    this.known = new Map(next.profiles);
    this.missing = new Map(next.missing);
    for (const name of this.reportsKnown ? this.known.keys() : []) {
      if (!this.members.has(name)) {
        const m = new MemberWatch(
          () => this.known.get(name)!,
          this.hub,
          this.opts.providers,
          () => this.schedule(),
          this.opts.reportMaxAgeMs ?? REPORT_MAX_AGE_MS,
          () => this.emit('pulled', name),
        );
        this.members.set(name, m);
        m.setReport(this.reportOf(this.known.get(name)!));
        void m.start();
      }
    }
    // A profile held as missing is let go when its grace runs out, events or not.
    if (this.graceTimer) clearTimeout(this.graceTimer);
    if (this.missing.size > 0) {
      const first = Math.min(...this.missing.values());
      this.graceTimer = setTimeout(() => this.profilesChanged(), Math.max(10, first + (this.opts.missingGraceMs ?? 300_000) - Date.now()));
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.pending !== undefined) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.rebuild();
    }, this.opts.coalesceMs ?? 20);
  }

  private rebuild(): void {
    // Until the hub has been listed once there is no fleet to speak of, not an empty one.
    if (this.profiles?.synced() !== true || !this.reportsKnown) return;
    const clusters: Cluster[] = [];
    for (const name of [...this.known.keys()].sort(compareNames)) {
      const m = this.members.get(name);
      if (m === undefined) continue;
      const c = m.cluster();
      const problem = m.problem();
      // Connecting is no fault: only what keeps a member from being read is said.
      this.problems.report(memberSource(name), problem === 'connecting' ? undefined : problem);
      clusters.push(this.missing.has(name) ? { ...c, reachable: false, message: 'not in the latest list of ClusterProfiles' } : c);
    }
    const complete = this.hubProblem === undefined && this.missing.size === 0;
    const hash = generationOf(clusters) ^ (complete ? 0 : 1);
    if (hash === this.lastHash && this.current !== undefined) return;
    this.lastHash = hash;
    this.generation++;
    this.current = makeSnapshot(clusters, this.generation, complete);
    this.emit('snapshot', this.current);
    this.readyResolve?.();
    this.readyResolve = undefined;
  }
}
