// Kubernetes resource quantities ("500m", "1.5", "64Gi", "2e3") as exact values.
//
// A quantity is held as a bigint count of nano-units, which represents every decimal and
// binary suffix exactly; the scheduler then works in integers (milli-CPU, bytes, counts),
// rounding up the way the Kubernetes API does (MilliValue/Value round towards +infinity).

import { type Result, ok, err } from './result.js';

const NANO = 1_000_000_000n;

const BINARY_SUFFIXES: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};

// Decimal SI suffixes as powers of ten.
const DECIMAL_SUFFIXES: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** A quantity in nano-units (value × 10^9), exact. */
export type Quantity = bigint;

export function parseQuantity(text: string): Result<Quantity> {
  const m = QUANTITY.exec(text.trim());
  if (m === null || text.trim() === '') return err('QuantityInvalid', `"${text}" is not a quantity`);
  const [, sign, number, suffix, exponent] = m as unknown as [string, string, string, string | undefined, string | undefined];
  const [whole = '', frac = ''] = number.split('.');
  // digits × 10^-frac.length, scaled to nanos below
  let digits = BigInt((whole || '0') + frac);
  let pow10 = -frac.length + 9;
  let multiplier = 1n;
  if (suffix !== undefined) {
    const binary = BINARY_SUFFIXES[suffix];
    if (binary !== undefined) multiplier = binary;
    else pow10 += DECIMAL_SUFFIXES[suffix] ?? 0;
  } else if (exponent !== undefined) {
    const e = Number(exponent);
    if (!Number.isSafeInteger(e) || Math.abs(e) > 30) return err('QuantityInvalid', `"${text}" has an exponent out of range`);
    pow10 += e;
  }
  digits *= multiplier;
  let nanos: bigint;
  if (pow10 >= 0) nanos = digits * 10n ** BigInt(pow10);
  else {
    const div = 10n ** BigInt(-pow10);
    // Precision below a nano-unit rounds up, as the API server does.
    nanos = (digits + div - 1n) / div;
  }
  return ok(sign === '-' ? -nanos : nanos);
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a > 0n ? q + 1n : q;
}

function toSafeNumber(v: bigint, text: string): Result<number> {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
    return err('QuantityTooLarge', `"${text}" is too large`);
  }
  return ok(Number(v));
}

/** The quantity in thousandths, rounded up (CPU is scheduled in milli-cores). */
export function milliValue(q: Quantity): bigint {
  return ceilDiv(q, NANO / 1000n);
}

/** The quantity in whole units, rounded up (bytes, pods, devices). */
export function value(q: Quantity): bigint {
  return ceilDiv(q, NANO);
}

/** Parses a non-negative quantity straight into integer milli-units. */
export function parseMilli(text: string | number): Result<number> {
  const q = parseQuantity(String(text));
  if (!q.ok) return q;
  if (q.value < 0n) return err('QuantityNegative', `"${text}" is negative`);
  return toSafeNumber(milliValue(q.value), String(text));
}

/** Parses a non-negative quantity straight into integer units. */
export function parseUnits(text: string | number): Result<number> {
  const q = parseQuantity(String(text));
  if (!q.ok) return q;
  if (q.value < 0n) return err('QuantityNegative', `"${text}" is negative`);
  return toSafeNumber(value(q.value), String(text));
}

/** Canonical text for milli-CPU: whole cores when exact, else milli-cores. */
export function formatMilli(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

const BINARY_FORMATS: ReadonlyArray<readonly [string, number]> = [
  ['Ei', 2 ** 60],
  ['Pi', 2 ** 50],
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
];

/** Canonical text for bytes: the largest binary suffix that divides exactly. */
export function formatBytes(bytes: number): string {
  if (bytes === 0) return '0';
  for (const [suffix, size] of BINARY_FORMATS) {
    if (bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}

/** Rounded, human-oriented text for bytes in tables ("1.5Ti"). */
export function humanBytes(bytes: number): string {
  for (const [suffix, size] of BINARY_FORMATS) {
    if (Math.abs(bytes) >= size) {
      const v = bytes / size;
      return `${Number.isInteger(v) ? v : v.toFixed(1)}${suffix}`;
    }
  }
  return String(bytes);
}

/** Rounded, human-oriented text for milli-CPU in tables ("27.5"). */
export function humanMilli(milli: number): string {
  const cores = milli / 1000;
  return Number.isInteger(cores) ? String(cores) : cores >= 10 ? cores.toFixed(1) : String(Math.round(cores * 1000) / 1000);
}

/** An amount of a scheduling dimension in its usual unit: cores, bytes, or a count. */
export function formatAmount(resource: string, amount: number): string {
  if (resource === 'cpu') return formatMilli(Math.round(amount));
  if (resource === 'memory') return humanBytes(amount);
  return String(amount);
}
