// What-if: the decisions Orrery would make now for some placements, changing nothing.

import type { FastifyPluginAsync } from 'fastify';
import { API_VERSION, type Placement, offers } from '../../core/model.js';
import { checkPlacement } from '../../core/validation.js';
import type { Issue } from '../../core/result.js';
import type { AnswerCache } from '../cache.js';
import type { Engine } from '../engine.js';
import { errorBody, issuesBody } from '../errors.js';
import { placementBodySchema } from '../placementSchema.js';
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
              items: placementBodySchema,
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
      const issues: Issue[] = [];
      req.body.placements.forEach((p, i) => {
        const meta = (p.metadata ?? {}) as Record<string, unknown>;
        const candidate = { apiVersion: API_VERSION, kind: 'Placement', ...p, metadata: { name: `whatif-${i}`, namespace: 'whatif', ...meta } };
        const r = checkPlacement(candidate, ['placements', i]);
        if (r.ok) placements.push(r.value);
        else issues.push(...r.error);
      });
      if (issues.length > 0) return reply.code(400).send(issuesBody(400, issues));
      const unknown = placements
        .flatMap((p) => (p.spec.accelerators ?? []).map((a) => a.resourceName ?? a.deviceClassName ?? ''))
        .find((name) => !engine.snapshot()!.clusters.some((c) => offers(c, name)));
      if (unknown !== undefined) return reply.code(400).send(errorBody(400, `no cluster offers ${unknown}`));
      return cache.get('whatif', req.body, () => ({ decisions: engine.whatif(placements) }));
    },
  );
};
