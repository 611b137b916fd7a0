/**
 * src/algebra/evaluate.ts computes what the proofs speak about. The checker never reads it: a
 * proof treats scaleOut, scaleIn, matvec, taps, tapScaleOut, repeat and rowNorm as symbols whose
 * meaning is their law in src/proof/axioms.ts. So each primitive is checked here against that
 * meaning, with the float64 reference ops, on every weight layout the engine folds into:
 *
 *   conv2d (any groups: depthwise, channel multipliers), convTranspose2d (groups), linear
 *
 *   scaleOut(W, s)   op_{scaleOut(W,s)}(x) = s ⊙ op_W(x)               (conv/convT/linear-scale-out)
 *   scaleIn(W, s)    op_{scaleIn(W,s)}(x)  = op_W(s ⊙ x)               (conv/convT/linear-scale-in)
 *   composition      op_{scaleOut(scaleIn(scaleOut(W,a),b),c)}(x) = (c a) ⊙ op_W(b ⊙ x)
 *   matvec(W, v)     op_W(const v) = const(matvec(W, v))                (conv-const, linear-const)
 *   taps(W, v)       conv_W(pad0(const v)) = tapBias(taps(W, v))        (conv-pad-const)
 *   tapScaleOut      s ⊙ tapBias(T) = tapBias(tapScaleOut(T, s))        (taps-scale-out)
 *   repeat(s, HW)    flatten(s ⊙ A) = repeat(s, HW) ⊙ flatten(A)        (flatten-scale)
 *   rowNorm(W)       scaleOut(v, g / rowNorm(v)) is the weight normalisation of v by g
 *   float32          evaluateWeightFloat32 = fround(evaluateWeight), entry by entry
 *
 * A slip in an axis or an index (a transposed conv scaled on its input axis, a grouped conv's
 * channel offset, a channel-interleaved repeat, a norm over the wrong axis) fails here even when
 * every rule still proves.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { div, matvec, mul, param, repeat, rowNorm, scaleIn, scaleOut, tapParam, taps, tapScaleOut, weight, type WExpr } from '../../src/algebra/expr.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as evaluate from '../../src/algebra/evaluate.ts';
import type { BoundRole, EvalEnv } from '../../src/algebra/evaluate.ts';
import type { Conv2dAttrs, ConvTranspose2dAttrs, LinearAttrs, OpKind } from '../../src/ir/graph.ts';
import { conv2d } from '../../src/reference/ops/conv2d.ts';
import { convTranspose2d } from '../../src/reference/ops/convTranspose2d.ts';
import { flatten } from '../../src/reference/ops/flatten.ts';
import { linear } from '../../src/reference/ops/linear.ts';
import { weightNormWeight } from '../../src/reference/ops/weightNorm.ts';
import { channelView, type Float64Tensor } from '../../src/reference/tensor.ts';
import { makeRng, randomTensor } from '../unit/reference-fixtures.ts';

const RUNS = { numRuns: 150 };

/** A weight layout with its op, attrs, weight and the reference op running it. */
interface LayoutCase {
  readonly op: OpKind;
  readonly attrs: Conv2dAttrs | ConvTranspose2dAttrs | LinearAttrs;
  readonly w: Float64Tensor;
  readonly cin: number;
  readonly cout: number;
  readonly x: Float64Tensor;
  readonly rng: () => number;
  run(x: Float64Tensor, weightData: Float64Array): Float64Tensor;
}

const shape = fc.record({
  layout: fc.constantFrom('conv2d', 'convTranspose2d', 'linear'),
  groups: fc.integer({ min: 1, max: 3 }),
  inPerGroup: fc.integer({ min: 1, max: 3 }),
  outPerGroup: fc.integer({ min: 1, max: 3 }),
  kh: fc.integer({ min: 1, max: 3 }),
  kw: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 2 }),
  pad: fc.integer({ min: 0, max: 1 }),
  size: fc.integer({ min: 3, max: 5 }),
  seed: fc.integer(),
});

