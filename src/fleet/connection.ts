// Reaching an API server without the Kubernetes client library: the Pod's ServiceAccount, or a
// kubeconfig context with a token or a client certificate. Loading the library costs a process
// about 80 MiB of RSS (measured), half of it heap: more than the whole agent, and a third of the
// hub's heap. Exec plugins and auth providers are the library's: a context that uses one is
// answered as such, and the hub then loads the library for it; the agent refuses it.

import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { load } from 'js-yaml';
import { type Result, fail, ok } from '../core/result.js';
import type { Connection } from './client.js';

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** a token file is read again after this long: the kubelet rotates projected tokens */
const TOKEN_REREAD_MS = 60_000;

interface Tls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly servername?: string;
  readonly insecure?: boolean;
}

class FileConnection implements Connection {
  private token: { value: string; readAt: number } | undefined;

  constructor(
    private readonly server: string,
    private readonly tls: Tls,
    private readonly credential: { token?: string; tokenFile?: string },
  ) {}

  getCurrentCluster(): { server: string } {
    return { server: this.server };
  }

  async applyToHTTPSOptions(opts: RequestOptions): Promise<void> {
    if (this.tls.ca !== undefined) opts.ca = this.tls.ca;
    if (this.tls.cert !== undefined) opts.cert = this.tls.cert;
    if (this.tls.key !== undefined) opts.key = this.tls.key;
    if (this.tls.servername !== undefined) opts.servername = this.tls.servername;
    if (this.tls.insecure === true) opts.rejectUnauthorized = false;
    const token = this.bearer();
    if (token !== undefined) opts.headers = { ...opts.headers, authorization: `Bearer ${token}` };
  }

  private bearer(): string | undefined {
    if (this.credential.token !== undefined) return this.credential.token;
    const file = this.credential.tokenFile;
    if (file === undefined) return undefined;
    const now = Date.now();
    if (this.token === undefined || now - this.token.readAt > TOKEN_REREAD_MS) this.token = { value: readFileSync(file, 'utf8').trim(), readAt: now };
    return this.token.value;
  }
}

/** The Pod's own ServiceAccount, as client-go's in-cluster config reads it. */
export function inClusterConnection(): Result<Connection, string> {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (host === undefined || port === undefined) return fail('not in a Pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set');
  try {
    const ca = readFileSync(`${SERVICE_ACCOUNT}/ca.crt`);
    readFileSync(`${SERVICE_ACCOUNT}/token`);
    return ok(new FileConnection(`https://${host.includes(':') ? `[${host}]` : host}:${port}`, { ca }, { tokenFile: `${SERVICE_ACCOUNT}/token` }));
  } catch (e) {
    return fail(`the Pod's ServiceAccount: ${(e as Error).message}`);
  }
}

type Named<T> = { name: string } & T;
interface KubeconfigFile {
  'current-context'?: string;
  clusters?: Named<{ cluster?: Record<string, unknown> }>[];
  users?: Named<{ user?: Record<string, unknown> }>[];
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
}

/** A context whose credential comes from an exec plugin or an auth provider: the client library's to run. */
export const PLUGIN = 'plugin';

/**
 * One context of a kubeconfig file (its current one unless `context` is given), or PLUGIN where
 * its credential is a plugin's. Errors name the file and what is wrong, as kubectl would.
 */
export function kubeconfigConnection(file: string, context?: string): Result<Connection | typeof PLUGIN, string> {
  let doc: KubeconfigFile;
  try {
    doc = (load(readFileSync(file, 'utf8')) ?? {}) as KubeconfigFile;
  } catch (e) {
    return fail(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const contexts = doc.contexts ?? [];
  if (contexts.length === 0) return fail(`${file}: not a kubeconfig (it has no contexts)`);
  if (context !== undefined && !contexts.some((c) => c.name === context)) return fail(`no context "${context}" in ${file} (contexts: ${contexts.map((c) => c.name).join(', ') || 'none'})`);
  const wanted = context ?? doc['current-context'];
  const ctx = contexts.find((c) => c.name === wanted)?.context;
  const named = doc.clusters?.find((c) => c.name === ctx?.cluster);
  const cluster = named?.cluster;
  if (cluster === undefined) return fail(`${file}: the current context "${wanted ?? ''}" names no cluster; pick one with --context`);
  if (typeof cluster.server !== 'string' || !URL.canParse(cluster.server)) return fail(`${file}: cluster "${named?.name}" has no valid server URL ("${String(cluster.server ?? '')}")`);
  const user = doc.users?.find((u) => u.name === ctx?.user)?.user ?? {};
  if (user.exec !== undefined || user['auth-provider'] !== undefined) return ok(PLUGIN);
  const str = (o: Record<string, unknown>, k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const pem = (o: Record<string, unknown>, data: string, path: string) => {
    const d = str(o, data);
    if (d !== undefined) return Buffer.from(d, 'base64');
    const f = str(o, path);
    return f !== undefined ? readFileSync(f) : undefined;
  };
  try {
    const ca = pem(cluster, 'certificate-authority-data', 'certificate-authority');
    const cert = pem(user, 'client-certificate-data', 'client-certificate');
    const key = pem(user, 'client-key-data', 'client-key');
    const servername = str(cluster, 'tls-server-name');
    const token = str(user, 'token');
    const tokenFile = str(user, 'tokenFile');
    return ok(
      new FileConnection(
        cluster.server,
        {
          ...(ca !== undefined ? { ca } : {}),
          ...(cert !== undefined ? { cert } : {}),
          ...(key !== undefined ? { key } : {}),
          ...(servername !== undefined ? { servername } : {}),
          insecure: cluster['insecure-skip-tls-verify'] === true,
        },
        { ...(token !== undefined ? { token } : {}), ...(tokenFile !== undefined ? { tokenFile } : {}) },
      ),
    );
  } catch (e) {
    return fail(`${file}: ${(e as Error).message}`);
  }
}
