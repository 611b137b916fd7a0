import { describe, expect, it } from 'vitest';
import type { BatchNormAttrs, BatchRenormAttrs, FreezableNormAttrs } from '../../src/ir/graph.ts';
import { batchNorm, type BatchNormParams } from '../../src/reference/ops/batchNorm.ts';
import { batchRenorm } from '../../src/reference/ops/batchRenorm.ts';
import { groupNorm } from '../../src/reference/ops/groupNorm.ts';
import { ibn } from '../../src/reference/ops/ibn.ts';
import { instanceNorm } from '../../src/reference/ops/instanceNorm.ts';
import { layerNorm } from '../../src/reference/ops/layerNorm.ts';
import { switchableNorm } from '../../src/reference/ops/switchableNorm.ts';
import { zeros, type Float64Tensor } from '../../src/reference/tensor.ts';
import { at, expectClose, makeRng, maxAbsDiff, randomTensor, t64 } from './reference-fixtures.ts';

const TINY_EPS = 1e-12;

function bnAttrs(numFeatures: number, overrides: Partial<FreezableNormAttrs> = {}): FreezableNormAttrs {
  return { numFeatures, eps: 1e-5, frozen: false, decay: 0.9, unbiasedRunningVar: false, ...overrides };
}

function randomBnParams(channels: number, rng: () => number): Required<Omit<BatchNormParams, 'batchesTracked'>> {
  return {
    gamma: randomTensor([channels], rng, 0.5, 2),
    beta: randomTensor([channels], rng),
    runningMean: randomTensor([channels], rng),
    runningVar: randomTensor([channels], rng, 0.2, 3),
  };
}

/** Per-channel mean and biased variance over N, H, W, computed directly. */
function channelStats(x: Float64Tensor, c: number): { mean: number; variance: number } {
  const values: number[] = [];
  const [N, , H = 1, W = 1] = x.shape;
  for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) values.push(x.shape.length === 4 ? at(x, n, c, h, w) : at(x, n, c));
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
  return { mean, variance };
}

/** Channels [from, to) of an [N, C, H, W] tensor, and the two halves put back together. */
function sliceChannels(x: Float64Tensor, from: number, to: number): Float64Tensor {
  const [N, C, H, W] = x.shape;
  const out: number[] = [];
  for (let n = 0; n < N; n++) for (let c = from; c < to; c++) out.push(...x.data.slice((n * C + c) * H * W, (n * C + c + 1) * H * W));
  return t64([N, to - from, H, W], out);
}
function sliceVector(v: Float64Tensor, from: number, to: number): Float64Tensor {
  return t64([to - from], Array.from(v.data.slice(from, to)));
}

