// A real autoscaler drives a Placement: the hub's HorizontalPodAutoscaler (autoscaling/v2, in
// the hub's own kube-controller-manager) targets a Placement through its scale subresource, on an
// External metric served by a metrics adapter behind the hub's aggregator. Raising the metric
// scales the Placement up, Orrery places the new replicas, preempting lower-priority work where
// there is no other room, and the member Deployments follow; lowering it scales back down and
// the preempted work gets its room back.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EventRecorder } from '../src/controllers/events.js';
import { HubControllers } from '../src/controllers/hub.js';
import type { FleetWatcher } from '../src/fleet/watcher.js';
import { placement } from './fixtures.js';
import { TestFleet } from './env/fleet.js';
import { type Endpoint, call, eventually, getOrNone } from './env/kube.js';
import { MetricsAdapter } from './env/metricsAdapter.js';
import { createNode, reapTerminatingPods } from './env/members.js';
import { clientOf, registerMember, watchFleet, installHubCrds } from './env/hub.js';

let fleet: TestFleet;
let hub: Endpoint;
let watcher: FleetWatcher;
let controller: HubControllers;
let adapter: MetricsAdapter;
const reapers: (() => void)[] = [];
const placements = '/apis/placement.orrery.dev/v1alpha1/namespaces/ml/placements';

before(
  async () => {
    fleet = await TestFleet.start({ members: 2 });
    hub = fleet.hub.endpoint();
    await installHubCrds(hub);
    for (const ns of ['fleet', 'ml']) await call(hub, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (const m of fleet.members) {
      // room for 4 replicas of 1 CPU in each member: 6 replicas need both
      await createNode(m.endpoint(), { name: `${m.name}-node`, cpu: '4', memory: '16Gi', pods: 20 });
      await registerMember(hub, m, 'fleet', {}, { healthy: true });
      reapers.push(reapTerminatingPods(m.endpoint()));
    }
    const client = clientOf(fleet.hub);
    watcher = await watchFleet(client, { namespace: 'fleet', coalesceMs: 20 }, (s) => s.clusters.filter((c) => c.reachable !== false && c.allocatable.cpu > 0).length === 2);
    controller = new HubControllers(client, watcher, {
      resyncMs: 1000,
      events: new EventRecorder(client, 'tests', () => undefined),
      log: (m) => (process.env.ORRERY_TEST_LOG ? console.log(m) : undefined),
    });
    controller.start();
    adapter = await MetricsAdapter.start(fleet.hub);
  },
  { timeout: 900_000 },
);

after(async () => {
  for (const stop of reapers) stop();
  controller?.stop();
  watcher?.stop();
  adapter?.stop();
  await fleet?.stop();
});

/** Replicas of a placement's Deployment in each member (0 where there is none). */
async function deployed(name = 'llm'): Promise<number[]> {
  return Promise.all(fleet.members.map(async (m) => (await getOrNone<{ spec: { replicas: number } }>(m.endpoint(), `/apis/apps/v1/namespaces/ml/deployments/${name}`))?.spec.replicas ?? 0));
}

async function scheduled(name: string): Promise<{ reason: string; message: string } | undefined> {
  const p = await call<{ status?: { conditions?: { type: string; reason: string; message: string }[] } }>(hub, 'GET', `${placements}/${name}`);
  return p.status?.conditions?.find((c) => c.type === 'Scheduled');
}

async function events(name: string): Promise<{ reason: string; note: string }[]> {
  const list = await call<{ items: { reason: string; note: string; regarding: { name: string } }[] }>(hub, 'GET', '/apis/events.k8s.io/v1/namespaces/ml/events');
  return list.items.filter((e) => e.regarding.name === name);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** The HPA manifest the README shows, for a Placement. */
const hpa = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'llm', namespace: 'ml' },
  spec: {
    scaleTargetRef: { apiVersion: 'placement.orrery.dev/v1alpha1', kind: 'Placement', name: 'llm' },
    minReplicas: 1,
    maxReplicas: 8,
    metrics: [{ type: 'External', external: { metric: { name: 'queue_depth' }, target: { type: 'AverageValue', averageValue: '1' } } }],
    behavior: {
      scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 8, periodSeconds: 1 }] },
      scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 8, periodSeconds: 1 }] },
    },
  },
};

test("the hub's HorizontalPodAutoscaler scales a Placement on an External metric, preempting lower-priority work, and the members follow", async () => {
  adapter.set('queue_depth', '1');
  // batch work of priority 0 holds half of the fleet's 8 CPUs
  await call(hub, 'POST', placements, placement('batch', { namespace: 'ml', replicas: 4, cpu: '1', priority: 0 }));
  await call(hub, 'POST', placements, placement('llm', { namespace: 'ml', replicas: 1, cpu: '1', priority: 100 }));
  await eventually('llm and batch deployed', async () => (sum(await deployed()) === 1 && sum(await deployed('batch')) === 4 ? true : undefined), 45_000);
  await call(hub, 'POST', '/apis/autoscaling/v2/namespaces/ml/horizontalpodautoscalers', hpa);

  // six in the queue: six replicas, more than one member holds, and room for them only where batch runs
  adapter.set('queue_depth', '6');
  const up = await eventually(
    'scaled to 6 across both members',
    async () => {
      const d = await deployed();
      return sum(d) === 6 && d.every((n) => n > 0) ? d : undefined;
    },
    90_000,
    200,
  );
  assert.ok(
    up.every((n) => n <= 4),
    `each member within its room: ${up.join(', ')}`,
  );
  const scaled = await call<{ spec: { replicas: number }; status: { replicas: number; unscheduledReplicas: number } }>(hub, 'GET', `${placements}/llm`);
  assert.equal(scaled.spec.replicas, 6, 'the HPA wrote the scale subresource');
  assert.equal(scaled.status.unscheduledReplicas, 0);
  const status = await call<{ status: { currentReplicas: number; desiredReplicas: number; currentMetrics?: { external?: { current?: { averageValue?: string } } }[] } }>(
    hub,
    'GET',
    '/apis/autoscaling/v2/namespaces/ml/horizontalpodautoscalers/llm',
  );
  assert.equal(status.status.desiredReplicas, 6);
  // batch gave two replicas' room, says so, and its Deployments shrank in the members
  await eventually('batch shrunk to 2', async () => (sum(await deployed('batch')) === 2 ? true : undefined), 45_000, 200);
  const preempted = await scheduled('batch');
  assert.equal(preempted?.reason, 'Preempted');
  assert.match(preempted?.message ?? '', /by ml\/llm/);
  await eventually('the Preempted and Preempting Events', async () =>
    (await events('batch')).some((e) => e.reason === 'Preempted') && (await events('llm')).some((e) => e.reason === 'Preempting') ? true : undefined,
  );

  // the queue drains: back to one replica, and batch gets its room back
  adapter.set('queue_depth', '1');
  await eventually('scaled back to 1', async () => (sum(await deployed()) === 1 ? true : undefined), 90_000, 200);
  assert.equal((await call<{ spec: { replicas: number } }>(hub, 'GET', `${placements}/llm`)).spec.replicas, 1);
  await eventually('batch whole again', async () => (sum(await deployed('batch')) === 4 ? true : undefined), 45_000, 200);
  assert.equal((await scheduled('batch'))?.reason, 'Scheduled');
});
