/**
 * conv2d with tapBias: the tfjs executor (float32) against the float64 reference, on wasm (rank-1
 * fused bias + a separate bias-map add) and cpu (the bias map fused), fused or not, eval and
 * train, plain, depthwise and grouped. The bound is gamma_D * M as in backend-vs-reference, with
 * D counting the kH*kW tap terms and the two extra additions of the bias map.
 * Then: tapBias trains (its variable moves and exportGraph writes it back) and nothing leaks.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/backend/executor.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { fit } from '../../src/backend/train.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { AttrsByOp, Graph, OpKind, Padding2d, ParamTensor, Shape } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { runReference } from '../../src/reference/run.ts';
import type { Float64Tensor } from '../../src/reference/tensor.ts';
import { absoluteGraph, expectWithin, fromTf, gamma, randomTensor, randomizeParams, toTf } from '../unit/backend-helpers.ts';

type Mode = 'eval' | 'train';
const pair = (max: number, min = 1) => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }));

const tapCase = fc
  .record({
    groupsKind: fc.constantFrom('standard', 'depthwise', 'grouped'),
    channels: fc.integer({ min: 1, max: 2 }),
    outPerGroup: fc.integer({ min: 1, max: 2 }),
    kernel: pair(3),
    stride: pair(2),
    dilation: pair(2),
    padding: fc.oneof(
      fc.constantFrom<Padding2d>('same', 'valid'),
      fc.tuple(...[0, 1, 2, 3].map(() => fc.integer({ min: 0, max: 2 }))) as fc.Arbitrary<[number, number, number, number]>,
    ),
    bias: fc.boolean(),
    extra: pair(4, 0),
    activation: fc.constantFrom<OpKind | 'none'>('none', 'relu', 'relu6', 'leakyRelu'),
    mode: fc.constantFrom<Mode>('eval', 'train'),
    fuse: fc.boolean(),
    seed: fc.nat(),
  })
  .map((c) => {
    const groups = c.groupsKind === 'standard' ? 1 : c.groupsKind === 'depthwise' ? c.channels + 1 : 2;
    const inChannels = c.groupsKind === 'depthwise' ? groups : groups * c.channels;
    const attrs: AttrsByOp['conv2d'] = {
      inChannels,
      outChannels: groups * c.outPerGroup,
      kernel: c.kernel,
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      groups,
      bias: c.bias,
    };
    const size = (axis: 0 | 1) => c.dilation[axis] * (c.kernel[axis] - 1) + 1 + c.extra[axis];
    return { ...c, attrs, shape: [2, inChannels, size(0), size(1)] };
  });

function tapGraph(c: { attrs: AttrsByOp['conv2d']; shape: Shape; activation: OpKind | 'none'; seed: number }): Graph {
  const b = new GraphBuilder({ seed: c.seed });
  const x = b.addInput(c.shape, 'x');
  // Zeros here; randomizeParams draws every param, tapBias included.
  const tapBias: ParamTensor = {
    shape: [c.attrs.outChannels, ...c.attrs.kernel],
    data: new Float32Array(c.attrs.outChannels * c.attrs.kernel[0] * c.attrs.kernel[1]),
  };
  let y = b.addNode({ op: 'conv2d', inputs: [x], attrs: c.attrs, params: { tapBias }, name: 'conv' });
  if (c.activation !== 'none') {
    y = b.addNode({ op: c.activation, inputs: [y], attrs: (c.activation === 'leakyRelu' ? { alpha: 0.2 } : {}) as never, name: 'act' });
  }
  return randomizeParams(b.build([y]), c.seed + 1);
}

function checkAgainstReference(graph: Graph, x: Float64Tensor, mode: Mode, fuse: boolean): void {
  const before = tf.memory().numTensors;
  const compiled = compileGraph(graph, { fuse });
  const xt = toTf(x);
  const out = compiled.run(xt, { mode });
  const name = graph.outputs[0];
  const got = fromTf(out[name]);
  tf.dispose([xt, ...Object.values(out)]);
  compiled.dispose();
  expect(tf.memory().numTensors).toBe(before);

  const expected = runReference(graph, { x }, { mode }).outputs[name];
  const magnitude = runReference(absoluteGraph(graph), { x: { shape: x.shape, data: x.data.map(Math.abs) } }).outputs[name];
  const conv = graph.nodes[1] as Extract<Graph['nodes'][number], { op: 'conv2d' }>;
  const { kernel, inChannels, groups } = conv.attrs;
  const taps = kernel[0] * kernel[1];
  const depth = (inChannels / groups) * taps + 1 + taps + 2;
  expectWithin(got, expected, magnitude.data.map((m) => gamma(depth) * m), name);
}

function runCases(numRuns: number): void {
  fc.assert(
    fc.property(tapCase, (c) => {
      const graph = tapGraph(c);
      checkAgainstReference(graph, randomTensor(c.shape, createRng(c.seed + 2), -2, 2), c.mode, c.fuse);
    }),
    { numRuns },
  );
}

describe('tapBias: executor matches the float64 reference', () => {
  it('on wasm (rank-1 fused bias plus the bias map added before the activation)', async () => {
    await selectBackend({ backend: 'wasm' });
    runCases(120);
  });

  it('on cpu (the bias map fused into the kernel)', async () => {
    await selectBackend({ backend: 'cpu' });
    runCases(60);
  });
});

describe('tapBias trains', () => {
  it('is a variable that fit() moves; exportGraph writes it back; nothing leaks', async () => {
    await selectBackend({ backend: 'wasm' });
    const shape = [4, 2, 5, 5];
    const graph = tapGraph({
      attrs: { inChannels: 2, outChannels: 3, kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1, bias: true },
      shape: ['N', 2, 5, 5],
      activation: 'relu',
      seed: 5,
    });
    const tapBefore = (graph.nodes[1].params as Record<string, ParamTensor>).tapBias.data;
    const before = tf.memory().numTensors;
    const compiled = compileGraph(graph);
    expect([...compiled.variables.keys()].sort()).toEqual(['conv.bias', 'conv.tapBias', 'conv.weight']);
    const x = toTf(randomTensor(shape, createRng(1)));
    const y = tf.tidy(() => tf.add(tf.zeros([4, 3, 5, 5]), 0.5));
    const history = await fit(compiled, { x, y }, { epochs: 8, batchSize: 4, optimizer: 'sgd', learningRate: 0.05, loss: 'mse', progressBar: false });
    expect(history.steps[history.steps.length - 1]).toBeLessThan(history.steps[0]);
    const exported = compiled.exportGraph();
    const tapAfter = (exported.nodes[1].params as Record<string, ParamTensor>).tapBias;
    expect(tapAfter.shape).toEqual([3, 3, 3]);
    expect(tapAfter.data.some((v, i) => v !== tapBefore[i])).toBe(true);
    // The exported tapBias is what the compiled graph runs with.
    const recompiled = compileGraph(exported);
    const a = compiled.run(x).act;
    const b = recompiled.run(x).act;
    expect(fromTf(a).data).toEqual(fromTf(b).data);
    tf.dispose([a, b, x, y]);
    compiled.dispose();
    recompiled.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
