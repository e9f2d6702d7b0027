// The Placement's JSON schema for the HTTP API: the CRD's own (crds/), so that the hub's
// admission, the API's request bodies and the OpenAPI document hold a Placement to one schema.
// Kubernetes' own keywords (x-kubernetes-*: CEL rules, int-or-string, preserve-unknown-fields)
// mean nothing to a JSON Schema validator and are left out; the CEL rules and what a schema
// cannot say (quantities, names, selectors) are checked by core/validation.ts after it.

import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';

const CRD = new URL('../../../crds/placement.orrery.dev_placements.yaml', import.meta.url);

/** The schema without what only Kubernetes reads, and without the int formats JSON Schema does not know. */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k.startsWith('x-kubernetes-')) continue;
    if (k === 'format' && (x === 'int32' || x === 'int64')) continue;
    // defaults are the API server's to fill in: the HTTP API reads a body as it was sent
    if (k === 'default') continue;
    out[k] = plain(x);
  }
  return out;
}

function crdSchema(): { properties: { spec: object } } {
  const crd = load(readFileSync(CRD, 'utf8')) as { spec: { versions: { name: string; schema: { openAPIV3Schema: unknown } }[] } };
  const v = crd.spec.versions.find((x) => x.name === 'v1alpha1');
  if (v === undefined) throw new Error(`${CRD.pathname}: no v1alpha1 version`);
  return plain(v.schema.openAPIV3Schema) as { properties: { spec: object } };
}

const spec = crdSchema().properties.spec;

/**
 * A Placement as a request body: the spec as the CRD has it; apiVersion, kind and metadata may
 * be given and are checked against the path where there is one.
 */
export const placementBodySchema = {
  type: 'object',
  description: 'a placement.orrery.dev/v1alpha1 Placement, or just its spec under "spec"',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string', enum: ['placement.orrery.dev/v1alpha1'] },
    kind: { type: 'string', enum: ['Placement'] },
    metadata: { type: 'object', properties: { name: { type: 'string' }, namespace: { type: 'string' } } },
    spec,
  },
} as const;
