// The fleet at a glance for the web view, and a stream that says when anything changed, so a
// page follows the fleet without polling every answer.

import type { FastifyPluginAsync } from 'fastify';
import type { ServerResponse } from 'node:http';
import { reportAsQuantities } from '../../core/capacity.js';
import { fleetOverview } from '../../core/overview.js';
import type { AnswerCache } from '../cache.js';
import type { Engine } from '../engine.js';
import { errorBody } from '../errors.js';
import { errorSchema, fleetSchema } from '../schemas.js';

export interface FleetRouteOptions {
  readonly engine: Engine;
  readonly cache: AnswerCache;
  /** how often a watch looks for a new version, ms */
  readonly watchIntervalMs?: number;
  /** a comment line this often keeps proxies from closing an idle watch, ms */
  readonly keepAliveMs?: number;
}

export const fleetRoutes: FastifyPluginAsync<FleetRouteOptions> = async (app, { engine, cache, watchIntervalMs = 250, keepAliveMs = 15000 }) => {
  app.get(
    '/v1/fleet',
    {
      schema: {
        operationId: 'getFleet',
        tags: ['capacity'],
        summary: 'Every cluster with its room split into used by others, reserved by Orrery and free; accelerators; node groups; the capacity sums',
        response: { 200: fleetSchema, 503: errorSchema },
      },
      config: { access: () => ({ verb: 'get', resource: 'capacity' }) },
    },
    async (_req, reply) => {
      const read = engine.snapshot();
      const now = engine.occupied();
      if (read === undefined || now === undefined) return reply.code(503).send(errorBody(503, 'the fleet has not been read yet'));
      const version = engine.version();
      return cache.get('fleet', {}, () => {
        const o = fleetOverview(read, now);
        return { ...o, mode: engine.mode, version, capacity: reportAsQuantities(o.capacity) };
      });
    },
  );

  const open = new Set<ServerResponse>();
  // A watch never ends on its own: close them before the server waits for its connections.
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  app.get(
    '/v1/watch',
    {
      schema: {
        operationId: 'watchFleet',
        tags: ['capacity'],
        summary: 'Server-sent events: a "version" event now and whenever the fleet, a placement or a decision changes',
        response: {
          200: {
            description: 'a stream of events `event: version` with `data: {"version": N, "generation": G}`',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
        },
      },
      config: { access: () => ({ verb: 'get', resource: 'capacity' }) },
    },
    async (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      let sent = -1;
      const tell = () => {
        const version = engine.version();
        if (version === sent) return;
        sent = version;
        res.write(`event: version\ndata: ${JSON.stringify({ version, generation: engine.snapshot()?.generation ?? null })}\n\n`);
      };
      tell();
      const check = setInterval(tell, watchIntervalMs);
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
      open.add(res);
      req.raw.on('close', () => {
        clearInterval(check);
        clearInterval(keepAlive);
        open.delete(res);
      });
    },
  );
};
