// Spread evened at no cost to anyone's worth. Replicas of one shape (the same demand of a node,
// the same summed demand) are interchangeable: two Spread placements of one shape and priority
// can trade clusters replica for replica, and every cluster's summed room, the packing of its
// nodes, what each tier holds there and every placement's count stay as they were. An answer packed tight on the nodes (a node floor,
// the on-nodes answer) may put all of a Spread placement on one cluster and leave no room for the
// division after it (evenSpread.ts): trading divides it with the room its look-alikes hold.

import { compareNames } from '../model.js';
import type { Job } from '../cycle.js';
import { hasOwnLimits } from './aloneCap.js';
import { shapeKey } from './fillTier.js';
import type { Packed } from './packOnNodes.js';
import { type Assignment, placedOf } from './placeOne.js';

/** Whether a placement is divided evenly by trading: Spread, no rules of its own, more than one cluster to use. */
export function tradesReplicas(job: Job): boolean {
  return job.p.strategy === 'Spread' && !hasOwnLimits(job) && job.eligibleCount > 1;
}

/** The most replicas of its own an even placement has on one cluster. */
export function evenShare(job: Job, placed: number): number {
  return Math.ceil(placed / Math.min(placed, job.eligibleCount));
}

/**
 * The answer with replicas traded between Spread placements of one shape and priority until
 * none that is uneven can trade further; undefined when nothing was traded. What a placement keeps from
 * before is never traded.
 */
export function tradeReplicas(jobs: readonly Job[], packed: Packed, kept: ReadonlyMap<Job, Assignment>): Packed | undefined {
  const groups = new Map<string, Job[]>();
  for (const job of jobs) {
    if (!tradesReplicas(job) || !packed.assign.has(job)) continue;
    // Within a priority: what each tier holds of every cluster, and so leaves to the tiers below, stays.
    const key = `${job.p.priority}|${shapeKey(job)}`;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(job);
  }
  const assign = new Map(packed.assign);
  const changed = new Map<Job, Set<number>>();
  for (const group of groups.values()) if (group.length > 1) tradeWithin(group, assign, kept, changed);
  if (changed.size === 0) return undefined;
  return { assign, free: packed.free, nodes: packed.nodes, order: relabelled(packed.order, groups, packed.assign, assign, changed) };
}

/** Trades within one shape and priority: each uneven placement's fullest clusters give replicas to look-alikes for theirs. */
function tradeWithin(group: readonly Job[], assign: Map<Job, Assignment>, kept: ReadonlyMap<Job, Assignment>, changed: Map<Job, Set<number>>): void {
  const x = new Map<Job, Assignment>(group.map((j) => [j, new Map(assign.get(j))]));
  const share = new Map<Job, number>(group.map((j) => [j, evenShare(j, placedOf(x.get(j)))]));
  const count = (j: Job, row: number) => x.get(j)?.get(row) ?? 0;
  const movable = (j: Job, row: number) => count(j, row) - (kept.get(j)?.get(row) ?? 0);
  const holders = new Map<number, Job[]>();
  const hold = (j: Job, row: number) => (holders.get(row) ?? holders.set(row, []).get(row)!).push(j);
  for (const j of group) for (const row of x.get(j)!.keys()) hold(j, row);
  const move = (j: Job, from: number, to: number, n: number) => {
    const a = x.get(j)!;
    const left = count(j, from) - n;
    if (left > 0) a.set(from, left);
    else a.delete(from);
    if (count(j, to) === 0) hold(j, to);
    a.set(to, count(j, to) + n);
    const rows = changed.get(j) ?? changed.set(j, new Set()).get(j)!;
    rows.add(from);
    rows.add(to);
  };
  const order = [...group].sort((a, b) => b.p.priority - a.p.priority || compareNames(a.p.key, b.p.key));
  for (const i of order) {
    const si = share.get(i)!;
    const over = [...x.get(i)!].filter(([, n]) => n > si).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    for (const [c] of over) {
      // Rows passed over stay so while this cluster gives: only it and the row taken change.
      let at = 0;
      while (count(i, c) > si && movable(i, c) > 0) {
        let found: { d: number; j: Job } | undefined;
        for (; at < i.order.length && found === undefined; at++) {
          const d = i.order[at] as number;
          if (d === c || count(i, d) >= si || i.avoid?.has(d) === true) continue;
          const list = holders.get(d) ?? [];
          for (let h = 0; h < list.length; ) {
            const j = list[h] as Job;
            if (count(j, d) === 0) {
              // gone from the row since: dropped from its list
              list[h] = list[list.length - 1] as Job;
              list.pop();
              continue;
            }
            h++;
            if (j === i || movable(j, d) <= 0 || j.eligible[c] !== 1 || j.avoid?.has(c) === true) continue;
            if (count(j, c) + 1 > share.get(j)!) continue;
            found = { d, j };
            break;
          }
        }
        if (found === undefined) break;
        // the row taken may take another
        at--;
        const { d, j } = found;
        const n = Math.min(count(i, c) - si, movable(i, c), si - count(i, d), movable(j, d), share.get(j)! - count(j, c));
        move(i, c, d, n);
        move(j, d, c, n);
      }
    }
  }
  for (const j of group) if (changed.has(j)) assign.set(j, x.get(j)!);
}

