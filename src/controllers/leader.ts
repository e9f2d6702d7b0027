// Leader election on a coordination.k8s.io/v1 Lease, so that several replicas can run and only
// one writes. The holder renews the Lease; the others take it over once it has not been
// renewed for its duration. Writes carry the resourceVersion they read, so two candidates
// never both win.

import { EventEmitter } from 'node:events';
import { ApiError, type ApiClient } from '../fleet/client.js';
import type { ProblemLog } from '../problems.js';

export interface LeaseOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseSeconds?: number;
  readonly renewEveryMs?: number;
  readonly retryEveryMs?: number;
  /** where failures to take or renew the Lease are said */
  readonly problems?: ProblemLog;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

export interface LeaderEvents {
  started: [];
  stopped: [];
}

function microTime(ms: number): string {
  // MicroTime: RFC 3339 with microseconds
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector extends EventEmitter<LeaderEvents> {
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastRenew = 0;

  constructor(
    private readonly hub: ApiClient,
    private readonly opts: LeaseOptions,
  ) {
    super();
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /**
   * Stops competing. A leader gives the Lease up so another can take over at once, unless
   * `release` is false (as when a process dies: the Lease then runs out).
   */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leading) {
      this.setLeading(false);
      if (!release) return;
      try {
        const lease = await this.hub.get<Lease>(this.path());
        if (lease.spec.holderIdentity === this.opts.identity) {
          await this.hub.mergePatch(this.path(), { metadata: { resourceVersion: lease.metadata.resourceVersion }, spec: { holderIdentity: null, renewTime: null, acquireTime: null } });
        }
      } catch (e) {
        this.opts.problems?.fail(this.source, `giving the Lease up: ${(e as Error).message} (it expires on its own)`);
      }
    }
  }

  private get source(): string {
    return `Lease ${this.opts.namespace}/${this.opts.name}`;
  }

  /**
   * Whether the Lease can be taken at all: its namespace exists and this identity may create
   * Leases there. A dry-run create asks exactly that and changes nothing.
   */
  async check(): Promise<string | undefined> {
    try {
      await this.hub.post(`/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases?dryRun=All`, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.opts.name, namespace: this.opts.namespace },
        spec: {},
      });
      return undefined;
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) return undefined;
      if (e instanceof ApiError && e.status === 404) return `the Lease namespace "${this.opts.namespace}" does not exist on the hub: create it, or name another with --lease-namespace`;
      if (e instanceof ApiError && e.status === 403) return `not allowed to create Leases in "${this.opts.namespace}" (${e.message}): grant it, or name another namespace with --lease-namespace`;
      return `checking the Lease namespace "${this.opts.namespace}": ${(e as Error).message}`;
    }
  }

  private path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases/${this.opts.name}`;
  }

  private get leaseSeconds(): number {
    return this.opts.leaseSeconds ?? 15;
  }

  private setLeading(on: boolean): void {
    if (on === this.leading) return;
    this.leading = on;
    this.emit(on ? 'started' : 'stopped');
  }

  private schedule(): void {
    if (this.stopped) return;
    const every = this.leading ? (this.opts.renewEveryMs ?? (this.leaseSeconds * 1000) / 3) : (this.opts.retryEveryMs ?? 2000);
    this.timer = setTimeout(() => void this.tick(), every);
  }

  private async tick(): Promise<void> {
    try {
      const ok = await this.tryAcquireOrRenew();
      this.opts.problems?.ok(this.source);
      if (ok) this.lastRenew = Date.now();
      this.setLeading(ok);
    } catch (e) {
      this.opts.problems?.fail(this.source, `${this.leading ? 'renewing' : 'taking'} the Lease: ${(e as Error).message}`);
      // A leader that cannot renew steps down before its Lease can expire elsewhere.
      if (this.leading && Date.now() - this.lastRenew > this.leaseSeconds * 1000 * 0.8) this.setLeading(false);
    }
    this.schedule();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    let lease: Lease | undefined;
    try {
      lease = await this.hub.get<Lease>(this.path());
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
    const mine = { holderIdentity: this.opts.identity, leaseDurationSeconds: this.leaseSeconds, renewTime: microTime(now) };
    if (lease === undefined) {
      try {
        await this.hub.post(`/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases`, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.opts.name, namespace: this.opts.namespace },
          spec: { ...mine, acquireTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) return false;
        throw e;
      }
    }
    const holder = lease.spec.holderIdentity;
    const renewed = lease.spec.renewTime ? Date.parse(lease.spec.renewTime) : 0;
    const duration = (lease.spec.leaseDurationSeconds ?? this.leaseSeconds) * 1000;
    if (holder && holder !== this.opts.identity && now - renewed < duration) return false;
    const taking = holder !== this.opts.identity;
    try {
      await this.hub.mergePatch(this.path(), {
        metadata: { resourceVersion: lease.metadata.resourceVersion },
        spec: { ...mine, ...(taking ? { acquireTime: microTime(now), leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 } : {}) },
      });
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) return false;
      throw e;
    }
  }
}
