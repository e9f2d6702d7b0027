// Carries a decision out in the members: a Deployment with the cluster's replicas (and a
// Service and ServiceExport when the placement asks), applied server-side under Orrery's own
// field manager; removes what a member no longer should run. It removes only from members it
// can reach: an unreachable member keeps what it runs.

import { createHash } from 'node:crypto';
import type { Placement, PodSpec } from '../core/model.js';
import { placementKey } from '../core/model.js';
import { ApiError, type ApiClient } from '../fleet/client.js';
import { PLACEMENT_LABEL } from '../fleet/measure.js';
import { draVersion } from '../fleet/reader.js';
import { selectorOf } from './status.js';

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const FIELD_MANAGER = 'orrery';

/** A label value for a placement key: namespace.name, or a digest when that is too long. */
export function placementLabel(key: string): string {
  const v = key.replace('/', '.');
  return v.length <= 63 ? v : `h-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

function labels(p: Placement): Record<string, string> {
  return { [MANAGED_BY]: 'orrery', [PLACEMENT_LABEL]: placementLabel(placementKey(p)) };
}

/** The claim each Pod of the workload gets for its DRA devices. */
export const DEVICE_CLAIM = 'orrery-devices';

function draRequests(p: Placement) {
  return (p.spec.accelerators ?? []).filter((a) => a.deviceClassName !== undefined);
}

/**
 * The Pod template with its accelerators: DRA devices through a claim from the placement's
 * ResourceClaimTemplate, which every container may use; device-plugin resources as requests
 * and limits (they must be equal) of the first container.
 */
function podSpecWithAccelerators(p: Placement): PodSpec {
  const spec = p.spec.template.spec.template.spec;
  const dra = draRequests(p).length > 0;
  const extended = (p.spec.accelerators ?? []).filter((a) => a.resourceName !== undefined);
  if (!dra && extended.length === 0) return spec;
  const containers = spec.containers.map((c, i) => {
    const requests = { ...(c.resources?.requests ?? {}) };
    const limits = { ...(c.resources?.limits ?? {}) };
    if (i === 0) {
      for (const a of extended) {
        requests[a.resourceName as string] = String(a.count);
        limits[a.resourceName as string] = String(a.count);
      }
    }
    const claims = [...(((c.resources as { claims?: { name: string }[] } | undefined)?.claims) ?? []), ...(dra ? [{ name: DEVICE_CLAIM }] : [])];
    return {
      ...c,
      resources: {
        ...c.resources,
        ...(Object.keys(requests).length > 0 ? { requests } : {}),
        ...(Object.keys(limits).length > 0 ? { limits } : {}),
        ...(claims.length > 0 ? { claims } : {}),
      },
    };
  });
  const resourceClaims = [...((spec.resourceClaims as { name: string }[] | undefined) ?? []), ...(dra ? [{ name: DEVICE_CLAIM, resourceClaimTemplateName: p.metadata.name }] : [])];
  return { ...spec, containers, ...(resourceClaims.length > 0 ? { resourceClaims } : {}) };
}

export function deploymentFor(p: Placement, replicas: number): object {
  const t = p.spec.template;
  const podMeta = t.spec.template.metadata ?? {};
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: p.metadata.name,
      namespace: p.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}), ...labels(p) },
      ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
    },
    spec: {
      ...t.spec,
      replicas,
      template: { ...t.spec.template, metadata: { ...podMeta, labels: { ...(podMeta.labels ?? {}), ...labels(p) } }, spec: podSpecWithAccelerators(p) },
    },
  };
}

/**
 * The ResourceClaimTemplate a placement's Pods claim their DRA devices from, in the member's
 * resource.k8s.io version (v1 and v1beta2 put a request's class under `exactly`). Its claims
 * carry the placement's labels, so the fleet reader knows them for Orrery's own.
 */
export function claimTemplateFor(p: Placement, groupVersion: string): object | undefined {
  const requests = draRequests(p);
  if (requests.length === 0) return undefined;
  const flat = groupVersion.endsWith('/v1beta1');
  return {
    apiVersion: groupVersion,
    kind: 'ResourceClaimTemplate',
    metadata: { name: p.metadata.name, namespace: p.metadata.namespace, labels: labels(p) },
    spec: {
      metadata: { labels: labels(p) },
      spec: {
        devices: {
          requests: requests.map((a, i) => {
            const exactly = {
              deviceClassName: a.deviceClassName,
              allocationMode: 'ExactCount',
              count: a.count,
              ...(a.selectors !== undefined && a.selectors.length > 0 ? { selectors: a.selectors.map((expression) => ({ cel: { expression } })) } : {}),
            };
            return flat ? { name: `req-${i}`, ...exactly } : { name: `req-${i}`, exactly };
          }),
        },
      },
    },
  };
}

export function serviceFor(p: Placement): object | undefined {
  const svc = p.spec.service;
  if (svc === undefined) return undefined;
  const selector = Object.fromEntries(selectorOf(p).split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: p.metadata.name, namespace: p.metadata.namespace, labels: labels(p) },
    spec: {
      selector,
      ports: svc.ports.map((port, i) => ({
        // several ports must be named; one may be
        ...(port.name !== undefined ? { name: port.name } : svc.ports.length > 1 ? { name: `port-${i}` } : {}),
        port: port.port,
        ...(port.targetPort !== undefined ? { targetPort: port.targetPort } : {}),
        protocol: port.protocol ?? 'TCP',
      })),
    },
  };
}

/** The Deployment as the member answered the apply: what the watch is later compared with. */
export interface Applied {
  readonly readyReplicas: number;
  readonly uid?: string;
  readonly generation?: number;
}

const SERVICE_EXPORT_VERSIONS = ['multicluster.x-k8s.io/v1beta1', 'multicluster.x-k8s.io/v1alpha1'];

export class Deployer {
  private readonly namespaces = new Map<string, Set<string>>();
  private readonly exportVersion = new Map<string, string | null>();
  private readonly resourceVersion = new Map<string, string | null>();

  /** Applies one placement's workload to one member; answers with its ready replicas. */
  async apply(member: string, client: ApiClient, p: Placement, replicas: number): Promise<Applied> {
    const ns = p.metadata.namespace;
    const known = this.namespaces.get(member) ?? new Set();
    if (!known.has(ns)) {
      await client.apply(`/api/v1/namespaces/${ns}`, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, FIELD_MANAGER);
      known.add(ns);
      this.namespaces.set(member, known);
    }
    if (draRequests(p).length > 0) {
      // The template before the Deployment: its Pods claim from it as soon as they exist.
      const version = await this.draVersion(member, client);
      if (version === null) throw new Error('the member does not serve resource.k8s.io: it cannot allocate DRA devices');
      await client.apply(`/apis/${version}/namespaces/${ns}/resourceclaimtemplates/${p.metadata.name}`, claimTemplateFor(p, version), FIELD_MANAGER);
    }
    const d = await client.apply<{ metadata?: { uid?: string; generation?: number }; status?: { readyReplicas?: number } }>(`/apis/apps/v1/namespaces/${ns}/deployments/${p.metadata.name}`, deploymentFor(p, replicas), FIELD_MANAGER);
    const svc = serviceFor(p);
    if (svc !== undefined) {
      await client.apply(`/api/v1/namespaces/${ns}/services/${p.metadata.name}`, svc, FIELD_MANAGER);
      if (p.spec.service?.export === true) {
        const version = await this.serviceExportVersion(member, client);
        if (version === null) throw new Error('the member does not serve ServiceExport (multicluster.x-k8s.io)');
        await client.apply(
          `/apis/${version}/namespaces/${ns}/serviceexports/${p.metadata.name}`,
          { apiVersion: version, kind: 'ServiceExport', metadata: { name: p.metadata.name, namespace: ns, labels: labels(p) } },
          FIELD_MANAGER,
        );
      }
    }
    return {
      readyReplicas: d.status?.readyReplicas ?? 0,
      ...(d.metadata?.uid !== undefined ? { uid: d.metadata.uid } : {}),
      ...(d.metadata?.generation !== undefined ? { generation: d.metadata.generation } : {}),
    };
  }

  private async draVersion(member: string, client: ApiClient): Promise<string | null> {
    if (!this.resourceVersion.has(member)) this.resourceVersion.set(member, (await draVersion(client)) ?? null);
    return this.resourceVersion.get(member) ?? null;
  }

  private async serviceExportVersion(member: string, client: ApiClient): Promise<string | null> {
    if (!this.exportVersion.has(member)) {
      let found: string | null = null;
      for (const v of SERVICE_EXPORT_VERSIONS) {
        if (await client.serves(v)) {
          found = v;
          break;
        }
      }
      this.exportVersion.set(member, found);
    }
    return this.exportVersion.get(member) ?? null;
  }

  /**
   * Deletes, in one reachable member, every object Orrery made there whose placement label
   * `keep` refuses. `keep` is asked after each list, so that what was wanted meanwhile stays.
   * Returns the placement labels it removed.
   */
  async prune(member: string, client: ApiClient, keep: (label: string) => boolean): Promise<string[]> {
    const selector = encodeURIComponent(`${MANAGED_BY}=orrery`);
    const removed = new Set<string>();
    const kinds: [string, string][] = [
      ['/apis/apps/v1/deployments', '/apis/apps/v1/namespaces/%ns/deployments/%name'],
      ['/api/v1/services', '/api/v1/namespaces/%ns/services/%name'],
    ];
    const version = await this.serviceExportVersion(member, client);
    if (version !== null) kinds.push([`/apis/${version}/serviceexports`, `/apis/${version}/namespaces/%ns/serviceexports/%name`]);
    const dra = await this.draVersion(member, client);
    if (dra !== null) kinds.push([`/apis/${dra}/resourceclaimtemplates`, `/apis/${dra}/namespaces/%ns/resourceclaimtemplates/%name`]);
    for (const [list, item] of kinds) {
      const objects = await client.list<{ metadata: { name: string; namespace: string; labels?: Record<string, string> } }>(`${list}?labelSelector=${selector}`);
      for (const o of objects.items) {
        const owner = o.metadata.labels?.[PLACEMENT_LABEL];
        if (owner === undefined || keep(owner)) continue;
        try {
          await client.delete(item.replace('%ns', o.metadata.namespace).replace('%name', o.metadata.name));
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 404)) throw e;
        }
        removed.add(owner);
      }
    }
    return [...removed];
  }
}
