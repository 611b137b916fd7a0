import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { GraphError, ShapeError } from '../../src/ir/errors.ts';
import type { AttrsByOp, OpKind, ParamTensor } from '../../src/ir/graph.ts';
import { createRng, initParams } from '../../src/ir/init.ts';
import { bnAttrs, convAttrs } from './ir-fixtures.ts';

const conv = convAttrs;
const BN = bnAttrs(4);

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

function shapesOf(params: object): Record<string, readonly number[]> {
  return Object.fromEntries(Object.entries(params as Record<string, ParamTensor>).map(([k, t]) => [k, t.shape]));
}

function mean(data: Float32Array): number {
  return data.reduce((s, v) => s + v, 0) / data.length;
}

function std(data: Float32Array): number {
  const m = mean(data);
  return Math.sqrt(data.reduce((s, v) => s + (v - m) ** 2, 0) / data.length);
}

describe('GraphBuilder naming', () => {
  it('names unnamed nodes op_k, counting per op from 1', () => {
    const g = new GraphBuilder();
    const x = g.addInput(['N', 3, 8, 8]);
    const c1 = g.addNode({ op: 'conv2d', inputs: [x], attrs: conv() });
    const r1 = g.addNode({ op: 'relu', inputs: [c1], attrs: {} });
    const c2 = g.addNode({ op: 'conv2d', inputs: [r1], attrs: conv({ inChannels: 4 }) });
    const r2 = g.addNode({ op: 'relu', inputs: [c2], attrs: {} });
    expect([x, c1, r1, c2, r2]).toEqual(['input_1', 'conv2d_1', 'relu_1', 'conv2d_2', 'relu_2']);
    expect(g.build([r2]).inputs).toEqual(['input_1']);
  });

  it('skips names already taken and rejects duplicates', () => {
    const g = new GraphBuilder();
    const x = g.addInput([2, 5], 'x');
    g.addNode({ op: 'relu', name: 'relu_1', inputs: [x], attrs: {} });
    expect(g.addNode({ op: 'relu', inputs: ['relu_1'], attrs: {} })).toBe('relu_2');
    const e = errorOf(() => g.addNode({ op: 'tanh', name: 'relu_2', inputs: [x], attrs: {} }));
    expect(e).toBeInstanceOf(GraphError);
    expect(e.message).toBe("tanh 'relu_2': the name is already used by another node");
    expect(() => g.addInput([2, 5], 'x')).toThrow("input 'x': the name is already used by another node");
  });

  it('leaves the builder unchanged when a node is rejected', () => {
    const g = new GraphBuilder();
    const x = g.addInput(['N', 3, 8, 8], 'x');
    const e = errorOf(() => g.addNode({ op: 'conv2d', inputs: [x], attrs: conv({ inChannels: 5 }) }));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toBe("conv2d 'conv2d_1': input has 3 channels, layer expects 5");
    expect(() => g.shapeOf('conv2d_1')).toThrow("no node named 'conv2d_1' in this graph");
    expect(g.addNode({ op: 'conv2d', inputs: [x], attrs: conv() })).toBe('conv2d_1');
    expect(g.build(['conv2d_1']).nodes.map((n) => n.name)).toEqual(['x', 'conv2d_1']);
  });
});

