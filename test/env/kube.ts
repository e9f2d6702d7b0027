// A small Kubernetes REST client for the test harness: JSON over HTTPS with a bearer token,
// enough to create, patch and read objects the way kubectl or a kubelet would.

import { request } from 'node:https';

export interface Endpoint {
  readonly server: string;
  readonly ca: string;
  readonly token: string;
}

export class KubeError extends Error {
  constructor(
    readonly status: number,
    readonly body: { message?: string; reason?: string } & Record<string, unknown>,
  ) {
    super(`${status} ${body.reason ?? ''}: ${body.message ?? JSON.stringify(body)}`);
  }
}

export async function call<T = Record<string, unknown>>(ep: Endpoint, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  const url = new URL(path, ep.server);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: ep.ca,
        headers: {
          authorization: `Bearer ${ep.token}`,
          accept: 'application/json',
          ...(payload !== undefined ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}),
        },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? {} : JSON.parse(text);
          } catch {
            parsed = { message: text };
          }
          if ((res.statusCode ?? 500) >= 400) reject(new KubeError(res.statusCode ?? 500, parsed as KubeError['body']));
          else resolve(parsed as T);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.href} timed out`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Server-side apply, the way Orrery writes. */
export function apply<T = Record<string, unknown>>(ep: Endpoint, path: string, obj: unknown, fieldManager = 'orrery-tests'): Promise<T> {
  return call<T>(ep, 'PATCH', `${path}?fieldManager=${fieldManager}&force=true`, obj, 'application/apply-patch+yaml');
}

export function mergePatch<T = Record<string, unknown>>(ep: Endpoint, path: string, patch: unknown): Promise<T> {
  return call<T>(ep, 'PATCH', path, patch, 'application/merge-patch+json');
}

/** Polls until `check` returns a value (not undefined), or fails with what it saw last. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** GET, with a 404 as undefined. */
export async function getOrNone<T = Record<string, unknown>>(ep: Endpoint, path: string): Promise<T | undefined> {
  try {
    return await call<T>(ep, 'GET', path);
  } catch (e) {
    if (e instanceof KubeError && e.status === 404) return undefined;
    throw e;
  }
}

export interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

/** A role with these rules bound to a user: in a namespace, or cluster-wide without one. */
export async function grant(ep: Endpoint, user: string, name: string, rules: readonly Rule[], namespace?: string): Promise<void> {
  const scope = namespace === undefined ? '' : `/namespaces/${namespace}`;
  const kind = namespace === undefined ? 'ClusterRole' : 'Role';
  await call(ep, 'POST', `${RBAC}${scope}/${kind.toLowerCase()}s`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name }, rules });
  await bind(ep, user, name, kind, namespace);
}

/** Binds an existing role (or ClusterRole) to a user, in a namespace or cluster-wide. */
export async function bind(ep: Endpoint, user: string, role: string, kind: 'Role' | 'ClusterRole', namespace?: string): Promise<void> {
  const scope = namespace === undefined ? '' : `/namespaces/${namespace}`;
  const bindingKind = namespace === undefined ? 'ClusterRoleBinding' : 'RoleBinding';
  await call(ep, 'POST', `${RBAC}${scope}/${bindingKind.toLowerCase()}s`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: bindingKind,
    metadata: { name: `${user}-${role}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: role },
    subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }],
  });
}

/**
 * A ValidatingAdmissionPolicy, bound to deny: creates and updates of a resource are refused
 * where the CEL `expression` over `object` is false, with `message`. A write that fails on purpose.
 */
export async function refuse(ep: Endpoint, name: string, target: { group: string; resource: string }, expression: string, message: string): Promise<void> {
  const base = '/apis/admissionregistration.k8s.io/v1';
  await call(ep, 'POST', `${base}/validatingadmissionpolicies`, {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: [{ apiGroups: [target.group], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: [target.resource] }] },
      validations: [{ expression, message }],
    },
  });
  await call(ep, 'POST', `${base}/validatingadmissionpolicybindings`, {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name },
    spec: { policyName: name, validationActions: ['Deny'] },
  });
}
