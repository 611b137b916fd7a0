/**
 * Exact rationals n/d over bigint, always reduced with d > 0, so two equal numbers have equal
 * fields and equal keys. The proof checker never rounds: a coefficient that floating point would
 * call 0.9999999 is a different number here.
 */

export interface Rational {
  readonly n: bigint;
  readonly d: bigint;
}

const ZERO: Rational = { n: 0n, d: 1n };

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

export function rational(n: bigint, d: bigint = 1n): Rational {
  if (d === 0n) throw new RangeError('rational with denominator 0');
  if (n === 0n) return ZERO;
  const sign = d < 0n ? -1n : 1n;
  const g = gcd(n, d);
  return { n: (sign * n) / g, d: (sign * d) / g };
}

export const ONE: Rational = { n: 1n, d: 1n };

export const isZero = (a: Rational): boolean => a.n === 0n;
export const isOne = (a: Rational): boolean => a.n === 1n && a.d === 1n;
export const addR = (a: Rational, b: Rational): Rational => rational(a.n * b.d + b.n * a.d, a.d * b.d);
export const mulR = (a: Rational, b: Rational): Rational => rational(a.n * b.n, a.d * b.d);
export const negR = (a: Rational): Rational => ({ n: -a.n, d: a.d });

export function invR(a: Rational): Rational {
  if (a.n === 0n) throw new RangeError('division by the exact constant 0');
  return rational(a.d, a.n);
}

/** The rational square root when a is the square of a rational, else undefined. */
export function sqrtR(a: Rational): Rational | undefined {
  if (a.n < 0n) return undefined;
  const n = isqrt(a.n);
  const d = isqrt(a.d);
  return n * n === a.n && d * d === a.d ? rational(n, d) : undefined;
}

function isqrt(v: bigint): bigint {
  if (v < 2n) return v;
  let x = BigInt(Math.floor(Math.sqrt(Number(v))));
  while (x * x > v) x -= 1n;
  while ((x + 1n) * (x + 1n) <= v) x += 1n;
  return x;
}

/** gcd of numerators over lcm of denominators, positive: the rational content of a list. */
export function contentR(values: readonly Rational[]): Rational {
  let n = 0n;
  let d = 1n;
  for (const v of values) {
    n = gcd(n, v.n);
    d = (d * v.d) / gcd(d, v.d);
  }
  return n === 0n ? ONE : rational(n, d);
}

export const keyR = (a: Rational): string => (a.d === 1n ? `${a.n}` : `${a.n}/${a.d}`);