describe('GraphBuilder shapes and checks', () => {
  it('infers each shape as the node is added', () => {
    const g = new GraphBuilder();
    const x = g.addInput(['N', 3, 'H', 'W'], 'x');
    const c = g.addNode({ op: 'conv2d', inputs: [x], attrs: conv({ stride: [2, 2] }) });
    expect(g.shapeOf(c)).toEqual(['N', 4, 'floor((H+1)/2)', 'floor((W+1)/2)']);
    const p = g.addNode({ op: 'globalAvgPool', inputs: [c], attrs: { keepDims: false } });
    expect(g.shapeOf(p)).toEqual(['N', 4]);
  });

  it('rejects unknown inputs and bad input dims', () => {
    const g = new GraphBuilder();
    expect(() => g.addNode({ op: 'relu', inputs: ['x'], attrs: {} })).toThrow("relu 'relu_1': input 'x' is not a node of this graph");
    expect(() => g.addInput(['N', 3, 'floor'], 'img')).toThrow(
      `input 'img': dim 2 (dim 2) must be a positive integer or a symbol name (an identifier other than 'floor'), got "floor"`,
    );
    expect(() => g.addInput([1, 1.5], 'img')).toThrow('input \'img\': dim 1 (C) must be a positive integer or a symbol name');
    expect(() => g.addNode({ op: 'relu', name: '', inputs: [], attrs: {} })).toThrow('relu: a node name must be a non-empty string, got ""');
  });

  it('routes an input node given to addNode to addInput', () => {
    const g = new GraphBuilder();
    expect(g.addNode({ op: 'input', inputs: [], attrs: { shape: [1, 2] } })).toBe('input_1');
    expect(g.build(['input_1']).inputs).toEqual(['input_1']);
  });

  it('checks given params at once', () => {
    const g = new GraphBuilder();
    const x = g.addInput([1, 3, 4, 4], 'x');
    const bad = { weight: { shape: [4, 3, 1, 1], data: new Float32Array(12) } };
    expect(() => g.addNode({ op: 'conv2d', name: 'c', inputs: [x], attrs: conv(), params: bad })).toThrow(
      "conv2d 'c': param 'weight' has shape [4, 3, 1, 1], expected [4, 3, 3, 3]",
    );
    const extra = { gain: { shape: [4], data: new Float32Array(4) } } as never;
    expect(() => g.addNode({ op: 'conv2d', name: 'c', inputs: [x], attrs: conv(), params: extra })).toThrow(
      "conv2d 'c': unexpected param 'gain' (this node takes: weight, bias)",
    );
  });

  it('builds validated graphs and keeps going afterwards', () => {
    const g = new GraphBuilder();
    const x = g.addInput([1, 3, 4, 4], 'x');
    const r = g.addNode({ op: 'relu', inputs: [x], attrs: {} });
    expect(() => g.build(['nope'])).toThrow("output 'nope' is not a node of the graph");
    const first = g.build([r]);
    const t = g.addNode({ op: 'tanh', inputs: [r], attrs: {} });
    const second = g.build([t]);
    expect(first.nodes.map((n) => n.name)).toEqual(['x', 'relu_1']);
    expect(second.nodes.map((n) => n.name)).toEqual(['x', 'relu_1', 'tanh_1']);
    expect(second.outputs).toEqual(['tanh_1']);
  });
});

