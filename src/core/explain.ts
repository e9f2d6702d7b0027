// Why a placement went where it did, and why not elsewhere: per cluster, the filter that
// refused it or the scores it got; for unscheduled replicas, a histogram of reasons.

import { type CycleContext, type Profile, type Reason, explainScore, runFilters } from './framework.js';
import type { FleetSnapshot, Placement } from './model.js';
import { placementKey } from './model.js';
import { type ClusterNodes, fitOnNodes, nodeShortage, nodeTotals } from './nodes.js';
import { formatAmount } from './quantity.js';
import { type Issue, type Result, fail, ok } from './result.js';
import { type Cycle, type Job, type ScheduleOptions, prepareCycle } from './cycle.js';
import { counted } from './words.js';
import { replicasThatFit } from './fit.js';

export interface ClusterExplanation {
  readonly name: string;
  readonly eligible: boolean;
  /** the first filter that refused the cluster */
  readonly reason?: Reason;
  /** 0..100, weighted over every score plugin */
  readonly score?: number;
  readonly scores?: Readonly<Record<string, number>>;
  /** why the placement takes no new replicas there for now, though the cluster is eligible */
  readonly avoided?: string;
  /**
   * replicas of the placement the cluster holds, by its summed room and on its nodes, beside what
   * the other placements hold there (at most its replicas): where a Spread placement got fewer,
   * this says the cluster had no room for more
   */
  readonly room?: number;
}

export interface PlacementExplanation {
  readonly placement: string;
  readonly clusters: readonly ClusterExplanation[];
  /** filter reasons by count, e.g. {"ClusterSelector/SelectorMismatch": 12} */
  readonly filtered: Readonly<Record<string, number>>;
  /** the weight of each score plugin that applies to this placement */
  readonly weights: Readonly<Record<string, number>>;
}

/**
 * Filters run on `snapshot`; scores are those the solver gave on `scored`, the snapshot it
 * scheduled (by default the same), so that explain shows exactly the scores it used.
 */
export function explainPlacement(snapshot: FleetSnapshot, placement: Placement, opts: ScheduleOptions = {}, scored: FleetSnapshot = snapshot): Result<PlacementExplanation, Issue> {
  const cycle = prepareCycle(snapshot, [placement], opts);
  const key = placementKey(placement);
  const invalid = cycle.invalid.get(key);
  if (invalid !== undefined) return fail(invalid);
  const job = cycle.jobs[0] as Job;
  const { fleet } = cycle.ctx;
  const scoring = scored === snapshot ? cycle : prepareCycle(scored, [placement], opts);
  const scoringJob = scoring.jobs[0] as Job;
  const scoringRow = new Map(scoring.ctx.fleet.clusters.map((c, i) => [c.name, i]));
  const clusters: ClusterExplanation[] = [];
  const filtered: Record<string, number> = {};
  fleet.clusters.forEach((c, row) => {
    const r = runFilters(cycle.profile, cycle.ctx, job.p, c, row);
    if (!r.ok) {
      const k = `${r.reason.plugin}/${r.reason.code}`;
      filtered[k] = (filtered[k] ?? 0) + 1;
      clusters.push({ name: c.name, eligible: false, reason: r.reason });
      return;
    }
    const at = scoringRow.get(c.name) as number;
    const s = explainScore(scoring.profile, scoring.ctx, scoringJob.p, scoring.ctx.fleet.clusters[at]!, at);
    const avoided = opts.avoid?.get(key)?.get(c.name);
    clusters.push({
      name: c.name,
      eligible: true,
      score: round2(scoringJob.pref(at)),
      scores: Object.fromEntries([...s.byPlugin].map(([n, v]) => [n, round2(v)])),
      ...(avoided !== undefined ? { avoided } : {}),
      room: replicasThatFit(fleet, row, job.p, job.p.replicas),
    });
  });
  const weights = Object.fromEntries(cycle.profile.scores.filter((s) => s.plugin.appliesTo?.(job.p) !== false).map((s) => [s.plugin.name, s.weight]));
  return ok({ placement: key, clusters, filtered, weights });
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

// Placements with the same eligibility key are refused by the same filters everywhere.
const histograms = new WeakMap<CycleContext, Map<string, ReadonlyMap<string, number>>>();

/** Which filters refused how many clusters, for one placement. */
export function filterHistogram(profile: Profile, ctx: CycleContext, job: Job): ReadonlyMap<string, number> {
  let byKey = histograms.get(ctx);
  if (byKey === undefined) {
    byKey = new Map();
    histograms.set(ctx, byKey);
  }
  const known = byKey.get(job.p.eligibilityKey);
  if (known !== undefined) return known;
  const counts = new Map<string, number>();
  ctx.fleet.clusters.forEach((c, row) => {
    if (job.eligible[row] === 1) return;
    const r = runFilters(profile, ctx, job.p, c, row);
    const k = r.ok ? 'Unknown' : r.reason.plugin === 'Fit' ? `Insufficient ${r.reason.resource}` : r.reason.plugin;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  });
  byKey.set(job.p.eligibilityKey, counts);
  return counts;
}

/**
 * "7 of 10 replicas unscheduled: ..." read from the final capacity alone, so that the same
 * outcome always reads the same, however the solver got there.
 */
export function unscheduledMessage(cycle: Cycle, job: Job, nodes: readonly ClusterNodes[], placed: number, clustersUsed: number): string {
  const { fleet } = cycle.ctx;
  const counts = new Map(filterHistogram(cycle.profile, cycle.ctx, job));
  const onNodes: string[] = [];
  const scalarNames = fleet.dims.slice(0, fleet.scalarDims);
  // Eligible clusters that are now full: say which resource ran out, in all or on every node.
  for (const row of job.order) {
    const full = whyFull(nodes[row] as ClusterNodes, job, scalarNames, fleet.kinds.length);
    if (full === null) continue;
    counts.set(full.key, (counts.get(full.key) ?? 0) + 1);
    const s = full.shortage;
    if (s !== undefined && onNodes.length < 3) {
      onNodes.push(`${fleet.clusters[row]!.name}: none of its ${s.nodes} nodes has ${formatAmount(s.resource, s.need)} ${s.resource} free (at most ${formatAmount(s.resource, s.mostFree)})`);
    }
  }
  const parts = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, n]) => `${n} ${k}`);
  const unscheduled = job.p.replicas - placed;
  const head = `${unscheduled} of ${job.p.replicas} replicas unscheduled`;
  const why = ruleNote(job, nodes, placed);
  const missing = job.p.unknownDevices.length > 0 ? `; no cluster offers ${job.p.unknownDevices.join(', ')}` : '';
  const rules = spreadNote(job, nodes, placed, clustersUsed);
  const demand = describeDemand(job, fleet.dims);
  const detail = onNodes.length > 0 ? ` (${onNodes.join('; ')})` : '';
  return `${head}${why}${missing}${rules}; one replica needs ${demand}; clusters: ${parts.length > 0 ? parts.join(', ') : 'none'}${detail}`;
}

