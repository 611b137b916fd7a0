/**
 * The type-level dim algebra (dsl/types/dim.ts) against the run-time one (src/shape/dim.ts):
 * random chains of dim operations must print the same string, or the same literal, both ways.
 * Each fast-check run compiles one snippet holding a whole batch of chains, `type R<i> = ...`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  convOutDim,
  convTransposeOutDim,
  DimError,
  dimAdd,
  dimFloorDiv,
  dimProduct,
  dimScale,
  dimSum,
  evalDim,
  formatAffineFloor,
  normalize,
  parseAffineFloor,
  sameOutDim,
  type AffineFloor,
  type Dim,
} from '../../src/shape/dim.ts';
import { typeTexts } from '../types/harness.ts';

const IMPORT = "import type * as D from '../../dsl/types/index.ts';\n";
const SYMBOLS = ['H', 'W', 'N', 'H_1', 'x2'] as const;

type Op =
  | { kind: 'conv'; kernel: number; stride: number; dilation: number; padTotal: number }
  | { kind: 'same'; stride: number }
  | { kind: 'transpose'; kernel: number; stride: number; dilation: number; padding: number; outputPadding: number }
  | { kind: 'add'; k: number }
  | { kind: 'scale'; k: number }
  | { kind: 'floorDiv'; s: number }
  | { kind: 'product' | 'sum'; before: Dim[]; after: Dim[] };

interface Chain {
  start: Dim;
  ops: Op[];
}

/** Extra operands of products and sums: small literals, symbols and a few canonical forms. */
const extraDim: fc.Arbitrary<Dim> = fc.oneof(
  fc.integer({ min: 0, max: 8 }),
  fc.constantFrom(...SYMBOLS),
  fc.constantFrom('H+1', '2*W-3', 'floor((H+1)/2)', '3*floor(W/4)+2', 'floor(3*H/4)'),
);

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('conv' as const),
    kernel: fc.integer({ min: 1, max: 7 }),
    stride: fc.integer({ min: 1, max: 3 }),
    dilation: fc.integer({ min: 1, max: 3 }),
    padTotal: fc.integer({ min: 0, max: 8 }),
  }),
  fc.record({ kind: fc.constant('same' as const), stride: fc.integer({ min: 1, max: 3 }) }),
  fc
    .record({
      kind: fc.constant('transpose' as const),
      kernel: fc.integer({ min: 1, max: 7 }),
      stride: fc.integer({ min: 1, max: 3 }),
      dilation: fc.integer({ min: 1, max: 3 }),
      padding: fc.integer({ min: 0, max: 3 }),
      outputPadding: fc.integer({ min: 0, max: 2 }),
    })
    .map((t) => ({ ...t, outputPadding: t.outputPadding % t.stride })),
  fc.record({ kind: fc.constant('add' as const), k: fc.integer({ min: -12, max: 12 }) }),
  fc.record({ kind: fc.constant('scale' as const), k: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('floorDiv' as const), s: fc.integer({ min: 1, max: 6 }) }),
  fc.record({
    kind: fc.constantFrom('product' as const, 'sum' as const),
    before: fc.array(extraDim, { maxLength: 2 }),
    after: fc.array(extraDim, { maxLength: 2 }),
  }),
);

const symbol = fc.constantFrom(...SYMBOLS);
const ops = fc.array(op, { minLength: 1, maxLength: 6 });
const chain: fc.Arbitrary<Chain> = fc.record({ start: fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), symbol), ops });
const symbolicChain: fc.Arbitrary<Chain> = fc.record({ start: symbol, ops });

function applyRuntime(x: Dim, o: Op, bind: (d: Dim) => Dim): Dim {
  switch (o.kind) {
    case 'conv':
      return convOutDim(x, o);
    case 'same':
      return sameOutDim(x, o.stride);
    case 'transpose':
      return convTransposeOutDim(x, o);
    case 'add':
      return dimAdd(x, o.k);
    case 'scale':
      return dimScale(x, o.k);
    case 'floorDiv':
      return dimFloorDiv(x, o.s);
    case 'product':
      return dimProduct([...o.before.map(bind), x, ...o.after.map(bind)]);
    case 'sum':
      return dimSum([...o.before.map(bind), x, ...o.after.map(bind)]);
  }
}

