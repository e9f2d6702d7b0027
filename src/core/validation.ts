// Structural validation of Placements and fleet snapshots read from files or HTTP bodies.
// Every problem is reported with the path of the field and what was expected, the way
// the API server reports a CRD schema violation; nothing throws.

import { API_VERSION, deviceKindKey, type Cluster, type DeviceInventory, type NodeGroup, type Placement, type Resources, type Taint } from './model.js';
import { selectorProblem } from './cel.js';
import { parseMilli, parseUnits } from './quantity.js';
import { type Issue, type Path, type Result, describe, fail, formatIssues, formatPath, ok } from './result.js';

export type { Issue };
export { formatIssues };

/** The kinds of field error, as the API server names them. */
type FieldCode = 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueTypeInvalid' | 'FieldValueNotSupported';

type Obj = Record<string, unknown>;

class Checker {
  readonly issues: Issue[] = [];
  add(path: Path, message: string, code: FieldCode = 'FieldValueInvalid'): void {
    this.issues.push({ code, path, message });
  }
  object(v: unknown, path: Path): Obj | undefined {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Obj;
    this.add(path, `expected an object, got ${describe(v)}`, 'FieldValueTypeInvalid');
    return undefined;
  }
  array(v: unknown, path: Path): unknown[] | undefined {
    if (Array.isArray(v)) return v;
    this.add(path, `expected a list, got ${describe(v)}`, 'FieldValueTypeInvalid');
    return undefined;
  }
  string(v: unknown, path: Path): string | undefined {
    if (typeof v === 'string') return v;
    this.add(path, `expected a string, got ${describe(v)}`, 'FieldValueTypeInvalid');
    return undefined;
  }
  boolean(v: unknown, path: Path): boolean | undefined {
    if (typeof v === 'boolean') return v;
    this.add(path, `expected true or false, got ${describe(v)}`, 'FieldValueTypeInvalid');
    return undefined;
  }
  integer(v: unknown, path: Path, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.add(path, `expected an integer, got ${describe(v)}`, 'FieldValueTypeInvalid');
      return undefined;
    }
    if (v < min || v > max) {
      this.add(path, max === Number.MAX_SAFE_INTEGER ? `must be at least ${min}, got ${v}` : `must be between ${min} and ${max}, got ${v}`);
      return undefined;
    }
    return v;
  }
  oneOf<T extends string>(v: unknown, path: Path, allowed: readonly T[]): T | undefined {
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    this.add(path, `expected one of ${allowed.join(', ')}, got ${describe(v)}`);
    return undefined;
  }
  known(o: Obj, path: Path, fields: readonly string[]): void {
    for (const k of Object.keys(o)) {
      if (!fields.includes(k)) this.add(join(path, k), `unknown field (expected one of ${fields.join(', ')})`, 'FieldValueNotSupported');
    }
  }
  stringMap(v: unknown, path: Path): Record<string, string> {
    if (v === undefined || v === null) return {};
    const o = this.object(v, path);
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(o ?? {})) {
      const s = this.string(val, join(path, k));
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
}

function join(path: Path, ...keys: (string | number)[]): Path {
  return [...path, ...keys];
}

/** A Service's name: a DNS-1035 label. */
const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The names a member's API server holds a Deployment's and a Service's fields to, each with the
 * words that say it (the CRD carries the same patterns: a value that fails one is refused at
 * admission, in the HTTP API and in a snapshot file alike, in these words).
 */
export const MEMBER_NAMES = {
  /** container names, Service port names */
  dns1123Label: {
    pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    maxLength: 63,
    words: "is not a DNS-1123 label (lower-case letters, digits and '-', beginning and ending with a letter or digit, at most 63 characters)",
  },
  labelValue: {
    pattern: /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/,
    maxLength: 63,
    words: "is not a label value (at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit)",
  },
  image: { pattern: /^\S+$/, maxLength: 4096, words: 'must not hold spaces' },
} as const;

const LABEL_VALUE = MEMBER_NAMES.labelValue.pattern;
/** A label key or a resource name: an optional DNS subdomain and '/', then a name of at most 63 characters. */
const QUALIFIED = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_KEY_WORDS = "label keys must be qualified names: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit";
const RESOURCE_NAME_WORDS = 'resource names are qualified names such as cpu, memory or example.com/device';
const PORT_NAME_WORDS = "a port name needs a letter and may not hold '--'";

/** A value held to one of MEMBER_NAMES: true if it passes. */
function memberName(c: Checker, v: string, path: Path, kind: keyof typeof MEMBER_NAMES): boolean {
  const rule = MEMBER_NAMES[kind];
  if (v.length > rule.maxLength) c.add(path, `must be at most ${rule.maxLength} characters, got ${v.length}`);
  else if (!rule.pattern.test(v)) c.add(path, `${JSON.stringify(v)} ${rule.words}`);
  else return true;
  return false;
}

