// Capacity for planners: what is free where, and how many replicas of a shape would fit.

import type { FastifyPluginAsync } from 'fastify';
import { capacityReport, fitReport, reportAsQuantities } from '../../core/capacity.js';
import { matchesSelector, parseSelector } from '../../core/labels.js';
import { type Cluster, type LabelSelector, offers } from '../../core/model.js';
import { parseMilli, parseUnits } from '../../core/quantity.js';
import type { AnswerCache } from '../cache.js';
import type { Engine } from '../engine.js';
import { errorBody, issuesBody } from '../errors.js';
import { capacitySchema, errorSchema, fitSchema } from '../schemas.js';

const filters = {
  region: { type: 'string', description: 'only clusters in this region' },
  selector: { type: 'string', description: 'a label selector over cluster labels, e.g. environment=production' },
} as const;

interface Filters {
  region?: string;
  selector?: string;
  deviceClass?: string;
}

function keeper(q: Filters): { ok: true; keep: (c: Cluster) => boolean } | { ok: false; message: string } {
  let selector: LabelSelector | undefined;
  if (q.selector !== undefined) {
    const s = parseSelector(q.selector);
    if (!s.ok) return { ok: false, message: `selector: ${s.error.message}` };
    selector = s.value;
  }
  return {
    ok: true,
    keep: (c) => (q.region === undefined || c.location.region === q.region) && matchesSelector(c.labels, selector) && (q.deviceClass === undefined || offers(c, q.deviceClass)),
  };
}

export const capacityRoutes: FastifyPluginAsync<{ engine: Engine; cache: AnswerCache }> = async (app, { engine, cache }) => {
  app.get<{ Querystring: Filters }>(
    '/v1/capacity',
    {
      schema: {
        operationId: 'getCapacity',
        tags: ['capacity'],
        summary: 'Free and allocatable cpu, memory, pods and devices per cluster, per region and per device class',
        querystring: { type: 'object', additionalProperties: false, properties: { ...filters, deviceClass: { type: 'string', description: 'only clusters offering this device class' } } },
        response: { 200: capacitySchema, 400: errorSchema, 503: errorSchema },
      },
      config: { access: () => ({ verb: 'get', resource: 'capacity' }) },
    },
    async (req, reply) => {
      const now = engine.occupied();
      if (now === undefined) return reply.code(503).send(errorBody(503, 'the fleet has not been read yet'));
      const k = keeper(req.query);
      if (!k.ok) return reply.code(400).send(errorBody(400, k.message));
      return cache.get('capacity', req.query, () => ({ generation: now.generation, ...reportAsQuantities(capacityReport({ ...now, clusters: now.clusters.filter(k.keep) })) }));
    },
  );

  app.get<{ Querystring: Filters & { cpu?: string; memory?: string; devices?: number; resourceName?: string } }>(
    '/v1/capacity/fit',
    {
      schema: {
        operationId: 'getCapacityFit',
        tags: ['capacity'],
        summary: 'How many replicas of a shape fit now, per cluster and in total',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            cpu: { type: 'string', description: 'cpu per replica, a quantity such as 500m or 2' },
            memory: { type: 'string', description: 'memory per replica, a quantity such as 4Gi' },
            deviceClass: { type: 'string', description: 'device class each replica needs devices of (DRA)' },
            resourceName: { type: 'string', description: 'extended resource each replica needs, e.g. nvidia.com/gpu (device plugins)' },
            devices: { type: 'integer', minimum: 1, maximum: 1024, description: 'devices per replica (default 1 with deviceClass or resourceName)' },
            ...filters,
          },
        },
        response: { 200: fitSchema, 400: errorSchema, 503: errorSchema },
      },
      config: { access: () => ({ verb: 'get', resource: 'capacity' }) },
    },
    async (req, reply) => {
      const snapshot = engine.occupied();
      if (snapshot === undefined) return reply.code(503).send(errorBody(503, 'the fleet has not been read yet'));
      const q = req.query;
      const cpu = q.cpu === undefined ? { ok: true as const, value: 0 } : parseMilli(q.cpu);
      if (!cpu.ok) return reply.code(400).send(issuesBody(400, [{ ...cpu.error, path: ['querystring', 'cpu'] }]));
      const memory = q.memory === undefined ? { ok: true as const, value: 0 } : parseUnits(q.memory);
      if (!memory.ok) return reply.code(400).send(issuesBody(400, [{ ...memory.error, path: ['querystring', 'memory'] }]));
      if (q.deviceClass !== undefined && q.resourceName !== undefined) return reply.code(400).send(errorBody(400, 'give deviceClass or resourceName, not both'));
      if (q.devices !== undefined && q.deviceClass === undefined && q.resourceName === undefined) return reply.code(400).send(errorBody(400, 'devices needs deviceClass or resourceName'));
      if (q.deviceClass !== undefined && !snapshot.clusters.some((c) => offers(c, q.deviceClass as string))) {
        return reply.code(400).send(errorBody(400, `no cluster offers device class ${q.deviceClass}`));
      }
      if (q.resourceName !== undefined && !snapshot.clusters.some((c) => offers(c, q.resourceName as string))) {
        return reply.code(400).send(errorBody(400, `no cluster offers ${q.resourceName}`));
      }
      if (cpu.value === 0 && memory.value === 0 && q.deviceClass === undefined && q.resourceName === undefined) {
        return reply.code(400).send(errorBody(400, 'give at least one of cpu, memory, deviceClass or resourceName'));
      }
      const k = keeper({ ...(q.region !== undefined ? { region: q.region } : {}), ...(q.selector !== undefined ? { selector: q.selector } : {}) });
      if (!k.ok) return reply.code(400).send(errorBody(400, k.message));
      return cache.get('fit', q, () =>
        fitReport(
          snapshot,
          {
            cpu: cpu.value,
            memory: memory.value,
            ...(q.deviceClass !== undefined ? { devices: { deviceClassName: q.deviceClass, count: q.devices ?? 1 } } : {}),
            ...(q.resourceName !== undefined ? { extended: { resourceName: q.resourceName, count: q.devices ?? 1 } } : {}),
          },
          k.keep,
        ),
      );
    },
  );
};
