/**
 * Parameter values for fold tests, every one exactly representable in float32 (the IR stores
 * float32, so the original graph's parameters are exact and only the fold's own rounding counts).
 *
 * Besides ordinary values the draws include the values folding tools get wrong (ANCHORS.md):
 * zero and negative gamma (lc0 PR#779), running variance 0 with eps > 0 and tiny eps 1e-12 (the
 * huge scales of detectron2 PR#3160), magnitudes 1e6 and 1e-6, and absent biases. Extreme values
 * are drawn per tensor ("profiles"), not per element, so a whole BN can be the hard case while a
 * chain of several hard folds still stays inside float32's range (1e12 scales compose three times
 * at most before 3.4e38).
 */
import fc from 'fast-check';
import type { ParamTensor } from '../../src/ir/graph.ts';

const f32 = Math.fround;

export type Magnitude = 'ordinary' | 'large' | 'small';

/**
 * Ordinary values: a full float32 mantissa (so folded products really round) with magnitude in
 * [1/16, 2], either sign, or one of a few exact values (0 above all). The exponent range is kept
 * narrow on purpose: the hard magnitudes come from the profiles below, where a test can see them.
 */
const ordinary = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(fc.float({ min: f32(1 / 16), max: f32(2), noNaN: true }), fc.boolean()).map(([v, negative]) => (negative ? -v : v)) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, -1, 0.5) },
);

/** A value of the given magnitude; `sign: 'nonNegative'` folds the sign away. */
export function scalarValue(magnitude: Magnitude = 'ordinary', sign: 'any' | 'nonNegative' = 'any'): fc.Arbitrary<number> {
  const factor = magnitude === 'large' ? 1e6 : magnitude === 'small' ? 1e-6 : 1;
  return ordinary.map((v) => {
    const value = f32(v * factor);
    return sign === 'nonNegative' ? Math.abs(value) : value;
  });
}

/** Which magnitude a whole tensor takes: mostly ordinary, sometimes 1e6 or 1e-6 throughout. */
export function magnitudeOf(allowHard: boolean): fc.Arbitrary<Magnitude> {
  return allowHard
    ? fc.constantFrom<Magnitude>('ordinary', 'ordinary', 'ordinary', 'ordinary', 'large', 'small')
    : fc.constant<Magnitude>('ordinary');
}

export function tensorOf(shape: readonly number[], element: fc.Arbitrary<number>): fc.Arbitrary<ParamTensor> {
  const size = shape.reduce((p, d) => p * d, 1);
  return fc.array(element, { minLength: size, maxLength: size }).map((values) => ({ shape: [...shape], data: Float32Array.from(values) }));
}

/** A tensor whose magnitude profile is drawn first. */
export function paramTensor(
  shape: readonly number[],
  options: { readonly allowHard: boolean; readonly sign?: 'any' | 'nonNegative' },
): fc.Arbitrary<ParamTensor> {
  return magnitudeOf(options.allowHard).chain((m) => tensorOf(shape, scalarValue(m, options.sign ?? 'any')));
}

/** A weight-like tensor whose rows (leading axis) are each non-zero somewhere. */
export function nonZeroRows(shape: readonly number[], allowHard: boolean): fc.Arbitrary<ParamTensor> {
  return paramTensor(shape, { allowHard }).map((t) => {
    const data = Float32Array.from(t.data);
    const perRow = data.length / shape[0];
    for (let r = 0; r < shape[0]; r++) {
      if (data.subarray(r * perRow, (r + 1) * perRow).every((v) => v === 0)) data[r * perRow] = 1;
    }
    return { shape: t.shape, data };
  });
}

/** How a BatchNorm-like node is parameterised: ordinary, or one of the hard cases. */
export type NormProfile = 'ordinary' | 'zeroVariance' | 'tinyEps' | 'negativeGamma' | 'zeroGamma' | 'large' | 'small';

export const NORM_PROFILES: readonly NormProfile[] = ['ordinary', 'zeroVariance', 'tinyEps', 'negativeGamma', 'zeroGamma', 'large', 'small'];

export interface BatchNormDraft {
  readonly eps: number;
  readonly params: { gamma: ParamTensor; beta: ParamTensor; runningMean: ParamTensor; runningVar: ParamTensor };
}

export interface BatchNormOptions {
  readonly allowHard: boolean;
  /** gamma >= 0, so the BN's scale is non-negative (conv-act-bn, scale-relu-commute). */
  readonly nonNegativeScale?: boolean;
  /** beta = runningMean * gamma / sigma exactly is hard to hit; beta = mean = 0 gives shift 0. */
  readonly zeroShift?: boolean;
}

/** gamma, beta, running mean and variance for `channels` channels, with eps. */
export function batchNormParams(channels: number, options: BatchNormOptions): fc.Arbitrary<BatchNormDraft> {
  const profiles = options.allowHard ? NORM_PROFILES : (['ordinary'] as const);
  return fc.constantFrom(...profiles).chain((profile) => {
    const m: Magnitude = profile === 'large' ? 'large' : profile === 'small' ? 'small' : 'ordinary';
    const gammaSign = options.nonNegativeScale ? 'nonNegative' : 'any';
    const gamma =
      profile === 'zeroGamma'
        ? fc.constant(0)
        : profile === 'negativeGamma' && !options.nonNegativeScale
          ? scalarValue(m, 'nonNegative').map((v) => -v)
          : scalarValue(m, gammaSign);
    const variance =
      profile === 'zeroVariance' || profile === 'tinyEps'
        ? fc.constantFrom(0, 0, f32(1e-12), f32(1e-6))
        : scalarValue(m, 'nonNegative');
    const eps = profile === 'tinyEps' ? fc.constant(1e-12) : fc.constantFrom(1e-5, 1e-3, 1e-12, 0.1);
    const shiftPart = options.zeroShift ? fc.constant(0) : scalarValue(m);
    const vector = (element: fc.Arbitrary<number>) => tensorOf([channels], element);
    return fc.record({
      eps,
      params: fc.record({
        gamma: vector(gamma),
        beta: vector(shiftPart),
        runningMean: vector(shiftPart),
        runningVar: vector(variance),
      }),
    });
  });
}

/** Affine gamma/beta of a GroupNorm/LayerNorm/InstanceNorm, hard magnitudes included. */
export function affineParams(shape: readonly number[], allowHard: boolean): fc.Arbitrary<{ gamma: ParamTensor; beta: ParamTensor }> {
  return fc.record({ gamma: paramTensor(shape, { allowHard }), beta: paramTensor(shape, { allowHard }) });
}

/** Input preprocessing constants: mean of any sign, std > 0 (ImageNet-like or hard). */
export function normalizeConstants(channels: number, allowHard: boolean): fc.Arbitrary<{ mean: number[]; std: number[] }> {
  const std = magnitudeOf(allowHard).chain((m) => scalarValue(m, 'nonNegative').map((v) => (v === 0 ? f32(0.229) : v)));
  const mean = magnitudeOf(allowHard).chain((m) => scalarValue(m));
  return fc.record({
    mean: fc.array(mean, { minLength: channels, maxLength: channels }),
    std: fc.array(std, { minLength: channels, maxLength: channels }),
  });
}
