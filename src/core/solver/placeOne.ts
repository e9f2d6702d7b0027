// Placing one placement on top of what it keeps: candidates, allocation, and the capacity
// bookkeeping that goes with it.

import type { FleetIndex } from '../prepare.js';
import { domainOf, domainsOf } from '../prepare.js';
import { roomFor, sumsAreExact } from '../fit.js';
import { compareNames } from '../model.js';
import type { Job } from '../cycle.js';
import { type Candidate, allocate } from './divideReplicas.js';
import { type ClusterNodes, tightestNode } from '../nodes.js';
import type { Issue } from '../result.js';
import { hasOwnLimits } from './aloneCap.js';

/** cluster row → replicas */
export type Assignment = Map<number, number>;

/**
 * The previous replicas that may stay: on clusters still eligible, as many as still fit. A
 * shrink takes replicas from the worst-scored clusters first, from the fullest topology domain
 * when a skew is set, and keeps minClusters clusters where it can. Reserves their capacity.
 */
export function keepPrevious(job: Job, free: Float64Array, dims: number, fleet: FleetIndex): Assignment {
  const kept: Assignment = new Map();
  if (job.previous === undefined) return kept;
  const { spread, demand, replicas } = job.p;
  // A held cluster keeps what runs there although it takes nothing new.
  const held = (r: number) => fleet.clusters[r]?.hold === true;
  const rows = [...job.previous.keys()].filter((r) => job.eligible[r] === 1 || held(r));
  rows.sort((a, b) => job.pref(b) - job.pref(a) || compareNames(fleet.clusters[a]!.name, fleet.clusters[b]!.name));
  for (const row of rows) {
    if (kept.size >= spread.maxClusters) break;
    const n = Math.min(job.previous.get(row) ?? 0, held(row) ? Number.POSITIVE_INFINITY : roomFor(job, free, dims, row));
    if (n > 0) kept.set(row, n);
  }
  const skewed = Number.isFinite(spread.maxSkew);
  const domain = (row: number) => domainOf(fleet.clusters[row]!, spread.topologyKey) ?? '';
  let total = 0;
  for (const n of kept.values()) total += n;
  while (total > replicas) {
    let fullest = '';
    if (skewed) {
      const byDomain = new Map<string, number>();
      for (const [row, n] of kept) byDomain.set(domain(row), (byDomain.get(domain(row)) ?? 0) + n);
      let most = -1;
      for (const [d, n] of byDomain) if (n > most) [most, fullest] = [n, d];
    }
    const keepClusters = kept.size <= spread.minClusters;
    let victim: number | undefined;
    // kept iterates best first: the last match is the worst-scored
    for (const [row, n] of kept) {
      if (skewed && domain(row) !== fullest) continue;
      if (keepClusters && n === 1) continue;
      victim = row;
    }
    if (victim === undefined) for (const row of kept.keys()) victim = row;
    const n = (kept.get(victim as number) as number) - 1;
    if (n === 0) kept.delete(victim as number);
    else kept.set(victim as number, n);
    total--;
  }
  for (const [row, n] of kept) if (!held(row)) take(free, row * dims, demand, n);
  return kept;
}

export function take(free: Float64Array, base: number, demand: Float64Array, n: number): void {
  for (let d = 0; d < demand.length; d++) free[base + d] = (free[base + d] as number) - n * (demand[d] as number);
}

export interface PlaceOpts {
  /** per cluster row, how many more replicas this placement may put there */
  readonly limit?: ((row: number, cap: number) => number) | undefined;
  /** replicas to reach, kept ones included; the placement's own count without it */
  readonly target?: number;
  /** preference: the best-scored clusters first; best-fit: those with the least room for it first */
  readonly order?: 'preference' | 'best-fit';
  /** packed onto the first clusters whatever the placement's strategy, as a bin packer does */
  readonly pack?: boolean;
  /** the nodes best-fit reads, when they are followed as replicas are placed */
  readonly nodes?: readonly ClusterNodes[] | undefined;
  /**
   * Per cluster row, 1 where no replica of the placement's shape fits any more (by summed room
   * or nodes): passed over, and marked where that is found. Only for a caller whose room for the
   * shape does not come back (a fill, which clears what a placement gives back).
   */
  readonly gone?: Uint8Array | undefined;
}

