// Carries a decision out in the members: a Deployment with the cluster's replicas (and a
// Service and ServiceExport when the placement asks), applied server-side under Orrery's own
// field manager; removes what a member no longer should run. It removes only from members it
// can reach: an unreachable member keeps what it runs.

import type { Placement, PodSpec } from '../core/model.js';
import { type PodView, stuckPods } from '../core/grace.js';
import { placementKey } from '../core/model.js';
import { ApiError, type ApiClient } from '../fleet/client.js';

import { draVersion } from '../fleet/mirror.js';
import { type Claim, type LiveObject, claim, madeByOrrery, ownedBy } from './ownership.js';
import { selectorOf } from './status.js';
import { FIELD_MANAGER, MANAGED_BY, PLACEMENT_LABEL, labelValue } from '../names.js';

/** The field manager an API server records for what an object held before its first apply. */
const BEFORE_FIRST_APPLY = 'before-first-apply';

/** What the member answers of a write: what the Deployment's rollout is judged by. */
interface Written {
  readonly metadata?: { readonly uid?: string; readonly generation?: number };
  readonly status?: { readonly readyReplicas?: number };
}

/** The object at `path`, or undefined where there is none. */
/** A label value for a placement key: namespace.name, or a digest when that is too long. */
export function placementLabel(key: string): string {
  return labelValue(key.replace('/', '.'), key);
}

function labels(p: Placement): Record<string, string> {
  return { [MANAGED_BY]: FIELD_MANAGER, [PLACEMENT_LABEL]: placementLabel(placementKey(p)) };
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
    const claims = [...((c.resources as { claims?: { name: string }[] } | undefined)?.claims ?? []), ...(dra ? [{ name: DEVICE_CLAIM }] : [])];
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
  const selector = Object.fromEntries(
    selectorOf(p)
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('=') as [string, string]),
  );
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

/** Someone else's object where the placement would write one of the same name: nothing was written. */
export interface Conflict {
  /** the object's kind and name, e.g. "Deployment team-a/web" */
  readonly object: string;
  readonly message: string;
}

/** A placement's workload in one member: applied, or refused by ownership before any write. */
export type ApplyOutcome = { readonly ok: true; readonly applied: Applied } | { readonly ok: false; readonly conflicts: readonly Conflict[] };

/** One object Orrery writes for a placement in a member. */
interface Planned {
  readonly kind: string;
  readonly path: string;
  readonly body: { readonly metadata: { readonly name: string }; readonly spec?: unknown };
}

const SERVICE_EXPORT_VERSIONS = ['multicluster.x-k8s.io/v1beta1', 'multicluster.x-k8s.io/v1alpha1'];

export class Deployer {
  /** member → namespace → whether Orrery made it there (and keeps its Pod Security labels in step) */
  private readonly namespaces = new Map<string, Map<string, { made: boolean; podSecurity: string }>>();
  /** member → path → uid of an object known to be Orrery's: written with force, without asking first */
  private readonly own = new Map<string, Map<string, string>>();
  private readonly exportVersion = new Map<string, string | null>();
  private readonly resourceVersion = new Map<string, string | null>();

  /**
   * Applies one placement's workload to one member; answers with its ready replicas. Every
   * object is looked at before the first write: where one of them is someone else's and the
   * placement does not take it over, nothing is written and the conflicts are the answer.
   * `podSecurity`: the hub namespace's Pod Security labels, for a namespace Orrery creates.
   */
  async apply(member: string, client: ApiClient, p: Placement, replicas: number, podSecurity: Readonly<Record<string, string>> = {}): Promise<ApplyOutcome> {
    const planned = await this.plan(member, client, p, replicas);
    for (let attempt = 1; ; attempt++) {
      const { claims, conflicts } = await this.claims(member, client, p, planned);
      if (conflicts.length > 0) return { ok: false, conflicts };
      await this.ensureNamespace(member, client, p.metadata.namespace, podSecurity);
      try {
        return { ok: true, applied: await this.writeAll(member, client, planned, claims) };
      } catch (e) {
        // An object taken over changed since it was read (its controller wrote its status):
        // read again and decide again, a few times, rather than fail the placement there.
        const raced = e instanceof ApiError && e.status === 409 && claims.some((c) => c.kind === 'takeOver');
        if (!raced || attempt >= 3) throw e;
      }
    }
  }

  /** The planned objects written as their claims allow; answers with the Deployment as written. */
  private async writeAll(member: string, client: ApiClient, planned: readonly Planned[], claims: readonly Claim[]): Promise<Applied> {
    const own = this.own.get(member) ?? this.own.set(member, new Map()).get(member)!;
    let deployment: Applied = { readyReplicas: 0 };
    for (const [i, o] of planned.entries()) {
      const written = await this.write(member, client, o, claims[i] as Claim);
      if (written.metadata?.uid !== undefined) own.set(o.path, written.metadata.uid);
      if (o.kind !== 'Deployment') continue;
      deployment = {
        readyReplicas: written.status?.readyReplicas ?? 0,
        ...(written.metadata?.uid !== undefined ? { uid: written.metadata.uid } : {}),
        ...(written.metadata?.generation !== undefined ? { generation: written.metadata.generation } : {}),
      };
    }
    return deployment;
  }

