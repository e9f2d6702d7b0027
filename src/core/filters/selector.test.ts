import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, code, fleet, placement, pluginView } from '../../../test/fixtures.js';
import { selectorFilter } from './selector.js';

const f = fleet(cluster('prod', { labels: { environment: 'production', tier: 'gold' } }), cluster('dev', { labels: { environment: 'dev' } }));

test('keeps clusters whose labels match matchLabels and matchExpressions', () => {
  const v = pluginView(f, placement('web', { clusterSelector: { matchLabels: { environment: 'production' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }));
  assert.equal(code(selectorFilter.filter(v.ctx, v.p, v.cluster('prod'), v.row('prod'))), 'ok');
  const r = selectorFilter.filter(v.ctx, v.p, v.cluster('dev'), v.row('dev'));
  assert.equal(code(r), 'SelectorMismatch');
  assert.match(!r.ok ? r.reason.message : '', /environment=production/);
});

test('no selector keeps every cluster', () => {
  const v = pluginView(f, placement('web'));
  assert.equal(code(selectorFilter.filter(v.ctx, v.p, v.cluster('dev'), v.row('dev'))), 'ok');
});

test('NotIn and DoesNotExist', () => {
  const v = pluginView(
    f,
    placement('web', {
      clusterSelector: {
        matchExpressions: [
          { key: 'environment', operator: 'NotIn', values: ['dev'] },
          { key: 'frozen', operator: 'DoesNotExist' },
        ],
      },
    }),
  );
  assert.equal(code(selectorFilter.filter(v.ctx, v.p, v.cluster('prod'), v.row('prod'))), 'ok');
  assert.equal(code(selectorFilter.filter(v.ctx, v.p, v.cluster('dev'), v.row('dev'))), 'SelectorMismatch');
});
