import { describe, expect, it } from 'vitest';
import { GraphError, ShapeError, ShapefoldError } from '../../src/ir/errors.ts';
import type { AttrsByOp, FreezableNormAttrs, Node, OpKind, Shape } from '../../src/ir/graph.ts';
import { dimLabel, inferNodeShape } from '../../src/ir/shapes.ts';
import { convAttrs } from './ir-fixtures.ts';

/** A node called 'n' reading one input per shape given. */
function infer<K extends OpKind>(op: K, attrs: AttrsByOp[K], ...inputs: Shape[]): Shape {
  const node = { name: 'n', op, inputs: inputs.map((_, i) => `x${i}`), attrs, params: {} } as Node;
  return inferNodeShape(node, inputs);
}

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

const conv = (over: Partial<AttrsByOp['conv2d']> = {}): AttrsByOp['conv2d'] => convAttrs({ outChannels: 8, ...over });

const convT = (over: Partial<AttrsByOp['convTranspose2d']> = {}): AttrsByOp['convTranspose2d'] => ({
  inChannels: 4,
  outChannels: 2,
  kernel: [4, 4],
  stride: [2, 2],
  padding: [1, 1],
  outputPadding: [0, 0],
  dilation: [1, 1],
  groups: 1,
  bias: false,
  ...over,
});

const bn = (numFeatures: number): FreezableNormAttrs => ({
  numFeatures,
  eps: 1e-5,
  frozen: false,
  decay: 0.9,
  unbiasedRunningVar: true,
});

const pool = (over: Partial<AttrsByOp['maxPool2d']> = {}): AttrsByOp['maxPool2d'] => ({
  kernel: [2, 2],
  stride: [2, 2],
  padding: 'valid',
  ...over,
});

describe('dimLabel', () => {
  it('names NCHW and NC dims, and others by position', () => {
    expect([0, 1, 2, 3].map((i) => dimLabel(4, i))).toEqual(['N', 'C', 'H', 'W']);
    expect([0, 1].map((i) => dimLabel(2, i))).toEqual(['N', 'C']);
    expect(dimLabel(3, 2)).toBe('dim 2');
    expect(dimLabel(5, 4)).toBe('dim 4');
  });
});

