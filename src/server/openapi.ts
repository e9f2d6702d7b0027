// The OpenAPI document, generated from the routes' own schemas by @fastify/swagger so that it
// cannot drift from what the routes answer, and the Swagger UI at /docs (assets served by
// Orrery itself: no CDN, for air-gapped hubs). Routes that need access answer 401 and 403 too:
// those are added to their schemas here, in one place.

import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { errorSchema } from './schemas.js';

declare module 'fastify' {
  interface FastifySchema {
    summary?: string;
    operationId?: string;
    tags?: readonly string[];
    /** left out of the document (the document itself and its page) */
    hide?: boolean;
  }
}

export async function installApiDocs(app: FastifyInstance, version: string): Promise<void> {
  // Before @fastify/swagger registers its own onRoute hook, so that it sees these additions.
  app.addHook('onRoute', (route) => {
    if (route.config?.access === undefined || route.schema === undefined) return;
    const response = (route.schema.response ?? {}) as Record<string, unknown>;
    route.schema = {
      ...route.schema,
      security: [{ bearer: [] }],
      response: { ...response, 401: { ...errorSchema, description: 'no bearer token, or one that is not valid' }, 403: { ...errorSchema, description: 'the caller may not do this' } },
    } as typeof route.schema;
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Orrery', version, description: 'Multi-cluster placement: capacity, what-if, placements, explain, and the autoscaling hook.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      tags: [
        { name: 'capacity', description: 'what is free where, and what would fit' },
        { name: 'placements', description: 'placements, their decisions, and scaling' },
        { name: 'operations', description: 'probes and metrics' },
      ],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: false }, staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
