// The agent's own small HTTP endpoint, for its Pod's probes and for Prometheus: /healthz while the
// process runs, /readyz while its last report reached the hub, /metrics. No API of its own, so
// the agent stays a small process (node:http, not the hub's server).

import { type Server, createServer } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { VERSION } from '../version.js';
import type { Agent } from './agent.js';

export function agentMetrics(agent: Agent): Registry {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const reports = new Counter({ name: 'orrery_agent_reports_total', help: 'ClusterReports written to the hub, by why: a changed summary or a heartbeat.', labelNames: ['reason'], registers });
  const last = new Gauge({ name: 'orrery_agent_last_report_timestamp_seconds', help: 'When the last ClusterReport reached the hub, in seconds since the epoch.', registers });
  const nodes = new Gauge({ name: 'orrery_agent_member_nodes', help: 'Nodes of the member that take Pods, as last reported.', registers });
  new Gauge({ name: 'orrery_agent_build_info', help: 'The agent build: always 1.', labelNames: ['version'], registers }).set({ version: VERSION }, 1);
  agent.on('reported', ({ changed, summary }) => {
    reports.inc({ reason: changed ? 'change' : 'heartbeat' });
    last.set(Date.now() / 1000);
    if (summary !== undefined) nodes.set(summary.nodes);
  });
  return registry;
}

export function agentServer(agent: Agent, registry: Registry): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') send(405, 'only GET\n');
    else if (path === '/healthz') send(200, 'ok\n');
    else if (path === '/readyz') send(agent.healthy() ? 200 : 503, agent.healthy() ? 'ok\n' : 'the last report did not reach the hub\n');
    else if (path === '/metrics') void registry.metrics().then((text) => send(200, text, registry.contentType));
    else send(404, 'not found: /healthz, /readyz and /metrics are served\n');
  });
}
