import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstUnmatched, matchesSelector } from './labels.js';

const labels = { environment: 'production', tier: 'gold', gpu: '' };

test('matchLabels needs every pair', () => {
  assert.equal(matchesSelector(labels, { matchLabels: { environment: 'production' } }), true);
  assert.equal(matchesSelector(labels, { matchLabels: { environment: 'production', tier: 'silver' } }), false);
  assert.equal(matchesSelector(labels, {}), true);
  assert.equal(matchesSelector(labels, undefined), true);
});

test('matchExpressions operators', () => {
  const m = (operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist', key: string, values?: string[]) => matchesSelector(labels, { matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] });
  assert.equal(m('In', 'tier', ['gold', 'silver']), true);
  assert.equal(m('In', 'tier', ['silver']), false);
  assert.equal(m('In', 'missing', ['x']), false);
  assert.equal(m('NotIn', 'tier', ['silver']), true);
  assert.equal(m('NotIn', 'tier', ['gold']), false);
  assert.equal(m('NotIn', 'missing', ['x']), true, 'NotIn holds when the key is absent');
  assert.equal(m('Exists', 'gpu'), true, 'an empty value still exists');
  assert.equal(m('Exists', 'missing'), false);
  assert.equal(m('DoesNotExist', 'missing'), true);
  assert.equal(m('DoesNotExist', 'tier'), false);
});

test('labels and expressions are ANDed; the first miss is named', () => {
  const selector = { matchLabels: { environment: 'production' }, matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['silver'] }] };
  assert.equal(matchesSelector(labels, selector), false);
  assert.equal(firstUnmatched(labels, selector), 'tier In (silver)');
  assert.equal(firstUnmatched({}, selector), 'environment=production');
});
