/**
 * Every law the proof checker uses (src/proof/axioms.ts), checked TASO-style on random small
 * concrete instances: both sides evaluated in float64, one with the reference ops
 * (src/reference), the other with the engine's evaluator (src/algebra/evaluate.ts) where the law
 * speaks about rescaled weights, matvec or taps — so evaluate.ts's group-aware index maps are
 * checked against the reference conv. Groups include depthwise (inPerGroup 1) and channel
 * multipliers; strides, dilations and asymmetric paddings vary.
 *
 * Each conditional law is also shown to BREAK when its condition fails, so no condition is
 * decorative. The denotations the checker starts from (src/proof/denote.ts) and the affine table
 * it checks (src/algebra/affine.ts) are compared with the reference ops too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { affineScale, affineShift, add, attr, div, matvec, mul, num, param, recip, repeat, rowNorm, scaleIn, scaleOut, sqrt, tapScaleOut, taps, weight, type VExpr } from '../../src/algebra/expr.ts';
import { evaluateTaps, evaluateVector, evaluateWeight, type BoundRole, type EvalEnv } from '../../src/algebra/evaluate.ts';
import type { FreezableNormAttrs, Conv2dAttrs, ConvTranspose2dAttrs, LinearAttrs, OpKind } from '../../src/ir/graph.ts';
import { AXIOMS, type AxiomName } from '../../src/proof/axioms.ts';
import { leakyRelu, relu, relu6, sigmoid, tanh } from '../../src/reference/ops/activations.ts';
import { batchNorm } from '../../src/reference/ops/batchNorm.ts';
import { batchRenorm } from '../../src/reference/ops/batchRenorm.ts';
import { conv2d } from '../../src/reference/ops/conv2d.ts';
import { convTranspose2d } from '../../src/reference/ops/convTranspose2d.ts';
import { crop2d } from '../../src/reference/ops/crop2d.ts';
import { flatten } from '../../src/reference/ops/flatten.ts';
import { linear } from '../../src/reference/ops/linear.ts';
import { normalize } from '../../src/reference/ops/normalize.ts';
import { scaleShift } from '../../src/reference/ops/scaleShift.ts';
import { weightNormConv2d } from '../../src/reference/ops/weightNorm.ts';
import { channelView, type Float64Tensor } from '../../src/reference/tensor.ts';
import { makeRng, randomTensor } from '../unit/reference-fixtures.ts';

const RUNS = { numRuns: 200 };

/** A law checked on RUNS random instances drawn from the arbitraries. */
function property<Ts extends [unknown, ...unknown[]]>(...args: [...arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> }, check: (...instance: Ts) => void]): () => void {
  return () => fc.assert(fc.property<Ts>(...args), RUNS);
}

// ---------------------------------------------------------------- helpers

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => maxDiff(a, b) < 1e-10;
const differ = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length !== b.length || maxDiff(a, b) > 1e-6;

const vec = (rng: () => number, n: number, low = -1, high = 1): Float64Array => randomTensor([n], rng, low, high).data;
const t1 = (data: Float64Array) => ({ shape: [data.length], data });

/** x scaled per channel (axis 1) by s: the reference scaleShift with zero shift. */
function scaleChannels(x: Float64Tensor, s: Float64Array): Float64Tensor {
  return scaleShift(x, { scale: t1(s), shift: t1(new Float64Array(s.length)) }, { numChannels: s.length });
}

function addT(a: Float64Tensor, b: Float64Tensor): Float64Tensor {
  return { shape: a.shape, data: a.data.map((v, i) => v + b.data[i]) };
}

/** The image whose channel c is v[c] everywhere. */
function constImage(shape: readonly number[], v: Float64Array): Float64Tensor {
  const view = channelView(shape);
  const data = new Float64Array(view.n * view.c * view.s);
  for (let n = 0; n < view.n; n++) for (let c = 0; c < view.c; c++) data.fill(v[c], (n * view.c + c) * view.s, (n * view.c + c + 1) * view.s);
  return { shape: [...shape], data };
}

/** Zero padding [top, bottom, left, right] of an NCHW tensor. */
function pad0(x: Float64Tensor, [top, bottom, left, right]: readonly number[]): Float64Tensor {
  const [n, c, h, w] = x.shape;
  const H = h + top + bottom;
  const W = w + left + right;
  const data = new Float64Array(n * c * H * W);
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) data[(p * H + i + top) * W + j + left] = x.data[(p * h + i) * w + j];
  }
  return { shape: [n, c, H, W], data };
}

function role(op: OpKind, attrs: unknown, tensors: Record<string, Float64Tensor | { shape: number[]; data: Float64Array }>, scalars: Record<string, number> = {}): BoundRole {
  return { op, attrs: attrs as BoundRole['attrs'], tensors, scalars };
}

const envOf = (roles: Record<string, BoundRole>, counts: Record<string, number> = {}): EvalEnv => ({ roles, counts });

// ---------------------------------------------------------------- the whole real line

