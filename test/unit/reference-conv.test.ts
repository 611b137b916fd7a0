import { describe, expect, it } from 'vitest';
import type { Conv2dAttrs, ConvTranspose2dAttrs, Padding2d } from '../../src/ir/graph.ts';
import { conv2d } from '../../src/reference/ops/conv2d.ts';
import { convTranspose2d } from '../../src/reference/ops/convTranspose2d.ts';
import { linear } from '../../src/reference/ops/linear.ts';
import { weightNormConv2d, weightNormLinear } from '../../src/reference/ops/weightNorm.ts';
import { resolveSamePadding } from '../../src/reference/padding.ts';
import { zeros, type Float64Tensor } from '../../src/reference/tensor.ts';
import { at, expectClose, makeRng, randomTensor, t64 } from './reference-fixtures.ts';

function convAttrs(overrides: Partial<Conv2dAttrs> & Pick<Conv2dAttrs, 'inChannels' | 'outChannels' | 'kernel'>): Conv2dAttrs {
  return { stride: [1, 1], padding: 'valid', dilation: [1, 1], groups: 1, bias: false, ...overrides };
}

/**
 * An independent conv: materialise the zero-padded input, gather each output position's
 * receptive field into a row (im2col), and take dot products with the flattened filters.
 */
function im2colConv(x: Float64Tensor, weight: Float64Tensor, bias: Float64Tensor | undefined, attrs: Conv2dAttrs,
  pads: readonly [number, number, number, number]): Float64Tensor {
  const [N, Cin, H, W] = x.shape;
  const [top, bottom, left, right] = pads;
  const Hp = H + top + bottom;
  const Wp = W + left + right;
  const padded: number[][][][] = [];
  for (let n = 0; n < N; n++) {
    padded.push([]);
    for (let c = 0; c < Cin; c++) {
      const plane: number[][] = [];
      for (let h = 0; h < Hp; h++) {
        const row: number[] = [];
        for (let w = 0; w < Wp; w++) {
          const inside = h >= top && h < top + H && w >= left && w < left + W;
          row.push(inside ? at(x, n, c, h - top, w - left) : 0);
        }
        plane.push(row);
      }
      padded[n].push(plane);
    }
  }
  const [kH, kW] = attrs.kernel;
  const [sH, sW] = attrs.stride;
  const [dH, dW] = attrs.dilation;
  const outH = Math.floor((Hp - dH * (kH - 1) - 1) / sH) + 1;
  const outW = Math.floor((Wp - dW * (kW - 1) - 1) / sW) + 1;
  const G = attrs.groups;
  const cinG = Cin / G;
  const coutG = attrs.outChannels / G;
  const y = zeros([N, attrs.outChannels, outH, outW]);
  let k = 0;
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < attrs.outChannels; co++) {
      const g = Math.floor(co / coutG);
      const filter: number[] = [];
      for (let ci = 0; ci < cinG; ci++) for (let a = 0; a < kH; a++) for (let b = 0; b < kW; b++) filter.push(at(weight, co, ci, a, b));
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++) {
          const column: number[] = [];
          for (let ci = 0; ci < cinG; ci++) {
            for (let a = 0; a < kH; a++) {
              for (let b = 0; b < kW; b++) column.push(padded[n][g * cinG + ci][oh * sH + a * dH][ow * sW + b * dW]);
            }
          }
          y.data[k++] = column.reduce((sum, v, i) => sum + v * filter[i], bias ? bias.data[co] : 0);
        }
      }
    }
  }
  return y;
}

