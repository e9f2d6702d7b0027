// Cluster mode: callers are who the hub says they are. A bearer token is checked with a
// TokenReview, each route with a SubjectAccessReview against the caller's RBAC on the hub.
// Answers are kept a few seconds, keyed by a hash of the token, never the token itself.

import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ApiClient } from '../fleet/client.js';
import type { Access, AuthResult, Authenticator } from './auth.js';
import { ok } from '../core/result.js';
import { refusal } from './engine.js';
import { GROUP } from '../names.js';

interface User {
  readonly username: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export class KubeAuthenticator implements Authenticator {
  private readonly users = new LRUCache<string, { user?: User; error?: string }>({ max: 10_000, ttl: 10_000 });
  private readonly decisions = new LRUCache<string, AuthResult>({ max: 10_000, ttl: 10_000 });

  constructor(private readonly hub: ApiClient) {}

  async check(token: string | undefined, access: Access): Promise<AuthResult> {
    if (token === undefined) return refusal(401, 'Unauthorized', 'a bearer token is required');
    const id = createHash('sha256').update(token).digest('hex');
    let who = this.users.get(id);
    if (who === undefined) {
      who = await this.review(token);
      this.users.set(id, who);
    }
    if (who.user === undefined) return refusal(401, 'Unauthorized', who.error ?? 'the bearer token is not valid');
    const key = `${id}|${access.verb}|${'path' in access ? access.path : `${access.resource}|${access.namespace ?? ''}`}`;
    let decision = this.decisions.get(key);
    if (decision === undefined) {
      decision = await this.authorize(who.user, access);
      this.decisions.set(key, decision);
    }
    return decision;
  }

  private async review(token: string): Promise<{ user?: User; error?: string }> {
    try {
      const r = await this.hub.post<{ status?: { authenticated?: boolean; user?: User; error?: string } }>('/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token },
      });
      if (r.status?.authenticated === true && r.status.user) return { user: r.status.user };
      return { error: 'the bearer token is not valid' };
    } catch (e) {
      return { error: `the token could not be reviewed: ${(e as Error).message}` };
    }
  }

  private async authorize(user: User, access: Access): Promise<AuthResult> {
    const attributes =
      'path' in access
        ? { nonResourceAttributes: { path: access.path, verb: access.verb } }
        : {
            resourceAttributes: {
              group: GROUP,
              resource: access.resource.split('/')[0],
              ...(access.resource.includes('/') ? { subresource: access.resource.split('/')[1] } : {}),
              verb: access.verb,
              ...(access.namespace !== undefined ? { namespace: access.namespace } : {}),
            },
          };
    try {
      const r = await this.hub.post<{ status?: { allowed?: boolean; reason?: string } }>('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: user.username,
          ...(user.uid !== undefined ? { uid: user.uid } : {}),
          ...(user.groups !== undefined ? { groups: user.groups } : {}),
          ...(user.extra !== undefined ? { extra: user.extra } : {}),
          ...attributes,
        },
      });
      if (r.status?.allowed === true) return ok(user.username);
      const what = 'path' in access ? `${access.verb} ${access.path}` : `${access.verb} ${access.resource}${access.namespace !== undefined ? ` in namespace ${access.namespace}` : ''} (${GROUP})`;
      return refusal(403, 'Forbidden', `${user.username} may not ${what}`);
    } catch (e) {
      return refusal(403, 'Forbidden', `access could not be reviewed: ${(e as Error).message}`);
    }
  }
}
