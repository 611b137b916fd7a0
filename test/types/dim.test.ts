import { describe, expect, it } from 'vitest';
import {
  convOutDim,
  convTransposeOutDim,
  dimAdd,
  DimError,
  dimEqual,
  dimFloorDiv,
  dimProduct,
  dimScale,
  dimSum,
  evalDim,
  formatAffineFloor,
  isSymbolName,
  normalize,
  parseAffineFloor,
  sameOutDim,
  wrapOperand,
  type AffineFloor,
  type Dim,
} from '../../src/shape/dim.ts';
import { expectCompiles, expectError, typeTexts } from './harness.ts';

const IMPORT = "import type * as D from '../../dsl/types/index.ts';\n";

type RuntimeValue = Dim | boolean | AffineFloor | undefined;

/** The run-time value as the compiler prints the mirrored type; a DimError mirrors as `never`. */
function printed(compute: () => RuntimeValue): string {
  let value: RuntimeValue;
  try {
    value = compute();
  } catch (e) {
    if (e instanceof DimError) return 'never';
    throw e;
  }
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') {
    return `{ symbol: "${value.symbol}"; m: ${value.m}; a: ${value.a}; b: ${value.b}; d: ${value.d}; c: ${value.c}; }`;
  }
  return String(value);
}

/** [type expression, run-time computation of the same thing] */
type Case = [string, () => RuntimeValue];

/** Compiles every case in one snippet; returns [expr, type, run time] for those that differ. */
function mismatches(cases: readonly Case[]): [string, string, string][] {
  const names = cases.map((_, i) => `R${i}`);
  const got = typeTexts(IMPORT + cases.map(([expr], i) => `type ${names[i]} = ${expr};`).join('\n'), names);
  return cases.flatMap(([expr, compute], i) => {
    const expected = printed(compute);
    return got[i] === expected ? [] : [[expr, got[i], expected]];
  });
}

function typesOf(exprs: readonly string[]): string[] {
  return typeTexts(IMPORT + exprs.map((e, i) => `type R${i} = ${e};`).join('\n'), exprs.map((_, i) => `R${i}`));
}

const conv3x3s2 = { kernel: 3, stride: 2, dilation: 1, padTotal: 2 };

describe('the examples of src/shape/dim.ts', () => {
  it('two stride-2 3x3 pad-1 convs and one stride-4 1x1 conv both give floor((H+3)/4)', () => {
    const [twice, once] = typesOf(["D.ConvOutDim<D.ConvOutDim<'H', 3, 2, 1, 2>, 3, 2, 1, 2>", "D.ConvOutDim<'H', 1, 4, 1, 0>"]);
    expect(twice).toBe('"floor((H+3)/4)"');
    expect(once).toBe(twice);
    expect(twice).toBe(JSON.stringify(convOutDim(convOutDim('H', conv3x3s2), conv3x3s2)));
  });

  it('a stride-2 transposed conv after a stride-2 conv gives 2*floor((H+1)/2)', () => {
    const down = convOutDim('H', conv3x3s2);
    const up = convTransposeOutDim(down, { kernel: 4, stride: 2, dilation: 1, padding: 1, outputPadding: 0 });
    const [typed] = typesOf(["D.ConvTransposeOutDim<D.ConvOutDim<'H', 3, 2, 1, 2>, 4, 2, 1, 1, 0>"]);
    expect(typed).toBe('"2*floor((H+1)/2)"');
    expect(typed).toBe(JSON.stringify(up));
  });

  it('prints every canonical spelling of the header comment as the run time does', () => {
    const spellings = ['X', '3*X', 'X+2', '2*X-1', 'floor(X/4)', 'floor((X+3)/4)', 'floor(3*X/4)', '2*floor((X+1)/2)+1'];
    const cases = spellings.map((s): Case => [
      `D.FormatAffineFloor<D.NormalizeAffineFloor<D.ParseAffineFloor<'${s}'> & D.AffineFloor>>`,
      () => formatAffineFloor(normalize(parseAffineFloor(s)!)),
    ]);
    expect(mismatches(cases)).toEqual([]);
    expect(cases.map(([, compute]) => compute())).toEqual(spellings);
  });
});

