/**
 * Train mode and training: running-statistics updates (PyTorch and Keras conventions), frozen
 * BN, batch renorm's stop-gradient, weight norm's gradients, the wasm gradient kernels borrowed
 * from cpu, and fit() on a tiny regression, with no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { batchNorm, input, instanceNorm, model } from '../../dsl/index.ts';
import { compileGraph } from '../../src/backend/executor.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { fit } from '../../src/backend/train.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { AttrsByOp, Graph } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { expectClose, fromTf, randomTensor, randomizeParams, toTf } from './backend-helpers.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

function singleNode<K extends 'batchNorm' | 'batchRenorm'>(op: K, attrs: AttrsByOp[K], shape: number[], seed: number): Graph {
  const b = new GraphBuilder();
  const x = b.addInput(shape, 'x');
  b.addNode({ op, inputs: [x], attrs, name: 'bn' } as never);
  return randomizeParams(b.build(['bn']), seed);
}

/** Per-channel mean and biased variance of an NCHW (or NC) Float64 tensor, by explicit loops. */
function channelStats(x: { shape: readonly number[]; data: Float64Array }): { mean: number[]; variance: number[]; count: number } {
  const [n, c] = x.shape;
  const spatial = x.shape.slice(2).reduce((p, d) => p * d, 1);
  const mean = Array<number>(c).fill(0);
  const variance = Array<number>(c).fill(0);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let s = 0; s < spatial; s++) mean[ch] += x.data[(b * c + ch) * spatial + s];
  for (let ch = 0; ch < c; ch++) mean[ch] /= n * spatial;
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let s = 0; s < spatial; s++) variance[ch] += (x.data[(b * c + ch) * spatial + s] - mean[ch]) ** 2;
  for (let ch = 0; ch < c; ch++) variance[ch] /= n * spatial;
  return { mean, variance, count: n * spatial };
}

