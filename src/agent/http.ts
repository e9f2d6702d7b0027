// The agent's own small HTTP endpoint, for its Pod's probes and for Prometheus: /healthz while the
// process runs, /readyz while its last report reached the hub, /metrics. The agent runs in every
// member on a small memory budget: node:http rather than the hub's server, and its handful of
// metrics written in the text format by hand (the metrics library alone costs it 12 MiB of RSS).

import { type Server, createServer } from 'node:http';
import { VERSION } from '../version.js';
import type { Agent } from './agent.js';

/** What the agent counts, and its metrics in Prometheus's text format. */
export class AgentMetrics {
  private readonly reports = { change: 0, heartbeat: 0 };
  private lastReport = 0;
  private nodes = 0;

  constructor(agent: Agent) {
    agent.on('reported', ({ changed, summary }) => {
      this.reports[changed ? 'change' : 'heartbeat']++;
      this.lastReport = Date.now() / 1000;
      if (summary !== undefined) this.nodes = summary.nodes;
    });
  }

  text(): string {
    const cpu = process.cpuUsage();
    const metric = (name: string, type: string, help: string, lines: readonly string[]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${lines.join('\n')}\n`;
    return [
      metric('orrery_agent_reports_total', 'counter', 'ClusterReports written to the hub, by why: a changed summary or a heartbeat.', [
        `orrery_agent_reports_total{reason="change"} ${this.reports.change}`,
        `orrery_agent_reports_total{reason="heartbeat"} ${this.reports.heartbeat}`,
      ]),
      metric('orrery_agent_last_report_timestamp_seconds', 'gauge', 'When the last ClusterReport reached the hub, in seconds since the epoch.', [
        `orrery_agent_last_report_timestamp_seconds ${this.lastReport}`,
      ]),
      metric('orrery_agent_member_nodes', 'gauge', 'Nodes of the member that take Pods, as last reported.', [`orrery_agent_member_nodes ${this.nodes}`]),
      metric('orrery_agent_build_info', 'gauge', 'The agent build: always 1.', [`orrery_agent_build_info{version="${VERSION}"} 1`]),
      metric('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', [`process_resident_memory_bytes ${process.memoryUsage.rss()}`]),
      metric('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.', [`process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`]),
    ].join('');
  }
}

export function agentServer(agent: Agent, metrics: AgentMetrics): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') send(405, 'only GET\n');
    else if (path === '/healthz') send(200, 'ok\n');
    else if (path === '/readyz') send(agent.healthy() ? 200 : 503, agent.healthy() ? 'ok\n' : 'the last report did not reach the hub\n');
    else if (path === '/metrics') send(200, metrics.text(), 'text/plain; version=0.0.4; charset=utf-8');
    else send(404, 'not found: /healthz, /readyz and /metrics are served\n');
  });
}