const n6 = fc.integer({ min: 1, max: 6 });

/**
 * Vectors of values from the whole domain a parameter can take: either sign, exact zeros, huge
 * and tiny magnitudes (subnormals left out: their relative precision is not float64's).
 */
function wholeDomain(length: fc.Arbitrary<number>): fc.Arbitrary<number[]> {
  const value = fc.oneof(
    fc.double({ min: -4, max: 4, noNaN: true }),
    fc.constantFrom(0, 1, -1, 1e-200, -1e-200, 1e150, -1e150),
    fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.integer({ min: -150, max: 150 })).map(([m, e]) => m * 10 ** e),
  );
  const normal = value.map((x) => (Math.abs(x) < 1e-300 ? 0 : x));
  return length.chain((n) => fc.array(normal, { minLength: n, maxLength: n }));
}

/** p = r.p and q = r.q bound to the given values. */
function scalarCase(p: readonly number[], q: readonly number[] = p) {
  const env = envOf({ r: role('scaleShift', {}, { p: t1(Float64Array.from(p)), q: t1(Float64Array.from(q)) }) });
  return { env, p: param('r.p'), q: param('r.q') };
}

// ---------------------------------------------------------------- random instances

const axis = fc
  .record({
    kernel: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 2 }),
    dilation: fc.integer({ min: 1, max: 2 }),
    before: fc.integer({ min: 0, max: 2 }),
    after: fc.integer({ min: 0, max: 2 }),
    size: fc.integer({ min: 1, max: 6 }),
  })
  .filter((a) => a.size + a.before + a.after >= a.dilation * (a.kernel - 1) + 1);

const convShape = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  groups: fc.integer({ min: 1, max: 3 }),
  inPerGroup: fc.integer({ min: 1, max: 2 }),
  outPerGroup: fc.integer({ min: 1, max: 2 }),
  h: axis,
  w: axis,
  seed: fc.integer(),
});

type ConvShape = typeof convShape extends fc.Arbitrary<infer T> ? T : never;

interface ConvCase {
  readonly attrs: Conv2dAttrs;
  readonly x: Float64Tensor;
  readonly y: Float64Tensor;
  readonly w: Float64Tensor;
  readonly rng: () => number;
  readonly cin: number;
  readonly cout: number;
}

function convCase(c: ConvShape, options: { readonly padded?: boolean; readonly low?: number } = {}): ConvCase {
  const rng = makeRng(c.seed);
  const cin = c.groups * c.inPerGroup;
  const cout = c.groups * c.outPerGroup;
  const padding = options.padded === false ? ([0, 0, 0, 0] as const) : ([c.h.before, c.h.after, c.w.before, c.w.after] as const);
  const attrs: Conv2dAttrs = {
    inChannels: cin,
    outChannels: cout,
    kernel: [c.h.kernel, c.w.kernel],
    stride: [c.h.stride, c.w.stride],
    padding,
    dilation: [c.h.dilation, c.w.dilation],
    groups: c.groups,
    bias: false,
  };
  const low = options.low ?? -1;
  return {
    attrs,
    x: randomTensor([c.batch, cin, c.h.size, c.w.size], rng, low),
    y: randomTensor([c.batch, cin, c.h.size, c.w.size], rng, low),
    w: randomTensor([cout, c.inPerGroup, c.h.kernel, c.w.kernel], rng, low),
    rng,
    cin,
    cout,
  };
}

const unpaddedFits = (c: ConvShape): boolean => c.h.size >= c.h.dilation * (c.h.kernel - 1) + 1 && c.w.size >= c.w.dilation * (c.w.kernel - 1) + 1;
/** Padding that a kernel tap actually reaches: the first output row or column misses a tap. */
const paddingBites = (c: ConvShape): boolean => (c.h.before > 0 && c.h.kernel > 1) || (c.w.before > 0 && c.w.kernel > 1);

function convEnv(k: ConvCase, vectors: Record<string, Float64Array>): EvalEnv {
  const tensors = Object.fromEntries(Object.entries(vectors).map(([name, v]) => [name, t1(v)]));
  return envOf({ conv: role('conv2d', k.attrs, { weight: k.w, ...tensors }) });
}

const convWith = (k: ConvCase, x: Float64Tensor, weightData: Float64Array, extra: Partial<Conv2dAttrs> = {}) =>
  conv2d(x, { weight: { shape: k.w.shape, data: weightData } }, { ...k.attrs, ...extra });

const convT = fc
  .record({
    groups: fc.integer({ min: 1, max: 3 }),
    inPerGroup: fc.integer({ min: 1, max: 2 }),
    outPerGroup: fc.integer({ min: 1, max: 2 }),
    kernel: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 2 }),
    dilation: fc.integer({ min: 1, max: 2 }),
    padding: fc.integer({ min: 0, max: 1 }),
    size: fc.integer({ min: 1, max: 4 }),
    seed: fc.integer(),
  })
  .filter((c) => (c.size - 1) * c.stride - 2 * c.padding + c.dilation * (c.kernel - 1) + 1 > 0);

