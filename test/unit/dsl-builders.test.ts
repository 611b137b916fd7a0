/**
 * The DSL builders for the IR's later ops (softmax, the importer's activations, prelu, resampling,
 * reshape, permute, broadcasting merges) and the mobile units (squeezeExcite, mbConv) at run time:
 * each builds the IR node the importer would, its graph runs on the tfjs executor to the float64
 * reference without leaking tensors, and the units' BatchNorms fold away with outputs unchanged.
 * Their type-level shapes are checked in test/types (cases.ts) and against run-time shapes on
 * random programs in test/property/dsl-mirror.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as d from '../../dsl/index.ts';
import { compileGraph } from '../../src/backend/executor.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { foldGraph } from '../../src/fold/engine.ts';
import type { Graph, Shape } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { runReference } from '../../src/reference/run.ts';
import { fromTf, randomTensor, randomizeParams, toTf } from './backend-helpers.ts';

beforeAll(async () => {
  await selectBackend();
});

/** Runs `graph` on the executor and the reference for a random input of `shape`; both outputs. */
function runBoth(graph: Graph, shape: readonly number[]): { ours: Float64Array; reference: Float64Array; outShape: readonly number[] } {
  const x = randomTensor(shape, createRng(3));
  const [input] = graph.inputs;
  const [output] = graph.outputs;
  const reference = runReference(graph, { [input]: x }).outputs[output];
  const before = tf.memory().numTensors;
  const compiled = compileGraph(graph);
  const xt = toTf(x);
  const out = compiled.run(xt);
  const ours = fromTf(out[output]);
  tf.dispose([xt, out[output]]);
  compiled.dispose();
  expect(tf.memory().numTensors).toBe(before);
  expect(ours.shape).toEqual(reference.shape);
  return { ours: Float64Array.from(ours.data), reference: reference.data, outShape: ours.shape };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

type Built = { graph: Graph; shape: Shape; op: string; attrs: unknown };

/** One layer after a 3x3 conv (so the op sees values of both signs); the layer's own node and attrs. */
function afterConv(build: (x: d.Tensor<['N', 4, 6, 6]>) => d.Tensor<d.Shape>, name: string): Built {
  const x = d.input([2, 3, 6, 6] as const, { name: 'x' }).to(d.conv2d({ out: 4, kernel: 3, padding: 1, name: 'c' })) as unknown as d.Tensor<['N', 4, 6, 6]>;
  const y = build(x);
  const { graph } = d.model(y);
  const node = graph.nodes.find((n) => n.name === name);
  if (node === undefined) throw new Error(`no node '${name}'`);
  return { graph: randomizeParams(graph, 5), shape: y.shape, op: node.op, attrs: node.attrs };
}

const CASES: { label: string; built: () => Built; op: string; attrs: unknown; shape: Shape }[] = [
  { label: 'softmax', built: () => afterConv((x) => x.to(d.softmax({ name: 'y' })), 'y'), op: 'softmax', attrs: { axis: 1 }, shape: [2, 4, 6, 6] },
  { label: 'logSoftmax along W', built: () => afterConv((x) => x.to(d.logSoftmax({ axis: 3, name: 'y' })), 'y'), op: 'logSoftmax', attrs: { axis: 3 }, shape: [2, 4, 6, 6] },
  ...(['selu', 'hardSigmoid', 'softplus', 'softsign', 'swish', 'mish', 'gelu'] as const).map((fn) => ({
    label: fn,
    built: () => afterConv((x) => x.to(d[fn]({ name: 'y' })), 'y'),
    op: 'activation',
    attrs: { fn },
    shape: [2, 4, 6, 6],
  })),
  { label: 'gelu tanh', built: () => afterConv((x) => x.to(d.gelu({ approximate: 'tanh', name: 'y' })), 'y'), op: 'activation', attrs: { fn: 'geluTanh' }, shape: [2, 4, 6, 6] },
  { label: 'elu', built: () => afterConv((x) => x.to(d.elu({ alpha: 0.5, name: 'y' })), 'y'), op: 'elu', attrs: { alpha: 0.5 }, shape: [2, 4, 6, 6] },
  { label: 'relu with bound and slope', built: () => afterConv((x) => x.to(d.generalRelu({ maxValue: 0.5, negativeSlope: 0.1, threshold: 0.2, name: 'y' })), 'y'), op: 'generalRelu', attrs: { maxValue: 0.5, negativeSlope: 0.1, threshold: 0.2 }, shape: [2, 4, 6, 6] },
  { label: 'thresholdedRelu', built: () => afterConv((x) => x.to(d.thresholdedRelu({ theta: 0.3, name: 'y' })), 'y'), op: 'generalRelu', attrs: { maxValue: null, negativeSlope: 0, threshold: 0.3 }, shape: [2, 4, 6, 6] },
  { label: 'prelu shared over H, W', built: () => afterConv((x) => x.to(d.prelu({ sharedAxes: [2, 3], name: 'y' })), 'y'), op: 'prelu', attrs: { alphaShape: [4, 1, 1] }, shape: [2, 4, 6, 6] },
  { label: 'prelu element-wise', built: () => afterConv((x) => x.to(d.prelu({ name: 'y' })), 'y'), op: 'prelu', attrs: { alphaShape: [4, 6, 6] }, shape: [2, 4, 6, 6] },
  { label: 'upsample2d bilinear', built: () => afterConv((x) => x.to(d.upsample2d({ scale: [2, 3], interpolation: 'bilinear', name: 'y' })), 'y'), op: 'upsample2d', attrs: { scale: [2, 3], interpolation: 'bilinear' }, shape: [2, 4, 12, 18] },
  { label: 'resize2d nearest', built: () => afterConv((x) => x.to(d.resize2d({ size: [4, 9], name: 'y' })), 'y'), op: 'resize2d', attrs: { size: [4, 9], interpolation: 'nearest', alignCorners: false }, shape: [2, 4, 4, 9] },
  { label: 'reshape with -1', built: () => afterConv((x) => x.to(d.reshape({ shape: [8, -1, 3], name: 'y' })), 'y'), op: 'reshape', attrs: { shape: [8, 6, 3] }, shape: [2, 8, 6, 3] },
  { label: 'permute to NHWC', built: () => afterConv((x) => x.to(d.permute({ dims: [2, 3, 1], name: 'y' })), 'y'), op: 'transpose', attrs: { perm: [0, 2, 3, 1] }, shape: [2, 6, 6, 4] },
  { label: 'repeatVector', built: () => afterConv((x) => x.to(d.globalMaxPool()).to(d.repeatVector({ times: 3, name: 'y' })), 'y'), op: 'repeatVector', attrs: { times: 3 }, shape: [2, 4, 3] },
  { label: 'layerNorm with its normalized shape', built: () => afterConv((x) => x.to(d.layerNorm({ normalizedShape: [4, 6, 6], name: 'y' })), 'y'), op: 'layerNorm', attrs: { normalizedShape: [4, 6, 6], over: 'chw', eps: 1e-5, affine: true }, shape: [2, 4, 6, 6] },
  ...(['multiply', 'subtract', 'maximum', 'minimum', 'average'] as const).map((fn) => ({
    label: `${fn} by a broadcast [N, C, 1, 1]`,
    built: () => afterConv((x) => (d[fn] as typeof d.multiply)(x, x.to(d.globalAvgPool({ keepDims: true })), { name: 'y' }), 'y'),
    op: 'merge',
    attrs: { fn },
    shape: [2, 4, 6, 6] as Shape,
  })),
  { label: 'concat along the width', built: () => afterConv((x) => d.concat(x, x.to(d.relu()), { axis: 3, name: 'y' }), 'y'), op: 'concatAxis', attrs: { axis: 3 }, shape: [2, 4, 6, 12] },
  { label: 'multiply by a rank-2 gate', built: () => afterConv((x) => d.multiply(x, x.to(d.globalAvgPool()).to(d.sigmoid()), { name: 'y' }), 'y'), op: 'merge', attrs: { fn: 'multiply' }, shape: [2, 4, 6, 6] },
];

describe('DSL builders for the IR ops: the node the importer reads, run to the reference', () => {
  it.each(CASES.map((c) => [c.label, c] as const))('%s', (_label, c) => {
    const built = c.built();
    expect(built.op).toBe(c.op);
    expect(built.attrs).toEqual(c.attrs);
    expect(built.shape).toEqual(c.shape);
    const { ours, reference, outShape } = runBoth(built.graph, [2, 3, 6, 6]);
    expect(outShape).toEqual(c.shape);
    expectClose(ours, reference);
  });

  it('the run time refuses what the compiler refuses, in the same words', () => {
    const x = d.input(['N', 16, 'H', 'W']);
    expect(() => x.to(d.reshape({ shape: [16, -1] }) as never)).toThrow('reshape: cannot reshape 16*H*W values per sample into [16, -1]: -1 needs a literal size');
    expect(() => x.to(d.prelu({ name: 'p' }) as never)).toThrow("prelu 'p': input dim 2 (H) H must be a literal size to create parameters, or a shared axis");
    expect(() => x.to(d.permute({ dims: [1, 2] }) as never)).toThrow('permute: dims [1, 2] must be a permutation of 1..3 for a rank-4 input');
    const y = d.input(['N', 8, 4, 4]);
    expect(() => (d.multiply as (...a: unknown[]) => unknown)(y, y.to(d.conv2d({ out: 4, kernel: 1 })))).toThrow(
      'multiply: inputs do not broadcast at dim 1 (C): 8 vs 4',
    );
    expect(() => (d.subtract as (...a: unknown[]) => unknown)(y, y, y)).toThrow('subtract: takes exactly 2 inputs, got 3');
    expect(() => d.reshape({ shape: [-1, -1] } as never)).not.toThrow();
    expect(() => y.to(d.reshape({ shape: [-1, -1] }) as never)).toThrow('reshape: shape [-1, -1] may hold one -1');
  });

  it('refuses an option a builder does not have, as a JavaScript caller passes it', () => {
    const call = (build: (...a: never[]) => unknown, ...args: unknown[]) => () => (build as (...a: unknown[]) => unknown)(...args);
    expect(call(d.input, ['N', 3], { nmae: 'x' })).toThrow("input: unknown option 'nmae' (options: name, scope)");
    expect(call(d.leakyRelu, { alpha: 0.1, slope: 0.2 })).toThrow("leakyRelu: unknown option 'slope' (options: alpha, name)");
    expect(call(d.conv2d, { out: 8, kernel: 3, filters: 8 })).toThrow("conv2d: unknown option 'filters' (options: in, out, kernel, stride, padding, dilation, groups, bias, name)");
    const y = d.input(['N', 8, 4, 4]);
    expect(call(d.add, y, y, { name: 'sum', axis: 1 })).toThrow("add: unknown option 'axis' (options: name)");
    expect(call(d.flatten, { nam: 'f' })).toThrow("flatten: unknown option 'nam' (options: name)");
  });
});

describe('squeezeExcite and mbConv', () => {
  const opsOf = (g: Graph) => g.nodes.map((n) => `${n.name}:${n.op}`);

  it('squeezeExcite: pool, reduce, act, expand, gate, and the channel-wise product', () => {
    const y = d.input([2, 8, 5, 5] as const, { name: 'x' }).to(d.squeezeExcite({ squeeze: 2, name: 'se' }));
    const shape: [2, 8, 5, 5] = y.shape;
    expect(shape).toEqual([2, 8, 5, 5]);
    const { graph } = d.model(y);
    expect(opsOf(graph)).toEqual(['x:input', 'se.squeeze:globalAvgPool', 'se.reduce:conv2d', 'se.act:relu', 'se.expand:conv2d', 'se.gate:sigmoid', 'se.excite:merge']);
    const { ours, reference } = runBoth(randomizeParams(graph, 2), [2, 8, 5, 5]);
    expectClose(ours, reference);
  });

  it('mbConv with expansion and squeeze-excite, stride 1: a residual unit whose three BNs fold', () => {
    const x = d.input([2, 8, 7, 7] as const, { name: 'x' });
    const y = x.to(d.mbConv({ out: 8, expand: 4, kernel: 5, squeeze: 2, name: 'b1' }));
    const shape: [2, 8, 7, 7] = y.shape;
    expect(shape).toEqual([2, 8, 7, 7]);
    const graph = randomizeParams(d.model(y).graph, 11);
    expect(opsOf(graph)).toEqual([
      'x:input',
      'b1.expand:conv2d', 'b1.expand_bn:batchNorm', 'b1.expand_act:activation',
      'b1.dw:conv2d', 'b1.dw_bn:batchNorm', 'b1.dw_act:activation',
      'b1.se.squeeze:globalAvgPool', 'b1.se.reduce:conv2d', 'b1.se.act:activation', 'b1.se.expand:conv2d', 'b1.se.gate:sigmoid', 'b1.se.excite:merge',
      'b1.project:conv2d', 'b1.project_bn:batchNorm',
      'b1.add:add',
    ]);
    const dw = graph.nodes.find((n) => n.name === 'b1.dw');
    expect(dw?.attrs).toMatchObject({ inChannels: 32, outChannels: 32, groups: 32, kernel: [5, 5], padding: [2, 2, 2, 2], bias: false });
    const { graph: folded, report } = foldGraph(graph);
    expect(report.folds.map((f) => f.matched.map((m) => m.name).join(' -> '))).toEqual(['b1.expand -> b1.expand_bn', 'b1.dw -> b1.dw_bn', 'b1.project -> b1.project_bn']);
    expect(folded.nodes.filter((n) => n.op === 'batchNorm')).toEqual([]);
    const before = runBoth(graph, [2, 8, 7, 7]);
    const after = runBoth(folded, [2, 8, 7, 7]);
    expectClose(after.ours, before.reference);
    expectClose(after.reference, before.reference, 1e-5);
  });

  it('mbConv without expansion, stride 2 and new channels (MobileNetV2, relu6): no residual, two BNs fold', () => {
    const y = d.input([1, 16, 9, 9] as const, { name: 'x' }).to(d.mbConv({ out: 24, expand: 1, stride: 2, activation: 'relu6', name: 'b2' }));
    const shape: [1, 24, 5, 5] = y.shape;
    expect(shape).toEqual([1, 24, 5, 5]);
    const graph = randomizeParams(d.model(y).graph, 12);
    expect(opsOf(graph)).toEqual(['x:input', 'b2.dw:conv2d', 'b2.dw_bn:batchNorm', 'b2.dw_act:relu6', 'b2.project:conv2d', 'b2.project_bn:batchNorm']);
    const { graph: folded, report } = foldGraph(graph);
    expect(report.folds).toHaveLength(2);
    expect(folded.nodes.map((n) => n.op)).toEqual(['input', 'conv2d', 'relu6', 'conv2d']);
    expectClose(runBoth(folded, [1, 16, 9, 9]).ours, runBoth(graph, [1, 16, 9, 9]).reference);
  });

  it('a stack of mbConvs on symbolic sizes builds an EfficientNet-like trunk', () => {
    const y = d
      .input(['N', 3, 'H', 'W'])
      .to(d.conv2d({ out: 16, kernel: 3, stride: 2, padding: 1, bias: false }))
      .to(d.batchNorm())
      .to(d.swish())
      .to(d.mbConv({ out: 16, expand: 1, squeeze: 4 }))
      .to(d.mbConv({ out: 24, stride: 2, squeeze: 4 }))
      .to(d.mbConv({ out: 24, kernel: 5, squeeze: 6 }))
      .to(d.globalAvgPool())
      .to(d.linear({ out: 10 }))
      .to(d.softmax());
    const shape: ['N', 10] = y.shape;
    expect(shape).toEqual(['N', 10]);
    expect(d.model(y).graph.nodes.filter((n) => n.op === 'add')).toHaveLength(2);
  });
});

describe('dropout', () => {
  it('refuses at run time what the compiler refuses, in the same words', () => {
    expect(() => d.input(['N', 8, 4, 4]).to(d.dropout({ rate: 1, name: 'dr' }) as never)).toThrow("dropout 'dr': dropout rate 1 must be below 1");
    expect(() => d.input(['N', 8]).to(d.dropout({ rate: 0.1, kind: 'spatialDropout', name: 'sd' }) as never)).toThrow(
      "dropout 'sd': spatialDropout expects a rank-3 or rank-4 input, got rank 2",
    );
  });
});
