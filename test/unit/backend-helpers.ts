/**
 * Helpers for the tfjs executor's tests: float32-exact random data, conversion between tfjs
 * tensors and the reference's Float64Tensor, and error bounds derived from the computation.
 *
 * Bound for graphs of sums of products (conv, transposed conv, linear, pools, add, concat,
 * scaleShift, flatten and 1-Lipschitz activations): with u = 2^-24 and gamma_k = k*u / (1 - k*u),
 * a float32 evaluation of any such chain satisfies, for any summation order,
 *     |y32 - y| <= gamma_D * M
 * where M is the same graph evaluated exactly on |x| with every parameter replaced by its
 * absolute value (so M bounds every partial sum) and D is the total accumulation depth along the
 * longest path (for each layer: the number of terms per output plus the bias and any division).
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { compileGraph } from '../../src/backend/executor.ts';
import type { AttrsByOp, Graph, Node, ParamTensor } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { runReference } from '../../src/reference/run.ts';
import type { Float64Tensor } from '../../src/reference/tensor.ts';

export const UNIT_ROUNDOFF = 2 ** -24;

export function gamma(k: number): number {
  return (k * UNIT_ROUNDOFF) / (1 - k * UNIT_ROUNDOFF);
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** A 3x3 conv padded 1, stride 1, with a bias, from `cin` to `cout` channels, unless `extra` says otherwise. */
export const convAttrs = (cin: number, cout: number, extra: Partial<AttrsByOp['conv2d']> = {}): AttrsByOp['conv2d'] => ({
  inChannels: cin, outChannels: cout, kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1, bias: true, ...extra,
});

/** Uniform values in [low, high), each exactly representable in float32. */
export function randomTensor(shape: readonly number[], rng: () => number, low = -1, high = 1): Float64Tensor {
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = Math.fround(low + (high - low) * rng());
  return { shape: [...shape], data };
}

export function toTf(x: Float64Tensor): tf.Tensor {
  return tf.tensor(Float32Array.from(x.data), [...x.shape], 'float32');
}

export function fromTf(t: tf.Tensor): Float64Tensor {
  return { shape: [...t.shape], data: Float64Array.from(t.dataSync()) };
}

export function param(shape: readonly number[], values: ArrayLike<number>): ParamTensor {
  return { shape: [...shape], data: Float32Array.from(values) };
}

/** Every param replaced by seeded random values; variances positive, other stats of any sign. */
export function randomizeParams(graph: Graph, seed: number): Graph {
  const rng = createRng(seed);
  const nodes = graph.nodes.map((node) => {
    const params: Record<string, ParamTensor> = {};
    for (const [name, p] of Object.entries(node.params as Record<string, ParamTensor>)) {
      if (name === 'batchesTracked') {
        params[name] = p;
        continue;
      }
      const positive = name === 'runningVar' || name === 'renormStd' || name === 'g';
      const low = positive ? 0.25 : -1;
      params[name] = { shape: p.shape, data: Float32Array.from(p.data, () => low + (1 - low) * rng() * (positive ? 2 : 1)) };
    }
    return { ...node, params } as Node;
  });
  return { ...graph, nodes };
}

/** The graph with |param| everywhere (leakyRelu's alpha too), for the magnitude bound M. */
export function absoluteGraph(graph: Graph): Graph {
  const nodes = graph.nodes.map((node) => {
    const params: Record<string, ParamTensor> = {};
    for (const [name, p] of Object.entries(node.params as Record<string, ParamTensor>)) {
      params[name] = { shape: p.shape, data: p.data.map(Math.abs) };
    }
    const attrs = node.op === 'leakyRelu' ? { alpha: Math.abs(node.attrs.alpha) } : node.attrs;
    return { ...node, attrs, params } as Node;
  });
  return { ...graph, nodes };
}

const abs = (x: Float64Tensor): Float64Tensor => ({ shape: x.shape, data: x.data.map(Math.abs) });

