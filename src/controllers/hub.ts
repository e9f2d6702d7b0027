// The two controllers of a hub, wired by data: the scheduling controller (scheduler.ts) and
// the rollout controller (rollout.ts) share one RolloutBook and nothing else. This is what
// `orrery serve` and the tests start on a hub.

import { EventEmitter } from 'node:events';
import type { Decision, Placement, ScheduleResult } from '../core/model.js';
import type { FleetState } from '../core/fleetState.js';
import type { ApiClient } from '../fleet/client.js';
import type { FleetWatcher } from '../fleet/watcher.js';
import { RolloutController } from './rollout.js';
import { ClusterSecrets } from './argocdClusters.js';
import type { ProviderFile } from '../fleet/access.js';
import { reporter } from '../problems.js';
import { RolloutBook } from './rolloutBook.js';
import { SchedulerController, type SchedulerOptions } from './scheduler.js';

export interface HubOptions extends SchedulerOptions {
  /** writes in flight to one member at a time */
  readonly perMember?: number;
  /** how long a replica may stay Pending for lack of room before it is placed elsewhere */
  readonly pendingGraceMs?: number;
  /** keep one Argo CD cluster Secret per ClusterProfile in the Argo CD namespace */
  readonly argocdClusterSecrets?: boolean;
  /** the provider file, for the exec plugin an Argo CD cluster Secret names */
  readonly providers?: ProviderFile;
}

export class HubControllers extends EventEmitter<{ reconciled: [ScheduleResult] }> {
  private readonly book = new RolloutBook();
  private readonly scheduler: SchedulerController;
  private readonly rollout: RolloutController;
  private readonly clusterSecrets: ClusterSecrets | undefined;

  constructor(hub: ApiClient, fleet: FleetWatcher, opts: HubOptions = {}) {
    super();
    const { perMember, pendingGraceMs, argocdClusterSecrets, providers, ...scheduling } = opts;
    this.scheduler = new SchedulerController(hub, fleet, this.book, scheduling);
    this.rollout = new RolloutController(hub, fleet, this.book, {
      ...(perMember !== undefined ? { perMember } : {}),
      ...(pendingGraceMs !== undefined ? { pendingGraceMs } : {}),
      ...(opts.writes !== undefined ? { writes: opts.writes } : {}),
      report: reporter(opts.problems, opts.log),
      ...(opts.log !== undefined ? { log: opts.log } : {}),
    });
    this.scheduler.on('reconciled', (r) => this.emit('reconciled', r));
    // a member whose agent carries out its decisions says in its report what it did
    fleet.on('pulled', (member) => this.rollout.pulledChanged(member));
    this.clusterSecrets = argocdClusterSecrets
      ? new ClusterSecrets(hub, fleet, {
          namespace: opts.argocdNamespace ?? 'argocd',
          ...(providers !== undefined ? { providers } : {}),
          ...(opts.writes !== undefined ? { writes: opts.writes } : {}),
          report: reporter(opts.problems, opts.log),
          ...(opts.log !== undefined ? { log: opts.log } : {}),
        })
      : undefined;
  }

  start(): void {
    this.scheduler.start();
    this.clusterSecrets?.start();
  }

  stop(): void {
    this.scheduler.stop();
    this.rollout.stop();
    this.clusterSecrets?.stop();
  }

  /** A full re-check now: everything applied again, as when this instance has just become leader. */
  recheck(): void {
    this.scheduler.recheck();
    this.clusterSecrets?.soon();
  }

  /** Resolves once the Argo CD cluster Secrets are as the inventory last said (when they are kept). */
  async clusterSecretsIdle(): Promise<void> {
    await this.clusterSecrets?.idle();
  }

  decisions(): ReadonlyMap<string, Decision> {
    return this.scheduler.decisions();
  }

  fleetState(): FleetState | undefined {
    return this.scheduler.fleetState();
  }

  placementObjects(): readonly Placement[] {
    return this.scheduler.placementObjects();
  }

  /** Placements whose objects in a member someone else made, one entry a placement and member. */
  conflictsNow(): { placement: string; cluster: string }[] {
    return this.book.conflictsNow();
  }
}
