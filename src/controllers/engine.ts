// The HTTP API's view in cluster mode: Placements live on the hub and the controller's
// decisions are the answers. Scaling goes through the Placement's scale subresource, so the
// hook and an HPA targeting the Placement are one mechanism.

import type { Decision, FleetSnapshot, Placement } from '../core/model.js';
import { compareNames, placementKey, withSpec } from '../core/model.js';
import { ApiError, type ApiClient } from '../fleet/client.js';
import type { FleetWatcher } from '../fleet/watcher.js';
import { type Engine, type EngineResult, type PlacementView, refusal } from '../server/engine.js';
import type { HubControllers } from './hub.js';
import type { Problem, ProblemLog } from '../problems.js';
import { placementPath } from '../names.js';

export class ClusterEngine implements Engine {
  readonly mode = 'cluster' as const;
  private revision = 0;

  constructor(
    private readonly hub: ApiClient,
    private readonly fleet: FleetWatcher,
    private readonly controller: HubControllers,
    private readonly problemLog?: ProblemLog,
  ) {
    controller.on('reconciled', () => this.revision++);
  }

  problems(): readonly Problem[] {
    return this.problemLog?.current() ?? [];
  }

  conflicts() {
    return this.controller.conflictsNow();
  }

  version(): number {
    return (this.fleet.snapshot()?.generation ?? 0) * 1_000_003 + this.revision;
  }

  snapshot(): FleetSnapshot | undefined {
    return this.controller.fleetState()?.snapshot;
  }

  occupied(): FleetSnapshot | undefined {
    const state = this.controller.fleetState();
    return state?.occupied();
  }

  placements(): PlacementView[] {
    const decisions = this.controller.decisions();
    return [...this.controller.placementObjects()]
      .sort((a, b) => compareNames(placementKey(a), placementKey(b)))
      .flatMap((p) => {
        const d = decisions.get(placementKey(p));
        return d ? [{ placement: p, decision: d }] : [];
      });
  }

  get(key: string): PlacementView | undefined {
    return this.placements().find((v) => v.decision.placement === key);
  }

  async put(): Promise<EngineResult<PlacementView>> {
    return refusal(409, 'Conflict', 'placements are applied to the hub in cluster mode (kubectl apply)');
  }

  async remove(): Promise<EngineResult<void>> {
    return refusal(409, 'Conflict', 'placements are deleted on the hub in cluster mode (kubectl delete)');
  }

  async scale(key: string, replicas: number): Promise<EngineResult<PlacementView>> {
    const current = this.get(key);
    const state = this.controller.fleetState();
    if (current === undefined || state === undefined) return refusal(404, 'NotFound', `placement ${key} not found`);
    const [ns, name] = key.split('/') as [string, string];
    try {
      await this.hub.mergePatch(placementPath(ns, name, 'scale'), { spec: { replicas } });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return refusal(404, 'NotFound', `placement ${key} not found`);
      if (e instanceof ApiError && e.status === 422) return refusal(422, 'FieldValueInvalid', e.message);
      return refusal(503, 'Unavailable', `the hub refused the scale: ${(e as Error).message}`);
    }
    // The answer now: the step the controller takes on its next cycle, from the same state.
    const placement = withSpec(current.placement, { ...current.placement.spec, replicas });
    return { ok: true, value: { placement, decision: state.preview([placement])[0] as Decision } };
  }

  whatif(placements: readonly Placement[]): Decision[] {
    const state = this.controller.fleetState();
    return state === undefined ? [] : state.preview(placements);
  }

  explain(key: string) {
    const v = this.get(key);
    const state = this.controller.fleetState();
    if (v === undefined || state === undefined) return undefined;
    const e = state.explain(v.placement);
    return e.ok ? e.value : undefined;
  }
}
