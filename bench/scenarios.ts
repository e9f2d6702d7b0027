// Seeded fleets and placements for the benchmarks: the same seed gives the same scenario.
//
// Workloads come in a limited set of shapes (t-shirt sizes, whole accelerators), as they do
// in real fleets; that is also what lets the solver aggregate look-alike placements.

import { API_VERSION, type Cluster, type FleetSnapshot, type Placement, type Toleration, makeSnapshot } from '../src/core/model.js';

const GI = 2 ** 30;

export type Variant = 'balanced' | 'scarce-accelerator' | 'region-skewed' | 'fragmented' | 'contended' | 'multi-size' | 'gpu-trace';

export interface ScenarioSpec {
  readonly name: string;
  readonly clusters: number;
  readonly placements: number;
  readonly variant: Variant;
  readonly seed: number;
}

export interface Scenario {
  readonly spec: ScenarioSpec;
  readonly snapshot: FleetSnapshot;
  readonly placements: readonly Placement[];
}

/** mulberry32: small, fast, and the same on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GEOS: Record<string, readonly string[]> = {
  us: ['us-east1', 'us-west1', 'us-central1'],
  europe: ['europe-west4', 'europe-west1', 'europe-north1'],
  asia: ['asia-east1', 'asia-northeast1'],
};
const REGIONS = Object.values(GEOS).flat();
const DEVICE_CLASSES = ['gpu.nvidia.com', 'gpu.amd.com', 'tpu.google.com'];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function weighted<T>(r: () => number, xs: readonly (readonly [T, number])[]): T {
  const total = xs.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of xs) {
    x -= w;
    if (x < 0) return v;
  }
  return (xs[xs.length - 1] as readonly [T, number])[0];
}

function regionFor(r: () => number, variant: Variant): string {
  // Region-skewed fleets put most clusters in a few US regions.
  if (variant === 'region-skewed')
    return weighted(
      r,
      REGIONS.map((x, i) => [x, i < 2 ? 8 : 1] as const),
    );
  return pick(r, REGIONS);
}

/** A cluster's allocatable and allocated room: its node groups' summed. */
function summedRoom(groups: readonly { count: number; allocatable: { cpu: number; memory: number; pods: number }; allocated: { cpu: number; memory: number; pods: number } }[]) {
  const sum = (side: 'allocatable' | 'allocated', k: 'cpu' | 'memory' | 'pods') => groups.reduce((t, g) => t + g.count * g[side][k], 0);
  return {
    allocatable: { cpu: sum('allocatable', 'cpu'), memory: sum('allocatable', 'memory'), pods: sum('allocatable', 'pods') },
    allocated: { cpu: sum('allocated', 'cpu'), memory: sum('allocated', 'memory'), pods: sum('allocated', 'pods') },
  };
}

/** Node shapes of a fragmented fleet: CPU, memory (GiB) and GPUs per node. */
const NODE_SHAPES = [
  { cpu: 4, mem: 16, gpus: 0 },
  { cpu: 8, mem: 32, gpus: 0 },
  { cpu: 16, mem: 64, gpus: 0 },
  { cpu: 32, mem: 128, gpus: 0 },
  { cpu: 64, mem: 256, gpus: 0 },
  { cpu: 48, mem: 384, gpus: 4 },
  { cpu: 96, mem: 768, gpus: 8 },
] as const;

