/**
 * Op-level checks of the executor against explicit loops written here (hand-checkable values)
 * and against the float64 reference for the norms with mixed statistics, on wasm and cpu.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/backend/executor.ts';
import { selectBackend, type BackendName } from '../../src/backend/select.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { AttrsByOp, Graph, OpKind, ParamTensor } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { runReference } from '../../src/reference/run.ts';
import type { Float64Tensor } from '../../src/reference/tensor.ts';
import {
  elementStats,
  expectClose,
  expectWithin,
  fromTf,
  normalizationBound,
  param,
  randomTensor,
  randomizeParams,
  runningElementStats,
  toTf,
  type ElementStats,
} from './backend-helpers.ts';

function single<K extends OpKind>(shape: number[], op: K, attrs: AttrsByOp[K], params?: Record<string, ParamTensor>): Graph {
  const b = new GraphBuilder({ seed: 1 });
  const x = b.addInput(shape, 'x');
  b.addNode({ op, inputs: [x], attrs, name: 'y', params } as never);
  return b.build(['y']);
}

function run(graph: Graph, x: Float64Tensor, mode: 'eval' | 'train' = 'eval'): Float64Tensor {
  const compiled = compileGraph(graph);
  const xt = toTf(x);
  const out = compiled.run(xt, { mode });
  const result = fromTf(out.y);
  tf.dispose([xt, out.y]);
  compiled.dispose();
  return result;
}

const arange = (shape: number[]): Float64Tensor => {
  const size = shape.reduce((p, d) => p * d, 1);
  return { shape, data: Float64Array.from({ length: size }, (_, i) => i) };
};

for (const backend of ['wasm', 'cpu'] as BackendName[]) {
  describe(`hand-checkable ops on ${backend}`, () => {
    beforeAll(async () => {
      await selectBackend({ backend });
    });

    it('conv2d on ones with asymmetric explicit padding counts the real taps of each window', () => {
      const attrs: AttrsByOp['conv2d'] = { inChannels: 2, outChannels: 1, kernel: [3, 2], stride: [2, 1], padding: [2, 0, 1, 1], dilation: [1, 1], groups: 1, bias: false };
      const graph = single([1, 2, 5, 4], 'conv2d', attrs, { weight: param([1, 2, 3, 2], Array(12).fill(1)) });
      const y = run(graph, { shape: [1, 2, 5, 4], data: new Float64Array(40).fill(1) });
      // rows: out i covers input rows 2i-2 .. 2i; cols: out j covers j-1 .. j
      const rows = (i: number) => [2 * i - 2, 2 * i - 1, 2 * i].filter((r) => r >= 0 && r < 5).length;
      const cols = (j: number) => [j - 1, j].filter((c) => c >= 0 && c < 4).length;
      expect(y.shape).toEqual([1, 1, 3, 5]);
      expect(Array.from(y.data)).toEqual(Array.from({ length: 15 }, (_, k) => 2 * rows(Math.floor(k / 5)) * cols(k % 5)));
    });

    it('depthwise conv with channel multiplier keeps PyTorch output order (o = c*mult + m)', () => {
      const attrs: AttrsByOp['conv2d'] = { inChannels: 2, outChannels: 4, kernel: [1, 1], stride: [1, 1], padding: 'valid', dilation: [1, 1], groups: 2, bias: true };
      const weight = param([4, 1, 1, 1], [1, 10, 100, 1000]);
      const bias = param([4], [0.5, 0.25, 0.125, 0.0625]);
      const x = arange([1, 2, 1, 3]);
      const y = run(single([1, 2, 1, 3], 'conv2d', attrs, { weight, bias }), x);
      const expected = [0, 1, 2, 3].flatMap((o) => [0, 1, 2].map((s) => weight.data[o] * x.data[Math.floor(o / 2) * 3 + s] + bias.data[o]));
      expect(Array.from(y.data)).toEqual(expected);
    });

    it('convTranspose2d equals an explicit scatter-and-crop loop (groups, outputPadding, dilation)', () => {
      const attrs: AttrsByOp['convTranspose2d'] = { inChannels: 2, outChannels: 4, kernel: [2, 3], stride: [2, 3], padding: [1, 1], outputPadding: [1, 2], dilation: [1, 2], groups: 2, bias: false };
      const rng = createRng(5);
      const weight = randomTensor([2, 2, 2, 3], rng);
      const x = randomTensor([1, 2, 3, 2], rng);
      const y = run(single([1, 2, 3, 2], 'convTranspose2d', attrs, { weight: param(weight.shape, weight.data) }), x);
      const outH = (3 - 1) * 2 - 2 + 1 * (2 - 1) + 1 + 1;
      const outW = (2 - 1) * 3 - 2 + 2 * (3 - 1) + 2 + 1;
      const expected = new Float64Array(4 * outH * outW);
      for (let c = 0; c < 2; c++)
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 2; j++)
            for (let o = 0; o < 2; o++)
              for (let p = 0; p < 2; p++)
                for (let q = 0; q < 3; q++) {
                  const r = i * 2 + p - 1;
                  const s = j * 3 + 2 * q - 1;
                  if (r < 0 || r >= outH || s < 0 || s >= outW) continue;
                  const out = c * 2 + o; // group c owns output channels [2c, 2c+2)
                  expected[(out * outH + r) * outW + s] += x.data[(c * 3 + i) * 2 + j] * weight.data[((c * 2 + o) * 2 + p) * 3 + q];
                }
      expect(y.shape).toEqual([1, 4, outH, outW]);
      expectClose(y.data, expected, 1e-6);
    });

    it('flatten produces NCHW order', () => {
      const x = arange([2, 3, 2, 2]);
      const y = run(single([2, 3, 2, 2], 'flatten', {}), x);
      expect(y.shape).toEqual([2, 12]);
      expect(Array.from(y.data)).toEqual(Array.from(x.data));
    });

    it('avgPool2d divides by the full window or by the real cells, per countIncludePad', () => {
      const ones = { shape: [1, 1, 3, 3], data: new Float64Array(9).fill(1) };
      const pool = (countIncludePad: boolean) =>
        run(single([1, 1, 3, 3], 'avgPool2d', { kernel: [2, 2], stride: [2, 2], padding: [1, 0, 1, 0], countIncludePad }), ones);
      // windows: top-left holds 1 real cell, the edges 2, the inner one 4
      expect(Array.from(pool(true).data)).toEqual([1 / 4, 2 / 4, 2 / 4, 4 / 4]);
      expect(Array.from(pool(false).data)).toEqual([1, 1, 1, 1]);
    });

    it('maxPool2d never picks explicit padding, even when every real value is negative', () => {
      const x = { shape: [1, 1, 2, 2], data: Float64Array.from([-4, -3, -2, -1]) };
      const y = run(single([1, 1, 2, 2], 'maxPool2d', { kernel: [2, 2], stride: [1, 1], padding: [1, 0, 1, 0] }), x);
      expect(Array.from(y.data)).toEqual([-4, -3, -2, -1]);
    });

    it('globalAvgPool with keepDims, concat on channels, scaleShift and normalize per channel', () => {
      const x = arange([1, 2, 2, 2]);
      expect(Array.from(run(single([1, 2, 2, 2], 'globalAvgPool', { keepDims: true }), x).data)).toEqual([1.5, 5.5]);
      const b = new GraphBuilder();
      const input = b.addInput([1, 2, 2, 2], 'x');
      const shifted = b.addNode({ op: 'scaleShift', inputs: [input], attrs: { numChannels: 2 }, params: { scale: param([2], [2, -1]), shift: param([2], [1, 0]) } });
      const normalized = b.addNode({ op: 'normalize', inputs: [input], attrs: { mean: [1, 2], std: [2, 4] } });
      b.addNode({ op: 'concat', inputs: [shifted, normalized], attrs: {}, name: 'y' });
      const y = run(b.build(['y']), x);
      expect(y.shape).toEqual([1, 4, 2, 2]);
      expect(Array.from(y.data)).toEqual([1, 3, 5, 7, -4, -5, -6, -7, -0.5, 0, 0.5, 1, 0.5, 0.75, 1, 1.25]);
    });
  });
}

describe('norms with mixed statistics against the reference (wasm)', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
  });
  const shape = [4, 4, 3, 2];
  const spatial = 6;
  const x = randomTensor(shape, createRng(40), -1, 3);

  function check(op: OpKind, attrs: unknown, mode: 'eval' | 'train', statsOf: (p: Record<string, ParamTensor>) => ElementStats, scale = 1): void {
    const graph = randomizeParams(single(shape, op as 'identity', attrs as never), 41);
    const params = graph.nodes[1].params as Record<string, ParamTensor>;
    const reference = runReference(graph, { x }, { mode });
    const expected = reference.outputs.y;
    const compiled = compileGraph(graph);
    const xt = toTf(x);
    const out = compiled.run(xt, { mode });
    const bound = normalizationBound(x, expected, statsOf(params), 1e-3, (c) => params.gamma.data[c], (c) => params.beta.data[c]).map((b) => b * scale);
    expectWithin(fromTf(out.y), expected, bound, `${op} ${mode}`);
    for (const [node, stats] of reference.updatedStats) {
      const held = compiled.stats.get(node)!;
      expectClose(held.runningMean.dataSync(), stats.runningMean, 1e-6, 'runningMean');
      expectClose(held.runningVar.dataSync(), stats.runningVar, 1e-6, 'runningVar');
    }
    tf.dispose([xt, out.y]);
    compiled.dispose();
  }

  const byChannel = elementStats(x, (_n, c) => c);
  const byInstance = elementStats(x, (n, c) => n * 4 + c);
  const bySample = elementStats(x, (n) => n);
  const ibnAttrs = { numFeatures: 4, eps: 1e-3, decay: 0.9, unbiasedRunningVar: true, frozen: false, instanceChannels: 2 };

  /** IBN: instance statistics for the first 2 channels, batch (or running) for the rest. */
  const ibnStats = (bn: ElementStats): ElementStats => {
    const pick = (a: Float64Array, b: Float64Array) => a.map((v, i) => (Math.floor(i / spatial) % 4 < 2 ? v : b[i]));
    return {
      mean: pick(byInstance.mean, bn.mean),
      variance: pick(byInstance.variance, bn.variance),
      count: pick(byInstance.count, bn.count),
      meanAbs: pick(byInstance.meanAbs, bn.meanAbs),
    };
  };

  it('ibn in train mode', () => check('ibn', ibnAttrs, 'train', () => ibnStats(byChannel)));
  it('ibn in eval mode', () =>
    check('ibn', ibnAttrs, 'eval', (p) => {
      const running = (a: Float32Array) => Float32Array.from([0, 0, ...a]);
      return ibnStats(runningElementStats(x, running(p.runningMean.data), running(p.runningVar.data).map((v, i) => (i < 2 ? 1 : v))));
    }));

  /** SN mixes the three statistics: the softmax-weighted mean and variance, the largest K. */
  const switchableStats = (p: Record<string, ParamTensor>, bn: ElementStats): ElementStats => {
    const softmax = (l: Float32Array) => {
      const e = Array.from(l, Math.exp);
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    };
    const w = softmax(p.meanWeights.data);
    const v = softmax(p.varWeights.data);
    const parts = [byInstance, bySample, bn];
    return {
      mean: byInstance.mean.map((_, i) => parts.reduce((s, part, k) => s + w[k] * part.mean[i], 0)),
      variance: byInstance.variance.map((_, i) => parts.reduce((s, part, k) => s + v[k] * part.variance[i], 0)),
      count: byChannel.count,
      meanAbs: byInstance.meanAbs.map((_, i) => Math.max(...parts.map((part) => part.meanAbs[i]))),
    };
  };
  const snAttrs = { numFeatures: 4, eps: 1e-3, decay: 0.9, unbiasedRunningVar: false };
  it('switchableNorm in train mode', () => check('switchableNorm', snAttrs, 'train', (p) => switchableStats(p, byChannel)));
  it('switchableNorm in eval mode', () =>
    check('switchableNorm', snAttrs, 'eval', (p) => switchableStats(p, runningElementStats(x, p.runningMean.data, p.runningVar.data))));

  // renorm's output is r * (BN output) + d, r <= rMax: the BN bound scaled by rMax, plus d's rounding
  const renormAttrs = { numFeatures: 4, eps: 1e-3, decay: 0.99, unbiasedRunningVar: true, rMax: 2, dMax: 1, renormDecay: 0.9, warmup: null };
  for (const sigma of ['movingStddev', 'runningVar']) {
    it(`batchRenorm in train mode, sigma ${sigma}`, () => check('batchRenorm', { ...renormAttrs, sigma }, 'train', () => byChannel, renormAttrs.rMax + renormAttrs.dMax));
  }
});