type ConvTShape = typeof convT extends fc.Arbitrary<infer T> ? T : never;

function convTCase(c: ConvTShape) {
  const rng = makeRng(c.seed);
  const cin = c.groups * c.inPerGroup;
  const cout = c.groups * c.outPerGroup;
  const attrs: ConvTranspose2dAttrs = {
    inChannels: cin,
    outChannels: cout,
    kernel: [c.kernel, c.kernel],
    stride: [c.stride, c.stride],
    padding: [c.padding, c.padding],
    outputPadding: [0, 0],
    dilation: [c.dilation, c.dilation],
    groups: c.groups,
    bias: false,
  };
  const w = randomTensor([cin, c.outPerGroup, c.kernel, c.kernel], rng);
  const x = randomTensor([1, cin, c.size, c.size], rng);
  const y = randomTensor([1, cin, c.size, c.size], rng);
  const run = (input: Float64Tensor, data: Float64Array = w.data) => convTranspose2d(input, { weight: { shape: w.shape, data } }, attrs);
  const env = (vectors: Record<string, Float64Array>) =>
    envOf({ conv: role('convTranspose2d', attrs, { weight: w, ...Object.fromEntries(Object.entries(vectors).map(([k, v]) => [k, t1(v)])) }) });
  return { rng, cin, cout, x, y, run, env };
}

const linearShape = fc.record({ batch: fc.integer({ min: 1, max: 3 }), inF: fc.integer({ min: 1, max: 5 }), outF: fc.integer({ min: 1, max: 5 }), seed: fc.integer() });

function linearCase(c: { batch: number; inF: number; outF: number; seed: number }) {
  const rng = makeRng(c.seed);
  const attrs: LinearAttrs = { inFeatures: c.inF, outFeatures: c.outF, bias: false };
  const w = randomTensor([c.outF, c.inF], rng);
  const x = randomTensor([c.batch, c.inF], rng);
  const y = randomTensor([c.batch, c.inF], rng);
  const run = (input: Float64Tensor, data: Float64Array = w.data) => linear(input, { weight: { shape: w.shape, data } }, attrs);
  const env = (vectors: Record<string, Float64Array>) =>
    envOf({ fc: role('linear', attrs, { weight: w, ...Object.fromEntries(Object.entries(vectors).map(([k, v]) => [k, t1(v)])) }) });
  return { rng, x, y, run, env, ...c };
}

const imageShape = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  channels: fc.integer({ min: 1, max: 4 }),
  h: fc.integer({ min: 1, max: 4 }),
  w: fc.integer({ min: 1, max: 4 }),
  seed: fc.integer(),
});

/** An image and a crop [top, bottom, left, right] that leaves at least one row and column of it. */
const cropShape = fc
  .record({
    batch: fc.integer({ min: 1, max: 2 }),
    channels: fc.integer({ min: 1, max: 4 }),
    h: fc.integer({ min: 1, max: 6 }),
    w: fc.integer({ min: 1, max: 6 }),
    crop: fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)),
    seed: fc.integer(),
  })
  .filter((c) => c.crop[0] + c.crop[1] < c.h && c.crop[2] + c.crop[3] < c.w);

type CropShape = typeof cropShape extends fc.Arbitrary<infer T> ? T : never;

function cropCase(c: CropShape, low = -1) {
  const rng = makeRng(c.seed);
  const shape = [c.batch, c.channels, c.h, c.w];
  const run = (x: Float64Tensor) => crop2d(x, { crop: c.crop });
  return { rng, x: randomTensor(shape, rng, low), y: randomTensor(shape, rng, low), run, shape };
}

// ---------------------------------------------------------------- one check per law

interface LawCheck {
  readonly holds: () => void;
  /** For a conditional law: an instance family where the condition fails and so does the law. */
  readonly breaks?: () => void;
}