/** A cluster of 20 node groups of mixed sizes, each used to its own degree; GPUs on some nodes. */
function makeFragmentedCluster(r: () => number, i: number): Cluster {
  const region = regionFor(r, 'fragmented');
  const zone = `${region}-${pick(r, ['a', 'b', 'c'])}`;
  const accel = r() < 0.3;
  const cls = pick(r, DEVICE_CLASSES);
  const nodeGroups = Array.from({ length: 20 }, () => {
    const shape = pick(r, accel ? NODE_SHAPES : NODE_SHAPES.filter((x) => x.gpus === 0));
    const used = r() * 0.8;
    const count = 1 + Math.floor(r() * 6);
    return {
      count,
      allocatable: { cpu: shape.cpu * 1000, memory: shape.mem * GI, pods: 110 },
      allocated: { cpu: Math.floor(shape.cpu * used) * 1000, memory: Math.floor(shape.mem * used) * GI, pods: Math.floor(110 * used) },
      devices: shape.gpus > 0 ? [{ deviceClassName: cls, total: shape.gpus, allocated: Math.floor(shape.gpus * used) }] : [],
    };
  });
  const sum = (f: (g: (typeof nodeGroups)[number]) => number) => nodeGroups.reduce((t, g) => t + g.count * f(g), 0);
  const total = sum((g) => g.devices[0]?.total ?? 0);
  return {
    name: `nodes-${region}-${String(i).padStart(4, '0')}`,
    labels: { environment: r() < 0.8 ? 'production' : 'staging', provider: pick(r, ['gke', 'eks', 'aks', 'onprem']) },
    location: { region, zone },
    healthy: r() >= 0.02,
    taints: [],
    ...summedRoom(nodeGroups),
    devices: total > 0 ? [{ deviceClassName: cls, total, allocated: sum((g) => g.devices[0]?.allocated ?? 0) }] : [],
    nodeGroups,
  };
}

/**
 * GPU nodes as a public GPU cluster trace has them (1,523 nodes, 6,212 GPUs: about four a node),
 * partly in use, so that whole free nodes are what multi-GPU replicas compete for.
 */
const GPU_NODES = [
  { cpu: 96, mem: 768, gpus: 8, weight: 4 },
  { cpu: 48, mem: 384, gpus: 4, weight: 3 },
  { cpu: 24, mem: 192, gpus: 2, weight: 2 },
  { cpu: 12, mem: 96, gpus: 1, weight: 1 },
] as const;

function makeGpuCluster(r: () => number, i: number): Cluster {
  const region = regionFor(r, 'multi-size');
  const zone = `${region}-${pick(r, ['a', 'b', 'c'])}`;
  const nodeGroups = Array.from({ length: 2 + Math.floor(r() * 4) }, () => {
    const shape = weighted(
      r,
      GPU_NODES.map((x) => [x, x.weight] as const),
    );
    // Half the nodes idle, the rest with some of their GPUs taken.
    const usedGpus = r() < 0.5 ? 0 : Math.floor(r() * shape.gpus);
    const used = usedGpus / shape.gpus;
    return {
      count: 1 + Math.floor(r() * 5),
      allocatable: { cpu: shape.cpu * 1000, memory: shape.mem * GI, pods: 110 },
      allocated: { cpu: Math.floor(shape.cpu * used) * 1000, memory: Math.floor(shape.mem * used) * GI, pods: usedGpus },
      devices: [{ deviceClassName: DEVICE_CLASSES[0]!, total: shape.gpus, allocated: usedGpus }],
    };
  });
  const sum = (f: (g: (typeof nodeGroups)[number]) => number) => nodeGroups.reduce((t, g) => t + g.count * f(g), 0);
  return {
    name: `gpu-${region}-${String(i).padStart(4, '0')}`,
    labels: { environment: 'production', provider: pick(r, ['gke', 'eks', 'aks', 'onprem']) },
    location: { region, zone },
    healthy: r() >= 0.02,
    taints: [],
    ...summedRoom(nodeGroups),
    devices: [{ deviceClassName: DEVICE_CLASSES[0]!, total: sum((g) => g.devices[0]!.total), allocated: sum((g) => g.devices[0]!.allocated) }],
    nodeGroups,
  };
}

/**
 * Nodes shaped like a public GPU cluster trace's: 8-GPU hosts of two models, 4-GPU hosts, 1 and
 * 2-GPU hosts of a small model, CPU-only hosts beside them. Each GPU is a DRA device of its
 * model's class that also matches the class of any GPU.
 */
const ANY_GPU = 'gpu.nvidia.com';
const TRACE_NODES = [
  { model: 'a100.nvidia.com', gpus: 8, cpu: 96, mem: 1024, weight: 3 },
  { model: 'v100.nvidia.com', gpus: 8, cpu: 96, mem: 512, weight: 4 },
  { model: 'v100.nvidia.com', gpus: 4, cpu: 48, mem: 256, weight: 2 },
  { model: 't4.nvidia.com', gpus: 2, cpu: 32, mem: 128, weight: 2 },
  { model: 't4.nvidia.com', gpus: 1, cpu: 16, mem: 64, weight: 2 },
  { model: '', gpus: 0, cpu: 64, mem: 256, weight: 3 },
  { model: '', gpus: 0, cpu: 96, mem: 384, weight: 2 },
] as const;
const TRACE_MODELS = ['a100.nvidia.com', 'v100.nvidia.com', 't4.nvidia.com'] as const;

