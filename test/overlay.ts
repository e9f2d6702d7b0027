// A kustomization of deploy/ with one of its optional components, as a user writes one.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const deploy = join(import.meta.dirname, '..', '..', 'deploy');

/** A directory of its own holding a kustomization of deploy/ with `component`; the caller removes it. */
export function withComponent(component: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-overlay-'));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${relative(dir, deploy)}`,
      'components:',
      `  - ${relative(dir, join(deploy, 'components', component))}`,
      '',
    ].join('\n'),
  );
  return dir;
}
