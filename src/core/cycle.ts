// One scheduling cycle's view of the placements: each prepared once, filtered and scored
// against every cluster, with the work shared between look-alike placements and memoised per
// snapshot, so that a cycle on an unchanged snapshot only pays for what is new.

import type { Decision, Floor, FleetSnapshot, Placement } from './model.js';
import { compareNames, placementKey } from './model.js';
import { type CycleContext, type Profile, runFilters, scoreKey, scorePart } from './framework.js';
import { defaultProfile } from './profile.js';
import { type FleetIndex, type PreparedPlacement, indexFleet, preparePlacement } from './prepare.js';
import { type NodeCapCache, nodeCaps } from './fit.js';
import type { Issue } from './result.js';
import { replicaValue } from './objective.js';

export interface ScheduleOptions {
  /** The decision in force; with it, scheduling is Steady unless mode says Fresh. */
  readonly previous?: readonly Decision[];
  readonly mode?: 'Steady' | 'Fresh';
  /** auto: the best answer found; a floor's name: that floor alone (a baseline) */
  readonly solver?: 'auto' | Floor;
  readonly profile?: Profile;
  /** Milliseconds, for stats and the budget: the core keeps no clock of its own. */
  readonly clock?: () => number;
  /** Largest tier (in placement × cluster pairs) solved as one exact integer program. */
  readonly exactMaxPairs?: number;
  /** Largest steering relaxation, in variables. */
  readonly steerMaxVariables?: number;
  /**
   * Clusters a placement gets no new replicas on, and why (placement key → cluster name → why),
   * as when its replicas there stayed Pending for lack of room, or someone else's objects stand
   * where it would write: it keeps what runs there.
   */
  readonly avoid?: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /**
   * Time allowed for the whole solve, read from `clock`. Past it, every tier not yet solved
   * takes its greedy answer, and linear programs are cut short. Without it the solve is bounded
   * by model size alone and fully deterministic.
   */
  readonly budgetMs?: number;
}

/** A placement made ready for this cycle. */
export interface Job {
  readonly p: PreparedPlacement;
  readonly weight: number;
  /** what one placed replica is worth within its tier: its dominant share of the fleet */
  readonly value: number;
  readonly eligible: Uint8Array;
  readonly eligibleCount: number;
  /** preference per cluster row shared by look-alike placements (stability left out) */
  readonly basePref: Float64Array;
  /** preference of a cluster for this placement, stability included */
  pref(row: number): number;
  /** eligible cluster rows, best first (worked out on first use) */
  readonly order: Int32Array;
  readonly previous: ReadonlyMap<number, number> | undefined;
  /** cluster rows that take no new replicas of this placement */
  readonly avoid: ReadonlySet<number> | undefined;
  /** replicas of this placement alone that the cluster's nodes hold, as the snapshot has them (at most its replicas) */
  nodeCap(row: number): number;
}

export interface Cycle {
  readonly ctx: CycleContext;
  readonly profile: Profile;
  readonly jobs: readonly Job[];
  /** placements that cannot be scheduled as written, and why */
  readonly invalid: ReadonlyMap<string, Issue>;
}

interface Scored {
  readonly pref: Float64Array;
  readonly order: Int32Array;
}

/** What one snapshot and profile give every cycle that uses them: worked out once. */
interface FleetCache {
  readonly fleet: FleetIndex;
  readonly rowOf: ReadonlyMap<string, number>;
  readonly eligible: Map<string, { readonly mask: Uint8Array; readonly count: number }>;
  readonly scored: Map<string, Scored>;
  readonly prepared: WeakMap<Placement, ReturnType<typeof preparePlacement>>;
  /** what look-alike placements share their scores by */
  readonly sharedKeys: WeakMap<PreparedPlacement, string>;
  /** node-level caps by eligibility key: per row, the cap and the limit it was counted to */
  readonly caps: NodeCapCache;
}

// Memoised by snapshot identity: a snapshot never changes, so neither does anything derived
// from it, and an incremental cycle on the same snapshot reuses all of it.
const caches = new WeakMap<FleetSnapshot, Map<Profile, FleetCache>>();

function fleetCache(snapshot: FleetSnapshot, profile: Profile): FleetCache {
  let byProfile = caches.get(snapshot);
  if (byProfile === undefined) {
    byProfile = new Map();
    caches.set(snapshot, byProfile);
  }
  let cache = byProfile.get(profile);
  if (cache === undefined) {
    const fleet = byProfile.values().next().value?.fleet ?? indexFleet(snapshot);
    cache = {
      fleet,
      rowOf: new Map(fleet.clusters.map((c, i) => [c.name, i])),
      eligible: new Map(),
      scored: new Map(),
      prepared: new WeakMap(),
      sharedKeys: new WeakMap(),
      caps: new Map(),
    };
    byProfile.set(profile, cache);
  }
  return cache;
}

const NO_PREVIOUS: ReadonlyMap<string, ReadonlyMap<string, number>> = new Map();

