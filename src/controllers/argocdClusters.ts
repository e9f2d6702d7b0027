// Argo CD's cluster Secrets, kept in step with the ClusterProfiles. Argo CD knows a cluster by a
// Secret labelled `argocd.argoproj.io/secret-type: cluster` in its namespace, whose `name` is
// what a ClusterDecision's entries match; Orrery keeps one for every ClusterProfile, named and
// labelled after it, with the server and the credential the profile's access gives: the
// provider file's exec plugin (Argo CD runs it, as Orrery does) or the kubeconfig Secret's
// token or client certificate. Orrery writes and deletes only Secrets it made; one for a
// profile that is gone is deleted only while the inventory is whole.

import type { KubeConfig } from '@kubernetes/client-node';
import { type Result, fail, ok } from '../core/result.js';
import { type ClusterProfileObject, type ExecConfig, type ProfileCluster, type ProviderFile, chosenProvider, kubeconfigSecret } from '../fleet/access.js';
import type { ApiClient } from '../fleet/client.js';
import { FIELD_MANAGER, GROUP, MANAGED_BY, labelValue, objectName } from '../names.js';
import { type LiveObject, madeByOrrery } from './ownership.js';

export const SECRET_TYPE_LABEL = 'argocd.argoproj.io/secret-type';
/** Marks the Secret Orrery keeps for a ClusterProfile: the profile's namespace and name. */
export const PROFILE_LABEL = `${GROUP}/cluster-profile`;
export const PROFILE_NAMESPACE_LABEL = `${GROUP}/cluster-profile-namespace`;

/** How Argo CD reaches a cluster: the `config` of its cluster Secret. */
export interface ArgoClusterConfig {
  readonly bearerToken?: string;
  readonly execProviderConfig?: {
    readonly command: string;
    readonly args?: readonly string[];
    readonly env?: Readonly<Record<string, string>>;
    readonly apiVersion: string;
  };
  readonly tlsClientConfig: {
    readonly caData?: string;
    readonly certData?: string;
    readonly keyData?: string;
    readonly serverName?: string;
    readonly insecure?: boolean;
  };
}

export interface ArgoCluster {
  readonly server: string;
  readonly config: ArgoClusterConfig;
}

/** The Secret's name: `cluster-<profile>`, cut and marked with a hash past 253 characters. */
export function clusterSecretName(profile: string): string {
  return objectName(`cluster-${profile}`);
}

/** Argo CD's reach into a member through an exec plugin of the provider file: Argo CD runs it itself. */
export function fromProvider(cluster: ProfileCluster, exec: ExecConfig): Result<ArgoCluster, string> {
  if (cluster.server === undefined || cluster.server === '') return fail('its access provider gives no server');
  return ok({
    server: cluster.server,
    config: {
      execProviderConfig: execFor(exec),
      tlsClientConfig: tls(cluster['certificate-authority-data'], cluster['tls-server-name'], cluster['insecure-skip-tls-verify']),
    },
  });
}

/** An exec credential plugin as Argo CD's execProviderConfig takes it (env as a map). */
function execFor(exec: ExecConfig): NonNullable<ArgoClusterConfig['execProviderConfig']> {
  return {
    command: exec.command,
    ...(exec.args !== undefined && exec.args.length > 0 ? { args: exec.args } : {}),
    ...(exec.env !== undefined && exec.env.length > 0 ? { env: Object.fromEntries(exec.env.map((e) => [e.name, e.value])) } : {}),
    apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1',
  };
}

function tls(caData: string | undefined, serverName: string | undefined, insecure: boolean | undefined): ArgoClusterConfig['tlsClientConfig'] {
  return {
    ...(caData !== undefined && caData !== '' ? { caData } : {}),
    ...(serverName !== undefined && serverName !== '' ? { serverName } : {}),
    ...(insecure === true ? { insecure: true } : {}),
  };
}