function makeTraceCluster(r: () => number, i: number): Cluster {
  const region = regionFor(r, 'gpu-trace');
  const zone = `${region}-${pick(r, ['a', 'b', 'c'])}`;
  const nodeGroups = Array.from({ length: 8 }, () => {
    const shape = weighted(
      r,
      TRACE_NODES.map((x) => [x, x.weight] as const),
    );
    // Four nodes in ten idle; the others with part of their room taken.
    const used = r() < 0.4 ? 0 : r() * 0.9;
    const usedGpus = Math.floor(shape.gpus * used);
    return {
      count: 1 + Math.floor(r() * 4),
      allocatable: { cpu: shape.cpu * 1000, memory: shape.mem * GI, pods: 110 },
      allocated: { cpu: Math.floor(shape.cpu * used) * 1000, memory: Math.floor(shape.mem * used) * GI, pods: Math.floor(20 * used) },
      devices: shape.gpus > 0 ? [{ deviceClassName: shape.model, alsoMatches: [ANY_GPU], total: shape.gpus, allocated: usedGpus }] : [],
    };
  });
  const sum = (f: (g: (typeof nodeGroups)[number]) => number) => nodeGroups.reduce((t, g) => t + g.count * f(g), 0);
  const devices = TRACE_MODELS.map((model) => {
    const of = (g: (typeof nodeGroups)[number], k: 'total' | 'allocated') => (g.devices[0]?.deviceClassName === model ? g.devices[0][k] : 0);
    return { deviceClassName: model, alsoMatches: [ANY_GPU], total: sum((g) => of(g, 'total')), allocated: sum((g) => of(g, 'allocated')) };
  }).filter((d) => d.total > 0);
  return {
    name: `trace-${region}-${String(i).padStart(4, '0')}`,
    labels: { environment: r() < 0.8 ? 'production' : 'staging', provider: pick(r, ['gke', 'eks', 'aks', 'onprem']) },
    location: { region, zone },
    healthy: r() >= 0.02,
    taints: [],
    ...summedRoom(nodeGroups),
    devices,
    nodeGroups,
  };
}

function makeCluster(r: () => number, i: number, variant: Variant): Cluster {
  if (variant === 'fragmented') return makeFragmentedCluster(r, i);
  if (variant === 'gpu-trace') return makeTraceCluster(r, i);
  if (variant === 'multi-size') return makeGpuCluster(r, i);
  const region = regionFor(r, variant);
  const zone = `${region}-${pick(r, ['a', 'b', 'c'])}`;
  // In the scarce variant the accelerator clusters are also the largest CPU pools, the
  // layout in which placing each workload where it fits most strands the accelerators.
  const bigGpu = variant === 'scarce-accelerator' || variant === 'contended';
  const accel = r() < (bigGpu ? 0.3 : 0.25);
  const kind = accel
    ? 'gpu'
    : weighted(r, [
        ['small', 3],
        ['large', 2],
      ] as const);
  const size = {
    small: { cpu: 64, mem: 256, pods: 500 },
    large: { cpu: 192, mem: 768, pods: 1500 },
    gpu: bigGpu ? { cpu: 384, mem: 1536, pods: 2000 } : { cpu: 128, mem: 1024, pods: 1000 },
  }[kind];
  const used = 0.1 + r() * 0.4;
  const devices = [];
  if (accel) {
    const cls = weighted(r, [
      [DEVICE_CLASSES[0]!, 6],
      [DEVICE_CLASSES[1]!, 2],
      [DEVICE_CLASSES[2]!, 2],
    ] as const);
    const total = pick(r, [8, 16, 32, 64]);
    devices.push({ deviceClassName: cls, total, allocated: Math.floor(total * used * (variant === 'scarce-accelerator' ? 1.2 : 1)) });
  }
  const taints = [];
  const t = r();
  if (t < 0.05) taints.push({ key: 'maintenance', value: 'true', effect: 'NoSchedule' as const });
  else if (t < 0.1) taints.push({ key: 'spot', effect: 'PreferNoSchedule' as const });
  return {
    name: `${kind}-${region}-${String(i).padStart(4, '0')}`,
    labels: { environment: r() < 0.8 ? 'production' : 'staging', provider: pick(r, ['gke', 'eks', 'aks', 'onprem']) },
    location: { region, zone },
    healthy: r() >= 0.02,
    taints,
    allocatable: { cpu: size.cpu * 1000, memory: size.mem * GI, pods: size.pods },
    allocated: { cpu: Math.floor(size.cpu * used) * 1000, memory: Math.floor(size.mem * used) * GI, pods: Math.floor(size.pods * used) },
    devices,
  };
}

