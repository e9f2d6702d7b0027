// Probes: alive, and ready once the fleet has been read.

import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../engine.js';
import { errorBody, errorSchema } from '../errors.js';

const problems = {
  type: 'array',
  description: 'what keeps failing now: reading the fleet, the Lease, writes for a Placement',
  items: { type: 'object', required: ['source', 'message', 'since'], properties: { source: { type: 'string' }, message: { type: 'string' }, since: { type: 'string', format: 'date-time' } } },
} as const;

export const healthRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get(
    '/healthz',
    {
      schema: { operationId: 'healthz', tags: ['operations'], summary: 'Alive', response: { 200: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } } } },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'readyz',
        tags: ['operations'],
        summary: 'Ready once the fleet has been read; lists what keeps failing',
        response: {
          200: { type: 'object', required: ['status', 'problems'], properties: { status: { type: 'string', enum: ['ready'] }, problems } },
          503: { ...errorSchema, properties: { ...errorSchema.properties, problems } },
        },
      },
    },
    async (_req, reply) => {
      const problems = engine.problems().map((p) => ({ source: p.source, message: p.message, since: new Date(p.since).toISOString() }));
      if (engine.snapshot() === undefined) return reply.code(503).send({ ...errorBody(503, 'the fleet has not been read yet'), problems });
      // Ready to answer from what is known; what keeps failing is listed for whoever looks.
      return { status: 'ready', problems };
    },
  );
};
