import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, code, fleet, placement, pluginView } from '../../../test/fixtures.js';
import { deviceClassFilter } from './devices.js';

const f = fleet(cluster('gpu', { devices: { 'gpu.nvidia.com': [8, 8] } }), cluster('cpu'));

test('a cluster must offer every requested device class, even if none is free now', () => {
  const v = pluginView(f, placement('llm', { accelerators: [{ deviceClassName: 'gpu.nvidia.com', count: 1 }] }));
  assert.equal(code(deviceClassFilter.filter(v.ctx, v.p, v.cluster('gpu'), v.row('gpu'))), 'ok');
  const r = deviceClassFilter.filter(v.ctx, v.p, v.cluster('cpu'), v.row('cpu'));
  assert.equal(code(r), 'DeviceClassMissing');
  assert.equal(!r.ok && r.reason.resource, 'gpu.nvidia.com');
});

test('placements without accelerators pass', () => {
  const v = pluginView(f, placement('web'));
  assert.equal(code(deviceClassFilter.filter(v.ctx, v.p, v.cluster('cpu'), v.row('cpu'))), 'ok');
});