describe('resolveSamePadding (TensorFlow rule)', () => {
  it('gives ceil(in / stride) outputs for every size, kernel, stride and dilation', () => {
    for (let size = 1; size <= 12; size++) {
      for (let kernel = 1; kernel <= 5; kernel++) {
        for (let stride = 1; stride <= 4; stride++) {
          for (let dilation = 1; dilation <= 3; dilation++) {
            const [before, after] = resolveSamePadding(size, kernel, stride, dilation);
            const out = Math.floor((size + before + after - dilation * (kernel - 1) - 1) / stride) + 1;
            expect(out).toBe(Math.ceil(size / stride));
            expect(after - before === 0 || after - before === 1).toBe(true);
          }
        }
      }
    }
  });

  it('puts the odd padding pixel after, and pads nothing when the windows already fit', () => {
    expect(resolveSamePadding(4, 3, 2, 1)).toEqual([0, 1]);
    expect(resolveSamePadding(5, 3, 2, 1)).toEqual([1, 1]);
    expect(resolveSamePadding(6, 4, 1, 1)).toEqual([1, 2]);
    expect(resolveSamePadding(8, 1, 2, 1)).toEqual([0, 0]);
    expect(resolveSamePadding(5, 3, 1, 2)).toEqual([2, 2]);
  });
});

