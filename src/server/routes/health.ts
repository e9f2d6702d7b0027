// Probes: alive, and ready once the fleet has been read.

import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../engine.js';
import { errorBody } from '../errors.js';

export const healthRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const problems = engine.problems().map((p) => ({ source: p.source, message: p.message, since: new Date(p.since).toISOString() }));
    if (engine.snapshot() === undefined) return reply.code(503).send({ ...errorBody(503, 'the fleet has not been read yet'), problems });
    // Ready to answer from what is known; what keeps failing is listed for whoever looks.
    return { status: 'ready', problems };
  });
};
