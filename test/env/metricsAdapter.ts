// A small external metrics adapter for a test hub: an HTTPS server that serves
// external.metrics.k8s.io/v1beta1 with values the test sets, registered with the hub's
// aggregator through an APIService. The hub reaches it through an ExternalName Service (the
// aggregator resolves it by name; there is no kube-proxy for a ClusterIP here).

import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ControlPlane } from './fleet.js';
import { call, eventually } from './kube.js';

const GROUP_VERSION = 'external.metrics.k8s.io/v1beta1';

export class MetricsAdapter {
  /** metric name → value (a quantity) */
  private readonly values = new Map<string, string>();
  private constructor(private readonly server: Server) {}

  /** Starts the adapter on a free port and registers it with the hub; resolves once the hub serves it. */
  static async start(hub: ControlPlane): Promise<MetricsAdapter> {
    // the hub's own serving certificate will do: the APIService skips verification
    const tls = { key: readFileSync(join(hub.dir, 'certs', 'apiserver.key')), cert: readFileSync(join(hub.dir, 'certs', 'apiserver.crt')) };
    let adapter: MetricsAdapter | undefined;
    const server = createServer(tls, (req, res) =>
      adapter?.answer(req.url ?? '/', (status, body) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      }),
    );
    adapter = new MetricsAdapter(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const ep = hub.endpoint();
    await call(ep, 'POST', '/api/v1/namespaces/default/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'metrics-adapter' },
      spec: { type: 'ExternalName', externalName: 'localhost', ports: [{ name: 'https', port, protocol: 'TCP' }] },
    });
    await call(ep, 'POST', '/apis/apiregistration.k8s.io/v1/apiservices', {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1beta1.external.metrics.k8s.io' },
      spec: {
        group: 'external.metrics.k8s.io',
        version: 'v1beta1',
        insecureSkipTLSVerify: true,
        groupPriorityMinimum: 100,
        versionPriority: 100,
        service: { namespace: 'default', name: 'metrics-adapter', port },
      },
    });
    await eventually(
      'the external metrics API served by the hub',
      async () => {
        const got = await call<{ status?: { conditions?: { type: string; status: string }[] } }>(ep, 'GET', '/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.external.metrics.k8s.io');
        return got.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ? true : undefined;
      },
      60_000,
    );
    return adapter;
  }

  set(metric: string, value: string): void {
    this.values.set(metric, value);
  }

  stop(): void {
    this.server.close();
    this.server.closeAllConnections();
  }

  private answer(url: string, send: (status: number, body: unknown) => void): void {
    const path = url.split('?')[0] ?? '';
    if (path === `/apis/${GROUP_VERSION}`) {
      send(200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: GROUP_VERSION, resources: [{ name: '*', namespaced: true, kind: 'ExternalMetricValueList', verbs: ['get'] }] });
      return;
    }
    const m = new RegExp(`^/apis/${GROUP_VERSION}/namespaces/([^/]+)/([^/]+)$`).exec(path);
    const value = m !== null ? this.values.get(decodeURIComponent(m[2]!)) : undefined;
    if (m === null || value === undefined) {
      send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `no metric at ${path}` });
      return;
    }
    send(200, {
      kind: 'ExternalMetricValueList',
      apiVersion: GROUP_VERSION,
      metadata: {},
      items: [{ metricName: m[2], metricLabels: {}, timestamp: new Date().toISOString(), value }],
    });
  }
}
