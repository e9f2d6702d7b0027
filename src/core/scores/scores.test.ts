import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, placement, pluginView } from '../../../test/fixtures.js';
import { acceleratorScore } from './accelerators.js';
import { headroomScore } from './headroom.js';
import { localityScore } from './locality.js';
import { stabilityScore } from './stability.js';
import { taintPreferenceScore } from './taints.js';

const f = fleet(
  cluster('empty', { cpu: 100, memoryGi: 100, region: 'us-east1', devices: { 'gpu.nvidia.com': [10, 0] } }),
  cluster('half', { cpu: 100, usedCpu: 50, memoryGi: 100, usedMemoryGi: 50, region: 'europe-west4', devices: { 'gpu.nvidia.com': [10, 8] } }),
  cluster('spot', { taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] }),
);

test('headroom prefers the emptier cluster for Spread and the fuller one for Pack', () => {
  const spread = pluginView(f, placement('web', { cpu: '10', memory: '10Gi' }));
  const e = headroomScore.score(spread.ctx, spread.p, spread.cluster('empty'), spread.row('empty'));
  const h = headroomScore.score(spread.ctx, spread.p, spread.cluster('half'), spread.row('half'));
  assert.equal(Math.round(e), 90);
  assert.equal(Math.round(h), 40);
  const pack = pluginView(f, placement('batch', { cpu: '10', memory: '10Gi', strategy: 'Pack' }));
  assert.ok(headroomScore.score(pack.ctx, pack.p, pack.cluster('half'), pack.row('half')) > headroomScore.score(pack.ctx, pack.p, pack.cluster('empty'), pack.row('empty')));
});

test('free accelerators of the requested class', () => {
  const v = pluginView(f, placement('llm', { accelerators: [{ deviceClassName: 'gpu.nvidia.com', count: 1 }] }));
  assert.equal(acceleratorScore.score(v.ctx, v.p, v.cluster('empty'), v.row('empty')), 100);
  assert.equal(acceleratorScore.score(v.ctx, v.p, v.cluster('half'), v.row('half')), 20);
  const cpu = pluginView(f, placement('web'));
  assert.equal(acceleratorScore.appliesTo?.(cpu.p), false, 'says nothing about placements without accelerators');
  assert.equal(acceleratorScore.appliesTo?.(v.p), true);
});

test('locality weights by region', () => {
  const v = pluginView(
    f,
    placement('web', {
      locality: {
        preferred: [
          { region: 'europe-west4', weight: 80 },
          { region: 'us-east1', weight: 30 },
        ],
      },
    }),
  );
  assert.equal(localityScore.score(v.ctx, v.p, v.cluster('half'), v.row('half')), 80);
  assert.equal(localityScore.score(v.ctx, v.p, v.cluster('empty'), v.row('empty')), 30);
  assert.equal(localityScore.score(v.ctx, v.p, v.cluster('spot'), v.row('spot')), 0);
});

test('stability favours clusters that already run the placement', () => {
  const previous = new Map([['default/web', new Map([['half', 3]])]]);
  const v = pluginView(f, placement('web'), previous);
  assert.equal(stabilityScore.score(v.ctx, v.p, v.cluster('half'), v.row('half')), 100);
  assert.equal(stabilityScore.score(v.ctx, v.p, v.cluster('empty'), v.row('empty')), 0);
});

test('PreferNoSchedule lowers the score unless tolerated', () => {
  const v = pluginView(f, placement('web'));
  assert.equal(taintPreferenceScore.score(v.ctx, v.p, v.cluster('spot'), v.row('spot')), 0);
  assert.equal(taintPreferenceScore.score(v.ctx, v.p, v.cluster('empty'), v.row('empty')), 100);
  const t = pluginView(f, placement('web', { tolerations: [{ key: 'spot', operator: 'Exists' }] }));
  assert.equal(taintPreferenceScore.score(t.ctx, t.p, t.cluster('spot'), t.row('spot')), 100);
});
