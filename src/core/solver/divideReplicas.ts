// One placement's replicas over its candidate clusters: the per-placement subproblem.
//
// maxSkew follows Kubernetes topology spread: it is counted over the domains of every eligible
// cluster (the candidates list them all, full ones with no room), or with maxClusters, over the
// domains of the chosen clusters.
// Without coupling rules this is a capped knapsack with unit weights, which filling the
// best-scored clusters first solves exactly. maxSkew is solved at the level of topology
// domains first (lowest domain first, which maximises what fits under the skew bound), then
// each domain's share is spread or packed over its clusters.

import type { SpreadRules } from '../prepare.js';
import type { Issue } from '../result.js';

export interface Candidate {
  readonly row: number;
  readonly name: string;
  /** more replicas that fit into the cluster now */
  readonly cap: number;
  /** 0..100 */
  readonly pref: number;
  readonly domain: string;
  /** replicas the placement already has there and keeps */
  readonly kept: number;
}

export interface AllocationRules {
  readonly replicas: number;
  readonly strategy: 'Spread' | 'Pack';
  readonly spread: SpreadRules;
  readonly gang: boolean;
}

const GANG: Issue = { code: 'GangUnsatisfiable', path: [], message: 'a gang places all its replicas at once, and the room does not hold them all' };
const MIN_CLUSTERS: Issue = { code: 'MinClustersUnsatisfiable', path: [], message: 'fewer clusters than minClusters would hold replicas' };

export type AllocationOutcome = { readonly ok: true; readonly adds: Int32Array; readonly placed: number } | { readonly ok: false; readonly error: Issue; readonly placed: 0 };

/**
 * Adds replicas to `cands` (sorted best first) so that kept + added reaches `rules.replicas`
 * where capacity and the spread rules allow. Never removes a kept replica.
 */
export function allocate(cands: readonly Candidate[], rules: AllocationRules): AllocationOutcome {
  const n = cands.length;
  const adds = new Int32Array(n);
  let kept = 0;
  let used = 0;
  for (const c of cands) {
    kept += c.kept;
    if (c.kept > 0) used++;
  }
  const want = Math.max(0, rules.replicas - kept);
  const { maxSkew } = rules.spread;
  if (want > 0) {
    if (!Number.isFinite(maxSkew)) distribute(cands, allIndexes(n), adds, want, rules, used);
    else if (!Number.isFinite(rules.spread.maxClusters)) distributeOverDomains(cands, allIndexes(n), adds, want, rules, used);
    else {
      // With a cluster budget the skew is held among the domains of the clusters chosen:
      // domains the placement cannot reach do not count.
      const open: number[] = [];
      const fresh: number[] = [];
      cands.forEach((c, i) => {
        (c.kept > 0 ? open : c.cap > 0 ? fresh : []).push(i);
      });
      const chosen = [...open, ...chooseNew(cands, open, fresh, rules.spread.maxClusters - used, want)].sort((a, b) => a - b);
      distributeOverDomains(cands, chosen, adds, want, rules, used);
    }
  }
  let placed = 0;
  let clusters = 0;
  for (let i = 0; i < n; i++) {
    placed += adds[i] as number;
    if ((cands[i] as Candidate).kept + (adds[i] as number) > 0) clusters++;
  }
  const total = kept + placed;
  if (rules.gang && total < rules.replicas) return { ok: false, error: GANG, placed: 0 };
  if (total > 0 && clusters < rules.spread.minClusters) return { ok: false, error: MIN_CLUSTERS, placed: 0 };
  return { ok: true, adds, placed };
}

