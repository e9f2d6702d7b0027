// /metrics in the Prometheus text format.

import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../metrics.js';

export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics }> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'getMetrics',
        tags: ['operations'],
        summary: 'Prometheus metrics (orrery_*, process_*, nodejs_*) in the text exposition format',
        response: { 200: { description: 'the metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
      config: { access: () => ({ verb: 'get', path: '/metrics' }) },
    },
    async (_req, reply) => {
      void reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
};
