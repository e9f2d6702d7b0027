// The one snapshot type and the one decision type that flow through Orrery.
//
// Capacity is held in integers: milli-CPU, bytes of memory, pod and device counts.
// `allocated` is what the cluster's other workloads use: replicas of the Placements being
// scheduled are not part of it, so scheduling twice on the same snapshot gives the same answer.

export const API_VERSION = 'placement.orrery.dev/v1alpha1';

export interface Resources {
  /** milli-CPU */
  readonly cpu: number;
  /** bytes */
  readonly memory: number;
  readonly pods: number;
  /** extended resources that device plugins publish in Node allocatable, e.g. nvidia.com/gpu: 8 */
  readonly extended?: Readonly<Record<string, number>>;
}

/** A device attribute as a DRA driver publishes it. */
export type DeviceAttribute = string | number | boolean;

/**
 * Devices alike: they match `deviceClassName` and every class in `alsoMatches`, and carry the
 * same attributes. Entries are disjoint: a device is in one entry however many classes match it.
 */
export interface DeviceInventory {
  readonly deviceClassName: string;
  readonly total: number;
  readonly allocated: number;
  /** other device classes these same devices match */
  readonly alsoMatches?: readonly string[];
  /** the DRA driver that publishes them, and their attributes by qualified name (domain/name), for CEL selectors */
  readonly driver?: string;
  readonly attributes?: Readonly<Record<string, DeviceAttribute>>;
}

/**
 * `count` nodes with the same room: per node, what Pods may use and what others use, and the
 * devices published for that node. Node groups keep a member of thousands of nodes small.
 */
export interface NodeGroup {
  readonly count: number;
  readonly allocatable: Resources;
  readonly allocated: Resources;
  readonly devices: readonly DeviceInventory[];
}

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: TaintEffect;
}

export interface Location {
  readonly region?: string;
  readonly zone?: string;
}

export interface Cluster {
  /** The ClusterProfile name. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly location: Location;
  readonly healthy: boolean;
  /**
   * False when the member could not be read: its capacity is unknown, so nothing new goes
   * there, but it is still part of the fleet and what runs there stays. Default true.
   */
  readonly reachable?: boolean;
  /**
   * Keep what runs here, place nothing new: a cluster that cannot be read for a while but is
   * not yet given up on. Its replicas stay in the decision and nothing moves them away.
   */
  readonly hold?: boolean;
  /** Why the cluster is unhealthy or unreachable, when known. */
  readonly message?: string;
  /** The Kubernetes version the inventory reports, e.g. v1.34.4. */
  readonly version?: string;
  /** The namespace of the cluster's ClusterProfile on the hub, when read from one. */
  readonly profileNamespace?: string;
  readonly taints: readonly Taint[];
  /** the sums over its nodes */
  readonly allocatable: Resources;
  readonly allocated: Resources;
  /** every device of the cluster; those no node group lists are a pool every node can use */
  readonly devices: readonly DeviceInventory[];
  /**
   * The nodes that take Pods, grouped by identical room. Absent: the cluster is one node of its
   * whole size. Fit is counted per node.
   */
  readonly nodeGroups?: readonly NodeGroup[];
}

/** The classes a device entry's devices match. */
export function classesOf(d: DeviceInventory): readonly string[] {
  return [d.deviceClassName, ...(d.alsoMatches ?? [])];
}

/**
 * Devices by class: each device counted under every class it matches, its own and those it also
 * matches, as the solver sees it. The one count of "devices of a class" for every report.
 */
export function devicesByClass(devices: readonly DeviceInventory[]): Map<string, { total: number; allocated: number }> {
  const out = new Map<string, { total: number; allocated: number }>();
  for (const d of devices) {
    for (const cls of classesOf(d)) {
      const s = out.get(cls) ?? { total: 0, allocated: 0 };
      s.total += d.total;
      s.allocated += d.allocated;
      out.set(cls, s);
    }
  }
  return out;
}

/** Devices alike have one key: their classes, driver and attributes. */
export function deviceKindKey(d: DeviceInventory): string {
  const classes = [...classesOf(d)].sort(compareNames);
  const attributes = Object.entries(d.attributes ?? {}).sort((a, b) => compareNames(a[0], b[0]));
  return JSON.stringify([classes, d.driver ?? '', attributes]);
}

/**
 * Whether a cluster may take new replicas at all: its control plane is healthy and Orrery can
 * read it. What it has free counts for nothing otherwise.
 */
export function takesReplicas(c: Cluster): boolean {
  return c.healthy && c.reachable !== false;
}

/** Whether a cluster has any devices of a class, or any of an extended resource, free or not. */
export function offers(c: Cluster, name: string): boolean {
  return c.devices.some((d) => d.total > 0 && classesOf(d).includes(name)) || (c.allocatable.extended?.[name] ?? 0) > 0;
}

