// What capacity a member has, from its Nodes, Pods and DRA objects: one pure function, so that
// an agent in the member could publish the same summary the hub computes now. Nodes that take
// Pods are grouped by identical room (free CPU rounded down to 100m and memory to 64 MiB, so
// that busy nodes group too; rounding down never promises room that is not there), each group
// with the devices published for its nodes; devices published for no single node are a pool
// every node may use. Orrery's own Pods and the ResourceClaims made for them are not counted as
// taken: the decisions reserve them.

import type { DeviceAttribute, DeviceInventory, NodeGroup, Resources } from '../core/model.js';
import { compareNames, deviceKindKey } from '../core/model.js';
import { podCost } from '../core/podCost.js';
import { parseMilli, parseUnits } from '../core/quantity.js';
import { type ClassifiedDevice, type DeviceClassObject, type ResourceClaimObject, type ResourceSliceObject, classifyDevices, takenDevices } from './devices.js';
import { type NodeObject, type PodObject, REGION_LABEL, ZONE_LABEL, nodeTakesPods } from './measure.js';
import { PLACEMENT_LABEL } from '../names.js';

export interface MemberObjects {
  readonly nodes: readonly NodeObject[];
  /** each Pod as podUsage gives it */
  readonly pods: readonly PodUsage[];
  readonly deviceClasses: readonly DeviceClassObject[];
  readonly slices: readonly ResourceSliceObject[];
  readonly claims: readonly ResourceClaimObject[];
}

export interface MemberSummary {
  readonly allocatable: Resources;
  readonly allocated: Resources;
  readonly devices: readonly DeviceInventory[];
  readonly nodeGroups: readonly NodeGroup[];
  readonly nodes: number;
  readonly region?: string;
  readonly zone?: string;
}

const CPU_STEP = 100;
const MEMORY_STEP = 64 * 2 ** 20;

/** Extended resources: a domain outside kubernetes.io, a slash, a name (nvidia.com/gpu). */
export function isExtended(name: string): boolean {
  return name.includes('/') && !name.startsWith('kubernetes.io/') && !name.startsWith('requests.');
}

function amount(v: string | number | undefined, milli: boolean): number {
  if (v === undefined) return 0;
  const r = milli ? parseMilli(v) : parseUnits(v);
  return r.ok ? r.value : 0;
}

function mostCommon(values: readonly (string | undefined)[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== undefined && v !== '') counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  let n = 0;
  for (const [v, c] of [...counts].sort((a, b) => compareNames(a[0], b[0]))) if (c > n) [best, n] = [v, c];
  return best;
}

/**
 * Attributes that name one device each (a UUID, a bus address) say nothing a selector could
 * choose a kind of device by, and would make every device a kind of its own: they are left out.
 */