/** Why a cluster state holds no replica of a shape; null where it holds one. */
interface Full {
  readonly key: string;
  /** where every node is short, and of what */
  readonly shortage?: ReturnType<typeof nodeShortage>;
}

// Unscheduled placements of one shape are told about the same full clusters: each cluster state
// (states never change) is looked at once per shape and request names.
const fullness = new WeakMap<ClusterNodes, Map<string, Full | null>>();

function whyFull(c: ClusterNodes, job: Job, scalarNames: readonly string[], kinds: number): Full | null {
  let known = fullness.get(c);
  if (known === undefined) fullness.set(c, (known = new Map()));
  const key = `${job.p.node.key ?? job.p.key}|${job.p.requestNames.join(',')}`;
  const hit = known.get(key);
  if (hit !== undefined) return hit;
  let out: Full | null = null;
  if (fitOnNodes(c, job.p.node, 1) === 0) {
    const short = shortInAll(c, job, scalarNames, kinds);
    if (short !== undefined) out = { key: `Insufficient ${short}` };
    else {
      const shortage = nodeShortage(c, job.p.node, scalarNames, job.p.requestNames);
      out = { key: `Insufficient ${shortage?.resource ?? 'room'} on every node`, shortage };
    }
  }
  known.set(key, out);
  return out;
}

/** The resource the whole cluster has less of than one replica needs, if any. */
function shortInAll(c: ClusterNodes, job: Job, scalarNames: readonly string[], kinds: number): string | undefined {
  const { free, devices } = nodeTotals(c, scalarNames.length, kinds);
  for (let d = 0; d < scalarNames.length; d++) if ((job.p.node.scalar[d] as number) > (free[d] as number)) return scalarNames[d];
  for (const [i, r] of job.p.node.requests.entries()) {
    let have = 0;
    for (const k of r.kinds) have += devices[k] as number;
    if (have < r.count) return job.p.requestNames[i];
  }
  return undefined;
}

function describeDemand(job: Job, dims: readonly string[]): string {
  const parts: string[] = [];
  job.p.demand.forEach((v, d) => {
    if (v > 0 && dims[d] !== 'pods') parts.push(`${formatAmount(dims[d] as string, v)} ${dims[d]}`);
  });
  return parts.length > 0 ? parts.join(', ') : 'a pod slot';
}

/** Rules that can leave a placement with nothing although some clusters have room. */
function ruleNote(job: Job, nodes: readonly ClusterNodes[], placed: number): string {
  if (placed > 0) return '';
  if (job.p.gang) return '; gang placement: not all replicas fit at once';
  const withRoom = job.order.filter((row) => fitOnNodes(nodes[row] as ClusterNodes, job.p.node, 1) > 0).length;
  if (withRoom > 0 && withRoom < job.p.spread.minClusters) {
    return `; only ${counted(withRoom, 'cluster')} can take a replica, spread.minClusters is ${job.p.spread.minClusters}`;
  }
  return '';
}

/** When clusters with room remain, the placement's own spread rules held it back: say which. */
function spreadNote(job: Job, nodes: readonly ClusterNodes[], placed: number, clustersUsed: number): string {
  const room = job.order.some((row) => fitOnNodes(nodes[row] as ClusterNodes, job.p.node, 1) > 0);
  if (!room || placed === 0) return '';
  const s = job.p.spread;
  if (clustersUsed >= s.maxClusters) return `; spread.maxClusters (${s.maxClusters}) reached`;
  if (Number.isFinite(s.maxSkew)) return `; held to spread.maxSkew ${s.maxSkew} over ${s.topologyKey}`;
  return '';
}