/** An IANA service name, as a container port's name (and a Service's target port by name) must be. */
function checkPortName(c: Checker, v: unknown, path: Path): void {
  const s = c.string(v, path);
  if (s === undefined) return;
  if (s.length > 15) c.add(path, `must be at most 15 characters, got ${s.length}`);
  else if (!MEMBER_NAMES.dns1123Label.pattern.test(s)) c.add(path, `${JSON.stringify(s)} ${MEMBER_NAMES.dns1123Label.words}`);
  else if (!/[a-z]/.test(s) || s.includes('--')) c.add(path, PORT_NAME_WORDS);
}

function checkLabels(c: Checker, v: unknown, path: Path): void {
  if (v === undefined) return;
  for (const [k, val] of Object.entries(c.stringMap(v, path))) {
    if (k.length > 317 || !QUALIFIED.test(k)) c.add(join(path, k), LABEL_KEY_WORDS);
    else memberName(c, val, join(path, k), 'labelValue');
  }
}

function checkName(c: Checker, v: unknown, path: Path, maxLength = 253): string | undefined {
  const s = c.string(v, path);
  if (s === undefined) return undefined;
  if (s.length === 0 || s.length > maxLength || !NAME.test(s)) {
    c.add(path, `${JSON.stringify(s)} is not a valid name (lowercase letters, digits, '-' and '.', at most ${maxLength} characters)`);
    return undefined;
  }
  return s;
}

// ---- Snapshot clusters ----

const RESOURCE_FIELDS = ['cpu', 'memory', 'pods'] as const;

