// What-if: the decisions Orrery would make now for some placements, changing nothing.

import type { FastifyPluginAsync } from 'fastify';
import { API_VERSION, type Placement, offers } from '../../core/model.js';
import { checkPlacement, formatIssues } from '../../core/validation.js';
import type { AnswerCache } from '../cache.js';
import type { Engine } from '../engine.js';
import { errorBody } from '../errors.js';
import { errorSchema, whatifSchema } from '../schemas.js';

export const whatifRoutes: FastifyPluginAsync<{ engine: Engine; cache: AnswerCache }> = async (app, { engine, cache }) => {
  app.post<{ Body: { placements: Record<string, unknown>[] } }>(
    '/v1/whatif',
    {
      schema: {
        operationId: 'whatIf',
        tags: ['capacity'],
        summary: 'The decisions Orrery would make now for one or more placements, without changing anything',
        body: {
          type: 'object',
          required: ['placements'],
          additionalProperties: false,
          properties: {
            placements: {
              type: 'array',
              minItems: 1,
              maxItems: 100,
              items: { type: 'object', description: 'a Placement, or an object with just its spec' },
            },
          },
        },
        response: { 200: whatifSchema, 400: errorSchema, 503: errorSchema },
      },
      config: { access: () => ({ verb: 'get', resource: 'capacity' }) },
    },
    async (req, reply) => {
      if (engine.snapshot() === undefined) return reply.code(503).send(errorBody(503, 'the fleet has not been read yet'));
      const placements: Placement[] = [];
      const problems: string[] = [];
      req.body.placements.forEach((p, i) => {
        const meta = (p.metadata ?? {}) as Record<string, unknown>;
        const candidate = { apiVersion: API_VERSION, kind: 'Placement', ...p, metadata: { name: `whatif-${i}`, namespace: 'whatif', ...meta } };
        const r = checkPlacement(candidate, `placements[${i}]`);
        if (r.placement) placements.push(r.placement);
        else problems.push(formatIssues(r.issues));
      });
      if (problems.length > 0) return reply.code(400).send(errorBody(400, problems.join('; ').replace(/\n/g, '; ')));
      const unknown = placements.flatMap((p) => (p.spec.accelerators ?? []).map((a) => a.resourceName ?? a.deviceClassName ?? '')).find((name) => !engine.snapshot()!.clusters.some((c) => offers(c, name)));
      if (unknown !== undefined) return reply.code(400).send(errorBody(400, `no cluster offers ${unknown}`));
      return cache.get('whatif', req.body, () => ({ decisions: engine.whatif(placements) }));
    },
  );
};
