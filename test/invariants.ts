// An independent check of a schedule against its snapshot and placements: capacity, eligibility,
// gang and spread rules. Written from the model alone, not from the solver's internals.

import { matchesSelector } from '../src/core/labels.js';
import type { Decision, FleetSnapshot, Placement, ScheduleResult } from '../src/core/model.js';
import { placementKey } from '../src/core/model.js';
import { parseMilli, parseUnits } from '../src/core/quantity.js';
import { untolerated } from '../src/core/taints.js';

function perReplica(p: Placement): Map<string, number> {
  const need = new Map<string, number>([
    ['cpu', 0],
    ['memory', 0],
    ['pods', 1],
  ]);
  for (const c of p.spec.template.spec.template.spec.containers) {
    const r = c.resources?.requests ?? {};
    const cpu = r.cpu === undefined ? { ok: true as const, value: 0 } : parseMilli(r.cpu);
    const mem = r.memory === undefined ? { ok: true as const, value: 0 } : parseUnits(r.memory);
    if (!cpu.ok || !mem.ok) throw new Error('bad quantity in test placement');
    need.set('cpu', (need.get('cpu') ?? 0) + cpu.value);
    need.set('memory', (need.get('memory') ?? 0) + mem.value);
  }
  for (const a of p.spec.accelerators ?? []) {
    const name = a.resourceName ?? a.deviceClassName ?? '';
    need.set(name, (need.get(name) ?? 0) + a.count);
  }
  return need;
}

function domain(c: FleetSnapshot['clusters'][number], key: string | undefined): string {
  const k = key ?? 'region';
  return (k === 'region' ? c.location.region : k === 'zone' ? c.location.zone : k === 'cluster' ? c.name : c.labels[k]) ?? '';
}

/** Every rule a schedule must keep; returns what it broke (empty when nothing). */
export function violations(snapshot: FleetSnapshot, placements: readonly Placement[], result: ScheduleResult, opts: { skew?: boolean } = {}): string[] {
  const out: string[] = [];
  const used = new Map<string, Map<string, number>>();
  const byKey = new Map(placements.map((p) => [placementKey(p), p]));
  for (const d of result.decisions) {
    const p = byKey.get(d.placement);
    if (p === undefined) {
      out.push(`${d.placement}: decision for an unknown placement`);
      continue;
    }
    const R = p.spec.replicas;
    const placed = d.clusters.reduce((s, c) => s + c.replicas, 0);
    if (placed + d.unscheduledReplicas !== R) out.push(`${d.placement}: ${placed} placed + ${d.unscheduledReplicas} unscheduled != ${R}`);
    if (placed > R) out.push(`${d.placement}: more replicas placed than asked for`);
    if (p.spec.gang === true && placed !== 0 && placed !== R) out.push(`${d.placement}: gang placed ${placed} of ${R}`);
    const names = d.clusters.map((c) => c.name);
    if (names.join() !== [...names].sort().join() || new Set(names).size !== names.length) out.push(`${d.placement}: clusters not sorted and unique`);
    const s = p.spec.spread ?? {};
    if (s.maxClusters !== undefined && d.clusters.length > s.maxClusters) out.push(`${d.placement}: ${d.clusters.length} clusters > maxClusters ${s.maxClusters}`);
    if (placed > 0 && s.minClusters !== undefined && d.clusters.length < Math.min(s.minClusters, R)) out.push(`${d.placement}: ${d.clusters.length} clusters < minClusters`);
    if (s.maxSkew !== undefined && placed > 0 && opts.skew !== false) {
      const counts = new Map<string, number>();
      for (const c of d.clusters) {
        const cl = snapshot.byName.get(c.name);
        if (cl) counts.set(domain(cl, s.topologyKey), (counts.get(domain(cl, s.topologyKey)) ?? 0) + c.replicas);
      }
      const v = [...counts.values()];
      if (Math.max(...v) - Math.min(...v) > s.maxSkew) out.push(`${d.placement}: skew ${Math.max(...v) - Math.min(...v)} > ${s.maxSkew}`);
    }
    const need = perReplica(p);
    for (const a of d.clusters) {
      if (a.replicas <= 0) out.push(`${d.placement}: zero-replica entry for ${a.name}`);
      const c = snapshot.byName.get(a.name);
      if (c === undefined) {
        out.push(`${d.placement}: unknown cluster ${a.name}`);
        continue;
      }
      if (!c.healthy) out.push(`${d.placement}: placed on unhealthy ${c.name}`);
      if (!matchesSelector(c.labels, p.spec.clusterSelector)) out.push(`${d.placement}: ${c.name} does not match the selector`);
      if (untolerated(c.taints, p.spec.tolerations, ['NoSchedule', 'NoExecute']).length > 0) out.push(`${d.placement}: ${c.name} has an untolerated taint`);
      const req = p.spec.locality?.requiredRegions;
      if (req && req.length > 0 && !req.includes(c.location.region ?? '')) out.push(`${d.placement}: ${c.name} is outside the required regions`);
      const u = used.get(c.name) ?? new Map<string, number>();
      for (const [r, n] of need) u.set(r, (u.get(r) ?? 0) + n * a.replicas);
      used.set(c.name, u);
    }
  }
  for (const [name, u] of used) {
    const c = snapshot.byName.get(name)!;
    const free: Record<string, number> = {
      cpu: c.allocatable.cpu - c.allocated.cpu,
      memory: c.allocatable.memory - c.allocated.memory,
      pods: c.allocatable.pods - c.allocated.pods,
    };
    for (const d of c.devices) {
      for (const cls of [d.deviceClassName, ...(d.alsoMatches ?? [])]) free[cls] = (free[cls] ?? 0) + d.total - d.allocated;
    }
    for (const [k, v] of Object.entries(c.allocatable.extended ?? {})) free[k] = v - (c.allocated.extended?.[k] ?? 0);
    for (const [r, n] of u) {
      if (n > 0 && n > (free[r] ?? 0)) out.push(`${name}: ${r} over capacity (${n} > ${free[r] ?? 0})`);
    }
  }
  return out;
}