function dimType(d: Dim): string {
  return typeof d === 'number' ? String(d) : `'${d}'`;
}

function applyType(x: string, o: Op): string {
  switch (o.kind) {
    case 'conv':
      return `D.ConvOutDim<${x}, ${o.kernel}, ${o.stride}, ${o.dilation}, ${o.padTotal}>`;
    case 'same':
      return `D.SameOutDim<${x}, ${o.stride}>`;
    case 'transpose':
      return `D.ConvTransposeOutDim<${x}, ${o.kernel}, ${o.stride}, ${o.dilation}, ${o.padding}, ${o.outputPadding}>`;
    case 'add':
      return `D.DimAdd<${x}, ${o.k}>`;
    case 'scale':
      return `D.DimScale<${x}, ${o.k}>`;
    case 'floorDiv':
      return `D.DimFloorDiv<${x}, ${o.s}>`;
    case 'product':
    case 'sum': {
      const operands = [...o.before.map(dimType), x, ...o.after.map(dimType)].join(', ');
      return `D.${o.kind === 'product' ? 'DimProduct' : 'DimSum'}<[${operands}]>`;
    }
  }
}

/**
 * The run-time result as the compiler prints the mirrored type: a literal's digits, a string
 * literal in double quotes, or `never` where the run-time function throws a DimError.
 */
function runtimeText(compute: () => Dim): string {
  try {
    const d = compute();
    return typeof d === 'number' ? String(d) : JSON.stringify(d);
  } catch (e) {
    if (e instanceof DimError) return 'never';
    throw e;
  }
}

/** Compiles `type R<i> = expr_i` for all expressions at once; throws listing the ones that differ. */
function expectTypesPrint(cases: readonly { expr: string; expected: string }[]): void {
  const names = cases.map((_, i) => `R${i}`);
  const got = typeTexts(IMPORT + cases.map((c, i) => `type ${names[i]} = ${c.expr};`).join('\n'), names);
  const wrong = cases.flatMap((c, i) => (got[i] === c.expected ? [] : [`${c.expr}\n  type: ${got[i]}\n  run time: ${c.expected}`]));
  if (wrong.length > 0) throw new Error(`${wrong.length} of ${cases.length} differ:\n${wrong.slice(0, 5).join('\n')}`);
}

/**
 * Batches are large, so a failure reports the seed and the mismatching cases only (listed by the
 * assertion), not the whole generated batch; shrinking a batch would recompile it many times.
 */
const assertOptions: fc.Parameters<[unknown]> = {
  numRuns: 3,
  endOnFailure: true,
  reporter: (run) => {
    if (run.failed) throw new Error(`seed ${run.seed}: ${String(run.errorInstance)}`);
  },
};

