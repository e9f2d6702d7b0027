import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type NodeObject, type PodObject, PLACEMENT_LABEL, measureMember, nodeTakesPods } from './measure.js';

const node = (name: string, o: Partial<{ ready: boolean; unschedulable: boolean; taint: string; region: string; zone: string }> = {}): NodeObject => ({
  metadata: { name, labels: { ...(o.region ? { 'topology.kubernetes.io/region': o.region } : {}), ...(o.zone ? { 'topology.kubernetes.io/zone': o.zone } : {}) } },
  spec: { ...(o.unschedulable ? { unschedulable: true } : {}), ...(o.taint ? { taints: [{ key: 'k', effect: o.taint }] } : {}) },
  status: { allocatable: { cpu: '8', memory: '32Gi', pods: '110' }, conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});

const pod = (name: string, nodeName: string | undefined, requests: Record<string, string>, o: Partial<{ phase: string; labels: Record<string, string>; init: Record<string, string>; overhead: Record<string, string> }> = {}): PodObject => ({
  metadata: { name, namespace: 'default', ...(o.labels ? { labels: o.labels } : {}) },
  spec: {
    ...(nodeName ? { nodeName } : {}),
    containers: [{ name: 'c', resources: { requests } }],
    ...(o.init ? { initContainers: [{ name: 'i', resources: { requests: o.init } }] } : {}),
    ...(o.overhead ? { overhead: o.overhead } : {}),
  },
  status: { phase: o.phase ?? 'Running' },
});

test('only Ready, schedulable, untainted nodes count', () => {
  assert.equal(nodeTakesPods(node('a')), true);
  assert.equal(nodeTakesPods(node('b', { ready: false })), false);
  assert.equal(nodeTakesPods(node('c', { unschedulable: true })), false);
  assert.equal(nodeTakesPods(node('d', { taint: 'NoSchedule' })), false);
  assert.equal(nodeTakesPods(node('e', { taint: 'NoExecute' })), false);
  assert.equal(nodeTakesPods(node('f', { taint: 'PreferNoSchedule' })), true);
});

test('capacity is allocatable of counted nodes minus requests of running pods bound to them', () => {
  const m = measureMember(
    [node('a', { region: 'eu', zone: 'eu-a' }), node('b', { region: 'eu', zone: 'eu-b' }), node('sick', { ready: false, region: 'us' })],
    [
      pod('web', 'a', { cpu: '500m', memory: '1Gi' }),
      // init containers: the larger of the init peak and the app containers
      pod('init', 'b', { cpu: '100m', memory: '100Mi' }, { init: { cpu: '2', memory: '50Mi' }, overhead: { cpu: '10m' } }),
      pod('done', 'a', { cpu: '4' }, { phase: 'Succeeded' }),
      pod('pending', undefined, { cpu: '4' }, { phase: 'Pending' }),
      pod('on-sick-node', 'sick', { cpu: '4' }),
      pod('ours', 'a', { cpu: '1' }, { labels: { [PLACEMENT_LABEL]: 'team.web' } }),
    ],
  );
  assert.deepEqual(m.allocatable, { cpu: 16000, memory: 64 * 2 ** 30, pods: 220 });
  assert.deepEqual(m.allocated, { cpu: 500 + 2010, memory: 2 ** 30 + 100 * 2 ** 20, pods: 2 });
  assert.equal(m.nodes, 2);
  assert.equal(m.region, 'eu');
});
