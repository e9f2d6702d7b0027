// Free accelerators of a member from Dynamic Resource Allocation: the devices its drivers
// publish in ResourceSlices that a DeviceClass's CEL selectors match, minus the devices that
// ResourceClaims have been allocated. Only the newest generation of a pool counts, and only
// once all of that generation's slices are there. Pure apart from evaluating CEL.

import { run } from '@bufbuild/cel';
import type { DeviceInventory } from '../core/model.js';
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
    readonly devices?: readonly DeviceEntry[];
  };
}

export interface ResourceClaimObject {
  readonly status?: {
    readonly allocation?: { readonly devices?: { readonly results?: readonly { driver: string; pool: string; device: string }[] } };
  };
}

interface Device {
  readonly driver: string;
  readonly pool: string;
  readonly name: string;
  readonly cel: Map<string, unknown>;
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
      for (const d of s.spec.devices ?? []) out.push(toDevice(s.spec.driver, s.spec.pool.name, d));
    }
  }
  return out;
}

function toDevice(driver: string, pool: string, d: DeviceEntry): Device {
  // CEL sees device.driver, device.attributes[domain].name and device.capacity[domain].name;
  // an unqualified name belongs to the driver's domain.
  const attributes = new Map<string, Map<string, unknown>>();
  const capacity = new Map<string, Map<string, unknown>>();
  const put = (into: Map<string, Map<string, unknown>>, key: string, v: unknown) => {
    const slash = key.indexOf('/');
    const [domain, name] = slash < 0 ? [driver, key] : [key.slice(0, slash), key.slice(slash + 1)];
    let m = into.get(domain);
    if (m === undefined) into.set(domain, (m = new Map()));
    m.set(name, v);
  };
  for (const [k, a] of Object.entries(d.attributes ?? d.basic?.attributes ?? {})) {
    const v = a.int !== undefined ? BigInt(a.int) : a.bool ?? a.string ?? a.version;
    if (v !== undefined) put(attributes, k, v);
  }
  for (const [k, c] of Object.entries(d.capacity ?? d.basic?.capacity ?? {})) put(capacity, k, typeof c === 'string' ? c : c.value);
  const cel = new Map<string, unknown>([
    ['driver', driver],
    ['attributes', attributes],
    ['capacity', capacity],
  ]);
  return { driver, pool, name: d.name, cel };
}

/** Whether a device satisfies every CEL selector of the class; an error does not match. */
export function matchesClass(device: Device, cls: DeviceClassObject): boolean {
  for (const s of cls.spec?.selectors ?? []) {
    if (s.cel === undefined) continue;
    let r: unknown;
    try {
      r = run(s.cel.expression, { device: device.cel } as never);
    } catch {
      return false;
    }
    if (r !== true) return false;
  }
  return true;
}

export function countDevices(
  classes: readonly DeviceClassObject[],
  slices: readonly ResourceSliceObject[],
  claims: readonly ResourceClaimObject[],
): DeviceInventory[] {
  const devices = publishedDevices(slices);
  const taken = new Set<string>();
  for (const c of claims) {
    for (const r of c.status?.allocation?.devices?.results ?? []) taken.add(`${r.driver}/${r.pool}/${r.device}`);
  }
  const out: DeviceInventory[] = [];
  for (const cls of [...classes].sort((a, b) => compareNames(a.metadata.name, b.metadata.name))) {
    let total = 0;
    let allocated = 0;
    for (const d of devices) {
      if (!matchesClass(d, cls)) continue;
      total++;
      if (taken.has(`${d.driver}/${d.pool}/${d.name}`)) allocated++;
    }
    if (total > 0) out.push({ deviceClassName: cls.metadata.name, total, allocated });
  }
  return out;
}