describe('batchNorm', () => {
  it('eval normalises with the running statistics (worked by hand)', () => {
    const x = t64([2, 2], [1, 10, 3, 20]);
    const params = { gamma: t64([2], [2, 1]), beta: t64([2], [1, 0]), runningMean: t64([2], [1, 12]), runningVar: t64([2], [4, 16]) };
    const { output, updatedStats } = batchNorm(x, params, bnAttrs(2, { eps: TINY_EPS }), 'eval');
    expect(updatedStats).toBeUndefined();
    const expected = [((1 - 1) / 2) * 2 + 1, (10 - 12) / 4, ((3 - 1) / 2) * 2 + 1, (20 - 12) / 4];
    expect(maxAbsDiff(output.data, expected)).toBeLessThan(1e-10);
  });

  it('train output has per-channel mean 0 and biased variance 1 before the affine map', () => {
    const rng = makeRng(1);
    const x = randomTensor([4, 3, 5, 5], rng, -3, 5);
    const params = { ...randomBnParams(3, rng), gamma: t64([3], [1, 1, 1]), beta: t64([3], [0, 0, 0]) };
    const { output } = batchNorm(x, params, bnAttrs(3, { eps: TINY_EPS }), 'train');
    for (let c = 0; c < 3; c++) {
      const { mean, variance } = channelStats(output, c);
      expect(Math.abs(mean)).toBeLessThan(1e-12);
      expect(Math.abs(variance - 1)).toBeLessThan(1e-9);
    }
  });

  it('train updates the running statistics by decay, biased or unbiased (numbers worked by hand)', () => {
    // One channel holding 1, 2, 3, 4: batch mean 2.5, biased variance 1.25, unbiased 5/3.
    const x = t64([4, 1], [1, 2, 3, 4]);
    const params = { gamma: t64([1], [1]), beta: t64([1], [0]), runningMean: t64([1], [0]), runningVar: t64([1], [1]) };
    const biased = batchNorm(x, params, bnAttrs(1, { decay: 0.9 }), 'train').updatedStats;
    expect(biased?.runningMean[0]).toBeCloseTo(0.25, 14);
    expect(biased?.runningVar[0]).toBeCloseTo(0.9 + 0.1 * 1.25, 14);
    const unbiased = batchNorm(x, params, bnAttrs(1, { decay: 0.9, unbiasedRunningVar: true }), 'train').updatedStats;
    expect(unbiased?.runningVar[0]).toBeCloseTo(0.9 + 0.1 * (5 / 3), 14);
    // The normalisation itself uses the biased variance either way.
    const y = batchNorm(x, params, bnAttrs(1, { unbiasedRunningVar: true, eps: TINY_EPS }), 'train').output;
    expect(y.data[0]).toBeCloseTo(-1.5 / Math.sqrt(1.25), 10);
    expect(params.runningMean.data[0]).toBe(0);
  });

  it('counts N*H*W elements per channel for the unbiased correction on rank 4', () => {
    const rng = makeRng(2);
    const x = randomTensor([2, 1, 2, 3], rng);
    const params = { gamma: t64([1], [1]), beta: t64([1], [0]), runningMean: t64([1], [0]), runningVar: t64([1], [0]) };
    const stats = batchNorm(x, params, bnAttrs(1, { decay: 0, unbiasedRunningVar: true }), 'train').updatedStats;
    expect(stats?.runningVar[0]).toBeCloseTo((channelStats(x, 0).variance * 12) / 11, 14);
  });

  it('frozen behaves as eval in train mode and updates nothing', () => {
    const rng = makeRng(3);
    const x = randomTensor([3, 2, 4, 4], rng);
    const params = randomBnParams(2, rng);
    const frozen = batchNorm(x, params, bnAttrs(2, { frozen: true }), 'train');
    expect(frozen.updatedStats).toBeUndefined();
    expectClose(frozen.output, batchNorm(x, params, bnAttrs(2), 'eval').output, 0);
  });

  it('refuses the unbiased correction with one value per channel, and names wrong params', () => {
    const params = { gamma: t64([1], [1]), beta: t64([1], [0]), runningMean: t64([1], [0]), runningVar: t64([1], [1]) };
    expect(() => batchNorm(t64([1, 1], [5]), params, bnAttrs(1, { unbiasedRunningVar: true }), 'train')).toThrow(/more than one value per channel/);
    expect(() => batchNorm(t64([1, 1], [5]), { ...params, runningVar: t64([2], [1, 1]) }, bnAttrs(1), 'eval')).toThrow(/param 'runningVar' has shape \[2\], expected \[1\]/);
    expect(() => batchNorm(t64([1, 1], [5]), { ...params, gamma: undefined }, bnAttrs(1), 'eval')).toThrow(/param 'gamma' is missing/);
  });
});

