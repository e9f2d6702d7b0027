import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dump } from 'js-yaml';
import { PLUGIN, inClusterConnection, kubeconfigConnection } from './connection.js';

const dir = mkdtempSync(join(tmpdir(), 'orrery-connection-'));
const b64 = (s: string) => Buffer.from(s).toString('base64');

function kubeconfig(name: string, doc: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, dump(doc));
  return file;
}

const doc = {
  apiVersion: 'v1',
  kind: 'Config',
  'current-context': 'hub',
  clusters: [
    { name: 'hub', cluster: { server: 'https://hub.example:6443', 'certificate-authority-data': b64('HUB CA'), 'tls-server-name': 'hub.internal' } },
    { name: 'other', cluster: { server: 'https://other.example', 'insecure-skip-tls-verify': true } },
  ],
  users: [
    { name: 'agent', user: { token: 'abc' } },
    { name: 'cert', user: { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') } },
    { name: 'plugin', user: { exec: { command: 'aws' } } },
  ],
  contexts: [
    { name: 'hub', context: { cluster: 'hub', user: 'agent' } },
    { name: 'other', context: { cluster: 'other', user: 'cert' } },
    { name: 'plugin', context: { cluster: 'hub', user: 'plugin' } },
  ],
};

async function optionsOf(c: { applyToHTTPSOptions(o: RequestOptions): Promise<void> }): Promise<RequestOptions> {
  const opts: RequestOptions = { headers: { accept: 'application/json' } };
  await c.applyToHTTPSOptions(opts);
  return opts;
}

test('a kubeconfig context: its server, CA, server name and token', async () => {
  const c = kubeconfigConnection(kubeconfig('a', doc));
  assert.ok(c.ok && c.value !== PLUGIN);
  assert.equal(c.value.getCurrentCluster()?.server, 'https://hub.example:6443');
  const o = await optionsOf(c.value);
  assert.equal(String(o.ca), 'HUB CA');
  assert.equal(o.servername, 'hub.internal');
  assert.deepEqual(o.headers, { accept: 'application/json', authorization: 'Bearer abc' });
  assert.equal(o.rejectUnauthorized, undefined);
});

test('another context: a client certificate, no verification asked for', async () => {
  const c = kubeconfigConnection(kubeconfig('b', doc), 'other');
  assert.ok(c.ok && c.value !== PLUGIN);
  const o = await optionsOf(c.value);
  assert.equal(String(o.cert), 'CERT');
  assert.equal(String(o.key), 'KEY');
  assert.equal(o.rejectUnauthorized, false);
  assert.equal((o.headers as Record<string, string>).authorization, undefined);
});

test('a token file gives the token', async () => {
  const token = join(dir, 'token');
  writeFileSync(token, 'first\n');
  const c = kubeconfigConnection(kubeconfig('c', { ...doc, users: [{ name: 'agent', user: { tokenFile: token } }] }));
  assert.ok(c.ok && c.value !== PLUGIN);
  assert.equal(((await optionsOf(c.value)).headers as Record<string, string>).authorization, 'Bearer first');
});

test('a plugin credential is named as such; a kubeconfig that cannot be used says why', () => {
  const plugin = kubeconfigConnection(kubeconfig('d', doc), 'plugin');
  assert.deepEqual(plugin, { ok: true, value: PLUGIN });
  const file = kubeconfig('e', doc);
  assert.deepEqual(kubeconfigConnection(file, 'nowhere'), { ok: false, error: `no context "nowhere" in ${file} (contexts: hub, other, plugin)` });
  const empty = kubeconfig('f', { kind: 'Config' });
  assert.deepEqual(kubeconfigConnection(empty), { ok: false, error: `${empty}: not a kubeconfig (it has no contexts)` });
  const noServer = kubeconfig('g', { ...doc, clusters: [{ name: 'hub', cluster: { server: 'not a url' } }] });
  assert.deepEqual(kubeconfigConnection(noServer), { ok: false, error: `${noServer}: cluster "hub" has no valid server URL ("not a url")` });
  const absent = kubeconfigConnection(join(dir, 'absent'));
  assert.ok(!absent.ok);
  assert.match(absent.error, /ENOENT/);
  const { KUBERNETES_SERVICE_HOST: _h, KUBERNETES_SERVICE_PORT: _p, ...env } = process.env;
  const saved = process.env;
  process.env = env;
  try {
    const inCluster = inClusterConnection();
    assert.ok(!inCluster.ok);
    assert.match(inCluster.error, /not in a Pod/);
  } finally {
    process.env = saved;
  }
});
