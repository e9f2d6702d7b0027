// The snapshot file: a FleetSnapshot document (and, separately, Placement documents) read
// from YAML or JSON and checked field by field. A bad file gives every problem with its path.

import { readFile } from 'node:fs/promises';
import { YAMLException, loadAll } from 'js-yaml';
import { API_VERSION, type Cluster, type FleetSnapshot, type Placement, type Resources, makeSnapshot } from '../core/model.js';
import { formatBytes, formatMilli } from '../core/quantity.js';
import { type Result, fail, ok } from '../core/result.js';
import { checkPlacements, checkSnapshotDocument, formatIssues } from '../core/validation.js';

export interface LoadedFleet {
  readonly snapshot: FleetSnapshot;
  readonly placements: readonly Placement[];
}

function parseYaml(text: string, file: string): Result<unknown[], string> {
  try {
    return ok(loadAll(text).filter((d) => d !== null && d !== undefined));
  } catch (e) {
    if (e instanceof YAMLException) {
      const where = e.mark ? `line ${e.mark.line + 1}, column ${e.mark.column + 1}: ` : '';
      return fail(`${file}: ${where}${e.reason}`);
    }
    return fail(`${file}: ${(e as Error).message}`);
  }
}

async function readText(file: string): Promise<Result<string, string>> {
  try {
    return ok(await readFile(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail(`${file}: no such file`);
    if (code === 'EISDIR') return fail(`${file} is a directory: give the file itself`);
    return fail(`${file}: ${(e as Error).message}`);
  }
}

export function parseFleet(text: string, file: string, generation = 0): Result<LoadedFleet, string> {
  const docs = parseYaml(text, file);
  if (!docs.ok) return docs;
  if (docs.value.length !== 1) return fail(`${file}: expected one FleetSnapshot document, found ${docs.value.length}`);
  const r = checkSnapshotDocument(docs.value[0]);
  if (!r.ok) return fail(prefixed(file, formatIssues(r.error)));
  return ok({ snapshot: makeSnapshot(r.value.clusters, generation), placements: r.value.placements });
}

/** Placements: one or more YAML documents, each a Placement or a List of them. */
export function parsePlacements(text: string, file: string): Result<Placement[], string> {
  const docs = parseYaml(text, file);
  if (!docs.ok) return docs;
  const items: unknown[] = [];
  for (const d of docs.value) {
    const o = d as { kind?: unknown; items?: unknown };
    if (typeof d === 'object' && d !== null && o.kind === 'List' && Array.isArray(o.items)) items.push(...o.items);
    else if (typeof d === 'object' && d !== null && o.kind === 'FleetSnapshot') {
      const r = checkSnapshotDocument(d);
      if (!r.ok) return fail(prefixed(file, formatIssues(r.error)));
      items.push(...r.value.placements);
    } else items.push(d);
  }
  // A file given for placements that holds none was given by mistake: planning nothing would hide it.
  if (items.length === 0) {
    const kinds = docs.value.map((d) => String((d as { kind?: unknown })?.kind ?? 'a document without a kind'));
    return fail(`${file}: no Placements in it (${kinds.length === 0 ? 'it is empty' : `it holds ${[...new Set(kinds)].join(', ')}`}); give a file of Placement documents or a List of them`);
  }
  const r = checkPlacements(items, ['placements']);
  if (!r.ok) return fail(prefixed(file, formatIssues(r.error)));
  return ok(r.value);
}

function prefixed(file: string, text: string): string {
  return text
    .split('\n')
    .map((l) => `${file}: ${l}`)
    .join('\n');
}

export async function loadFleet(file: string): Promise<Result<LoadedFleet, string>> {
  const text = await readText(file);
  return text.ok ? parseFleet(text.value, file) : text;
}

export async function loadPlacements(file: string): Promise<Result<Placement[], string>> {
  const text = await readText(file);
  return text.ok ? parsePlacements(text.value, file) : text;
}

function quantities(r: Resources) {
  return { cpu: formatMilli(r.cpu), memory: formatBytes(r.memory), pods: r.pods, ...(r.extended ?? {}) };
}

/** A cluster's capacity fields as the file writes them (and an agent's report carries them). */
export function capacityDocument(c: Pick<Cluster, 'allocatable' | 'allocated' | 'devices' | 'nodeGroups'>) {
  return {
    allocatable: quantities(c.allocatable),
    allocated: quantities(c.allocated),
    ...(c.devices.length > 0 ? { devices: c.devices } : {}),
    ...(c.nodeGroups !== undefined
      ? {
          nodeGroups: c.nodeGroups.map((g) => ({
            count: g.count,
            allocatable: quantities(g.allocatable),
            allocated: quantities(g.allocated),
            ...(g.devices.length > 0 ? { devices: g.devices } : {}),
          })),
        }
      : {}),
  };
}

/** The snapshot in the file's own format, so a live fleet can be fed to `orrery plan`. */
export function toSnapshotDocument(snapshot: FleetSnapshot, placements: readonly Placement[] = []) {
  return {
    apiVersion: API_VERSION,
    kind: 'FleetSnapshot',
    clusters: snapshot.clusters.map((c) => ({
      name: c.name,
      labels: c.labels,
      location: c.location,
      healthy: c.healthy,
      ...(c.reachable === false ? { reachable: false } : {}),
      ...(c.message !== undefined ? { message: c.message } : {}),
      ...(c.version !== undefined ? { version: c.version } : {}),
      ...(c.taints.length > 0 ? { taints: c.taints } : {}),
      ...capacityDocument(c),
    })),
    placements,
  };
}