export interface FleetSnapshot {
  readonly clusters: readonly Cluster[];
  readonly byName: ReadonlyMap<string, Cluster>;
  /** Changes whenever anything that matters to scheduling changes. */
  readonly generation: number;
  /**
   * Whether the inventory was listed whole: false while the hub cannot be listed or a cluster
   * it listed before is missing from its latest list. Nothing is removed from members then.
   */
  readonly complete: boolean;
}

export function makeSnapshot(clusters: readonly Cluster[], generation = 0, complete = true): FleetSnapshot {
  const sorted = [...clusters].sort((a, b) => compareNames(a.name, b.name));
  return { clusters: sorted, byName: new Map(sorted.map((c) => [c.name, c])), generation, complete };
}

/** Code-point order, so ordering never depends on the locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- Placement (placement.orrery.dev/v1alpha1), as applied to the hub ----

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: TaintEffect;
}

/**
 * Accelerators per replica: DRA devices of a DeviceClass (optionally narrowed by CEL selectors,
 * as a ResourceClaim's device request), or an extended resource a device plugin publishes.
 */
export interface AcceleratorRequest {
  readonly deviceClassName?: string;
  /** CEL expressions over `device`, e.g. device.attributes["gpu.nvidia.com"].productName == "H100" */
  readonly selectors?: readonly string[];
  readonly resourceName?: string;
  /** devices per replica */
  readonly count: number;
}

export interface RegionPreference {
  readonly region: string;
  /** 1..100 */
  readonly weight: number;
}

export interface Locality {
  readonly requiredRegions?: readonly string[];
  readonly preferred?: readonly RegionPreference[];
}

export type TopologyKey = 'region' | 'zone' | 'cluster';

export interface Spread {
  readonly minClusters?: number;
  readonly maxClusters?: number;
  readonly maxSkew?: number;
  /** region, zone, cluster, or a ClusterProfile label key; default region */
  readonly topologyKey?: string;
}

export type Strategy = 'Spread' | 'Pack';

/** What Orrery does with an object of the same name in a member that it did not make. */
export type TakeOver = 'Never' | 'IfNoDiff' | 'Always';
/** Who carries a decision out in the members: Orrery itself, or another tool reading it (Argo CD). */
export type Delivery = 'Orrery' | 'External';
export type PreemptionPolicy = 'PreemptLowerPriority' | 'Never';

export interface ResourceList {
  readonly cpu?: string | number;
  readonly memory?: string | number;
  readonly [name: string]: string | number | undefined;
}

export interface Container {
  readonly name: string;
  readonly image?: string;
  readonly resources?: { readonly requests?: ResourceList; readonly limits?: ResourceList };
  readonly [field: string]: unknown;
}

export interface PodSpec {
  readonly containers: readonly Container[];
  readonly initContainers?: readonly (Container & { readonly restartPolicy?: string })[];
  readonly overhead?: ResourceList;
  readonly [field: string]: unknown;
}

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly creationTimestamp?: string;
  readonly [field: string]: unknown;
}

/** A Deployment's metadata and spec, without replicas. */
export interface WorkloadTemplate {
  readonly metadata?: ObjectMeta;
  readonly spec: {
    readonly selector?: LabelSelector;
    readonly template: { readonly metadata?: ObjectMeta; readonly spec: PodSpec };
    readonly [field: string]: unknown;
  };
}

export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  readonly targetPort?: number | string;
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface PlacementSpec {
  readonly replicas: number;
  readonly template: WorkloadTemplate;
  readonly accelerators?: readonly AcceleratorRequest[];
  readonly clusterSelector?: LabelSelector;
  readonly tolerations?: readonly Toleration[];
  readonly locality?: Locality;
  readonly spread?: Spread;
  readonly strategy?: Strategy;
  /** All replicas or none. */
  readonly gang?: boolean;
  readonly priority?: number;
  readonly service?: { readonly ports: readonly ServicePort[]; readonly export?: boolean };
  /** Never (the default): a same-named object someone else made in a member is a conflict. */
  readonly takeOver?: TakeOver;
  /** Orrery (the default) applies the workload in members; External leaves that to another tool (Argo CD). */
  readonly delivery?: Delivery;
  /** PreemptLowerPriority (the default): short of room, it may take room from placements of lower priority. */
  readonly preemptionPolicy?: PreemptionPolicy;
  /** How many of its replicas preemption may take at once: a count, or a percent of its replicas ("25%"). */
  readonly disruption?: { readonly maxUnavailable?: number | string };
}

export interface Placement {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: 'Placement';
  readonly metadata: ObjectMeta & { readonly name: string; readonly namespace: string };
  readonly spec: PlacementSpec;
  readonly status?: unknown;
}

