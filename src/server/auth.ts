// Who may call the API. In embedded mode one bearer token (from a file or the environment)
// guards every route but the probes; without a token the server only listens on loopback.
// In cluster mode a token is checked with TokenReview and each route with SubjectAccessReview.

import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Result, ok } from '../core/result.js';
import { issuesBody } from './errors.js';
import { type Refusal, refusal } from './engine.js';

/**
 * What a route needs: a Kubernetes-style verb on a resource, in a namespace if it has one, or
 * on a path that is no resource (/metrics, as the Kubernetes components authorise scrapes).
 */
export type Access =
  | { readonly verb: 'get' | 'list' | 'create' | 'update' | 'delete'; readonly resource: 'capacity' | 'placements' | 'placements/scale'; readonly namespace?: string }
  | { readonly verb: 'get'; readonly path: '/metrics' };

/** Who the caller is, or why they may not: a 401 or 403 with its issue. */
export type AuthResult = Result<string, Refusal>;

export interface Authenticator {
  check(token: string | undefined, access: Access): Promise<AuthResult>;
}

/** One shared token; anything else is refused. */
export class StaticToken implements Authenticator {
  private readonly expected: Buffer;
  constructor(token: string) {
    this.expected = Buffer.from(token);
  }
  async check(token: string | undefined): Promise<AuthResult> {
    if (token === undefined) return refusal(401, 'Unauthorized', 'a bearer token is required');
    const got = Buffer.from(token);
    if (got.length !== this.expected.length || !timingSafeEqual(got, this.expected)) return refusal(401, 'Unauthorized', 'the bearer token is not valid');
    return ok('token');
  }
}

/** No token configured: the server listens on loopback only, and everyone there may call it. */
export class LoopbackOnly implements Authenticator {
  async check(): Promise<AuthResult> {
    return ok('loopback');
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the access a route needs; routes without it (probes, docs) are open */
    access?: (req: FastifyRequest) => Access;
  }
}

export function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

export function installAuth(app: FastifyInstance, auth: Authenticator): void {
  app.addHook('onRequest', async (req, reply) => {
    const need = req.routeOptions.config.access;
    if (need === undefined) return;
    const r = await auth.check(bearer(req), need(req));
    if (!r.ok) return reply.code(r.error.status).send(issuesBody(r.error.status, r.error.issues));
  });
}