describe('conv2d', () => {
  it('computes literal output sizes', () => {
    expect(infer('conv2d', conv(), [2, 3, 32, 32])).toEqual([2, 8, 32, 32]);
    expect(infer('conv2d', conv({ stride: [2, 2] }), [2, 3, 32, 32])).toEqual([2, 8, 16, 16]);
    expect(infer('conv2d', conv({ padding: 'valid' }), [1, 3, 32, 20])).toEqual([1, 8, 30, 18]);
    expect(infer('conv2d', conv({ padding: 'same', stride: [2, 3] }), [1, 3, 33, 10])).toEqual([1, 8, 17, 4]);
    expect(infer('conv2d', conv({ padding: 'valid', dilation: [2, 2] }), [1, 3, 10, 10])).toEqual([1, 8, 6, 6]);
    // Asymmetric padding: height gets 0+1, width 2+0.
    expect(infer('conv2d', conv({ padding: [0, 1, 2, 0] }), [1, 3, 5, 5])).toEqual([1, 8, 4, 5]);
  });

  it('computes symbolic output sizes in canonical form', () => {
    expect(infer('conv2d', conv({ stride: [2, 2] }), ['N', 3, 'H', 'W'])).toEqual([
      'N',
      8,
      'floor((H+1)/2)',
      'floor((W+1)/2)',
    ]);
    expect(infer('conv2d', conv({ padding: 'same', stride: [2, 1] }), ['N', 3, 'H', 'W'])).toEqual([
      'N',
      8,
      'floor((H+1)/2)',
      'W',
    ]);
    expect(infer('conv2d', conv({ padding: 'valid' }), ['N', 3, 'H', 'W'])).toEqual(['N', 8, 'H-2', 'W-2']);
    expect(infer('conv2d', conv({ stride: [2, 2] }), [1, 3, 'floor((H+1)/2)', 8])).toEqual([1, 8, 'floor((H+3)/4)', 4]);
  });

  it('accepts grouped and depthwise convs whose groups divide the channels', () => {
    expect(infer('conv2d', conv({ inChannels: 8, outChannels: 8, groups: 8 }), [1, 8, 4, 4])).toEqual([1, 8, 4, 4]);
  });

  it('rejects a wrong rank', () => {
    const e = errorOf(() => infer('conv2d', conv(), [2, 3]));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e).toBeInstanceOf(ShapefoldError);
    expect(e.message).toBe("conv2d 'n': expects a rank-4 input [N, C, H, W], got rank 2");
    expect((e as ShapeError).detail).toBe('expects a rank-4 input [N, C, H, W], got rank 2');
    expect((e as ShapeError).node).toBe('n');
    expect((e as ShapeError).op).toBe('conv2d');
  });

  it('rejects a channel mismatch, literal or symbolic', () => {
    const e = errorOf(() => infer('conv2d', conv(), [2, 4, 8, 8])) as ShapeError;
    expect(e.message).toBe("conv2d 'n': input has 4 channels, layer expects 3");
    expect(e.dim).toBe(1);
    expect(() => infer('conv2d', conv(), [2, 'C', 8, 8])).toThrow("conv2d 'n': input has C channels, layer expects 3");
  });

  it('rejects groups that do not divide the channels', () => {
    expect(() => infer('conv2d', conv({ groups: 2 }), [1, 3, 8, 8])).toThrow(
      "conv2d 'n': 2 groups do not divide 3 input channels",
    );
    expect(() => infer('conv2d', conv({ inChannels: 4, outChannels: 6, groups: 4 }), [1, 4, 8, 8])).toThrow(
      "conv2d 'n': 4 groups do not divide 6 output channels",
    );
  });

  it('rejects an input too small for the kernel, naming the axis', () => {
    const e = errorOf(() => infer('conv2d', conv({ kernel: [5, 5], padding: 'valid' }), [1, 3, 2, 9])) as ShapeError;
    expect(e.message).toBe("conv2d 'n': input height 2 is too small for kernel 5");
    expect(e.dim).toBe(2);
    const w = errorOf(() => infer('conv2d', conv({ kernel: [3, 3], dilation: [1, 3] }), [1, 3, 9, 4])) as ShapeError;
    expect(w.message).toBe("conv2d 'n': input width 4 is too small for kernel 3 (dilation 3, padding 1)");
    expect(w.dim).toBe(3);
    expect(() => infer('conv2d', conv({ kernel: [4, 3], padding: [0, 1, 0, 0] }), [1, 3, 2, 9])).toThrow(
      "conv2d 'n': input height 2 is too small for kernel 4 (padding 0+1)",
    );
  });

  it('checks weightNormConv2d by the same rules', () => {
    expect(infer('weightNormConv2d', conv({ stride: [2, 2] }), ['N', 3, 'H', 'W'])[2]).toBe('floor((H+1)/2)');
    expect(() => infer('weightNormConv2d', conv(), [2, 5, 8, 8])).toThrow(
      "weightNormConv2d 'n': input has 5 channels, layer expects 3",
    );
  });
});

describe('convTranspose2d', () => {
  it('computes the PyTorch output size', () => {
    expect(infer('convTranspose2d', convT(), [1, 4, 8, 5])).toEqual([1, 2, 16, 10]);
    expect(infer('convTranspose2d', convT({ kernel: [3, 3], outputPadding: [1, 0] }), [1, 4, 8, 8])).toEqual([1, 2, 16, 15]);
    expect(infer('convTranspose2d', convT({ kernel: [3, 3], stride: [1, 1], dilation: [2, 2] }), [1, 4, 8, 8])).toEqual([
      1, 2, 10, 10,
    ]);
  });

  it('computes symbolic sizes', () => {
    expect(infer('convTranspose2d', convT(), ['N', 4, 'H', 'W'])).toEqual(['N', 2, '2*H', '2*W']);
    expect(infer('convTranspose2d', convT({ kernel: [3, 3], padding: [0, 0] }), ['N', 4, 'H', 'W'])[2]).toBe('2*H+1');
    expect(infer('convTranspose2d', convT(), ['N', 4, 'floor((H+1)/2)', 'W'])[2]).toBe('2*floor((H+1)/2)');
  });

  it('rejects an outputPadding not below stride or dilation', () => {
    expect(() => infer('convTranspose2d', convT({ outputPadding: [0, 2] }), [1, 4, 8, 8])).toThrow(
      "convTranspose2d 'n': outputPadding 2 (width) must be smaller than stride 2",
    );
    // Below the dilation is enough (PyTorch's rule).
    expect(
      infer('convTranspose2d', convT({ stride: [1, 1], dilation: [2, 2], outputPadding: [1, 1], padding: [0, 0] }), [1, 4, 3, 3]),
    ).toEqual([1, 2, 10, 10]);
  });

  it('rejects channel, group and size problems', () => {
    expect(() => infer('convTranspose2d', convT(), [1, 3, 8, 8])).toThrow("convTranspose2d 'n': input has 3 channels, layer expects 4");
    expect(() => infer('convTranspose2d', convT({ groups: 4 }), [1, 4, 8, 8])).toThrow(
      "convTranspose2d 'n': 4 groups do not divide 2 output channels",
    );
    expect(() =>
      infer('convTranspose2d', convT({ kernel: [1, 1], stride: [1, 1], padding: [1, 0] }), [1, 4, 1, 1]),
    ).toThrow("convTranspose2d 'n': input height 1 is too small for kernel 1 (padding 1)");
    expect(() => infer('convTranspose2d', convT(), [1, 4, 8])).toThrow(
      "convTranspose2d 'n': expects a rank-4 input [N, C, H, W], got rank 3",
    );
  });
});

