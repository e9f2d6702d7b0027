// What kubelets and device drivers would do in a member cluster, done by hand: Nodes with
// capacity and a Ready condition, Pods marked ready, DRA devices published and claimed.

import { type Endpoint, call, eventually, mergePatch } from './kube.js';

export interface NodeSpec {
  readonly name: string;
  readonly cpu: string;
  readonly memory: string;
  readonly pods?: number;
  readonly region?: string;
  readonly zone?: string;
  readonly labels?: Record<string, string>;
  readonly taints?: { key: string; value?: string; effect: string }[];
}

/** A Node the scheduler can bind Pods to: allocatable capacity, Ready, untainted. */
export async function createNode(ep: Endpoint, n: NodeSpec): Promise<void> {
  const labels: Record<string, string> = { 'kubernetes.io/hostname': n.name, ...n.labels };
  if (n.region !== undefined) labels['topology.kubernetes.io/region'] = n.region;
  if (n.zone !== undefined) labels['topology.kubernetes.io/zone'] = n.zone;
  await call(ep, 'POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels } });
  const resources = { cpu: n.cpu, memory: n.memory, pods: String(n.pods ?? 110) };
  const now = new Date().toISOString();
  await mergePatch(ep, `/api/v1/nodes/${n.name}/status`, {
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test fleet', lastHeartbeatTime: now, lastTransitionTime: now }],
    },
  });
  // Admission taints a new Node not-ready; a kubelet would clear it once Ready.
  await eventually(`node ${n.name} untainted`, async () => {
    const node = await call<{ spec: { taints?: { key: string }[] } }>(ep, 'GET', `/api/v1/nodes/${n.name}`);
    const rest = (node.spec.taints ?? []).filter((t) => !t.key.startsWith('node.kubernetes.io/'));
    await mergePatch(ep, `/api/v1/nodes/${n.name}`, { spec: { taints: [...rest, ...(n.taints ?? [])] } });
    const after = await call<{ spec: { taints?: { key: string }[] } }>(ep, 'GET', `/api/v1/nodes/${n.name}`);
    return (after.spec.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')) ? undefined : true;
  });
}

interface PodList {
  items: { metadata: { name: string }; spec: { nodeName?: string }; status: { phase?: string } }[];
}

/** Marks every bound Pod matching the selector Running and Ready, as a kubelet would. */
export async function markPodsReady(ep: Endpoint, namespace: string, selector: string): Promise<number> {
  const pods = await call<PodList>(ep, 'GET', `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`);
  const now = new Date().toISOString();
  let n = 0;
  for (const pod of pods.items) {
    if (pod.spec.nodeName === undefined) continue;
    await mergePatch(ep, `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}/status`, {
      status: {
        phase: 'Running',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Initialized', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: 'True', lastTransitionTime: now },
        ],
        startTime: now,
      },
    });
    n++;
  }
  return n;
}

export interface DeviceSpec {
  readonly driver: string;
  readonly pool: string;
  /** the node the devices are on; without one, every node may use them (allNodes) */
  readonly nodeName?: string;
  readonly devices: readonly string[];
  /** attributes every device carries, e.g. {model: {string: 'h100'}} */
  readonly attributes?: Record<string, unknown>;
  readonly generation?: number;
  readonly sliceCount?: number;
}

/** A DeviceClass that selects the devices of one driver, through a CEL selector. */
export async function createDeviceClass(ep: Endpoint, name: string, driver: string): Promise<void> {
  await call(ep, 'POST', '/apis/resource.k8s.io/v1/deviceclasses', {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'DeviceClass',
    metadata: { name },
    spec: { selectors: [{ cel: { expression: `device.driver == "${driver}"` } }] },
  });
}

/** A ResourceSlice publishing devices of one pool on one node, as a DRA driver would. */
export async function createResourceSlice(ep: Endpoint, name: string, d: DeviceSpec): Promise<void> {
  await call(ep, 'POST', '/apis/resource.k8s.io/v1/resourceslices', {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceSlice',
    metadata: { name },
    spec: {
      driver: d.driver,
      ...(d.nodeName !== undefined ? { nodeName: d.nodeName } : { allNodes: true }),
      pool: { name: d.pool, generation: d.generation ?? 1, resourceSliceCount: d.sliceCount ?? 1 },
      devices: d.devices.map((dev) => ({ name: dev, ...(d.attributes ? { attributes: d.attributes } : {}) })),
    },
  });
}

/** A ResourceClaim with an allocation, as the scheduler would leave it: these devices are taken. */
export async function createAllocatedClaim(ep: Endpoint, namespace: string, name: string, deviceClassName: string, taken: readonly { driver: string; pool: string; device: string }[]): Promise<void> {
  await call(ep, 'POST', `/apis/resource.k8s.io/v1/namespaces/${namespace}/resourceclaims`, {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceClaim',
    metadata: { name },
    spec: { devices: { requests: [{ name: 'req', exactly: { deviceClassName, count: taken.length } }] } },
  });
  await mergePatch(ep, `/apis/resource.k8s.io/v1/namespaces/${namespace}/resourceclaims/${name}/status`, {
    status: { allocation: { devices: { results: taken.map((t) => ({ request: 'req', driver: t.driver, pool: t.pool, device: t.device })) } } },
  });
}

/**
 * What a kubelet does for deleted Pods: confirms them gone. Without kubelets, a bound Pod that
 * is deleted stays Terminating and keeps its node's room. Returns a function that stops it.
 */
export function reapTerminatingPods(ep: Endpoint, everyMs = 250): () => void {
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      try {
        const pods = await call<{ items: { metadata: { name: string; namespace: string; deletionTimestamp?: string } }[] }>(ep, 'GET', '/api/v1/pods');
        for (const p of pods.items) {
          if (p.metadata.deletionTimestamp === undefined) continue;
          await call(ep, 'DELETE', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}?gracePeriodSeconds=0`).catch(() => undefined);
        }
      } catch {
        // the member may be down for a while: try again
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
  void loop();
  return () => {
    stopped = true;
  };
}
