// The plugin shapes: a filter is a hard rule, a score a soft preference. Both see one
// cluster at a time through the per-cycle context, and both name themselves in what they return.

import type { Cluster } from './model.js';
import type { FleetIndex, PreparedPlacement } from './prepare.js';

export interface CycleContext {
  readonly fleet: FleetIndex;
  /** The last decision: placement key → cluster name → replicas. */
  readonly previous: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** Why a cluster was refused, as data: numbers where there are numbers. */
export interface Reason {
  readonly code: string;
  readonly plugin: string;
  readonly message: string;
  readonly resource?: string;
  readonly requested?: number;
  readonly free?: number;
}

export type FilterResult = { readonly ok: true } | { readonly ok: false; readonly reason: Reason };

export const PASS: FilterResult = { ok: true };

export interface Filter {
  readonly name: string;
  filter(ctx: CycleContext, p: PreparedPlacement, cluster: Cluster, row: number): FilterResult;
}

export interface Score {
  readonly name: string;
  /** Whether the score says anything about this placement; a plugin that does not apply is left out of the mean. */
  appliesTo?(p: PreparedPlacement): boolean;
  /** 0..100, higher is better. */
  score(ctx: CycleContext, p: PreparedPlacement, cluster: Cluster, row: number): number;
}

export interface WeightedScore {
  readonly plugin: Score;
  readonly weight: number;
}

export interface Profile {
  readonly filters: readonly Filter[];
  readonly scores: readonly WeightedScore[];
}

export function reject(plugin: string, code: string, message: string, extra: Partial<Reason> = {}): FilterResult {
  return { ok: false, reason: { code, plugin, message, ...extra } };
}

export function runFilters(profile: Profile, ctx: CycleContext, p: PreparedPlacement, c: Cluster, row: number): FilterResult {
  for (const f of profile.filters) {
    const r = f.filter(ctx, p, c, row);
    if (!r.ok) return r;
  }
  return PASS;
}

export interface ScoreBreakdown {
  readonly total: number;
  readonly byPlugin: ReadonlyMap<string, number>;
}

/** The summed weight of the plugins that apply to a placement. */
export function activeWeight(profile: Profile, p: PreparedPlacement): number {
  let weights = 0;
  for (const { plugin, weight } of profile.scores) if (plugin.appliesTo?.(p) !== false) weights += weight;
  return weights || 1;
}

/** The weighted mean of the score plugins that apply: the one place scores are normalised. */
export function scoreCluster(profile: Profile, ctx: CycleContext, p: PreparedPlacement, c: Cluster, row: number): number {
  let sum = 0;
  for (const { plugin, weight } of profile.scores) {
    if (plugin.appliesTo?.(p) !== false) sum += weight * clampScore(plugin.score(ctx, p, c, row));
  }
  return sum / activeWeight(profile, p);
}

export function explainScore(profile: Profile, ctx: CycleContext, p: PreparedPlacement, c: Cluster, row: number): ScoreBreakdown {
  const byPlugin = new Map<string, number>();
  for (const { plugin } of profile.scores) {
    if (plugin.appliesTo?.(p) !== false) byPlugin.set(plugin.name, clampScore(plugin.score(ctx, p, c, row)));
  }
  return { total: scoreCluster(profile, ctx, p, c, row), byPlugin };
}

function clampScore(s: number): number {
  return Number.isFinite(s) ? Math.min(100, Math.max(0, s)) : 0;
}
