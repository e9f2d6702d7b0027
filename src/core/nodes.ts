// Fit counted per node, the way a member's own scheduler binds: a replica goes to one node, with
// the devices published for that node (or in a pool every node can use). A cluster is its node
// groups, `count` nodes with the same room each; packing replicas splits a group into the nodes
// it filled and the ones it left alone, so the state stays as small as the fleet is varied.

/** What one replica needs of a node: scalar resources, and device requests by matching kinds. */
export interface NodeDemand {
  /** equal keys, equal demands (a fleet index holds one demand per key) */
  readonly key?: string;
  /** per scalar dimension (cpu, memory, pods, extended resources) */
  readonly scalar: Float64Array;
  readonly requests: readonly DeviceDemand[];
}

export interface DeviceDemand {
  readonly count: number;
  /** the device kinds (fleet-wide indexes) that satisfy the request */
  readonly kinds: Int32Array;
}

export interface NodeShape {
  readonly count: number;
  /** free per node, by scalar dimension */
  readonly free: Float64Array;
  /** free devices per node, by device kind */
  readonly devices: Float64Array;
}

export interface ClusterNodes {
  readonly groups: readonly NodeShape[];
  /** free devices any node may use (cluster-wide pools), by device kind */
  readonly shared: Float64Array;
  /**
   * Counts worked out for this state, by demand (a state never changes: packing makes a new
   * one). fits: replicas the nodes hold, or minus the limit counting stopped at; tightest: see
   * tightestNode.
   */
  fits?: Map<NodeDemand, number> | undefined;
  tightest?: Map<NodeDemand, number> | undefined;
  /** the groups in the order replicas that ask no devices fill them (see packInto) */
  devicesLast?: readonly NodeShape[] | undefined;
}

/** A cluster state; every state is made here, so that all have one layout. */
export function clusterNodes(groups: readonly NodeShape[], shared: Float64Array): ClusterNodes {
  return { groups, shared, fits: undefined, tightest: undefined, devicesLast: undefined };
}

function matching(devices: Float64Array, kinds: Int32Array): number {
  let n = 0;
  for (let i = 0; i < kinds.length; i++) n += devices[kinds[i] as number] as number;
  return n;
}

export function usesShared(c: ClusterNodes, d: NodeDemand): boolean {
  for (const r of d.requests) if (matching(c.shared, r.kinds) > 0) return true;
  return false;
}

/** Replicas that fit on one node of a group, counting only its own devices and `extra`. */
export function perNode(g: NodeShape, d: NodeDemand, extra: Float64Array | undefined): number {
  let n = Number.POSITIVE_INFINITY;
  for (let i = 0; i < d.scalar.length; i++) {
    const need = d.scalar[i] as number;
    if (need > 0) {
      const k = Math.floor((g.free[i] as number) / need);
      if (k < n) n = k;
    }
  }
  for (const r of d.requests) {
    const have = matching(g.devices, r.kinds) + (extra === undefined ? 0 : matching(extra, r.kinds));
    n = Math.min(n, Math.floor(have / r.count));
  }
  // Requests that share kinds draw on the same devices.
  if (d.requests.length > 1) {
    let all = 0;
    let needAll = 0;
    const union = new Set<number>();
    for (const r of d.requests) {
      needAll += r.count;
      for (const k of r.kinds) union.add(k);
    }
    for (const k of union) all += (g.devices[k] as number) + (extra === undefined ? 0 : (extra[k] as number));
    n = Math.min(n, Math.floor(all / needAll));
  }
  return n === Number.POSITIVE_INFINITY ? Number.MAX_SAFE_INTEGER : Math.max(0, n);
}

/**
 * How many replicas of `d` the cluster's nodes hold, each wholly on one node; at most `limit`
 * (counting stops there).
 */
