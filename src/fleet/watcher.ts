// The fleet kept current: ClusterProfiles watched on the hub, and each member's Nodes, Pods and
// DRA objects watched in the member. Every change is folded into a new snapshot, coalesced, and
// the generation moves only when the snapshot's content does.
//
// Faults never shrink the fleet: a member that cannot be listed turns unreachable (its last
// known capacity is kept, nothing new goes there), and a ClusterProfile that a relist of the
// hub no longer shows stays, unreachable, until the watch reports it deleted or it has been
// missing for a grace period.

import { EventEmitter } from 'node:events';
import type { Cluster, FleetSnapshot } from '../core/model.js';
import { compareNames, makeSnapshot } from '../core/model.js';
import { type ClusterProfileObject, type MemberAccess, type ProviderFile, resolveAccess } from './access.js';
import { ApiClient } from './client.js';
import type { DeviceClassObject, ResourceClaimObject, ResourceSliceObject } from './devices.js';
import { type NodeObject, type PodObject, capacityView } from './measure.js';
import { clusterProfileVersion, profilesPath, uniqueProfiles } from './inventory.js';
import { type Measured, clusterOf, draVersion, generationOf, measure } from './reader.js';
import { ProblemLog } from '../problems.js';
import { type Meta, Reflector } from './reflector.js';

export interface WatcherOptions {
  readonly namespace?: string;
  readonly providers?: ProviderFile;
  /** how long changes are gathered before a new snapshot is made */
  readonly coalesceMs?: number;
  /** how long a ClusterProfile missing from a hub relist is kept, unreachable */
  readonly missingGraceMs?: number;
  /** where lists that keep failing are said; without one, nowhere */
  readonly problems?: ProblemLog;
}

/** The problem source for the hub's inventory. */
export const INVENTORY_SOURCE = 'ClusterProfiles on the hub';
/** The problem source for one member. */
export const memberSource = (name: string) => `member ${name}`;

type Kind = 'nodes' | 'pods' | 'deviceClasses' | 'slices' | 'claims';

class MemberWatch {
  readonly reflectors = new Map<Kind, Reflector<Meta>>();
  private readonly failures = new Map<Kind, string>();
  private access: MemberAccess | undefined;
  /** how to reach the member, once access is resolved */
  client: ApiClient | undefined;
  private accessError: string | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  /** the member as last measured while it could be read */
  private last: Measured | undefined;
  /** something was read since it was last measured */
  private dirty = true;

  constructor(
    readonly profile: () => ClusterProfileObject,
    private readonly hub: ApiClient,
    private readonly providers: ProviderFile | undefined,
    private readonly changed: () => void,
  ) {}

  async start(): Promise<void> {
    const r = await resolveAccess(this.profile(), this.providers, this.hub);
    if (this.stopped) return;
    if (!r.ok) {
      this.accessError = r.error;
      this.changed();
      // The plugin or Secret may be fixed later: try again.
      this.retry = setTimeout(() => void this.start(), 5000);
      return;
    }
    this.accessError = undefined;
    this.access = r.value;
    const client = new ApiClient(r.value.kc);
    this.client = client;
    let dra: string | undefined;
    try {
      dra = await draVersion(client);
    } catch (e) {
      this.failures.set('nodes', (e as Error).message);
      this.changed();
      this.retry = setTimeout(() => void this.start(), 1000);
      return;
    }
    if (this.stopped) return;
    const paths: [Kind, string][] = [
      ['nodes', '/api/v1/nodes'],
      ['pods', '/api/v1/pods?fieldSelector=status.phase!%3DSucceeded,status.phase!%3DFailed'],
    ];
    if (dra !== undefined) {
      paths.push(['deviceClasses', `/apis/${dra}/deviceclasses`], ['slices', `/apis/${dra}/resourceslices`], ['claims', `/apis/${dra}/resourceclaims`]);
    }
    for (const [kind, path] of paths) {
      const events = {
        changed: () => {
          this.dirty = true;
          this.changed();
        },
        health: (ok: boolean, why?: string) => {
          if (ok) this.failures.delete(kind);
          else this.failures.set(kind, why ?? 'failed');
          this.dirty = true;
          this.changed();
        },
      };
      const reflector = kind === 'pods' ? new Reflector<Meta>(client, path, events, (o) => capacityView(o as unknown as PodObject) as unknown as Meta) : new Reflector<Meta>(client, path, events);
      this.reflectors.set(kind, reflector);
      reflector.start();
    }
    // Credentials that run out are fetched again before they do.
    if (r.value.expires !== undefined) {
      this.retry = setTimeout(() => this.restart(), Math.max(1000, r.value.expires - Date.now() - 60_000));
    }
  }

  private restart(): void {
    for (const r of this.reflectors.values()) r.stop();
    this.reflectors.clear();
    void this.start();
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    for (const r of this.reflectors.values()) r.stop();
  }

  private items<T>(kind: Kind): T[] {
    return (this.reflectors.get(kind)?.items() ?? []) as unknown as T[];
  }

  /** since when (ms) the member has been unreadable, while it is */
  private troubleSince: number | undefined;

  /** Why the member cannot be read now, or undefined when it can. */
  problem(): string | undefined {
    const why = this.accessError ?? (this.access === undefined ? 'connecting' : [...this.failures.values()][0]);
    if (why === undefined) this.troubleSince = undefined;
    else this.troubleSince ??= Date.now();
    return why;
  }

  /** Since when the member has been unreadable; undefined while it can be read. */
  unreadableSince(): number | undefined {
    this.problem();
    return this.troubleSince;
  }

  cluster(): Cluster {
    const problem = this.problem();
    // A member of many Pods is measured again only when something of it changed.
    if (problem === undefined && (this.dirty || this.last === undefined)) {
      this.dirty = false;
      this.last = measure({
        nodes: this.items<NodeObject>('nodes'),
        pods: this.items<PodObject>('pods'),
        deviceClasses: this.items<DeviceClassObject>('deviceClasses'),
        slices: this.items<ResourceSliceObject>('slices'),
        claims: this.items<ResourceClaimObject>('claims'),
      });
    }
    return clusterOf(this.profile(), this.last, problem);
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
}

export class FleetWatcher extends EventEmitter<FleetWatcherEvents> {
  private readonly members = new Map<string, MemberWatch>();
  private profiles: Reflector<ClusterProfileObject> | undefined;
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

  /** Finds the newest ClusterProfile version the hub serves, then lists and watches it. */
  start(attempt = 0): void {
    this.stopped = false;
    void clusterProfileVersion(this.hub).then(
      (version) => {
        if (this.stopped) return;
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

  stop(): void {
    this.stopped = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    this.profiles?.stop();
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
    for (const name of this.known.keys()) {
      if (!this.members.has(name)) {
        const m = new MemberWatch(
          () => this.known.get(name)!,
          this.hub,
          this.opts.providers,
          () => this.schedule(),
        );
        this.members.set(name, m);
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
    if (this.profiles?.synced() !== true) return;
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