describe('type-level dims mirror src/shape/dim.ts', () => {
  it('random chains of conv, same, transpose, add, scale, floorDiv, product and sum print alike', () => {
    fc.assert(
      fc.property(fc.array(chain, { minLength: 150, maxLength: 150 }), (chains) => {
        const cases = chains.map(({ start, ops }) => ({
          expr: ops.reduce(applyType, dimType(start)),
          expected: runtimeText(() => ops.reduce((x: Dim, o) => applyRuntime(x, o, (d) => d), start)),
        }));
        expectTypesPrint(cases);
      }),
      assertOptions,
    );
  });

  it('symbolic results evaluate to the literal computation for any value of the symbols', () => {
    const env = fc.record(Object.fromEntries(SYMBOLS.map((s) => [s, fc.integer({ min: -20, max: 1000 })])));
    fc.assert(
      fc.property(symbolicChain, env, ({ start, ops }, values) => {
        const bind = (d: Dim): Dim => evalDim(d, values);
        const literal = Number(ops.reduce((x: Dim, o) => applyRuntime(x, o, bind), bind(start)));
        // Products of several symbols outgrow exact doubles, and then the two orders of rounding differ.
        fc.pre(Number.isSafeInteger(literal));
        // Sizes are non-negative: a chain whose literal part goes negative is outside the algebra
        // (dimScale rejects it, and dimProduct would print an unreadable '-1*H*W').
        const symbolic = ops.reduce((x: Dim, o) => {
          const next = applyRuntime(x, o, (d) => d);
          fc.pre(typeof next !== 'number' || next >= 0);
          return next;
        }, start);
        // `+ 0` turns -0 (zero times a negative value) into 0 on both sides.
        expect(evalDim(symbolic, values) + 0).toBe(literal + 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('parsing reads the same affine-floor form from canonical, non-canonical and malformed spellings', () => {
    const nat = fc.oneof(fc.integer({ min: 0, max: 12 }).map(String), fc.constantFrom('007', '100', '0'));
    const name = fc.constantFrom('H', 'W_2', '_', 'floor', 'x', '2x');
    const scaled = fc.tuple(fc.option(nat, { nil: undefined }), name).map(([a, x]) => (a === undefined ? x : `${a}*${x}`));
    const constant = fc.oneof(fc.constant(''), fc.tuple(fc.constantFrom('+', '-'), nat).map(([s, n]) => s + n));
    const numerator = fc.oneof(scaled, fc.tuple(scaled, nat).map(([s, b]) => `(${s}+${b})`));
    const floorForm = fc
      .tuple(fc.option(nat, { nil: undefined }), numerator, nat, constant)
      .map(([m, n, d, c]) => `${m === undefined ? '' : `${m}*`}floor(${n}/${d})${c}`);
    const affineForm = fc.tuple(scaled, constant).map(([s, c]) => s + c);
    const mutated = fc
      .tuple(fc.oneof(floorForm, affineForm), fc.nat(), fc.constantFrom('', '(', ')', '+', '*', ' ', '1', 'H', '/'))
      .map(([s, at, ch]) => s.slice(0, at % (s.length + 1)) + ch + s.slice((at % (s.length + 1)) + 1));
    const spelling = fc.oneof(floorForm, affineForm, mutated);
    fc.assert(
      fc.property(fc.array(spelling, { minLength: 150, maxLength: 150 }), (spellings) => {
        const cases = spellings.map((s) => {
          const parsed = parseAffineFloor(s);
          const expected =
            parsed === undefined
              ? 'undefined'
              : `{ symbol: "${parsed.symbol}"; m: ${parsed.m}; a: ${parsed.a}; b: ${parsed.b}; d: ${parsed.d}; c: ${parsed.c}; }`;
          return { expr: `D.ParseAffineFloor<'${s}'>`, expected };
        });
        expectTypesPrint(cases);
      }),
      assertOptions,
    );
  });

  it('normalising and formatting an arbitrary affine-floor form print alike', () => {
    const form: fc.Arbitrary<AffineFloor> = fc.record({
      symbol,
      m: fc.integer({ min: 1, max: 12 }),
      a: fc.integer({ min: 1, max: 12 }),
      b: fc.integer({ min: -30, max: 30 }),
      d: fc.integer({ min: 1, max: 12 }),
      c: fc.integer({ min: -30, max: 30 }),
    });
    fc.assert(
      fc.property(fc.array(form, { minLength: 150, maxLength: 150 }), (forms) => {
        const cases = forms.map((e) => ({
          expr: `D.FormatAffineFloor<D.NormalizeAffineFloor<{ symbol: '${e.symbol}'; m: ${e.m}; a: ${e.a}; b: ${e.b}; d: ${e.d}; c: ${e.c} }>>`,
          expected: JSON.stringify(formatAffineFloor(normalize(e))),
        }));
        expectTypesPrint(cases);
      }),
      assertOptions,
    );
  });
});