/** Terms accumulated per output of one node, plus its extra roundings (bias, division). */
export function accumulationDepth(node: Node, inputShape: readonly number[] | undefined): number {
  switch (node.op) {
    case 'conv2d':
      return (node.attrs.inChannels / node.attrs.groups) * node.attrs.kernel[0] * node.attrs.kernel[1] + 1;
    case 'convTranspose2d':
      return (node.attrs.inChannels / node.attrs.groups) * node.attrs.kernel[0] * node.attrs.kernel[1] + 1;
    case 'linear':
      return node.attrs.inFeatures + 1;
    case 'avgPool2d':
      // sum, divide; without counted padding also the pooled mask and one more division
      return node.attrs.kernel[0] * node.attrs.kernel[1] + (node.attrs.countIncludePad ? 1 : 2 * node.attrs.kernel[0] * node.attrs.kernel[1] + 2);
    case 'globalAvgPool':
      return (inputShape ? inputShape[2] * inputShape[3] : 0) + 1;
    case 'scaleShift':
      return 2;
    case 'add':
      return node.inputs.length - 1;
    default:
      return 0;
  }
}

/** Elementwise bound gamma_D * M for a sums-of-products graph (see the file comment). */
export function sumOfProductsBound(graph: Graph, inputs: Record<string, Float64Tensor>): Record<string, Float64Array> {
  const absInputs = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, abs(v)]));
  const magnitude = runReference(absoluteGraph(graph), absInputs, { mode: 'eval' });
  const depth = new Map<string, number>();
  for (const node of graph.nodes) {
    const before = Math.max(0, ...node.inputs.map((i) => depth.get(i) ?? 0));
    const inputShape = node.inputs.length > 0 ? magnitude.values.get(node.inputs[0])?.shape : undefined;
    depth.set(node.name, before + accumulationDepth(node, inputShape));
  }
  const bounds: Record<string, Float64Array> = {};
  for (const output of graph.outputs) {
    const g = gamma(depth.get(output) ?? 0);
    bounds[output] = magnitude.outputs[output].data.map((m) => g * m);
  }
  return bounds;
}

/** Asserts |actual - expected| <= bound elementwise, reporting the worst violation. */
export function expectWithin(actual: Float64Tensor, expected: Float64Tensor, bound: ArrayLike<number>, label = ''): void {
  expect(actual.shape, `${label} shape`).toEqual(expected.shape);
  let worst = -Infinity;
  let worstAt = -1;
  for (let i = 0; i < expected.data.length; i++) {
    const excess = Math.abs(actual.data[i] - expected.data[i]) - bound[i];
    if (excess > worst) {
      worst = excess;
      worstAt = i;
    }
  }
  const detail = `${label} worst at ${worstAt}: got ${actual.data[worstAt]}, expected ${expected.data[worstAt]}, bound ${bound[worstAt]}`;
  expect(worst <= 0, detail).toBe(true);
}

/** Asserts elementwise closeness with a tolerance scaled by the magnitude of `expected`. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, relative: number, label = ''): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = relative * Math.max(1, Math.abs(expected[i]));
    if (!(Math.abs(actual[i] - expected[i]) <= tolerance)) {
      expect.fail(`${label}[${i}]: got ${actual[i]}, expected ${expected[i]} (tolerance ${tolerance})`);
    }
  }
}

/**
 * Per-element statistics of a normalisation: the mean and biased variance y is normalised
 * with, the number K of values behind them and the mean of |x| over those values.
 */
export interface ElementStats {
  readonly mean: Float64Array;
  readonly variance: Float64Array;
  readonly count: Float64Array;
  readonly meanAbs: Float64Array;
}

/** Which statistic group element (n, c, s) of an NCHW tensor (s = flat spatial index) falls in. */
export type GroupOf = (n: number, c: number, s: number) => number;

export function elementStats(x: Float64Tensor, groupOf: GroupOf): ElementStats {
  const [batch, channels] = x.shape;
  const spatial = x.data.length / (batch * channels);
  const group = new Int32Array(x.data.length);
  let groups = 0;
  for (let n = 0, i = 0; n < batch; n++)
    for (let c = 0; c < channels; c++)
      for (let s = 0; s < spatial; s++, i++) {
        group[i] = groupOf(n, c, s);
        groups = Math.max(groups, group[i] + 1);
      }
  const sum = new Float64Array(groups);
  const sumAbs = new Float64Array(groups);
  const size = new Float64Array(groups);
  x.data.forEach((v, i) => {
    sum[group[i]] += v;
    sumAbs[group[i]] += Math.abs(v);
    size[group[i]] += 1;
  });
  const mean = sum.map((s, g) => s / size[g]);
  const squares = new Float64Array(groups);
  x.data.forEach((v, i) => (squares[group[i]] += (v - mean[group[i]]) ** 2));
  const perElement = (values: Float64Array) => Float64Array.from(group, (g) => values[g]);
  return {
    mean: perElement(mean),
    variance: perElement(squares.map((q, g) => q / size[g])),
    count: perElement(size),
    meanAbs: perElement(sumAbs.map((s, g) => s / size[g])),
  };
}