describe('BatchNorm in train mode', () => {
  const conventions = [
    { name: 'PyTorch (decay 0.9, unbiased running var)', decay: 0.9, unbiasedRunningVar: true },
    { name: 'Keras (decay 0.99, biased running var)', decay: 0.99, unbiasedRunningVar: false },
  ];
  for (const convention of conventions) {
    it(`normalises with batch statistics and updates running stats: ${convention.name}`, () => {
      const attrs = { numFeatures: 3, eps: 1e-3, frozen: false, decay: convention.decay, unbiasedRunningVar: convention.unbiasedRunningVar };
      const graph = singleNode('batchNorm', attrs, [4, 3, 2, 5], 1);
      const node = graph.nodes[1] as Extract<Graph['nodes'][number], { op: 'batchNorm' }>;
      const x = randomTensor([4, 3, 2, 5], createRng(2), -2, 3);
      const compiled = compileGraph(graph);
      const xt = toTf(x);
      const y = fromTf(compiled.run(xt, { mode: 'train' }).bn);
      const { mean, variance, count } = channelStats(x);
      const gamma = node.params.gamma!.data;
      const beta = node.params.beta!.data;
      const expected = x.data.map((v, i) => {
        const c = Math.floor(i / 10) % 3;
        return (gamma[c] * (v - mean[c])) / Math.sqrt(variance[c] + attrs.eps) + beta[c];
      });
      expectClose(y.data, expected, 1e-5, 'y');
      const unbias = convention.unbiasedRunningVar ? count / (count - 1) : 1;
      const rm = node.params.runningMean!.data;
      const rv = node.params.runningVar!.data;
      const stats = compiled.stats.get('bn')!;
      expectClose(stats.runningMean.dataSync(), mean.map((m, c) => convention.decay * rm[c] + (1 - convention.decay) * m), 1e-6, 'runningMean');
      expectClose(
        stats.runningVar.dataSync(),
        variance.map((v, c) => convention.decay * rv[c] + (1 - convention.decay) * v * unbias),
        1e-6,
        'runningVar',
      );
      // eval mode now reads the updated statistics
      const updated = compiled.exportGraph().nodes[1].params as Record<string, { data: Float32Array }>;
      expect(Array.from(updated.runningMean.data)).toEqual(Array.from(stats.runningMean.dataSync()));
      xt.dispose();
      compiled.dispose();
    });
  }

  it('a frozen BatchNorm uses and keeps its running statistics in train mode', () => {
    const attrs = { numFeatures: 3, eps: 1e-3, frozen: true, decay: 0.9, unbiasedRunningVar: true };
    const graph = singleNode('batchNorm', attrs, [4, 3], 3);
    const compiled = compileGraph(graph);
    const xt = toTf(randomTensor([4, 3], createRng(4)));
    const train = compiled.run(xt, { mode: 'train' }).bn;
    const evalOut = compiled.run(xt, { mode: 'eval' }).bn;
    expect(Array.from(train.dataSync())).toEqual(Array.from(evalOut.dataSync()));
    const node = graph.nodes[1];
    expect(Array.from(compiled.stats.get('bn')!.runningMean.dataSync())).toEqual(Array.from((node.params as { runningMean: { data: Float32Array } }).runningMean.data));
    tf.dispose([xt, train, evalOut]);
    compiled.dispose();
  });

  it("frozen: true still trains gamma and beta; frozen: 'all' keeps them too (FrozenBatchNorm2d)", async () => {
    const trainedAffine = async (frozen: true | 'all') => {
      const b = new GraphBuilder({ seed: 61 });
      const x = b.addInput(['N', 3], 'x');
      const bn = b.addNode({ op: 'batchNorm', inputs: [x], name: 'bn', attrs: { numFeatures: 3, eps: 1e-3, frozen, decay: 0.9, unbiasedRunningVar: true } });
      const head = b.addNode({ op: 'linear', inputs: [bn], name: 'head', attrs: { inFeatures: 3, outFeatures: 1, bias: true } });
      const graph = randomizeParams(b.build([head]), 62);
      const before = tf.memory().numTensors;
      const compiled = compileGraph(graph);
      expect([...compiled.variables.keys()].sort()).toEqual(frozen === 'all' ? ['head.bias', 'head.weight'] : ['bn.beta', 'bn.gamma', 'head.bias', 'head.weight']);
      const data = { x: toTf(randomTensor([8, 3], createRng(63))), y: tf.ones([8, 1]) };
      await fit(compiled, data, { epochs: 2, batchSize: 4, optimizer: 'sgd', learningRate: 0.1, loss: 'mse', progressBar: false });
      const [original, trained] = [graph, compiled.exportGraph()].map((g) => g.nodes[1].params as Record<string, { data: Float32Array }>);
      compiled.dispose();
      tf.dispose([data.x, data.y]);
      expect(tf.memory().numTensors).toBe(before);
      expect(Array.from(trained.runningMean.data)).toEqual(Array.from(original.runningMean.data));
      return { gammaKept: Array.from(trained.gamma.data).join() === Array.from(original.gamma.data).join(), betaKept: Array.from(trained.beta.data).join() === Array.from(original.beta.data).join() };
    };
    expect(await trainedAffine(true)).toEqual({ gammaKept: false, betaKept: false });
    expect(await trainedAffine('all')).toEqual({ gammaKept: true, betaKept: true });
  });

  it('one value per channel with an unbiased running variance is a named error', () => {
    const attrs = { numFeatures: 3, eps: 1e-3, frozen: false, decay: 0.9, unbiasedRunningVar: true };
    const compiled = compileGraph(singleNode('batchNorm', attrs, ['N', 3] as never, 5));
    const xt = toTf(randomTensor([1, 3], createRng(6)));
    const before = tf.memory().numTensors;
    expect(() => compiled.run(xt, { mode: 'train' })).toThrow(/batchNorm 'bn': train mode needs more than 1 value per channel/);
    expect(tf.memory().numTensors).toBe(before);
    xt.dispose();
    compiled.dispose();
  });
});