describe('dim operations agree with src/shape/dim.ts', () => {
  it('on literal dims, exactly, up to 10^6 per dim and 10^12 per product', () => {
    const cases: Case[] = [
      ['D.ConvOutDim<1000000, 3, 2, 1, 2>', () => convOutDim(1_000_000, conv3x3s2)],
      ['D.ConvOutDim<999999, 7, 3, 2, 5>', () => convOutDim(999_999, { kernel: 7, stride: 3, dilation: 2, padTotal: 5 })],
      ['D.ConvOutDim<5, 7, 1, 1, 0>', () => convOutDim(5, { kernel: 7, stride: 1, dilation: 1, padTotal: 0 })],
      ['D.SameOutDim<1000001, 2>', () => sameOutDim(1_000_001, 2)],
      ['D.ConvTransposeOutDim<500000, 4, 2, 1, 1, 0>', () => convTransposeOutDim(500_000, { kernel: 4, stride: 2, dilation: 1, padding: 1, outputPadding: 0 })],
      ['D.DimProduct<[1000000, 1000000]>', () => dimProduct([1_000_000, 1_000_000])],
      ['D.DimProduct<[1000, 1000, 1000]>', () => dimProduct([1000, 1000, 1000])],
      ['D.DimProduct<[999983, 999979]>', () => dimProduct([999_983, 999_979])],
      ['D.DimProduct<[]>', () => dimProduct([])],
      ['D.DimSum<[999999, 1, 1000000]>', () => dimSum([999_999, 1, 1_000_000])],
      ['D.DimSum<[]>', () => dimSum([])],
      ['D.DimAdd<3, -10>', () => dimAdd(3, -10)],
      ['D.DimFloorDiv<-7, 2>', () => dimFloorDiv(-7, 2)],
      ['D.DimScale<123457, 8>', () => dimScale(123_457, 8)],
    ];
    expect(mismatches(cases)).toEqual([]);
  });

  it('on symbolic dims in affine-floor form', () => {
    const cases: Case[] = [
      ["D.DimAdd<'H', 0>", () => dimAdd('H', 0)],
      ["D.DimAdd<'H', -3>", () => dimAdd('H', -3)],
      ["D.DimAdd<'floor((H+3)/4)', 2>", () => dimAdd('floor((H+3)/4)', 2)],
      ["D.DimScale<'H', 1>", () => dimScale('H', 1)],
      ["D.DimScale<'2*H-1', 3>", () => dimScale('2*H-1', 3)],
      ["D.DimScale<'floor((H+3)/4)+1', 6>", () => dimScale('floor((H+3)/4)+1', 6)],
      ["D.DimFloorDiv<'H', 1>", () => dimFloorDiv('H', 1)],
      ["D.DimFloorDiv<'2*H+6', 4>", () => dimFloorDiv('2*H+6', 4)],
      ["D.DimFloorDiv<'6*floor((H+3)/4)+5', 3>", () => dimFloorDiv('6*floor((H+3)/4)+5', 3)],
      ["D.DimFloorDiv<'6*floor((H+3)/4)+5', 6>", () => dimFloorDiv('6*floor((H+3)/4)+5', 6)],
      ["D.DimFloorDiv<'floor((H+1)/2)-1', 5>", () => dimFloorDiv('floor((H+1)/2)-1', 5)],
      ["D.SameOutDim<'W', 3>", () => sameOutDim('W', 3)],
      ["D.SameOutDim<'W', 1>", () => sameOutDim('W', 1)],
      ["D.ConvOutDim<'H', 7, 2, 1, 6>", () => convOutDim('H', { kernel: 7, stride: 2, dilation: 1, padTotal: 6 })],
      ["D.ConvOutDim<'H', 3, 1, 2, 4>", () => convOutDim('H', { kernel: 3, stride: 1, dilation: 2, padTotal: 4 })],
      ["D.ConvTransposeOutDim<'H', 3, 3, 1, 0, 2>", () => convTransposeOutDim('H', { kernel: 3, stride: 3, dilation: 1, padding: 0, outputPadding: 2 })],
      ["D.DimProduct<[4, 'H', 2]>", () => dimProduct([4, 'H', 2])],
      ["D.DimProduct<[0, 'H']>", () => dimProduct([0, 'H'])],
      ["D.DimSum<['H', '2*H+1', 3]>", () => dimSum(['H', '2*H+1', 3])],
      ["D.DimSum<['H', 5]>", () => dimSum(['H', 5])],
      ["D.DimSum<['H_1', 'H_1']>", () => dimSum(['H_1', 'H_1'])],
    ];
    expect(mismatches(cases)).toEqual([]);
  });

  it('on opaque dims (products and sums of different symbols), wrapping operands alike', () => {
    const cases: Case[] = [
      ["D.DimProduct<['H', 'W']>", () => dimProduct(['H', 'W'])],
      ["D.DimProduct<[2, 'H+1', 'W', 3]>", () => dimProduct([2, 'H+1', 'W', 3])],
      ["D.DimProduct<['floor((H+1)/2)', 'W-1']>", () => dimProduct(['floor((H+1)/2)', 'W-1'])],
      ["D.DimSum<['H', 'W', 3]>", () => dimSum(['H', 'W', 3])],
      ["D.DimSum<['H', 'floor(W/2)', -1]>", () => dimSum(['H', 'floor(W/2)', -1])],
      ["D.DimSum<['H', 'H*W']>", () => dimSum(['H', 'H*W'])],
      ["D.DimAdd<'H*W', -2>", () => dimAdd('H*W', -2)],
      ["D.DimAdd<'H+W', 1>", () => dimAdd('H+W', 1)],
      ["D.DimScale<'H+W', 2>", () => dimScale('H+W', 2)],
      ["D.DimScale<'(H+1)*W', 2>", () => dimScale('(H+1)*W', 2)],
      ["D.DimScale<'H+floor(3*H/4)', 2>", () => dimScale('H+floor(3*H/4)', 2)],
      ["D.DimFloorDiv<'H*W', 2>", () => dimFloorDiv('H*W', 2)],
      ["D.DimFloorDiv<'H+W-1', 2>", () => dimFloorDiv('H+W-1', 2)],
      ["D.DimFloorDiv<'6*floor((H+3)/4)+5', 4>", () => dimFloorDiv('6*floor((H+3)/4)+5', 4)],
      ["D.ConvOutDim<'H*W', 3, 2, 1, 2>", () => convOutDim('H*W', conv3x3s2)],
      ["D.DimAdd<'floor', 1>", () => dimAdd('floor', 1)],
      ["D.WrapOperand<'floor((H+1)/2)'>", () => wrapOperand('floor((H+1)/2)')],
      ["D.WrapOperand<'floor(H/2)+floor(W/2)'>", () => wrapOperand('floor(H/2)+floor(W/2)')],
      ["D.WrapOperand<'H*W'>", () => wrapOperand('H*W')],
    ];
    expect(mismatches(cases)).toEqual([]);
  });

  it('wraps a sum that ends in a parenthesis (a fixed run-time bug: 2*H+floor(3*H/4) was printed)', () => {
    const doubled = dimScale('H+floor(3*H/4)', 2);
    expect(evalDim(doubled, { H: 4 })).toBe(2 * (4 + 3));
    expect(mismatches([["D.DimScale<'H+floor(3*H/4)', 2>", () => doubled]])).toEqual([]);
  });

  it('rejects what the run time rejects (never), and keeps a wide number unknown', () => {
    const rejected: Case[] = [
      ["D.DimScale<'H', 0>", () => dimScale('H', 0)],
      ["D.DimFloorDiv<'H', 0>", () => dimFloorDiv('H', 0)],
      ["D.DimAdd<'H', 1.5>", () => dimAdd('H', 1.5)],
      ["D.DimProduct<[-1, 'H']>", () => dimProduct([-1, 'H'])],
    ];
    expect(mismatches(rejected)).toEqual([]);
    const wide = [
      'D.DimAdd<number, 1>',
      "D.DimAdd<'H', number>",
      'D.DimScale<number, 2>',
      'D.DimFloorDiv<number, 2>',
      'D.ConvOutDim<number, 3, 2, 1, 2>',
      "D.ConvOutDim<'H', number, 2, 1, 2>",
      'D.SameOutDim<number, 2>',
      'D.ConvTransposeOutDim<number, 4, 2, 1, 1, 0>',
      "D.DimProduct<[number, 'H']>",
      'D.DimProduct<D.Dim[]>',
      "D.DimSum<['H', number]>",
    ];
    expect(typesOf(wide)).toEqual(wide.map(() => 'number'));
  });
});

