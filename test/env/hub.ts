// Setting up a test hub: CRDs installed and established, members registered as ClusterProfiles
// reached through kubeconfig Secrets.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { KubeConfig } from '@kubernetes/client-node';
import type { FleetSnapshot } from '../../src/core/model.js';
import { ApiClient } from '../../src/fleet/client.js';
import { FleetWatcher, type WatcherOptions } from '../../src/fleet/watcher.js';
import type { ClusterHandle, ControlPlane, User } from './fleet.js';
import { type Endpoint, call, eventually, mergePatch } from './kube.js';

export async function installCrd(ep: Endpoint, file: string): Promise<void> {
  const crd = load(readFileSync(file, 'utf8')) as { metadata: { name: string } };
  await call(ep, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  await eventually(`${crd.metadata.name} established`, async () => {
    const got = await call<{ status?: { conditions?: { type: string; status: string }[] } }>(ep, 'GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
    return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
  });
}

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** What Orrery's controllers need of a hub: the Placement CRD and the Cluster Inventory CRDs (and any `more`, by path from the repository). */
export async function installHubCrds(hub: Endpoint, ...more: string[]): Promise<void> {
  for (const file of [
    'crds/placement.orrery.dev_placements.yaml',
    'deploy/cluster-inventory/multicluster.x-k8s.io_clusterprofiles.yaml',
    'deploy/cluster-inventory/multicluster.x-k8s.io_placementdecisions.yaml',
    ...more,
  ]) {
    await installCrd(hub, join(ROOT, file));
  }
}

/**
 * A member as a ClusterProfile in `namespace`, reached through a kubeconfig Secret of the same
 * name; with `healthy`, its ControlPlaneHealthy condition True, as a cluster manager reports it.
 */
export async function registerMember(hub: Endpoint, member: ControlPlane, namespace: string, labels: Record<string, string> = {}, opts: { healthy?: boolean } = {}): Promise<void> {
  await call(hub, 'POST', `/api/v1/namespaces/${namespace}/secrets`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: member.name },
    data: { config: Buffer.from(readFileSync(member.kubeconfig('admin'))).toString('base64') },
  });
  // a CRD that has just been established may take a moment to accept objects
  await eventually(`ClusterProfile ${member.name}`, () =>
    call(hub, 'POST', `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${namespace}/clusterprofiles`, {
      apiVersion: 'multicluster.x-k8s.io/v1alpha1',
      kind: 'ClusterProfile',
      metadata: { name: member.name, labels },
      spec: { clusterManager: { name: 'tests' } },
    }),
  );
  if (opts.healthy === true) {
    await mergePatch(hub, `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${namespace}/clusterprofiles/${member.name}/status`, {
      status: { conditions: [{ type: 'ControlPlaneHealthy', status: 'True', reason: 'Healthy', message: 'fine', lastTransitionTime: new Date().toISOString() }] },
    });
  }
}

/** An API client of a cluster of the test fleet, as one of its users. */
export function clientOf(c: ClusterHandle, user: User = 'admin'): ApiClient {
  const kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfig(user));
  return new ApiClient(kc);
}

/**
 * A fleet watcher on the hub, started and listed, once its snapshot is what the test needs
 * (`ready`: every member read, say): a first cycle on half the fleet would rightly keep replicas
 * where it put them.
 */
export async function watchFleet(hub: ApiClient, opts: WatcherOptions, ready: (s: FleetSnapshot) => boolean = () => true): Promise<FleetWatcher> {
  const watcher = new FleetWatcher(hub, opts);
  watcher.start();
  await watcher.ready;
  await eventually(
    'the fleet read as the test needs it',
    async () => {
      const s = watcher.snapshot();
      return s !== undefined && ready(s) ? true : undefined;
    },
    60_000,
    100,
  );
  return watcher;
}
