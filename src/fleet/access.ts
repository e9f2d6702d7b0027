// How to reach a member cluster from its ClusterProfile, as the Cluster Inventory API lays it
// out: the server and CA from the first access provider that the provider file knows, the
// credential from that provider's exec plugin; without one, a kubeconfig Secret on the hub
// named after the profile. The client library runs exec plugins but does not hand them the
// cluster (KUBERNETES_EXEC_INFO), so Orrery runs them itself.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';

/**
 * The Kubernetes client library, loaded when a member's access is first resolved: a hub whose
 * members all pull never loads it (it is 80 MiB of memory).
 */
async function library(): Promise<typeof import('@kubernetes/client-node')> {
  return import('@kubernetes/client-node');
}
import { type Result, fail, ok } from '../core/result.js';
import { ApiError, type ApiClient } from './client.js';

export interface ExecConfig {
  readonly apiVersion?: string;
  readonly command: string;
  readonly args?: readonly string[];
  readonly env?: readonly { name: string; value: string }[];
  readonly provideClusterInfo?: boolean;
  readonly interactiveMode?: string;
}

export interface ProviderFile {
  readonly providers: readonly { readonly name: string; readonly execConfig: ExecConfig }[];
}

export async function loadProviderFile(file: string): Promise<Result<ProviderFile, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    return fail(`${file}: ${(e as Error).message}`);
  }
  const providers = (parsed as { providers?: unknown }).providers;
  if (!Array.isArray(providers)) return fail(`${file}: expected {"providers": [...]}`);
  for (const [i, p] of providers.entries()) {
    const q = p as { name?: unknown; execConfig?: { command?: unknown } };
    if (typeof q.name !== 'string' || q.name === '') return fail(`${file}: providers[${i}].name: expected a name`);
    if (typeof q.execConfig?.command !== 'string') return fail(`${file}: providers[${i}].execConfig.command: expected a command`);
  }
  return ok(parsed as ProviderFile);
}

/** A kubeconfig cluster entry as ClusterProfiles carry it (kebab-case keys). */
export interface ProfileCluster {
  readonly server?: string;
  readonly 'certificate-authority-data'?: string;
  readonly 'tls-server-name'?: string;
  readonly 'insecure-skip-tls-verify'?: boolean;
  readonly extensions?: readonly { name: string; extension: unknown }[];
}

export interface ClusterProfileObject {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels?: Readonly<Record<string, string>> };
  readonly status?: {
    readonly conditions?: readonly { type: string; status: string; reason?: string; message?: string }[];
    readonly version?: { readonly kubernetes?: string };
    readonly properties?: readonly { name: string; value: string }[];
    readonly accessProviders?: readonly { name: string; cluster?: ProfileCluster }[];
    readonly credentialProviders?: readonly { name: string; cluster?: ProfileCluster }[];
  };
}

/** Access providers by name; accessProviders wins over the deprecated credentialProviders. */
export function accessProviders(p: ClusterProfileObject): Map<string, ProfileCluster> {
  const out = new Map<string, ProfileCluster>();
  for (const a of p.status?.credentialProviders ?? []) out.set(a.name, a.cluster ?? {});
  for (const a of p.status?.accessProviders ?? []) out.set(a.name, a.cluster ?? {});
  return out;
}

const EXEC_EXTENSION = 'client.authentication.k8s.io/exec';

interface Credential {
  readonly token?: string;
  readonly certData?: string;
  readonly keyData?: string;
  /** ms since the epoch; undefined: valid until the plugin is asked again */
  readonly expires?: number;
}

/** Runs an exec credential plugin the way client-go does, with the cluster in KUBERNETES_EXEC_INFO. */
export async function runExecPlugin(exec: ExecConfig, cluster: ProfileCluster, timeoutMs = 10_000): Promise<Result<Credential, string>> {
  const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
  const config = cluster.extensions?.find((e) => e.name === EXEC_EXTENSION)?.extension;
  const info = {
    apiVersion,
    kind: 'ExecCredential',
    spec: {
      interactive: false,
      ...(exec.provideClusterInfo
        ? {
            cluster: {
              server: cluster.server,
              ...(cluster['certificate-authority-data'] !== undefined ? { 'certificate-authority-data': cluster['certificate-authority-data'] } : {}),
              ...(cluster['tls-server-name'] !== undefined ? { 'tls-server-name': cluster['tls-server-name'] } : {}),
              ...(cluster['insecure-skip-tls-verify'] !== undefined ? { 'insecure-skip-tls-verify': cluster['insecure-skip-tls-verify'] } : {}),
              ...(config !== undefined ? { config } : {}),
            },
          }
        : {}),
    },
  };
  const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
  for (const e of exec.env ?? []) env[e.name] = e.value;
  const out = await new Promise<{ code: number | null; stdout: string; stderr: string; error?: Error }>((resolve) => {
    execFile(exec.command, [...(exec.args ?? [])], { env, timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr, ...(error ? { error } : {}) }),
    );
  });
  const name = exec.command;
  if (out.error !== undefined) {
    const why = out.stderr.trim().split('\n').slice(-3).join(' ') || out.error.message;
    return fail(`credential plugin ${name} failed: ${why}`);
  }
  let cred: { kind?: string; status?: { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string } };
  try {
    cred = JSON.parse(out.stdout);
  } catch {
    return fail(`credential plugin ${name} printed something that is not an ExecCredential: ${JSON.stringify(out.stdout.slice(0, 80))}`);
  }
  const s = cred.status;
  if (cred.kind !== 'ExecCredential' || s === undefined || (s.token === undefined && (s.clientCertificateData === undefined || s.clientKeyData === undefined))) {
    return fail(`credential plugin ${name} printed an ExecCredential without a token or client certificate`);
  }
  const expires = s.expirationTimestamp !== undefined ? Date.parse(s.expirationTimestamp) : undefined;
  return ok({
    ...(s.token !== undefined ? { token: s.token } : {}),
    ...(s.clientCertificateData !== undefined ? { certData: Buffer.from(s.clientCertificateData).toString('base64') } : {}),
    ...(s.clientKeyData !== undefined ? { keyData: Buffer.from(s.clientKeyData).toString('base64') } : {}),
    ...(expires !== undefined && Number.isFinite(expires) ? { expires } : {}),
  });
}