describe('linear', () => {
  const attrs: AttrsByOp['linear'] = { inFeatures: 16, outFeatures: 10, bias: true };
  it('maps [N, in] to [N, out]', () => {
    expect(infer('linear', attrs, ['N', 16])).toEqual(['N', 10]);
    expect(infer('weightNormLinear', attrs, [4, 16])).toEqual([4, 10]);
  });
  it('rejects rank and feature mismatches', () => {
    expect(() => infer('linear', attrs, [16])).toThrow("linear 'n': expects a rank-2 input [N, C], got rank 1");
    // On [N, C, ...] a linear maps the features at axis 1 at every position (Keras Dense on any rank).
    expect(infer('linear', attrs, [1, 16, 3, 'W'])).toEqual([1, 10, 3, 'W']);
    const e = errorOf(() => infer('linear', attrs, [1, 12])) as ShapeError;
    expect(e.message).toBe("linear 'n': input has 12 features, layer expects 16");
    expect(e.dim).toBe(1);
    expect(() => infer('weightNormLinear', attrs, [1, '8*H'])).toThrow(
      "weightNormLinear 'n': input has 8*H features, layer expects 16",
    );
  });
});

describe('normalization layers', () => {
  it('batchNorm and batchRenorm keep rank-2 and rank-4 shapes', () => {
    expect(infer('batchNorm', bn(8), ['N', 8, 'H', 'W'])).toEqual(['N', 8, 'H', 'W']);
    expect(infer('batchNorm', bn(8), ['N', 8])).toEqual(['N', 8]);
    const renorm: AttrsByOp['batchRenorm'] = { numFeatures: 8, eps: 1e-3, rMax: 3, dMax: 5, sigma: 'movingStddev', renormDecay: 0.99, warmup: null, decay: 0.99, unbiasedRunningVar: false };
    expect(infer('batchRenorm', renorm, [2, 8])).toEqual([2, 8]);
    expect(() => infer('batchRenorm', renorm, [2, 6])).toThrow("batchRenorm 'n': input has 6 channels, layer expects 8");
  });

  it('batchNorm takes sequences, rejects other ranks and channel mismatches', () => {
    expect(infer('batchNorm', bn(8), [2, 8, 5])).toEqual([2, 8, 5]);
    expect(() => infer('batchNorm', bn(8), [2, 8, 5, 5, 5])).toThrow(
      "batchNorm 'n': expects a rank-2 input [N, C] or a rank-4 input [N, C, H, W], got rank 5",
    );
    expect(() => infer('batchNorm', bn(8), [2, 16, 4, 4])).toThrow("batchNorm 'n': input has 16 channels, layer expects 8");
  });

  it("layerNorm over 'c' takes [C] on ranks 2 to 4", () => {
    const attrs: AttrsByOp['layerNorm'] = { normalizedShape: [6], over: 'c', eps: 1e-6, affine: true };
    expect(infer('layerNorm', attrs, ['N', 6])).toEqual(['N', 6]);
    expect(infer('layerNorm', attrs, ['N', 6, 'H', 'W'])).toEqual(['N', 6, 'H', 'W']);
    expect(infer('layerNorm', attrs, ['N', 6, 'L'])).toEqual(['N', 6, 'L']);
    expect(() => infer('layerNorm', attrs, ['N', 6, 'L', 2, 2])).toThrow(
      "layerNorm 'n': expects a rank-2 input [N, C] or a rank-4 input [N, C, H, W], got rank 5",
    );
    expect(() => infer('layerNorm', { ...attrs, normalizedShape: [6, 4, 4] }, ['N', 6, 4, 4])).toThrow(
      "layerNorm 'n': normalizedShape must be [C] when over is 'c', got [6, 4, 4]",
    );
  });

  it("layerNorm over 'chw' normalizes the whole input shape without N, PyTorch's normalized_shape", () => {
    const attrs: AttrsByOp['layerNorm'] = { normalizedShape: [6, 4, 5], over: 'chw', eps: 1e-6, affine: true };
    expect(infer('layerNorm', attrs, ['N', 6, 4, 5])).toEqual(['N', 6, 4, 5]);
    expect(infer('layerNorm', { ...attrs, normalizedShape: [6] }, ['N', 6])).toEqual(['N', 6]);
    expect(() => infer('layerNorm', attrs, ['N', 8, 4, 5])).toThrow("layerNorm 'n': input has 8 channels, layer expects 6");
    expect(() => infer('layerNorm', attrs, ['N', 6, 4, 'W'])).toThrow("layerNorm 'n': input width is W, normalized shape expects 5");
    expect(() => infer('layerNorm', attrs, ['N', 6])).toThrow("layerNorm 'n': normalizedShape [6, 4, 5] must be the input shape without N, [6]");
  });

  it('instanceNorm, groupNorm, ibn and switchableNorm need rank 4', () => {
    const instance: AttrsByOp['instanceNorm'] = { numFeatures: 4, eps: 1e-5, affine: false };
    expect(infer('instanceNorm', instance, [1, 4, 'H', 3])).toEqual([1, 4, 'H', 3]);
    expect(() => infer('instanceNorm', instance, [1, 4])).toThrow("instanceNorm 'n': expects a rank-4 input [N, C, H, W], got rank 2");
    const switchable: AttrsByOp['switchableNorm'] = { numFeatures: 4, eps: 1e-5, decay: 0.9, unbiasedRunningVar: true };
    expect(infer('switchableNorm', switchable, [1, 4, 2, 2])).toEqual([1, 4, 2, 2]);
    expect(() => infer('switchableNorm', switchable, [1, 5, 2, 2])).toThrow(
      "switchableNorm 'n': input has 5 channels, layer expects 4",
    );
  });

  it('groupNorm needs groups that divide the channels', () => {
    const attrs = (groups: number): AttrsByOp['groupNorm'] => ({ numChannels: 8, groups, eps: 1e-5, affine: true });
    expect(infer('groupNorm', attrs(4), [2, 8, 3, 3])).toEqual([2, 8, 3, 3]);
    expect(() => infer('groupNorm', attrs(3), [2, 8, 3, 3])).toThrow("groupNorm 'n': 3 groups do not divide 8 channels");
  });

  it('ibn needs channels for both halves', () => {
    const attrs = (instanceChannels: number): AttrsByOp['ibn'] => ({ ...bn(8), instanceChannels });
    expect(infer('ibn', attrs(4), [2, 8, 3, 3])).toEqual([2, 8, 3, 3]);
    expect(() => infer('ibn', attrs(8), [2, 8, 3, 3])).toThrow(
      "ibn 'n': instanceChannels 8 must be less than 8 channels (IBN needs channels for both InstanceNorm and BatchNorm)",
    );
    expect(() => infer('ibn', attrs(0), [2, 8, 3, 3])).toThrow("ibn 'n': attrs.instanceChannels must be a positive integer, got 0");
  });

  it('scaleShift and normalize check the channel count', () => {
    expect(infer('scaleShift', { numChannels: 3 }, ['N', 3])).toEqual(['N', 3]);
    expect(() => infer('scaleShift', { numChannels: 3 }, ['N', 4, 2, 2])).toThrow("scaleShift 'n': input has 4 channels, layer expects 3");
    const normalize = { mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.2] };
    expect(infer('normalize', normalize, ['N', 3, 'H', 'W'])).toEqual(['N', 3, 'H', 'W']);
    expect(() => infer('normalize', normalize, ['N', 1, 'H', 'W'])).toThrow("normalize 'n': input has 1 channels, layer expects 3");
    expect(() => infer('normalize', { mean: [0.5, 0.4, 0.3], std: [1, 1] }, ['N', 3, 'H', 'W'])).toThrow(
      "normalize 'n': mean has 3 values but std has 2",
    );
    expect(() => infer('normalize', { mean: [0.5], std: [0] }, ['N', 1])).toThrow(
      "normalize 'n': attrs.std must be a non-empty list of finite numbers > 0, got [0]",
    );
  });
});

