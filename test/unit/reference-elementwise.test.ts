import { describe, expect, it } from 'vitest';
import { leakyRelu, relu, relu6, sigmoid, tanh } from '../../src/reference/ops/activations.ts';
import { add } from '../../src/reference/ops/add.ts';
import { concat } from '../../src/reference/ops/concat.ts';
import { flatten } from '../../src/reference/ops/flatten.ts';
import { normalize } from '../../src/reference/ops/normalize.ts';
import { avgPool2d, globalAvgPool, maxPool2d } from '../../src/reference/ops/pool.ts';
import { scaleShift } from '../../src/reference/ops/scaleShift.ts';
import { makeRng, maxAbsDiff, randomTensor, t64 } from './reference-fixtures.ts';

describe('activations', () => {
  const x = t64([1, 6], [-8, -1, -0, 0.5, 3, 7]);

  it('relu, relu6 and leakyRelu clamp as defined', () => {
    expect(Array.from(relu(x).data)).toEqual([0, 0, 0, 0.5, 3, 7]);
    expect(Array.from(relu6(x).data)).toEqual([0, 0, 0, 0.5, 3, 6]);
    expect(Array.from(leakyRelu(x, 0.1).data)).toEqual([-0.8, -0.1, -0, 0.5, 3, 7]);
  });

  it('sigmoid is 1/2 at 0, symmetric, and finite at extreme inputs', () => {
    const wide = t64([5], [-800, -2, 0, 2, 800]);
    const y = sigmoid(wide).data;
    expect(y[2]).toBe(0.5);
    expect(y[1] + y[3]).toBeCloseTo(1, 15);
    expect(y[3]).toBeCloseTo(1 / (1 + Math.exp(-2)), 15);
    expect([y[0], y[4]]).toEqual([0, 1]);
  });

  it('tanh is 2 sigmoid(2x) - 1', () => {
    const rng = makeRng(1);
    const v = randomTensor([20], rng, -5, 5);
    const viaSigmoid = sigmoid({ shape: [20], data: v.data.map((a) => 2 * a) }).data.map((s) => 2 * s - 1);
    expect(maxAbsDiff(tanh(v).data, viaSigmoid)).toBeLessThan(1e-14);
  });
});

