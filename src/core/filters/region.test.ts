import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, code, fleet, placement, pluginView } from '../../../test/fixtures.js';
import { regionFilter } from './region.js';

const f = fleet(cluster('eu', { region: 'europe-west4' }), cluster('us', { region: 'us-east1' }), cluster('nowhere'));

test('requiredRegions keeps only clusters in those regions', () => {
  const v = pluginView(f, placement('web', { locality: { requiredRegions: ['europe-west4', 'europe-west1'] } }));
  assert.equal(code(regionFilter.filter(v.ctx, v.p, v.cluster('eu'), v.row('eu'))), 'ok');
  assert.equal(code(regionFilter.filter(v.ctx, v.p, v.cluster('us'), v.row('us'))), 'RegionNotAllowed');
  assert.equal(code(regionFilter.filter(v.ctx, v.p, v.cluster('nowhere'), v.row('nowhere'))), 'RegionNotAllowed', 'a cluster without a region is not in any');
});

test('no requiredRegions keeps every cluster', () => {
  const v = pluginView(f, placement('web', { locality: { preferred: [{ region: 'us-east1', weight: 10 }] } }));
  assert.equal(code(regionFilter.filter(v.ctx, v.p, v.cluster('nowhere'), v.row('nowhere'))), 'ok');
});