describe("the conventions PyTorch and Keras users expect", () => {
  const bnOf = (graph: Graph) => graph.nodes[1] as Extract<Graph['nodes'][number], { op: 'batchNorm' }>;

  it("convention: 'keras' means Keras' BatchNormalization: momentum 0.99, biased running variance and eps 1e-3", () => {
    const keras = bnOf(model(input(['N', 3, 4, 4]).to(batchNorm({ convention: 'keras' }))).graph).attrs;
    expect([keras.decay, keras.unbiasedRunningVar, keras.eps]).toEqual([0.99, false, 1e-3]);
    const pytorch = bnOf(model(input(['N', 3, 4, 4]).to(batchNorm())).graph).attrs;
    expect([pytorch.decay, pytorch.unbiasedRunningVar, pytorch.eps]).toEqual([0.9, true, 1e-5]);
    expect(bnOf(model(input(['N', 3]).to(batchNorm({ convention: 'keras', eps: 1e-5 }))).graph).attrs.eps).toBe(1e-5);
  });

  it("instanceNorm has PyTorch's defaults (no gamma/beta) and refuses to train on one spatial element", () => {
    const plain = model(input(['N', 3, 1, 1]).to(instanceNorm())).graph;
    expect(plain.nodes[1].params).toEqual({});
    expect(Object.keys(model(input(['N', 3, 2, 2]).to(instanceNorm({ affine: true }))).graph.nodes[1].params).sort()).toEqual(['beta', 'gamma']);
    const before = tf.memory().numTensors;
    const compiled = compileGraph(plain);
    const x = tf.ones([2, 3, 1, 1]);
    expect(() => compiled.run(x, { mode: 'train' })).toThrow(/needs more than 1 spatial element per channel/);
    tf.dispose(compiled.run(x, { mode: 'eval' }));
    x.dispose();
    compiled.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('batch renorm', () => {
  for (const sigma of ['movingStddev', 'runningVar'] as const) {
    it(`backpropagates r times the BatchNorm gradient (r and d are constants to backprop), sigma ${sigma}`, () => {
      const shape = [6, 2, 3, 3];
      const renormAttrs = { numFeatures: 2, eps: 1e-3, decay: 0.9, unbiasedRunningVar: true, rMax: 10, dMax: 5, sigma, renormDecay: 0.8, warmup: null };
      const renorm = singleNode('batchRenorm', renormAttrs, shape, 7);
      const bnNode = { ...renorm.nodes[1], op: 'batchNorm', attrs: { numFeatures: 2, eps: 1e-3, decay: 0.9, unbiasedRunningVar: true, frozen: false } };
      const { gamma, beta, runningMean, runningVar } = renorm.nodes[1].params as Record<string, unknown>;
      const bn: Graph = { ...renorm, nodes: [renorm.nodes[0], { ...bnNode, params: { gamma, beta, runningMean, runningVar } } as Graph['nodes'][number]] };
      const x = randomTensor(shape, createRng(8), -1, 4);
      const upstream = toTf(randomTensor(shape, createRng(9)));
      const xt = toTf(x);
      const gradOf = (graph: Graph) => {
        const compiled = compileGraph(graph);
        const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(compiled.run(input, { mode: 'train' }).bn, upstream)))(xt);
        compiled.dispose();
        return fromTf(grad);
      };
      const renormGrad = gradOf(renorm);
      const bnGrad = gradOf(bn);
      // r = sigma_B / sigma per channel, unclipped here (rMax = 10 is not reached for these data)
      const { variance } = channelStats(x);
      const params = renorm.nodes[1].params as Record<string, { data: Float32Array }>;
      const sigmaOf = (c: number) => (sigma === 'movingStddev' ? Math.max(params.renormStd.data[c], Math.sqrt(1e-3)) : Math.sqrt(params.runningVar.data[c] + 1e-3));
      const r = variance.map((v, c) => Math.sqrt(v + 1e-3) / sigmaOf(c));
      expect(r.every((rc) => rc > 1 / 10 && rc < 10)).toBe(true);
      const expected = bnGrad.data.map((g, i) => r[Math.floor(i / 9) % 2] * g);
      expectClose(renormGrad.data, expected, 1e-4, 'dL/dx');
      tf.dispose([upstream, xt]);
    });
  }
});

describe('gradients on wasm match cpu (borrowed Conv2DBackpropFilter and depthwise kernels)', () => {
  it('for conv, depthwise, grouped, dilated, transposed and weight-normed layers', async () => {
    const b = new GraphBuilder({ seed: 11 });
    const x = b.addInput([2, 4, 9, 8], 'x');
    const conv = (input: string, attrs: Partial<AttrsByOp['conv2d']>) =>
      b.addNode({ op: 'conv2d', inputs: [input], attrs: { inChannels: 4, outChannels: 4, kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1, bias: true, ...attrs } });
    let h = conv(x, { stride: [2, 1] });
    h = b.addNode({ op: 'relu', inputs: [h], attrs: {} });
    h = conv(h, { groups: 4, outChannels: 4, dilation: [2, 2], padding: [2, 2, 2, 2] });
    h = conv(h, { groups: 2, padding: 'same' });
    h = b.addNode({ op: 'weightNormConv2d', inputs: [h], attrs: { inChannels: 4, outChannels: 4, kernel: [3, 3], stride: [1, 1], padding: 'same', dilation: [1, 1], groups: 4, bias: false } });
    h = b.addNode({ op: 'convTranspose2d', inputs: [h], attrs: { inChannels: 4, outChannels: 2, kernel: [3, 3], stride: [2, 2], padding: [1, 1], outputPadding: [1, 0], dilation: [1, 1], groups: 2, bias: true } });
    const graph = randomizeParams(b.build([h]), 12);
    const xData = randomTensor([2, 4, 9, 8], createRng(13));
    const gradients = (): Map<string, Float32Array> => {
      const compiled = compileGraph(graph);
      const xt = toTf(xData);
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(compiled.run(xt, { mode: 'train' })[h])) as tf.Scalar);
      const out = new Map(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array]));
      // variableGrads keys are tfjs variable names; map them back to `${node}.${param}`
      const named = new Map<string, Float32Array>();
      for (const [key, v] of compiled.variables) named.set(key, out.get(v.name)!);
      tf.dispose(Object.values(grads));
      xt.dispose();
      compiled.dispose();
      return named;
    };
    const onWasm = gradients();
    await selectBackend({ backend: 'cpu' });
    const onCpu = gradients();
    await selectBackend({ backend: 'wasm' });
    expect([...onWasm.keys()].sort()).toEqual([...onCpu.keys()].sort());
    for (const [key, g] of onCpu) {
      expect(g.every((v) => v === 0), `${key} has a zero gradient`).toBe(false);
      expectClose(onWasm.get(key)!, g, 1e-3, key);
    }
  });
});

