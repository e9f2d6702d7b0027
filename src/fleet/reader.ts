// The fleet as it is: ClusterProfiles on the hub for the inventory, each member's Nodes, Pods
// and DRA objects for its capacity. A member that cannot be read stays in the snapshot,
// marked unreachable: a fault never reads as "this cluster is gone".

import { createHash } from 'node:crypto';
import type { Cluster, FleetSnapshot, Location } from '../core/model.js';
import { compareNames, makeSnapshot } from '../core/model.js';
import { type ClusterProfileObject, type MemberAccess, type ProviderFile, resolveAccess } from './access.js';
import { ApiClient } from './client.js';
import { clusterProfileVersion, profilesPath, uniqueProfiles } from './inventory.js';
import type { DeviceClassObject, ResourceClaimObject, ResourceSliceObject } from './devices.js';
import type { NodeObject, PodObject } from './measure.js';
import { type MemberObjects, type MemberSummary, podUsage, summarizeMember } from './summary.js';
import { LIVE_PODS, draVersion } from './mirror.js';
import { type ClusterReportObject, REPORT_MAX_AGE_MS, type ReadWay, readReport, reportProblem, reportsPath, reportsServed } from './report.js';

/** Reads what capacity is made of from one member. Throws when the member cannot be read. */
export async function readMember(member: ApiClient): Promise<MemberObjects> {
  const [nodes, pods] = await Promise.all([member.list<NodeObject>('/api/v1/nodes'), member.list<PodObject>(LIVE_PODS)]);
  const dra = await draVersion(member);
  const usage = pods.items.map(podUsage);
  if (dra === undefined) return { nodes: nodes.items, pods: usage, deviceClasses: [], slices: [], claims: [] };
  const [deviceClasses, slices, claims] = await Promise.all([
    member.list<DeviceClassObject>(`/apis/${dra}/deviceclasses`),
    member.list<ResourceSliceObject>(`/apis/${dra}/resourceslices`),
    member.list<ResourceClaimObject>(`/apis/${dra}/resourceclaims`),
  ]);
  return { nodes: nodes.items, pods: usage, deviceClasses: deviceClasses.items, slices: slices.items, claims: claims.items };
}

function condition(p: ClusterProfileObject, type: string) {
  return p.status?.conditions?.find((c) => c.type === type);
}

/**
 * Region and zone from the profile's properties: `location` as "region" or "region/zone",
 * or `region` and `zone` (bare or as the topology.kubernetes.io keys).
 */
export function profileLocation(p: ClusterProfileObject): Location {
  const props = new Map((p.status?.properties ?? []).map((x) => [x.name, x.value]));
  const location = props.get('location');
  let region = props.get('region') ?? props.get('topology.kubernetes.io/region');
  let zone = props.get('zone') ?? props.get('topology.kubernetes.io/zone');
  if (location !== undefined) {
    const [r, z] = location.split('/');
    region ??= r || undefined;
    zone ??= z || undefined;
  }
  return { ...(region !== undefined ? { region } : {}), ...(zone !== undefined ? { zone } : {}) };
}

export interface ReadOptions {
  /** only ClusterProfiles in this namespace */
  readonly namespace?: string;
  readonly providers?: ProviderFile;
  /** reuse access (credentials) between reads; refreshed when it expires */
  readonly accessCache?: Map<string, MemberAccess>;
  /** how old an agent's report may be (by its heartbeat) and still be read */
  readonly reportMaxAgeMs?: number;
}

export interface MemberStatus {
  readonly name: string;
  readonly namespace: string;
  readonly reachable: boolean;
  /** how its capacity was read */
  readonly read: ReadWay;
  readonly via?: string;
  readonly message?: string;
}

export interface FleetRead {
  readonly snapshot: FleetSnapshot;
  readonly members: readonly MemberStatus[];
}

/** A snapshot of the fleet from a single pass over the hub and every member. */
export async function readFleet(hub: ApiClient, opts: ReadOptions = {}): Promise<FleetRead> {
  const path = profilesPath(await clusterProfileVersion(hub), opts.namespace);
  const { profiles, clashes } = uniqueProfiles((await hub.list<ClusterProfileObject>(path)).items);
  const reports = new Map<string, ClusterReportObject>();
  if (await reportsServed(hub)) for (const r of (await hub.list<ClusterReportObject>(reportsPath(opts.namespace))).items) reports.set(`${r.metadata.namespace}/${r.metadata.name}`, r);
  const now = Date.now();
  const results = await Promise.all(
    profiles.map((p) => {
      const report = reports.get(`${p.metadata.namespace}/${p.metadata.name}`);
      return report !== undefined ? fromReport(p, report, now, opts.reportMaxAgeMs ?? REPORT_MAX_AGE_MS) : readProfile(hub, p, opts);
    }),
  );
  const clusters = results.map((r) => r.cluster);
  const left = clashes.map(({ profile: p, with: w }) => ({
    name: p.metadata.name,
    namespace: p.metadata.namespace,
    reachable: false,
    read: 'direct' as const,
    message: `left out: ${w.metadata.namespace}/${w.metadata.name} is another cluster of the same name`,
  }));
  return { snapshot: makeSnapshot(clusters, generationOf(clusters)), members: [...results.map((r) => r.status), ...left] };
}

