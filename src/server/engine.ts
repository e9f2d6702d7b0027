// What the HTTP API asks of Orrery, whichever mode it runs in: the fleet, the placements and
// their decisions, and the operations on them. The embedded mode keeps placements in memory;
// the cluster mode keeps them on the hub.

import type { Decision, FleetSnapshot, Placement } from '../core/model.js';
import type { ScheduledExplanation } from '../core/fleetState.js';
import type { Problem } from '../problems.js';
import type { Issue, IssueCode, Result } from '../core/result.js';

export interface PlacementView {
  readonly placement: Placement;
  readonly decision: Decision;
}

/** Why an engine could not do what was asked: the HTTP status it stands for, and the issues. */
export interface Refusal {
  readonly status: 400 | 401 | 403 | 404 | 409 | 422 | 503;
  readonly issues: readonly Issue[];
}

export type EngineResult<T> = Result<T, Refusal>;

/** A refusal of one issue about the request as a whole. */
export function refusal(status: Refusal['status'], code: IssueCode, message: string): { readonly ok: false; readonly error: Refusal } {
  return { ok: false, error: { status, issues: [{ code, path: [], message }] } };
}

export interface Engine {
  readonly mode: 'embedded' | 'cluster';
  /** Moves whenever anything an answer depends on changes: cached answers key on it. */
  version(): number;
  /** The fleet; undefined until it has been read once. */
  snapshot(): FleetSnapshot | undefined;
  /** The fleet as the placements Orrery made leave it (their replicas counted as taken). */
  occupied(): FleetSnapshot | undefined;
  placements(): readonly PlacementView[];
  get(key: string): PlacementView | undefined;
  put(placement: Placement): Promise<EngineResult<PlacementView>>;
  remove(key: string): Promise<EngineResult<void>>;
  scale(key: string, replicas: number): Promise<EngineResult<PlacementView>>;
  /** The decisions Orrery would make now for these placements, changing nothing. */
  whatif(placements: readonly Placement[]): readonly Decision[];
  explain(key: string): ScheduledExplanation | undefined;
  /** What keeps failing now (reading the fleet, the Lease, writes), for /readyz and metrics. */
  problems(): readonly Problem[];
  /** Placements whose objects in a member someone else made, one entry a placement and member. */
  conflicts(): readonly { readonly placement: string; readonly cluster: string }[];
}