describe('conv2d', () => {
  it('matches a 2x2 example worked by hand', () => {
    const x = t64([1, 1, 2, 2], [1, 2, 3, 4]);
    const weight = t64([1, 1, 2, 2], [1, 0, 0, -1]);
    const valid = conv2d(x, { weight, bias: t64([1], [0.5]) }, convAttrs({ inChannels: 1, outChannels: 1, kernel: [2, 2], bias: true }));
    expect(valid.shape).toEqual([1, 1, 1, 1]);
    expect(valid.data[0]).toBe(1 - 4 + 0.5);

    // Padded by 1 all round, the 2x2 kernel meets x at 9 offsets: y[i][j] = xp[i][j] - xp[i+1][j+1].
    const padded = conv2d(x, { weight }, convAttrs({ inChannels: 1, outChannels: 1, kernel: [2, 2], padding: [1, 1, 1, 1] }));
    expect(Array.from(padded.data)).toEqual([-1, -2, 0, -3, -3, 2, 0, 3, 4]);
  });

  it('agrees with an im2col computation over padding modes, strides, dilations and groups', () => {
    const rng = makeRng(7);
    const cases: { shape: number[]; attrs: Conv2dAttrs }[] = [
      { shape: [2, 3, 5, 6], attrs: convAttrs({ inChannels: 3, outChannels: 4, kernel: [3, 3], bias: true }) },
      { shape: [1, 4, 7, 5], attrs: convAttrs({ inChannels: 4, outChannels: 6, kernel: [3, 2], stride: [2, 1], groups: 2, padding: [1, 0, 2, 1] }) },
      { shape: [1, 2, 8, 8], attrs: convAttrs({ inChannels: 2, outChannels: 2, kernel: [3, 3], dilation: [2, 3], padding: 'same', bias: true }) },
      { shape: [2, 3, 9, 7], attrs: convAttrs({ inChannels: 3, outChannels: 3, kernel: [4, 3], stride: [3, 2], groups: 3, padding: 'same' }) },
      { shape: [1, 6, 6, 6], attrs: convAttrs({ inChannels: 6, outChannels: 3, kernel: [1, 1], stride: [2, 2], groups: 3, bias: true }) },
      // Small maps are summed four filters at a time: 7 and 10 per group leave remainders of 3 and 2.
      { shape: [2, 5, 4, 3], attrs: convAttrs({ inChannels: 5, outChannels: 7, kernel: [3, 3], stride: [1, 2], padding: [1, 1, 0, 2], bias: true }) },
      { shape: [1, 4, 3, 3], attrs: convAttrs({ inChannels: 4, outChannels: 20, kernel: [2, 3], dilation: [2, 1], groups: 2, padding: 'same', bias: true }) },
      // A 1x1 kernel's filters are read in place (13 leaves a remainder of 1); on a 1x1 map a 3x3
      // kernel reads inside only through its centre tap, the only one copied.
      { shape: [2, 6, 2, 3], attrs: convAttrs({ inChannels: 6, outChannels: 13, kernel: [1, 1], bias: true }) },
      { shape: [1, 8, 1, 1], attrs: convAttrs({ inChannels: 8, outChannels: 6, kernel: [3, 3], padding: [1, 1, 1, 1], bias: true }) },
    ];
    for (const { shape, attrs } of cases) {
      const x = randomTensor(shape, rng);
      const weight = randomTensor([attrs.outChannels, attrs.inChannels / attrs.groups, ...attrs.kernel], rng);
      const bias = attrs.bias ? randomTensor([attrs.outChannels], rng) : undefined;
      const pads = resolvePads(attrs.padding, shape[2], shape[3], attrs);
      expectClose(conv2d(x, { weight, bias }, attrs), im2colConv(x, weight, bias, attrs, pads), 1e-12);
    }
  });

  it('agrees with im2col on maps of more than 64 outputs too (the row loop; smaller maps are summed per output)', () => {
    const rng = makeRng(19);
    const cases: { shape: number[]; attrs: Conv2dAttrs }[] = [
      { shape: [2, 3, 11, 12], attrs: convAttrs({ inChannels: 3, outChannels: 4, kernel: [3, 3], bias: true, padding: [1, 1, 1, 1] }) },
      { shape: [1, 4, 19, 15], attrs: convAttrs({ inChannels: 4, outChannels: 6, kernel: [3, 2], stride: [2, 1], groups: 2, padding: [1, 0, 2, 1] }) },
      { shape: [1, 2, 12, 12], attrs: convAttrs({ inChannels: 2, outChannels: 2, kernel: [3, 3], dilation: [2, 3], padding: 'same', bias: true }) },
    ];
    for (const { shape, attrs } of cases) {
      const x = randomTensor(shape, rng);
      const weight = randomTensor([attrs.outChannels, attrs.inChannels / attrs.groups, ...attrs.kernel], rng);
      const bias = attrs.bias ? randomTensor([attrs.outChannels], rng) : undefined;
      const y = conv2d(x, { weight, bias }, attrs);
      expect(y.shape[2] * y.shape[3]).toBeGreaterThan(64);
      expectClose(y, im2colConv(x, weight, bias, attrs, resolvePads(attrs.padding, shape[2], shape[3], attrs)), 1e-12);
    }
  });

  it('adds a tap bias exactly where a per-channel shift of the input would reach, on small and large maps', () => {
    const rng = makeRng(23);
    for (const size of [4, 14]) {
      const attrs = convAttrs({ inChannels: 3, outChannels: 2, kernel: [3, 3], stride: [2, 1], padding: [1, 1, 2, 0], bias: true });
      const x = randomTensor([1, 3, size, size], rng);
      const weight = randomTensor([2, 3, 3, 3], rng);
      const bias = randomTensor([2], rng);
      const shift = [0.5, -1.25, 2];
      // tapBias[co, kh, kw] = sum_ci W[co, ci, kh, kw] * shift[ci]: conv(x + shift) with zero padding outside x.
      const tapBias = zeros([2, 3, 3]);
      for (let co = 0; co < 2; co++) for (let ci = 0; ci < 3; ci++) for (let k = 0; k < 9; k++) tapBias.data[co * 9 + k] += weight.data[(co * 3 + ci) * 9 + k] * shift[ci];
      const shifted = { shape: x.shape, data: x.data.map((v, i) => v + shift[Math.floor(i / (size * size))]) };
      expectClose(conv2d(x, { weight, bias, tapBias }, attrs), conv2d(shifted, { weight, bias }, attrs), 1e-12);
    }
  });

  it("with a one-hot 3x3 kernel and 'same' padding, shifts the input and fills with zeros", () => {
    const rng = makeRng(11);
    const x = randomTensor([2, 3, 5, 4], rng);
    for (const [a, b] of [[0, 0], [1, 1], [2, 1], [0, 2]] as const) {
      // Channel co reads only channel co, at offset (a - 1, b - 1).
      const weight = zeros([3, 3, 3, 3]);
      for (let c = 0; c < 3; c++) weight.data[((c * 3 + c) * 3 + a) * 3 + b] = 1;
      const y = conv2d(x, { weight }, convAttrs({ inChannels: 3, outChannels: 3, kernel: [3, 3], padding: 'same' }));
      expect(y.shape).toEqual(x.shape);
      for (let n = 0; n < 2; n++) {
        for (let c = 0; c < 3; c++) {
          for (let h = 0; h < 5; h++) {
            for (let w = 0; w < 4; w++) {
              const [sh, sw] = [h + a - 1, w + b - 1];
              const expected = sh >= 0 && sh < 5 && sw >= 0 && sw < 4 ? at(x, n, c, sh, sw) : 0;
              expect(at(y, n, c, h, w)).toBe(expected);
            }
          }
        }
      }
    }
  });

  it('depthwise (groups = C, 2 filters per channel) equals separate single-channel convs', () => {
    const rng = makeRng(3);
    const C = 3;
    const x = randomTensor([2, C, 6, 7], rng);
    const weight = randomTensor([2 * C, 1, 3, 3], rng);
    const bias = randomTensor([2 * C], rng);
    const shared = { kernel: [3, 3] as const, stride: [2, 1] as const, padding: [1, 1, 0, 2] as const, bias: true };
    const y = conv2d(x, { weight, bias }, convAttrs({ ...shared, inChannels: C, outChannels: 2 * C, groups: C }));
    for (let c = 0; c < C; c++) {
      const channel = sliceChannels(x, c, c + 1);
      const single = conv2d(
        channel,
        { weight: sliceRows(weight, 2 * c, 2 * c + 2), bias: t64([2], [bias.data[2 * c], bias.data[2 * c + 1]]) },
        convAttrs({ ...shared, inChannels: 1, outChannels: 2 }),
      );
      expectClose(sliceChannels(y, 2 * c, 2 * c + 2), single, 0);
    }
  });

  it('names the problem when the input channels, the weight shape or the bias disagree with attrs', () => {
    const attrs = convAttrs({ inChannels: 2, outChannels: 2, kernel: [3, 3], bias: true });
    const x = zeros([1, 2, 4, 4]);
    const weight = zeros([2, 2, 3, 3]);
    const bias = zeros([2]);
    expect(() => conv2d(zeros([1, 3, 4, 4]), { weight, bias }, attrs)).toThrow(/dim 1 \(C\) is 3, expected 2 \(attrs.inChannels\)/);
    expect(() => conv2d(x, { weight: zeros([2, 2, 3, 2]), bias }, attrs)).toThrow(/param 'weight' has shape \[2, 2, 3, 2\], expected \[2, 2, 3, 3\]/);
    expect(() => conv2d(x, { weight }, attrs)).toThrow(/param 'bias' is missing/);
    expect(() => conv2d(x, { weight, bias }, { ...attrs, bias: false })).toThrow(/'bias' is present but attrs.bias is false/);
    expect(() => conv2d(zeros([1, 2, 2, 2]), { weight, bias }, attrs)).toThrow(/output would be 0 x 0/);
    expect(() => conv2d(zeros([2, 4]), { weight, bias }, attrs)).toThrow(/rank 4/);
  });
});