describe('DimEqual, DimToString, IsSymbolName and parsing', () => {
  it('DimEqual compares like dimEqual, and defers to run time on a wide side', () => {
    const pairs: [Dim, Dim][] = [[3, 3], [3, 4], ['H', 'H'], ['H', 'W'], [3, 'H'], ['floor((H+3)/4)', 'floor((H+3)/4)'], ['H+1', '1+H'], [1_000_000, 1_000_000]];
    const lit = (d: Dim): string => (typeof d === 'number' ? String(d) : `'${d}'`);
    expect(mismatches(pairs.map(([a, b]): Case => [`D.DimEqual<${lit(a)}, ${lit(b)}>`, () => dimEqual(a, b)]))).toEqual([]);
    expect(typesOf(["D.DimEqual<number, 'H'>", 'D.DimEqual<3, number>', 'D.DimEqual<string, 3>'])).toEqual(['true', 'true', 'true']);
  });

  it('DimToString prints literals, spellings and unknown sizes', () => {
    expect(typesOf(['D.DimToString<1000000>', "D.DimToString<'floor((H+3)/4)'>", 'D.DimToString<number>', 'D.DimToString<-2>'])).toEqual([
      '"1000000"',
      '"floor((H+3)/4)"',
      '"number"',
      '"-2"',
    ]);
  });

  it('IsSymbolName accepts identifiers other than floor, as isSymbolName does', () => {
    const names = ['H', 'W_2', '_', 'batch', 'floor', 'Floor', '2H', 'H+1', '', 'H W', 'é', 'floor2'];
    expect(mismatches(names.map((n): Case => [`D.IsSymbolName<'${n}'>`, () => isSymbolName(n)]))).toEqual([]);
  });

  it('ParseAffineFloor reads what parseAffineFloor reads', () => {
    const spellings = ['H', '12*H_1-3', 'H+007', 'floor((2*H+6)/4)-1', '3*floor(W/5)+2', 'floor(floor/2)', 'floor+1', 'H*W', '2*3', 'floor((H+1)/2', '(H+1)', 'H-', '-H'];
    const cases = spellings.map((s): Case => [`D.ParseAffineFloor<'${s}'>`, () => parseAffineFloor(s)]);
    cases.push(['D.ParseAffineFloor<42>', () => parseAffineFloor(42)]);
    expect(mismatches(cases)).toEqual([]);
  });
});

describe('in use: a declared output type is checked against the computed dim', () => {
  it('accepts the right spelling and names the computed one when it is wrong', () => {
    expectCompiles(`${IMPORT}const out: D.ConvOutDim<'H', 3, 2, 1, 2> = 'floor((H+1)/2)';`);
    expectError(`${IMPORT}const out: D.ConvOutDim<'H', 3, 2, 1, 2> = 'floor(H/2)';`, {
      line: 2,
      contains: `'"floor((H+1)/2)"'`,
    });
  });
});