export function fitOnNodes(c: ClusterNodes, d: NodeDemand, limit = Number.POSITIVE_INFINITY): number {
  let known = c.fits;
  if (known === undefined) c.fits = known = new Map();
  const hit = known.get(d);
  if (hit !== undefined && (hit >= 0 || -hit >= limit)) return Math.min(Math.abs(hit), limit);
  // Counting every node costs little more than counting to the limit (a shared pool aside, which
  // packs): the count then answers every later limit.
  const upTo = usesShared(c, d) ? limit : Number.POSITIVE_INFINITY;
  const v = countOnNodes(c, d, upTo);
  known.set(d, v < upTo ? v : -upTo);
  return Math.min(v, limit);
}

/**
 * How closely one replica of `d` fits the cluster: the fewest replicas that any node with room
 * for one holds (1 where it fills a gap exactly); Infinity where no node holds one. A bin packer
 * puts small replicas where this is lowest, so that whole nodes stay free for large ones.
 */
export function tightestNode(c: ClusterNodes, d: NodeDemand): number {
  let known = c.tightest;
  if (known === undefined) c.tightest = known = new Map();
  const hit = known.get(d);
  if (hit !== undefined) return hit;
  const extra = usesShared(c, d) ? c.shared : undefined;
  let best = Number.POSITIVE_INFINITY;
  for (const g of c.groups) {
    const k = perNode(g, d, extra);
    if (k >= 1 && k < best) best = k;
  }
  known.set(d, best);
  return best;
}

function countOnNodes(c: ClusterNodes, d: NodeDemand, limit: number): number {
  if (usesShared(c, d)) {
    // Each node counted with the whole pool is a bound; packing says what the pool really gives.
    let bound = 0;
    for (const g of c.groups) bound += g.count * perNode(g, d, c.shared);
    return packInto(c, d, Math.min(limit, bound)).placed;
  }
  let total = 0;
  for (const g of c.groups) {
    const k = perNode(g, d, undefined);
    if (k === 0) continue;
    total += k * g.count;
    if (total >= limit) return limit;
  }
  return total;
}

function withCount(g: NodeShape, count: number): NodeShape {
  return { count, free: g.free, devices: g.devices };
}

/** `count` nodes of `g` with `k` replicas of `d` each. */
function taken(g: NodeShape, d: NodeDemand, k: number, shared: Float64Array | undefined, count: number): NodeShape {
  const free = Float64Array.from(g.free);
  for (let i = 0; i < free.length; i++) free[i] = (free[i] as number) - k * (d.scalar[i] as number);
  const devices = Float64Array.from(g.devices);
  for (const r of d.requests) {
    let need = k * r.count;
    // The node's own devices first, in kind order; a cluster-wide pool for the rest.
    for (const pool of shared === undefined ? [devices] : [devices, shared]) {
      for (const kind of r.kinds) {
        if (need === 0) break;
        const take = Math.min(need, pool[kind] as number);
        pool[kind] = (pool[kind] as number) - take;
        need -= take;
      }
    }
  }
  return { count, free, devices };
}

/**
 * Puts up to `n` replicas on the cluster's nodes, filling the groups in their order (the
 * smallest room first, so that large nodes stay free for large replicas; for replicas that ask
 * no devices, nodes with free devices last, so that their CPU stays for what uses the devices).
 * Returns how many it placed and the nodes after.
 */
export function packInto(c: ClusterNodes, d: NodeDemand, n: number): { placed: number; nodes: ClusterNodes } {
  const shared = usesShared(c, d) ? Float64Array.from(c.shared) : undefined;
  const touched: NodeShape[] = [];
  const made: NodeShape[] = [];
  let left = n;
  for (const g of d.requests.length > 0 ? c.groups : (c.devicesLast ??= devicesLast(c.groups))) {
    if (left <= 0) break;
    if (shared !== undefined) {
      // A shared pool drains as nodes use it: node by node.
      let rest = g.count;
      while (rest > 0 && left > 0) {
        const k = Math.min(left, perNode(g, d, shared));
        if (k === 0) break;
        made.push(taken(g, d, k, shared, 1));
        left -= k;
        rest--;
      }
      if (rest < g.count) {
        touched.push(g);
        if (rest > 0) made.push(withCount(g, rest));
      }
      continue;
    }
    const k = perNode(g, d, undefined);
    if (k === 0) continue;
    touched.push(g);
    const full = Math.min(g.count, Math.floor(left / k));
    let rest = g.count;
    if (full > 0) {
      made.push(taken(g, d, k, undefined, full));
      left -= full * k;
      rest -= full;
    }
    if (rest > 0 && left > 0) {
      made.push(taken(g, d, left, undefined, 1));
      left = 0;
      rest--;
    }
    if (rest > 0) made.push(withCount(g, rest));
  }
  if (touched.length === 0) return { placed: 0, nodes: c };
  return { placed: n - left, nodes: clusterNodes(replaced(c.groups, touched, made), shared ?? c.shared) };
}

