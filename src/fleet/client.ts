// JSON over HTTPS to one Kubernetes API server, with TLS and credentials from a connection (a
// KubeConfig of the Kubernetes client, or the agent's own lighter reader of kubeconfigs).
// Lists and gets come back as plain JSON, exactly as the API server sent them, so every
// object Orrery reads has one shape however it was fetched.

import { Agent, request } from 'node:https';
import type { RequestOptions } from 'node:https';

/** Where an API server is and how to be let in: what ApiClient needs of a KubeConfig. */
export interface Connection {
  getCurrentCluster(): { readonly server: string } | null;
  /** the TLS settings and credentials of a request, as `node:https` takes them */
  applyToHTTPSOptions(opts: RequestOptions): Promise<void>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ListResult<T> {
  readonly items: T[];
  readonly resourceVersion: string;
}

/** The path of a server-side apply owned by `fieldManager`; with `force`, taking over fields others set. */
function applyPath(path: string, fieldManager: string, force: boolean): string {
  return `${path}${path.includes('?') ? '&' : '?'}fieldManager=${encodeURIComponent(fieldManager)}${force ? '&force=true' : ''}`;
}

/** connections kept open to one API server for requests (watches have their own) */
const MAX_SOCKETS = 64;

export class ApiClient {
  /** Requests go over kept-alive connections: a TLS handshake per request costs both sides dearly. */
  private agent: Agent | undefined;

  constructor(
    readonly kc: Connection,
    readonly timeoutMs = 10_000,
  ) {}

  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '';
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  /** A replace (update): the body is the whole object, its resourceVersion a precondition when set. */
  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  /** `options`: DeleteOptions, e.g. preconditions on the uid. */
  delete<T>(path: string, options?: unknown): Promise<T> {
    return this.request<T>('DELETE', path, options);
  }

  /** The object, or undefined where there is none. */
  async getIfThere<T>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  /**
   * Deletes the object that was read with `uid`, not one made since in its place (that one is
   * left, as is one already gone).
   */
  async deleteIfThere(path: string, uid: string | undefined): Promise<void> {
    try {
      await this.delete(path, uid !== undefined ? { preconditions: { uid } } : undefined);
    } catch (e) {
      if (!(e instanceof ApiError && (e.status === 404 || e.status === 409))) throw e;
    }
  }

  /**
   * Server-side apply, owned by `fieldManager`. With `force` (the default), fields others set are
   * taken over; without it, a field another manager set to another value is a 409 conflict.
   */
  apply<T>(path: string, body: unknown, fieldManager: string, force = true): Promise<T> {
    return this.request<T>('PATCH', applyPath(path, fieldManager, force), body, 'application/apply-patch+yaml');
  }

  /**
   * Server-side apply for a caller that needs nothing of the answer: the object the server sends
   * back (managed fields and all) is not parsed. Failures are as with `apply`.
   */
  async applyOnly(path: string, body: unknown, fieldManager: string): Promise<void> {
    await this.request<undefined>('PATCH', applyPath(path, fieldManager, true), body, 'application/apply-patch+yaml', false);
  }

  /** A create whose answer the caller needs nothing of, as `applyOnly`. */
  async postOnly(path: string, body: unknown): Promise<void> {
    await this.request<undefined>('POST', path, body, 'application/json', false);
  }

  mergePatch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body, 'application/merge-patch+json');
  }

  /** `read`: whether the answer of a success is parsed (else it resolves to undefined). */
  private async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json', read = true): Promise<T> {
    const url = new URL(path, this.server);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const opts: RequestOptions = {
      method,
      headers: {
        accept: 'application/json',
        ...(payload !== undefined ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}),
      },
      timeout: this.timeoutMs,
    };
    await this.kc.applyToHTTPSOptions(opts);
    // the TLS settings the kubeconfig gives, on a pool of kept-alive connections
    this.agent ??= new Agent({
      keepAlive: true,
      maxSockets: MAX_SOCKETS,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
      ...(opts.key !== undefined ? { key: opts.key } : {}),
      ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
      ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
    });
    opts.agent = this.agent;
    return new Promise<T>((resolve, reject) => {
      const req = request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        const status = res.statusCode ?? 0;
        const keep = read || status >= 400;
        res.on('data', (c: Buffer) => (keep ? chunks.push(c) : undefined));
        res.on('end', () => {
          if (!keep) {
            resolve(undefined as T);
            return;
          }
          const text = Buffer.concat(chunks).toString('utf8');
          if (status >= 400) {
            let message = text;
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? text;
            } catch {
              // not JSON: keep the text
            }
            reject(new ApiError(status, `${status} from ${url.host}${url.pathname}: ${message}`));
            return;
          }
          try {
            resolve(JSON.parse(text) as T);
          } catch (e) {
            reject(new Error(`${url.host}${url.pathname}: not JSON: ${(e as Error).message}`));
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${url.host}${url.pathname}: no answer in ${this.timeoutMs} ms`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** Every item, following continue tokens. */
  async list<T>(path: string, limit = 500): Promise<ListResult<T>> {
    const items: T[] = [];
    const resourceVersion = await this.listPages<T>(path, limit, (page) => items.push(...page));
    return { items, resourceVersion };
  }

  /**
   * Every item, a page at a time, each page handed to `each` and not kept: a caller that keeps
   * less of each object than the server sends never holds a whole list. Answers the list's
   * resourceVersion.
   */
  async listPages<T>(path: string, limit: number, each: (items: T[]) => void): Promise<string> {
    let token: string | undefined;
    let resourceVersion = '';
    do {
      const sep = path.includes('?') ? '&' : '?';
      const page = await this.get<{ items?: T[]; metadata?: { continue?: string; resourceVersion?: string } }>(`${path}${sep}limit=${limit}${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
      each(page.items ?? []);
      token = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (token !== undefined);
    return resourceVersion;
  }

  /** Whether the server offers a group version, e.g. resource.k8s.io/v1. */
  async serves(groupVersion: string): Promise<boolean> {
    try {
      await this.get(`/apis/${groupVersion}`);
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return false;
      throw e;
    }
  }
}
