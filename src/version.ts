// Orrery's own version, from its package.json, for --version, the API document and build_info.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function read(): string {
  // dist/src/version.js → the package root, two folders up from dist/src
  const file = join(import.meta.dirname, '..', '..', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export const VERSION = read();