const CHECKS: Record<AxiomName, LawCheck> = {
  'conv-additive': {
    holds: property(convShape, (c) => {
      const k = convCase(c);
      expect(close(convWith(k, addT(k.x, k.y), k.w.data).data, addT(convWith(k, k.x, k.w.data), convWith(k, k.y, k.w.data)).data)).toBe(true);
    }),
  },
  'conv-scale-in': {
    holds: property(convShape, (c) => {
      const k = convCase(c);
      const s = vec(k.rng, k.cin);
      const scaled = evaluateWeight(scaleIn(weight('conv.weight'), param('conv.s')), convEnv(k, { s }));
      expect(close(convWith(k, scaleChannels(k.x, s), k.w.data).data, convWith(k, k.x, scaled.data).data)).toBe(true);
    }),
  },
  'conv-scale-out': {
    holds: property(convShape, (c) => {
      const k = convCase(c);
      const s = vec(k.rng, k.cout);
      const scaled = evaluateWeight(scaleOut(weight('conv.weight'), param('conv.s')), convEnv(k, { s }));
      expect(close(scaleChannels(convWith(k, k.x, k.w.data), s).data, convWith(k, k.x, scaled.data).data)).toBe(true);
    }),
  },
  'pad-additive': {
    holds: property(convShape, (c) => {
      const k = convCase(c);
      const p = k.attrs.padding as readonly number[];
      expect(close(pad0(addT(k.x, k.y), p).data, addT(pad0(k.x, p), pad0(k.y, p)).data)).toBe(true);
    }),
  },
  'pad-scale': {
    holds: property(convShape, (c) => {
      const k = convCase(c);
      const p = k.attrs.padding as readonly number[];
      const s = vec(k.rng, k.cin);
      expect(close(pad0(scaleChannels(k.x, s), p).data, scaleChannels(pad0(k.x, p), s).data)).toBe(true);
    }),
  },
  'crop-additive': {
    holds: property(cropShape, (c) => {
      const k = cropCase(c);
      expect(close(k.run(addT(k.x, k.y)).data, addT(k.run(k.x), k.run(k.y)).data)).toBe(true);
    }),
  },
  'crop-scale': {
    holds: property(cropShape, (c) => {
      const k = cropCase(c);
      const s = vec(k.rng, c.channels);
      expect(close(k.run(scaleChannels(k.x, s)).data, scaleChannels(k.run(k.x), s).data)).toBe(true);
    }),
  },
  'crop-const': {
    holds: property(cropShape, (c) => {
      const k = cropCase(c);
      const v = vec(k.rng, c.channels);
      const out = k.run(constImage(k.shape, v));
      expect(out.shape).toEqual([c.batch, c.channels, c.h - c.crop[0] - c.crop[1], c.w - c.crop[2] - c.crop[3]]);
      expect(close(out.data, constImage(out.shape, v).data)).toBe(true);
    }),
  },
  'conv-pad-const': {
    holds: property(convShape, (c) => {
      const k = convCase(c);
      const v = vec(k.rng, k.cin);
      const tapBias = evaluateTaps(taps(weight('conv.weight'), param('conv.v')), convEnv(k, { v }));
      const lhs = convWith(k, constImage(k.x.shape, v), k.w.data);
      const rhs = conv2d(constImage(k.x.shape, new Float64Array(k.cin)), { weight: k.w, tapBias }, k.attrs);
      expect(close(lhs.data, rhs.data)).toBe(true);
    }),
  },
  'conv-const': {
    holds: property(convShape.filter(unpaddedFits), (c) => {
      const k = convCase(c, { padded: false });
      const v = vec(k.rng, k.cin);
      const env = convEnv(k, { v });
      const out = convWith(k, constImage(k.x.shape, v), k.w.data);
      expect(close(out.data, constImage(out.shape, evaluateVector(matvec(weight('conv.weight'), param('conv.v')), env, k.cout)).data)).toBe(true);
      // tapBias(T) without padding is the constant sum of its taps.
      const tapBias = evaluateTaps(taps(weight('conv.weight'), param('conv.v')), env);
      const viaTaps = conv2d(constImage(k.x.shape, new Float64Array(k.cin)), { weight: k.w, tapBias }, k.attrs);
      expect(close(viaTaps.data, out.data)).toBe(true);
    }),
    breaks: property(convShape.filter(paddingBites), (c) => {
      const k = convCase(c, { low: 0.5 });
      const v = vec(k.rng, k.cin, 0.5, 1.5);
      const out = convWith(k, constImage(k.x.shape, v), k.w.data);
      const naive = evaluateVector(matvec(weight('conv.weight'), param('conv.v')), convEnv(k, { v }), k.cout);
      expect(differ(out.data, constImage(out.shape, naive).data)).toBe(true);
    }),
  },
  'conv-transpose-additive': {
    holds: property(convT, (c) => {
      const k = convTCase(c);
      expect(close(k.run(addT(k.x, k.y)).data, addT(k.run(k.x), k.run(k.y)).data)).toBe(true);
    }),
  },
  'conv-transpose-scale-in': {
    holds: property(convT, (c) => {
      const k = convTCase(c);
      const s = vec(k.rng, k.cin);
      const scaled = evaluateWeight(scaleIn(weight('conv.weight'), param('conv.s')), k.env({ s }));
      expect(close(k.run(scaleChannels(k.x, s)).data, k.run(k.x, scaled.data).data)).toBe(true);
    }),
  },
  'conv-transpose-scale-out': {
    holds: property(convT, (c) => {
      const k = convTCase(c);
      const s = vec(k.rng, k.cout);
      const scaled = evaluateWeight(scaleOut(weight('conv.weight'), param('conv.s')), k.env({ s }));
      expect(close(scaleChannels(k.run(k.x), s).data, k.run(k.x, scaled.data).data)).toBe(true);
    }),
  },
  'linear-additive': {
    holds: property(linearShape, (c) => {
      const k = linearCase(c);
      expect(close(k.run(addT(k.x, k.y)).data, addT(k.run(k.x), k.run(k.y)).data)).toBe(true);
    }),
  },
  'linear-scale-in': {
    holds: property(linearShape, (c) => {
      const k = linearCase(c);
      const s = vec(k.rng, c.inF);
      const scaled = evaluateWeight(scaleIn(weight('fc.weight'), param('fc.s')), k.env({ s }));
      expect(close(k.run(scaleChannels(k.x, s)).data, k.run(k.x, scaled.data).data)).toBe(true);
    }),
  },
  'linear-scale-out': {
    holds: property(linearShape, (c) => {
      const k = linearCase(c);
      const s = vec(k.rng, c.outF);
      const scaled = evaluateWeight(scaleOut(weight('fc.weight'), param('fc.s')), k.env({ s }));
      expect(close(scaleChannels(k.run(k.x), s).data, k.run(k.x, scaled.data).data)).toBe(true);
    }),
  },
  'linear-const': {
    holds: property(linearShape, (c) => {
      const k = linearCase(c);
      const v = vec(k.rng, c.inF);
      const out = k.run(constImage(k.x.shape, v));
      expect(close(out.data, constImage(out.shape, evaluateVector(matvec(weight('fc.weight'), param('fc.v')), k.env({ v }), c.outF)).data)).toBe(true);
    }),
  },
  'flatten-scale': {
    holds: property(imageShape, (c) => {
      const rng = makeRng(c.seed);
      const x = randomTensor([c.batch, c.channels, c.h, c.w], rng);
      const s = vec(rng, c.channels);
      const env = envOf({ r: role('scaleShift', {}, { s: t1(s) }) }, { 'flat.spatial': c.h * c.w });
      const perFeature = evaluateVector(repeat(param('r.s'), 'flat.spatial'), env, c.channels * c.h * c.w);
      expect(close(flatten(scaleChannels(x, s)).data, scaleChannels(flatten(x), perFeature).data)).toBe(true);
    }),
  },
  'flatten-const': {
    holds: property(imageShape, (c) => {
      const rng = makeRng(c.seed);
      const v = vec(rng, c.channels);
      const env = envOf({ r: role('scaleShift', {}, { v: t1(v) }) }, { flat: c.h * c.w });
      const flat = flatten(constImage([c.batch, c.channels, c.h, c.w], v));
      expect(close(flat.data, constImage(flat.shape, evaluateVector(repeat(param('r.v'), 'flat'), env, c.channels * c.h * c.w)).data)).toBe(true);
    }),
  },
  'matvec-linear': {
    holds: property(convShape, (c) => {
      const k = convCase(c);
      const env = convEnv(k, { u: vec(k.rng, k.cin), v: vec(k.rng, k.cin) });
      const W = weight('conv.weight');
      const lhs = evaluateVector(matvec(W, add(param('conv.u'), mul(num(-3, 7), param('conv.v')))), env, k.cout);
      const rhs = evaluateVector(add(matvec(W, param('conv.u')), mul(num(-3, 7), matvec(W, param('conv.v')))), env, k.cout);
      expect(close(lhs, rhs)).toBe(true);
    }),
  },
  'matvec-scale-in': {
    holds: property(convShape, (c) => {
      const k = convCase(c);
      const env = convEnv(k, { s: vec(k.rng, k.cin), v: vec(k.rng, k.cin) });
      const W = weight('conv.weight');
      const lhs = evaluateVector(matvec(scaleIn(W, param('conv.s')), param('conv.v')), env, k.cout);
      expect(close(lhs, evaluateVector(matvec(W, mul(param('conv.s'), param('conv.v'))), env, k.cout))).toBe(true);
    }),
  },
  'matvec-scale-out': {
    holds: property(convShape, (c) => {
      const k = convCase(c);
      const env = convEnv(k, { s: vec(k.rng, k.cout), v: vec(k.rng, k.cin) });
      const W = weight('conv.weight');
      const lhs = evaluateVector(matvec(scaleOut(W, param('conv.s')), param('conv.v')), env, k.cout);
      expect(close(lhs, evaluateVector(mul(param('conv.s'), matvec(W, param('conv.v'))), env, k.cout))).toBe(true);
    }),
  },
  'taps-linear': {
    holds: property(convShape, (c) => {
      const k = convCase(c);
      const env = convEnv(k, { u: vec(k.rng, k.cin), v: vec(k.rng, k.cin) });
      const W = weight('conv.weight');
      const lhs = evaluateTaps(taps(W, add(param('conv.u'), mul(num(5), param('conv.v')))), env);
      const parts = [evaluateTaps(taps(W, param('conv.u')), env), evaluateTaps(taps(W, param('conv.v')), env)];
      expect(close(lhs.data, parts[0].data.map((x, i) => x + 5 * parts[1].data[i]))).toBe(true);
    }),
  },
  'taps-scale-in': {
    holds: property(convShape, (c) => {
      const k = convCase(c);
      const env = convEnv(k, { s: vec(k.rng, k.cin), v: vec(k.rng, k.cin) });
      const W = weight('conv.weight');
      const lhs = evaluateTaps(taps(scaleIn(W, param('conv.s')), param('conv.v')), env);
      expect(close(lhs.data, evaluateTaps(taps(W, mul(param('conv.s'), param('conv.v'))), env).data)).toBe(true);
    }),
  },
  'taps-scale-out': {
    holds: property(convShape, (c) => {
      const k = convCase(c);
      const env = convEnv(k, { s: vec(k.rng, k.cout), v: vec(k.rng, k.cin) });
      const W = weight('conv.weight');
      const lhs = evaluateTaps(taps(scaleOut(W, param('conv.s')), param('conv.v')), env);
      expect(close(lhs.data, evaluateTaps(tapScaleOut(taps(W, param('conv.v')), param('conv.s')), env).data)).toBe(true);
      // and as an image: a rescaled tap bias is the rescaled output.
      const x0 = constImage(k.x.shape, new Float64Array(k.cin));
      const plain = conv2d(x0, { weight: k.w, tapBias: evaluateTaps(taps(W, param('conv.v')), env) }, k.attrs);
      const scaled = conv2d(x0, { weight: k.w, tapBias: lhs }, k.attrs);
      expect(close(scaled.data, scaleChannels(plain, evaluateVector(param('conv.s'), env, k.cout)).data)).toBe(true);
    }),
  },
  'repeat-distributes': {
    holds: property(imageShape, (c) => {
      const rng = makeRng(c.seed);
      const env = envOf({ r: role('scaleShift', {}, { u: t1(vec(rng, c.channels, 0.1, 2)), v: t1(vec(rng, c.channels)) }, { eps: rng() }) }, { n: c.h * c.w });
      const u = param('r.u');
      const v = param('r.v');
      const length = c.channels * c.h * c.w;
      const rep = (e: VExpr) => repeat(e, 'n');
      const pairs: [VExpr, VExpr][] = [
        [rep(add(u, v)), add(rep(u), rep(v))],
        [rep(mul(u, v)), mul(rep(u), rep(v))],
        [rep(recip(u)), recip(rep(u))],
        [rep(sqrt(u)), sqrt(rep(u))],
        [rep(add(u, attr('r.eps'))), add(rep(u), attr('r.eps'))],
      ];
      for (const [a, b] of pairs) expect(close(evaluateVector(a, env, length), evaluateVector(b, env, length))).toBe(true);
    }),
  },
  'sqrt-square': {
    holds: property(wholeDomain(n6), (values) => {
      const { env, p } = scalarCase(values.map(Math.abs));
      expect(close(evaluateVector(mul(sqrt(p), sqrt(p)), env, values.length), values.map(Math.abs))).toBe(true);
    }),
    breaks: property(wholeDomain(n6).filter((v) => v.some((x) => x < 0)), (values) => {
      const { env, p } = scalarCase(values);
      expect(close(evaluateVector(mul(sqrt(p), sqrt(p)), env, values.length), values)).toBe(false);
    }),
  },
  'sqrt-of-square': {
    holds: property(wholeDomain(n6), wholeDomain(n6), (a, b) => {
      const n = Math.min(a.length, b.length);
      const { env, p, q } = scalarCase(a.slice(0, n).map(Math.abs), b.slice(0, n).map(Math.abs));
      expect(close(evaluateVector(sqrt(mul(p, p)), env, n), evaluateVector(p, env, n))).toBe(true);
      expect(close(evaluateVector(sqrt(mul(p, q)), env, n), evaluateVector(mul(sqrt(p), sqrt(q)), env, n))).toBe(true);
    }),
    // close() compares with an absolute floor near 0: a clearly negative value shows |a| != a.
    breaks: property(wholeDomain(n6).filter((v) => v.some((x) => x < -1e-6)), (values) => {
      const { env, p } = scalarCase(values);
      expect(close(evaluateVector(sqrt(mul(p, p)), env, values.length), values)).toBe(false);
    }),
  },
  reciprocal: {
    holds: property(wholeDomain(n6).filter((v) => v.every((x) => x !== 0)), (values) => {
      const { env, p } = scalarCase(values);
      expect(close(evaluateVector(mul(p, recip(p)), env, values.length), values.map(() => 1))).toBe(true);
    }),
    breaks: property(wholeDomain(n6).filter((v) => v.some((x) => x === 0)), (values) => {
      const { env, p } = scalarCase(values);
      expect(close(evaluateVector(mul(p, recip(p)), env, values.length), values.map(() => 1))).toBe(false);
    }),
  },
  'relu-homogeneous': homogeneity((x) => relu(x)),
  'leaky-relu-homogeneous': homogeneity((x, alpha) => leakyRelu(x, alpha)),
  'batch-norm-inference': {
    holds: property(imageShape, fc.boolean(), (c, renorm) => {
      const k = bnCase(c);
      const out = renorm ? batchRenorm(k.x, k.params, { ...k.attrs, rMax: 3, dMax: 5, sigma: 'runningVar' as const, renormDecay: 0.9, warmup: null }, 'eval') : batchNorm(k.x, k.params, k.attrs, 'eval');
      expect(close(out.output.data, k.formula())).toBe(true);
    }),
    breaks: property(imageShape.filter((c) => c.batch * c.h * c.w >= 2), (c) => {
      const k = bnCase(c);
      expect(differ(batchNorm(k.x, k.params, k.attrs, 'train').output.data, k.formula())).toBe(true);
    }),
  },
  'zero-substitution': {
    holds: property(fc.integer({ min: 1, max: 5 }), fc.integer(), (n, seed) => {
      const rng = makeRng(seed);
      const c = vec(rng, n, 0.5, 2);
      const q = vec(rng, n);
      const solved = q.map((v, i) => -v / c[i]);
      // p = c*a + q vanishes at a = -q/c, so any expression in a may use -q/c instead.
      const env = envOf({ r: role('scaleShift', {}, { c: t1(c), q: t1(q), a: t1(solved) }) });
      expect(close(evaluateVector(add(mul(param('r.c'), param('r.a')), param('r.q')), env, n), new Float64Array(n))).toBe(true);
    }),
    breaks: property(fc.integer({ min: 1, max: 5 }), fc.integer(), (n, seed) => {
      const rng = makeRng(seed);
      const c = vec(rng, n, 0.5, 2);
      const q = vec(rng, n);
      const a = vec(rng, n, 2, 3);
      // where p = c*a + q is not 0, a and -q/c differ.
      expect(differ(a, q.map((v, i) => -v / c[i]))).toBe(true);
    }),
  },
};