function layoutCase(c: typeof shape extends fc.Arbitrary<infer T> ? T : never): LayoutCase {
  const rng = makeRng(c.seed);
  const groups = c.layout === 'linear' ? 1 : c.groups;
  const cin = groups * c.inPerGroup;
  const cout = groups * c.outPerGroup;
  if (c.layout === 'linear') {
    const attrs: LinearAttrs = { inFeatures: cin, outFeatures: cout, bias: false };
    const w = randomTensor([cout, cin], rng);
    return { op: 'linear', attrs, w, cin, cout, rng, x: randomTensor([2, cin], rng), run: (x, data) => linear(x, { weight: { shape: w.shape, data } }, attrs) };
  }
  if (c.layout === 'convTranspose2d') {
    const attrs: ConvTranspose2dAttrs = {
      inChannels: cin,
      outChannels: cout,
      kernel: [c.kh, c.kw],
      stride: [c.stride, c.stride],
      padding: [0, 0],
      outputPadding: [0, 0],
      dilation: [1, 1],
      groups,
      bias: false,
    };
    const w = randomTensor([cin, c.outPerGroup, c.kh, c.kw], rng);
    const x = randomTensor([1, cin, c.size, c.size], rng);
    return { op: 'convTranspose2d', attrs, w, cin, cout, rng, x, run: (input, data) => convTranspose2d(input, { weight: { shape: w.shape, data } }, attrs) };
  }
  const attrs: Conv2dAttrs = {
    inChannels: cin,
    outChannels: cout,
    kernel: [c.kh, c.kw],
    stride: [c.stride, c.stride],
    padding: [c.pad, c.pad, c.pad, c.pad],
    dilation: [1, 1],
    groups,
    bias: false,
  };
  const w = randomTensor([cout, c.inPerGroup, c.kh, c.kw], rng);
  const x = randomTensor([1, cin, c.size, c.size], rng);
  return { op: 'conv2d', attrs, w, cin, cout, rng, x, run: (input, data) => conv2d(input, { weight: { shape: w.shape, data } }, attrs) };
}

const vec = (rng: () => number, n: number, low = -2, high = 2): Float64Array => randomTensor([n], rng, low, high).data;
const t1 = (data: Float64Array) => ({ shape: [data.length], data });

function envOf(k: LayoutCase, vectors: Record<string, Float64Array>, counts: Record<string, number> = {}): EvalEnv {
  const tensors = Object.fromEntries(Object.entries(vectors).map(([name, v]) => [name, t1(v)]));
  const bound: BoundRole = { op: k.op, attrs: k.attrs as BoundRole['attrs'], tensors: { weight: k.w, ...tensors }, scalars: {} };
  return { roles: { l: bound }, counts };
}

/** x ⊙ s on axis 1 (channels of an image, features of a [N, F] batch). */
function scaleAxis1(x: Float64Tensor, s: Float64Array): Float64Tensor {
  const view = channelView(x.shape);
  return { shape: x.shape, data: x.data.map((v, i) => v * s[Math.floor(i / view.s) % view.c]) };
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tolerance = 1e-10): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tolerance * (1 + Math.abs(b[i])))) return false;
  return true;
}

const W = weight('l.weight');
const layoutName = (k: LayoutCase) => `${k.op} groups ${'groups' in k.attrs ? k.attrs.groups : 1}, in ${k.cin}, out ${k.cout}`;

type Evaluate = typeof evaluate;