function allIndexes(n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

function usedCount(cands: readonly Candidate[], adds: Int32Array): number {
  let used = 0;
  for (let i = 0; i < cands.length; i++) if ((cands[i] as Candidate).kept + (adds[i] as number) > 0) used++;
  return used;
}

/**
 * Puts up to `want` more replicas on the candidates at `members` (a best-first subset),
 * opening at most maxClusters − used new clusters. Returns how many it placed.
 */
function distribute(cands: readonly Candidate[], members: readonly number[], adds: Int32Array, want: number, rules: AllocationRules, usedNow: number): number {
  const budget = rules.spread.maxClusters - usedNow;
  const open: number[] = [];
  const fresh: number[] = [];
  for (const i of members) {
    const c = cands[i] as Candidate;
    if (c.kept + (adds[i] as number) > 0) open.push(i);
    else if (c.cap > 0) fresh.push(i);
  }
  const newOnes = chooseNew(cands, open, fresh, budget, want);
  return rules.strategy === 'Pack'
    ? pack(cands, open, newOnes, adds, want, Math.max(0, rules.spread.minClusters - usedNow))
    : waterFill(
        cands,
        [...open, ...newOnes].sort((a, b) => a - b),
        adds,
        want,
      );
}

/**
 * The clusters a placement may newly open. With a cluster budget, the best-scored ones unless
 * clusters with more room would place more replicas: placing comes before preference.
 */
function chooseNew(cands: readonly Candidate[], open: number[], fresh: number[], budget: number, want: number): number[] {
  if (!(budget < fresh.length)) return fresh;
  if (budget <= 0) return [];
  const room = (idx: number[]) => idx.reduce((s, i) => s + (cands[i] as Candidate).cap, 0);
  const openRoom = room(open);
  const byPref = fresh.slice(0, budget);
  const byCap = [...fresh].sort((a, b) => (cands[b] as Candidate).cap - (cands[a] as Candidate).cap || a - b).slice(0, budget);
  const reach = (idx: number[]) => Math.min(want, openRoom + room(idx));
  return reach(byPref) >= reach(byCap) ? byPref : byCap.sort((a, b) => a - b);
}

function pack(cands: readonly Candidate[], open: number[], fresh: number[], adds: Int32Array, want: number, minNew: number): number {
  let left = want;
  // minClusters first: one replica on each of the best new clusters it needs.
  for (let k = 0; k < fresh.length && k < minNew && left > 0; k++) {
    const i = fresh[k] as number;
    adds[i] = (adds[i] as number) + 1;
    left--;
  }
  const order = [...open, ...fresh].sort((a, b) => a - b);
  for (const i of order) {
    if (left === 0) break;
    const room = (cands[i] as Candidate).cap - (adds[i] as number);
    const take = Math.min(room, left);
    if (take > 0) {
      adds[i] = (adds[i] as number) + take;
      left -= take;
    }
  }
  return want - left;
}

/**
 * Evens out final replica counts over `members`: the highest level L that the replicas can
 * raise every member to (capped by room), then one more each for the best-scored.
 */
function waterFill(cands: readonly Candidate[], members: number[], adds: Int32Array, want: number): number {
  if (members.length === 0) return 0;
  const have = (i: number) => (cands[i] as Candidate).kept + (adds[i] as number);
  const top = (i: number) => (cands[i] as Candidate).kept + (cands[i] as Candidate).cap;
  const needed = (level: number) => {
    let s = 0;
    for (const i of members) s += Math.max(0, Math.min(top(i), level) - have(i));
    return s;
  };
  let lo = 0;
  let hi = 1;
  for (const i of members) hi = Math.max(hi, top(i));
  if (needed(hi) <= want) lo = hi;
  else {
    // needed() is monotone in the level: the highest level that fits
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (needed(mid) <= want) lo = mid;
      else hi = mid;
    }
  }
  let left = want;
  for (const i of members) {
    const add = Math.max(0, Math.min(top(i), lo) - have(i));
    adds[i] = (adds[i] as number) + add;
    left -= add;
  }
  for (const i of members) {
    if (left === 0) break;
    if (have(i) === lo && top(i) > lo) {
      adds[i] = (adds[i] as number) + 1;
      left--;
    }
  }
  return want - left;
}

interface Domain {
  readonly name: string;
  readonly members: number[];
  count: number;
  room: number;
  share: number;
}

function distributeOverDomains(cands: readonly Candidate[], members: readonly number[], adds: Int32Array, want: number, rules: AllocationRules, used: number): void {
  const domains = new Map<string, Domain>();
  members.forEach((i) => {
    const c = cands[i] as Candidate;
    let d = domains.get(c.domain);
    if (d === undefined) {
      d = { name: c.domain, members: [], count: 0, room: 0, share: 0 };
      domains.set(c.domain, d);
    }
    d.members.push(i);
    d.count += c.kept;
    d.room += c.cap;
  });
  // Domains in the order of their best cluster; the skew counts every eligible domain.
  const list = [...domains.values()];
  const skew = rules.spread.maxSkew;
  let left = want;
  while (left > 0) {
    let min = Number.POSITIVE_INFINITY;
    let pick: Domain | undefined;
    for (const d of list) {
      const c = d.count + d.share;
      if (c < min) min = c;
      if (d.room > d.share && (pick === undefined || c < pick.count + pick.share)) pick = d;
    }
    if (pick === undefined || pick.count + pick.share + 1 - min > skew) break;
    pick.share++;
    left--;
  }
  let usedNow = used;
  for (const d of list) {
    if (d.share === 0) continue;
    const got = distribute(cands, d.members, adds, d.share, rules, usedNow);
    d.share = got;
    usedNow = usedCount(cands, adds);
  }
  // A cluster budget can leave a domain short of its share; take back what breaks the skew.
  for (;;) {
    let lowest = Number.POSITIVE_INFINITY;
    let highest: Domain | undefined;
    for (const d of list) {
      const c = d.count + d.share;
      lowest = Math.min(lowest, c);
      if (highest === undefined || c > highest.count + highest.share) highest = d;
    }
    if (highest === undefined || highest.count + highest.share - lowest <= skew || highest.share === 0) break;
    const worst = [...highest.members].reverse().find((i) => (adds[i] as number) > 0);
    if (worst === undefined) break;
    adds[worst] = (adds[worst] as number) - 1;
    highest.share--;
  }
}