function homogeneity(act: (x: Float64Tensor, alpha: number) => Float64Tensor): LawCheck {
  const instance = fc.record({ shape: imageShape, alpha: fc.double({ min: 0, max: 0.9, noNaN: true }) });
  return {
    holds: property(instance, ({ shape: c, alpha }) => {
      const rng = makeRng(c.seed);
      const x = randomTensor([c.batch, c.channels, c.h, c.w], rng);
      const s = vec(rng, c.channels, 0, 2);
      expect(close(act(scaleChannels(x, s), alpha).data, scaleChannels(act(x, alpha), s).data)).toBe(true);
    }),
    breaks: property(instance, ({ shape: c, alpha }) => {
      const rng = makeRng(c.seed);
      const x = randomTensor([c.batch, c.channels, c.h, c.w], rng);
      x.data[0] = 0.5;
      const s = vec(rng, c.channels, 0, 2);
      s[0] = -1 - rng();
      expect(differ(act(scaleChannels(x, s), alpha).data, scaleChannels(act(x, alpha), s).data)).toBe(true);
    }),
  };
}

function bnCase(c: { batch: number; channels: number; h: number; w: number; seed: number }) {
  const rng = makeRng(c.seed);
  const x = randomTensor([c.batch, c.channels, c.h, c.w], rng, -2, 2);
  const gamma = vec(rng, c.channels);
  const beta = vec(rng, c.channels);
  const runningMean = vec(rng, c.channels, 3, 4);
  const runningVar = vec(rng, c.channels, 5, 6);
  const eps = 1e-3 + rng() * 0.1;
  const attrs: FreezableNormAttrs = { numFeatures: c.channels, eps, frozen: false, decay: 0.9, unbiasedRunningVar: true };
  const params = { gamma: t1(gamma), beta: t1(beta), runningMean: t1(runningMean), runningVar: t1(runningVar) };
  const view = channelView(x.shape);
  const formula = () =>
    x.data.map((v, i) => {
      const ch = Math.floor(i / view.s) % view.c;
      return (gamma[ch] * (v - runningMean[ch])) / Math.sqrt(runningVar[ch] + eps) + beta[ch];
    });
  return { x, attrs, params, formula, gamma, beta, runningMean, runningVar, eps };
}