describe('convTranspose2d', () => {
  const tAttrs = (overrides: Partial<ConvTranspose2dAttrs> & Pick<ConvTranspose2dAttrs, 'inChannels' | 'outChannels' | 'kernel'>): ConvTranspose2dAttrs => ({
    stride: [1, 1], padding: [0, 0], outputPadding: [0, 0], dilation: [1, 1], groups: 1, bias: false, ...overrides,
  });

  it('with a 1x1 kernel and stride 2, spreads the input out with zeros between', () => {
    const x = t64([1, 1, 2, 2], [1, 2, 3, 4]);
    const y = convTranspose2d(x, { weight: t64([1, 1, 1, 1], [10]) }, tAttrs({ inChannels: 1, outChannels: 1, kernel: [1, 1], stride: [2, 2] }));
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect(Array.from(y.data)).toEqual([10, 0, 20, 0, 0, 0, 30, 0, 40]);
  });

  it('scatters overlapping 2x2 kernels (a hand-worked sum), then crops padding', () => {
    const x = t64([1, 1, 2, 2], [1, 2, 3, 4]);
    const weight = t64([1, 1, 2, 2], [1, 1, 1, 1]);
    const full = convTranspose2d(x, { weight }, tAttrs({ inChannels: 1, outChannels: 1, kernel: [2, 2] }));
    // Each output cell sums the inputs whose 2x2 footprint covers it.
    expect(Array.from(full.data)).toEqual([1, 3, 2, 4, 10, 6, 3, 7, 4]);
    const cropped = convTranspose2d(x, { weight }, tAttrs({ inChannels: 1, outChannels: 1, kernel: [2, 2], padding: [1, 1] }));
    expect(Array.from(cropped.data)).toEqual([10]);
  });

  it('is the full scatter cropped by P at the top/left and P - outputPadding at the bottom/right', () => {
    const rng = makeRng(5);
    const x = randomTensor([1, 2, 3, 4], rng);
    const weight = randomTensor([2, 3, 3, 2], rng);
    const bias = t64([3], [0.5, -1, 2]);
    const shared = { inChannels: 2, outChannels: 3, kernel: [3, 2] as const, stride: [2, 3] as const, dilation: [1, 2] as const, bias: true };
    const full = convTranspose2d(x, { weight, bias }, tAttrs(shared));
    expect(full.shape).toEqual([1, 3, (3 - 1) * 2 + 2 + 1, (4 - 1) * 3 + 2 + 1]);
    for (const [padding, outputPadding] of [[[1, 0], [1, 2]], [[2, 1], [0, 0]], [[1, 2], [1, 1]]] as const) {
      const y = convTranspose2d(x, { weight, bias }, tAttrs({ ...shared, padding, outputPadding }));
      const [pH, pW] = padding;
      expect(y.shape).toEqual([1, 3, full.shape[2] - 2 * pH + outputPadding[0], full.shape[3] - 2 * pW + outputPadding[1]]);
      for (let c = 0; c < 3; c++) {
        for (let h = 0; h < y.shape[2]; h++) {
          for (let w = 0; w < y.shape[3]; w++) {
            const [fh, fw] = [h + pH, w + pW];
            const expected = fh < full.shape[2] && fw < full.shape[3] ? at(full, 0, c, fh, fw) : bias.data[c];
            expect(at(y, 0, c, h, w)).toBe(expected);
          }
        }
      }
    }
  });

  it('with groups, each output group sees only its input group', () => {
    const rng = makeRng(8);
    const x = randomTensor([1, 4, 3, 3], rng);
    const weight = randomTensor([4, 1, 2, 2], rng);
    const attrs = tAttrs({ inChannels: 4, outChannels: 2, kernel: [2, 2], stride: [2, 2], groups: 2 });
    const y = convTranspose2d(x, { weight }, attrs);
    for (let g = 0; g < 2; g++) {
      const alone = convTranspose2d(
        sliceChannels(x, 2 * g, 2 * g + 2),
        { weight: sliceRows(weight, 2 * g, 2 * g + 2) },
        tAttrs({ inChannels: 2, outChannels: 1, kernel: [2, 2], stride: [2, 2] }),
      );
      expectClose(sliceChannels(y, g, g + 1), alone, 0);
    }
  });
});