describe('batchRenorm', () => {
  const renormAttrs = (numFeatures: number, overrides: Partial<BatchRenormAttrs>): BatchRenormAttrs => ({
    numFeatures, eps: 1e-5, decay: 0.9, unbiasedRunningVar: false, rMax: 3, dMax: 5, sigma: 'runningVar', renormDecay: 0.9, warmup: null, ...overrides,
  });
  const rng = makeRng(4);
  const x = randomTensor([4, 3, 3, 3], rng, -2, 3);
  const params = randomBnParams(3, rng);

  it('with rMax = 1 and dMax = 0 (r = 1, d = 0) equals BatchNorm train, running update included', () => {
    const renorm = batchRenorm(x, params, renormAttrs(3, { rMax: 1, dMax: 0, unbiasedRunningVar: true }), 'train');
    const bn = batchNorm(x, params, bnAttrs(3, { unbiasedRunningVar: true }), 'train');
    expectClose(renorm.output, bn.output, 1e-12);
    expect(renorm.updatedStats).toEqual(bn.updatedStats);
  });

  it('with huge rMax and dMax (no clipping) gives the running-statistics normalisation in train mode', () => {
    // r = sigma_B/sigma and d = (mu_B - mu)/sigma make (x - mu_B)/sigma_B * r + d = (x - mu)/sigma.
    const renorm = batchRenorm(x, params, renormAttrs(3, { rMax: 1e9, dMax: 1e9 }), 'train');
    expectClose(renorm.output, batchNorm(x, params, bnAttrs(3), 'eval').output, 1e-12);
    expect(renorm.updatedStats).toEqual(batchNorm(x, params, bnAttrs(3), 'train').updatedStats);
  });

  it('clips r and d (worked by hand) and in eval mode is BatchNorm eval', () => {
    // One channel holding 0 and 2: mu_B = 1, var_B = 1; running mean 0, var 3, so sigma = sqrt(3).
    // r = clip(1/sqrt(3) = 0.577, 1/1.5, 1.5) = 2/3; d = clip(1/sqrt(3), -0.5, 0.5) = 0.5.
    const one = { gamma: t64([1], [2]), beta: t64([1], [1]), runningMean: t64([1], [0]), runningVar: t64([1], [3]) };
    const attrs = renormAttrs(1, { eps: TINY_EPS, rMax: 1.5, dMax: 0.5 });
    const y = batchRenorm(t64([2, 1], [0, 2]), one, attrs, 'train').output;
    const expected = [(-1 * (2 / 3) + 0.5) * 2 + 1, (1 * (2 / 3) + 0.5) * 2 + 1];
    expect(maxAbsDiff(y.data, expected)).toBeLessThan(1e-9);
    const evalOut = batchRenorm(x, params, renormAttrs(3, {}), 'eval');
    expect(evalOut.updatedStats).toBeUndefined();
    expectClose(evalOut.output, batchNorm(x, params, bnAttrs(3), 'eval').output, 0);
  });
});

describe('layerNorm, instanceNorm, groupNorm', () => {
  const rng = makeRng(5);
  const x = randomTensor([2, 6, 3, 4], rng, -1, 4);
  const gamma = randomTensor([6], rng, 0.5, 2);
  const beta = randomTensor([6], rng);

  it('groupNorm with G = C equals instanceNorm, and with G = 1 equals layerNorm over chw', () => {
    const perChannel = groupNorm(x, { gamma, beta }, { numChannels: 6, groups: 6, eps: 1e-5, affine: true });
    expectClose(perChannel, instanceNorm(x, { gamma, beta }, { numFeatures: 6, eps: 1e-5, affine: true }), 1e-12);
    const whole = groupNorm(x, {}, { numChannels: 6, groups: 1, eps: 1e-5, affine: false });
    expectClose(whole, layerNorm(x, {}, { normalizedShape: [6, 3, 4], over: 'chw', eps: 1e-5, affine: false }), 1e-12);
  });

  it("layerNorm over 'chw' applies gamma and beta element-wise over [C, H, W], as PyTorch's LayerNorm([C, H, W])", () => {
    const elementGamma = randomTensor([6, 3, 4], rng, 0.5, 2);
    const elementBeta = randomTensor([6, 3, 4], rng);
    const attrs = { normalizedShape: [6, 3, 4], over: 'chw', eps: 1e-5 } as const;
    const plain = layerNorm(x, {}, { ...attrs, affine: false });
    const y = layerNorm(x, { gamma: elementGamma, beta: elementBeta }, { ...attrs, affine: true });
    const perSample = 6 * 3 * 4;
    expect(maxAbsDiff(y.data, Array.from(plain.data, (v, i) => v * elementGamma.data[i % perSample] + elementBeta.data[i % perSample]))).toBeLessThan(1e-12);
    expect(() => layerNorm(x, { gamma, beta }, { ...attrs, affine: true })).toThrow(/'gamma'.*\[6, 3, 4\]/);
  });

  it('groupNorm with G = 3 gives each (sample, pair of channels) mean 0 and variance 1', () => {
    const y = groupNorm(x, {}, { numChannels: 6, groups: 3, eps: TINY_EPS, affine: false });
    for (let n = 0; n < 2; n++) {
      for (let g = 0; g < 3; g++) {
        const values = Array.from(y.data.slice((n * 6 + 2 * g) * 12, (n * 6 + 2 * g + 2) * 12));
        const mean = values.reduce((s, v) => s + v, 0) / values.length;
        const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
        expect(Math.abs(mean)).toBeLessThan(1e-12);
        expect(Math.abs(variance - 1)).toBeLessThan(1e-9);
      }
    }
  });

  it("layerNorm over 'c' normalises each position across channels (worked by hand)", () => {
    // Position 0 holds (1, 3): mean 2, var 1 -> (-1, 1). Position 1 holds (5, 1): mean 3, var 4 -> (1, -1).
    const input = t64([1, 2, 1, 2], [1, 5, 3, 1]);
    const y = layerNorm(input, { gamma: t64([2], [1, 10]), beta: t64([2], [0, 100]) }, { normalizedShape: [2], over: 'c', eps: TINY_EPS, affine: true });
    expect(maxAbsDiff(y.data, [-1, 1, 10 + 100, -10 + 100])).toBeLessThan(1e-9);
  });

  it("on [N, C] layerNorm 'c' and 'chw' agree; instanceNorm rejects rank 2", () => {
    const flat = randomTensor([3, 5], rng);
    const attrs = { normalizedShape: [5], eps: 1e-5, affine: false } as const;
    expectClose(layerNorm(flat, {}, { ...attrs, over: 'c' }), layerNorm(flat, {}, { ...attrs, over: 'chw' }), 0);
    expect(() => instanceNorm(flat, {}, { numFeatures: 5, eps: 1e-5, affine: false })).toThrow(/rank 4/);
  });

  it('holds affine params to attrs.affine', () => {
    expect(() => layerNorm(x, { gamma, beta }, { normalizedShape: [6, 3, 4], over: 'chw', eps: 1e-5, affine: false })).toThrow(/'gamma' is present but attrs.affine is false/);
    expect(() => instanceNorm(x, { gamma }, { numFeatures: 6, eps: 1e-5, affine: true })).toThrow(/param 'beta' is missing/);
    expect(() => groupNorm(x, {}, { numChannels: 6, groups: 4, eps: 1e-5, affine: false })).toThrow(/numChannels = 6 is not divisible by groups = 4/);
  });
});

