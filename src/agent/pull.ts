// Pull mode: the agent carries out its member's share of the decisions, so that the hub needs no
// credential into the member. It watches the Placements on the hub and takes, for each one, what
// the scheduling controller wrote in its status for this cluster (replicas, for the generation
// it decided); it applies the workload with the hub's own Deployer (the same objects, the same
// rules of ownership) and removes what no decision wants here any more. What it did goes back to
// the hub in its ClusterReport, from which the hub writes the Placement's status.
//
// Never on a fault: nothing is applied or removed until the Placements have been listed, nothing
// is removed while listing them fails, and a placement whose decision is for an older spec keeps
// what it runs until the scheduler has caught up.

import { deliveredByOrrery, placementKey } from '../core/model.js';
import { retryDelay } from '../backoff.js';
import { Deployer, type DeploymentView, deploymentView, placementLabel, stuckIn } from '../controllers/deployer.js';
import { type PlacementObject, signature } from '../controllers/rolloutBook.js';
import { HubNamespaces } from '../controllers/hubNamespaces.js';
import type { ApiClient } from '../fleet/client.js';
import type { PulledPlacement } from '../fleet/report.js';
import { Reflector } from '../fleet/reflector.js';
import { MANAGED_BY, PLACEMENTS } from '../names.js';

/** A Placement as the hub serves it, with what its status says of the decision. */
type PlacementOnHub = PlacementObject & {
  readonly status?: { readonly observedGeneration?: number; readonly clusters?: readonly { readonly name: string; readonly replicas: number }[] };
};

/** What was done with a placement here, and for which version of it. */
interface Done {
  readonly entry: PulledPlacement;
  /** the placement's version and replicas the entry is for (rolloutBook's signature) */
  readonly sig: string;
  /** failed applies in a row, for the backoff */
  readonly failures: number;
  readonly retryAt: number;
}

