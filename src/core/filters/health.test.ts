import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, code, fleet, placement, pluginView } from '../../../test/fixtures.js';
import { healthFilter } from './health.js';

test('refuses clusters whose control plane is not healthy', () => {
  const v = pluginView(fleet(cluster('a'), cluster('b', { healthy: false })), placement('web'));
  assert.equal(code(healthFilter.filter(v.ctx, v.p, v.cluster('a'), v.row('a'))), 'ok');
  const r = healthFilter.filter(v.ctx, v.p, v.cluster('b'), v.row('b'));
  assert.equal(code(r), 'ClusterUnhealthy');
  assert.equal(!r.ok && r.reason.plugin, 'ClusterHealth');
});