function identifying(devices: readonly ClassifiedDevice[]): Set<string> {
  const values = new Map<string, Set<string>>();
  const seen = new Map<string, number>();
  for (const d of devices) {
    for (const [k, v] of Object.entries(d.attributes)) {
      (values.get(k) ?? values.set(k, new Set()).get(k)!).add(String(v));
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
  }
  const out = new Set<string>();
  for (const [k, vs] of values) if ((seen.get(k) ?? 0) >= 2 && vs.size === seen.get(k)) out.add(k);
  return out;
}

interface Kind {
  readonly key: string;
  readonly entry: Omit<DeviceInventory, 'total' | 'allocated'>;
}

function kindOf(d: ClassifiedDevice, skip: ReadonlySet<string>): Kind {
  const attributes: Record<string, DeviceAttribute> = {};
  for (const k of Object.keys(d.attributes).sort(compareNames)) if (!skip.has(k)) attributes[k] = d.attributes[k] as DeviceAttribute;
  const [first, ...rest] = d.classes;
  const entry = {
    deviceClassName: first as string,
    ...(rest.length > 0 ? { alsoMatches: rest } : {}),
    driver: d.driver,
    ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
  };
  return { key: deviceKindKey({ ...entry, total: 0, allocated: 0 }), entry };
}

function inventory(devices: readonly ClassifiedDevice[], skip: ReadonlySet<string>): DeviceInventory[] {
  const byKind = new Map<string, { entry: Kind['entry']; total: number; allocated: number }>();
  for (const d of devices) {
    const k = kindOf(d, skip);
    const v = byKind.get(k.key) ?? { entry: k.entry, total: 0, allocated: 0 };
    v.total++;
    if (d.taken) v.allocated++;
    byKind.set(k.key, v);
  }
  return [...byKind.entries()].sort((a, b) => compareNames(a[0], b[0])).map(([, v]) => ({ ...v.entry, total: v.total, allocated: v.allocated }));
}

/**
 * What a Pod takes of its node, worked out once as it arrives: a member's summary adds these up,
 * and a mirror of thousands of Pods keeps this (a few numbers) rather than the Pods.
 */
export interface PodUsage {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  /** the node it holds room on; undefined where it holds none (not bound, finished, or Orrery's own: its decisions reserve that) */
  readonly node?: string;
  /** requests as the scheduler counts them (init containers, sidecars, overhead); zero where they cannot be read */
  readonly cpu: number;
  readonly memory: number;
  readonly extended?: Readonly<Record<string, number>>;
}

export function podUsage(p: PodObject): PodUsage {
  const metadata = { name: p.metadata.name, ...(p.metadata.namespace !== undefined ? { namespace: p.metadata.namespace } : {}) };
  const finished = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
  if (p.spec.nodeName === undefined || finished || p.metadata.labels?.[PLACEMENT_LABEL] !== undefined) return { metadata, cpu: 0, memory: 0 };
  const r = podCost(p.spec, ['pods', `${p.metadata.namespace ?? ''}/${p.metadata.name}`, 'spec']);
  if (!r.ok) return { metadata, node: p.spec.nodeName, cpu: 0, memory: 0 };
  const extended: Record<string, number> = {};
  for (const [k, v] of r.value.others) if (isExtended(k)) extended[k] = v;
  return { metadata, node: p.spec.nodeName, cpu: r.value.cpu, memory: r.value.memory, ...(Object.keys(extended).length > 0 ? { extended } : {}) };
}

export function summarizeMember(objects: MemberObjects): MemberSummary {
  const counted = objects.nodes.filter(nodeTakesPods);
  const names = new Set(counted.map((n) => n.metadata.name));
  const used = new Map<string, { cpu: number; memory: number; pods: number; extended: Map<string, number> }>();
  for (const p of objects.pods) {
    const node = p.node;
    if (node === undefined || !names.has(node)) continue;
    const u = used.get(node) ?? { cpu: 0, memory: 0, pods: 0, extended: new Map() };
    u.cpu += p.cpu;
    u.memory += p.memory;
    for (const [k, v] of Object.entries(p.extended ?? {})) u.extended.set(k, (u.extended.get(k) ?? 0) + v);
    u.pods++;
    used.set(node, u);
  }
  const taken = takenDevices(objects.claims, (c) => c.metadata?.labels?.[PLACEMENT_LABEL] !== undefined);
  const devices = classifyDevices(objects.deviceClasses, objects.slices, taken);
  const skip = identifying(devices);
  const byNode = new Map<string, ClassifiedDevice[]>();
  const shared: ClassifiedDevice[] = [];
  for (const d of devices) {
    if (d.nodeName === undefined) shared.push(d);
    else if (names.has(d.nodeName)) (byNode.get(d.nodeName) ?? byNode.set(d.nodeName, []).get(d.nodeName)!).push(d);
  }

  const groups = new Map<string, NodeGroup>();
  for (const n of counted) {
    const a = n.status?.allocatable ?? {};
    const extended: Record<string, number> = {};
    for (const [k, v] of Object.entries(a)) if (isExtended(k)) extended[k] = amount(v, false);
    const allocatable: Resources = { cpu: amount(a.cpu, true), memory: amount(a.memory, false), pods: amount(a.pods, false), ...(Object.keys(extended).length > 0 ? { extended } : {}) };
    const u = used.get(n.metadata.name);
    const free = (total: number, taken: number, step: number) => Math.floor(Math.max(0, total - taken) / step) * step;
    const usedExtended: Record<string, number> = {};
    for (const k of Object.keys(extended)) usedExtended[k] = Math.min(extended[k] as number, u?.extended.get(k) ?? 0);
    const allocated: Resources = {
      cpu: allocatable.cpu - free(allocatable.cpu, u?.cpu ?? 0, CPU_STEP),
      memory: allocatable.memory - free(allocatable.memory, u?.memory ?? 0, MEMORY_STEP),
      pods: Math.min(allocatable.pods, u?.pods ?? 0),
      ...(Object.keys(usedExtended).length > 0 ? { extended: usedExtended } : {}),
    };
    const group = { allocatable, allocated, devices: inventory(byNode.get(n.metadata.name) ?? [], skip) };
    const key = JSON.stringify(group);
    const known = groups.get(key);
    groups.set(key, { count: (known?.count ?? 0) + 1, ...group });
  }
  const nodeGroups = [...groups.entries()].sort((a, b) => compareNames(a[0], b[0])).map(([, g]) => g);
  const sum = (side: 'allocatable' | 'allocated'): Resources => {
    const out = { cpu: 0, memory: 0, pods: 0 };
    const extended: Record<string, number> = {};
    for (const g of nodeGroups) {
      out.cpu += g.count * g[side].cpu;
      out.memory += g.count * g[side].memory;
      out.pods += g.count * g[side].pods;
      for (const [k, v] of Object.entries(g[side].extended ?? {})) extended[k] = (extended[k] ?? 0) + g.count * v;
    }
    return { ...out, ...(Object.keys(extended).length > 0 ? { extended } : {}) };
  };
  const onNodes = [...byNode.entries()].filter(([name]) => names.has(name)).flatMap(([, ds]) => ds);
  const region = mostCommon(counted.map((n) => n.metadata.labels?.[REGION_LABEL]));
  const zone = mostCommon(counted.map((n) => n.metadata.labels?.[ZONE_LABEL]));
  return {
    allocatable: sum('allocatable'),
    allocated: sum('allocated'),
    devices: inventory([...onNodes, ...shared], skip),
    nodeGroups,
    nodes: counted.length,
    ...(region !== undefined ? { region } : {}),
    ...(zone !== undefined ? { zone } : {}),
  };
}