const CPU_SHAPES = [
  { cpu: '500m', memory: '1Gi' },
  { cpu: '1', memory: '2Gi' },
  { cpu: '2', memory: '8Gi' },
  { cpu: '4', memory: '16Gi' },
] as const;

const WIDE_SHAPES = [
  { cpu: '6', memory: '24Gi' },
  { cpu: '12', memory: '48Gi' },
] as const;

/** Equal priority, one device class, replicas of 1, 2, 4 and 8 GPUs in equal numbers. */
function makeGpuPlacement(r: () => number, i: number): Placement {
  const count = [1, 2, 4, 8][i % 4] as number;
  const name = `train-${String(i).padStart(5, '0')}`;
  const spec: Record<string, unknown> = {
    replicas: 1 + Math.floor(r() * 6),
    accelerators: [{ deviceClassName: DEVICE_CLASSES[0]!, count }],
  };
  if (r() < 0.2) spec.gang = true;
  if (r() < 0.3) spec.strategy = 'Pack';
  if (r() < 0.2) spec.locality = { preferred: [{ region: pick(r, REGIONS), weight: 60 }] };
  return placementOf(name, `team-${i % 20}`, spec, String(6 * count), `${32 * count}Gi`);
}

/**
 * Work as the trace has it, at three priorities: GPU replicas of 1, 2, 4 and 8 GPUs (most of one),
 * of one model or of any, and CPU-only replicas that could also take the GPU hosts' CPU.
 */
function makeTracePlacement(r: () => number, i: number): Placement {
  const name = `job-${String(i).padStart(5, '0')}`;
  const spec: Record<string, unknown> = {
    priority: weighted(r, [
      [0, 6],
      [100, 3],
      [1000, 1],
    ] as const),
  };
  if (r() < 0.3) spec.strategy = 'Pack';
  if (r() < 0.2) spec.locality = { preferred: [{ region: pick(r, REGIONS), weight: 60 }] };
  if (r() < 0.7) {
    const count = weighted(r, [
      [1, 5],
      [2, 2],
      [4, 1.5],
      [8, 1.5],
    ] as const);
    const cls = r() < 0.5 ? ANY_GPU : pick(r, TRACE_MODELS);
    spec.replicas = 1 + Math.floor(r() * 4);
    spec.accelerators = [{ deviceClassName: cls, count }];
    if (r() < 0.1) spec.gang = true;
    const perGpu = pick(r, [4, 8]);
    return placementOf(name, `team-${i % 20}`, spec, String(perGpu * count), `${32 * count}Gi`);
  }
  const shape = pick(r, CPU_SHAPES);
  spec.replicas = 1 + Math.floor(r() * 10);
  if (r() < 0.1) spec.spread = { maxClusters: pick(r, [1, 2, 3]) };
  return placementOf(name, `team-${i % 20}`, spec, shape.cpu, shape.memory);
}

/**
 * Contended: the GPU clusters hold most of the CPU, CPU-only work asks more CPU than the
 * CPU-only clusters have, and every placement has the same priority.
 */