export interface MemberAccess {
  /** how the credential was found, for conditions: the provider name or "secret" */
  readonly via: string;
  readonly kc: KubeConfig;
  /** when the credential runs out (ms since the epoch), if it does */
  readonly expires?: number;
}

/**
 * Resolves access to one member: the provider file first, the kubeconfig Secret after.
 * Errors say what to fix; nothing here throws.
 */
export async function resolveAccess(profile: ClusterProfileObject, providers: ProviderFile | undefined, hub: ApiClient): Promise<Result<MemberAccess, string>> {
  const chosen = chosenProvider(profile, providers);
  if (chosen !== undefined) {
    const { provider: p, cluster } = chosen;
    if (cluster.server === undefined || cluster.server === '') return fail(`access provider ${p.name} gives no server`);
    const cred = await runExecPlugin(p.execConfig, cluster);
    if (!cred.ok) return cred;
    const kc = await kubeConfigFor({
      name: profile.metadata.name,
      server: cluster.server,
      ...(cluster['certificate-authority-data'] !== undefined ? { caData: cluster['certificate-authority-data'] } : {}),
      ...(cluster['tls-server-name'] !== undefined ? { tlsServerName: cluster['tls-server-name'] } : {}),
      ...(cluster['insecure-skip-tls-verify'] === true ? { insecure: true } : {}),
      ...(cred.value.token !== undefined ? { token: cred.value.token } : {}),
      ...(cred.value.certData !== undefined ? { certData: cred.value.certData, keyData: cred.value.keyData } : {}),
    });
    return ok({ via: p.name, kc, ...(cred.value.expires !== undefined ? { expires: cred.value.expires } : {}) });
  }
  return kubeconfigSecret(profile, hub);
}

/** The first provider of the provider file that the profile offers, with the cluster it gives. */
export function chosenProvider(profile: ClusterProfileObject, providers: ProviderFile | undefined): { provider: ProviderFile['providers'][number]; cluster: ProfileCluster } | undefined {
  const offered = accessProviders(profile);
  for (const provider of providers?.providers ?? []) {
    const cluster = offered.get(provider.name);
    if (cluster !== undefined) return { provider, cluster };
  }
  return undefined;
}

/** The fallback: a kubeconfig in a Secret on the hub named after the profile, key "config". */
export async function kubeconfigSecret(profile: ClusterProfileObject, hub: ApiClient): Promise<Result<MemberAccess, string>> {
  const offered = accessProviders(profile);
  const { name, namespace } = profile.metadata;
  try {
    const secret = await hub.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${namespace}/secrets/${name}`);
    const data = secret.data?.config;
    if (data === undefined) return fail(`secret ${namespace}/${name} has no key "config"`);
    const kc = new (await library()).KubeConfig();
    kc.loadFromString(Buffer.from(data, 'base64').toString('utf8'));
    return ok({ via: 'secret', kc });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      const names = [...offered.keys()];
      return fail(
        `no way to reach the cluster: ${names.length > 0 ? `its access providers (${names.join(', ')}) are not in the provider file` : 'it lists no access providers'}, and there is no secret ${namespace}/${name}`,
      );
    }
    return fail(`reading secret ${namespace}/${name}: ${(e as Error).message}`);
  }
}

/** A KubeConfig for one cluster and one credential, built in memory. */
export async function kubeConfigFor(cluster: {
  name: string;
  server: string;
  caData?: string;
  tlsServerName?: string;
  insecure?: boolean;
  token?: string;
  certData?: string;
  keyData?: string;
}): Promise<KubeConfig> {
  const kc = new (await library()).KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: cluster.name,
        server: cluster.server,
        ...(cluster.caData !== undefined ? { caData: cluster.caData } : {}),
        ...(cluster.tlsServerName !== undefined ? { tlsServerName: cluster.tlsServerName } : {}),
        skipTLSVerify: cluster.insecure === true,
      },
    ],
    users: [
      {
        name: 'orrery',
        ...(cluster.token !== undefined ? { token: cluster.token } : {}),
        ...(cluster.certData !== undefined ? { certData: cluster.certData } : {}),
        ...(cluster.keyData !== undefined ? { keyData: cluster.keyData } : {}),
      },
    ],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: 'orrery' }],
    currentContext: cluster.name,
  });
  return kc;
}
