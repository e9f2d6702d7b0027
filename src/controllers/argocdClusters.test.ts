import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { clusterSecretFor, clusterSecretName, fromKubeconfig, fromProvider } from './argocdClusters.js';

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = { server: 'https://m:6443', 'certificate-authority-data': 'Q0E=' }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'm', cluster }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'c', context: { cluster: 'm', user: 'u' } }],
      'current-context': 'c',
    }),
  );
  return kc;
}

test('from a kubeconfig: a token, a client certificate or an exec plugin, with the CA', () => {
  assert.deepEqual(fromKubeconfig(kubeconfig({ token: 't' })), { ok: true, value: { server: 'https://m:6443', config: { bearerToken: 't', tlsClientConfig: { caData: 'Q0E=' } } } });
  assert.deepEqual(fromKubeconfig(kubeconfig({ 'client-certificate-data': 'Y2VydA==', 'client-key-data': 'a2V5' })), {
    ok: true,
    value: { server: 'https://m:6443', config: { tlsClientConfig: { caData: 'Q0E=', certData: 'Y2VydA==', keyData: 'a2V5' } } },
  });
  const exec = fromKubeconfig(kubeconfig({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'get-token', args: ['--cluster', 'm'], env: [{ name: 'REGION', value: 'eu' }] } }));
  assert.deepEqual(exec.ok && exec.value.config.execProviderConfig, { command: 'get-token', args: ['--cluster', 'm'], env: { REGION: 'eu' }, apiVersion: 'client.authentication.k8s.io/v1' });
});

test('from a kubeconfig Argo CD cannot use: said why', () => {
  const files = fromKubeconfig(kubeconfig({ token: 't' }, { server: 'https://m:6443', 'certificate-authority': '/etc/ca.crt' }));
  assert.deepEqual(files, { ok: false, error: 'its kubeconfig refers to files, which Argo CD cannot read: give the data inline' });
  const none = fromKubeconfig(kubeconfig({ username: 'a', password: 'b' }));
  assert.equal(none.ok, false);
});

test("from the provider file: the exec plugin for Argo CD to run, the access provider's server, CA and TLS name", () => {
  const r = fromProvider(
    { server: 'https://m:6443', 'certificate-authority-data': 'Q0E=', 'tls-server-name': 'm.internal' },
    { command: 'cp-creds', args: ['--profile', 'x'], apiVersion: 'client.authentication.k8s.io/v1', provideClusterInfo: true },
  );
  assert.deepEqual(r, {
    ok: true,
    value: {
      server: 'https://m:6443',
      config: { execProviderConfig: { command: 'cp-creds', args: ['--profile', 'x'], apiVersion: 'client.authentication.k8s.io/v1' }, tlsClientConfig: { caData: 'Q0E=', serverName: 'm.internal' } },
    },
  });
  assert.deepEqual(fromProvider({}, { command: 'x' }), { ok: false, error: 'its access provider gives no server' });
});

test("the Secret: named after the profile, its labels and Orrery's marks, name/server/config as Argo CD reads them", () => {
  const s = clusterSecretFor(
    { metadata: { name: 'eu-1', namespace: 'fleet', labels: { env: 'prod', 'app.kubernetes.io/managed-by': 'ocm' } } },
    { server: 'https://m:6443', config: { bearerToken: 't', tlsClientConfig: {} } },
    'argocd',
  );
  assert.equal(s.metadata.name, 'cluster-eu-1');
  assert.deepEqual(s.metadata.labels, {
    env: 'prod',
    'app.kubernetes.io/managed-by': 'orrery',
    'argocd.argoproj.io/secret-type': 'cluster',
    'placement.orrery.dev/cluster-profile': 'eu-1',
    'placement.orrery.dev/cluster-profile-namespace': 'fleet',
  });
  const text = (k: 'name' | 'server' | 'config') => Buffer.from(s.data[k], 'base64').toString('utf8');
  assert.deepEqual([text('name'), text('server'), JSON.parse(text('config'))], ['eu-1', 'https://m:6443', { bearerToken: 't', tlsClientConfig: {} }]);
  assert.ok(clusterSecretName('x'.repeat(260)).length <= 253);
});