describe('linear and weight normalization', () => {
  it('linear computes x W^T + b (worked by hand)', () => {
    const x = t64([2, 3], [1, 2, 3, -1, 0, 1]);
    const weight = t64([2, 3], [1, 0, -1, 2, 1, 0]);
    const y = linear(x, { weight, bias: t64([2], [10, 20]) }, { inFeatures: 3, outFeatures: 2, bias: true });
    expect(y.shape).toEqual([2, 2]);
    expect(Array.from(y.data)).toEqual([1 - 3 + 10, 2 + 2 + 20, -1 - 1 + 10, -2 + 20]);
  });

  it('weightNormConv2d is conv2d with each filter rescaled to norm g', () => {
    const rng = makeRng(21);
    const x = randomTensor([1, 2, 5, 5], rng);
    const v = randomTensor([3, 2, 3, 3], rng);
    const g = t64([3], [2, -0.5, 1]);
    const bias = randomTensor([3], rng);
    const attrs = convAttrs({ inChannels: 2, outChannels: 3, kernel: [3, 3], padding: 'same', bias: true });
    const weight = zeros(v.shape);
    for (let o = 0; o < 3; o++) {
      const row = v.data.slice(o * 18, (o + 1) * 18);
      const norm = Math.hypot(...row);
      row.forEach((value, i) => { weight.data[o * 18 + i] = (g.data[o] * value) / norm; });
    }
    expectClose(weightNormConv2d(x, { v, g, bias }, attrs), conv2d(x, { weight, bias }, attrs), 1e-12);
  });

  it('weightNormLinear normalises each output row; a zero row is an error, not NaN', () => {
    const x = t64([1, 2], [1, 1]);
    const v = t64([2, 2], [3, 4, 0, 2]);
    const g = t64([2], [10, 1]);
    const y = weightNormLinear(x, { v, g }, { inFeatures: 2, outFeatures: 2, bias: false });
    // Rows become 10 * (0.6, 0.8) and 1 * (0, 1).
    expect(y.data[0]).toBeCloseTo(14, 12);
    expect(y.data[1]).toBeCloseTo(1, 12);
    expect(() => weightNormLinear(x, { v: t64([2, 2], [0, 0, 1, 1]), g }, { inFeatures: 2, outFeatures: 2, bias: false }))
      .toThrow(/row 0 is all zeros/);
    expect(() => weightNormLinear(x, { v, g: t64([2, 1], [1, 1]) }, { inFeatures: 2, outFeatures: 2, bias: false }))
      .toThrow(/param 'g' has shape \[2, 1\], expected \[2\]/);
  });
});

