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
/** Why a filter refused a cluster: an Issue, with the plugin that found it. */
/** Why a filter refused a cluster: a closed set, each with a message and, where it is about room, the numbers. */
export type ReasonCode =
  | 'ClusterUnhealthy'
  | 'ClusterUnreachable'
  | 'DeviceClassMissing'
  | 'InsufficientResource'
  | 'NoNodeFits'
  | 'RegionNotAllowed'
  | 'ResourceMissing'
  | 'SelectorMismatch'
  | 'UntoleratedTaint';

export interface Reason {
  readonly code: ReasonCode;
  readonly message: string;
  readonly plugin: string;
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
  /**
   * What of the placement the score reads: placements with equal keys score every cluster alike
   * and share the work. Without it, the placement scores alone.
   */
  key?(p: PreparedPlacement): string;
  /**
   * The score reads the decision in force (ctx.previous): it is worked out for each placement on
   * its own, and only for the clusters the placement runs on there; elsewhere it is 0.
   */
  readonly readsPrevious?: boolean;
}

export interface WeightedScore {
  readonly plugin: Score;
  readonly weight: number;
}

export interface Profile {
  readonly filters: readonly Filter[];
  readonly scores: readonly WeightedScore[];
}

export function reject(plugin: string, code: ReasonCode, message: string, extra: Partial<Reason> = {}): FilterResult {
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

/**
 * One part of a cluster's score, normalised: the weighted scores of the plugins that apply and
 * read the snapshot alone (`shared`) or the decision in force (`previous`), over the summed weight
 * of all that apply. A cluster's score is the sum of the two parts: the one normaliser.
 */
export function scorePart(profile: Profile, part: 'shared' | 'previous', ctx: CycleContext, p: PreparedPlacement, c: Cluster, row: number): number {
  let sum = 0;
  for (const { plugin, weight } of profile.scores) {
    if ((plugin.readsPrevious === true) !== (part === 'previous') || plugin.appliesTo?.(p) === false) continue;
    sum += weight * clampScore(plugin.score(ctx, p, c, row));
  }
  return sum / activeWeight(profile, p);
}

/** The weighted mean of the score plugins that apply, 0..100. */
export function scoreCluster(profile: Profile, ctx: CycleContext, p: PreparedPlacement, c: Cluster, row: number): number {
  return scorePart(profile, 'shared', ctx, p, c, row) + scorePart(profile, 'previous', ctx, p, c, row);
}

/**
 * Placements with equal keys get the same shared scores on every cluster: the plugins that
 * apply, each with its own key.
 */
export function scoreKey(profile: Profile, p: PreparedPlacement): string {
  const parts: string[] = [];
  for (const { plugin } of profile.scores) {
    if (plugin.readsPrevious === true) continue;
    parts.push(plugin.appliesTo?.(p) === false ? '-' : (plugin.key?.(p) ?? `placement ${p.key}`));
  }
  return JSON.stringify(parts);
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
