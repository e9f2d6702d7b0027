// The JSON schemas of what the API answers: fastify serialises every response through them and
// the OpenAPI document is made of them, so the document says exactly what is sent.

export { errorSchema } from './errors.js';

export const decisionSchema = {
  type: 'object',
  required: ['placement', 'clusters', 'unscheduledReplicas', 'reason'],
  properties: {
    placement: { type: 'string', description: 'namespace/name' },
    clusters: { type: 'array', items: { type: 'object', required: ['name', 'replicas'], properties: { name: { type: 'string' }, replicas: { type: 'integer' } } } },
    unscheduledReplicas: { type: 'integer' },
    reason: { type: 'string', enum: ['Scheduled', 'PartiallyScheduled', 'Unschedulable'] },
    message: { type: 'string' },
  },
} as const;

export const viewSchema = {
  type: 'object',
  required: ['placement', 'decision'],
  properties: { placement: { type: 'object', additionalProperties: true, description: 'the Placement as submitted' }, decision: decisionSchema },
} as const;

const amounts = {
  type: 'object',
  required: ['cpu', 'memory', 'pods'],
  properties: { cpu: { type: 'string', description: 'a quantity, e.g. 500m' }, memory: { type: 'string', description: 'a quantity, e.g. 64Gi' }, pods: { type: 'integer' } },
} as const;

const devices = {
  type: 'object',
  description: 'per device class',
  additionalProperties: { type: 'object', required: ['total', 'free'], properties: { total: { type: 'integer' }, free: { type: 'integer' } } },
} as const;

const capacityRow = {
  type: 'object',
  required: ['name', 'clusters', 'allocatable', 'free', 'devices'],
  properties: { name: { type: 'string' }, clusters: { type: 'integer' }, allocatable: amounts, free: amounts, devices },
} as const;

export const capacitySchema = {
  type: 'object',
  required: ['generation', 'clusters', 'regions', 'deviceClasses', 'total'],
  properties: {
    generation: { type: 'integer', description: 'the fleet snapshot this answer was made from' },
    clusters: {
      type: 'array',
      items: { ...capacityRow, required: [...capacityRow.required, 'region', 'healthy'], properties: { ...capacityRow.properties, region: { type: 'string' }, healthy: { type: 'boolean' } } },
    },
    regions: { type: 'array', items: capacityRow },
    deviceClasses: {
      type: 'array',
      items: {
        type: 'object',
        required: ['deviceClassName', 'clusters', 'total', 'free'],
        properties: { deviceClassName: { type: 'string' }, clusters: { type: 'integer' }, total: { type: 'integer' }, free: { type: 'integer' } },
      },
    },
    total: capacityRow,
  },
} as const;

export const fitSchema = {
  type: 'object',
  required: ['clusters', 'total'],
  properties: {
    clusters: {
      type: 'array',
      items: { type: 'object', required: ['name', 'region', 'replicas'], properties: { name: { type: 'string' }, region: { type: 'string' }, replicas: { type: 'integer' } } },
    },
    total: { type: 'integer' },
  },
} as const;

const reasonSchema = {
  type: 'object',
  required: ['code', 'plugin', 'message'],
  properties: {
    code: { type: 'string' },
    plugin: { type: 'string' },
    message: { type: 'string' },
    resource: { type: 'string' },
    requested: { type: 'number' },
    free: { type: 'number' },
  },
} as const;

export const explainSchema = {
  type: 'object',
  required: ['placement', 'clusters', 'filtered'],
  properties: {
    placement: { type: 'string' },
    clusters: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'eligible'],
        properties: {
          name: { type: 'string' },
          eligible: { type: 'boolean' },
          reason: reasonSchema,
          score: { type: 'number', description: 'the weighted score the solver used, 0..100' },
          scores: { type: 'object', additionalProperties: { type: 'number' }, description: 'per score plugin, 0..100' },
        },
      },
    },
    filtered: { type: 'object', additionalProperties: { type: 'integer' }, description: 'clusters refused, by plugin/code' },
    weights: { type: 'object', additionalProperties: { type: 'number' }, description: 'the weight of each score plugin that applies' },
    decision: decisionSchema,
  },
} as const;

export const whatifSchema = {
  type: 'object',
  required: ['decisions'],
  properties: { decisions: { type: 'array', items: decisionSchema } },
} as const;

export const placementListSchema = {
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: viewSchema } },
} as const;