  /** Someone else's objects where the placement would write, as the member has them now. */
  async conflicts(member: string, client: ApiClient, p: Placement): Promise<Conflict[]> {
    return (await this.claims(member, client, p, await this.plan(member, client, p, 0))).conflicts;
  }

  /** What may be done with each planned object: Orrery's own known from its writes, the rest looked at. */
  private async claims(member: string, client: ApiClient, p: Placement, planned: readonly Planned[]): Promise<{ claims: Claim[]; conflicts: Conflict[] }> {
    const label = placementLabel(placementKey(p));
    const own = this.own.get(member);
    const claims: Claim[] = [];
    const conflicts: Conflict[] = [];
    for (const o of planned) {
      const known = own?.get(o.path);
      const c = known !== undefined ? ({ kind: 'own', uid: known } as const) : claim(o.kind, await client.getIfThere<LiveObject>(o.path), o.body, label, p.spec.takeOver);
      if (c.kind === 'conflict') conflicts.push({ object: `${o.kind} ${p.metadata.namespace}/${o.body.metadata.name}`, message: c.message });
      claims.push(c);
    }
    return { claims, conflicts };
  }

  /**
   * One object written as its claim allows. A new one is created without force, so that one
   * someone made since it was looked at is refused, not overwritten; Orrery's own is written
   * with force and with its uid, so that one deleted and made again by someone else is refused.
   */
  private async write(member: string, client: ApiClient, o: Planned, c: Claim): Promise<Written> {
    const uid = c.kind === 'own' || c.kind === 'takeOver' ? c.uid : undefined;
    const body = uid === undefined ? o.body : { ...o.body, metadata: { ...o.body.metadata, uid } };
    try {
      // Taken over whole: replaced by what Orrery writes with every manager's claim cleared ([{}]
      // clears managedFields), then applied below.
      if (c.kind === 'takeOver') {
        await client.put(o.path, { ...body, metadata: { ...body.metadata, ...(c.resourceVersion !== undefined ? { resourceVersion: c.resourceVersion } : {}), managedFields: [{}] } });
      }
      const applied = await client.apply<Written & { metadata?: { managedFields?: { manager?: string }[] } }>(o.path, body, FIELD_MANAGER, c.kind !== 'create');
      // An apply onto an object without managers records one for what was there before it
      // ("before-first-apply"). That claim is dropped wherever it shows (a takeover, or a write
      // that followed one cut short), so that Orrery owns its fields alone and a field it stops
      // writing later is removed, not kept by a claim.
      const managers = applied.metadata?.managedFields ?? [];
      const kept = managers.filter((f) => f.manager !== BEFORE_FIRST_APPLY);
      if (kept.length === managers.length) return applied;
      return await client.mergePatch<Written>(o.path, { metadata: { managedFields: kept } });
    } catch (e) {
      // Not what was looked at: it is looked at again next time.
      if (e instanceof ApiError && (e.status === 409 || e.status === 422)) this.own.get(member)?.delete(o.path);
      throw e;
    }
  }

  /** What Orrery writes for a placement in a member, in the order written. */
  private async plan(member: string, client: ApiClient, p: Placement, replicas: number): Promise<Planned[]> {
    const ns = p.metadata.namespace;
    const name = p.metadata.name;
    const planned: Planned[] = [];
    if (draRequests(p).length > 0) {
      // The template before the Deployment: its Pods claim from it as soon as they exist.
      const version = await this.draVersion(member, client);
      if (version === null) throw new Error('the member does not serve resource.k8s.io: it cannot allocate DRA devices');
      planned.push({ kind: 'ResourceClaimTemplate', path: `/apis/${version}/namespaces/${ns}/resourceclaimtemplates/${name}`, body: claimTemplateFor(p, version) as Planned['body'] });
    }
    planned.push({ kind: 'Deployment', path: `/apis/apps/v1/namespaces/${ns}/deployments/${name}`, body: deploymentFor(p, replicas) as Planned['body'] });
    const svc = serviceFor(p);
    if (svc !== undefined) {
      planned.push({ kind: 'Service', path: `/api/v1/namespaces/${ns}/services/${name}`, body: svc as Planned['body'] });
      if (p.spec.service?.export === true) {
        const version = await this.serviceExportVersion(member, client);
        if (version === null) throw new Error('the member does not serve ServiceExport (multicluster.x-k8s.io)');
        planned.push({
          kind: 'ServiceExport',
          path: `/apis/${version}/namespaces/${ns}/serviceexports/${name}`,
          body: { apiVersion: version, kind: 'ServiceExport', metadata: { name, namespace: ns, labels: labels(p) } } as Planned['body'],
        });
      }
    }
    return planned;
  }

