#!/usr/bin/env node
// orrery: thin commands over the core. Parse flags, load files, call the core, print.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { dump, load } from 'js-yaml';
import { VERSION } from '../version.js';
import { HEARTBEAT_MS, REPORT_MAX_AGE_MS } from '../fleet/report.js';
import { FLOORS, isFloor, placementKey } from '../core/model.js';
import type { Decision, Placement, ScheduleResult } from '../core/model.js';
import { humanBytes, humanMilli } from '../core/quantity.js';
import type { ProviderFile } from '../fleet/access.js';
import type { LoadedFleet } from '../fleet/snapshotFile.js';
import { type Result, formatIssues, ok } from '../core/result.js';
import { table } from './table.js';
import { counted } from '../core/words.js';

/** Each command's flags and what it does: `orrery COMMAND --help` prints its entry. */
const COMMANDS: Record<string, { readonly summary: string; readonly usage: string; readonly notes?: string }> = {
  serve: {
    summary: 'Serve the HTTP API: embedded on a snapshot file, or as the scheduler on a hub',
    usage: `orrery serve --fleet FILE [--placements FILE] [--port N] [--address ADDR] [--token-file FILE]
orrery serve (--kubeconfig HUB | --context CTX | --in-cluster) [--clusterprofile-provider-file FILE] [--namespace NS]
             [--lease-namespace NS] [--lease-seconds N] [--port N] [--address ADDR]
             [--argocd-namespace NS] [--argocd-cluster-secrets] [--report-max-age-seconds N]`,
    notes: `Embedded: the fleet file and Placements kept in memory (PUT/DELETE through the API).
On a hub: watches ClusterProfiles (every namespace, or NS) and Placements, schedules, writes
status and PlacementDecisions, and applies the workloads in the members. One instance at a time
writes: the holder of the Lease orrery-scheduler in --lease-namespace (default: the Pod's own
namespace in a Pod, else "default"). --in-cluster uses the Pod's ServiceAccount; --context a
context of KUBECONFIG (or ~/.kube/config) as kubectl reads it.
Placements with spec.delivery External are published as ClusterDecisions in --argocd-namespace
(default "argocd") for Argo CD's ClusterDecisionResource generator; --argocd-cluster-secrets also
keeps one Argo CD cluster Secret there for every ClusterProfile.
A member whose agent (orrery agent) writes a ClusterReport is read from it; a report not renewed
for --report-max-age-seconds (default ${REPORT_MAX_AGE_MS / 1000}) makes its member unreadable, as a member out of reach is.
Environment: PORT (default port, 8080), ORRERY_TOKEN (embedded: the bearer token),
ORRERY_LOG=info (log every request; embedded, the default is no request log) or off (none on a hub).`,
  },
  plan: {
    summary: "Decide where every Placement's replicas go on a fleet snapshot file",
    usage: 'orrery plan --fleet FILE [--placements FILE] [--previous FILE] [--solver auto|FLOOR] [--budget-ms N] [-o table|wide|name|json|yaml]',
    notes: `Without --placements, the placements listed in the fleet file. --previous takes the JSON
output of an earlier plan: replicas stay where they were unless something changed.
--solver FLOOR (greedy, best-fit, node-best-fit, least-fragmentation) gives that floor alone, a baseline the solver is measured against.
--budget-ms bounds the solve: past it, the better floor stands.
-o wide adds each placement's priority and message; -o name prints NAMESPACE/NAME, one a line.`,
  },
  capacity: {
    summary: 'Free and allocatable cpu, memory, pods and devices per cluster, region and device class',
    usage: 'orrery capacity --fleet FILE [--placements FILE] [-o table|wide|name|json|yaml]',
    notes: `Free is what the placements (of --placements, else of the fleet file) leave once scheduled,
as GET /v1/capacity answers on the same files. Unhealthy or unreachable clusters are listed, not counted.
-o wide adds each cluster's zone and labels; -o name prints the cluster names.`,
  },
  explain: {
    summary: 'Why one placement can or cannot go to each cluster, and how each scored',
    usage: 'orrery explain NAMESPACE/NAME --fleet FILE [--placements FILE] [-o table|wide|name|json|yaml]',
    notes: `The placements are scheduled first; the placement is then explained against what the
others leave, with the scores the solver used and their weights, as the API's explain answers.
-o wide adds each cluster's region; -o name prints the clusters it may go to.`,
  },
  fleet: {
    summary: 'Read the fleet from a live hub and print it as a snapshot file',
    usage: 'orrery fleet [--kubeconfig HUB] [--context CTX] [--clusterprofile-provider-file FILE] [--namespace NS] [-o yaml|json|name]',
    notes: `The hub is read as kubectl reads it: --kubeconfig, else KUBECONFIG, else ~/.kube/config,
in its current context or --context. -o name prints the clusters' names.`,
  },
  agent: {
    summary: "Run in a member: report the member's capacity to the hub as its ClusterReport",
    usage: `orrery agent --cluster-name NAME --cluster-namespace NS --hub-kubeconfig FILE
             [--kubeconfig FILE | --context CTX | --in-cluster] [--heartbeat-seconds N] [--pull] [--port N] [--address ADDR]`,
    notes: `Reads the member (its Nodes, Pods and DRA objects) with the member's own identity: --in-cluster
in a Pod, else a kubeconfig as kubectl finds it. Writes the summary to the hub, as the
ClusterReport NAME in namespace NS (those of the member's ClusterProfile), when it changes and
every --heartbeat-seconds (default ${HEARTBEAT_MS / 1000}) when it does not; the hub reads members with a fresh report
from it, and no longer reads them itself. On the hub it needs only to apply that one object.
--pull: the agent also carries out its member's share of the decisions (it reads the Placements
on the hub and applies their workloads in the member), and the hub never connects to the member.
Serves /healthz, /readyz (the last report reached the hub) and /metrics on --port (default 8080).`,
  },
  completion: {
    summary: 'Print a shell completion script for bash or zsh',
    usage: 'orrery completion bash|zsh',
    notes: `bash: source <(orrery completion bash)   zsh: source <(orrery completion zsh)`,
  },
};