describe('parameter initialisation', () => {
  it('gives every op its parameters in PyTorch layouts', () => {
    const rng = createRng(1);
    const cases: [OpKind, object, Record<string, number[]>][] = [
      ['conv2d', conv({ inChannels: 6, outChannels: 4, groups: 2, kernel: [3, 1] }), { weight: [4, 3, 3, 1], bias: [4] }],
      [
        'convTranspose2d',
        { inChannels: 6, outChannels: 4, kernel: [2, 3], stride: [2, 2], padding: [0, 0], outputPadding: [0, 0], dilation: [1, 1], groups: 2, bias: true },
        { weight: [6, 2, 2, 3], bias: [4] },
      ],
      ['linear', { inFeatures: 5, outFeatures: 2, bias: false }, { weight: [2, 5] }],
      ['weightNormConv2d', conv({ bias: false }), { v: [4, 3, 3, 3], g: [4] }],
      ['weightNormLinear', { inFeatures: 5, outFeatures: 2, bias: true }, { v: [2, 5], g: [2], bias: [2] }],
      ['batchNorm', BN, { gamma: [4], beta: [4], runningMean: [4], runningVar: [4] }],
      ['batchRenorm', { numFeatures: 4, eps: 1e-3, rMax: 3, dMax: 5, sigma: 'runningVar', renormDecay: 0.9, warmup: null, decay: 0.9, unbiasedRunningVar: true }, { gamma: [4], beta: [4], runningMean: [4], runningVar: [4] }],
      [
        'batchRenorm',
        { numFeatures: 4, eps: 1e-3, rMax: 3, dMax: 5, sigma: 'movingStddev', renormDecay: 0.99, warmup: { holdSteps: 5, rMaxSteps: 40, dMaxSteps: 25 }, decay: 0.9, unbiasedRunningVar: true },
        { gamma: [4], beta: [4], runningMean: [4], runningVar: [4], renormMean: [4], renormStd: [4], batchesTracked: [1] },
      ],
      ['ibn', { ...BN, numFeatures: 8, instanceChannels: 3 }, { gamma: [8], beta: [8], runningMean: [5], runningVar: [5] }],
      [
        'switchableNorm',
        { numFeatures: 4, eps: 1e-5, decay: 0.9, unbiasedRunningVar: true },
        { gamma: [4], beta: [4], runningMean: [4], runningVar: [4], meanWeights: [3], varWeights: [3] },
      ],
      ['layerNorm', { normalizedShape: [4], over: 'c', eps: 1e-6, affine: true }, { gamma: [4], beta: [4] }],
      ['layerNorm', { normalizedShape: [6, 4, 4], over: 'chw', eps: 1e-5, affine: true }, { gamma: [6, 4, 4], beta: [6, 4, 4] }],
      ['instanceNorm', { numFeatures: 4, eps: 1e-5, affine: false }, {}],
      ['groupNorm', { numChannels: 4, groups: 2, eps: 1e-5, affine: true }, { gamma: [4], beta: [4] }],
      ['scaleShift', { numChannels: 4 }, { scale: [4], shift: [4] }],
      ['relu', {}, {}],
      ['maxPool2d', { kernel: [2, 2], stride: [2, 2], padding: 'valid' }, {}],
    ];
    for (const [op, attrs, expected] of cases) {
      expect(shapesOf(initParams(op, attrs as never, [1, 6, 4, 4], rng)), op).toEqual(expected);
    }
  });

  it('draws conv and linear weights He-normal: mean 0, std sqrt(2 / fanIn)', () => {
    const convW = initParams('conv2d', conv({ inChannels: 32, outChannels: 64 }), [1, 32, 8, 8], createRng(7)).weight!;
    expect(Math.abs(mean(convW.data))).toBeLessThan(0.01);
    expect(std(convW.data) / Math.sqrt(2 / (32 * 9))).toBeCloseTo(1, 1);
    const linW = initParams('linear', { inFeatures: 200, outFeatures: 100, bias: true }, [1, 200], createRng(8)).weight!;
    expect(std(linW.data) / Math.sqrt(2 / 200)).toBeCloseTo(1, 1);
    // Transposed conv: fanIn is Cout/groups * kH * kW (PyTorch reads dim 1 as the fan-in).
    const tAttrs: AttrsByOp['convTranspose2d'] = {
      inChannels: 64,
      outChannels: 8,
      kernel: [4, 4],
      stride: [2, 2],
      padding: [1, 1],
      outputPadding: [0, 0],
      dilation: [1, 1],
      groups: 1,
      bias: false,
    };
    const tW = initParams('convTranspose2d', tAttrs, [1, 64, 4, 4], createRng(9)).weight!;
    expect(std(tW.data) / Math.sqrt(2 / (8 * 16))).toBeCloseTo(1, 1);
  });

  it('fills the constant parameters', () => {
    const p = initParams('switchableNorm', { numFeatures: 3, eps: 1e-5, decay: 0.9, unbiasedRunningVar: true }, [1, 3, 2, 2], createRng(0));
    expect(Array.from(p.gamma!.data)).toEqual([1, 1, 1]);
    expect(Array.from(p.beta!.data)).toEqual([0, 0, 0]);
    expect(Array.from(p.runningMean!.data)).toEqual([0, 0, 0]);
    expect(Array.from(p.runningVar!.data)).toEqual([1, 1, 1]);
    expect(Array.from(p.meanWeights!.data)).toEqual([0, 0, 0]);
    expect(Array.from(p.varWeights!.data)).toEqual([0, 0, 0]);
    const s = initParams('scaleShift', { numChannels: 2 }, [1, 2], createRng(0));
    expect([Array.from(s.scale!.data), Array.from(s.shift!.data)]).toEqual([
      [1, 1],
      [0, 0],
    ]);
    const c = initParams('conv2d', conv(), [1, 3, 4, 4], createRng(0));
    expect(Array.from(c.bias!.data)).toEqual([0, 0, 0, 0]);
  });

  it('sets weight-norm g to the norm of v, so the initial weight is v', () => {
    const p = initParams('weightNormConv2d', conv({ bias: false }), [1, 3, 4, 4], createRng(5));
    const v = p.v!.data;
    for (let unit = 0; unit < 4; unit++) {
      const row = v.subarray(unit * 27, (unit + 1) * 27);
      const norm = Math.sqrt(row.reduce((s, x) => s + x * x, 0));
      expect(p.g!.data[unit]).toBeCloseTo(norm, 5);
      expect(p.g!.data[unit]).toBeGreaterThan(0);
    }
    const givenV = { shape: [2, 2], data: new Float32Array([3, 4, 0, 2]) };
    const q = initParams('weightNormLinear', { inFeatures: 2, outFeatures: 2, bias: false }, [1, 2], createRng(5), { v: givenV });
    expect(q.v).toBe(givenV);
    expect(Array.from(q.g!.data)).toEqual([5, 2]);
  });

  it('is deterministic in the seed and keeps given params', () => {
    const draw = (seed: number) => initParams('linear', { inFeatures: 4, outFeatures: 3, bias: true }, [1, 4], createRng(seed)).weight!.data;
    expect(Array.from(draw(11))).toEqual(Array.from(draw(11)));
    expect(Array.from(draw(11))).not.toEqual(Array.from(draw(12)));
    const weight = { shape: [3, 4], data: new Float32Array(12).fill(0.25) };
    const kept = initParams('linear', { inFeatures: 4, outFeatures: 3, bias: true }, [1, 4], createRng(1), { weight });
    expect(kept.weight).toBe(weight);
    expect(Array.from(kept.bias!.data)).toEqual([0, 0, 0]);
  });

  it('builders with the same seed produce the same parameters', () => {
    const build = (seed: number) => {
      const g = new GraphBuilder({ seed });
      const x = g.addInput([1, 3, 4, 4], 'x');
      const c = g.addNode({ op: 'conv2d', inputs: [x], attrs: conv() });
      return g.build([c]).nodes[1].params as Record<string, ParamTensor>;
    };
    expect(Array.from(build(4).weight.data)).toEqual(Array.from(build(4).weight.data));
    expect(Array.from(build(4).weight.data)).not.toEqual(Array.from(build(5).weight.data));
  });
});

describe('createRng', () => {
  it('yields uniform values in [0, 1), reproducibly', () => {
    const a = createRng(42);
    const b = createRng(42);
    const values = Array.from({ length: 10_000 }, () => a());
    expect(values).toEqual(Array.from({ length: 10_000 }, () => b()));
    expect(values.every((u) => u >= 0 && u < 1)).toBe(true);
    const m = values.reduce((s, u) => s + u, 0) / values.length;
    expect(m).toBeCloseTo(0.5, 1);
    // Each tenth of [0, 1) gets about a tenth of the draws.
    const bins = new Array(10).fill(0);
    for (const u of values) bins[Math.floor(u * 10)]++;
    for (const count of bins) expect(Math.abs(count - 1000)).toBeLessThan(150);
  });
});