function resolvePads(padding: Padding2d, H: number, W: number, attrs: Conv2dAttrs): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') return [...padding];
  const [top, bottom] = resolveSamePadding(H, attrs.kernel[0], attrs.stride[0], attrs.dilation[0]);
  const [left, right] = resolveSamePadding(W, attrs.kernel[1], attrs.stride[1], attrs.dilation[1]);
  return [top, bottom, left, right];
}

/** Channels [from, to) (axis 1) of an [N, C, ...] tensor. */
function sliceChannels(x: Float64Tensor, from: number, to: number): Float64Tensor {
  const [batch, channels, ...rest] = x.shape;
  const inner = rest.reduce((p, d) => p * d, 1);
  const out: number[] = [];
  for (let n = 0; n < batch; n++) {
    for (let c = from; c < to; c++) out.push(...x.data.slice((n * channels + c) * inner, (n * channels + c + 1) * inner));
  }
  return t64([batch, to - from, ...rest], out);
}

/** Rows [from, to) (axis 0) of a tensor, e.g. some filters of a weight. */
function sliceRows(x: Float64Tensor, from: number, to: number): Float64Tensor {
  const [, ...rest] = x.shape;
  const inner = rest.reduce((p, d) => p * d, 1);
  return t64([to - from, ...rest], Array.from(x.data.slice(from * inner, to * inner)));
}
