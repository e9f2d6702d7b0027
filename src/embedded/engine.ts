// The embedded mode: a fleet from a snapshot file and Placements kept in memory, scheduled one
// at a time as they are submitted. What Orrery does on a hub, without a hub.

import { type FleetState, explainScheduled, occupied, placeAll, placeOne, removeOne, startFleet } from '../core/incremental.js';
import type { Decision, FleetSnapshot, Placement } from '../core/model.js';
import { compareNames, placementKey } from '../core/model.js';
import type { Engine, EngineResult, PlacementView } from '../server/engine.js';

export interface EmbeddedOptions {
  /** called after every scheduling step, with what it took and what moved */
  readonly observe?: (e: { operation: string; seconds: number; decision?: Decision }) => void;
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
    this.state = startFleet(fleet, placements);
  }

  problems(): readonly [] {
    // A snapshot file is read once, before the server starts: nothing can keep failing.
    return [];
  }

  version(): number {
    return this.fleet.generation * 1_000_003 + this.revision;
  }

  snapshot(): FleetSnapshot {
    return this.fleet;
  }

  occupied(): FleetSnapshot {
    return occupied(this.state);
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
    this.opts.observe?.({ operation, seconds: (clock() - t0) / 1000, ...(d ? { decision: d } : {}) });
    return r;
  }

  async put(placement: Placement): Promise<EngineResult<PlacementView>> {
    const key = placementKey(placement);
    const r = this.time('apply', () => placeOne(this.state, placement), (x) => x.decision);
    this.state = r.state;
    this.stored.set(key, placement);
    this.revision++;
    return { ok: true, value: { placement, decision: r.decision } };
  }

  async remove(key: string): Promise<EngineResult<void>> {
    if (!this.stored.has(key)) return { ok: false, status: 404, message: `placement ${key} not found` };
    this.stored.delete(key);
    this.state = removeOne(this.state, key);
    this.revision++;
    // Freed capacity goes to what could not be placed before, highest priority first.
    const waiting = [...this.stored.values()]
      .filter((p) => (this.state.decisions.get(placementKey(p))?.unscheduledReplicas ?? 0) > 0)
      .sort((a, b) => (b.spec.priority ?? 0) - (a.spec.priority ?? 0) || compareNames(placementKey(a), placementKey(b)));
    for (const p of waiting) this.state = placeOne(this.state, p).state;
    return { ok: true, value: undefined };
  }

  async scale(key: string, replicas: number): Promise<EngineResult<PlacementView>> {
    const current = this.stored.get(key);
    if (current === undefined) return { ok: false, status: 404, message: `placement ${key} not found` };
    return this.put({ ...current, spec: { ...current.spec, replicas } });
  }

  whatif(placements: readonly Placement[]): Decision[] {
    return this.time('whatif', () => placeAll(this.state, placements), () => undefined);
  }

  explain(key: string) {
    const p = this.stored.get(key);
    if (p === undefined) return undefined;
    const e = explainScheduled(this.state, p);
    return 'invalid' in e ? undefined : e;
  }
}