/** Argo CD's reach into a member from a kubeconfig: its server, CA and token, client certificate or exec plugin. */
export function fromKubeconfig(kc: KubeConfig): Result<ArgoCluster, string> {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (cluster === null || cluster.server === '') return fail('its kubeconfig names no server');
  if (user === null) return fail('its kubeconfig names no user');
  if (cluster.caFile !== undefined || user.certFile !== undefined || user.keyFile !== undefined) return fail('its kubeconfig refers to files, which Argo CD cannot read: give the data inline');
  const base = tls(cluster.caData, cluster.tlsServerName, cluster.skipTLSVerify);
  if (user.exec !== undefined && user.exec !== null) {
    return ok({ server: cluster.server, config: { execProviderConfig: execFor(user.exec as ExecConfig), tlsClientConfig: base } });
  }
  if (user.token !== undefined && user.token !== '') return ok({ server: cluster.server, config: { bearerToken: user.token, tlsClientConfig: base } });
  if (user.certData !== undefined && user.keyData !== undefined) {
    return ok({ server: cluster.server, config: { tlsClientConfig: { ...base, certData: user.certData, keyData: user.keyData } } });
  }
  return fail('its kubeconfig has no token, client certificate or exec plugin that Argo CD could use');
}

export interface SecretObject {
  readonly apiVersion: 'v1';
  readonly kind: 'Secret';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  readonly type: 'Opaque';
  readonly data: Readonly<Record<'name' | 'server' | 'config', string>>;
}

/** The cluster Secret for a profile: the profile's labels for ApplicationSets to select on, and Orrery's marks. */
export function clusterSecretFor(profile: ClusterProfileObject, reach: ArgoCluster, namespace: string): SecretObject {
  const { name, namespace: ns } = profile.metadata;
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: clusterSecretName(name),
      namespace,
      labels: {
        ...(profile.metadata.labels ?? {}),
        [SECRET_TYPE_LABEL]: 'cluster',
        [MANAGED_BY]: FIELD_MANAGER,
        [PROFILE_LABEL]: labelValue(name),
        [PROFILE_NAMESPACE_LABEL]: ns,
      },
    },
    type: 'Opaque',
    data: { name: b64(name), server: b64(reach.server), config: b64(JSON.stringify(reach.config)) },
  };
}

type LiveSecret = LiveObject & { readonly data?: Readonly<Record<string, string>> };

/** Whether a Secret is the one Orrery keeps for the profile of that name. */
function ours(s: LiveSecret, profile: string): boolean {
  return madeByOrrery(s) && s.metadata.labels?.[PROFILE_LABEL] === labelValue(profile);
}

/** Whether a Secret already says what Orrery would write: its labels exactly, its data. */
function says(live: LiveSecret, want: SecretObject): boolean {
  const a = live.metadata.labels ?? {};
  const b = want.metadata.labels;
  const sameLabels = Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
  return sameLabels && Object.entries(want.data).every(([k, v]) => live.data?.[k] === v) && Object.keys(live.data ?? {}).length === 3;
}

/** The cluster name an Argo CD cluster Secret declares. */
function declaredName(s: LiveSecret): string | undefined {
  const v = s.data?.name;
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
}

/** What one pass found and did, profile by profile. */
export interface SyncReport {
  readonly written: string[];
  readonly deleted: string[];
  /** profile name → why its Secret could not be kept */
  readonly problems: Map<string, string>;
}