describe('every law of the proof checker holds on random concrete instances', () => {
  for (const axiom of AXIOMS) {
    it(`${axiom.name}: ${axiom.statement}`, () => CHECKS[axiom.name].holds());
    if (axiom.needs !== undefined) {
      it(`${axiom.name} breaks without its condition (${axiom.needs})`, () => {
        const breaks = CHECKS[axiom.name].breaks;
        expect(breaks, `${axiom.name} needs ${axiom.needs} but has no counter-example check`).toBeDefined();
        breaks?.();
      });
    }
  }
});

describe('no law exists for these, and none would hold', () => {
  it('relu6, sigmoid and tanh are not positively homogeneous, even for s >= 0', () => {
    const x = { shape: [1, 1, 1, 3], data: Float64Array.from([-1, 0.5, 4]) };
    const s = Float64Array.from([2]);
    for (const act of [relu6, sigmoid, tanh]) expect(differ(act(scaleChannels(x, s)).data, scaleChannels(act(x), s).data)).toBe(true);
  });

  it('a crop does not commute with a zero-padded conv: the border it drops feeds the first outputs', () =>
    fc.assert(
      fc.property(cropShape.filter((c) => c.crop[0] >= 1), (c) => {
        const k = cropCase(c, 0.5);
        // 3x3, padding 1, stride 1 keeps the size, so both orders give the same shape
        const attrs: Conv2dAttrs = {
          inChannels: c.channels,
          outChannels: 1,
          kernel: [3, 3],
          stride: [1, 1],
          padding: [1, 1, 1, 1],
          dilation: [1, 1],
          groups: 1,
          bias: false,
        };
        const params = { weight: randomTensor([1, c.channels, 3, 3], k.rng, 0.5) };
        const cropThenConv = conv2d(k.run(k.x), params, attrs);
        const convThenCrop = k.run(conv2d(k.x, params, attrs));
        expect(cropThenConv.shape).toEqual(convThenCrop.shape);
        expect(differ(convThenCrop.data, cropThenConv.data)).toBe(true);
      }),
      RUNS,
    ));

  it('no shift commutes with relu', () =>
    fc.assert(
      fc.property(imageShape, (c) => {
        const rng = makeRng(c.seed);
        const x = randomTensor([c.batch, c.channels, c.h, c.w], rng);
        x.data[0] = -0.5;
        const t = vec(rng, c.channels, 0.1, 1);
        expect(differ(relu(addT(x, constImage(x.shape, t))).data, addT(relu(x), constImage(x.shape, t)).data)).toBe(true);
      }),
      RUNS,
    ));
});