type Flag = { readonly type: 'string' | 'boolean'; readonly short?: string };

/** Every command's flags: what parseArgs reads and what shell completion offers. */
const FLAGS = {
  serve: {
    fleet: { type: 'string' },
    placements: { type: 'string' },
    port: { type: 'string' },
    address: { type: 'string' },
    'token-file': { type: 'string' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    'in-cluster': { type: 'boolean' },
    'clusterprofile-provider-file': { type: 'string' },
    namespace: { type: 'string', short: 'n' },
    'lease-namespace': { type: 'string' },
    'lease-seconds': { type: 'string' },
    'argocd-namespace': { type: 'string' },
    'argocd-cluster-secrets': { type: 'boolean' },
    'report-max-age-seconds': { type: 'string' },
  },
  plan: {
    fleet: { type: 'string' },
    placements: { type: 'string' },
    previous: { type: 'string' },
    solver: { type: 'string' },
    'budget-ms': { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  capacity: { fleet: { type: 'string' }, placements: { type: 'string' }, output: { type: 'string', short: 'o' } },
  explain: { fleet: { type: 'string' }, placements: { type: 'string' }, output: { type: 'string', short: 'o' } },
  fleet: {
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    'clusterprofile-provider-file': { type: 'string' },
    namespace: { type: 'string', short: 'n' },
    output: { type: 'string', short: 'o' },
  },
  agent: {
    'cluster-name': { type: 'string' },
    'cluster-namespace': { type: 'string' },
    'hub-kubeconfig': { type: 'string' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    'in-cluster': { type: 'boolean' },
    'heartbeat-seconds': { type: 'string' },
    pull: { type: 'boolean' },
    port: { type: 'string' },
    address: { type: 'string' },
  },
  completion: {},
} as const satisfies Record<string, Record<string, Flag>>;

const USAGE = `Usage: orrery <command> [flags]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

orrery <command> --help shows a command's flags; orrery --version prints the version.
`;

function commandHelp(name: string): string {
  const c = COMMANDS[name]!;
  return `${c.summary}.\n\nUsage:\n  ${c.usage.replace(/\n/g, '\n  ')}\n${c.notes !== undefined ? `\n${c.notes}\n` : ''}`;
}

class UsageError extends Error {}

const OUTPUTS = ['table', 'wide', 'name', 'json', 'yaml'] as const;
type Output = (typeof OUTPUTS)[number];

function outputOf(v: string | undefined, allowed: readonly Output[] = OUTPUTS): Output {
  const o = v ?? allowed[0];
  if (!allowed.includes(o as Output)) throw new UsageError(`--output must be ${words(allowed)}, not "${o}"`);
  return o as Output;
}

function words(list: readonly string[]): string {
  return list.length < 2 ? list.join('') : `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** The value as JSON or YAML, its names one a line, or a table (wide: with more columns). */
function render(value: unknown, output: Output, asTable: (wide: boolean) => string, names: () => readonly string[]): string {
  if (output === 'json') return JSON.stringify(value, null, 2);
  if (output === 'yaml') return dump(value, { noRefs: true, lineWidth: 120 });
  if (output === 'name') return names().join('\n');
  return asTable(output === 'wide');
}

async function plan(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: FLAGS.plan, strict: true });
  if (values.fleet === undefined) throw new UsageError('plan needs --fleet FILE');
  const output = outputOf(values.output);
  const solver = values.solver ?? 'auto';
  if (solver !== 'auto' && !isFloor(solver)) throw new UsageError(`--solver must be auto, ${FLOORS.join(', ')}, not "${solver}"`);
  const budget = values['budget-ms'] === undefined ? undefined : Number(values['budget-ms']);
  if (budget !== undefined && !(Number.isInteger(budget) && budget > 0)) throw new UsageError(`--budget-ms must be a positive whole number, not "${values['budget-ms']}"`);
  const inputs = await loadInputs(values.fleet, values.placements);
  if (!inputs.ok) return fail(inputs.error);
  const { snapshot, placements } = inputs.value;
  let previous: Decision[] | undefined;
  if (values.previous !== undefined) {
    const p = readPrevious(values.previous);
    if (typeof p === 'string') return fail(p);
    previous = p;
  }
  // the core (and its solvers, a WASM module among them) is loaded by the commands that plan only
  const { FleetState } = await import('../core/fleetState.js');
  const result = FleetState.start(snapshot, placements, {
    solver,
    clock: () => performance.now(),
    ...(budget !== undefined ? { budgetMs: budget } : {}),
    ...(previous !== undefined ? { previous } : {}),
  }).result;
  print(
    render(
      result,
      output,
      (wide) => planTable(result, wide ? placements : undefined),
      () => result.decisions.map((d) => d.placement),
    ),
  );
  return 0;
}

/** The fleet file and the placements: those of --placements, else the fleet file's own. */
async function loadInputs(fleetFile: string, placementsFile: string | undefined): Promise<Result<LoadedFleet, string>> {
  const { loadFleet, loadPlacements } = await import('../fleet/snapshotFile.js');
  const fleet = await loadFleet(fleetFile);
  if (!fleet.ok || placementsFile === undefined) return fleet;
  const placements = await loadPlacements(placementsFile);
  return placements.ok ? ok({ snapshot: fleet.value.snapshot, placements: placements.value }) : placements;
}

function readPrevious(file: string): Decision[] | string {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { decisions?: unknown };
    if (!Array.isArray(parsed.decisions)) return `${file}: expected the JSON output of orrery plan, with a decisions list`;
    return parsed.decisions as Decision[];
  } catch (e) {
    return `${file}: ${(e as Error).message}`;
  }
}

/** The decisions as a table; wide (given the placements) with each one's priority and message. */
function planTable(result: ScheduleResult, wide?: readonly Placement[]): string {
  const priority = new Map((wide ?? []).map((p) => [placementKey(p), String(p.spec.priority ?? 0)]));
  const rows = result.decisions.map((d) => {
    const placed = d.clusters.reduce((s, c) => s + c.replicas, 0);
    return [
      d.placement,
      String(placed + d.unscheduledReplicas),
      String(placed),
      String(d.unscheduledReplicas),
      d.clusters.length === 0 ? '<none>' : d.clusters.map((c) => `${c.name}=${c.replicas}`).join(','),
      d.reason,
      ...(wide !== undefined ? [priority.get(d.placement) ?? '-', d.message] : []),
    ];
  });
  let out = table(['PLACEMENT', 'REPLICAS', 'SCHEDULED', 'UNSCHEDULED', 'CLUSTERS', 'REASON', ...(wide !== undefined ? ['PRIORITY', 'MESSAGE'] : [])], rows);
  const notes = wide !== undefined ? [] : result.decisions.filter((d) => d.unscheduledReplicas > 0);
  if (notes.length > 0) out += `\n${notes.map((d) => `${d.placement}: ${d.message}`).join('\n')}\n`;
  const s = result.stats;
  out += `\n${counted(s.placedReplicas, 'replica')} placed, ${s.unscheduledReplicas} unscheduled; ${counted(s.placements, 'placement')} on ${counted(s.clusters, 'cluster')} in ${s.solveMs.toFixed(1)} ms (${s.solver}); worth ${s.value.toFixed(4)} of the fleet\n`;
  return out;
}

async function capacity(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: FLAGS.capacity, strict: true });
  if (values.fleet === undefined) throw new UsageError('capacity needs --fleet FILE');
  const output = outputOf(values.output);
  const inputs = await loadInputs(values.fleet, values.placements);
  if (!inputs.ok) return fail(inputs.error);
  const { snapshot, placements } = inputs.value;
  const [{ FleetState }, { capacityReport, reportAsQuantities }] = await Promise.all([import('../core/fleetState.js'), import('../core/capacity.js')]);
  const report = capacityReport(FleetState.start(snapshot, placements).occupied());
  if (output === 'name') {
    print(report.clusters.map((c) => c.name).join('\n'));
    return 0;
  }
  if (output === 'json' || output === 'yaml') {
    // Machine output in Kubernetes quantities, the way the snapshot file writes them.
    print(
      render(
        reportAsQuantities(report),
        output,
        () => '',
        () => [],
      ),
    );
    return 0;
  }
  const wide = output === 'wide';
  const byName = new Map(snapshot.clusters.map((c) => [c.name, c]));
  const labelsOf = (name: string) =>
    Object.entries(byName.get(name)?.labels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',') || '<none>';
  const devices = (d: Record<string, { total: number; free: number }>) =>
    Object.keys(d).length === 0
      ? '<none>'
      : Object.entries(d)
          .sort((a, b) => (a[0] < b[0] ? -1 : 1))
          .map(([k, v]) => `${k}=${v.free}/${v.total}`)
          .join(',');
  const freeOf = (r: { free: { cpu: number; memory: number; pods: number }; allocatable: { cpu: number; memory: number; pods: number } }) => [
    `${humanMilli(r.free.cpu)}/${humanMilli(r.allocatable.cpu)}`,
    `${humanBytes(r.free.memory)}/${humanBytes(r.allocatable.memory)}`,
    `${r.free.pods}/${r.allocatable.pods}`,
  ];
  let out = table(
    ['CLUSTER', 'REGION', ...(wide ? ['ZONE'] : []), 'HEALTHY', 'CPU', 'MEMORY', 'PODS', 'DEVICES (FREE/TOTAL)', ...(wide ? ['LABELS'] : [])],
    report.clusters.map((c) => [
      c.name,
      c.region,
      ...(wide ? [byName.get(c.name)?.location.zone ?? '<none>'] : []),
      c.healthy ? 'True' : 'False',
      ...freeOf(c),
      devices(c.devices),
      ...(wide ? [labelsOf(c.name)] : []),
    ]),
  );
  out += `\n${table(
    ['REGION', 'CLUSTERS', 'CPU', 'MEMORY', 'PODS', 'DEVICES (FREE/TOTAL)'],
    [...report.regions, report.total].map((r) => [r.name, String(r.clusters), ...freeOf(r), devices(r.devices)]),
  )}`;
  if (report.deviceClasses.length > 0) {
    out += `\n${table(
      ['DEVICE CLASS', 'CLUSTERS', 'FREE', 'TOTAL'],
      report.deviceClasses.map((d) => [d.deviceClassName, String(d.clusters), String(d.free), String(d.total)]),
    )}`;
  }
  if (report.extendedResources.length > 0) {
    out += `\n${table(
      ['EXTENDED RESOURCE', 'CLUSTERS', 'FREE', 'TOTAL'],
      report.extendedResources.map((d) => [d.resourceName, String(d.clusters), String(d.free), String(d.total)]),
    )}`;
  }
  out += `\nFree/allocatable after ${placements.length} placements; unhealthy clusters are left out of the sums.\n`;
  print(out);
  return 0;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: FLAGS.serve, strict: true });
  if (values.kubeconfig !== undefined || values.context !== undefined || values['in-cluster'] === true) return serveHub(values);
  if (values.fleet === undefined) throw new UsageError('serve needs --fleet FILE');
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not "${values.port ?? process.env.PORT}"`);
  const address = values.address ?? '127.0.0.1';
  let token = process.env.ORRERY_TOKEN;
  if (values['token-file'] !== undefined) {
    try {
      token = readFileSync(values['token-file'], 'utf8').trim();
    } catch (e) {
      return fail(`${values['token-file']}: ${(e as Error).message}`);
    }
    if (token === '') return fail(`${values['token-file']}: the token file is empty`);
  }
  if (token === undefined && !LOOPBACK.has(address)) {
    return fail(`refusing to listen on ${address} without a token: set ORRERY_TOKEN or --token-file, or listen on 127.0.0.1`);
  }
  const inputs = await loadInputs(values.fleet, values.placements);
  if (!inputs.ok) return fail(inputs.error);
  const [{ buildApp }, { EmbeddedEngine }, { Metrics }, { LoopbackOnly, StaticToken }] = await Promise.all([
    import('../server/app.js'),
    import('../embedded/engine.js'),
    import('../server/metrics.js'),
    import('../server/auth.js'),
  ]);
  let engine: InstanceType<typeof EmbeddedEngine> | undefined;
  const metrics = new Metrics(() => engine);
  engine = new EmbeddedEngine(inputs.value.snapshot, inputs.value.placements, { observe: metrics.observe });
  // On a laptop the request log only floods the terminal: asked for, it is there.
  const app = await buildApp({ engine, metrics, auth: token !== undefined ? new StaticToken(token) : new LoopbackOnly(), logger: process.env.ORRERY_LOG === 'info' });
  const url = await app.listen({ port, host: address });
  process.stderr.write(`orrery: serving ${counted(inputs.value.snapshot.clusters.length, 'cluster')} and ${counted(inputs.value.placements.length, 'placement')} on ${url} (docs at ${url}/docs)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => void app.close().then(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** Where the hub's credentials come from: a kubeconfig as kubectl finds it, or the Pod's own. */
interface HubAccess {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly inCluster?: boolean | undefined;
}

/**
 * A client for the hub and the provider file. Without --kubeconfig the kubeconfig is found as
 * kubectl finds it (KUBECONFIG, a list of files, else ~/.kube/config); --context picks one of its
 * contexts. The Kubernetes client is loaded only by the commands that talk to a cluster.
 */
async function connectHub(access: HubAccess, providerFile: string | undefined): Promise<Result<{ hub: import('../fleet/client.js').ApiClient; providers: ProviderFile | undefined }, string>> {
  // members the hub reaches itself need the Kubernetes client library: said plainly before anything else
  const tooOld = kubeClientTooNew();
  if (tooOld !== undefined) return refused(tooOld);
  const hub = await connectCluster(access);
  if (!hub.ok) return hub;
  let providers: ProviderFile | undefined;
  if (providerFile !== undefined) {
    const { loadProviderFile } = await import('../fleet/access.js');
    const loaded = await loadProviderFile(providerFile);
    if (!loaded.ok) return loaded;
    providers = loaded.value;
  }
  return ok({ hub: hub.value, providers });
}

/**
 * A client for a cluster, its kubeconfig found as kubectl finds it, or the Pod's own. One file
 * whose context holds a token or a certificate, and the Pod's ServiceAccount, are read without
 * the Kubernetes client library (fleet/connection.ts: it costs 80 MiB); several files, or a
 * credential plugin, load it (`plugins: false`: refused instead).
 */
async function connectCluster(access: HubAccess, opts: { plugins?: boolean } = {}): Promise<Result<import('../fleet/client.js').ApiClient, string>> {
  const [{ ApiClient }, { PLUGIN, inClusterConnection, kubeconfigConnection }] = await Promise.all([import('../fleet/client.js'), import('../fleet/connection.js')]);
  if (access.inCluster === true) {
    const c = inClusterConnection();
    return c.ok ? ok(new ApiClient(c.value)) : c;
  }
  const files = kubeconfigFiles(access.kubeconfig);
  if (files.length === 0) return refused('no kubeconfig: give --kubeconfig FILE, set KUBECONFIG, or write ~/.kube/config (or run in a Pod with --in-cluster)');
  for (const file of files) {
    const problem = fileProblem(file, 'kubeconfig') ?? notKubeconfig(file);
    if (problem !== undefined) return refused(problem);
  }
  if (files.length === 1) {
    const c = kubeconfigConnection(files[0] as string, access.context);
    if (!c.ok) return c;
    if (c.value !== PLUGIN) return ok(new ApiClient(c.value));
    if (opts.plugins === false) return refused(`${files[0]}: a token or a client certificate is needed here, not an exec plugin or auth provider`);
  }
  const tooOld = kubeClientTooNew();
  if (tooOld !== undefined) return refused(tooOld);
  let KubeConfig: typeof import('@kubernetes/client-node').KubeConfig;
  try {
    ({ KubeConfig } = await import('@kubernetes/client-node'));
  } catch (e) {
    return refused(kubeClientProblem(e));
  }
  const kc = new KubeConfig();
  try {
    if (files.length === 1) kc.loadFromFile(files[0] as string);
    else kc.loadFromDefault();
  } catch (e) {
    return refused(`reading the kubeconfig ${files.join(delimiter)}: ${(e as Error).message}`);
  }
  const where = files.join(delimiter);
  if (access.context !== undefined) {
    if (kc.getContextObject(access.context) === null)
      return refused(
        `no context "${access.context}" in ${where} (contexts: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
      );
    kc.setCurrentContext(access.context);
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    return refused(
      kc.getContexts().length === 0 ? `${where}: not a kubeconfig (it has no contexts)` : `${where}: the current context "${kc.getCurrentContext()}" names no cluster; pick one with --context`,
    );
  }
  if (!URL.canParse(cluster.server)) return refused(`${where}: cluster "${cluster.name}" has no valid server URL ("${cluster.server}")`);
  return ok(new ApiClient(kc));
}

/**
 * Whether the Kubernetes client would fail as it loads on this Node.js: installed from npm it
 * brings undici 8, which needs Node.js 22.19 or newer (a clone pins undici 7 in its lockfile).
 * Loading it to find out would crash the process, so its version is read instead.
 */
function kubeClientTooNew(): string | undefined {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 19)) return undefined;
  try {
    const require = createRequire(import.meta.url);
    const client = require.resolve('@kubernetes/client-node');
    const undici = require(require.resolve('undici/package.json', { paths: [dirname(client)] })) as { version: string };
    if (Number(undici.version.split('.')[0]) < 8) return undefined;
    return `talking to a cluster needs Node.js 22.19 or newer with the Kubernetes client installed here (undici ${undici.version}); this is Node.js ${process.versions.node}. Planning on snapshot files works on it; the image runs Node.js 24`;
  } catch {
    return undefined;
  }
}

function kubeClientProblem(e: unknown): string {
  return `the Kubernetes client could not be loaded: ${(e as Error).message}`;
}

function refused(error: string): { ok: false; error: string } {
  return { ok: false, error };
}

/** The kubeconfig files kubectl would read: the flag's, else KUBECONFIG's that exist, else ~/.kube/config if it exists. */
function kubeconfigFiles(flag: string | undefined): string[] {
  if (flag !== undefined) return [flag];
  const env = process.env.KUBECONFIG;
  if (env !== undefined && env !== '') return env.split(delimiter).filter((f) => f !== '' && existsSync(f));
  const home = join(homedir(), '.kube', 'config');
  return existsSync(home) ? [home] : [];
}

/** A file of another kind (a snapshot file, say) given as a kubeconfig is named as such. */
function notKubeconfig(file: string): string | undefined {
  try {
    const doc = load(readFileSync(file, 'utf8')) as { kind?: unknown } | null;
    if (doc === null || typeof doc !== 'object') return `${file}: not a kubeconfig (it is not a YAML mapping)`;
    if (doc.kind !== undefined && doc.kind !== 'Config') return `${file}: not a kubeconfig (it is a ${String(doc.kind)})`;
  } catch (e) {
    return `${file}: not a kubeconfig: ${(e as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

/** Why a path given for a file of some kind cannot be read as one, if it cannot. */
function fileProblem(file: string, kind: string): string | undefined {
  try {
    if (statSync(file).isDirectory()) return `${file} is a directory, not a ${kind} file`;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${file}: no such file` : `${file}: ${(e as Error).message}`;
  }
  return undefined;
}

async function serveHub(values: {
  kubeconfig?: string;
  context?: string;
  'in-cluster'?: boolean;
  port?: string;
  address?: string;
  'clusterprofile-provider-file'?: string;
  namespace?: string;
  'lease-namespace'?: string;
  'lease-seconds'?: string;
  'argocd-namespace'?: string;
  'argocd-cluster-secrets'?: boolean;
  'report-max-age-seconds'?: string;
}): Promise<number> {
  const reportMaxAge = seconds(values['report-max-age-seconds'], REPORT_MAX_AGE_MS / 1000, '--report-max-age-seconds');
  const leaseSeconds = Number(values['lease-seconds'] ?? 15);
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 1) throw new UsageError(`--lease-seconds must be a whole number of seconds, not "${values['lease-seconds']}"`);
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not "${values.port ?? process.env.PORT}"`);
  // first, so that a client that cannot load is said plainly before anything else loads it
  const connected = await connectHub({ kubeconfig: values.kubeconfig, context: values.context, inCluster: values['in-cluster'] }, values['clusterprofile-provider-file']);
  if (!connected.ok) return fail(connected.error);
  const [{ FleetWatcher }, { HubControllers }, { LeaderElector }, { ClusterEngine }, { buildApp }, { Metrics }, { KubeAuthenticator }, { EventRecorder }, { ProblemLog }] = await Promise.all([
    import('../fleet/watcher.js'),
    import('../controllers/hub.js'),
    import('../controllers/leader.js'),
    import('../controllers/engine.js'),
    import('../server/app.js'),
    import('../server/metrics.js'),
    import('../server/kubeAuth.js'),
    import('../controllers/events.js'),
    import('../problems.js'),
  ]);
  const { hub, providers } = connected.value;
  const log = (m: string) => process.stderr.write(`orrery: ${m}\n`);
  const problems = new ProblemLog(log);
  const identity = process.env.POD_NAME ?? process.env.HOSTNAME ?? `orrery-${process.pid}`;
  // In a Pod the Lease lives beside it; outside, in "default", which every cluster has.
  const leaseNamespace = values['lease-namespace'] ?? process.env.POD_NAMESPACE ?? 'default';
  const elector = new LeaderElector(hub, { namespace: leaseNamespace, name: 'orrery-scheduler', identity, leaseSeconds, problems });
  const leaseProblem = await elector.check();
  if (leaseProblem !== undefined) return fail(leaseProblem);
  log(`ClusterProfiles in ${values.namespace !== undefined ? `namespace ${values.namespace}` : 'every namespace'}; leader election on the Lease ${leaseNamespace}/orrery-scheduler as ${identity}`);
  const watcher = new FleetWatcher(hub, {
    ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
    ...(providers !== undefined ? { providers } : {}),
    problems,
    reportMaxAgeMs: reportMaxAge * 1000,
  });
  const events = new EventRecorder(hub, identity, log);
  const controller = new HubControllers(hub, watcher, {
    writes: () => elector.isLeader,
    log,
    problems,
    events,
    ...(values['argocd-namespace'] !== undefined ? { argocdNamespace: values['argocd-namespace'] } : {}),
    ...(values['argocd-cluster-secrets'] === true ? { argocdClusterSecrets: true } : {}),
    ...(providers !== undefined ? { providers } : {}),
  });
  const engine = new ClusterEngine(hub, watcher, controller, problems);
  const metrics = new Metrics(() => engine);
  controller.on('reconciled', (r) => {
    metrics.scheduling.observe({ operation: 'cycle' }, r.stats.solveMs / 1000);
    metrics.solver.observe({ solver: r.stats.solver }, r.stats.solveMs / 1000);
    if (elector.isLeader) {
      metrics.moved.inc(r.stats.moves);
      metrics.preempted.inc(r.stats.preempted);
    }
  });
  elector.on('started', () => {
    log(`${identity} leads: writing decisions`);
    controller.recheck();
  });
  // A leader that loses the Lease exits, and starts again as a follower.
  elector.on('stopped', () => {
    log(`${identity} lost the lease: exiting`);
    process.exit(1);
  });
  watcher.start();
  controller.start();
  elector.start();
  const app = await buildApp({ engine, metrics, auth: new KubeAuthenticator(hub), logger: process.env.ORRERY_LOG !== 'off' });
  const url = await app.listen({ port, host: values.address ?? '127.0.0.1' });
  log(`serving the HTTP API on ${url}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      void (async () => {
        elector.removeAllListeners('stopped');
        await elector.stop();
        controller.stop();
        watcher.stop();
        await app.close();
        resolve();
      })();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

async function fleet(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: FLAGS.fleet, strict: true });
  const output = outputOf(values.output, ['yaml', 'json', 'name']);
  const connected = await connectHub({ kubeconfig: values.kubeconfig, context: values.context }, values['clusterprofile-provider-file']);
  if (!connected.ok) return fail(connected.error);
  const { readFleet } = await import('../fleet/reader.js');
  const { hub, providers } = connected.value;
  let read: Awaited<ReturnType<typeof readFleet>>;
  try {
    read = await readFleet(hub, {
      ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
      ...(providers !== undefined ? { providers } : {}),
    });
  } catch (e) {
    return fail(`reading ClusterProfiles from the hub: ${(e as Error).message}`);
  }
  for (const m of read.members) {
    if (!m.reachable) process.stderr.write(`warning: ${m.namespace}/${m.name}: ${m.message}\n`);
  }
  const ways = (way: string) => read.members.filter((m) => m.read === way).map((m) => m.name);
  const [byAgent, direct] = [ways('agent'), ways('direct')];
  process.stderr.write(
    `read: ${[byAgent.length > 0 ? `from their agents' reports: ${byAgent.join(', ')}` : '', direct.length > 0 ? `directly: ${direct.join(', ')}` : ''].filter((x) => x !== '').join('; ') || 'no members'}\n`,
  );
  const { toSnapshotDocument } = await import('../fleet/snapshotFile.js');
  const doc = toSnapshotDocument(read.snapshot);
  print(
    render(
      doc,
      output,
      () => '',
      () => read.snapshot.clusters.map((c) => c.name),
    ),
  );
  return 0;
}