export class PullRollout {
  private readonly deployer = new Deployer();
  private readonly placements: Reflector<PlacementOnHub>;
  private readonly deployments: Reflector<DeploymentView>;
  private readonly namespaces: HubNamespaces;
  private readonly done = new Map<string, Done>();
  private hubProblem: string | undefined;
  /** why Orrery's Deployments in the member, or the hub's namespaces, cannot be watched now */
  private readonly watchProblems = new Map<string, string>();
  private stuckTimer: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    hub: ApiClient,
    private readonly member: ApiClient,
    /** this member's name, as the decisions name it */
    private readonly cluster: string,
    /** what the report says changed */
    private readonly changed: () => void,
    private readonly log: (message: string) => void = () => undefined,
    /** how long a replica may wait for room in the member before it is reported stuck */
    private readonly pendingGraceMs = 60_000,
  ) {
    this.placements = new Reflector<PlacementOnHub>(hub, `${PLACEMENTS}/placements`, {
      changed: () => this.soon(),
      health: (ok, why) => {
        this.hubProblem = ok ? undefined : `listing Placements on the hub: ${why}`;
        this.changed();
        if (ok) this.soon();
      },
    });
    this.deployments = new Reflector<DeploymentView>(
      member,
      `/apis/apps/v1/deployments?labelSelector=${encodeURIComponent(`${MANAGED_BY}=orrery`)}`,
      { changed: (o, deleted) => this.observed(o, deleted === true), health: (ok, why) => this.watching("watching Orrery's Deployments in the member", ok, why) },
      deploymentView,
    );
    this.namespaces = new HubNamespaces(hub, { changed: () => this.soon(), health: (ok, why) => this.watching('watching namespaces on the hub', ok, why) });
  }

  start(): void {
    this.placements.start();
    this.deployments.start();
    this.stuckTimer = setInterval(() => void this.lookForStuck(), Math.min(30_000, this.pendingGraceMs / 2));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.stuckTimer) clearInterval(this.stuckTimer);
    this.placements.stop();
    this.deployments.stop();
    this.namespaces.stop();
  }

  /** Why the decisions cannot be read or carried out as they should now, while they cannot. */
  problem(): string | undefined {
    return this.hubProblem ?? [...this.watchProblems.values()][0];
  }

  /** A watch of the member's Deployments or the hub's namespaces went bad or recovered: the report says so. */
  private watching(what: string, ok: boolean, why: string | undefined): void {
    const before = this.watchProblems.get(what);
    if (ok) this.watchProblems.delete(what);
    else this.watchProblems.set(what, `${what}: ${why ?? 'failed'}`);
    if (before !== this.watchProblems.get(what)) this.changed();
  }

  /** Every placement carried out here, as the report gives it. */
  state(): PulledPlacement[] {
    return [...this.done.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, d]) => d.entry);
  }

  /** Resolves once nothing is being worked on. */
  async idle(): Promise<void> {
    while (this.running || this.timer !== undefined) await new Promise((r) => setTimeout(r, 20));
  }

  private soon(delayMs = 200): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = true;
      void this.reconcile()
        .catch((e: unknown) => this.log(`carrying out the decisions: ${(e as Error).message}`))
        .finally(() => {
          this.running = false;
          if (this.again) {
            this.again = false;
            this.soon();
          }
        });
    }, delayMs);
  }

  /**
   * A Deployment of Orrery's changed in the member (or, after a list, any may have): its readiness
   * goes to the placement's entry, and one deleted or scaled by someone else is applied again.
   */
  private observed(o: DeploymentView | undefined, deleted: boolean): void {
    if (!this.deployments.synced()) return;
    let moved = false;
    let drifted = false;
    for (const [key, d] of this.done) {
      if (d.entry.state !== 'Applied') continue;
      if (o !== undefined && key !== `${o.metadata.namespace}/${o.metadata.name}`) continue;
      const seen = deleted ? undefined : this.deployments.get(d.entry.namespace, d.entry.name);
      if (seen === undefined || seen.spec?.replicas !== d.entry.replicas) {
        this.done.set(key, { ...d, sig: '' });
        drifted = true;
        continue;
      }
      const ready = seen.status?.readyReplicas ?? 0;
      if (ready !== d.entry.readyReplicas) {
        this.done.set(key, { ...d, entry: { ...d.entry, readyReplicas: ready } });
        moved = true;
      }
    }
    if (moved) this.changed();
    if (drifted) this.soon();
  }

  /** Replicas applied here whose Pods have found no room past the grace: the hub places them elsewhere. */
  private async lookForStuck(): Promise<void> {
    const applied = [...this.done].filter(([, d]) => d.entry.state === 'Applied');
    if (applied.length === 0) return;
    let counts: Map<string, number>;
    try {
      counts = await stuckIn(this.member, new Set(applied.map(([key]) => placementLabel(key))), this.pendingGraceMs);
    } catch (e) {
      this.log(`looking for Pods that cannot start: ${(e as Error).message}`);
      return;
    }
    let moved = false;
    for (const [key, d] of applied) {
      const n = counts.get(placementLabel(key)) ?? 0;
      if ((d.entry.stuckReplicas ?? 0) === n) continue;
      const { stuckReplicas: _, ...entry } = d.entry;
      this.done.set(key, { ...d, entry: n > 0 ? { ...entry, stuckReplicas: n } : entry });
      moved = true;
    }
    if (moved) this.changed();
  }

  private async reconcile(): Promise<void> {
    if (!this.placements.synced() || this.hubProblem !== undefined) return;
    const now = Date.now();
    const wanted = new Map<string, { p: PlacementOnHub; replicas: number }>();
    /** placement labels whose objects stay in the member */
    const keep = new Set<string>();
    for (const p of this.placements.items()) {
      const key = placementKey(p);
      const label = placementLabel(key);
      // another tool delivers it: Orrery removes nothing of it
      if (!deliveredByOrrery(p)) {
        keep.add(label);
        continue;
      }
      if (p.metadata.deletionTimestamp !== undefined) continue;
      // decided for an older spec, or not decided yet: what runs here stays as it is
      if (p.status?.observedGeneration !== p.metadata.generation) {
        keep.add(label);
        continue;
      }
      const replicas = p.status?.clusters?.find((c) => c.name === this.cluster)?.replicas ?? 0;
      if (replicas <= 0) continue;
      keep.add(label);
      wanted.set(key, { p, replicas });
    }
    let moved = false;
    for (const [key, { p, replicas }] of wanted) {
      const sig = signature(p, replicas);
      const before = this.done.get(key);
      if (before !== undefined && before.sig === sig && (before.entry.state === 'Applied' || now < before.retryAt)) continue;
      this.done.set(key, await this.apply(p, replicas, sig, before, now));
      moved = true;
    }
    // what no decision wants here any more is removed, and forgotten once it is gone
    await this.deployer.prune(this.cluster, this.member, (label) => keep.has(label));
    for (const key of [...this.done.keys()]) {
      if (wanted.has(key) || keep.has(placementLabel(key))) continue;
      this.done.delete(key);
      moved = true;
    }
    if (moved) this.changed();
    // a failed apply is tried again after its backoff
    const next = Math.min(...[...this.done.values()].filter((d) => d.entry.state !== 'Applied').map((d) => d.retryAt));
    if (Number.isFinite(next)) this.soon(Math.max(200, next - Date.now()));
  }

  private async apply(p: PlacementOnHub, replicas: number, sig: string, before: Done | undefined, now: number): Promise<Done> {
    const base = { namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid ?? '', generation: p.metadata.generation ?? 0, replicas };
    try {
      const outcome = await this.deployer.apply(this.cluster, this.member, p, replicas, await this.namespaces.podSecurity(p.metadata.namespace));
      if (!outcome.ok) {
        const message = outcome.conflicts.map((c) => `${c.object}: ${c.message}`).join('; ');
        return { sig, failures: 0, retryAt: now + 30_000, entry: { ...base, readyReplicas: 0, state: 'Conflict', message } };
      }
      return { sig, failures: 0, retryAt: 0, entry: { ...base, readyReplicas: outcome.applied.readyReplicas, state: 'Applied' } };
    } catch (e) {
      const failures = (before?.sig === sig ? before.failures : 0) + 1;
      return { sig, failures, retryAt: now + retryDelay(failures), entry: { ...base, readyReplicas: 0, state: 'Failed', message: (e as Error).message } };
    }
  }
}