export function candidatesFor(job: Job, kept: Assignment | undefined, free: Float64Array, fleet: FleetIndex, opts: PlaceOpts): Candidate[] {
  const dims = fleet.dims.length;
  const out: Candidate[] = [];
  const key = job.p.spread.topologyKey;
  // A skew counts every eligible domain, full ones too: their clusters stay in the list.
  const everyDomain = Number.isFinite(job.p.spread.maxSkew);
  const order = job.order;
  // Without rules of its own, a placement placed in preference order takes the first clusters
  // with room: Spread one replica on each new one (kept clusters, which already hold one, take
  // none while new ones with room remain), Pack as many as fit. Once the clusters scanned hold
  // what it still needs, the ones after them change nothing but the count of what it keeps.
  const plain = opts.order !== 'best-fit' && !hasOwnLimits(job);
  const need = plain ? (opts.target ?? job.p.replicas) - keptOn(job, kept) : Number.POSITIVE_INFINITY;
  const packs = opts.pack === true || job.p.strategy === 'Pack';
  let room = 0;
  let fresh = 0;
  let keptSeen = 0;
  // Without a cluster budget, in preference order, a domain's share of a skew is at most what the
  // placement still needs, and its clusters with room are filled first to last: more new ones
  // with room than that, one spare, change nothing.
  const perDomain = everyDomain && !Number.isFinite(job.p.spread.maxClusters) && opts.order !== 'best-fit' ? (opts.target ?? job.p.replicas) - keptOn(job, kept) + 1 : Number.POSITIVE_INFINITY;
  const domains = everyDomain ? domainsOf(fleet, key) : undefined;
  // per domain: listed (1), and how many new clusters with room were listed in it
  const listed = domains === undefined ? undefined : new Uint8Array(domains.names.length);
  const opened = domains === undefined ? undefined : new Int32Array(domains.names.length);
  const keptHere = keptByRow(kept, fleet.clusters.length);
  try {
    let i = 0;
    for (; i < order.length; i++) {
      if ((packs ? room : fresh) >= need) break;
      const row = order[i] as number;
      const have = keptHere?.[row] ?? 0;
      const avoided = job.avoid?.has(row) === true;
      // Where nothing of its own is kept, a cluster with no room for the shape is not listed.
      const unlisted = have === 0 && !everyDomain && !avoided;
      if (unlisted && opts.gone?.[row] === 1) continue;
      // The cluster's summed room for what others take; its nodes for what one replica can use.
      let cap = avoided ? 0 : roomFor(job, free, dims, row, have);
      if (cap <= 0 && unlisted && opts.gone !== undefined) opts.gone[row] = 1;
      if (opts.limit !== undefined && cap > 0) cap = opts.limit(row, cap);
      if (have > 0) keptSeen++;
      else if (cap > 0) fresh++;
      if (cap <= 0 && have === 0 && !everyDomain) continue;
      // Domains matter to a skew alone. A cluster that can take nothing only makes its domain
      // counted: once the domain is listed, later ones like it change nothing.
      let domain = '';
      if (domains !== undefined && listed !== undefined && opened !== undefined) {
        const d = domains.of[row] as number;
        if (have === 0 && (cap <= 0 ? listed[d] === 1 : (opened[d] as number) >= perDomain)) continue;
        if (have === 0 && cap > 0) opened[d] = (opened[d] as number) + 1;
        listed[d] = 1;
        domain = domains.names[d] as string;
      }
      out.push({ row, name: fleet.clusters[row]!.name, cap: Math.max(0, cap), pref: job.pref(row), domain, kept: have });
      room += Math.max(0, cap);
    }
    // Clusters it keeps replicas on after those: counted as kept, taking nothing new.
    const keptRows = kept === undefined ? 0 : keptOn(job, kept, true);
    for (; keptHere !== undefined && keptSeen < keptRows && i < order.length; i++) {
      const row = order[i] as number;
      const have = keptHere[row] as number;
      if (have === 0) continue;
      keptSeen++;
      out.push({ row, name: fleet.clusters[row]!.name, cap: 0, pref: job.pref(row), domain: '', kept: have });
    }
  } finally {
    if (keptHere !== undefined) for (const row of (kept as Assignment).keys()) keptHere[row] = 0;
  }
  if (opts.order === 'best-fit') {
    // the tightest node first, then the least room; clusters with no room keep their place at the end
    const nodes = opts.nodes ?? fleet.nodes;
    // a one-node cluster's room for the replica is how tightly it fits there
    const tightness = (c: Candidate) => (c.cap === 0 ? Number.POSITIVE_INFINITY : sumsAreExact(fleet, c.row, job.p) ? c.cap : tightestNode(nodes[c.row] as ClusterNodes, job.p.node));
    const keyed = out.map((c) => ({ c, tight: tightness(c) }));
    const first = (a: Keyed, b: Keyed) => a.tight - b.tight || a.c.cap - b.c.cap;
    if (packs && !hasOwnLimits(job)) {
      const few = tightestFew(keyed, (opts.target ?? job.p.replicas) - keptOn(job, kept), first);
      if (few !== undefined) return few;
    }
    keyed.sort(first);
    return keyed.map((k) => k.c);
  }
  return out;
}