export function placementKey(p: Placement): string {
  return `${p.metadata.namespace}/${p.metadata.name}`;
}

/**
 * Whether a placement is the one a decision was made for: the same object, or the same object
 * read again — its uid and generation, which the API server moves with every change of spec.
 * A copy made to try another spec must drop its generation (see withSpec).
 */
export function samePlacement(a: Placement | undefined, b: Placement): boolean {
  if (a === undefined) return false;
  if (a === b) return true;
  const [x, y] = [a.metadata, b.metadata];
  return x.uid !== undefined && x.uid === y.uid && x.generation !== undefined && x.generation === y.generation;
}

/** Whether Orrery applies the placement's workload in members (else another tool does, reading the decision). */
export function deliveredByOrrery(p: Placement): boolean {
  return p.spec.delivery !== 'External';
}

/** A placement with another spec, as a new version of it: no longer the one its decision was made for. */
export function withSpec(p: Placement, spec: Placement['spec']): Placement {
  const { generation: _read, ...metadata } = p.metadata;
  return { ...p, metadata, spec };
}

// ---- Decision ----

export interface ClusterAssignment {
  readonly name: string;
  readonly replicas: number;
}

/**
 * Scheduled: every replica has a cluster. PartiallyScheduled: some do. Unschedulable: none do
 * (for a gang placement, anything short of all). Reasons follow Kubernetes condition style.
 */
/** Preempted: replicas were taken for a placement of higher priority, and not all found room elsewhere. */
export type DecisionReason = 'Scheduled' | 'PartiallyScheduled' | 'Unschedulable' | 'Preempted';

/** Replicas of one placement taken in one cluster for a placement of higher priority. */
export interface Preemption {
  /** the placement that took the room (namespace/name) */
  readonly preemptor: string;
  /** the placement whose replicas were taken */
  readonly victim: string;
  readonly cluster: string;
  readonly replicas: number;
}

export interface Decision {
  /** namespace/name */
  readonly placement: string;
  /** sorted by cluster name; clusters with zero replicas are left out */
  readonly clusters: readonly ClusterAssignment[];
  readonly unscheduledReplicas: number;
  readonly reason: DecisionReason;
  /** Why replicas are unscheduled, as a histogram of filter and capacity reasons. */
  readonly message: string;
  /** the preemptions the step that made this decision took, where this placement took room or lost it */
  readonly preemptions?: readonly Preemption[];
}

/** Whether two decisions say the same: the same replicas in the same clusters, for the same reason. */
export function sameDecision(a: Decision, b: Decision): boolean {
  if (a === b) return true;
  if (a.placement !== b.placement || a.reason !== b.reason || a.unscheduledReplicas !== b.unscheduledReplicas || a.message !== b.message || a.clusters.length !== b.clusters.length) return false;
  return a.clusters.every((c, i) => c.name === b.clusters[i]?.name && c.replicas === b.clusters[i]?.replicas);
}

/**
 * The floors, the simple schedulers every answer is weighed against: greedy (each placement on its
 * best-scored clusters, as other multi-cluster schedulers place), best-fit (on the clusters it
 * fits most tightly, as a bin packer does), and two that see every node group of the fleet:
 * node-best-fit (each replica on the node it leaves tightest) and least-fragmentation (each
 * replica where it fragments the free devices least).
 */
export const FLOORS = ['greedy', 'best-fit', 'node-best-fit', 'least-fragmentation'] as const;
export type Floor = (typeof FLOORS)[number];

export function isFloor(name: string): name is Floor {
  return (FLOORS as readonly string[]).includes(name);
}

export interface SolveStats {
  readonly solveMs: number;
  /**
   * the answer that won: optimal (exact integer programs), steered (by the relaxation), on-nodes
   * (every placement raised together on the nodes), or a floor
   */
  readonly solver: 'optimal' | 'steered' | 'on-nodes' | Floor;
  readonly placements: number;
  readonly clusters: number;
  /** replicas placed, each weighted by its placement's priority + 1 */
  readonly weightedPlaced: number;
  /** the placed replicas' dominant shares of the fleet's free capacity, summed over every priority */
  readonly value: number;
  readonly placedReplicas: number;
  readonly unscheduledReplicas: number;
  /** mean preference (0..100) of the clusters that placed replicas landed on */
  readonly meanScore: number;
  /** replicas of placements that existed in the previous decision and changed cluster */
  readonly moves: number;
  /** replicas of lower-priority placements taken for higher ones */
  readonly preempted: number;
  readonly lpSolves: number;
  readonly lpMs: number;
  /** relaxations and integer programs each LP library solved */
  readonly lpLibraries: { readonly 'javascript-lp-solver': number; readonly highs: number };
}

export interface ScheduleResult {
  readonly decisions: readonly Decision[];
  readonly stats: SolveStats;
}
