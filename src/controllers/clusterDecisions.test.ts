import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placement } from '../../test/fixtures.js';
import type { Decision } from '../core/model.js';
import { clusterDecisionFor, clusterDecisionName } from './clusterDecisions.js';

const decision = (clusters: Record<string, number>): Decision => ({
  placement: 'team/web',
  clusters: Object.entries(clusters).map(([name, replicas]) => ({ name, replicas })),
  unscheduledReplicas: 0,
  reason: 'Scheduled',
  message: '',
});

test('a ClusterDecision lists exactly the clusters with replicas, by name, replicas as strings', () => {
  const o = clusterDecisionFor(placement('web', { namespace: 'team' }), decision({ zeta: 2, alpha: 3, idle: 0 }), 'argocd');
  assert.equal(o.metadata.name, 'team.web');
  assert.equal(o.metadata.namespace, 'argocd');
  assert.deepEqual(o.status.clusters, [
    { name: 'alpha', replicas: '3' },
    { name: 'zeta', replicas: '2' },
  ]);
  assert.deepEqual(o.spec.placementRef, { namespace: 'team', name: 'web' });
  assert.equal(o.metadata.labels['placement.orrery.dev/placement-namespace'], 'team');
  assert.equal(o.metadata.labels['placement.orrery.dev/placement-name'], 'web');
  assert.equal(o.metadata.labels['app.kubernetes.io/managed-by'], 'orrery');
  // nothing placed: an empty list, which the generator reads as no Applications
  assert.deepEqual(clusterDecisionFor(placement('web', { namespace: 'team' }), decision({}), 'argocd').status.clusters, []);
});

test('names: one per placement, within 253 characters; a name too long for a label value is not a label', () => {
  // a namespace has no dots: the first dot ends it, so no two placements share a name
  assert.equal(clusterDecisionName('team', 'web.v2'), 'team.web.v2');
  const long = 'x'.repeat(250);
  const name = clusterDecisionName('team', long);
  assert.ok(name.length <= 253);
  assert.notEqual(name, clusterDecisionName('team', `${'x'.repeat(249)}y`));
  const o = clusterDecisionFor(placement(long, { namespace: 'team' }), decision({ a: 1 }), 'argocd');
  assert.equal(o.metadata.labels['placement.orrery.dev/placement-name'], undefined);
  assert.equal(o.spec.placementRef.name, long);
});
