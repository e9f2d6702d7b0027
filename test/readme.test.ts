// The README (and docs/) stays true: every command it shows is run here or named with the test that runs it,
// its sample output is what the command prints, its command synopses are what --help prints, and
// the curl lines of "Try it" answer against `orrery serve` on the example.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { load } from 'js-yaml';
import { checkPlacement, checkSnapshotDocument, formatIssues } from '../src/core/validation.js';
import { type Serving, serving } from './serving.js';
import { JQ } from './tools.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
// The README and the pages it links to under docs/.
const docsDir = join(root, 'docs');
const readme = [
  join(root, 'README.md'),
  ...readdirSync(docsDir)
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(docsDir, f)),
]
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');

interface Block {
  readonly lang: string;
  readonly body: string;
}
const blocks: Block[] = [...readme.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1] ?? '', body: m[2] ?? '' }));

/** A shell block's commands: continuation lines joined, comments (after two spaces, or a line's own) and blank lines left out. */
function commands(body: string): string[] {
  return body
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.replace(/\s{2,}#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * Commands the README shows that need a hub, members, a registry or a container runtime: each is
 * run by the test file named, which holds the evidence string (the same command or call).
 */
const RUN_ELSEWHERE: [command: RegExp, file: string, evidence: string][] = [
  [/^npm ci && npm (start|test)$/, '.ci/run', 'npm test'],
  [/^kubectl apply --server-side -k deploy\/cluster-inventory\/$/, 'test/deploy.test.ts', "join(root, 'deploy', 'cluster-inventory')"],
  [/^kubectl apply --server-side -k deploy\/$/, 'test/deploy.test.ts', "['apply', '--server-side', '-k', join(root, 'deploy')]"],
  [/^helm install orrery deploy\/helm\/orrery/, 'test/helm.test.ts', "helm('install', 'orrery', chart)"],
  [/^orrery serve --kubeconfig HUB/, 'test/serve-hub.test.ts', "'serve', '--kubeconfig'"],
  [/^deploy\/image\/build\.sh$/, 'test/image.test.ts', "join(root, 'deploy', 'image', 'build.sh')"],
  [/^ORRERY_IMAGE=\S+ ORRERY_PUSH=1 deploy\/image\/build\.sh$/, 'deploy/image/build.sh', 'ORRERY_PUSH'],
  [/^podman run --rm --network host ghcr\.io\/orrery-dev\/orrery:[\d.]+$/, 'test/image.test.ts', "['run', '--rm', '--network', 'host', image"],
  [/^kubectl apply --server-side -k deploy\/member\/$/, 'test/hub-conventions.test.ts', "join(root, 'deploy', 'member')"],
  // the steps that give the hub a member are run as the README has them
  [/^(kubectl create token orrery|kubectl config |kubectl -n PROFILE_NAMESPACE create secret)/, 'test/hub-conventions.test.ts', 'readmeBlock('],
  // the steps by which a member joins from its side, likewise
  [
    /^(sed 's\/MEMBER_NAME\/member-1\/g|kubectl --context member-1 apply --server-side -k deploy\/member\/agent\/$|kubectl --context hub -n fleet get secret orrery-agent-member-1)/,
    'test/agent.test.ts',
    "'### A member that joins from its side'",
  ],
  [
    /^(sed 's\/MEMBER_NAME\/member-1\/g; s\/PROFILE_NAMESPACE\/fleet\/g' deploy\/member\/agent\/hub-identity-pull|kubectl --context member-1 apply --server-side -k deploy\/member\/agent-pull\/$|kubectl --context hub -n fleet delete secret member-1)/,
    'test/agent.test.ts',
    "'#### In pull mode'",
  ],
  [/^kubectl apply --server-side -k deploy\/argocd\/$/, 'test/deploy.test.ts', "join(root, 'deploy', 'argocd')"],
  [/^kubectl apply -f deploy\/argocd\/applicationset\.yaml$/, 'test/deploy.test.ts', "'applicationset.yaml'"],
  [/^orrery serve \.\.\. --argocd-cluster-secrets/, 'test/serve-hub.test.ts', "'--argocd-cluster-secrets'"],
];

let server: Serving | undefined;
let base = '';

before(async () => {
  server = await serving(process.execPath, [cli, 'serve', '--fleet', 'examples/fleet.yaml', '--placements', 'examples/placements.yaml', '--port', '0'], { cwd: root });
  base = server.url.replace('127.0.0.1', 'localhost');
});

after(async () => {
  await server?.stop();
});

test('the sample output of orrery plan is what it prints', () => {
  const samples = blocks.filter((b) => b.lang === 'console');
  assert.ok(samples.length > 0);
  for (const { body } of samples) {
    const [first, ...rest] = body.split('\n');
    const m = /^\$ npx orrery (.*)$/.exec(first ?? '');
    assert.ok(m?.[1] !== undefined, `a console block starts with $ npx orrery: ${first}`);
    const r = spawnSync(process.execPath, [cli, ...m[1].split(' ')], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const timeless = (t: string) => t.replace(/ in [\d.]+ ms/g, ' in N ms').trimEnd();
    assert.equal(timeless(r.stdout), timeless(rest.join('\n')));
  }
});

test("the CLI synopses are the commands' own --help", () => {
  const synopsis = blocks.filter((b) => b.lang === '' && b.body.startsWith('orrery '));
  assert.ok(synopsis.length > 0);
  const squeeze = (t: string) => t.replace(/\s+/g, ' ');
  for (const line of synopsis.flatMap((b) => b.body.trim().split('\n'))) {
    const command = line.split(' ')[1] ?? '';
    const help =
      command === '--version' ? spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' }).stdout : spawnSync(process.execPath, [cli, command, '--help'], { encoding: 'utf8' }).stdout;
    assert.ok(squeeze(help).includes(squeeze(line)), `orrery ${command} --help shows: ${line}\n${help}`);
  }
});

test('the curl lines of Try it answer against orrery serve on the example', () => {
  assert.equal(spawnSync(JQ, ['--version']).status, 0, 'jq, which the README names, is there');
  const tryIt = blocks.find((b) => b.lang === 'sh' && b.body.includes('curl -s localhost:8080'));
  assert.ok(tryIt !== undefined);
  // one curl a command: a JSON body may go on over several lines
  const lines: string[] = [];
  for (const l of tryIt.body.replace(/\\\n\s*/g, ' ').split('\n')) {
    if (l.startsWith('curl ')) lines.push(l);
    else if (l.trim() !== '' && !l.trim().startsWith('#')) lines[lines.length - 1] += `\n${l}`;
  }
  assert.ok(lines.length >= 8);
  for (const line of lines) {
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', line.replaceAll('localhost:8080', base.replace('http://', ''))], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${line}\n${r.stderr}`);
    const out = r.stdout.trim();
    assert.ok(out !== '' && out !== 'null' && !out.includes('"statusCode"'), `${line} answers: ${out.slice(0, 300)}`);
  }
});

test('every other command the README shows is run by a test that says so', () => {
  const shown = blocks.filter((b) => b.lang === 'sh' && !b.body.includes('curl -s localhost:8080')).flatMap((b) => commands(b.body));
  assert.ok(shown.length > 10);
  for (const command of shown) {
    const where = RUN_ELSEWHERE.find(([pattern]) => pattern.test(command));
    assert.ok(where !== undefined, `no test runs this README command: ${command}`);
    const [, file, evidence] = where;
    assert.ok(readFileSync(join(root, file), 'utf8').includes(evidence), `${file} runs ${command} (looked for ${evidence})`);
  }
});

test('the Placement and the snapshot file the README shows are valid as written', () => {
  const docs = blocks.filter((b) => b.lang === 'yaml').map((b) => load(b.body) as { kind?: string });
  const placement = docs.find((d) => d.kind === 'Placement');
  const snapshot = docs.find((d) => d.kind === 'FleetSnapshot');
  assert.ok(placement !== undefined && snapshot !== undefined);
  const p = checkPlacement(placement);
  assert.ok(p.ok, p.ok ? '' : formatIssues(p.error));
  const f = checkSnapshotDocument(snapshot);
  assert.ok(f.ok, f.ok ? '' : formatIssues(f.error));
});

test('every page the README links to is there', () => {
  const own = readFileSync(join(root, 'README.md'), 'utf8');
  const links = [...own.matchAll(/\]\(((?:docs|deploy)\/[^)#]+)\)/g)].map((m) => m[1] as string);
  assert.ok(links.length >= 4);
  for (const link of links) assert.ok(existsSync(join(root, link)), link);
});
