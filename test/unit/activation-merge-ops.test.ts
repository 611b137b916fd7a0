/**
 * The activation, softmax, merge, concat-on-any-axis and dropout ops: float64 reference values
 * checked by hand or against closed forms, the tfjs executor against the reference on wasm and cpu
 * (eval mode), the dropout family's train-mode noise against Keras' statistics, gradients through
 * every new op, and run-time shape errors.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/backend/executor.ts';
import { selectBackend, type BackendName } from '../../src/backend/select.ts';
import { fit } from '../../src/backend/train.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { AttrsByOp, Graph, OpKind } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { inferNodeShape } from '../../src/ir/shapes.ts';
import { activation, erf } from '../../src/reference/ops/activation.ts';
import { concatAlong } from '../../src/reference/ops/concat.ts';
import { elu } from '../../src/reference/ops/elu.ts';
import { generalRelu } from '../../src/reference/ops/generalRelu.ts';
import { merge } from '../../src/reference/ops/merge.ts';
import { prelu } from '../../src/reference/ops/prelu.ts';
import { logSoftmax, softmax } from '../../src/reference/ops/softmax.ts';
import { runReference } from '../../src/reference/run.ts';
import type { Float64Tensor } from '../../src/reference/tensor.ts';
import { expectClose, fromTf, randomTensor, toTf } from './backend-helpers.ts';
import { t64 } from './reference-fixtures.ts';

const values = (x: Float64Tensor) => Array.from(x.data);

describe('reference values', () => {
  it('erf matches tabulated values to float64 rounding, through the series and the continued fraction', () => {
    const table: [number, number][] = [[0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [1.5, 0.9661051464753108], [2.9, 0.9999589021219005], [3.5, 0.9999992569016276], [-1, -0.8427007929497149]];
    for (const [x, expected] of table) expect(Math.abs(erf(x) - expected), `erf(${x})`).toBeLessThan(2e-15);
  });

  it('each ActivationFn at known points', () => {
    const at = (fn: AttrsByOp['activation']['fn'], x: number) => activation(t64([1], [x]), fn).data[0];
    expect(at('gelu', 1)).toBeCloseTo(0.8413447460685429, 15);
    expect(at('geluTanh', 1)).toBeCloseTo(0.8411919906082768, 15);
    expect([-3, 0, 1, 3].map((x) => at('hardSigmoid', x))).toEqual([0, 0.5, 0.7, 1]);
    expect(at('selu', -1)).toBeCloseTo(1.0507009873554805 * 1.6732632423543772 * (Math.exp(-1) - 1), 15);
    expect(at('selu', 2)).toBeCloseTo(2 * 1.0507009873554805, 15);
    expect([at('softplus', -800), at('softplus', 0), at('softplus', 800)]).toEqual([0, Math.LN2, 800]);
    expect(at('softsign', 3)).toBe(0.75);
    expect(at('swish', 2)).toBeCloseTo(2 / (1 + Math.exp(-2)), 15);
    expect(at('mish', 1)).toBeCloseTo(0.8650983882673103, 15);
  });

  it('elu, generalRelu (Keras ReLU with every option) and ThresholdedReLU, piecewise', () => {
    const x = t64([6], [-2, -0.5, 0, 0.3, 1, 5]);
    expect(values(elu(x, 0.5))).toEqual([-2, -0.5, 0, 0.3, 1, 5].map((v) => (v > 0 ? v : 0.5 * Math.expm1(v))));
    expect(values(generalRelu(x, { maxValue: 2, negativeSlope: 0.1, threshold: 0.5 }))).toEqual([-0.25, -0.1, -0.05, -0.020000000000000004, 1, 2]);
    expect(values(generalRelu(x, { maxValue: null, negativeSlope: 0, threshold: 0.3 }))).toEqual([-0, -0, -0, 0, 1, 5]);
  });

  it('prelu reads alpha per channel and position, shared where alpha has a 1', () => {
    const x = t64([1, 2, 1, 2], [-1, -2, -3, 4]);
    expect(values(prelu(x, { alpha: t64([2, 1, 1], [0.5, 0.25]) }))).toEqual([-0.5, -1, -0.75, 4]);
    expect(values(prelu(x, { alpha: t64([2, 1, 2], [1, 2, 3, 4]) }))).toEqual([-1, -4, -9, 4]);
    expect(() => prelu(x, { alpha: t64([3, 1, 1], [1, 2, 3]) })).toThrow(/does not broadcast/);
  });

  it('softmax sums to one along its axis, is shift-invariant, and logSoftmax is its log', () => {
    const rng = createRng(4);
    const x = randomTensor([2, 3, 4, 5], rng, -50, 50);
    for (const axis of [1, 2, 3]) {
      const y = softmax(x, axis);
      const sums = new Map<string, number>();
      y.data.forEach((v, i) => {
        const index = [Math.floor(i / 60), Math.floor(i / 20) % 3, Math.floor(i / 5) % 4, i % 5];
        index[axis] = 0;
        sums.set(index.join(), (sums.get(index.join()) ?? 0) + v);
      });
      for (const s of sums.values()) expect(s).toBeCloseTo(1, 13);
      expectClose(values(logSoftmax(x, axis)), values(y).map(Math.log), 1e-12);
      expectClose(values(softmax({ shape: x.shape, data: x.data.map((v) => v + 700) }, axis)), values(y), 1e-12);
    }
  });

  it('merge broadcasts like Keras: squeeze-excite [N,C,H,W] * [N,C,1,1], and [N,C] against [N,C,H,W]', () => {
    const image = t64([1, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(values(merge([image, t64([1, 2, 1, 1], [10, 100])], 'multiply'))).toEqual([10, 20, 30, 40, 500, 600, 700, 800]);
    expect(values(merge([t64([1, 2], [10, 100]), image], 'subtract'))).toEqual([9, 8, 7, 6, 95, 94, 93, 92]);
    expect(values(merge([image, t64([1, 2, 2, 2], [8, 7, 6, 5, 4, 3, 2, 1]), t64([1, 2], [0, 9])], 'average'))).toEqual([3, 3, 3, 3, 6, 6, 6, 6]);
    expect(values(merge([image, t64([1, 2, 1, 2], [2, 2, 6, 6])], 'maximum'))).toEqual([2, 2, 3, 4, 6, 6, 7, 8]);
    expect(values(merge([image, t64([1, 2, 1, 2], [2, 2, 6, 6])], 'minimum'))).toEqual([1, 2, 2, 2, 5, 6, 6, 6]);
    expect(() => merge([image, t64([2, 2, 1, 1], [1, 2, 3, 4])], 'add')).toThrow(/of shape \[1, 2, 2, 2\] does not broadcast to \[2, 2, 2, 2\] at dim 0/);
  });

  it('concat along H and W keeps the other axes', () => {
    const a = t64([1, 1, 1, 2], [1, 2]);
    const b = t64([1, 1, 2, 2], [3, 4, 5, 6]);
    expect(values(concatAlong([a, b], 2))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(values(concatAlong([b, b], 3))).toEqual([3, 4, 3, 4, 5, 6, 5, 6]);
  });
});

describe('run-time shapes', () => {
  const infer = <K extends OpKind>(op: K, attrs: AttrsByOp[K], ...inputs: (number | string)[][]) =>
    inferNodeShape({ name: 'n', op, attrs, inputs: inputs.map((_, i) => `x${i}`), params: {} } as never, inputs);

  it('merge: Keras broadcasting, symbolic dims, and the dim that does not broadcast', () => {
    expect(infer('merge', { fn: 'multiply' }, ['N', 8, 'H', 'W'], ['N', 8, 1, 1])).toEqual(['N', 8, 'H', 'W']);
    expect(infer('merge', { fn: 'add' }, ['N', 8], ['N', 8, 4, 4], ['N', 1, 1, 4])).toEqual(['N', 8, 4, 4]);
    expect(infer('merge', { fn: 'maximum' }, [2, 3, 1], [2, 1, 5])).toEqual([2, 3, 5]);
    expect(() => infer('merge', { fn: 'add' }, ['N', 8, 'H', 'W'], ['N', 8, 3, 'W'])).toThrow("merge 'n': inputs do not broadcast at dim 2 (H): H vs 3");
    expect(() => infer('merge', { fn: 'add' }, [1, 8], [2, 8])).toThrow("merge 'n': inputs do not broadcast at dim 0 (N): 1 vs 2");
    expect(() => infer('merge', { fn: 'subtract' }, [1, 8], [1, 8], [1, 8])).toThrow("merge 'n': subtract takes exactly 2 inputs, got 3");
    expect(() => infer('merge', { fn: 'add' }, [1, 8])).toThrow("merge 'n': needs at least 2 inputs, got 1");
  });

  it('prelu, softmax, concatAxis and dropout check their attrs against the input', () => {
    expect(infer('prelu', { alphaShape: [8, 1, 1] }, ['N', 8, 'H', 'W'])).toEqual(['N', 8, 'H', 'W']);
    expect(() => infer('prelu', { alphaShape: [8, 5, 1] }, ['N', 8, 'H', 'W'])).toThrow("prelu 'n': alpha has size 5 at dim 2 (H), the input H; it must be equal or 1 (shared)");
    expect(() => infer('prelu', { alphaShape: [8] }, ['N', 8, 4, 4])).toThrow(/alpha has rank 1 \(\[8\]\); a rank-4 input needs rank 3/);
    expect(() => infer('softmax', { axis: 4 }, ['N', 8, 4, 4])).toThrow("softmax 'n': axis 4 is outside a rank-4 input [N, C, H, W]");
    expect(() => infer('softmax', { axis: 0 }, ['N', 8])).toThrow("softmax 'n': attrs.axis must be an axis >= 1 (axis 0 is the batch), got 0");
    expect(infer('concatAxis', { axis: 2 }, ['N', 3, 'H', 5], ['N', 3, 4, 5])).toEqual(['N', 3, 'H+4', 5]);
    expect(() => infer('concatAxis', { axis: 2 }, ['N', 3, 4, 5], ['N', 3, 4, 6])).toThrow("concatAxis 'n': inputs differ at dim 3 (W): 5 vs 6");
    expect(() => infer('dropout', { kind: 'dropout', rate: 1 }, ['N', 3])).toThrow("dropout 'n': dropout rate 1 must be below 1");
    expect(infer('dropout', { kind: 'gaussianNoise', rate: 2.5 }, ['N', 3])).toEqual(['N', 3]);
    expect(() => infer('activation', { fn: 'exp' as never }, ['N', 3])).toThrow(/attrs.fn must be one of 'selu', 'gelu'/);
  });
});

type Spec = { readonly op: OpKind; readonly attrs: object; readonly shapes: number[][]; readonly params?: Record<string, number[]> };

const SPECS: readonly Spec[] = [
  ...(['selu', 'gelu', 'geluTanh', 'hardSigmoid', 'softplus', 'softsign', 'swish', 'mish'] as const).map((fn) => ({ op: 'activation' as const, attrs: { fn }, shapes: [[2, 3, 4, 5]] })),
  { op: 'elu', attrs: { alpha: 1 }, shapes: [[2, 3, 4, 5]] },
  { op: 'elu', attrs: { alpha: 0.4 }, shapes: [[2, 6]] },
  { op: 'generalRelu', attrs: { maxValue: 0.8, negativeSlope: 0.2, threshold: 0.1 }, shapes: [[2, 3, 4, 5]] },
  { op: 'generalRelu', attrs: { maxValue: null, negativeSlope: 0, threshold: -0.2 }, shapes: [[2, 3, 4, 5]] },
  { op: 'prelu', attrs: { alphaShape: [3, 1, 5] }, shapes: [[2, 3, 4, 5]], params: { alpha: [3, 1, 5] } },
  { op: 'prelu', attrs: { alphaShape: [6] }, shapes: [[2, 6]], params: { alpha: [6] } },
  { op: 'softmax', attrs: { axis: 1 }, shapes: [[2, 3, 4, 5]] },
  { op: 'softmax', attrs: { axis: 2 }, shapes: [[2, 3, 4, 5]] },
  { op: 'logSoftmax', attrs: { axis: 3 }, shapes: [[2, 3, 4, 5]] },
  { op: 'logSoftmax', attrs: { axis: 1 }, shapes: [[2, 6]] },
  { op: 'merge', attrs: { fn: 'multiply' }, shapes: [[2, 3, 4, 5], [2, 3, 1, 1]] },
  { op: 'merge', attrs: { fn: 'subtract' }, shapes: [[2, 3], [2, 3, 4, 5]] },
  { op: 'merge', attrs: { fn: 'average' }, shapes: [[2, 3, 4, 5], [2, 3, 4, 5], [2, 1, 1, 5]] },
  { op: 'merge', attrs: { fn: 'maximum' }, shapes: [[2, 3, 4, 5], [2, 3, 1, 5]] },
  { op: 'merge', attrs: { fn: 'minimum' }, shapes: [[2, 3, 4, 5], [2, 3]] },
  { op: 'merge', attrs: { fn: 'add' }, shapes: [[2, 3, 4, 5], [2, 3, 4, 1], [2, 3, 1, 1]] },
  { op: 'concatAxis', attrs: { axis: 2 }, shapes: [[2, 3, 4, 5], [2, 3, 2, 5]] },
  { op: 'concatAxis', attrs: { axis: 3 }, shapes: [[2, 3, 4, 5], [2, 3, 4, 1]] },
  ...(['dropout', 'spatialDropout', 'gaussianDropout', 'gaussianNoise', 'alphaDropout'] as const).map((kind) => ({ op: 'dropout' as const, attrs: { kind, rate: 0.3 }, shapes: [[2, 3, 4, 5]] })),
];

function specGraph(spec: Spec, seed: number): Graph {
  const b = new GraphBuilder({ seed });
  const inputs = spec.shapes.map((shape, i) => b.addInput(shape, `x${i}`));
  const rng = createRng(seed);
  const params = Object.fromEntries(Object.entries(spec.params ?? {}).map(([k, shape]) => [k, { shape, data: Float32Array.from(randomTensor(shape, rng, -1, 1).data) }]));
  b.addNode({ op: spec.op, inputs, attrs: spec.attrs, name: 'y', params } as never);
  return b.build(['y']);
}

const label = (s: Spec) => `${s.op} ${JSON.stringify(s.attrs)} on ${s.shapes.map((x) => `[${x.join(', ')}]`).join(' and ')}`;

for (const backend of ['wasm', 'cpu'] as BackendName[]) {
  describe(`executor against the reference on ${backend}`, () => {
    beforeAll(async () => {
      await selectBackend({ backend });
    });

    it.each(SPECS.map((s) => [label(s), s] as const))('%s', (_name, spec) => {
      const graph = specGraph(spec, 3);
      const rng = createRng(8);
      const xs = spec.shapes.map((shape) => randomTensor(shape, rng, -4, 4));
      const expected = runReference(graph, Object.fromEntries(xs.map((x, i) => [`x${i}`, x]))).outputs.y;
      const before = tf.memory().numTensors;
      const net = compileGraph(graph);
      const feeds = Object.fromEntries(xs.map((x, i) => [`x${i}`, toTf(x)]));
      const out = net.run(feeds);
      const actual = fromTf(out.y);
      tf.dispose([...Object.values(feeds), out.y]);
      net.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(actual.shape).toEqual(expected.shape);
      // tfjs' erf is Abramowitz-Stegun 7.1.26 (|error| <= 1.5e-7); everything else is float32 rounding.
      expectClose(actual.data, expected.data, 2e-6, label(spec));
    });
  });
}

describe('train mode', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });

  const noisy = (kind: AttrsByOp['dropout']['kind'], rate: number, shape: number[], x: (i: number) => number) => {
    const graph = specGraph({ op: 'dropout', attrs: { kind, rate }, shapes: [shape] }, 1);
    const net = compileGraph(graph);
    const size = shape.reduce((p, d) => p * d, 1);
    const input = tf.tensor(Float32Array.from({ length: size }, (_, i) => x(i)), shape);
    const evalOut = net.run(input);
    const trainOut = net.run(input, { mode: 'train' });
    const result = { eval: evalOut.y.dataSync() as Float32Array, train: trainOut.y.dataSync() as Float32Array };
    tf.dispose([input, evalOut.y, trainOut.y]);
    net.dispose();
    return result;
  };
  const mean = (v: ArrayLike<number>) => Array.from(v).reduce((s, a) => s + a, 0) / v.length;
  const variance = (v: ArrayLike<number>) => mean(Array.from(v, (a) => (a - mean(v)) ** 2));

  it('dropout zeroes a rate fraction and scales the rest by 1/(1-rate); eval is the identity', () => {
    const { eval: e, train: t } = noisy('dropout', 0.25, [40, 10, 5, 5], () => 1);
    expect(Array.from(e).every((v) => v === 1)).toBe(true);
    const zeros = Array.from(t).filter((v) => v === 0).length / t.length;
    expect(zeros).toBeGreaterThan(0.22);
    expect(zeros).toBeLessThan(0.28);
    expect(Array.from(t).every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
  });

  it('spatialDropout drops whole feature maps (one decision per sample and channel)', () => {
    const { train: t } = noisy('spatialDropout', 0.5, [20, 8, 3, 3], () => 1);
    let dropped = 0;
    for (let m = 0; m < 20 * 8; m++) {
      const map = Array.from(t.subarray(m * 9, (m + 1) * 9));
      expect(new Set(map).size, `map ${m}`).toBe(1);
      if (map[0] === 0) dropped++;
    }
    expect(dropped).toBeGreaterThan(50);
    expect(dropped).toBeLessThan(110);
  });

  it('gaussianNoise adds N(0, rate^2); gaussianDropout multiplies by N(1, rate/(1-rate))', () => {
    const added = noisy('gaussianNoise', 0.5, [100, 100], () => 2).train;
    expect(mean(added)).toBeCloseTo(2, 1);
    expect(Math.sqrt(variance(added))).toBeCloseTo(0.5, 1);
    const scaled = noisy('gaussianDropout', 0.2, [100, 100], () => 2).train;
    expect(mean(scaled)).toBeCloseTo(2, 1);
    expect(Math.sqrt(variance(scaled))).toBeCloseTo(2 * Math.sqrt(0.2 / 0.8), 1);
  });

  it('alphaDropout keeps zero mean and unit variance of standard normal inputs', () => {
    const rng = createRng(2);
    const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const t = noisy('alphaDropout', 0.2, [100, 100], normal).train;
    expect(Math.abs(mean(t))).toBeLessThan(0.05);
    expect(variance(t)).toBeCloseTo(1, 1);
  });

  it('fit trains through every new op: PReLU alpha and the conv before a merge both change, no tensor leaks', async () => {
    const b = new GraphBuilder({ seed: 5 });
    const x = b.addInput(['N', 2, 3, 3], 'x');
    const conv = b.addNode({ op: 'conv2d', inputs: [x], name: 'conv', attrs: { inChannels: 2, outChannels: 3, kernel: [3, 3], stride: [1, 1], padding: 'same', dilation: [1, 1], groups: 1, bias: true } });
    const p = b.addNode({ op: 'prelu', inputs: [conv], name: 'p', attrs: { alphaShape: [3, 1, 1] }, params: { alpha: { shape: [3, 1, 1], data: Float32Array.of(0.1, 0.2, 0.3) } } });
    let y = b.addNode({ op: 'activation', inputs: [p], name: 'g', attrs: { fn: 'gelu' } });
    y = b.addNode({ op: 'dropout', inputs: [y], name: 'd', attrs: { kind: 'dropout', rate: 0.1 } });
    y = b.addNode({ op: 'merge', inputs: [y, conv], name: 'm', attrs: { fn: 'multiply' } });
    y = b.addNode({ op: 'concatAxis', inputs: [y, y], name: 'cat', attrs: { axis: 2 } });
    y = b.addNode({ op: 'flatten', inputs: [y], name: 'f', attrs: {} });
    y = b.addNode({ op: 'linear', inputs: [y], name: 'fc', attrs: { inFeatures: 54, outFeatures: 2, bias: true } });
    y = b.addNode({ op: 'logSoftmax', inputs: [y], name: 'out', attrs: { axis: 1 } });
    const net = compileGraph(b.build([y]));
    const alphaBefore = Array.from((net.variables.get('p.alpha') as tf.Variable).dataSync());
    const data = { x: tf.randomNormal([8, 2, 3, 3], 0, 1, 'float32', 1), y: tf.randomNormal([8, 2], 0, 1, 'float32', 2) };
    const before = tf.memory().numTensors;
    await fit(net, data, { epochs: 2, batchSize: 4, optimizer: 'sgd', learningRate: 0.1, loss: 'mse', verbose: false } as never);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from((net.variables.get('p.alpha') as tf.Variable).dataSync())).not.toEqual(alphaBefore);
    tf.dispose([data.x, data.y]);
    net.dispose();
  });
});