/**
 * A packing makes one to three groups (more, node by node, from a pool): those few are sorted in
 * place, without the work array a sort allocates. Stable, as a sort is.
 */
function sortByRoom(made: NodeShape[]): void {
  if (made.length > 8) {
    made.sort(compareRoom);
    return;
  }
  for (let i = 1; i < made.length; i++) {
    const g = made[i] as NodeShape;
    let j = i;
    for (; j > 0 && compareRoom(made[j - 1] as NodeShape, g) > 0; j--) made[j] = made[j - 1] as NodeShape;
    made[j] = g;
  }
}

/**
 * Groups in canonical order (see normalise) with `gone` taken out and `made` put in: the groups
 * a packing left alone are in order already, so only the few it made are sorted.
 */
function replaced(groups: readonly NodeShape[], gone: readonly NodeShape[], made: NodeShape[]): NodeShape[] {
  sortByRoom(made);
  const out: NodeShape[] = [];
  const put = (g: NodeShape) => {
    if (g.count <= 0) return;
    const last = out[out.length - 1];
    if (last !== undefined && compareRoom(last, g) === 0) out[out.length - 1] = withCount(last, last.count + g.count);
    else out.push(g);
  };
  let j = 0;
  for (const g of groups) {
    if (gone.includes(g)) continue;
    while (j < made.length && compareRoom(made[j] as NodeShape, g) <= 0) put(made[j++] as NodeShape);
    put(g);
  }
  while (j < made.length) put(made[j++] as NodeShape);
  return out;
}

/**
 * Puts up to `n` replicas on the nodes of one group (`c.groups[index]`), filling node after
 * node: a scheduler that chose that group. Devices from a cluster-wide pool are not counted.
 */
export function packIntoGroup(c: ClusterNodes, d: NodeDemand, index: number, n: number): { placed: number; nodes: ClusterNodes } {
  const g = c.groups[index];
  const k = g === undefined ? 0 : perNode(g, d, undefined);
  if (g === undefined || k === 0 || n <= 0) return { placed: 0, nodes: c };
  const out: NodeShape[] = [];
  let left = Math.min(n, k * g.count);
  const placed = left;
  const full = Math.floor(left / k);
  let rest = g.count;
  if (full > 0) {
    out.push(taken(g, d, k, undefined, full));
    left -= full * k;
    rest -= full;
  }
  if (left > 0) {
    out.push(taken(g, d, left, undefined, 1));
    rest--;
  }
  if (rest > 0) out.push(withCount(g, rest));
  return { placed, nodes: clusterNodes(replaced(c.groups, [g], out), c.shared) };
}

function devicesLast(groups: readonly NodeShape[]): readonly NodeShape[] {
  if (!groups.some((g) => devicesOnNode(g) > 0)) return groups;
  return [...groups.filter((g) => devicesOnNode(g) === 0), ...groups.filter((g) => devicesOnNode(g) > 0)];
}

/** Free devices of every kind on one node of a group. */
export function devicesOnNode(g: NodeShape): number {
  let n = 0;
  for (let k = 0; k < g.devices.length; k++) n += g.devices[k] as number;
  return n;
}

/** The node of a group after one replica of `d` (its own devices only). */
export function afterOne(g: NodeShape, d: NodeDemand): NodeShape {
  return taken(g, d, 1, undefined, 1);
}

/** Equal nodes merged, smallest room first: one canonical order for every packing. */
export function normalise(groups: readonly NodeShape[]): NodeShape[] {
  const sorted = groups.filter((g) => g.count > 0).sort(compareRoom);
  const out: NodeShape[] = [];
  for (const g of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && compareRoom(last, g) === 0) out[out.length - 1] = withCount(last, last.count + g.count);
    else out.push(g);
  }
  return out;
}

