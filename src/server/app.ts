// The HTTP API, built apart from listening so that tests can call it in process or over HTTP.

import Fastify, { type FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import { type Authenticator, installAuth } from './auth.js';
import { AnswerCache } from './cache.js';
import type { Engine } from './engine.js';
import { installErrorHandling, routerRefusal } from './errors.js';
import { Metrics } from './metrics.js';
import { installApiDocs } from './openapi.js';
import { capacityRoutes } from './routes/capacity.js';
import { fleetRoutes } from './routes/fleet.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { placementRoutes } from './routes/placements.js';
import { whatifRoutes } from './routes/whatif.js';
import { uiRoutes } from './ui.js';
import { VERSION } from '../version.js';

export interface AppOptions {
  readonly engine: Engine;
  readonly auth: Authenticator;
  readonly metrics?: Metrics;
  /** request bodies above this many bytes are refused with 413 */
  readonly bodyLimit?: number;
  readonly logger?: boolean;
  readonly version?: string;
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // a name longer than the routes' own schemas allow is refused by them, with the field named
    routerOptions: { maxParamLength: 1024 },
    // What the router refuses before any route is chosen gets the one error shape too.
    frameworkErrors: routerRefusal,
    // Request logs carry no headers, so no token ever reaches a log.
    logger: opts.logger ? { level: 'info', redact: ['req.headers.authorization'] } : false,
  });
  // A query string is text: its numbers are read as numbers. A body is JSON and is read as it was
  // sent: "5" is not 5, nothing is added or removed, and every problem is reported at once.
  const query = new Ajv({ coerceTypes: true, allErrors: false, verbose: true, strict: false });
  const body = new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: true, verbose: true, strict: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : query).compile(schema));
  const metrics = opts.metrics ?? new Metrics(() => opts.engine);
  const cache = new AnswerCache(() => opts.engine.version());
  installErrorHandling(app);
  // JSON only: any other body is refused with 415 rather than read as a string.
  app.removeContentTypeParser('text/plain');
  installAuth(app, opts.auth);
  await installApiDocs(app, opts.version ?? VERSION);
  app.addHook('onResponse', async (req, reply) => {
    metrics.requests.observe({ method: req.method, route: req.routeOptions.url ?? 'unknown', status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  await app.register(healthRoutes, { engine: opts.engine });
  await app.register(metricsRoutes, { metrics });
  await app.register(capacityRoutes, { engine: opts.engine, cache });
  await app.register(whatifRoutes, { engine: opts.engine, cache });
  await app.register(placementRoutes, { engine: opts.engine });
  await app.register(fleetRoutes, { engine: opts.engine, cache });
  await app.register(uiRoutes);
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/ui/'));
  return app;
}
