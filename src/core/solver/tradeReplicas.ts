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
  // Counts by member and cluster row in flat arrays: a large fleet's trades look at millions of them.
  const rows = group[0]!.eligible.length;
  const count = new Int32Array(group.length * rows);
  const keep = new Int32Array(group.length * rows);
  const share = new Int32Array(group.length);
  const index = new Map<Job, number>();
  const holders = new Map<number, number[]>();
  const hold = (m: number, row: number) => (holders.get(row) ?? holders.set(row, []).get(row)!).push(m);
  group.forEach((j, m) => {
    index.set(j, m);
    const a = assign.get(j)!;
    share[m] = evenShare(j, placedOf(a));
    for (const [row, n] of a) {
      count[m * rows + row] = n;
      hold(m, row);
    }
    for (const [row, n] of kept.get(j) ?? []) keep[m * rows + row] = n;
  });
  const at = (m: number, row: number) => count[m * rows + row] as number;
  const movable = (m: number, row: number) => (count[m * rows + row] as number) - (keep[m * rows + row] as number);
  const move = (m: number, from: number, to: number, n: number) => {
    if (at(m, to) === 0) hold(m, to);
    count[m * rows + from] = at(m, from) - n;
    count[m * rows + to] = at(m, to) + n;
    const j = group[m] as Job;
    const rowsOf = changed.get(j) ?? changed.set(j, new Set()).get(j)!;
    rowsOf.add(from);
    rowsOf.add(to);
  };
  const order = [...group].sort((a, b) => compareNames(a.p.key, b.p.key));
  for (const job of order) {
    const i = index.get(job)!;
    const si = share[i] as number;
    const over = [...assign.get(job)!.keys()].filter((row) => at(i, row) > si).sort((a, b) => at(i, b) - at(i, a) || a - b);
    for (const c of over) {
      // Rows passed over stay so while this cluster gives: only it and the row taken change.
      let k = 0;
      while (at(i, c) > si && movable(i, c) > 0) {
        let found = -1;
        let d = -1;
        for (; k < job.order.length && found < 0; k++) {
          d = job.order[k] as number;
          if (d === c || at(i, d) >= si || job.avoid?.has(d) === true) continue;
          const list = holders.get(d) ?? [];
          for (let h = 0; h < list.length; ) {
            const m = list[h] as number;
            if (at(m, d) === 0) {
              // gone from the row since: dropped from its list
              list[h] = list[list.length - 1] as number;
              list.pop();
              continue;
            }
            h++;
            if (m === i || movable(m, d) <= 0 || at(m, c) >= (share[m] as number)) continue;
            const j = group[m] as Job;
            if (j.eligible[c] !== 1 || j.avoid?.has(c) === true) continue;
            found = m;
            break;
          }
        }
        if (found < 0) break;
        // the row taken may take another
        k--;
        const n = Math.min(at(i, c) - si, movable(i, c), si - at(i, d), movable(found, d), (share[found] as number) - at(found, c));
        move(i, c, d, n);
        move(found, d, c, n);
      }
    }
  }
  group.forEach((j, m) => {
    if (!changed.has(j)) return;
    const a: Assignment = new Map();
    // in the order its rows were held before, then the new ones by row
    for (const row of assign.get(j)!.keys()) if (at(m, row) > 0) a.set(row, at(m, row));
    for (const row of [...(changed.get(j) ?? [])].sort((x, y) => x - y)) if (at(m, row) > 0 && !a.has(row)) a.set(row, at(m, row));
    assign.set(j, a);
  });
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
  // the traded groups' placements by key, and the rows their trades changed
  const jobOf = new Map<string, Job>();
  const rowsOf = new Map<readonly Job[], Set<number>>();
  const groupOf = new Map<Job, readonly Job[]>();
  for (const group of groups.values()) {
    const rows = new Set<number>();
    for (const j of group) for (const row of changed.get(j) ?? []) rows.add(row);
    if (rows.size === 0) continue;
    rowsOf.set(group, rows);
    for (const j of group) {
      jobOf.set(j.p.key, j);
      groupOf.set(j, group);
    }
  }
  const tradedJob = (key: string, row: number) => {
    const j = jobOf.get(key);
    return j !== undefined && rowsOf.get(groupOf.get(j)!)!.has(row) ? j : undefined;
  };
  // what the order lists of each, and who is on each traded row of a group
  const listed = new Map<Job, Map<number, number>>();
  const on = new Map<readonly Job[], Map<number, Job[]>>();
  const onRow = (j: Job, row: number) => {
    const g = groupOf.get(j)!;
    const byRow = on.get(g) ?? on.set(g, new Map()).get(g)!;
    const list = byRow.get(row) ?? byRow.set(row, []).get(row)!;
    if (!list.includes(j)) list.push(j);
  };
  for (const [key, row, n] of order) {
    const j = tradedJob(key, row);
    if (j === undefined) continue;
    const l = listed.get(j) ?? listed.set(j, new Map()).get(j)!;
    l.set(row, (l.get(row) ?? 0) + n);
    onRow(j, row);
  }
  for (const [j, rows] of changed) for (const row of rows) onRow(j, row);
  // per group and row, how many of what is listed each holds now, handed out in order
  const queues = new Map<readonly Job[], Map<number, [string, number][]>>();
  const queueOf = (j: Job, row: number) => {
    const g = groupOf.get(j)!;
    const byRow = queues.get(g) ?? queues.set(g, new Map()).get(g)!;
    let q = byRow.get(row);
    if (q === undefined) {
      const now = (x: Job) => (listed.get(x)?.get(row) ?? 0) + (after.get(x)?.get(row) ?? 0) - (before.get(x)?.get(row) ?? 0);
      q = (on.get(g)?.get(row) ?? []).map((x) => [x.p.key, now(x)] as [string, number]).filter(([, n]) => n > 0);
      byRow.set(row, q);
    }
    return q;
  };
  const out: (readonly [string, number, number])[] = [];
  for (const entry of order) {
    const [key, row, n] = entry;
    const j = tradedJob(key, row);
    if (j === undefined) {
      out.push(entry);
      continue;
    }
    const q = queueOf(j, row);
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
