// Probes: alive, and ready once the fleet has been read.

import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../engine.js';
import { errorBody } from '../errors.js';

export const healthRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    if (engine.snapshot() === undefined) return reply.code(503).send(errorBody(503, 'the fleet has not been read yet'));
    return { status: 'ready' };
  });
};
