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

test('refuses clusters that cannot be read, saying why', () => {
  const v = pluginView(fleet({ ...cluster('gone'), reachable: false, message: 'connection refused' }), placement('web'));
  const r = healthFilter.filter(v.ctx, v.p, v.cluster('gone'), v.row('gone'));
  assert.equal(code(r), 'ClusterUnreachable');
  assert.equal(!r.ok && r.reason.message, 'cluster cannot be read: connection refused');
});
