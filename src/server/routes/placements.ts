// Placements: read, submit (embedded mode), remove, explain, and the autoscaling hook.

import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { API_VERSION, type Placement } from '../../core/model.js';
import { checkPlacement } from '../../core/validation.js';
import type { Engine, EngineResult } from '../engine.js';
import { errorBody, issuesBody } from '../errors.js';
import { errorSchema, explainSchema, placementListSchema, viewSchema } from '../schemas.js';
import { placementBodySchema } from '../placementSchema.js';

const params = {
  type: 'object',
  required: ['namespace', 'name'],
  properties: { namespace: { type: 'string', maxLength: 63 }, name: { type: 'string', maxLength: 253 } },
} as const;

type Params = { namespace: string; name: string };

function send<T>(reply: FastifyReply, r: EngineResult<T>, status = 200) {
  if (!r.ok) return reply.code(r.error.status).send(issuesBody(r.error.status, r.error.issues));
  return reply.code(status).send(r.value);
}

export const placementRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  const base = '/v1/namespaces/:namespace/placements/:name';

  app.get(
    '/v1/placements',
    {
      schema: { operationId: 'listPlacements', tags: ['placements'], summary: 'Every placement with its decision', response: { 200: placementListSchema } },
      config: { access: () => ({ verb: 'list', resource: 'placements' }) },
    },
    async () => ({ items: engine.placements() }),
  );

  app.get<{ Params: Params }>(
    base,
    {
      schema: { operationId: 'getPlacement', tags: ['placements'], summary: 'A placement and its current decision', params, response: { 200: viewSchema, 404: errorSchema } },
      config: { access: (req) => ({ verb: 'get', resource: 'placements', namespace: (req.params as Params).namespace }) },
    },
    async (req, reply) => {
      const v = engine.get(`${req.params.namespace}/${req.params.name}`);
      if (v === undefined) return reply.code(404).send(errorBody(404, `placement ${req.params.namespace}/${req.params.name} not found`));
      return v;
    },
  );

  app.put<{ Params: Params; Body: Record<string, unknown> }>(
    base,
    {
      schema: {
        operationId: 'putPlacement',
        tags: ['placements'],
        summary: 'Submit or replace a placement (embedded mode) and get its decision',
        params,
        body: placementBodySchema,
        response: { 200: viewSchema, 400: errorSchema, 409: errorSchema },
      },
      config: { access: (req) => ({ verb: 'update', resource: 'placements', namespace: (req.params as Params).namespace }) },
    },
    async (req, reply) => {
      if (engine.mode !== 'embedded') return reply.code(409).send(errorBody(409, 'placements are applied to the hub in cluster mode (kubectl apply)'));
      const { namespace, name } = req.params;
      const body = req.body;
      const meta = (body.metadata ?? {}) as { name?: unknown; namespace?: unknown };
      if ((meta.name !== undefined && meta.name !== name) || (meta.namespace !== undefined && meta.namespace !== namespace)) {
        return reply.code(400).send(errorBody(400, `metadata says ${String(meta.namespace ?? namespace)}/${String(meta.name ?? name)}, the path ${namespace}/${name}`));
      }
      const checked = checkPlacement({ apiVersion: API_VERSION, kind: 'Placement', ...body, metadata: { ...meta, name, namespace } });
      if (!checked.ok) return reply.code(400).send(issuesBody(400, checked.error));
      return send(reply, await engine.put(checked.value));
    },
  );

  app.delete<{ Params: Params }>(
    base,
    {
      schema: {
        operationId: 'deletePlacement',
        tags: ['placements'],
        summary: 'Remove a placement (embedded mode)',
        params,
        response: { 204: { type: 'null', description: 'removed' }, 404: errorSchema, 409: errorSchema },
      },
      config: { access: (req) => ({ verb: 'delete', resource: 'placements', namespace: (req.params as Params).namespace }) },
    },
    async (req, reply) => {
      if (engine.mode !== 'embedded') return reply.code(409).send(errorBody(409, 'placements are deleted on the hub in cluster mode (kubectl delete)'));
      const r = await engine.remove(`${req.params.namespace}/${req.params.name}`);
      if (!r.ok) return reply.code(r.error.status).send(issuesBody(r.error.status, r.error.issues));
      return reply.code(204).send();
    },
  );

  app.get<{ Params: Params }>(
    `${base}/explain`,
    {
      schema: {
        operationId: 'explainPlacement',
        tags: ['placements'],
        summary: 'Per cluster: the filter that refused the placement, or the scores the solver used, with their weights',
        params,
        response: { 200: explainSchema, 404: errorSchema },
      },
      config: { access: (req) => ({ verb: 'get', resource: 'placements', namespace: (req.params as Params).namespace }) },
    },
    async (req, reply) => {
      const key = `${req.params.namespace}/${req.params.name}`;
      const e = engine.explain(key);
      if (e === undefined) return reply.code(404).send(errorBody(404, `placement ${key} not found`));
      return e;
    },
  );

  app.post<{ Params: Params; Body: { replicas?: number; delta?: number } }>(
    `${base}/scale`,
    {
      schema: {
        operationId: 'scalePlacement',
        tags: ['placements'],
        summary: 'The autoscaling hook: set replicas, or change them by delta; answers with the new decision',
        params,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { replicas: { type: 'integer', minimum: 0, maximum: 100000 }, delta: { type: 'integer', minimum: -100000, maximum: 100000 } },
        },
        response: { 200: viewSchema, 400: errorSchema, 404: errorSchema, 422: errorSchema, 503: errorSchema },
      },
      config: { access: (req) => ({ verb: 'update', resource: 'placements/scale', namespace: (req.params as Params).namespace }) },
    },
    async (req, reply) => {
      const key = `${req.params.namespace}/${req.params.name}`;
      const { replicas, delta } = req.body;
      if ((replicas === undefined) === (delta === undefined)) return reply.code(400).send(errorBody(400, 'give exactly one of replicas or delta'));
      const current = engine.get(key);
      if (current === undefined) return reply.code(404).send(errorBody(404, `placement ${key} not found`));
      const target = replicas ?? current.placement.spec.replicas + (delta as number);
      if (target < 0) return reply.code(400).send(errorBody(400, `delta ${delta} would take replicas below 0 (now ${current.placement.spec.replicas})`));
      if (target > 100000) return reply.code(400).send(errorBody(400, `replicas ${target} is more than 100000`));
      return send(reply, await engine.scale(key, target));
    },
  );
};

export type { Placement };
