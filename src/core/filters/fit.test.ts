import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, placement, pluginView } from '../../../test/fixtures.js';
import { fitFilter } from './fit.js';

test('one replica must fit in every resource, with the numbers in the reason', () => {
  const f = fleet(
    cluster('roomy', { cpu: 16, memoryGi: 64 }),
    cluster('busy', { cpu: 16, usedCpu: 15.5, memoryGi: 64 }),
    cluster('full-gpu', { cpu: 64, devices: { 'gpu.nvidia.com': [8, 7] } }),
    cluster('no-pods', { pods: 10, usedPods: 10 }),
  );
  const v = pluginView(f, placement('web', { cpu: '1', memory: '2Gi' }));
  assert.equal(fitFilter.filter(v.ctx, v.p, v.cluster('roomy'), v.row('roomy')).ok, true);
  const busy = fitFilter.filter(v.ctx, v.p, v.cluster('busy'), v.row('busy'));
  assert.deepEqual(!busy.ok && [busy.reason.code, busy.reason.resource, busy.reason.requested, busy.reason.free], ['InsufficientResource', 'cpu', 1000, 500]);
  assert.equal(!busy.ok && busy.reason.message, 'insufficient cpu: one replica needs 1, 500m free');
  const pods = fitFilter.filter(v.ctx, v.p, v.cluster('no-pods'), v.row('no-pods'));
  assert.equal(!pods.ok && pods.reason.resource, 'pods');

  const g = pluginView(f, placement('llm', { cpu: '4', accelerators: [{ deviceClassName: 'gpu.nvidia.com', count: 2 }] }));
  const r = fitFilter.filter(g.ctx, g.p, g.cluster('full-gpu'), g.row('full-gpu'));
  assert.deepEqual(!r.ok && [r.reason.resource, r.reason.requested, r.reason.free], ['gpu.nvidia.com', 2, 1]);
});

test('exact integer arithmetic: 0.1 cpu ten times fills 1 cpu exactly', () => {
  const f = fleet(cluster('edge', { cpu: 1, usedCpu: 0.9 }));
  const v = pluginView(f, placement('tiny', { cpu: '100m' }));
  assert.equal(fitFilter.filter(v.ctx, v.p, v.cluster('edge'), v.row('edge')).ok, true);
});