/** Filters and scores every placement against every cluster, sharing work between look-alikes. */
export function prepareCycle(snapshot: FleetSnapshot, placements: readonly Placement[], opts: ScheduleOptions = {}): Cycle {
  const profile = opts.profile ?? defaultProfile;
  const cache = fleetCache(snapshot, profile);
  const { fleet } = cache;
  const previous = new Map<string, Map<string, number>>();
  if (opts.mode !== 'Fresh') {
    for (const d of opts.previous ?? []) previous.set(d.placement, new Map(d.clusters.map((c) => [c.name, c.replicas])));
  }
  const ctx: CycleContext = { fleet, previous };
  // Shared work must not depend on this cycle's previous decision.
  const sharedCtx: CycleContext = { fleet, previous: NO_PREVIOUS };
  const nClusters = fleet.clusters.length;

  const jobs: Job[] = [];
  const invalid = new Map<string, Issue>();
  const seen = new Set<string>();
  const keyed = placements.map((p) => [placementKey(p), p] as const).sort((a, b) => compareNames(a[0], b[0]));
  for (const [key, placement] of keyed) {
    if (seen.has(key)) continue;
    seen.add(key);
    let prepared = cache.prepared.get(placement);
    if (prepared === undefined) {
      prepared = preparePlacement(placement, fleet);
      cache.prepared.set(placement, prepared);
    }
    if (!prepared.ok) {
      invalid.set(key, prepared.error);
      continue;
    }
    const p = prepared.value;
    let eligible = cache.eligible.get(p.eligibilityKey);
    if (eligible === undefined) {
      const mask = new Uint8Array(nClusters);
      let count = 0;
      for (let row = 0; row < nClusters; row++) {
        if (runFilters(profile, sharedCtx, p, fleet.clusters[row]!, row).ok) {
          mask[row] = 1;
          count++;
        }
      }
      eligible = { mask, count };
      cache.eligible.set(p.eligibilityKey, eligible);
    }
    const mask = eligible.mask;
    // Look-alike placements share the scores that read the snapshot alone, and the order of
    // their eligible clusters by them.
    let sharedKey = cache.sharedKeys.get(p);
    if (sharedKey === undefined) {
      sharedKey = `${p.eligibilityKey} ${scoreKey(profile, p)}`;
      cache.sharedKeys.set(p, sharedKey);
    }
    let scored = cache.scored.get(sharedKey);
    if (scored === undefined) {
      const pref = new Float64Array(nClusters);
      const rows: number[] = [];
      for (let row = 0; row < nClusters; row++) {
        if (mask[row] !== 1) continue;
        pref[row] = scorePart(profile, 'shared', sharedCtx, p, fleet.clusters[row]!, row);
        rows.push(row);
      }
      scored = { pref, order: orderRows(rows, pref, fleet) };
      cache.scored.set(sharedKey, scored);
    }
    let prevRows: Map<number, number> | undefined;
    // The scores that read the decision in force, on the clusters it runs on there.
    let own: Map<number, number> | undefined;
    for (const [name, n] of previous.get(key) ?? []) {
      const row = cache.rowOf.get(name);
      if (row === undefined || n <= 0) continue;
      (prevRows ??= new Map()).set(row, n);
      if (mask[row] !== 1) continue;
      const v = scorePart(profile, 'previous', ctx, p, fleet.clusters[row]!, row);
      if (v !== 0) (own ??= new Map()).set(row, v);
    }
    let avoid: Set<number> | undefined;
    for (const name of opts.avoid?.get(key)?.keys() ?? []) {
      const row = cache.rowOf.get(name);
      if (row !== undefined) (avoid ??= new Set()).add(row);
    }
    jobs.push(makeJob(p, { eligible: { mask, count: eligible.count }, scored, previous: prevRows, avoid, own, fleet, nodeCap: nodeCaps(cache.fleet, cache.caps, p) }));
  }
  return { ctx, profile, jobs, invalid };
}

/** What a job is made of, beside its placement: worked out by prepareCycle, most of it shared. */
interface JobParts {
  readonly eligible: { readonly mask: Uint8Array; readonly count: number };
  readonly scored: Scored;
  /** cluster row → replicas in the decision in force */
  readonly previous: Map<number, number> | undefined;
  readonly avoid: ReadonlySet<number> | undefined;
  /** the scores that read the decision in force, by row */
  readonly own: ReadonlyMap<number, number> | undefined;
  readonly fleet: FleetIndex;
  readonly nodeCap: (row: number) => number;
}

function makeJob(p: PreparedPlacement, { eligible, scored, previous, avoid, own, fleet, nodeCap }: JobParts): Job {
  const base = scored.pref;
  const value = replicaValue(p.demand, fleet);
  if (own === undefined) {
    return {
      p,
      weight: p.priority + 1,
      value,
      eligible: eligible.mask,
      eligibleCount: eligible.count,
      basePref: base,
      pref: (row) => base[row] as number,
      order: scored.order,
      previous,
      avoid,
      nodeCap,
    };
  }
  const pref = (row: number) => (base[row] as number) + (own.get(row) ?? 0);
  let order: Int32Array | undefined;
  return {
    p,
    weight: p.priority + 1,
    value,
    eligible: eligible.mask,
    eligibleCount: eligible.count,
    basePref: base,
    pref,
    previous,
    avoid,
    nodeCap,
    // The clusters it ran on move up by the scores that read the decision in force: merge them
    // into the shared order instead of sorting every cluster again.
    get order() {
      if (order === undefined) {
        const names = fleet.clusters;
        const cmp = (a: number, b: number) => pref(b) - pref(a) || compareNames(names[a]!.name, names[b]!.name);
        const boosted = [...own.keys()].sort(cmp);
        const out = new Int32Array(scored.order.length);
        let i = 0;
        let k = 0;
        for (const row of scored.order) {
          if (own.has(row)) continue;
          while (k < boosted.length && cmp(boosted[k] as number, row) < 0) out[i++] = boosted[k++] as number;
          out[i++] = row;
        }
        while (k < boosted.length) out[i++] = boosted[k++] as number;
        order = out;
      }
      return order;
    },
  };
}

function orderRows(rows: number[], pref: Float64Array, fleet: FleetIndex): Int32Array {
  const names = fleet.clusters;
  rows.sort((a, b) => (pref[b] as number) - (pref[a] as number) || compareNames(names[a]!.name, names[b]!.name));
  return Int32Array.from(rows);
}