describe("the checker's starting points agree with the reference ops", () => {
  it('conv2d = conv_valid(pad0(x)) + bias + tapBias(T), as denote.ts writes it', () =>
    fc.assert(
      fc.property(convShape, (c) => {
        const k = convCase(c);
        const bias = t1(vec(k.rng, k.cout));
        const tapBias = randomTensor([k.cout, ...k.attrs.kernel], k.rng);
        const full = conv2d(k.x, { weight: k.w, bias, tapBias }, { ...k.attrs, bias: true });
        const p = k.attrs.padding as readonly number[];
        const valid = conv2d(pad0(k.x, p), { weight: k.w }, { ...k.attrs, padding: [0, 0, 0, 0] });
        const border = conv2d(constImage(k.x.shape, new Float64Array(k.cin)), { weight: k.w, tapBias }, k.attrs);
        const biasImage = constImage(valid.shape, bias.data);
        expect(close(full.data, addT(addT(valid, biasImage), border).data)).toBe(true);
      }),
      RUNS,
    ));

  it('weightNormConv2d = conv2d with scaleOut(v, g / rowNorm(v)) (rowNorm as evaluate.ts computes it)', () =>
    fc.assert(
      fc.property(convShape, (c) => {
        const k = convCase(c);
        const g = vec(k.rng, k.cout);
        const env = envOf({ wn: role('weightNormConv2d', k.attrs, { v: k.w, g: t1(g) }) });
        const w = evaluateWeight(scaleOut(weight('wn.v'), div(param('wn.g'), rowNorm(weight('wn.v')))), env);
        expect(close(weightNormConv2d(k.x, { v: k.w, g: t1(g) }, k.attrs).data, convWith(k, k.x, w.data).data)).toBe(true);
      }),
      RUNS,
    ));

  it("affine.ts's scale and shift reproduce batchNorm, batchRenorm, scaleShift and normalize", () =>
    fc.assert(
      fc.property(imageShape, (c) => {
        const k = bnCase(c);
        const scale = vec(makeRng(c.seed + 1), c.channels);
        const shift = vec(makeRng(c.seed + 2), c.channels);
        const std = vec(makeRng(c.seed + 3), c.channels, 0.5, 2);
        const cases: [OpKind, Record<string, ReturnType<typeof t1>>, Record<string, number>, Float64Tensor][] = [
          ['batchNorm', k.params, { eps: k.eps }, batchNorm(k.x, k.params, k.attrs, 'eval').output],
          ['batchRenorm', k.params, { eps: k.eps }, batchRenorm(k.x, k.params, { ...k.attrs, rMax: 3, dMax: 5, sigma: 'runningVar' as const, renormDecay: 0.9, warmup: null }, 'eval').output],
          ['scaleShift', { scale: t1(scale), shift: t1(shift) }, {}, scaleShift(k.x, { scale: t1(scale), shift: t1(shift) }, { numChannels: c.channels })],
          ['normalize', { mean: t1(shift), std: t1(std) }, {}, normalize(k.x, { mean: [...shift], std: [...std] })],
        ];
        for (const [op, tensors, scalars, expected] of cases) {
          const env = envOf({ a: role(op, {}, tensors, scalars) });
          const s = evaluateVector(affineScale('a'), env, c.channels);
          const t = evaluateVector(affineShift('a'), env, c.channels);
          expect(close(addT(scaleChannels(k.x, s), constImage(k.x.shape, t)).data, expected.data)).toBe(true);
        }
      }),
      RUNS,
    ));
});
