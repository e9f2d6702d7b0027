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
    reason: { type: 'string', enum: ['Scheduled', 'PartiallyScheduled', 'Unschedulable', 'Preempted'] },
    message: { type: 'string' },
    preemptions: {
      type: 'array',
      description: 'replicas of lower priority taken for a higher one in the step that made this decision, where this placement took room or lost it',
      items: {
        type: 'object',
        required: ['preemptor', 'victim', 'cluster', 'replicas'],
        properties: { preemptor: { type: 'string' }, victim: { type: 'string' }, cluster: { type: 'string' }, replicas: { type: 'integer' } },
      },
    },
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

const extended = { ...devices, description: 'per extended resource that device plugins publish, e.g. nvidia.com/gpu' } as const;

const capacityRow = {
  type: 'object',
  required: ['name', 'clusters', 'allocatable', 'free', 'devices', 'extended'],
  properties: { name: { type: 'string' }, clusters: { type: 'integer' }, allocatable: amounts, free: amounts, devices, extended },
} as const;

const acceleratorTotal = (key: string) =>
  ({
    type: 'object',
    required: [key, 'clusters', 'total', 'free'],
    properties: { [key]: { type: 'string' }, clusters: { type: 'integer' }, total: { type: 'integer' }, free: { type: 'integer' } },
  }) as const;

export const capacitySchema = {
  type: 'object',
  required: ['generation', 'clusters', 'regions', 'deviceClasses', 'extendedResources', 'total'],
  properties: {
    generation: { type: 'integer', description: 'the fleet snapshot this answer was made from' },
    clusters: {
      type: 'array',
      items: { ...capacityRow, required: [...capacityRow.required, 'region', 'healthy'], properties: { ...capacityRow.properties, region: { type: 'string' }, healthy: { type: 'boolean' } } },
    },
    regions: { type: 'array', items: capacityRow },
    deviceClasses: { type: 'array', items: acceleratorTotal('deviceClassName') },
    extendedResources: { type: 'array', items: acceleratorTotal('resourceName') },
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
          avoided: { type: 'string', description: 'why the placement takes no new replicas there for now: replicas that could not start, or objects someone else made where it would write' },
          room: {
            type: 'integer',
            minimum: 0,
            description: "replicas of the placement the cluster holds beside the other placements' (at most its replicas): where it got fewer, there was no room for more",
          },
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

const usage = (unit: string) =>
  ({
    type: 'object',
    required: ['allocatable', 'others', 'orrery', 'free'],
    description: `in ${unit}: allocatable, used by other workloads, reserved by Orrery's placements, free`,
    properties: { allocatable: { type: 'integer' }, others: { type: 'integer' }, orrery: { type: 'integer' }, free: { type: 'integer' } },
  }) as const;

export const fleetSchema = {
  type: 'object',
  required: ['mode', 'version', 'generation', 'complete', 'clusters', 'capacity'],
  properties: {
    mode: { type: 'string', enum: ['embedded', 'cluster'] },
    version: { type: 'integer', description: 'moves whenever anything an answer depends on changes; /v1/watch sends it' },
    generation: { type: 'integer', description: 'the fleet snapshot this answer was made from' },
    complete: { type: 'boolean', description: 'false while the cluster inventory was listed only in part' },
    clusters: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'region', 'healthy', 'reachable', 'schedulable', 'cpu', 'memory', 'pods', 'accelerators'],
        properties: {
          name: { type: 'string' },
          region: { type: 'string' },
          zone: { type: 'string' },
          healthy: { type: 'boolean' },
          reachable: { type: 'boolean' },
          schedulable: { type: 'boolean', description: 'takes new replicas: healthy and readable' },
          message: { type: 'string' },
          cpu: usage('milli-CPU'),
          memory: usage('bytes'),
          pods: usage('Pods'),
          accelerators: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'source', 'allocatable', 'others', 'orrery', 'free'],
              properties: { name: { type: 'string' }, source: { type: 'string', enum: ['deviceClass', 'extendedResource'] }, ...usage('devices').properties },
            },
          },
          nodeGroups: {
            type: 'array',
            items: {
              type: 'object',
              required: ['count', 'cpu', 'memory', 'accelerators'],
              properties: {
                count: { type: 'integer' },
                cpu: { type: 'integer', description: 'milli-CPU per node' },
                memory: { type: 'integer', description: 'bytes per node' },
                accelerators: { type: 'array', items: { type: 'object', required: ['name', 'total'], properties: { name: { type: 'string' }, total: { type: 'integer' } } } },
              },
            },
          },
        },
      },
    },
    capacity: { ...capacitySchema, required: capacitySchema.required.filter((k) => k !== 'generation'), description: 'what /v1/capacity answers, without filters' },
  },
} as const;