interface NodeRoom {
  cpu: number;
  memory: number;
  pods: number;
  /** extended resources */
  other: Map<string, number>;
  /** devices alike (one entry of the snapshot), each drawn on by every class it matches: a device is used once */
  devices: { readonly classes: ReadonlySet<string>; free: number }[];
  /** what each replica bound here drew of each device entry, last first: to take it back */
  drawn: number[][];
}

/** Free devices of a node that a request of `cls` may use. */
function devicesFor(n: NodeRoom, cls: string): number {
  let free = 0;
  for (const d of n.devices) if (d.classes.has(cls)) free += d.free;
  return free;
}

/** The node's room, resource by resource (devices by class), for comparing and keying. */
function roomOf(n: NodeRoom): [string, number][] {
  const classes = [...new Set(n.devices.flatMap((d) => [...d.classes]))].sort();
  return [['cpu', n.cpu], ['memory', n.memory], ['pods', n.pods], ...[...n.other].sort((a, b) => (a[0] < b[0] ? -1 : 1)), ...classes.map((c) => [c, devicesFor(n, c)] as [string, number])];
}

/**
 * Whether every cluster's replicas can be bound to its nodes, each replica wholly on one node
 * with its devices: nodes taken one by one from the snapshot's node groups (or the cluster as one
 * node), replicas placed largest first on the first node with room, largest by each resource in
 * turn. Independent of the solver's packing; a cluster no such order packs is reported.
 */
/**
 * `hint`: an order to try first (placement key, cluster, replicas), as the solver packed them.
 * It proves nothing by itself: the check binds each replica to a node of its own accord.
 */
export type PackHint = readonly (readonly [string, string, number])[];

export function unbindable(snapshot: FleetSnapshot, placements: readonly Placement[], result: ScheduleResult, hint?: PackHint): string[] {
  return bindingByCluster(snapshot, placements, result, hint)
    .filter((c) => c.bound < c.decided)
    .map((c) => `${c.name}: ${c.decided} replicas do not pack onto its nodes`);
}

/** Replicas decided, and how many of them an independent packing binds to nodes. */
export function boundReplicas(snapshot: FleetSnapshot, placements: readonly Placement[], result: ScheduleResult, hint?: PackHint): { decided: number; bound: number } {
  let decided = 0;
  let bound = 0;
  for (const c of bindingByCluster(snapshot, placements, result, hint)) {
    decided += c.decided;
    bound += c.bound;
  }
  return { decided, bound };
}