describe('shape-preserving ops', () => {
  it('activations and identity return their input shape, any rank', () => {
    const shape: Shape = ['N', 3, 'floor((H+1)/2)'];
    for (const op of ['relu', 'relu6', 'sigmoid', 'tanh', 'identity'] as const) {
      expect(infer(op, {}, shape)).toEqual(shape);
    }
    expect(infer('leakyRelu', { alpha: 0.1 }, [2, 5])).toEqual([2, 5]);
    expect(() => infer('leakyRelu', { alpha: Number.NaN }, [2, 5])).toThrow(
      "leakyRelu 'n': attrs.alpha must be a finite number, got NaN",
    );
  });

  it('input returns its declared shape', () => {
    expect(infer('input', { shape: ['N', 3, 224, 224] })).toEqual(['N', 3, 224, 224]);
  });
});

describe('add', () => {
  it('sums equal shapes, two or more', () => {
    expect(infer('add', {}, ['N', 8, 'H', 'W'], ['N', 8, 'H', 'W'], ['N', 8, 'H', 'W'])).toEqual(['N', 8, 'H', 'W']);
  });
  it('names the first differing dim', () => {
    const e = errorOf(() => infer('add', {}, [1, 8, 4, 4], [1, 16, 4, 4])) as ShapeError;
    expect(e.message).toBe("add 'n': branch shapes differ at dim 1 (C): 8 vs 16");
    expect(e.dim).toBe(1);
    expect(() => infer('add', {}, ['N', 8, 'H', 'W'], ['N', 8, 'floor((H+1)/2)', 'W'])).toThrow(
      "add 'n': branch shapes differ at dim 2 (H): H vs floor((H+1)/2)",
    );
    expect(() => infer('add', {}, [1, 8, 4, 4], [1, 8, 4, 4], [1, 8, 4, 5])).toThrow(
      "add 'n': branch shapes differ at dim 3 (W): 4 vs 5",
    );
    expect(() => infer('add', {}, [1, 8, 4], [1, 8, 5])).toThrow("add 'n': branch shapes differ at dim 2 (dim 2): 4 vs 5");
    expect(() => infer('add', {}, [1, 8, 4, 4], [1, 8])).toThrow("add 'n': branch shapes differ in rank: 4 vs 2");
  });
  it('needs at least two inputs', () => {
    const e = errorOf(() => infer('add', {}, [1, 8]));
    expect(e).toBeInstanceOf(GraphError);
    expect(e.message).toBe("add 'n': needs at least 2 inputs, got 1");
  });
});