  /**
   * The placement's namespace in the member: created, with the hub namespace's Pod Security
   * labels, where it is missing; those labels kept in step on one Orrery made; one that someone
   * else made keeps its own. Orrery never deletes a namespace.
   */
  async ensureNamespace(member: string, client: ApiClient, ns: string, podSecurity: Readonly<Record<string, string>>): Promise<void> {
    const known = this.namespaces.get(member) ?? this.namespaces.set(member, new Map()).get(member)!;
    const want = JSON.stringify(Object.entries(podSecurity).sort());
    const seen = known.get(ns);
    if (seen !== undefined && (!seen.made || seen.podSecurity === want)) return;
    const path = `/api/v1/namespaces/${ns}`;
    const live = seen === undefined ? await client.getIfThere<LiveObject>(path) : undefined;
    if (live !== undefined && !madeByOrrery(live)) {
      known.set(ns, { made: false, podSecurity: '' });
      return;
    }
    await client.apply(
      path,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [MANAGED_BY]: FIELD_MANAGER, ...podSecurity } } },
      FIELD_MANAGER,
      live !== undefined || seen !== undefined,
    );
    known.set(ns, { made: true, podSecurity: want });
  }

  /** The namespaces Orrery made in a member, as far as this process has seen. */
  madeNamespaces(member: string): string[] {
    return [...(this.namespaces.get(member) ?? [])].filter(([, n]) => n.made).map(([ns]) => ns);
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
    const selector = encodeURIComponent(`${MANAGED_BY}=${FIELD_MANAGER}`);
    const removed = new Set<string>();
    const kinds: [string, string][] = [
      ['/apis/apps/v1/deployments', '/apis/apps/v1/namespaces/%ns/deployments/%name'],
      ['/api/v1/services', '/api/v1/namespaces/%ns/services/%name'],
    ];
    const version = await this.serviceExportVersion(member, client);
    if (version !== null) kinds.push([`/apis/${version}/serviceexports`, `/apis/${version}/namespaces/%ns/serviceexports/%name`]);
    const dra = await this.draVersion(member, client);
    if (dra !== null) kinds.push([`/apis/${dra}/resourceclaimtemplates`, `/apis/${dra}/namespaces/%ns/resourceclaimtemplates/%name`]);
    const own = this.own.get(member);
    for (const [list, item] of kinds) {
      const objects = await client.list<LiveObject & { metadata: { namespace: string } }>(`${list}?labelSelector=${selector}`);
      for (const o of objects.items) {
        const owner = o.metadata.labels?.[PLACEMENT_LABEL];
        // Only what Orrery made for a placement: a label copied onto someone else's object is not enough.
        if (owner === undefined || keep(owner) || !ownedBy(o, owner)) continue;
        const path = item.replace('%ns', o.metadata.namespace).replace('%name', o.metadata.name);
        // the very object listed: one made again since, by anyone, is not deleted
        await client.deleteIfThere(path, o.metadata.uid);
        own?.delete(path);
        removed.add(owner);
      }
    }
    return [...removed];
  }
}

/**
 * Per placement label of `labels`: how many of Orrery's Pods in the member have waited to be
 * bound past `graceMs`, the member's scheduler finding no room for them. Asked by the hub of the
 * members it writes to, and by an agent in pull mode of its own.
 */
export async function stuckIn(client: ApiClient, labels: ReadonlySet<string>, graceMs: number, now = Date.now()): Promise<Map<string, number>> {
  const selector = encodeURIComponent(`${MANAGED_BY}=${FIELD_MANAGER}`);
  const pods = await client.list<{
    metadata: { creationTimestamp?: string; labels?: Record<string, string> };
    spec: { nodeName?: string };
    status?: { conditions?: { type: string; status: string; reason?: string; lastTransitionTime?: string }[] };
  }>(`/api/v1/pods?labelSelector=${selector}&fieldSelector=spec.nodeName%3D`);
  const views = new Map<string, PodView[]>();
  for (const pod of pods.items) {
    const label = pod.metadata.labels?.[PLACEMENT_LABEL];
    if (label === undefined || !labels.has(label)) continue;
    const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
    (views.get(label) ?? views.set(label, []).get(label)!).push({
      ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      ...(pod.metadata.creationTimestamp ? { createdAt: pod.metadata.creationTimestamp } : {}),
      ...(c ? { scheduled: { status: c.status, ...(c.reason ? { reason: c.reason } : {}), ...(c.lastTransitionTime ? { since: c.lastTransitionTime } : {}) } } : {}),
    });
  }
  const out = new Map<string, number>();
  for (const [label, list] of views) {
    const n = stuckPods(list, now, graceMs);
    if (n > 0) out.set(label, n);
  }
  return out;
}

/** What is kept of a member's Deployment: what readiness and drift are judged by. */
export interface DeploymentView {
  readonly metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string; generation?: number };
  readonly spec: { replicas?: number };
  readonly status: { readyReplicas?: number };
}

export function deploymentView(o: DeploymentView): DeploymentView {
  const m = o.metadata;
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      ...(m.uid !== undefined ? { uid: m.uid } : {}),
      ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(m.generation !== undefined ? { generation: m.generation } : {}),
    },
    spec: o.spec?.replicas !== undefined ? { replicas: o.spec.replicas } : {},
    status: o.status?.readyReplicas !== undefined ? { readyReplicas: o.status.readyReplicas } : {},
  };
}
