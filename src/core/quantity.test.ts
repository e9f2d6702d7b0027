import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, formatMilli, milliValue, parseMilli, parseQuantity, parseUnits, value } from './quantity.js';

const q = (s: string) => {
  const r = parseQuantity(s);
  assert.ok(r.ok, `${s} should parse`);
  return r.value;
};

test('parses decimal, binary and exponent forms exactly', () => {
  assert.deepEqual(parseMilli('500m'), { ok: true, value: 500 });
  assert.deepEqual(parseMilli('1.5'), { ok: true, value: 1500 });
  assert.deepEqual(parseMilli('2'), { ok: true, value: 2000 });
  assert.deepEqual(parseUnits('64Gi'), { ok: true, value: 64 * 2 ** 30 });
  assert.deepEqual(parseUnits('1Ti'), { ok: true, value: 2 ** 40 });
  assert.deepEqual(parseUnits('2e3'), { ok: true, value: 2000 });
  assert.deepEqual(parseUnits('1k'), { ok: true, value: 1000 });
  assert.deepEqual(parseUnits('1M'), { ok: true, value: 1_000_000 });
  assert.equal(q('1E'), 10n ** 27n, 'E is exa, not an exponent, when nothing follows');
  assert.equal(q('1e3'), 1000n * 10n ** 9n);
  assert.deepEqual(parseMilli('100u'), { ok: true, value: 1 }, 'sub-milli rounds up');
  assert.deepEqual(parseUnits('1.5Gi'), { ok: true, value: 1.5 * 2 ** 30 });
  assert.deepEqual(parseUnits(3), { ok: true, value: 3 });
});

test('rounds up the way the API server does', () => {
  assert.equal(milliValue(q('0.0001')), 1n);
  assert.equal(value(q('1500m')), 2n);
  assert.equal(value(q('1001m')), 2n);
  assert.equal(value(q('1000m')), 1n);
});

test('no float drift: many small quantities add up exactly', () => {
  let sum = 0n;
  for (let i = 0; i < 10; i++) sum += q('0.1');
  assert.equal(sum, q('1'));
  // 0.1 + 0.2 in floating point is not 0.3; here it is.
  assert.equal(q('0.1') + q('0.2'), q('0.3'));
  assert.equal(q('1Gi') - q('512Mi'), q('512Mi'));
});

test('refuses what is not a quantity', () => {
  for (const bad of ['12QB', '', 'abc', '1.2.3', '--1', 'Gi', '1 Gi', '1e', '1Kb']) {
    const r = parseQuantity(bad);
    assert.equal(r.ok, false, `${JSON.stringify(bad)} should not parse`);
  }
  const r = parseUnits('12QB');
  assert.deepEqual(r, { ok: false, error: { code: 'QuantityInvalid', message: '"12QB" is not a quantity', path: [] } });
  assert.deepEqual(parseMilli('-1'), { ok: false, error: { code: 'QuantityNegative', message: '"-1" is negative', path: [] } });
  const huge = parseUnits('100Ei');
  assert.equal(huge.ok ? '' : huge.error.code, 'QuantityTooLarge', 'beyond exact integers');
});

test('formats canonically', () => {
  assert.equal(formatMilli(1500), '1500m');
  assert.equal(formatMilli(2000), '2');
  assert.equal(formatBytes(64 * 2 ** 30), '64Gi');
  assert.equal(formatBytes(2 ** 40), '1Ti');
  assert.equal(formatBytes(1000), '1000');
});
