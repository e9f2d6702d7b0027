// A member's accelerators from Dynamic Resource Allocation: the devices its drivers publish in
// ResourceSlices (only the newest generation of a complete pool), which DeviceClasses' CEL
// selectors match them, and which ResourceClaims have been allocated. Pure apart from CEL.

import { type DeviceEnvironment, deviceEnvironment, matchesAll } from '../core/cel.js';
import type { DeviceAttribute } from '../core/model.js';
import { compareNames } from '../core/model.js';

export interface DeviceClassObject {
  readonly metadata: { readonly name: string };
  readonly spec?: { readonly selectors?: readonly { readonly cel?: { readonly expression: string } }[] };
}

type Attribute = { int?: number; bool?: boolean; string?: string; version?: string };

interface DeviceEntry {
  readonly name: string;
  readonly attributes?: Readonly<Record<string, Attribute>>;
  readonly capacity?: Readonly<Record<string, { value: string } | string>>;
  /** resource.k8s.io/v1beta1 keeps attributes and capacity under `basic` */
  readonly basic?: { readonly attributes?: Readonly<Record<string, Attribute>>; readonly capacity?: Readonly<Record<string, { value: string } | string>> };
}

export interface ResourceSliceObject {
  readonly spec: {
    readonly driver: string;
    readonly pool: { readonly name: string; readonly generation: number; readonly resourceSliceCount: number };
    /** devices of one node; without it (allNodes, nodeSelector) the pool serves many */
    readonly nodeName?: string;
    readonly devices?: readonly DeviceEntry[];
  };
}

export interface ResourceClaimObject {
  readonly metadata?: { readonly labels?: Readonly<Record<string, string>> };
  readonly status?: {
    readonly allocation?: { readonly devices?: { readonly results?: readonly { driver: string; pool: string; device: string }[] } };
  };
}

export interface Device {
  readonly driver: string;
  readonly pool: string;
  readonly name: string;
  /** the node the device is published for; undefined: any node may use it */
  readonly nodeName: string | undefined;
  /** attributes by qualified name (domain/name) */
  readonly attributes: Readonly<Record<string, DeviceAttribute>>;
  readonly cel: DeviceEnvironment;
}

/** The devices of complete pools at their newest generation. */
export function publishedDevices(slices: readonly ResourceSliceObject[]): Device[] {
  const pools = new Map<string, { generation: number; expected: number; slices: ResourceSliceObject[] }>();
  for (const s of slices) {
    const key = `${s.spec.driver}/${s.spec.pool.name}`;
    const pool = pools.get(key);
    if (pool === undefined || s.spec.pool.generation > pool.generation) {
      pools.set(key, { generation: s.spec.pool.generation, expected: s.spec.pool.resourceSliceCount, slices: [s] });
    } else if (s.spec.pool.generation === pool.generation) pool.slices.push(s);
  }
  const out: Device[] = [];
  for (const pool of pools.values()) {
    // An incomplete pool is being rewritten by its driver: wait for the rest of it.
    if (pool.slices.length < pool.expected) continue;
    for (const s of pool.slices) {
      for (const d of s.spec.devices ?? []) out.push(toDevice(s.spec.driver, s.spec.pool.name, s.spec.nodeName, d));
    }
  }
  return out;
}

function toDevice(driver: string, pool: string, nodeName: string | undefined, d: DeviceEntry): Device {
  const attributes: Record<string, DeviceAttribute> = {};
  for (const [k, a] of Object.entries(d.attributes ?? d.basic?.attributes ?? {})) {
    const v = a.int ?? a.bool ?? a.string ?? a.version;
    // an unqualified name belongs to the driver's domain
    if (v !== undefined) attributes[k.includes('/') ? k : `${driver}/${k}`] = v;
  }
  const capacity: Record<string, string> = {};
  for (const [k, c] of Object.entries(d.capacity ?? d.basic?.capacity ?? {})) capacity[k.includes('/') ? k : `${driver}/${k}`] = typeof c === 'string' ? c : c.value;
  return { driver, pool, name: d.name, nodeName, attributes, cel: deviceEnvironment(driver, attributes, capacity) };
}

/** Whether a device satisfies every CEL selector of the class; an error does not match. */
export function matchesClass(device: Device, cls: DeviceClassObject): boolean {
  const expressions = (cls.spec?.selectors ?? []).flatMap((s) => (s.cel === undefined ? [] : [s.cel.expression]));
  return matchesAll(device.cel, expressions);
}

/** Devices that ResourceClaims hold, by driver/pool/device; `skip` leaves some claims out. */
export function takenDevices(claims: readonly ResourceClaimObject[], skip: (c: ResourceClaimObject) => boolean = () => false): Set<string> {
  const taken = new Set<string>();
  for (const c of claims) {
    if (skip(c)) continue;
    for (const r of c.status?.allocation?.devices?.results ?? []) taken.add(`${r.driver}/${r.pool}/${r.device}`);
  }
  return taken;
}

export interface ClassifiedDevice extends Device {
  /** the device classes that match it, sorted */
  readonly classes: readonly string[];
  readonly taken: boolean;
}

/** Every published device that some class matches, with its classes and whether a claim holds it. */
export function classifyDevices(classes: readonly DeviceClassObject[], slices: readonly ResourceSliceObject[], taken: ReadonlySet<string>): ClassifiedDevice[] {
  const sorted = [...classes].sort((a, b) => compareNames(a.metadata.name, b.metadata.name));
  const out: ClassifiedDevice[] = [];
  for (const d of publishedDevices(slices)) {
    const matched = sorted.filter((c) => matchesClass(d, c)).map((c) => c.metadata.name);
    if (matched.length > 0) out.push({ ...d, classes: matched, taken: taken.has(`${d.driver}/${d.pool}/${d.name}`) });
  }
  return out;
}