export type Measured = MemberSummary;

export function measure(objects: MemberObjects): Measured {
  return summarizeMember(objects);
}

/**
 * One member as the snapshot shows it: identity, health and location from its ClusterProfile,
 * capacity from the last measurement (none yet: zero), and why it cannot be read, if it cannot.
 */
export function clusterOf(p: ClusterProfileObject, measured: Measured | undefined, problem: string | undefined): Cluster {
  const health = condition(p, 'ControlPlaneHealthy');
  const healthy = health === undefined ? true : health.status === 'True';
  const fromProfile = profileLocation(p);
  const region = fromProfile.region ?? measured?.region;
  const zone = fromProfile.zone ?? measured?.zone;
  const version = p.status?.version?.kubernetes;
  const message = problem ?? (healthy ? undefined : health?.message || health?.reason || 'ControlPlaneHealthy is not True');
  return {
    name: p.metadata.name,
    labels: p.metadata.labels ?? {},
    location: { ...(region !== undefined ? { region } : {}), ...(zone !== undefined ? { zone } : {}) },
    healthy,
    ...(problem !== undefined ? { reachable: false } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(version ? { version } : {}),
    profileNamespace: p.metadata.namespace,
    taints: [],
    allocatable: measured?.allocatable ?? { cpu: 0, memory: 0, pods: 0 },
    allocated: measured?.allocated ?? { cpu: 0, memory: 0, pods: 0 },
    devices: measured?.devices ?? [],
    // Nodes known: fit is counted per node. Never measured: no room at all.
    nodeGroups: measured?.nodeGroups ?? [],
  };
}

/** A member read from its agent's report, by the report's own heartbeat (one pass has no other clock). */
function fromReport(p: ClusterProfileObject, o: ClusterReportObject, now: number, maxAgeMs: number): { cluster: Cluster; status: MemberStatus } {
  const { name, namespace } = p.metadata;
  const read = readReport(o);
  const problem = reportProblem(read, read.ok ? now - Date.parse(read.value.agent.heartbeatTime) : 0, maxAgeMs);
  return {
    cluster: clusterOf(p, problem === undefined && read.ok ? read.value.summary : undefined, problem),
    status: { name, namespace, reachable: problem === undefined, read: 'agent', ...(problem !== undefined ? { message: problem } : {}) },
  };
}

async function readProfile(hub: ApiClient, p: ClusterProfileObject, opts: ReadOptions): Promise<{ cluster: Cluster; status: MemberStatus }> {
  const { name, namespace } = p.metadata;
  const unreachable = (message: string, via?: string) => ({
    cluster: clusterOf(p, undefined, message),
    status: { name, namespace, reachable: false, read: 'direct' as const, message, ...(via !== undefined ? { via } : {}) },
  });
  const key = `${namespace}/${name}`;
  let access = opts.accessCache?.get(key);
  if (access === undefined || (access.expires !== undefined && access.expires - Date.now() < 30_000)) {
    const resolved = await resolveAccess(p, opts.providers, hub);
    if (!resolved.ok) {
      opts.accessCache?.delete(key);
      return unreachable(resolved.error);
    }
    access = resolved.value;
    opts.accessCache?.set(key, access);
  }
  let objects: MemberObjects;
  try {
    objects = await readMember(new ApiClient(access.kc));
  } catch (e) {
    // Credentials may have been revoked: ask again next time.
    opts.accessCache?.delete(key);
    return unreachable((e as Error).message, access.via);
  }
  return { cluster: clusterOf(p, measure(objects), undefined), status: { name, namespace, reachable: true, read: 'direct', via: access.via } };
}

/** Equal content, equal number: the generation moves only when something relevant changed. */
export function generationOf(clusters: readonly Cluster[]): number {
  const sorted = [...clusters].sort((a, b) => compareNames(a.name, b.name));
  const digest = createHash('sha256').update(JSON.stringify(sorted)).digest();
  return digest.readUInt32BE(0);
}