/** Each primitive's meaning as a property of one evaluate module, checked on `numRuns` random cases. */
function meanings({ evaluateTaps, evaluateVector, evaluateWeight, evaluateWeightFloat32 }: Evaluate, numRuns: number): (readonly [string, () => void])[] {
  return [
    ['scaleOut(W, s): op_{scaleOut(W,s)}(x) = s ⊙ op_W(x), every layout', () =>
      fc.assert(
        fc.property(shape, (c) => {
          const k = layoutCase(c);
          const s = vec(k.rng, k.cout);
          const scaled = evaluateWeight(scaleOut(W, param('l.s')), envOf(k, { s }));
          expect(close(k.run(k.x, scaled.data).data, scaleAxis1(k.run(k.x, k.w.data), s).data), layoutName(k)).toBe(true);
        }),
        { numRuns },
      )],
    ['scaleIn(W, s): op_{scaleIn(W,s)}(x) = op_W(s ⊙ x), every layout', () =>
      fc.assert(
        fc.property(shape, (c) => {
          const k = layoutCase(c);
          const s = vec(k.rng, k.cin);
          const scaled = evaluateWeight(scaleIn(W, param('l.s')), envOf(k, { s }));
          expect(close(k.run(k.x, scaled.data).data, k.run(scaleAxis1(k.x, s), k.w.data).data), layoutName(k)).toBe(true);
        }),
        { numRuns },
      )],
    ['compositions of scaleOut and scaleIn, and the float32 rounding of their result', () =>
      fc.assert(
        fc.property(shape, (c) => {
          const k = layoutCase(c);
          const [a, b, s] = [vec(k.rng, k.cout), vec(k.rng, k.cin), vec(k.rng, k.cout)];
          const e: WExpr = scaleOut(scaleIn(scaleOut(W, param('l.a')), param('l.b')), param('l.s'));
          const env = envOf(k, { a, b, s });
          const scaled = evaluateWeight(e, env);
          const expected = scaleAxis1(k.run(scaleAxis1(k.x, b), k.w.data), a.map((v, i) => v * s[i]));
          expect(close(k.run(k.x, scaled.data).data, expected.data), layoutName(k)).toBe(true);
          const rounded = evaluateWeightFloat32(e, env);
          expect(Array.from(rounded.data)).toEqual(Array.from(scaled.data, Math.fround));
        }),
        { numRuns },
      )],
    ['matvec(W, v): op_W(const v) = const(matvec(W, v)) for conv2d (no padding) and linear', () =>
      fc.assert(
        fc.property(
          shape.filter((c) => c.layout !== 'convTranspose2d').map((c) => ({ ...c, pad: 0 })),
          (c) => {
            const k = layoutCase(c);
            const v = vec(k.rng, k.cin);
            const constant = { shape: k.x.shape, data: k.x.data.map((_, i) => v[Math.floor(i / channelView(k.x.shape).s) % k.cin]) };
            const out = k.run(constant, k.w.data);
            const mv = evaluateVector(matvec(W, param('l.v')), envOf(k, { v }), k.cout);
            const view = channelView(out.shape);
            expect(close(out.data, out.data.map((_, i) => mv[Math.floor(i / view.s) % view.c])), layoutName(k)).toBe(true);
          },
        ),
        { numRuns },
      )],
    ['taps(W, v) and tapScaleOut: conv_W(pad0(const v)) = tapBias(taps(W, v)), s ⊙ tapBias(T) = tapBias(tapScaleOut(T, s))', () =>
      fc.assert(
        fc.property(
          shape.filter((c) => c.layout === 'conv2d'),
          (c) => {
            const k = layoutCase(c);
            const attrs = k.attrs as Conv2dAttrs;
            const v = vec(k.rng, k.cin);
            const s = vec(k.rng, k.cout);
            const view = channelView(k.x.shape);
            const constant = { shape: k.x.shape, data: k.x.data.map((_, i) => v[Math.floor(i / view.s) % k.cin]) };
            const env = envOf(k, { v, s });
            const T = evaluateTaps(taps(W, param('l.v')), env);
            const zeroWeight = { shape: k.w.shape, data: new Float64Array(k.w.data.length) };
            const viaTaps = conv2d(k.x, { weight: zeroWeight, tapBias: T }, attrs);
            expect(close(viaTaps.data, k.run(constant, k.w.data).data), layoutName(k)).toBe(true);
            const bound: BoundRole = { op: 'conv2d', attrs, tensors: { weight: k.w, tapBias: T, s: t1(s) }, scalars: {} };
            const scaledT = evaluateTaps(tapScaleOut(tapParam('l.tapBias'), param('l.s')), { roles: { l: bound }, counts: {} });
            expect(close(conv2d(k.x, { weight: zeroWeight, tapBias: scaledT }, attrs).data, scaleAxis1(viaTaps, s).data)).toBe(true);
          },
        ),
        { numRuns },
      )],
    ['repeat(s, HW): flatten(s ⊙ A) = repeat(s, HW) ⊙ flatten(A), in the IR flatten order', () =>
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer(), (channels, h, w, seed) => {
          const rng = makeRng(seed);
          const a = randomTensor([2, channels, h, w], rng);
          const s = vec(rng, channels);
          const bound: BoundRole = { op: 'scaleShift', attrs: { numChannels: channels }, tensors: { s: t1(s) }, scalars: {} };
          const perFeature = evaluateVector(repeat(param('r.s'), 'flat.spatial'), { roles: { r: bound }, counts: { 'flat.spatial': h * w } }, channels * h * w);
          expect(close(flatten(scaleAxis1(a, s)).data, scaleAxis1(flatten(a), perFeature).data)).toBe(true);
        }),
        { numRuns },
      )],
    ['rowNorm(v): scaleOut(v, g / rowNorm(v)) is the weight normalisation of v by g (conv2d and linear)', () =>
      fc.assert(
        fc.property(
          shape.filter((c) => c.layout !== 'convTranspose2d'),
          (c) => {
            const k = layoutCase(c);
            const g = vec(k.rng, k.cout);
            const folded = evaluateWeight(scaleOut(W, div(param('l.g'), rowNorm(W))), envOf(k, { g }));
            expect(close(folded.data, weightNormWeight(k.w, t1(g)).data), layoutName(k)).toBe(true);
            const norms = evaluateVector(rowNorm(W), envOf(k, {}), k.cout);
            const unit = evaluateWeight(scaleOut(W, mul(param('l.one'), div(param('l.one'), rowNorm(W)))), envOf(k, { one: new Float64Array(k.cout).fill(1) }));
            expect(norms.every((n) => n >= 0)).toBe(true);
            expect(close(unit.data, weightNormWeight(k.w, t1(new Float64Array(k.cout).fill(1))).data)).toBe(true);
          },
        ),
        { numRuns },
      )],
  ];
}