function makeContendedPlacement(r: () => number, i: number): Placement {
  const gpu = r() < 0.25;
  const name = `app-${String(i).padStart(5, '0')}`;
  const spec: Record<string, unknown> = { replicas: 1 + Math.floor(r() * (gpu ? 4 : 20)) };
  if (gpu)
    spec.accelerators = [
      {
        deviceClassName: weighted(r, [
          [DEVICE_CLASSES[0]!, 6],
          [DEVICE_CLASSES[1]!, 2],
          [DEVICE_CLASSES[2]!, 2],
        ] as const),
        count: 1,
      },
    ];
  if (r() < 0.3) spec.strategy = 'Pack';
  if (r() < 0.3) spec.locality = { preferred: [{ region: pick(r, REGIONS), weight: 60 }] };
  const shape = gpu ? { cpu: '8', memory: '32Gi' } : pick(r, CPU_SHAPES.slice(1));
  return placementOf(name, `team-${i % 20}`, spec, shape.cpu, shape.memory);
}

function placementOf(name: string, namespace: string, spec: Record<string, unknown>, cpu: string, memory: string): Placement {
  return {
    apiVersion: API_VERSION,
    kind: 'Placement',
    metadata: { name, namespace },
    spec: {
      ...(spec as Omit<Placement['spec'], 'template'>),
      template: {
        spec: {
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: 'main', image: 'registry.example.com/app:1', resources: { requests: { cpu, memory } } }] },
          },
        },
      },
    },
  };
}

function makePlacement(r: () => number, i: number, variant: Variant): Placement {
  if (variant === 'multi-size') return makeGpuPlacement(r, i);
  if (variant === 'gpu-trace') return makeTracePlacement(r, i);
  if (variant === 'contended') return makeContendedPlacement(r, i);
  const accelShare = variant === 'scarce-accelerator' ? 0.35 : 0.25;
  const accel = r() < accelShare;
  const name = `app-${String(i).padStart(5, '0')}`;
  const namespace = `team-${i % 20}`;
  let cpu: string;
  let memory: string;
  let replicas: number;
  let accelerators: Placement['spec']['accelerators'];
  if (accel) {
    const count = pick(r, [1, 2, 4, 8]);
    const cls = weighted(r, [
      [DEVICE_CLASSES[0]!, 6],
      [DEVICE_CLASSES[1]!, 2],
      [DEVICE_CLASSES[2]!, 2],
    ] as const);
    accelerators = [{ deviceClassName: cls, count }];
    // Scarce fleets model hosts where each accelerator comes with a large slice of the CPU.
    cpu = String((variant === 'scarce-accelerator' ? 10 : 4) * count);
    memory = `${32 * count}Gi`;
    replicas = 1 + Math.floor(r() * 4);
  } else {
    // Fragmented fleets also see replicas too wide for their smaller nodes.
    const shape = variant === 'fragmented' && r() < 0.3 ? pick(r, WIDE_SHAPES) : pick(r, CPU_SHAPES);
    cpu = shape.cpu;
    memory = shape.memory;
    replicas = 1 + Math.floor(r() * 20);
  }
  const spec: Record<string, unknown> = { replicas };
  if (accelerators) spec.accelerators = accelerators;
  if (accel && r() < 0.35) spec.gang = true;
  const sp = r();
  if (sp < 0.1) spec.spread = { minClusters: 2, maxSkew: 1, topologyKey: 'region' };
  else if (sp < 0.2) spec.spread = { maxClusters: pick(r, [1, 2, 3]) };
  else if (sp < 0.25) spec.spread = { minClusters: 2, maxClusters: 4, maxSkew: 2, topologyKey: 'zone' };
  if (r() < 0.3) spec.strategy = 'Pack';
  if (r() < 0.3) {
    const geo = pick(r, Object.keys(GEOS));
    spec.locality = { preferred: (GEOS[geo] as string[]).slice(0, 2).map((region, k) => ({ region, weight: k === 0 ? 80 : 40 })) };
  } else if (r() < 0.1) {
    spec.locality = { requiredRegions: [...(GEOS[pick(r, ['us', 'europe'])] as string[])] };
  }
  if (r() < 0.3) spec.clusterSelector = { matchLabels: { environment: 'production' } };
  if (r() < 0.1) spec.tolerations = [{ key: 'maintenance', operator: 'Exists' } satisfies Toleration];
  if (r() < 0.1) spec.priority = 100;
  return placementOf(name, namespace, spec, cpu, memory);
}

