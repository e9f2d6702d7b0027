import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, code, fleet, placement, pluginView } from '../../../test/fixtures.js';
import { taintFilter } from './taints.js';

const f = fleet(
  cluster('maint', { taints: [{ key: 'maintenance', value: 'true', effect: 'NoSchedule' }] }),
  cluster('evict', { taints: [{ key: 'draining', effect: 'NoExecute' }] }),
  cluster('spot', { taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] }),
);

test('NoSchedule and NoExecute taints refuse a placement that does not tolerate them', () => {
  const v = pluginView(f, placement('web'));
  const r = taintFilter.filter(v.ctx, v.p, v.cluster('maint'), v.row('maint'));
  assert.equal(code(r), 'UntoleratedTaint');
  assert.match(!r.ok ? r.reason.message : '', /maintenance=true:NoSchedule/);
  assert.equal(code(taintFilter.filter(v.ctx, v.p, v.cluster('evict'), v.row('evict'))), 'UntoleratedTaint');
});

test('PreferNoSchedule never refuses', () => {
  const v = pluginView(f, placement('web'));
  assert.equal(code(taintFilter.filter(v.ctx, v.p, v.cluster('spot'), v.row('spot'))), 'ok');
});

test('a matching toleration lets the placement in', () => {
  const v = pluginView(
    f,
    placement('web', {
      tolerations: [
        { key: 'maintenance', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
        { key: 'draining', operator: 'Exists' },
      ],
    }),
  );
  assert.equal(code(taintFilter.filter(v.ctx, v.p, v.cluster('maint'), v.row('maint'))), 'ok');
  assert.equal(code(taintFilter.filter(v.ctx, v.p, v.cluster('evict'), v.row('evict'))), 'ok');
});