describe('concat', () => {
  it('adds channel counts, literal or symbolic', () => {
    expect(infer('concat', {}, ['N', 3, 'H', 'W'], ['N', 5, 'H', 'W'])).toEqual(['N', 8, 'H', 'W']);
    expect(infer('concat', {}, ['N', 'C', 4, 4], ['N', 3, 4, 4], ['N', 'C', 4, 4])).toEqual(['N', '2*C+3', 4, 4]);
    expect(infer('concat', {}, [2, 4], [2, 6])).toEqual([2, 10]);
  });
  it('rejects differing non-channel dims and bad ranks', () => {
    expect(() => infer('concat', {}, [1, 3, 8, 8], [1, 3, 4, 8])).toThrow("concat 'n': inputs differ at dim 2 (H): 8 vs 4");
    expect(() => infer('concat', {}, [1, 3, 8, 8], [2, 3, 8, 8])).toThrow("concat 'n': inputs differ at dim 0 (N): 1 vs 2");
    expect(infer('concat', {}, [1, 3, 8], [1, 2, 8])).toEqual([1, 5, 8]);
    expect(() => infer('concat', {}, [1, 3, 8, 8, 8], [1, 3, 8, 8, 8])).toThrow(
      "concat 'n': expects a rank-2 input [N, C] or a rank-4 input [N, C, H, W], got rank 5",
    );
    expect(() => infer('concat', {}, [1, 3, 8, 8], [1, 3])).toThrow("concat 'n': inputs differ in rank: 4 vs 2");
    expect(() => infer('concat', {}, [1, 3, 8, 8])).toThrow("concat 'n': needs at least 2 inputs, got 1");
  });
});

