// The embedded mode: a fleet from a snapshot file and Placements kept in memory; every write is
// one Steady step, the one the hub controller takes. What Orrery does on a hub, without a hub.

import { type Change, FleetState } from '../core/fleetState.js';
import type { Decision, FleetSnapshot, Placement } from '../core/model.js';
import { compareNames, placementKey } from '../core/model.js';
import { type Engine, type EngineResult, type PlacementView, refusal } from '../server/engine.js';

export interface EmbeddedOptions {
  /** called after every scheduling step, with what it took and what moved */
  readonly observe?: (e: { operation: string; seconds: number; decision?: Decision; preempted?: number }) => void;
  readonly clock?: () => number;
}

export class EmbeddedEngine implements Engine {
  readonly mode = 'embedded' as const;
  private state: FleetState;
  private readonly stored = new Map<string, Placement>();
  private revision = 0;

  constructor(
    private readonly fleet: FleetSnapshot,
    placements: readonly Placement[] = [],
    private readonly opts: EmbeddedOptions = {},
  ) {
    for (const p of placements) this.stored.set(placementKey(p), p);
    this.state = FleetState.start(fleet, placements);
  }

  problems(): readonly [] {
    // A snapshot file is read once, before the server starts: nothing can keep failing.
    return [];
  }

  conflicts(): readonly [] {
    // Nothing is written to members: nothing can stand in the way.
    return [];
  }

  version(): number {
    return this.fleet.generation * 1_000_003 + this.revision;
  }

  snapshot(): FleetSnapshot {
    return this.fleet;
  }

  occupied(): FleetSnapshot {
    return this.state.occupied();
  }

  placements(): PlacementView[] {
    return [...this.stored.keys()].sort(compareNames).map((k) => this.get(k)!);
  }

  get(key: string): PlacementView | undefined {
    const placement = this.stored.get(key);
    const decision = this.state.decisions.get(key);
    return placement && decision ? { placement, decision } : undefined;
  }

  private time<T>(operation: string, f: () => T, decision: (t: T) => Decision | undefined): T {
    const clock = this.opts.clock ?? (() => performance.now());
    const t0 = clock();
    const r = f();
    const d = decision(r);
    const preempted = operation === 'whatif' ? 0 : this.state.result.stats.preempted;
    this.opts.observe?.({ operation, seconds: (clock() - t0) / 1000, ...(d ? { decision: d } : {}), ...(preempted > 0 ? { preempted } : {}) });
    return r;
  }

  async put(placement: Placement): Promise<EngineResult<PlacementView>> {
    const key = placementKey(placement);
    this.stored.set(key, placement);
    const decision = this.time(
      'apply',
      () => this.apply({ put: [placement] }).get(key) as Decision,
      (d) => d,
    );
    this.revision++;
    return { ok: true, value: { placement, decision } };
  }

  async remove(key: string): Promise<EngineResult<void>> {
    if (!this.stored.has(key)) return refusal(404, 'NotFound', `placement ${key} not found`);
    this.stored.delete(key);
    // Freed capacity goes to what waits, as the step decides.
    this.time(
      'remove',
      () => this.apply({ remove: [key] }),
      () => undefined,
    );
    this.revision++;
    return { ok: true, value: undefined };
  }

  /** One step; the decisions after it. */
  private apply(change: Change): ReadonlyMap<string, Decision> {
    this.state = this.state.step(change);
    return this.state.decisions;
  }

  async scale(key: string, replicas: number): Promise<EngineResult<PlacementView>> {
    const current = this.stored.get(key);
    if (current === undefined) return refusal(404, 'NotFound', `placement ${key} not found`);
    return this.put({ ...current, spec: { ...current.spec, replicas } });
  }

  whatif(placements: readonly Placement[]): Decision[] {
    return this.time(
      'whatif',
      () => this.state.preview(placements),
      () => undefined,
    );
  }

  explain(key: string) {
    const p = this.stored.get(key);
    if (p === undefined) return undefined;
    const e = this.state.explain(p);
    return e.ok ? e.value : undefined;
  }
}