function bindingByCluster(snapshot: FleetSnapshot, placements: readonly Placement[], result: ScheduleResult, hint?: PackHint): { name: string; decided: number; bound: number }[] {
  const byKey = new Map(placements.map((p) => [placementKey(p), p]));
  // the largest cluster's room per resource, for the dominant share of a replica
  const fleetLargest = new Map<string, number>();
  for (const c of snapshot.clusters) {
    const amounts: [string, number][] = [['cpu', c.allocatable.cpu], ['memory', c.allocatable.memory], ['pods', c.allocatable.pods], ...Object.entries(c.allocatable.extended ?? {})];
    for (const d of c.devices) for (const cls of [d.deviceClassName, ...(d.alsoMatches ?? [])]) amounts.push([cls, d.total]);
    for (const [k, v] of amounts) fleetLargest.set(k, Math.max(fleetLargest.get(k) ?? 0, v));
  }
  const perCluster = new Map<string, { key: string; need: Map<string, number>; priority: number; size: number; n: number }[]>();
  for (const d of result.decisions) {
    const p = byKey.get(d.placement);
    if (p === undefined) continue;
    const need = perReplica(p);
    const size = Math.max(0, ...[...need].map(([k, v]) => ((fleetLargest.get(k) ?? 0) > 0 ? v / (fleetLargest.get(k) as number) : 0)));
    for (const a of d.clusters) {
      const list = perCluster.get(a.name) ?? [];
      list.push({ key: d.placement, need, priority: p.spec.priority ?? 0, size, n: a.replicas });
      perCluster.set(a.name, list);
    }
  }
  const out: { name: string; decided: number; bound: number }[] = [];
  for (const [name, items] of perCluster) {
    const c = snapshot.byName.get(name)!;
    const replicas = items.flatMap((it) => Array.from({ length: it.n }, () => it));
    if (c.hold === true) {
      out.push({ name, decided: replicas.length, bound: replicas.length });
      continue;
    }
    // Largest first (by the share of the largest node, by priority then that share, by each
    // resource in turn), then a search: any way to bind them all proves they bind.
    const nodes = nodesOf(c);
    const largest = new Map<string, number>();
    for (const n of nodes) for (const [k, v] of roomOf(n)) largest.set(k, Math.max(largest.get(k) ?? 0, v));
    const share = (r: (typeof replicas)[number]) => Math.max(0, ...[...r.need].map(([k, v]) => ((largest.get(k) ?? 0) > 0 ? v / (largest.get(k) as number) : 0)));
    const resources = [...new Set(replicas.flatMap((r) => [...r.need.keys()]))];
    const orders = [
      [...replicas].sort((a, b) => b.priority - a.priority || share(b) - share(a)),
      [...replicas].sort((a, b) => share(b) - share(a)),
      ...resources.map((k) => [...replicas].sort((a, b) => (b.need.get(k) ?? 0) - (a.need.get(k) ?? 0))),
    ];
    // and placement by placement, as large ones come first, each on the roomiest-last nodes of the moment
    const byPlacement = [...items].sort((a, b) => b.priority - a.priority || b.size - a.size || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    let best = byPlacementFit(nodesOf(c), byPlacement);
    if (best < replicas.length && hint !== undefined) {
      // the hinted order, checked against what was decided: it must name exactly these replicas
      const needs = new Map(items.map((it) => [it.key, it.need]));
      const hinted = hint.filter(([, cluster]) => cluster === name).map(([key, , n]) => ({ need: needs.get(key) ?? new Map<string, number>(), n, key }));
      const same = (xs: { key: string; n: number }[]) => [...xs.reduce((m, x) => m.set(x.key, (m.get(x.key) ?? 0) + x.n), new Map<string, number>())].sort().join();
      if (same(hinted) === same(items)) best = Math.max(best, byPlacementFit(nodesOf(c), hinted));
    }
    if (best < replicas.length) best = Math.max(best, ...orders.map((order) => firstFit(nodesOf(c), order)));
    if (best < replicas.length) best = Math.max(best, ...orders.map((order) => tightestFit(nodesOf(c), order)));
    // a search that runs out of steps proves nothing: those replicas count as not bound
    const all = best === replicas.length || search(nodesOf(c), orders[1] ?? [], 0, { steps: 200_000 }) === true;
    out.push({ name, decided: replicas.length, bound: all ? replicas.length : best });
  }
  return out;
}

function nodesOf(c: FleetSnapshot['clusters'][number]): NodeRoom[] {
  const groups = c.nodeGroups ?? [{ count: 1, allocatable: c.allocatable, allocated: c.allocated, devices: c.devices }];
  const nodes: NodeRoom[] = [];
  for (const g of groups) {
    for (let i = 0; i < g.count; i++) {
      const other = new Map<string, number>();
      for (const [k, v] of Object.entries(g.allocatable.extended ?? {})) other.set(k, v - (g.allocated.extended?.[k] ?? 0));
      const devices = g.devices.map((d) => ({ classes: new Set([d.deviceClassName, ...(d.alsoMatches ?? [])]), free: d.total - d.allocated }));
      nodes.push({ cpu: g.allocatable.cpu - g.allocated.cpu, memory: g.allocatable.memory - g.allocated.memory, pods: g.allocatable.pods - g.allocated.pods, other, devices, drawn: [] });
    }
  }
  // smallest first, so that large nodes are left for large replicas
  return nodes.sort((a, b) => a.cpu - b.cpu || a.memory - b.memory);
}

function fits(n: NodeRoom, need: Map<string, number>): boolean {
  for (const [r, v] of need) {
    if (v <= 0) continue;
    const have = r === 'cpu' ? n.cpu : r === 'memory' ? n.memory : r === 'pods' ? n.pods : n.other.has(r) ? (n.other.get(r) as number) : undefined;
    if (have !== undefined && have < v) return false;
  }
  // device requests draw on shared devices: tried on a copy
  const free = n.devices.map((d) => d.free);
  return draw(n, need, free) !== undefined;
}

/** Draws the device requests of `need` from `free` (per device entry); what each entry gave, or undefined. */
function draw(n: NodeRoom, need: Map<string, number>, free: number[]): number[] | undefined {
  const took = n.devices.map(() => 0);
  for (const [r, v] of need) {
    if (v <= 0 || r === 'cpu' || r === 'memory' || r === 'pods' || n.other.has(r)) continue;
    let left = v;
    n.devices.forEach((d, i) => {
      if (left === 0 || !d.classes.has(r)) return;
      const t = Math.min(left, free[i] as number);
      free[i] = (free[i] as number) - t;
      took[i] = (took[i] as number) + t;
      left -= t;
    });
    if (left > 0) return undefined;
  }
  return took;
}

function use(n: NodeRoom, need: Map<string, number>, sign: 1 | -1): void {
  for (const [k, v] of need) {
    if (k === 'cpu') n.cpu -= sign * v;
    else if (k === 'memory') n.memory -= sign * v;
    else if (k === 'pods') n.pods -= sign * v;
    else if (n.other.has(k)) n.other.set(k, (n.other.get(k) ?? 0) - sign * v);
  }
  if (sign === 1) {
    const free = n.devices.map((d) => d.free);
    const took = draw(n, need, free) ?? n.devices.map(() => 0);
    n.devices.forEach((d, i) => {
      d.free -= took[i] as number;
    });
    n.drawn.push(took);
  } else {
    const took = n.drawn.pop() ?? [];
    n.devices.forEach((d, i) => {
      d.free += took[i] ?? 0;
    });
  }
}

/** Depth-first over nodes for each replica, nodes with the same room tried once; undefined past its steps. */
function search(nodes: NodeRoom[], replicas: readonly { need: Map<string, number> }[], i: number, budget: { steps: number }, from = 0): boolean | undefined {
  if (i === replicas.length) return true;
  if (--budget.steps < 0) return undefined;
  const need = replicas[i]!.need;
  // Replicas alike go to nodes in order: trying them in every order only repeats the same bindings.
  const start = i > 0 && replicas[i - 1]!.need === need ? from : 0;
  const tried = new Set<string>();
  for (let j = start; j < nodes.length; j++) {
    const n = nodes[j]!;
    const key = roomOf(n).join();
    if (tried.has(key) || !fits(n, need)) continue;
    tried.add(key);
    use(n, need, 1);
    const ok = search(nodes, replicas, i + 1, budget, j);
    use(n, need, -1);
    if (ok !== false) return ok;
  }
  return false;
}

/**
 * Placement after placement, each on the nodes with the least room first, re-sorted as they
 * fill; what does not fit in its turn is tried again after all the others.
 */
function byPlacementFit(nodes: NodeRoom[], items: readonly { need: Map<string, number>; n: number }[]): number {
  const others = (n: NodeRoom) =>
    roomOf(n)
      .slice(3)
      .map((e) => e[1]);
  const room = (a: NodeRoom, b: NodeRoom) => {
    const d = a.cpu - b.cpu || a.memory - b.memory || a.pods - b.pods;
    if (d !== 0) return d;
    const [x, y] = [others(a), others(b)];
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
    return 0;
  };
  let bound = 0;
  const later: { need: Map<string, number>; n: number }[] = [];
  for (const it of items) {
    nodes.sort(room);
    const got = firstFit(
      nodes,
      Array.from({ length: it.n }, () => it),
    );
    bound += got;
    if (got < it.n) later.push({ need: it.need, n: it.n - got });
  }
  for (const it of later) {
    nodes.sort(room);
    bound += firstFit(
      nodes,
      Array.from({ length: it.n }, () => it),
    );
  }
  return bound;
}

/** How many of the replicas, in this order, bind each on the node left with the fewest free devices, then the least CPU. */
function tightestFit(nodes: NodeRoom[], replicas: readonly { need: Map<string, number> }[]): number {
  let bound = 0;
  const devices = (n: NodeRoom) => n.devices.reduce((t, d) => t + d.free, 0);
  for (const r of replicas) {
    let node: NodeRoom | undefined;
    for (const n of nodes) if (fits(n, r.need) && (node === undefined || devices(n) < devices(node) || (devices(n) === devices(node) && n.cpu < node.cpu))) node = n;
    if (node === undefined) continue;
    use(node, r.need, 1);
    bound++;
  }
  return bound;
}

/** How many of the replicas, in this order, first-fit binds. */
function firstFit(nodes: NodeRoom[], replicas: readonly { need: Map<string, number> }[]): number {
  let bound = 0;
  for (const r of replicas) {
    const node = nodes.find((n) => fits(n, r.need));
    if (node === undefined) continue;
    use(node, r.need, 1);
    bound++;
  }
  return bound;
}

/**
 * What a schedule is worth at each priority, from the objective's definition: every placed
 * replica counts its dominant share, the largest fraction it asks of the free CPU, memory,
 * extended resources or devices of one class of the healthy, readable clusters.
 */
export function worthByPriority(snapshot: FleetSnapshot, placements: readonly Placement[], result: ScheduleResult): Map<number, number> {
  const free = new Map<string, number>();
  const add = (name: string, n: number) => free.set(name, (free.get(name) ?? 0) + Math.max(0, n));
  for (const c of snapshot.clusters) {
    // only clusters that take replicas: healthy and readable
    if (!c.healthy || c.reachable === false) continue;
    add('cpu', c.allocatable.cpu - c.allocated.cpu);
    add('memory', c.allocatable.memory - c.allocated.memory);
    for (const [name, n] of Object.entries(c.allocatable.extended ?? {})) add(name, n - (c.allocated.extended?.[name] ?? 0));
    for (const d of c.devices) for (const cls of new Set([d.deviceClassName, ...(d.alsoMatches ?? [])])) add(cls, d.total - d.allocated);
  }
  const byKey = new Map(placements.map((p) => [placementKey(p), p]));
  const out = new Map<number, number>();
  for (const p of placements) out.set(p.spec.priority ?? 0, 0);
  for (const d of result.decisions) {
    const p = byKey.get(d.placement);
    if (p === undefined) continue;
    let share = 0;
    for (const [name, need] of perReplica(p)) {
      const total = free.get(name) ?? 0;
      if (name !== 'pods' && need > 0 && total > 0) share = Math.max(share, need / total);
    }
    const placed = d.clusters.reduce((s, c) => s + c.replicas, 0);
    const prio = p.spec.priority ?? 0;
    out.set(prio, (out.get(prio) ?? 0) + placed * share);
  }
  return out;
}

/** Positive when `a` is worth more than `b` at the first priority, from the top, where they differ by more than rounding. */
export function compareByPriority(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): number {
  const priorities = [...new Set([...a.keys(), ...b.keys()])].sort((x, y) => y - x);
  for (const p of priorities) {
    const x = a.get(p) ?? 0;
    const y = b.get(p) ?? 0;
    if (Math.abs(x - y) > 1e-9 * Math.max(1, x, y)) return x - y;
  }
  return 0;
}

/**
 * What a placement that lost replicas between two decisions (`before`, `after`, by key) may lose
 * them to: only preemption by a placement of strictly higher priority, which its new decision
 * names. Returns what broke that rule.
 */
export function lostOnlyToHigher(before: ReadonlyMap<string, Decision>, after: ReadonlyMap<string, Decision>, placements: readonly Placement[], skip: ReadonlySet<string> = new Set()): string[] {
  const priority = new Map(placements.map((p) => [placementKey(p), p.spec.priority ?? 0]));
  const out: string[] = [];
  for (const [key, d] of before) {
    if (skip.has(key)) continue;
    const now = after.get(key);
    const lost = d.clusters.some((c) => (now?.clusters.find((x) => x.name === c.name)?.replicas ?? 0) < c.replicas);
    if (!lost) continue;
    const by = (now?.preemptions ?? []).filter((r) => r.victim === key);
    if (by.length === 0) out.push(`${key} lost replicas without being preempted`);
    for (const r of by) if ((priority.get(r.preemptor) ?? 0) <= (priority.get(key) ?? 0)) out.push(`${key} preempted by ${r.preemptor}, not of higher priority`);
  }
  return out;
}