/** One pass over the profiles: every Secret as it should be, those of profiles gone removed while `whole`. */
export async function syncClusterSecrets(hub: ApiClient, namespace: string, profiles: readonly ClusterProfileObject[], providers: ProviderFile | undefined, whole: boolean): Promise<SyncReport> {
  const path = `/api/v1/namespaces/${namespace}/secrets`;
  const listed = await hub.list<LiveSecret>(`${path}?labelSelector=${encodeURIComponent(`${SECRET_TYPE_LABEL}=cluster`)}`);
  const byName = new Map(listed.items.map((s) => [s.metadata.name, s]));
  const report: SyncReport = { written: [], deleted: [], problems: new Map() };
  const kept = new Set<string>();
  for (const profile of profiles) {
    const name = profile.metadata.name;
    const secretName = clusterSecretName(name);
    kept.add(secretName);
    const chosen = chosenProvider(profile, providers);
    let reach: Result<ArgoCluster, string>;
    if (chosen !== undefined) reach = fromProvider(chosen.cluster, chosen.provider.execConfig);
    else {
      const access = await kubeconfigSecret(profile, hub);
      reach = access.ok ? fromKubeconfig(access.value.kc) : access;
    }
    if (!reach.ok) {
      report.problems.set(name, reach.error);
      continue;
    }
    const want = clusterSecretFor(profile, reach.value, namespace);
    // Argo CD keeps one cluster a name: another Secret declaring it stands in the way
    const other = listed.items.find((s) => s.metadata.name !== secretName && declaredName(s) === name && !ours(s, name));
    if (other !== undefined) {
      report.problems.set(name, `Argo CD already has a cluster named ${name}: Secret ${namespace}/${other.metadata.name}, not made by Orrery`);
      continue;
    }
    const live = byName.get(secretName) ?? (await hub.getIfThere<LiveSecret>(`${path}/${secretName}`));
    if (live !== undefined && !ours(live, name)) {
      report.problems.set(name, `Secret ${namespace}/${secretName} exists, not made by Orrery for this ClusterProfile`);
      continue;
    }
    if (live !== undefined && says(live, want)) continue;
    // a new one without force, so that one made meanwhile is refused, not merged
    await hub.apply(`${path}/${secretName}`, want, FIELD_MANAGER, live !== undefined);
    report.written.push(secretName);
  }
  if (!whole) return report;
  for (const s of listed.items) {
    const profile = s.metadata.labels?.[PROFILE_LABEL];
    if (kept.has(s.metadata.name) || profile === undefined || !madeByOrrery(s)) continue;
    await hub.deleteIfThere(`${path}/${s.metadata.name}`, s.metadata.uid);
    report.deleted.push(s.metadata.name);
  }
  return report;
}

export interface ClusterSecretsOptions {
  /** Argo CD's namespace */
  readonly namespace: string;
  readonly providers?: ProviderFile;
  /** whether this instance may write (it leads) */
  readonly writes?: () => boolean;
  readonly intervalMs?: number;
  readonly report?: (source: string, problem: string | undefined) => void;
  readonly log?: (message: string) => void;
}

/** What the Secrets follow: the fleet's profiles and whether the inventory is whole. */
export interface Inventory {
  clusterProfiles(): ClusterProfileObject[];
  snapshot(): { readonly complete: boolean } | undefined;
  on(event: 'snapshot', listener: () => void): unknown;
}

/** Keeps Argo CD's cluster Secrets in step with the inventory: on every change of the fleet and on an interval. */
export class ClusterSecrets {
  private timer: NodeJS.Timeout | undefined;
  private interval: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = false;
  /** profiles whose Secret could not be kept, as last said */
  private said = new Set<string>();

  constructor(
    private readonly hub: ApiClient,
    private readonly inventory: Inventory,
    private readonly opts: ClusterSecretsOptions,
  ) {}

  start(): void {
    this.inventory.on('snapshot', () => this.soon());
    this.interval = setInterval(() => this.soon(), this.opts.intervalMs ?? 60_000);
    this.soon();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.interval) clearInterval(this.interval);
  }

  /** A pass soon, one at a time; asked while one runs, another follows. */
  soon(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pass();
    }, 200);
  }

  /** Resolves once no pass runs or waits. */
  async idle(): Promise<void> {
    while (this.running || this.timer !== undefined) await new Promise((r) => setTimeout(r, 20));
  }

  private async pass(): Promise<void> {
    const snapshot = this.inventory.snapshot();
    if (snapshot === undefined || !(this.opts.writes?.() ?? true)) return;
    this.running = true;
    const source = `Argo CD cluster Secrets in ${this.opts.namespace}`;
    try {
      const r = await syncClusterSecrets(this.hub, this.opts.namespace, this.inventory.clusterProfiles(), this.opts.providers, snapshot.complete);
      for (const name of r.written) this.opts.log?.(`wrote the Argo CD cluster Secret ${this.opts.namespace}/${name}`);
      for (const name of r.deleted) this.opts.log?.(`deleted the Argo CD cluster Secret ${this.opts.namespace}/${name}: its ClusterProfile is gone`);
      for (const [profile, why] of r.problems) this.opts.report?.(`Argo CD cluster ${profile}`, why);
      for (const profile of this.said) if (!r.problems.has(profile)) this.opts.report?.(`Argo CD cluster ${profile}`, undefined);
      this.said = new Set(r.problems.keys());
      this.opts.report?.(source, undefined);
    } catch (e) {
      this.opts.report?.(source, (e as Error).message);
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.soon();
      }
    }
  }
}
