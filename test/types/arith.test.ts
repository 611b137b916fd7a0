import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSnippet, expectCompiles, expectError, typeText, typeTexts } from './harness.ts';

const IMPORT = "import type * as A from '../../dsl/types/arith.ts';\n";

/**
 * How the compiler prints an exact integer result: its digits when they are the shortest
 * spelling of a double (every integer up to 2^53, and some beyond, like 10^18), else `number`.
 */
function literalText(value: bigint): string {
  return String(Number(value)) === String(value) ? String(value) : 'number';
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** Each type expression next to the BigInt reference value of the same operation. */
function referenceCases(a: bigint, b: bigint, withGcd = true): [string, string][] {
  const cases: [string, string][] = [
    [`A.Add<${a}, ${b}>`, literalText(a + b)],
    [`A.Sub<${a}, ${b}>`, literalText(a - b)],
    [`A.Mul<${a}, ${b}>`, literalText(a * b)],
    [`A.Lt<${a}, ${b}>`, String(a < b)],
    [`A.Lte<${a}, ${b}>`, String(a <= b)],
    [`A.Gt<${a}, ${b}>`, String(a > b)],
    [`A.Eq<${a}, ${b}>`, String(a === b)],
    [`A.Max<${a}, ${b}>`, literalText(a > b ? a : b)],
    [`A.Min<${a}, ${b}>`, literalText(a < b ? a : b)],
  ];
  if (withGcd) cases.push([`A.Gcd<${a}, ${b}>`, literalText(gcd(a, b))]);
  if (b !== 0n) {
    const q = floorDiv(a, b);
    cases.push([`A.FloorDiv<${a}, ${b}>`, literalText(q)], [`A.Mod<${a}, ${b}>`, literalText(a - b * q)]);
  }
  return cases;
}

/** Compiles all cases in one snippet and returns the [expression, got, expected] that differ. */
function mismatches(cases: readonly [string, string][]): [string, string, string][] {
  const names = cases.map((_, i) => `R${i}`);
  const code = IMPORT + cases.map(([expr], i) => `type ${names[i]} = ${expr};`).join('\n');
  const got = typeTexts(code, names);
  return cases.flatMap(([expr, expected], i) => (got[i] === expected ? [] : [[expr, got[i], expected]]));
}

describe('harness', () => {
  it('reports errors with 1-based lines and flattened messages', () => {
    const result = checkSnippet('const ok = 1;\nconst bad: string = ok;');
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0].line).toBe(2);
    expect(result.errors[0].message).toContain("Type 'number' is not assignable to type 'string'");
  });

  it('expectError and expectCompiles throw when the snippet disagrees', () => {
    expect(() => expectError('const x = 1;', { contains: 'anything' })).toThrow(/expected a type error/);
    expect(() => expectError('\nconst x: string = 1;', { line: 1, contains: 'assignable' })).toThrow(/line 1, got line 2/);
    expect(() => expectError('const x: string = 1;', { contains: 'nonsense' })).toThrow(/to contain 'nonsense'/);
    expect(() => expectCompiles('const x: string = 1;')).toThrow(/line 1: Type 'number'/);
    expectError('const a = 1;\nconst x: string = a;', { line: 2, contains: 'not assignable' });
    expectCompiles(IMPORT + 'const five: A.Add<2, 3> = 5;');
  });

  it('typeText refuses a snippet with errors rather than reading `any`', () => {
    expect(() => typeText('type R = Missing<1>;', 'R')).toThrow(/does not compile/);
    expect(typeText(IMPORT + 'type R = A.Add<2, 3>;', 'R')).toBe('5');
  });
});