/** Statistics read from running buffers (eval mode): one exact value, K = 1. */
export function runningElementStats(x: Float64Tensor, runningMean: ArrayLike<number>, runningVar: ArrayLike<number>): ElementStats {
  const [batch, channels] = x.shape;
  const spatial = x.data.length / (batch * channels);
  const channelOf = (i: number) => Math.floor(i / spatial) % channels;
  const mean = Float64Array.from(x.data, (_, i) => runningMean[channelOf(i)]);
  return {
    mean,
    variance: Float64Array.from(x.data, (_, i) => runningVar[channelOf(i)]),
    count: new Float64Array(x.data.length).fill(1),
    meanAbs: mean.map(Math.abs),
  };
}

/**
 * Bound for y = gamma[c] (x - mu) / sigma + beta[c], sigma = sqrt(var + eps), mu and var
 * computed in float32 from K values (two-pass, as tf.moments does):
 *   |d mu|    <= gamma_K  * mean|x|
 *   |d sigma| <= gamma_{K+6} * sigma relative (squares, sum, divide, add eps, sqrt)
 * so |d y| <= |gamma| / sigma * (gamma_K mean|x| + gamma_{K+6} |x - mu| + u (|x| + |mu|))
 *             + u (|y| + |beta|) for the final products and sum, doubled for kernels that
 * fold gamma / sigma into one scale before multiplying.
 */
export function normalizationBound(
  x: Float64Tensor,
  y: Float64Tensor,
  stats: ElementStats,
  eps: number,
  gammaOf: (c: number, inSample: number) => number,
  betaOf: (c: number, inSample: number) => number,
): Float64Array {
  const [batch, channels] = x.shape;
  const spatial = x.data.length / (batch * channels);
  return Float64Array.from(x.data, (v, i) => {
    const c = Math.floor(i / spatial) % channels;
    const inSample = i % (channels * spatial);
    const sigma = Math.sqrt(stats.variance[i] + eps);
    const k = stats.count[i];
    const centred = Math.abs(v - stats.mean[i]);
    const inner = gamma(k) * stats.meanAbs[i] + gamma(k + 6) * centred + UNIT_ROUNDOFF * (Math.abs(v) + Math.abs(stats.mean[i]));
    return 2 * ((Math.abs(gammaOf(c, inSample)) / sigma) * inner + UNIT_ROUNDOFF * (Math.abs(y.data[i]) + Math.abs(betaOf(c, inSample))));
  });
}

/**
 * Runs `graph` through the tfjs executor on `x` (input 'x') and checks each output in `outputs`
 * against the float64 reference within 1e-5 relative, and that nothing leaked.
 */
export function expectExecutorMatchesReference(graph: Graph, x: Float64Tensor, outputs: readonly string[], mode: 'eval' | 'train' = 'eval'): void {
  const expected = runReference(graph, { x }, { mode }).outputs;
  const before = tf.memory().numTensors;
  const compiled = compileGraph(graph, { mode });
  const xt = tf.tensor(Float32Array.from(x.data), [...x.shape]);
  const out = compiled.run(xt);
  for (const name of outputs) {
    const y: Float64Tensor = { shape: [...out[name].shape], data: Float64Array.from(out[name].dataSync()) };
    expect(y.shape, name).toEqual(expected[name].shape);
    expectClose(y.data, expected[name].data, 1e-5, name);
  }
  tf.dispose([xt, ...Object.values(out)]);
  compiled.dispose();
  expect(tf.memory().numTensors).toBe(before);
}

/** One train-mode step's gradients: `params` variables get one each, every one not all zero, nothing leaks. */
export function expectTrainsEveryParam(graph: Graph, x: Float64Tensor, output: string, params: number): void {
  const compiled = compileGraph(graph);
  const before = tf.memory().numTensors;
  const xt = tf.tensor(Float32Array.from(x.data), [...x.shape]);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(compiled.run(xt, { mode: 'train' })[output])) as tf.Scalar);
  expect(Object.keys(grads).length).toBe(params);
  for (const g of Object.values(grads)) expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
  tf.dispose([value, xt, ...Object.values(grads)]);
  expect(tf.memory().numTensors).toBe(before);
  compiled.dispose();
}