describe('fit', () => {
  function regressionGraph(): Graph {
    const b = new GraphBuilder({ seed: 21 });
    const x = b.addInput(['N', 2, 4, 4], 'x');
    let h = b.addNode({ op: 'conv2d', inputs: [x], attrs: { inChannels: 2, outChannels: 4, kernel: [3, 3], stride: [1, 1], padding: 'same', dilation: [1, 1], groups: 1, bias: false } });
    h = b.addNode({ op: 'batchNorm', inputs: [h], name: 'bn', attrs: { numFeatures: 4, eps: 1e-5, decay: 0.9, unbiasedRunningVar: true, frozen: false } });
    h = b.addNode({ op: 'relu', inputs: [h], attrs: {} });
    h = b.addNode({ op: 'globalAvgPool', inputs: [h], attrs: { keepDims: false } });
    h = b.addNode({ op: 'linear', inputs: [h], name: 'head', attrs: { inFeatures: 4, outFeatures: 1, bias: true } });
    return b.build([h]);
  }

  function regressionData(): { x: tf.Tensor; y: tf.Tensor } {
    const rng = createRng(22);
    const x = randomTensor([32, 2, 4, 4], rng);
    // target: a fixed smooth function of the input (mean of channel 0 minus half the mean of channel 1)
    const y = new Float32Array(32);
    for (let n = 0; n < 32; n++) {
      let s = 0;
      for (let i = 0; i < 16; i++) s += x.data[n * 32 + i] - 0.5 * x.data[n * 32 + 16 + i];
      y[n] = s / 16;
    }
    return { x: toTf(x), y: tf.tensor2d(y, [32, 1]) };
  }

  for (const optimizer of [
    { name: 'sgd', optimizer: 'sgd' as const, learningRate: 0.1 },
    { name: 'sgd with momentum', optimizer: 'sgd' as const, learningRate: 0.05, momentum: 0.9 },
    { name: 'adam', optimizer: 'adam' as const, learningRate: 0.01 },
  ]) {
    it(`${optimizer.name}: the loss falls over 20 steps, running stats move, nothing leaks`, async () => {
      const data = regressionData();
      const before = tf.memory().numTensors;
      const compiled = compileGraph(regressionGraph());
      const initial = compiled.exportGraph();
      const progress: number[] = [];
      const history = await fit(compiled, data, {
        epochs: 5,
        batchSize: 8,
        loss: 'mse',
        progressBar: false,
        onProgress: (p) => progress.push(p.loss),
        ...optimizer,
      });
      expect(history.steps).toHaveLength(20);
      expect(history.epochs).toHaveLength(5);
      expect(progress).toEqual(history.steps);
      const firstEpoch = history.epochs[0];
      const lastEpoch = history.epochs[4];
      expect(lastEpoch).toBeLessThan(firstEpoch * 0.7);
      const trained = compiled.exportGraph();
      const runningMean = (g: Graph) => (g.nodes.find((n) => n.name === 'bn')!.params as { runningMean: { data: Float32Array } }).runningMean.data;
      expect(Array.from(runningMean(trained))).not.toEqual(Array.from(runningMean(initial)));
      compiled.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([data.x, data.y]);
    });
  }

  it("on a graph compiled with { mode: 'train' } checks its input without touching running statistics", async () => {
    const b = new GraphBuilder({ seed: 41 });
    const x = b.addInput(['N', 3], 'x');
    const bn = b.addNode({ op: 'batchNorm', inputs: [x], name: 'bn1d', attrs: { numFeatures: 3, eps: 1e-5, decay: 0.9, unbiasedRunningVar: true, frozen: false } });
    const head = b.addNode({ op: 'linear', inputs: [bn], name: 'head', attrs: { inFeatures: 3, outFeatures: 1, bias: true } });
    const graph = randomizeParams(b.build([head]), 42);
    const xs = randomTensor([8, 3], createRng(43), -1, 2);
    const data = { x: toTf(xs), y: tf.zeros([8, 1]) };
    const compiled = compileGraph(graph, { mode: 'train' });
    // One step over the whole data set: exactly one running-statistics update, from all 8 samples
    // (before the fix, sample 0 alone made BatchNorm1d throw "needs more than 1 value per channel").
    await fit(compiled, data, { epochs: 1, batchSize: 8, shuffle: false, optimizer: 'sgd', learningRate: 0.01, loss: 'mse', progressBar: false });
    const node = graph.nodes[1] as Extract<Graph['nodes'][number], { op: 'batchNorm' }>;
    const { mean } = channelStats(xs);
    const expected = mean.map((m, c) => 0.9 * node.params.runningMean!.data[c] + 0.1 * m);
    const trained = compiled.exportGraph().nodes[1] as typeof node;
    expectClose(Float64Array.from(trained.params.runningMean!.data), Float64Array.from(expected), 1e-6);
    compiled.dispose();
    tf.dispose([data.x, data.y]);
  });

  it('trains through IBN (its BatchNorm half has no gamma/beta of its own)', async () => {
    const b = new GraphBuilder({ seed: 51 });
    const x = b.addInput(['N', 4, 3, 3], 'x');
    let h = b.addNode({ op: 'ibn', inputs: [x], name: 'ibn', attrs: { numFeatures: 4, eps: 1e-5, decay: 0.9, unbiasedRunningVar: true, frozen: false, instanceChannels: 2 } });
    h = b.addNode({ op: 'globalAvgPool', inputs: [h], attrs: { keepDims: false } });
    h = b.addNode({ op: 'linear', inputs: [h], name: 'head', attrs: { inFeatures: 4, outFeatures: 1, bias: true } });
    const graph = randomizeParams(b.build([h]), 52);
    const data = { x: toTf(randomTensor([6, 4, 3, 3], createRng(53))), y: tf.ones([6, 1]) };
    const before = tf.memory().numTensors;
    const compiled = compileGraph(graph);
    const history = await fit(compiled, data, { epochs: 3, batchSize: 6, optimizer: 'sgd', learningRate: 0.1, loss: 'mse', progressBar: false });
    expect(history.steps.every(Number.isFinite)).toBe(true);
    const gamma = (g: Graph) => Array.from((g.nodes[1].params as { gamma: { data: Float32Array } }).gamma.data);
    expect(gamma(compiled.exportGraph())).not.toEqual(gamma(graph));
    compiled.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([data.x, data.y]);
  });

  it('trains a classifier with softmaxCrossEntropy on integer labels', async () => {
    const b = new GraphBuilder({ seed: 31 });
    const x = b.addInput(['N', 4], 'x');
    const h = b.addNode({ op: 'linear', inputs: [x], attrs: { inFeatures: 4, outFeatures: 3, bias: true } });
    const compiled = compileGraph(b.build([h]));
    const xs = randomTensor([30, 4], createRng(32));
    const labels = Int32Array.from({ length: 30 }, (_, n) => (xs.data[n * 4] > 0.3 ? 0 : xs.data[n * 4 + 1] > 0 ? 1 : 2));
    const data = { x: toTf(xs), y: tf.tensor1d(labels, 'int32') };
    const history = await fit(compiled, data, { epochs: 10, batchSize: 10, optimizer: 'adam', learningRate: 0.05, loss: 'softmaxCrossEntropy', progressBar: false });
    expect(history.epochs[9]).toBeLessThan(history.epochs[0]);
    compiled.dispose();
    tf.dispose([data.x, data.y]);
  });

  it('draws a progress bar on stderr when asked, and none when told not to', async () => {
    const b = new GraphBuilder({ seed: 41 });
    const x = b.addInput(['N', 2], 'x');
    const compiled = compileGraph(b.build([b.addNode({ op: 'linear', inputs: [x], attrs: { inFeatures: 2, outFeatures: 1, bias: true } })]));
    const data = { x: tf.ones([4, 2]), y: tf.zeros([4, 1]) };
    const opts = { epochs: 2, batchSize: 2, optimizer: 'sgd' as const, learningRate: 0.1, loss: 'mse' as const };
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await fit(compiled, data, { ...opts, progressBar: false });
      expect(write).not.toHaveBeenCalled();
      await fit(compiled, data, { ...opts, progressBar: true });
      const text = write.mock.calls.map((call) => String(call[0])).join('');
      expect(text).toMatch(/\repoch 1\/2 \[#{12}\.{12}\] 1\/2 loss /);
      expect(text).toMatch(/\repoch 2\/2 \[#{24}\] 2\/2 loss [\d.e+-]+\n$/);
    } finally {
      write.mockRestore();
    }
    tf.dispose([data.x, data.y]);
    compiled.dispose();
  });

  it('rejects targets that do not match the output, and bad options, by name', async () => {
    const compiled = compileGraph(regressionGraph());
    const x = tf.zeros([4, 2, 4, 4]);
    const badY = tf.zeros([4, 2]);
    const before = tf.memory().numTensors;
    const opts = { epochs: 1, batchSize: 2, optimizer: 'sgd' as const, learningRate: 0.1, loss: 'mse' as const, progressBar: false };
    await expect(fit(compiled, { x, y: badY }, opts)).rejects.toThrow(/input 'y': shape \[4, 2\] does not match the output \[4, 1\]/);
    await expect(fit(compiled, { x, y: badY }, { ...opts, batchSize: 0 })).rejects.toThrow(/input 'batchSize': must be a positive integer/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, badY]);
    compiled.dispose();
  });
});
