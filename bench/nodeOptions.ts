// The Node.js options a manifest of deploy/ gives Orrery's container: the benches run Orrery as
// it is deployed.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function nodeOptions(manifest: string): string[] {
  const text = readFileSync(join(root, manifest), 'utf8');
  const options = /name: NODE_OPTIONS\s+value: (.+)/.exec(text)?.[1];
  if (options === undefined) throw new Error(`${manifest} gives no NODE_OPTIONS`);
  return options.trim().split(/\s+/);
}

/** What deploy/components/large-fleet gives a hub that schedules 1,000 clusters and more. */
export const LARGE_FLEET = nodeOptions('deploy/components/large-fleet/deployment.yaml');