describe('add and concat', () => {
  it('add sums any number of equal-shaped inputs and refuses mismatches', () => {
    const a = t64([1, 2], [1, 2]);
    const b = t64([1, 2], [10, 20]);
    const c = t64([1, 2], [100, 200]);
    expect(Array.from(add([a, b, c]).data)).toEqual([111, 222]);
    expect(() => add([a, t64([2, 1], [1, 2])])).toThrow(/input 1 has shape \[2, 1\], but input 0 has \[1, 2\]/);
    expect(() => add([a])).toThrow(/at least 2 inputs/);
  });

  it('concat stacks channels per sample, in input order', () => {
    const a = t64([2, 1, 1, 2], [1, 2, 3, 4]);
    const b = t64([2, 2, 1, 2], [10, 11, 12, 13, 20, 21, 22, 23]);
    const y = concat([a, b]);
    expect(y.shape).toEqual([2, 3, 1, 2]);
    expect(Array.from(y.data)).toEqual([1, 2, 10, 11, 12, 13, 3, 4, 20, 21, 22, 23]);
    expect(() => concat([a, t64([2, 1, 2, 1], [1, 2, 3, 4])])).toThrow(/differs from input 0 .* in a dim other than 1/);
  });

  it('flatten keeps NCHW order', () => {
    const x = t64([2, 2, 1, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const y = flatten(x);
    expect(y.shape).toEqual([2, 4]);
    expect(Array.from(y.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('per-channel maps', () => {
  const x = t64([1, 2, 1, 2], [1, 2, 3, 4]);

  it('scaleShift multiplies and shifts each channel', () => {
    const y = scaleShift(x, { scale: t64([2], [2, -1]), shift: t64([2], [0.5, 10]) }, { numChannels: 2 });
    expect(Array.from(y.data)).toEqual([2.5, 4.5, 7, 6]);
  });

  it('normalize subtracts the mean then divides by the std, per channel', () => {
    const y = normalize(x, { mean: [1, 2], std: [2, 0.5] });
    expect(Array.from(y.data)).toEqual([0, 0.5, 2, 4]);
    expect(() => normalize(x, { mean: [1, 2, 3], std: [1, 1, 1] })).toThrow(/dim 1 \(C\) is 2, expected 3/);
    expect(() => normalize(x, { mean: [1, 2], std: [1] })).toThrow(/attrs.mean has 2 values but attrs.std has 1/);
  });
});

describe('pooling', () => {
  const grid = t64([1, 1, 4, 4], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);

  it('maxPool2d and avgPool2d on 2x2 windows with stride 2 (worked by hand)', () => {
    const attrs = { kernel: [2, 2], stride: [2, 2], padding: 'valid' } as const;
    expect(Array.from(maxPool2d(grid, attrs).data)).toEqual([6, 8, 14, 16]);
    expect(Array.from(avgPool2d(grid, { ...attrs, countIncludePad: false }).data)).toEqual([3.5, 5.5, 11.5, 13.5]);
  });

  it('max pooling never picks the padding, even over all-negative inputs', () => {
    const negative = t64([1, 1, 4, 4], grid.data.map((v) => -v));
    const y = maxPool2d(negative, { kernel: [3, 3], stride: [1, 1], padding: 'same' });
    expect(y.shape).toEqual([1, 1, 4, 4]);
    // Each window's maximum is its top-left real element, i.e. the least negative one.
    expect(Array.from(y.data)).toEqual([-1, -1, -2, -3, -1, -1, -2, -3, -5, -5, -6, -7, -9, -9, -10, -11]);
  });

  it('avg pooling divides by the real elements or by the kernel area, as countIncludePad says', () => {
    const attrs = { kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1] } as const;
    // Window (0, 0) covers rows/cols -1..1: real elements 1, 2, 5, 6.
    const real = avgPool2d(grid, { ...attrs, countIncludePad: false });
    const area = avgPool2d(grid, { ...attrs, countIncludePad: true });
    expect(real.shape).toEqual([1, 1, 2, 2]);
    expect(real.data[0]).toBe((1 + 2 + 5 + 6) / 4);
    expect(area.data[0]).toBe((1 + 2 + 5 + 6) / 9);
    // Window (1, 1) covers rows/cols 1..3 entirely inside: both rules agree.
    expect(real.data[3]).toBe((6 + 7 + 8 + 10 + 11 + 12 + 14 + 15 + 16) / 9);
    expect(area.data[3]).toBe(real.data[3]);
  });

  it("'same' pooling pads the odd pixel after, as TensorFlow does", () => {
    const row = t64([1, 1, 1, 4], [1, 2, 3, 4]);
    // ceil(4/2) = 2 windows of 3 need 1 pixel of padding, which goes on the right: windows {1,2,3}, {3,4,pad}.
    const y = avgPool2d(row, { kernel: [1, 3], stride: [1, 2], padding: 'same', countIncludePad: false });
    expect(Array.from(y.data)).toEqual([2, 3.5]);
  });

  it('a window of padding alone is an error', () => {
    expect(() => maxPool2d(t64([1, 1, 1, 1], [5]), { kernel: [2, 1], stride: [1, 1], padding: [0, 2, 0, 0] })).toThrow(/covers only padding/);
  });

  it('globalAvgPool averages each plane, with or without the 1x1 dims', () => {
    const x = t64([1, 2, 1, 2], [1, 3, 10, 20]);
    const flat = globalAvgPool(x, { keepDims: false });
    expect(flat.shape).toEqual([1, 2]);
    expect(Array.from(flat.data)).toEqual([2, 15]);
    expect(globalAvgPool(x, { keepDims: true }).shape).toEqual([1, 2, 1, 1]);
  });
});
