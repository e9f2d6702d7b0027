// One member's Nodes, Pods and DRA objects kept current by list-and-watch, and the member's summary
// worked out from them when something changed. The hub keeps one for each member it reads
// directly; the agent keeps one for its own member.

import type { ApiClient } from './client.js';
import type { DeviceClassObject, ResourceClaimObject, ResourceSliceObject } from './devices.js';
import type { NodeObject, PodObject } from './measure.js';
import { type Meta, Reflector } from './reflector.js';
import { type MemberSummary, type PodUsage, podUsage, summarizeMember } from './summary.js';

type Kind = 'nodes' | 'pods' | 'deviceClasses' | 'slices' | 'claims';

/** DRA API versions, newest first: older members serve only the beta ones. */
const DRA_VERSIONS = ['resource.k8s.io/v1', 'resource.k8s.io/v1beta2', 'resource.k8s.io/v1beta1'];

/** The newest DRA version a member serves, if any. */
export async function draVersion(member: ApiClient): Promise<string | undefined> {
  for (const v of DRA_VERSIONS) if (await member.serves(v)) return v;
  return undefined;
}

/** Pods that hold capacity: finished ones hold none. */
export const LIVE_PODS = '/api/v1/pods?fieldSelector=status.phase!%3DSucceeded,status.phase!%3DFailed';

export class MemberMirror {
  private readonly reflectors = new Map<Kind, Reflector<Meta>>();
  private readonly failures = new Map<Kind, string>();
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  /** the summary as last worked out */
  private last: MemberSummary | undefined;
  /** something was read since the summary was last worked out */
  private dirty = true;

  constructor(
    private readonly client: ApiClient,
    private readonly changed: () => void,
  ) {}

  async start(): Promise<void> {
    let dra: string | undefined;
    try {
      dra = await draVersion(this.client);
    } catch (e) {
      if (this.stopped) return;
      this.failures.set('nodes', (e as Error).message);
      this.changed();
      this.retry = setTimeout(() => void this.start(), 1000);
      return;
    }
    if (this.stopped) return;
    this.failures.clear();
    const paths: [Kind, string][] = [
      ['nodes', '/api/v1/nodes'],
      ['pods', LIVE_PODS],
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
      // A member's Pods are kept as what each takes of its node (a whole Pod is several KiB), and
      // listed 100 at a time, so that few whole ones are in memory at once.
      const reflector = kind === 'pods' ? new Reflector<Meta>(this.client, path, events, (o) => podUsage(o as unknown as PodObject) as Meta, 100) : new Reflector<Meta>(this.client, path, events);
      this.reflectors.set(kind, reflector);
      reflector.start();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    for (const r of this.reflectors.values()) r.stop();
    this.reflectors.clear();
  }

  /** Why the member cannot be read now, or undefined when it can. */
  problem(): string | undefined {
    return [...this.failures.values()][0];
  }

  /** Whether every kind has been listed once. */
  synced(): boolean {
    return this.reflectors.size > 0 && [...this.reflectors.values()].every((r) => r.synced());
  }

  private items<T>(kind: Kind): T[] {
    return (this.reflectors.get(kind)?.items() ?? []) as unknown as T[];
  }

  /** The member's summary; worked out again only when something of it changed. */
  summary(): MemberSummary {
    if (this.dirty || this.last === undefined) {
      this.dirty = false;
      this.last = summarizeMember({
        nodes: this.items<NodeObject>('nodes'),
        pods: this.items<PodUsage>('pods'),
        deviceClasses: this.items<DeviceClassObject>('deviceClasses'),
        slices: this.items<ResourceSliceObject>('slices'),
        claims: this.items<ResourceClaimObject>('claims'),
      });
    }
    return this.last;
  }
}