describe('each evaluate.ts primitive means what the proof checker takes it to mean', () => {
  for (const [name, check] of meanings(evaluate, RUNS.numRuns)) it(name, check);
});

/**
 * The slips that prove every rule all the same (the checker never reads evaluate.ts), each
 * written into a copy of evaluate.ts: every one must fail some check above.
 */
const SLIPS: readonly (readonly [string, string, string])[] = [
  ['a transposed conv scaled on its input axis', "const byFirstAxis = (axis === 'out') === (w.layout !== 'convTranspose2d');", "const byFirstAxis = axis === 'out';"],
  ["a grouped conv's input channel without its group offset", 'const input = weight.layout === \'convTranspose2d\' ? p : group * b + q;', "const input = weight.layout === 'convTranspose2d' ? p : q;"],
  ['a grouped scaleIn read from the wrong group', 'const from = Math.floor(p / perGroupA) * b;', 'const from = (p % w.groups) * b;'],
  ['repeat interleaving channels (NHWC order)', 'for (let c = 0; c < v.length; c++) out.fill(v[c], c * times, (c + 1) * times);', 'for (let c = 0; c < v.length; c++) for (let k = 0; k < times; k++) out[k * v.length + c] = v[c];'],
  ['a weight norm over the input axis', 'out[o] += value * value;', 'out[input % out.length] += value * value;'],
];

describe('a slip in an axis or an index of evaluate.ts fails these checks', () => {
  const source = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/algebra/evaluate.ts');
  const original = readFileSync(source, 'utf8');
  const algebra = pathToFileURL(dirname(source)).href;
  const ir = pathToFileURL(resolve(dirname(source), '../ir')).href;
  for (const [slip, from, to] of SLIPS) {
    it(slip, async () => {
      expect(original.includes(from), `evaluate.ts no longer contains: ${from}`).toBe(true);
      const dir = mkdtempSync(join(tmpdir(), 'shapefold-slip-'));
      try {
        const mutant = join(dir, 'evaluate.ts');
        const text = original.replace(from, to).replaceAll("from './", `from '${algebra}/`).replaceAll("from '../ir/", `from '${ir}/`);
        writeFileSync(mutant, text);
        const ev = (await import(/* @vite-ignore */ pathToFileURL(mutant).href)) as Evaluate;
        const failed = meanings(ev, 60).filter(([, check]) => {
          try {
            check();
            return false;
          } catch {
            return true;
          }
        });
        expect(failed.length, `no check caught: ${slip}`).toBeGreaterThan(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