/** What CPU-only work asks of the free CPU, and accelerator work of the free devices. */
const DEMAND: Record<Variant, readonly [number, number]> = {
  balanced: [0.75, 0.8],
  'region-skewed': [0.75, 0.8],
  fragmented: [0.75, 0.8],
  'scarce-accelerator': [0.7, 1.3],
  // More CPU than the CPU-only clusters have, half the devices: the GPUs' CPU is contended.
  contended: [0.9, 0.5],
  'multi-size': [0, 2],
  // Twice the free GPUs asked, as on a busy GPU fleet; CPU-only work asks 60 % of the free CPU.
  'gpu-trace': [0.6, 2],
};

/** Replicas are scaled so that demand is the same share of free capacity at every fleet size. */
export function generate(spec: ScenarioSpec): Scenario {
  const r = rng(spec.seed);
  const clusters = Array.from({ length: spec.clusters }, (_, i) => makeCluster(r, i, spec.variant));
  const base = Array.from({ length: spec.placements }, (_, i) => makePlacement(r, i, spec.variant));
  const usable = clusters.filter((c) => c.healthy);
  const freeCpu = usable.reduce((s, c) => s + c.allocatable.cpu - c.allocated.cpu, 0);
  const freeDevices = usable.reduce((s, c) => s + c.devices.reduce((t, d) => t + d.total - d.allocated, 0), 0);
  let cpuDemand = 0;
  let deviceDemand = 0;
  for (const p of base) {
    const devices = (p.spec.accelerators ?? []).reduce((t, a) => t + a.count, 0);
    if (devices > 0) deviceDemand += devices * p.spec.replicas;
    else cpuDemand += cpuOf(p) * p.spec.replicas;
  }
  const [cpuShare, deviceShare] = DEMAND[spec.variant];
  const cpuFactor = (cpuShare * freeCpu) / Math.max(1, cpuDemand);
  const deviceFactor = (deviceShare * freeDevices) / Math.max(1, deviceDemand);
  const placements = base.map((p) => {
    const factor = (p.spec.accelerators ?? []).length > 0 ? deviceFactor : cpuFactor;
    return { ...p, spec: { ...p.spec, replicas: Math.max(1, Math.round(p.spec.replicas * factor)) } };
  });
  return { spec, snapshot: makeSnapshot(clusters), placements };
}

function cpuOf(p: Placement): number {
  const cpu = String(p.spec.template.spec.template.spec.containers[0]?.resources?.requests?.cpu ?? '0');
  return cpu.endsWith('m') ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000;
}

export const SCENARIOS: readonly ScenarioSpec[] = [
  { name: 'small', clusters: 10, placements: 100, variant: 'balanced', seed: 1 },
  { name: 'medium', clusters: 100, placements: 1000, variant: 'balanced', seed: 2 },
  { name: 'medium-scarce', clusters: 100, placements: 1000, variant: 'scarce-accelerator', seed: 3 },
  { name: 'medium-skewed', clusters: 100, placements: 1000, variant: 'region-skewed', seed: 4 },
  { name: 'large', clusters: 1000, placements: 10000, variant: 'balanced', seed: 5 },
  { name: 'large-scarce', clusters: 1000, placements: 10000, variant: 'scarce-accelerator', seed: 6 },
  { name: 'xlarge-skewed', clusters: 2000, placements: 10000, variant: 'region-skewed', seed: 7 },
  { name: 'medium-contended', clusters: 100, placements: 1000, variant: 'contended', seed: 10 },
  { name: 'large-contended', clusters: 1000, placements: 10000, variant: 'contended', seed: 11 },
  { name: 'medium-multi-size', clusters: 100, placements: 1000, variant: 'multi-size', seed: 12 },
  { name: 'large-multi-size', clusters: 1000, placements: 10000, variant: 'multi-size', seed: 13 },
  { name: 'medium-fragmented', clusters: 100, placements: 1000, variant: 'fragmented', seed: 8 },
  { name: 'large-fragmented', clusters: 1000, placements: 10000, variant: 'fragmented', seed: 9 },
  { name: 'medium-gpu-trace', clusters: 100, placements: 1000, variant: 'gpu-trace', seed: 14 },
  { name: 'large-gpu-trace', clusters: 1000, placements: 10000, variant: 'gpu-trace', seed: 15 },
];