describe('pools', () => {
  it('uses floor mode with explicit padding, ceil(x/S) with same', () => {
    expect(infer('maxPool2d', pool(), [1, 4, 7, 6])).toEqual([1, 4, 3, 3]);
    expect(infer('maxPool2d', pool({ kernel: [3, 3], padding: [1, 1, 1, 1] }), [1, 4, 7, 8])).toEqual([1, 4, 4, 4]);
    expect(infer('avgPool2d', { ...pool({ padding: 'same', kernel: [3, 3] }), countIncludePad: false }, [1, 4, 7, 1])).toEqual([
      1, 4, 4, 1,
    ]);
  });
  it('computes symbolic sizes', () => {
    expect(infer('maxPool2d', pool(), ['N', 4, 'H', 'W'])).toEqual(['N', 4, 'floor(H/2)', 'floor(W/2)']);
    expect(infer('maxPool2d', pool({ kernel: [3, 3], padding: [1, 1, 1, 1] }), ['N', 4, 'H', 'W'])[2]).toBe('floor((H+1)/2)');
  });
  it('rejects padding over half the kernel (PyTorch)', () => {
    const e = errorOf(() => infer('maxPool2d', pool({ kernel: [3, 2], padding: [1, 1, 0, 2] }), [1, 4, 8, 8])) as ShapeError;
    expect(e.message).toBe("maxPool2d 'n': padding 2 along the width is more than half the kernel 2");
    expect(e.dim).toBe(3);
    expect(infer('maxPool2d', pool({ kernel: [2, 2], padding: [1, 1, 1, 1] }), [1, 4, 8, 8])).toEqual([1, 4, 5, 5]);
  });
  it('rejects an input smaller than the window', () => {
    expect(() => infer('avgPool2d', { ...pool({ kernel: [3, 3], stride: [1, 1] }), countIncludePad: true }, [1, 4, 2, 8])).toThrow(
      "avgPool2d 'n': input height 2 is too small for kernel 3",
    );
    expect(() => infer('maxPool2d', pool(), [1, 4])).toThrow("maxPool2d 'n': expects a rank-4 input [N, C, H, W], got rank 2");
  });
  it('rejects a zero kernel or stride as a malformed attr', () => {
    const e = errorOf(() => infer('maxPool2d', pool({ stride: [0, 1] }), [1, 4, 8, 8]));
    expect(e).toBeInstanceOf(GraphError);
    expect(e.message).toBe("maxPool2d 'n': attrs.stride must be a pair of positive integers, got [0, 1]");
  });
  it('rejects a window past 2^16 on an axis (tfjs wasm computes garbage or crashes far past it)', () => {
    const e = errorOf(() => infer('maxPool2d', pool({ stride: [2 ** 40, 1] }), [1, 4, 8, 8]));
    expect(e).toBeInstanceOf(GraphError);
    expect(e.message).toBe("maxPool2d 'n': attrs.stride holds a size past 65536, the most shapefold runs on one axis, got [1099511627776, 1]");
  });
  it('globalAvgPool drops or keeps the spatial dims', () => {
    expect(infer('globalAvgPool', { keepDims: false }, ['N', 8, 'H', 'W'])).toEqual(['N', 8]);
    expect(infer('globalAvgPool', { keepDims: true }, ['N', 8, 'H', 'W'])).toEqual(['N', 8, 1, 1]);
    expect(() => infer('globalAvgPool', { keepDims: true }, ['N', 8])).toThrow(
      "globalAvgPool 'n': expects a rank-4 input [N, C, H, W], got rank 2",
    );
  });
});

describe('flatten', () => {
  it('multiplies the non-batch dims', () => {
    expect(infer('flatten', {}, [2, 8, 4, 4])).toEqual([2, 128]);
    expect(infer('flatten', {}, ['N', 8, 'H', 'W'])).toEqual(['N', '8*H*W']);
    expect(infer('flatten', {}, ['N', 8, 'H', 2])).toEqual(['N', '16*H']);
    expect(infer('flatten', {}, ['N', 8])).toEqual(['N', 8]);
  });
  it('needs rank 2 or more', () => {
    expect(() => infer('flatten', {}, ['N'])).toThrow("flatten 'n': expects a rank-2 or higher input [N, ...], got rank 1");
  });
});