/**
 * The packing order with the traded rows' entries given to their new holders, in turn: each
 * entry of a shape on a row stands for replicas any placement of the shape could hold. (An
 * order may leave out kept replicas already on their nodes: only what it lists is handed out.)
 */
function relabelled(
  order: Packed['order'],
  groups: ReadonlyMap<string, readonly Job[]>,
  before: ReadonlyMap<Job, Assignment>,
  after: ReadonlyMap<Job, Assignment>,
  changed: ReadonlyMap<Job, ReadonlySet<number>>,
): Packed['order'] {
  const groupOf = new Map<string, readonly Job[]>();
  const traded = new Set<string>();
  for (const group of groups.values()) {
    if (!group.some((j) => changed.has(j))) continue;
    const rows = new Set<number>();
    for (const j of group) for (const row of changed.get(j) ?? []) rows.add(row);
    for (const j of group) {
      groupOf.set(j.p.key, group);
      for (const row of rows) traded.add(`${j.p.key}@${row}`);
    }
  }
  const listed = new Map<string, number>();
  for (const [key, row, n] of order) if (traded.has(`${key}@${row}`)) listed.set(`${key}@${row}`, (listed.get(`${key}@${row}`) ?? 0) + n);
  // per group and row, how many of what is listed each holds now, handed out in order
  const queues = new Map<string, [string, number][]>();
  const queueOf = (group: readonly Job[], row: number) => {
    const key = `${group[0]!.p.key}@${row}`;
    let q = queues.get(key);
    if (q === undefined) {
      const now = (j: Job) => (listed.get(`${j.p.key}@${row}`) ?? 0) + (after.get(j)?.get(row) ?? 0) - (before.get(j)?.get(row) ?? 0);
      q = group.map((j) => [j.p.key, now(j)] as [string, number]).filter(([, n]) => n > 0);
      queues.set(key, q);
    }
    return q;
  };
  const out: (readonly [string, number, number])[] = [];
  for (const entry of order) {
    const [key, row, n] = entry;
    if (!traded.has(`${key}@${row}`)) {
      out.push(entry);
      continue;
    }
    const q = queueOf(groupOf.get(key)!, row);
    let left = n;
    while (left > 0) {
      const head = q[0];
      if (head === undefined) throw new Error(`internal: traded replicas of ${key} on row ${row} do not add up`);
      const take = Math.min(left, head[1]);
      out.push([head[0], row, take]);
      left -= take;
      head[1] -= take;
      if (head[1] === 0) q.shift();
    }
  }
  return out;
}