function compareRoom(a: NodeShape, b: NodeShape): number {
  for (let i = 0; i < a.free.length; i++) {
    const d = (a.free[i] as number) - (b.free[i] as number);
    if (d !== 0) return d;
  }
  for (let i = 0; i < a.devices.length; i++) {
    const d = (a.devices[i] as number) - (b.devices[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

const totals = new WeakMap<ClusterNodes, { free: Float64Array; devices: Float64Array }>();

/** The node groups' room summed: what the cluster has free in all. */
export function nodeTotals(c: ClusterNodes, scalarDims: number, kinds: number): { readonly free: Float64Array; readonly devices: Float64Array } {
  const known = totals.get(c);
  if (known !== undefined) return known;
  const free = new Float64Array(scalarDims);
  const devices = Float64Array.from(c.shared.length === kinds ? c.shared : new Float64Array(kinds));
  for (const g of c.groups) {
    for (let i = 0; i < scalarDims; i++) free[i] = (free[i] as number) + g.count * (g.free[i] as number);
    for (let k = 0; k < kinds; k++) devices[k] = (devices[k] as number) + g.count * (g.devices[k] as number);
  }
  totals.set(c, { free, devices });
  return { free, devices };
}

/**
 * Why a replica fits on no node: the scalar resource or device request short on the most nodes,
 * and the most any node has of it.
 */
export function nodeShortage(
  c: ClusterNodes,
  d: NodeDemand,
  scalarNames: readonly string[],
  requestNames: readonly string[],
): { resource: string; nodes: number; mostFree: number; need: number } | undefined {
  const short = new Map<string, { nodes: number; mostFree: number; need: number }>();
  let nodes = 0;
  for (const g of c.groups) {
    nodes += g.count;
    const note = (resource: string, have: number, need: number) => {
      const s = short.get(resource) ?? { nodes: 0, mostFree: 0, need };
      s.nodes += g.count;
      s.mostFree = Math.max(s.mostFree, have);
      short.set(resource, s);
    };
    for (let i = 0; i < d.scalar.length; i++) {
      const need = d.scalar[i] as number;
      if (need > 0 && (g.free[i] as number) < need) note(scalarNames[i] as string, g.free[i] as number, need);
    }
    d.requests.forEach((r, i) => {
      const have = matching(g.devices, r.kinds) + matching(c.shared, r.kinds);
      if (have < r.count) note(requestNames[i] as string, have, r.count);
    });
  }
  let worst: [string, { nodes: number; mostFree: number; need: number }] | undefined;
  for (const e of short) if (worst === undefined || e[1].nodes > worst[1].nodes) worst = e;
  return worst === undefined || nodes === 0 ? undefined : { resource: worst[0], ...worst[1] };
}

/**
 * Packs items in order onto a cluster that is one node with no shared pool: the same answer
 * as packing them one by one, without a new state per item.
 */
export function packOneNode(c: ClusterNodes, items: readonly { readonly d: NodeDemand; readonly n: number }[]): { placed: number[]; nodes: ClusterNodes } {
  const g = c.groups[0];
  if (g === undefined || c.groups.length !== 1 || g.count !== 1) throw new Error('internal: packOneNode needs a one-node cluster');
  const node = { count: 1, free: Float64Array.from(g.free), devices: Float64Array.from(g.devices) };
  const placed = items.map(({ d, n }) => {
    const k = Math.min(n, perNode(node, d, undefined));
    if (k <= 0) return 0;
    for (let i = 0; i < node.free.length; i++) node.free[i] = (node.free[i] as number) - k * (d.scalar[i] as number);
    for (const r of d.requests) {
      let need = k * r.count;
      for (const kind of r.kinds) {
        if (need === 0) break;
        const take = Math.min(need, node.devices[kind] as number);
        node.devices[kind] = (node.devices[kind] as number) - take;
        need -= take;
      }
    }
    return k;
  });
  return { placed, nodes: clusterNodes([node], c.shared) };
}