describe('integer arithmetic on literals', () => {
  it('agrees with BigInt on small, signed and large operands', () => {
    const operands: [bigint, bigint][] = [
      [0n, 0n], [0n, 7n], [7n, 0n], [2n, 3n], [-7n, 3n], [7n, -3n], [-7n, -3n], [-1n, 2n], [1n, -2n],
      [9n, 1n], [99n, 1n], [-100n, 1n], [100n, -1n], [12n, 18n], [17n, 17n], [-17n, 17n], [10n, 10n],
      [999_999_999_999n, 1n], [1_000_000_000_000n, 7n], [-1_000_000_000_000n, 7n], [1_000_000n, 1_000_000n],
      [1_000_000_000n, 1_000_000_000n], [123_456n, -654_321n], [987_654_321n, 123_456_789n],
      [4_294_967_296n, 65_536n], [9_007_199_254_740_991n, 1n], [9_007_199_254_740_991n, 2n],
      [600_851_475_143n, 6_857n], [1_000_000_000_000n, 999_999_999_999n],
    ];
    expect(mismatches(operands.flatMap(([a, b]) => referenceCases(a, b)))).toEqual([]);
  });

  it('agrees with BigInt on random 13-digit operands', () => {
    const bound = 10n ** 13n;
    const operand = fc.bigInt({ min: -bound, max: bound });
    fc.assert(
      fc.property(fc.array(fc.tuple(operand, operand), { minLength: 40, maxLength: 40 }), (pairs) => {
        // Euclid on 13 digits takes ~50 ms a pair; the fixed cases above cover gcd at that size.
        expect(mismatches(pairs.flatMap(([a, b]) => referenceCases(a, b, false)))).toEqual([]);
      }),
      { numRuns: 3 },
    );
  });

  it('agrees with BigInt on the gcd of random 7-digit operands, the size dims need', () => {
    const operand = fc.bigInt({ min: -(10n ** 7n), max: 10n ** 7n });
    fc.assert(
      fc.property(fc.array(fc.tuple(operand, operand), { minLength: 40, maxLength: 40 }), (pairs) => {
        expect(mismatches(pairs.map(([a, b]): [string, string] => [`A.Gcd<${a}, ${b}>`, literalText(gcd(a, b))]))).toEqual([]);
      }),
      { numRuns: 2 },
    );
  });

  it('agrees with BigInt when dividing by small divisors, the common case for dims', () => {
    const dividend = fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n });
    const divisor = fc.bigInt({ min: 1n, max: 12n });
    fc.assert(
      fc.property(fc.array(fc.tuple(dividend, divisor), { minLength: 60, maxLength: 60 }), (pairs) => {
        const cases = pairs.flatMap(([a, b]): [string, string][] => [
          [`A.FloorDiv<${a}, ${b}>`, literalText(floorDiv(a, b))],
          [`A.Mod<${a}, ${b}>`, literalText(a - b * floorDiv(a, b))],
        ]);
        expect(mismatches(cases)).toEqual([]);
      }),
      { numRuns: 2 },
    );
  });

  it('widens to number / boolean on a wide argument', () => {
    const wide = ['A.Add<number, 1>', 'A.Sub<1, number>', 'A.Mul<number, number>', 'A.FloorDiv<number, 2>', 'A.Mod<7, number>',
      'A.Gcd<number, 3>', 'A.Max<number, 3>', 'A.Min<3, number>'];
    const predicates = ['A.Lt<number, 1>', 'A.Lte<1, number>', 'A.Gt<number, 1>', 'A.Eq<number, 1>', 'A.IsInteger<number>',
      'A.IsNonNegativeInteger<number>'];
    expect(mismatches([...wide.map((e): [string, string] => [e, 'number']), ...predicates.map((e): [string, string] => [e, 'boolean'])]))
      .toEqual([]);
  });

  it('classifies integer literals', () => {
    const samples = [0, 1, -1, 2.5, -2.5, 0.1, 1e12, -1e12, 1e21, 1e-7, 123456789];
    const cases = samples.flatMap((n): [string, string][] => [
      [`A.IsInteger<${n}>`, String(Number.isInteger(n))],
      [`A.IsNonNegativeInteger<${n}>`, String(Number.isInteger(n) && n >= 0)],
    ]);
    expect(mismatches(cases)).toEqual([]);
  });

  it('gives number for fractional operands and never for a zero divisor', () => {
    expect(mismatches([
      ['A.Add<2.5, 1>', 'number'],
      ['A.Mul<3, 0.5>', 'number'],
      ['A.FloorDiv<5, 0>', 'never'],
      ['A.Mod<5, 0>', 'never'],
      ['A.Eq<2.5, 2.5>', 'true'],
      ['A.Eq<2.5, 2>', 'false'],
    ])).toEqual([]);
  });

  it('evaluates a long chain of operations without hitting the depth limit', () => {
    let expr = '1';
    let value = 1n;
    for (let i = 0; i < 40; i++) {
      expr = i % 2 === 0 ? `A.Mul<${expr}, 7>` : `A.Sub<${expr}, 123456>`;
      value = i % 2 === 0 ? value * 7n : value - 123456n;
      if (value > 10n ** 12n) {
        expr = `A.FloorDiv<${expr}, 1000>`;
        value = floorDiv(value, 1000n);
      }
    }
    expect(mismatches([[expr, literalText(value)]])).toEqual([]);
  });
});