describe('ibn', () => {
  const rng = makeRng(6);
  const x = randomTensor([3, 5, 3, 3], rng, -1, 2);
  const gamma = randomTensor([5], rng, 0.5, 2);
  const beta = randomTensor([5], rng);
  const running = { runningMean: randomTensor([3], rng), runningVar: randomTensor([3], rng, 0.5, 2) };
  const attrs = { ...bnAttrs(5), instanceChannels: 2 };

  for (const mode of ['train', 'eval'] as const) {
    it(`${mode}: InstanceNorm on the first channels and BatchNorm on the rest`, () => {
      const result = ibn(x, { gamma, beta, ...running }, attrs, mode);
      const inPart = instanceNorm(sliceChannels(x, 0, 2), { gamma: sliceVector(gamma, 0, 2), beta: sliceVector(beta, 0, 2) }, { numFeatures: 2, eps: 1e-5, affine: true });
      const bnPart = batchNorm(sliceChannels(x, 2, 5), { gamma: sliceVector(gamma, 2, 5), beta: sliceVector(beta, 2, 5), ...running }, bnAttrs(3), mode);
      expectClose(sliceChannels(result.output, 0, 2), inPart, 1e-12);
      expectClose(sliceChannels(result.output, 2, 5), bnPart.output, 1e-12);
      expect(result.updatedStats).toEqual(bnPart.updatedStats);
    });
  }

  it('frozen keeps the BatchNorm part on running statistics in train mode', () => {
    const frozen = ibn(x, { gamma, beta, ...running }, { ...attrs, frozen: true }, 'train');
    expect(frozen.updatedStats).toBeUndefined();
    expectClose(frozen.output, ibn(x, { gamma, beta, ...running }, attrs, 'eval').output, 0);
  });

  it('wants running statistics for the BatchNorm channels only', () => {
    const wrong = { runningMean: zeros([5]), runningVar: zeros([5]) };
    expect(() => ibn(x, { gamma, beta, ...wrong }, attrs, 'eval')).toThrow(/param 'runningMean' has shape \[5\], expected \[3\]/);
  });
});