let keptScratch = new Int32Array(0);

/**
 * What is kept, by cluster row, in an array reused from call to call (zero where nothing is
 * kept; the caller sets its rows back to zero): read for every cluster a placement looks at.
 */
function keptByRow(kept: Assignment | undefined, rows: number): Int32Array | undefined {
  if (kept === undefined || kept.size === 0) return undefined;
  if (keptScratch.length < rows) keptScratch = new Int32Array(rows);
  for (const [row, n] of kept) keptScratch[row] = n;
  return keptScratch;
}

interface Keyed {
  readonly c: Candidate;
  readonly tight: number;
}

const FEW = 4;

/**
 * A packed placement without rules of its own fills the tightest clusters first until it has
 * what it needs: those (at most FEW), in order, and after them the clusters it keeps replicas on,
 * whose replicas count but which take nothing more — the answer allocation gives from every
 * cluster in order, without ordering them all. Undefined where more are needed, or the room is short.
 */
function tightestFew(keyed: readonly Keyed[], need: number, first: (a: Keyed, b: Keyed) => number): Candidate[] | undefined {
  const taken = new Uint8Array(keyed.length);
  const out: Candidate[] = [];
  let room = 0;
  while (room < need) {
    if (out.length === FEW) return undefined;
    let best = -1;
    // the first of equals, as a stable sort has it
    for (let i = 0; i < keyed.length; i++) if (taken[i] === 0 && (best < 0 || first(keyed[i] as Keyed, keyed[best] as Keyed) < 0)) best = i;
    if (best < 0 || (keyed[best] as Keyed).c.cap <= 0) return undefined;
    taken[best] = 1;
    out.push((keyed[best] as Keyed).c);
    room += (keyed[best] as Keyed).c.cap;
  }
  for (let i = 0; i < keyed.length; i++) if (taken[i] === 0 && (keyed[i] as Keyed).c.kept > 0) out.push((keyed[i] as Keyed).c);
  return out;
}

/** Replicas (or with `rows`, clusters) kept on clusters it is eligible for: those its candidates list. */
function keptOn(job: Job, kept: Assignment | undefined, rows = false): number {
  let n = 0;
  kept?.forEach((k, row) => {
    if (job.eligible[row] === 1 && k > 0) n += rows ? 1 : k;
  });
  return n;
}

/** Places one job on top of `kept`; returns the new assignment or why it failed. */
export function placeJob(job: Job, kept: Assignment | undefined, free: Float64Array, fleet: FleetIndex, opts: PlaceOpts = {}): { ok: true; assign: Assignment } | { ok: false; error: Issue } {
  const cands = candidatesFor(job, kept, free, fleet, opts);
  const r = allocate(cands, {
    replicas: opts.target ?? job.p.replicas,
    strategy: opts.pack === true ? 'Pack' : job.p.strategy,
    spread: job.p.spread,
    gang: job.p.gang,
  });
  if (!r.ok) return { ok: false, error: r.error };
  const dims = fleet.dims.length;
  const assign: Assignment = new Map(kept ?? []);
  cands.forEach((c, i) => {
    const add = r.adds[i] as number;
    if (add > 0) {
      take(free, c.row * dims, job.p.demand, add);
      assign.set(c.row, (assign.get(c.row) ?? 0) + add);
    }
  });
  return { ok: true, assign };
}

export function release(free: Float64Array, dims: number, job: Job, a: Assignment): void {
  for (const [row, n] of a) take(free, row * dims, job.p.demand, -n);
}

export function placedOf(a: Assignment | undefined): number {
  let s = 0;
  a?.forEach((n) => {
    s += n;
  });
  return s;
}