/** A whole number of seconds from a flag, at least 1; `fallback` when the flag is not given. */
function seconds(v: string | undefined, fallback: number, flag: string): number {
  const n = Number(v ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number of seconds, not "${v}"`);
  return n;
}

async function agent(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: FLAGS.agent, strict: true });
  const name = values['cluster-name'];
  const namespace = values['cluster-namespace'];
  if (name === undefined || namespace === undefined) throw new UsageError("agent needs --cluster-name and --cluster-namespace: the member's ClusterProfile on the hub");
  if (values['hub-kubeconfig'] === undefined) throw new UsageError('agent needs --hub-kubeconfig FILE: the credential on the hub that may write its ClusterReport');
  const heartbeat = seconds(values['heartbeat-seconds'], HEARTBEAT_MS / 1000, '--heartbeat-seconds');
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not "${values.port ?? process.env.PORT}"`);
  // The agent runs in every member on a small memory budget: V8 is told to favour size over speed
  // (a flag NODE_OPTIONS may not carry), and it loads no Kubernetes client library (connectCluster).
  setFlagsFromString('--optimize-for-size');
  const [{ Agent }, { AgentMetrics, agentServer }] = await Promise.all([import('../agent/agent.js'), import('../agent/http.js')]);
  const member = await connectCluster({ kubeconfig: values.kubeconfig, context: values.context, inCluster: values['in-cluster'] }, { plugins: false });
  if (!member.ok) return fail(`the member: ${member.error}`);
  const hubClient = await connectCluster({ kubeconfig: values['hub-kubeconfig'] }, { plugins: false });
  if (!hubClient.ok) return fail(`the hub: ${hubClient.error}`);
  const [memberApi, hub] = [member.value, hubClient.value];
  const log = (m: string) => process.stderr.write(`orrery agent: ${m}\n`);
  const a = new Agent(memberApi, hub, { clusterName: name, namespace, heartbeatMs: heartbeat * 1000, log, pull: values.pull === true });
  let first = true;
  a.on('reported', () => {
    if (first) log(`reported ${namespace}/${name} to ${hub.server}`);
    first = false;
  });
  const server = agentServer(a, new AgentMetrics(a));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, values.address ?? '0.0.0.0', resolve);
  });
  const address = server.address();
  log(`reading ${memberApi.server} as member ${namespace}/${name}; probes and metrics on port ${typeof address === 'object' && address !== null ? address.port : port}`);
  a.start();
  await new Promise<void>((resolve) => {
    const stop = () => {
      a.stop();
      server.close(() => resolve());
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

async function explain(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: FLAGS.explain, allowPositionals: true, strict: true });
  if (values.fleet === undefined) throw new UsageError('explain needs --fleet FILE');
  const [key] = positionals;
  if (key === undefined || positionals.length !== 1) throw new UsageError('explain needs one placement as NAMESPACE/NAME');
  const output = outputOf(values.output);
  const inputs = await loadInputs(values.fleet, values.placements);
  if (!inputs.ok) return fail(inputs.error);
  const { snapshot, placements } = inputs.value;
  const wanted = key.includes('/') ? key : `default/${key}`;
  const placement = placements.find((p) => placementKey(p) === wanted);
  if (placement === undefined) return fail(`no placement ${wanted} (known: ${placements.map(placementKey).join(', ') || 'none'})`);
  const { FleetState } = await import('../core/fleetState.js');
  const explained = FleetState.start(snapshot, placements).explain(placement);
  if (!explained.ok) return fail(`${wanted}: ${formatIssues([explained.error])}`);
  const e = explained.value;
  const sorted = [...e.clusters].sort((a, b) => Number(b.eligible) - Number(a.eligible) || (b.score ?? 0) - (a.score ?? 0) || (a.name < b.name ? -1 : 1));
  print(
    render(
      e,
      output,
      (wide) => {
        const regionOf = new Map(snapshot.clusters.map((c) => [c.name, c.location.region ?? '<none>']));
        const rows = sorted.map((c) => [
          c.name,
          ...(wide ? [regionOf.get(c.name) ?? '<none>'] : []),
          c.eligible ? 'True' : 'False',
          String(e.decision?.clusters.find((x) => x.name === c.name)?.replicas ?? 0),
          c.room === undefined ? '-' : String(c.room),
          c.score === undefined ? '-' : c.score.toFixed(2),
          c.eligible
            ? Object.entries(c.scores ?? {})
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')
            : `${c.reason?.plugin}: ${c.reason?.message}`,
        ]);
        let out = table(['CLUSTER', ...(wide ? ['REGION'] : []), 'ELIGIBLE', 'REPLICAS', 'ROOM', 'SCORE', 'SCORES OR REASON'], rows);
        out += `\nweights: ${Object.entries(e.weights)
          .map(([k, w]) => `${k}=${w}`)
          .join(' ')}\n`;
        const d = e.decision;
        if (d !== undefined) {
          const placed = d.clusters.map((c) => `${c.name}=${c.replicas}`).join(',') || '<none>';
          out += `decision: ${d.reason}, ${placed}${d.unscheduledReplicas > 0 ? `; ${d.unscheduledReplicas} unscheduled: ${d.message}` : ''}\n`;
          for (const r of d.preemptions ?? []) {
            out += r.victim === d.placement ? `preempted: ${r.replicas} replicas in ${r.cluster} by ${r.preemptor}\n` : `preempting: ${r.replicas} replicas of ${r.victim} in ${r.cluster}\n`;
          }
        }
        return out;
      },
      () => sorted.filter((c) => c.eligible).map((c) => c.name),
    ),
  );
  return 0;
}

/** Values a flag takes, for completion: a fixed list, or files. */
const FLAG_VALUES: Record<string, readonly string[] | 'file'> = {
  fleet: 'file',
  placements: 'file',
  previous: 'file',
  'token-file': 'file',
  kubeconfig: 'file',
  'hub-kubeconfig': 'file',
  'clusterprofile-provider-file': 'file',
  solver: ['auto', ...FLOORS],
};

const SHELLS = ['bash', 'zsh'] as const;

function completion(args: string[]): number {
  const [shell, ...rest] = args;
  if (shell === undefined || rest.length > 0 || !SHELLS.includes(shell as (typeof SHELLS)[number])) throw new UsageError(`completion needs one shell: ${words(SHELLS)}`);
  print(shell === 'bash' ? bashCompletion() : zshCompletion());
  return 0;
}

function outputsOf(command: string): readonly string[] {
  return command === 'fleet' ? ['yaml', 'json', 'name'] : OUTPUTS;
}

function valuesOf(command: string, flag: string): readonly string[] | 'file' | undefined {
  return flag === 'output' ? outputsOf(command) : FLAG_VALUES[flag];
}

function bashCompletion(): string {
  const commands = Object.keys(COMMANDS);
  const cases = Object.entries(FLAGS).map(([command, flags]) => {
    const entries = Object.entries(flags as Record<string, Flag>);
    const names = [...entries.flatMap(([name, f]) => [`--${name}`, ...(f.short !== undefined ? [`-${f.short}`] : [])]), '--help'];
    const valued = entries
      .filter(([, f]) => f.type === 'string')
      .map(([name, f]) => {
        const v = valuesOf(command, name);
        const words = [`--${name}`, ...(f.short !== undefined ? [`-${f.short}`] : [])].join('|');
        const reply = v === 'file' ? 'COMPREPLY=($(compgen -f -- "$cur"))' : v === undefined ? 'COMPREPLY=()' : `COMPREPLY=($(compgen -W "${v.join(' ')}" -- "$cur"))`;
        return `        ${words}) ${reply}; return ;;`;
      });
    // the one word completion takes is the shell
    const offered = command === 'completion' ? [...SHELLS] : names;
    return [`    ${command})`, ...(valued.length > 0 ? ['      case "$prev" in', ...valued, '      esac'] : []), `      COMPREPLY=($(compgen -W "${offered.join(' ')}" -- "$cur")) ;;`].join('\n');
  });
  return `# bash completion for orrery: source <(orrery completion bash)
_orrery() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands.join(' ')} --version --help" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
  esac
}
complete -o default -F _orrery orrery`;
}

function zshCompletion(): string {
  const quote = (t: string) => t.replace(/'/g, "'\\''").replace(/[[\]:]/g, '\\$&');
  const commands = Object.entries(COMMANDS).map(([name, c]) => `    '${name}:${quote(c.summary)}'`);
  const cases = Object.entries(FLAGS).map(([command, flags]) => {
    const specs = Object.entries(flags as Record<string, Flag>).map(([name, f]) => {
      const v = valuesOf(command, name);
      const action = f.type === 'boolean' ? '' : v === 'file' ? ':file:_files' : v === undefined ? `:${name}: ` : `:${name}:(${v.join(' ')})`;
      return f.short !== undefined ? `'(-${f.short} --${name})'{-${f.short},--${name}}'[${name}]${action}'` : `'--${name}[${name}]${action}'`;
    });
    if (command === 'completion') specs.push(`'1:shell:(${SHELLS.join(' ')})'`);
    return `    ${command}) _arguments ${[...specs, "'--help[show the flags]'"].join(' ')} ;;`;
  });
  return `#compdef orrery
# zsh completion for orrery: source <(orrery completion zsh) after compinit
_orrery() {
  local -a commands
  commands=(
${commands.join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  shift words
  (( CURRENT-- ))
  case $words[1] in
${cases.join('\n')}
  esac
}
compdef _orrery orrery`;
}

function fail(message: string): number {
  process.stderr.write(`error: ${message}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command !== undefined && COMMANDS[command] !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
      print(commandHelp(command));
      return 0;
    }
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'plan':
        return await plan(rest);
      case 'capacity':
        return await capacity(rest);
      case 'explain':
        return await explain(rest);
      case 'fleet':
        return await fleet(rest);
      case 'agent':
        return await agent(rest);
      case 'completion':
        return completion(rest);
      case '--version':
      case 'version':
        print(`orrery ${VERSION}`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        if (command === 'help' && rest[0] !== undefined && COMMANDS[rest[0]] !== undefined) print(commandHelp(rest[0]));
        else print(USAGE);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    // Flag errors from parseArgs carry a code; both they and ours are the caller's to fix.
    const usage = e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (usage) {
      process.stderr.write(`error: ${(e as Error).message}\n\n${command !== undefined && COMMANDS[command] !== undefined ? commandHelp(command) : USAGE}`);
      return 2;
    }
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