describe('switchableNorm', () => {
  const rng = makeRng(9);
  const x = randomTensor([3, 4, 3, 2], rng, -1, 3);
  const bn = randomBnParams(4, rng);
  const attrs = { numFeatures: 4, eps: 1e-5, decay: 0.8, unbiasedRunningVar: true };
  const onlyIn = t64([3], [60, 0, 0]);
  const onlyLn = t64([3], [0, 60, 0]);
  const onlyBn = t64([3], [0, 0, 60]);

  it('with all weight on one source equals InstanceNorm, LayerNorm over C, H, W with per-channel affine (GroupNorm(1, C)) or BatchNorm', () => {
    const { gamma, beta } = bn;
    const affine = { gamma, beta };
    const sn = (w: Float64Tensor, mode: 'train' | 'eval') => switchableNorm(x, { ...bn, meanWeights: w, varWeights: w }, attrs, mode);
    expectClose(sn(onlyIn, 'eval').output, instanceNorm(x, affine, { numFeatures: 4, eps: 1e-5, affine: true }), 1e-12);
    expectClose(sn(onlyLn, 'eval').output, groupNorm(x, affine, { numChannels: 4, groups: 1, eps: 1e-5, affine: true }), 1e-12);
    for (const mode of ['train', 'eval'] as const) {
      const batch = batchNorm(x, bn, bnAttrs(4, { decay: 0.8, unbiasedRunningVar: true }), mode);
      const switched = sn(onlyBn, mode);
      expectClose(switched.output, batch.output, 1e-12);
      expect(switched.updatedStats).toEqual(batch.updatedStats);
    }
  });

  it('takes the mean and the variance from their own mixtures', () => {
    // Mean from IN, variance from LN: y = (x - mean_IN[n, c]) / sqrt(var_LN[n] + eps) * gamma + beta.
    const y = switchableNorm(x, { ...bn, meanWeights: onlyIn, varWeights: onlyLn }, attrs, 'eval').output;
    const [N, C, H, W] = x.shape;
    const area = H * W;
    for (let n = 0; n < N; n++) {
      const sample = Array.from(x.data.slice(n * C * area, (n + 1) * C * area));
      const sampleMean = sample.reduce((s, v) => s + v, 0) / sample.length;
      const sampleVar = sample.reduce((s, v) => s + (v - sampleMean) ** 2, 0) / sample.length;
      for (let c = 0; c < C; c++) {
        const plane = sample.slice(c * area, (c + 1) * area);
        const planeMean = plane.reduce((s, v) => s + v, 0) / area;
        plane.forEach((v, i) => {
          const expected = ((v - planeMean) / Math.sqrt(sampleVar + 1e-5)) * bn.gamma.data[c] + bn.beta.data[c];
          expect(Math.abs(y.data[(n * C + c) * area + i] - expected)).toBeLessThan(1e-12);
        });
      }
    }
  });

  it('with equal weights uses the average of the three statistics', () => {
    const equal = t64([3], [0.3, 0.3, 0.3]);
    const y = switchableNorm(x, { ...bn, meanWeights: equal, varWeights: equal }, attrs, 'eval').output;
    const [N, C, H, W] = x.shape;
    const area = H * W;
    for (let n = 0; n < N; n++) {
      const sample = Array.from(x.data.slice(n * C * area, (n + 1) * C * area));
      const lnMean = sample.reduce((s, v) => s + v, 0) / sample.length;
      const lnVar = sample.reduce((s, v) => s + (v - lnMean) ** 2, 0) / sample.length;
      for (let c = 0; c < C; c++) {
        const plane = sample.slice(c * area, (c + 1) * area);
        const inMean = plane.reduce((s, v) => s + v, 0) / area;
        const inVar = plane.reduce((s, v) => s + (v - inMean) ** 2, 0) / area;
        const mean = (inMean + lnMean + bn.runningMean.data[c]) / 3;
        const variance = (inVar + lnVar + bn.runningVar.data[c]) / 3;
        plane.forEach((v, i) => {
          const expected = ((v - mean) / Math.sqrt(variance + 1e-5)) * bn.gamma.data[c] + bn.beta.data[c];
          expect(Math.abs(y.data[(n * C + c) * area + i] - expected)).toBeLessThan(1e-12);
        });
      }
    }
  });
});