/** An extended resource name as Kubernetes has them: a domain, a slash, a name (nvidia.com/gpu). */
const EXTENDED = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)\/([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

function checkResources(c: Checker, v: unknown, path: Path, required: boolean): Resources | undefined {
  if (v === undefined) {
    if (required) c.add(path, 'is required', 'FieldValueRequired');
    return required ? undefined : { cpu: 0, memory: 0, pods: 0 };
  }
  const o = c.object(v, path);
  if (o === undefined) return undefined;
  for (const k of Object.keys(o)) {
    if (!(RESOURCE_FIELDS as readonly string[]).includes(k) && !EXTENDED.test(k)) {
      c.add(join(path, k), 'unknown field: cpu, memory, pods, or an extended resource such as nvidia.com/gpu', 'FieldValueNotSupported');
    }
  }
  const out = { cpu: 0, memory: 0, pods: 0 };
  const extended: Record<string, number> = {};
  let good = true;
  for (const field of Object.keys(o)
    .filter((k) => (RESOURCE_FIELDS as readonly string[]).includes(k) || EXTENDED.test(k))
    .concat(RESOURCE_FIELDS.filter((f) => !(f in o)))) {
    const raw = o[field];
    const p = join(path, field);
    if (raw === undefined) {
      if (required) {
        c.add(p, 'is required', 'FieldValueRequired');
        good = false;
      }
      continue;
    }
    if (typeof raw !== 'string' && typeof raw !== 'number') {
      c.add(p, `expected a quantity such as "8", "500m" or "64Gi", got ${describe(raw)}`);
      good = false;
      continue;
    }
    const parsed = field === 'cpu' ? parseMilli(raw) : parseUnits(raw);
    if (!parsed.ok) {
      c.add(p, parsed.error.message);
      good = false;
      continue;
    }
    if (field === 'cpu' || field === 'memory' || field === 'pods') out[field] = parsed.value;
    else extended[field] = parsed.value;
  }
  return good ? { ...out, ...(Object.keys(extended).length > 0 ? { extended } : {}) } : undefined;
}

const DEVICE_FIELDS = ['deviceClassName', 'total', 'allocated', 'alsoMatches', 'driver', 'attributes'] as const;

function checkDevices(c: Checker, v: unknown, path: Path): DeviceInventory[] {
  const devices: DeviceInventory[] = [];
  const seen = new Set<string>();
  (c.array(v, path) ?? []).forEach((d, i) => {
    const dp = join(path, i);
    const dobj = c.object(d, dp);
    if (dobj === undefined) return;
    c.known(dobj, dp, DEVICE_FIELDS);
    const cls = checkName(c, dobj.deviceClassName, join(dp, 'deviceClassName'));
    const total = c.integer(dobj.total, join(dp, 'total'), 0);
    const used = dobj.allocated === undefined ? 0 : c.integer(dobj.allocated, join(dp, 'allocated'), 0);
    const also = dobj.alsoMatches === undefined ? [] : (c.array(dobj.alsoMatches, join(dp, 'alsoMatches')) ?? []).map((x, j) => checkName(c, x, join(join(dp, 'alsoMatches'), j)));
    const driver = dobj.driver === undefined ? undefined : checkName(c, dobj.driver, join(dp, 'driver'));
    const attributes: Record<string, string | number | boolean> = {};
    if (dobj.attributes !== undefined) {
      const ao = c.object(dobj.attributes, join(dp, 'attributes'));
      for (const [k, x] of Object.entries(ao ?? {})) {
        if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') attributes[k] = x;
        else c.add(join(join(dp, 'attributes'), k), `expected a string, number or boolean, got ${describe(x)}`);
      }
    }
    if (total !== undefined && used !== undefined && used > total) c.add(join(dp, 'allocated'), `${used} allocated is more than the ${total} devices in total`);
    if (cls === undefined || total === undefined || used === undefined || also.some((x) => x === undefined)) return;
    const key = deviceKindKey({ deviceClassName: cls, total, allocated: used, alsoMatches: also as string[], ...(driver !== undefined ? { driver } : {}), attributes });
    if (seen.has(key)) c.add(join(dp, 'deviceClassName'), `devices of class ${cls} with these attributes are listed twice`);
    seen.add(key);
    devices.push({
      deviceClassName: cls,
      total,
      allocated: used,
      ...(also.length > 0 ? { alsoMatches: also as string[] } : {}),
      ...(driver !== undefined ? { driver } : {}),
      ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
    });
  });
  return devices;
}

const NODE_GROUP_FIELDS = ['count', 'allocatable', 'allocated', 'devices'] as const;

function checkNodeGroups(c: Checker, v: unknown, path: Path): NodeGroup[] {
  const groups: NodeGroup[] = [];
  (c.array(v, path) ?? []).forEach((g, i) => {
    const gp = join(path, i);
    const go = c.object(g, gp);
    if (go === undefined) return;
    c.known(go, gp, NODE_GROUP_FIELDS);
    const count = c.integer(go.count, join(gp, 'count'), 1);
    const allocatable = checkResources(c, go.allocatable, join(gp, 'allocatable'), true);
    const allocated = checkResources(c, go.allocated, join(gp, 'allocated'), false);
    const devices = go.devices === undefined ? [] : checkDevices(c, go.devices, join(gp, 'devices'));
    if (count !== undefined && allocatable && allocated) groups.push({ count, allocatable, allocated, devices });
  });
  return groups;
}

/** Per-node amounts times the nodes, summed over the groups. */
function sumGroups(groups: readonly NodeGroup[], side: 'allocatable' | 'allocated'): Resources {
  const out = { cpu: 0, memory: 0, pods: 0 };
  const extended: Record<string, number> = {};
  for (const g of groups) {
    const r = g[side];
    out.cpu += g.count * r.cpu;
    out.memory += g.count * r.memory;
    out.pods += g.count * r.pods;
    for (const [k, x] of Object.entries(r.extended ?? {})) extended[k] = (extended[k] ?? 0) + g.count * (x as number);
  }
  return { ...out, ...(Object.keys(extended).length > 0 ? { extended } : {}) };
}

const CLUSTER_FIELDS = ['name', 'labels', 'location', 'healthy', 'reachable', 'message', 'version', 'taints', 'allocatable', 'allocated', 'devices', 'nodeGroups'] as const;
const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

export function checkCluster(c: Checker, v: unknown, path: Path): Cluster | undefined {
  const o = c.object(v, path);
  if (o === undefined) return undefined;
  const before = c.issues.length;
  c.known(o, path, CLUSTER_FIELDS);
  const name = checkName(c, o.name, join(path, 'name'));
  const labels = c.stringMap(o.labels, join(path, 'labels'));
  let location: { region?: string; zone?: string } = {};
  if (o.location !== undefined) {
    const l = c.object(o.location, join(path, 'location'));
    if (l !== undefined) {
      c.known(l, join(path, 'location'), ['region', 'zone']);
      const region = l.region === undefined ? undefined : c.string(l.region, join(path, 'location', 'region'));
      const zone = l.zone === undefined ? undefined : c.string(l.zone, join(path, 'location', 'zone'));
      location = { ...(region !== undefined ? { region } : {}), ...(zone !== undefined ? { zone } : {}) };
    }
  }
  const healthy = o.healthy === undefined ? true : c.boolean(o.healthy, join(path, 'healthy'));
  const reachable = o.reachable === undefined ? undefined : c.boolean(o.reachable, join(path, 'reachable'));
  const message = o.message === undefined ? undefined : c.string(o.message, join(path, 'message'));
  const version = o.version === undefined ? undefined : c.string(o.version, join(path, 'version'));
  const taints: Taint[] = [];
  if (o.taints !== undefined) {
    (c.array(o.taints, join(path, 'taints')) ?? []).forEach((t, i) => {
      const tp = join(join(path, 'taints'), i);
      const to = c.object(t, tp);
      if (to === undefined) return;
      c.known(to, tp, ['key', 'value', 'effect']);
      const key = c.string(to.key, join(tp, 'key'));
      const value = to.value === undefined ? undefined : c.string(to.value, join(tp, 'value'));
      const effect = c.oneOf(to.effect, join(tp, 'effect'), EFFECTS);
      if (key !== undefined && effect !== undefined) taints.push({ key, effect, ...(value !== undefined ? { value } : {}) });
    });
  }
  const nodeGroups = o.nodeGroups === undefined ? undefined : checkNodeGroups(c, o.nodeGroups, join(path, 'nodeGroups'));
  // With node groups the cluster's totals are their sums: given as well, they must agree.
  const totals = (side: 'allocatable' | 'allocated') => {
    const given = checkResources(c, o[side], join(path, side), nodeGroups === undefined && side === 'allocatable');
    if (nodeGroups === undefined || o[side] === undefined) return nodeGroups === undefined ? given : sumGroups(nodeGroups, side);
    const sum = sumGroups(nodeGroups, side);
    if (given !== undefined && JSON.stringify(given) !== JSON.stringify(sum)) {
      c.add(join(path, side), `does not match the sum of the node groups (cpu ${sum.cpu}m, memory ${sum.memory}, pods ${sum.pods}): leave it out, or make it agree`);
    }
    return given;
  };
  const allocatable = totals('allocatable');
  const allocated = totals('allocated');
  const devices = o.devices === undefined ? (nodeGroups === undefined ? [] : nodeDevices(nodeGroups)) : checkDevices(c, o.devices, join(path, 'devices'));
  if (nodeGroups !== undefined && o.devices !== undefined) {
    // devices beyond the nodes' own are a pool every node shares; fewer is a contradiction
    const onNodes = nodeDevices(nodeGroups);
    for (const d of onNodes) {
      const listed = devices.filter((x) => x.deviceClassName === d.deviceClassName).reduce((s2, x) => s2 + x.total, 0);
      if (listed < d.total) c.add(join(path, 'devices'), `lists ${listed} devices of class ${d.deviceClassName}, its node groups ${d.total}`);
    }
  }
  if (c.issues.length > before || name === undefined || healthy === undefined || !allocatable || !allocated) return undefined;
  return {
    name,
    labels,
    location,
    healthy,
    ...(reachable !== undefined ? { reachable } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(version !== undefined ? { version } : {}),
    taints,
    allocatable,
    allocated,
    devices,
    ...(nodeGroups !== undefined ? { nodeGroups } : {}),
  };
}

/** A member's capacity as an agent reports it: the capacity fields of a snapshot file's cluster. */
export interface CapacityFields {
  readonly allocatable: Resources;
  readonly allocated: Resources;
  readonly devices: readonly DeviceInventory[];
  readonly nodeGroups: readonly NodeGroup[];
}

const CAPACITY_FIELDS = ['allocatable', 'allocated', 'devices', 'nodeGroups'] as const;

/** Checks capacity fields (`allocatable`, `allocated`, `devices`, `nodeGroups`) by the snapshot file's rules. */
export function checkCapacity(v: unknown, path: Path): Result<CapacityFields, readonly Issue[]> {
  const c = new Checker();
  const o = c.object(v, path);
  if (o === undefined) return fail(c.issues);
  c.known(o, path, CAPACITY_FIELDS);
  const cluster = checkCluster(c, { name: 'capacity', ...Object.fromEntries(CAPACITY_FIELDS.filter((k) => k in o).map((k) => [k, o[k]])) }, path);
  if (c.issues.length > 0 || cluster === undefined) return fail(c.issues);
  return ok({ allocatable: cluster.allocatable, allocated: cluster.allocated, devices: cluster.devices, nodeGroups: cluster.nodeGroups ?? [] });
}

/** The devices of the node groups, per kind, for a cluster that lists none of its own. */
function nodeDevices(groups: readonly NodeGroup[]): DeviceInventory[] {
  const byKind = new Map<string, DeviceInventory>();
  for (const g of groups) {
    for (const d of g.devices) {
      const key = deviceKindKey(d);
      const known = byKind.get(key);
      byKind.set(key, { ...d, total: (known?.total ?? 0) + g.count * d.total, allocated: (known?.allocated ?? 0) + g.count * d.allocated });
    }
  }
  return [...byKind.values()];
}

// ---- Placements ----

const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

function checkSelector(c: Checker, v: unknown, path: Path): void {
  const o = c.object(v, path);
  if (o === undefined) return;
  c.known(o, path, ['matchLabels', 'matchExpressions']);
  const labels = c.stringMap(o.matchLabels, join(path, 'matchLabels'));
  for (const [k, val] of Object.entries(labels)) {
    if (!LABEL_VALUE.test(val) || val.length > 63) c.add(join(join(path, 'matchLabels'), k), `${JSON.stringify(val)} is not a valid label value`);
  }
  if (o.matchExpressions === undefined) return;
  (c.array(o.matchExpressions, join(path, 'matchExpressions')) ?? []).forEach((e, i) => {
    const ep = join(join(path, 'matchExpressions'), i);
    const eo = c.object(e, ep);
    if (eo === undefined) return;
    c.known(eo, ep, ['key', 'operator', 'values']);
    c.string(eo.key, join(ep, 'key'));
    const op = c.oneOf(eo.operator, join(ep, 'operator'), SELECTOR_OPERATORS);
    const values = eo.values === undefined ? [] : (c.array(eo.values, join(ep, 'values')) ?? []);
    for (const [j, x] of values.entries()) c.string(x, join(ep, 'values', j));
    if ((op === 'In' || op === 'NotIn') && values.length === 0) c.add(join(ep, 'values'), `must not be empty for operator ${op}`);
    if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) c.add(join(ep, 'values'), `must be empty for operator ${op}`);
  });
}

function checkRequests(c: Checker, v: unknown, path: Path): void {
  if (v === undefined) return;
  const o = c.object(v, path);
  for (const [k, val] of Object.entries(o ?? {})) {
    const p = join(path, k);
    if (k.length > 317 || !QUALIFIED.test(k)) {
      c.add(p, RESOURCE_NAME_WORDS);
      continue;
    }
    if (typeof val !== 'string' && typeof val !== 'number') {
      c.add(p, `expected a quantity, got ${describe(val)}`);
      continue;
    }
    const r = k === 'cpu' ? parseMilli(val) : parseUnits(val);
    if (!r.ok) c.add(p, r.error.message);
  }
}

/**
 * A Pod's containers (or init containers) as a member would take them. `named` holds the names
 * met so far in the Pod, with where: a name is one container's.
 */
function checkContainers(c: Checker, v: unknown, path: Path, required: boolean, named: Map<string, Path>): void {
  if (v === undefined && !required) return;
  const list = c.array(v, path);
  if (list === undefined) return;
  if (required && list.length === 0) c.add(path, 'must have at least one container');
  list.forEach((x, i) => {
    const p = join(path, i);
    const o = c.object(x, p);
    if (o === undefined) return;
    if (o.name === undefined) c.add(join(p, 'name'), 'required', 'FieldValueRequired');
    const name = o.name === undefined ? undefined : c.string(o.name, join(p, 'name'));
    if (name !== undefined && memberName(c, name, join(p, 'name'), 'dns1123Label')) {
      const first = named.get(name);
      if (first !== undefined) c.add(join(p, 'name'), `duplicate container name ${JSON.stringify(name)} (also ${formatPath(first.slice(-2))})`);
      else named.set(name, p);
    }
    // every member's API server refuses a container without one
    if (o.image === undefined) c.add(join(p, 'image'), 'required: every container names its image', 'FieldValueRequired');
    else {
      const image = c.string(o.image, join(p, 'image'));
      if (image === '') c.add(join(p, 'image'), 'must not be empty');
      else if (image !== undefined) memberName(c, image, join(p, 'image'), 'image');
    }
    if (o.ports !== undefined) {
      (c.array(o.ports, join(p, 'ports')) ?? []).forEach((x, j) => {
        const pp = join(p, 'ports', j);
        const po = c.object(x, pp);
        if (po === undefined) return;
        if (po.containerPort === undefined) c.add(join(pp, 'containerPort'), 'required', 'FieldValueRequired');
        else c.integer(po.containerPort, join(pp, 'containerPort'), 1, 65535);
        if (po.hostPort !== undefined) c.integer(po.hostPort, join(pp, 'hostPort'), 1, 65535);
        if (po.name !== undefined) checkPortName(c, po.name, join(pp, 'name'));
        if (po.protocol !== undefined) c.oneOf(po.protocol, join(pp, 'protocol'), ['TCP', 'UDP', 'SCTP'] as const);
      });
    }
    if (o.resources !== undefined) {
      const r = c.object(o.resources, join(p, 'resources'));
      if (r !== undefined) {
        checkRequests(c, r.requests, join(p, 'resources', 'requests'));
        checkRequests(c, r.limits, join(p, 'resources', 'limits'));
      }
    }
  });
}

const SPEC_FIELDS = [
  'replicas',
  'template',
  'accelerators',
  'clusterSelector',
  'tolerations',
  'locality',
  'spread',
  'strategy',
  'gang',
  'priority',
  'service',
  'takeOver',
  'delivery',
  'preemptionPolicy',
  'disruption',
] as const;

export const MAX_PRIORITY = 1000;

function checkSpec(c: Checker, v: unknown, path: Path): void {
  const s = c.object(v, path);
  if (s === undefined) return;
  c.known(s, path, SPEC_FIELDS);
  c.integer(s.replicas, join(path, 'replicas'), 0, 100_000);
  const tp = join(path, 'template');
  const t = c.object(s.template, tp);
  if (t !== undefined) {
    if (t.metadata !== undefined) {
      const tm = c.object(t.metadata, join(tp, 'metadata'));
      if (tm !== undefined) checkLabels(c, tm.labels, join(tp, 'metadata', 'labels'));
    }
    const ts = c.object(t.spec, join(tp, 'spec'));
    if (ts !== undefined) {
      if (ts.replicas !== undefined) c.add(join(tp, 'spec', 'replicas'), 'must not be set: spec.replicas of the Placement decides');
      const pt = c.object(ts.template, join(tp, 'spec', 'template'));
      if (pt?.metadata !== undefined) {
        const pm = c.object(pt.metadata, join(tp, 'spec', 'template', 'metadata'));
        if (pm !== undefined) checkLabels(c, pm.labels, join(tp, 'spec', 'template', 'metadata', 'labels'));
      }
      const ps = pt === undefined ? undefined : c.object(pt.spec, join(tp, 'spec', 'template', 'spec'));
      if (ps !== undefined) {
        const pp = join(tp, 'spec', 'template', 'spec');
        const named = new Map<string, Path>();
        checkContainers(c, ps.containers, join(pp, 'containers'), true, named);
        checkContainers(c, ps.initContainers, join(pp, 'initContainers'), false, named);
        checkRequests(c, ps.overhead, join(pp, 'overhead'));
      }
    }
  }
  if (s.accelerators !== undefined) {
    const seen = new Set<string>();
    (c.array(s.accelerators, join(path, 'accelerators')) ?? []).forEach((a, i) => {
      const ap = join(join(path, 'accelerators'), i);
      const ao = c.object(a, ap);
      if (ao === undefined) return;
      c.known(ao, ap, ['deviceClassName', 'resourceName', 'selectors', 'count']);
      c.integer(ao.count, join(ap, 'count'), 1, 1024);
      if ((ao.deviceClassName === undefined) === (ao.resourceName === undefined)) {
        c.add(ap, "give exactly one of deviceClassName (DRA) or resourceName (a device plugin's extended resource)");
        return;
      }
      let name: string | undefined;
      if (ao.resourceName !== undefined) {
        name = c.string(ao.resourceName, join(ap, 'resourceName'));
        if (name !== undefined && !EXTENDED.test(name)) {
          c.add(join(ap, 'resourceName'), `${JSON.stringify(name)} is not an extended resource name such as nvidia.com/gpu`);
          name = undefined;
        }
        if (ao.selectors !== undefined) c.add(join(ap, 'selectors'), 'selectors narrow DRA devices: they need deviceClassName');
      } else {
        name = checkName(c, ao.deviceClassName, join(ap, 'deviceClassName'));
        if (ao.selectors !== undefined) {
          (c.array(ao.selectors, join(ap, 'selectors')) ?? []).forEach((x, j) => {
            const expression = c.string(x, join(join(ap, 'selectors'), j));
            if (expression === undefined) return;
            const problem = selectorProblem(expression);
            if (problem !== undefined) c.add(join(join(ap, 'selectors'), j), `not a valid CEL expression: ${problem}`);
          });
        }
      }
      if (name !== undefined && seen.has(name)) c.add(ap, `${name} is requested twice`);
      if (name !== undefined) seen.add(name);
    });
  }
  if (s.clusterSelector !== undefined) checkSelector(c, s.clusterSelector, join(path, 'clusterSelector'));
  if (s.tolerations !== undefined) {
    (c.array(s.tolerations, join(path, 'tolerations')) ?? []).forEach((t, i) => {
      const tp2 = join(join(path, 'tolerations'), i);
      const to = c.object(t, tp2);
      if (to === undefined) return;
      c.known(to, tp2, ['key', 'operator', 'value', 'effect']);
      if (to.key !== undefined) c.string(to.key, join(tp2, 'key'));
      const op = to.operator === undefined ? 'Equal' : c.oneOf(to.operator, join(tp2, 'operator'), ['Exists', 'Equal'] as const);
      if (to.value !== undefined) c.string(to.value, join(tp2, 'value'));
      if (to.effect !== undefined) c.oneOf(to.effect, join(tp2, 'effect'), EFFECTS);
      if (op === 'Exists' && to.value !== undefined && to.value !== '') c.add(join(tp2, 'value'), 'must be empty when operator is Exists');
      if ((to.key === undefined || to.key === '') && op !== 'Exists') c.add(join(tp2, 'operator'), 'must be Exists when key is empty');
    });
  }
  if (s.locality !== undefined) {
    const lp = join(path, 'locality');
    const l = c.object(s.locality, lp);
    if (l !== undefined) {
      c.known(l, lp, ['requiredRegions', 'preferred']);
      if (l.requiredRegions !== undefined) {
        for (const [i, r] of (c.array(l.requiredRegions, join(lp, 'requiredRegions')) ?? []).entries()) c.string(r, join(lp, 'requiredRegions', i));
      }
      if (l.preferred !== undefined) {
        (c.array(l.preferred, join(lp, 'preferred')) ?? []).forEach((p, i) => {
          const pp = join(join(lp, 'preferred'), i);
          const po = c.object(p, pp);
          if (po === undefined) return;
          c.known(po, pp, ['region', 'weight']);
          c.string(po.region, join(pp, 'region'));
          c.integer(po.weight, join(pp, 'weight'), 1, 100);
        });
      }
    }
  }
  if (s.spread !== undefined) {
    const sp = join(path, 'spread');
    const so = c.object(s.spread, sp);
    if (so !== undefined) {
      c.known(so, sp, ['minClusters', 'maxClusters', 'maxSkew', 'topologyKey']);
      const min = so.minClusters === undefined ? undefined : c.integer(so.minClusters, join(sp, 'minClusters'), 0);
      const max = so.maxClusters === undefined ? undefined : c.integer(so.maxClusters, join(sp, 'maxClusters'), 1);
      if (so.maxSkew !== undefined) c.integer(so.maxSkew, join(sp, 'maxSkew'), 1);
      if (so.topologyKey !== undefined) c.string(so.topologyKey, join(sp, 'topologyKey'));
      if (min !== undefined && max !== undefined && max < min) c.add(join(sp, 'maxClusters'), `must be at least minClusters (${min}), got ${max}`);
    }
  }
  if (s.strategy !== undefined) c.oneOf(s.strategy, join(path, 'strategy'), ['Spread', 'Pack'] as const);
  if (s.gang !== undefined) c.boolean(s.gang, join(path, 'gang'));
  if (s.takeOver !== undefined) c.oneOf(s.takeOver, join(path, 'takeOver'), ['Never', 'IfNoDiff', 'Always'] as const);
  if (s.delivery !== undefined) c.oneOf(s.delivery, join(path, 'delivery'), ['Orrery', 'External'] as const);
  if (s.preemptionPolicy !== undefined) c.oneOf(s.preemptionPolicy, join(path, 'preemptionPolicy'), ['PreemptLowerPriority', 'Never'] as const);
  if (s.disruption !== undefined) {
    const dp = join(path, 'disruption');
    const d = c.object(s.disruption, dp);
    if (d !== undefined) {
      c.known(d, dp, ['maxUnavailable']);
      const max = d.maxUnavailable;
      const mp = join(dp, 'maxUnavailable');
      if (typeof max === 'string') {
        const pct = /^(\d{1,3})%$/.exec(max);
        if (pct === null || Number(pct[1]) > 100) c.add(mp, `must be a count or a percent from 0% to 100%, got ${JSON.stringify(max)}`);
      } else if (max !== undefined) c.integer(max, mp, 0);
    }
  }
  if (s.priority !== undefined) c.integer(s.priority, join(path, 'priority'), 0, MAX_PRIORITY);
  if (s.service !== undefined) {
    const svp = join(path, 'service');
    const sv = c.object(s.service, svp);
    if (sv !== undefined) {
      c.known(sv, svp, ['ports', 'export']);
      const ports = c.array(sv.ports, join(svp, 'ports')) ?? [];
      if (Array.isArray(sv.ports) && ports.length === 0) c.add(join(svp, 'ports'), 'must have at least one port');
      const portNames = new Map<string, number>();
      ports.forEach((p, i) => {
        const pp = join(join(svp, 'ports'), i);
        const po = c.object(p, pp);
        if (po === undefined) return;
        c.integer(po.port, join(pp, 'port'), 1, 65535);
        if (po.protocol !== undefined) c.oneOf(po.protocol, join(pp, 'protocol'), ['TCP', 'UDP', 'SCTP'] as const);
        if (po.name === undefined) {
          if (ports.length > 1) c.add(join(pp, 'name'), 'a Service with more than one port names every port', 'FieldValueRequired');
        } else {
          const name = c.string(po.name, join(pp, 'name'));
          if (name !== undefined && memberName(c, name, join(pp, 'name'), 'dns1123Label')) {
            const first = portNames.get(name);
            if (first !== undefined) c.add(join(pp, 'name'), `each port name is used once: ${JSON.stringify(name)} is also ports[${first}]'s`);
            else portNames.set(name, i);
          }
        }
        if (typeof po.targetPort === 'number') c.integer(po.targetPort, join(pp, 'targetPort'), 1, 65535);
        else if (po.targetPort !== undefined) checkPortName(c, po.targetPort, join(pp, 'targetPort'));
      });
      if (sv.export !== undefined) c.boolean(sv.export, join(svp, 'export'));
    }
  }
}

/** Checks a Placement as it would be applied; fills in the default namespace. */
export function checkPlacement(v: unknown, path: Path = [], defaultNamespace = 'default'): Result<Placement, readonly Issue[]> {
  const c = new Checker();
  const o = c.object(v, path);
  if (o === undefined) return fail(c.issues);
  if (o.apiVersion !== API_VERSION) c.add(join(path, 'apiVersion'), `expected ${API_VERSION}, got ${describe(o.apiVersion)}`);
  if (o.kind !== 'Placement') c.add(join(path, 'kind'), `expected Placement, got ${describe(o.kind)}`);
  const m = c.object(o.metadata, join(path, 'metadata'));
  let namespace = defaultNamespace;
  if (m !== undefined) {
    checkName(c, m.name, join(path, 'metadata', 'name'));
    if (m.namespace !== undefined) namespace = checkName(c, m.namespace, join(path, 'metadata', 'namespace'), 63) ?? namespace;
  }
  checkSpec(c, o.spec, join(path, 'spec'));
  const svc = (o.spec as { service?: unknown } | undefined)?.service;
  if (svc !== undefined && m !== undefined && typeof m.name === 'string' && !DNS_LABEL.test(m.name)) {
    c.add(
      join(path, 'metadata', 'name'),
      `a Placement with spec.service names a Service in every member: its name must be a DNS-1035 label (lower-case letters, digits and '-', a letter first, no dots, at most 63 characters), got ${describe(m.name)}`,
    );
  }
  if (c.issues.length > 0 || m === undefined) return fail(c.issues);
  return ok({ ...(o as unknown as Placement), metadata: { ...(m as Placement['metadata']), namespace } });
}

export interface SnapshotDocument {
  readonly clusters: readonly Cluster[];
  readonly placements: readonly Placement[];
}

/** Checks a FleetSnapshot document (see the snapshot-file contract). */
export function checkSnapshotDocument(v: unknown): Result<SnapshotDocument, readonly Issue[]> {
  const c = new Checker();
  const o = c.object(v, []);
  if (o === undefined) return fail([{ code: 'FieldValueTypeInvalid', path: [], message: `expected a FleetSnapshot document, got ${describe(v)}` }]);
  c.known(o, [], ['apiVersion', 'kind', 'clusters', 'placements', 'metadata']);
  if (o.apiVersion !== API_VERSION) c.add(['apiVersion'], `expected ${API_VERSION}, got ${describe(o.apiVersion)}`);
  if (o.kind !== 'FleetSnapshot') c.add(['kind'], `expected FleetSnapshot, got ${describe(o.kind)}`);
  const clusters: Cluster[] = [];
  const names = new Map<string, number>();
  (c.array(o.clusters, ['clusters']) ?? []).forEach((x, i) => {
    const cl = checkCluster(c, x, ['clusters', i]);
    if (cl === undefined) return;
    const first = names.get(cl.name);
    if (first !== undefined) c.add(['clusters', i, 'name'], `duplicate cluster name ${cl.name} (also clusters[${first}])`);
    else names.set(cl.name, i);
    clusters.push(cl);
  });
  const placements = o.placements === undefined || o.placements === null ? [] : checkPlacementList(c, o.placements, ['placements']);
  if (c.issues.length > 0) return fail(c.issues);
  return ok({ clusters, placements });
}

function checkPlacementList(c: Checker, v: unknown, path: Path): Placement[] {
  const out: Placement[] = [];
  const keys = new Map<string, number>();
  (c.array(v, path) ?? []).forEach((x, i) => {
    const r = checkPlacement(x, join(path, i));
    if (!r.ok) {
      c.issues.push(...r.error);
      return;
    }
    const key = `${r.value.metadata.namespace}/${r.value.metadata.name}`;
    const first = keys.get(key);
    if (first !== undefined) c.add(join(path, i), `duplicate placement ${key} (also ${formatPath(join(path, first))})`);
    else keys.set(key, i);
    out.push(r.value);
  });
  return out;
}

/** Checks a list of Placement documents (a List's items or a multi-document YAML stream). */
export function checkPlacements(docs: readonly unknown[], path: Path = []): Result<Placement[], readonly Issue[]> {
  const c = new Checker();
  const placements = checkPlacementList(c, docs, path);
  return c.issues.length > 0 ? fail(c.issues) : ok(placements);
}