describe('malformed nodes', () => {
  it('checks the number of inputs', () => {
    expect(() => infer('relu', {}, [1, 2], [1, 2])).toThrow("relu 'n': takes 1 input, got 2");
    const input = { name: 'n', op: 'input', inputs: ['x'], attrs: { shape: [1] }, params: {} } as Node;
    expect(() => inferNodeShape(input, [[1]])).toThrow("input 'n': takes no inputs, got 1");
    const relu = { name: 'n', op: 'relu', inputs: ['x'], attrs: {}, params: {} } as Node;
    expect(() => inferNodeShape(relu, [])).toThrow("relu 'n': has 1 inputs but 0 input shapes were given");
  });

  it('checks attrs field by field', () => {
    const cases: [OpKind, unknown, string][] = [
      ['batchNorm', { ...bn(4), eps: 0 }, "batchNorm 'n': attrs.eps must be a finite number > 0, got 0"],
      ['batchNorm', { ...bn(4), decay: 1.5 }, "batchNorm 'n': attrs.decay must be a number in [0, 1], or null (a cumulative average), got 1.5"],
      ['batchNorm', { ...bn(4), decay: undefined }, "batchNorm 'n': attrs.decay is missing (it must be a number in [0, 1], or null (a cumulative average))"],
      [
        'batchNorm',
        { ...bn(4), momentum: 0.1 },
        "batchNorm 'n': unknown attr 'momentum' (known: numFeatures, eps, frozen, decay, unbiasedRunningVar, affine, trackRunningStats)",
      ],
      ['batchNorm', { ...bn(4), frozen: 'no' }, `batchNorm 'n': attrs.frozen must be true, false or 'all', got "no"`],
      [
        'batchRenorm',
        { numFeatures: 4, eps: 1e-3, rMax: 0.5, dMax: 0, decay: 0.9, unbiasedRunningVar: true },
        "batchRenorm 'n': attrs.rMax must be a finite number >= 1, got 0.5",
      ],
      [
        'batchRenorm',
        { numFeatures: 4, eps: 1e-3, rMax: 1, dMax: -1, decay: 0.9, unbiasedRunningVar: true },
        "batchRenorm 'n': attrs.dMax must be a finite number >= 0, got -1",
      ],
      ['conv2d', conv({ inChannels: 2.5 }), "conv2d 'n': attrs.inChannels must be a positive integer, got 2.5"],
      [
        'conv2d',
        conv({ padding: [1, 1] as never }),
        "conv2d 'n': attrs.padding must be 'same', 'valid' or [top, bottom, left, right] of non-negative integers, got [1, 1]",
      ],
      [
        'convTranspose2d',
        convT({ outputPadding: [-1, 0] }),
        "convTranspose2d 'n': attrs.outputPadding must be a pair of non-negative integers, got [-1, 0]",
      ],
      ['layerNorm', { normalizedShape: [4], over: 'hw', eps: 1e-5, affine: true }, `layerNorm 'n': attrs.over must be 'chw' or 'c', got "hw"`],
      ['relu', { inplace: true }, "relu 'n': unknown attr 'inplace' (this op takes no attrs)"],
      ['flatten', null, "flatten 'n': attrs must be an object, got null"],
    ];
    for (const [op, attrs, message] of cases) {
      const e = errorOf(() => infer(op, attrs as never, [1, 4, 8, 8]));
      expect(e).toBeInstanceOf(GraphError);
      expect((e as GraphError).node).toBe('n');
      expect(e.message).toBe(message);
    }
  });

  it('checks input dims', () => {
    expect(() => infer('input', { shape: ['N', 0, 'H'] })).toThrow(
      "input 'n': dim 1 (dim 1) must be a positive integer or a symbol name (an identifier other than 'floor'), got 0",
    );
    expect(() => infer('input', { shape: ['N', 3, '2*H', 4] })).toThrow(
      `input 'n': dim 2 (H) must be a positive integer or a symbol name (an identifier other than 'floor'), got "2*H"`,
    );
    expect(() => infer('input', { shape: [] })).toThrow("input 'n': attrs.shape must be a non-empty list of dims, got []");
  });
});
