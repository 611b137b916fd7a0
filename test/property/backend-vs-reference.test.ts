/**
 * The tfjs executor (float32, wasm) against the float64 reference on random graphs, each output
 * element within a bound derived from the computation it performed (see
 * test/unit/backend-helpers.ts): gamma_D * M for sums of products, and the normalisation bound
 * built from the actual group statistics for norms. No fixed tolerance.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/backend/executor.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { AttrsByOp, Graph, OpKind, Padding2d, ParamTensor } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { runReference } from '../../src/reference/run.ts';
import type { Float64Tensor } from '../../src/reference/tensor.ts';
import {
  elementStats,
  expectWithin,
  fromTf,
  normalizationBound,
  randomTensor,
  randomizeParams,
  runningElementStats,
  sumOfProductsBound,
  toTf,
  type GroupOf,
} from '../unit/backend-helpers.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

type Mode = 'eval' | 'train';

/** Runs graph on x through the executor (fused or not) and the reference. */
function runBoth(graph: Graph, x: Float64Tensor, mode: Mode, fuse: boolean) {
  const before = tf.memory().numTensors;
  const compiled = compileGraph(graph, { fuse });
  const xt = toTf(x);
  const outputs = compiled.run(xt, { mode });
  const got = Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, fromTf(t)]));
  tf.dispose([xt, ...Object.values(outputs)]);
  compiled.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return { got, expected: runReference(graph, { x }, { mode }).outputs };
}

const pair = (max: number, min = 1) => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }));

const explicitPadding = (maxPad: number) =>
  fc.tuple(...[0, 1, 2, 3].map(() => fc.integer({ min: 0, max: maxPad }))) as fc.Arbitrary<[number, number, number, number]>;

const activationOp = fc.constantFrom<OpKind | 'none'>('none', 'relu', 'relu6', 'leakyRelu');

function appendActivation(b: GraphBuilder, input: string, op: OpKind | 'none'): string {
  if (op === 'none') return input;
  const attrs = op === 'leakyRelu' ? { alpha: 0.2 } : {};
  return b.addNode({ op, inputs: [input], attrs } as never);
}

const conv2dCase = fc
  .record({
    groups: fc.integer({ min: 1, max: 3 }),
    inPerGroup: fc.integer({ min: 1, max: 2 }),
    outPerGroup: fc.integer({ min: 1, max: 2 }),
    kernel: pair(3),
    stride: pair(2),
    dilation: pair(2),
    padding: fc.oneof(fc.constantFrom<Padding2d>('same', 'valid'), explicitPadding(2)),
    bias: fc.boolean(),
    extra: pair(4, 0),
    batch: fc.integer({ min: 1, max: 2 }),
    activation: activationOp,
    mode: fc.constantFrom<Mode>('eval', 'train'),
    fuse: fc.boolean(),
    seed: fc.nat(),
  })
  .map((c) => {
    const inChannels = c.groups * c.inPerGroup;
    const attrs: AttrsByOp['conv2d'] = {
      inChannels,
      outChannels: c.groups * c.outPerGroup,
      kernel: c.kernel,
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      groups: c.groups,
      bias: c.bias,
    };
    const size = (axis: 0 | 1) => c.dilation[axis] * (c.kernel[axis] - 1) + 1 + c.extra[axis];
    return { ...c, attrs, shape: [c.batch, inChannels, size(0), size(1)] };
  });

const convTransposeCase = fc
  .record({
    groups: fc.integer({ min: 1, max: 2 }),
    inPerGroup: fc.integer({ min: 1, max: 2 }),
    outPerGroup: fc.integer({ min: 1, max: 2 }),
    kernel: pair(3),
    stride: pair(3),
    dilation: pair(2),
    padFraction: fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
    outputPaddingFraction: fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
    bias: fc.boolean(),
    size: pair(4),
    batch: fc.integer({ min: 1, max: 2 }),
    mode: fc.constantFrom<Mode>('eval', 'train'),
    seed: fc.nat(),
  })
  .map((c) => {
    const inChannels = c.groups * c.inPerGroup;
    const axis = (i: 0 | 1) => {
      // P <= floor(D(K-1)/2) keeps the output at least 1 even for a 1-pixel input
      const pad = Math.floor(c.padFraction[i] * (Math.floor((c.dilation[i] * (c.kernel[i] - 1)) / 2) + 0.99));
      const outputPadding = Math.floor(c.outputPaddingFraction[i] * (Math.max(c.stride[i], c.dilation[i]) - 0.01));
      return { pad, outputPadding };
    };
    const [rows, cols] = [axis(0), axis(1)];
    const attrs: AttrsByOp['convTranspose2d'] = {
      inChannels,
      outChannels: c.groups * c.outPerGroup,
      kernel: c.kernel,
      stride: c.stride,
      padding: [rows.pad, cols.pad],
      outputPadding: [rows.outputPadding, cols.outputPadding],
      dilation: c.dilation,
      groups: c.groups,
      bias: c.bias,
    };
    return { ...c, attrs, shape: [c.batch, inChannels, c.size[0], c.size[1]] };
  });

const poolCase = fc
  .record({
    op: fc.constantFrom('maxPool2d' as const, 'avgPool2d' as const),
    kernel: pair(3),
    stride: pair(3),
    padding: fc.oneof(fc.constantFrom<'same' | 'valid'>('same', 'valid'), explicitPadding(1)),
    countIncludePad: fc.boolean(),
    extra: pair(4, 0),
    seed: fc.nat(),
  })
  .map((c) => {
    // a window may not consist of padding alone: pads at most floor(k/2), as PyTorch requires
    const padding: Padding2d =
      typeof c.padding === 'string'
        ? c.padding
        : [
            Math.min(c.padding[0], c.kernel[0] >> 1),
            Math.min(c.padding[1], c.kernel[0] >> 1),
            Math.min(c.padding[2], c.kernel[1] >> 1),
            Math.min(c.padding[3], c.kernel[1] >> 1),
          ];
    const attrs = { kernel: c.kernel, stride: c.stride, padding, ...(c.op === 'avgPool2d' ? { countIncludePad: c.countIncludePad } : {}) };
    return { ...c, attrs, shape: [2, 3, c.kernel[0] + c.extra[0], c.kernel[1] + c.extra[1]] };
  });

function singleOpGraph(shape: number[], op: OpKind, attrs: unknown, activation: OpKind | 'none', seed: number): Graph {
  const b = new GraphBuilder({ seed });
  const x = b.addInput(shape, 'x');
  const y = appendActivation(b, b.addNode({ op, inputs: [x], attrs } as never), activation);
  return randomizeParams(b.build([y]), seed + 1);
}

function checkSumsOfProducts(graph: Graph, shape: number[], seed: number, mode: Mode, fuse: boolean): void {
  const x = randomTensor(shape, createRng(seed), -2, 2);
  const { got, expected } = runBoth(graph, x, mode, fuse);
  const bounds = sumOfProductsBound(graph, { x });
  for (const output of graph.outputs) expectWithin(got[output], expected[output], bounds[output], output);
}

describe('sums of products match the reference within gamma_D * M', () => {
  it('conv2d: grouped, depthwise, strided, dilated, padded; fused or not; eval and train', () => {
    fc.assert(
      fc.property(conv2dCase, (c) => {
        const graph = singleOpGraph(c.shape, 'conv2d', c.attrs, c.activation, c.seed);
        checkSumsOfProducts(graph, c.shape, c.seed + 2, c.mode, c.fuse);
      }),
      { numRuns: 80 },
    );
  });

  it('convTranspose2d: groups, strides, dilation, padding and outputPadding', () => {
    fc.assert(
      fc.property(convTransposeCase, (c) => {
        const graph = singleOpGraph(c.shape, 'convTranspose2d', c.attrs, 'none', c.seed);
        checkSumsOfProducts(graph, c.shape, c.seed + 2, c.mode, true);
      }),
      { numRuns: 60 },
    );
  });

  it('max and average pools with explicit, same and valid padding', () => {
    fc.assert(
      fc.property(poolCase, (c) => {
        const graph = singleOpGraph(c.shape, c.op, c.attrs, 'none', c.seed);
        checkSumsOfProducts(graph, c.shape, c.seed + 2, 'eval', true);
      }),
      { numRuns: 60 },
    );
  });

  it('small chains: conv -> activation -> pool -> conv (+ residual) -> flatten -> linear', () => {
    fc.assert(
      fc.property(
        fc.record({ channels: fc.integer({ min: 1, max: 4 }), size: fc.integer({ min: 4, max: 7 }), activation: activationOp, residual: fc.boolean(), fuse: fc.boolean(), seed: fc.nat() }),
        (c) => {
          const b = new GraphBuilder({ seed: c.seed });
          const x = b.addInput([2, c.channels, c.size, c.size], 'x');
          const convAttrs = (cin: number, cout: number, padding: Padding2d): AttrsByOp['conv2d'] => ({
            inChannels: cin, outChannels: cout, kernel: [3, 3], stride: [1, 1], padding, dilation: [1, 1], groups: 1, bias: true,
          });
          let h = appendActivation(b, b.addNode({ op: 'conv2d', inputs: [x], attrs: convAttrs(c.channels, 4, 'same') }), c.activation);
          h = b.addNode({ op: 'maxPool2d', inputs: [h], attrs: { kernel: [2, 2], stride: [2, 2], padding: 'valid' } });
          const inner = b.addNode({ op: 'conv2d', inputs: [h], attrs: convAttrs(4, 4, [1, 1, 1, 1]) });
          h = c.residual ? b.addNode({ op: 'add', inputs: [inner, h], attrs: {} }) : inner;
          h = appendActivation(b, h, c.activation);
          h = b.addNode({ op: 'flatten', inputs: [h], attrs: {} });
          const features = (b.shapeOf(h)[1] as number);
          h = b.addNode({ op: 'linear', inputs: [h], attrs: { inFeatures: features, outFeatures: 3, bias: true } });
          const graph = randomizeParams(b.build([h]), c.seed + 1);
          checkSumsOfProducts(graph, [2, c.channels, c.size, c.size], c.seed + 2, 'eval', c.fuse);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('normalisations match the reference within the bound from their statistics', () => {
  const normCase = fc.record({
    op: fc.constantFrom('batchNorm' as const, 'layerNormChw' as const, 'layerNormC' as const, 'instanceNorm' as const, 'groupNorm' as const),
    mode: fc.constantFrom<Mode>('eval', 'train'),
    batch: fc.integer({ min: 2, max: 4 }),
    groups: fc.integer({ min: 1, max: 3 }),
    perGroup: fc.integer({ min: 1, max: 2 }),
    size: pair(4),
    offset: fc.double({ min: -4, max: 4, noNaN: true }),
    width: fc.double({ min: 0.05, max: 4, noNaN: true }),
    eps: fc.constantFrom(1e-5, 1e-3),
    seed: fc.nat(),
  });

  it('batchNorm (train/eval), layerNorm (chw, c), instanceNorm, groupNorm', () => {
    fc.assert(
      fc.property(normCase, (c) => {
        const channels = c.groups * c.perGroup;
        const shape = [c.batch, channels, c.size[0], c.size[1]];
        const spatial = c.size[0] * c.size[1];
        const eps = c.eps;
        const [op, attrs, groupOf]: [OpKind, unknown, GroupOf] =
          c.op === 'batchNorm'
            ? ['batchNorm', { numFeatures: channels, eps, decay: 0.9, unbiasedRunningVar: true, frozen: false }, (_n, ch) => ch]
            : c.op === 'layerNormChw'
              ? ['layerNorm', { normalizedShape: shape.slice(1), over: 'chw', eps, affine: true }, (n) => n]
              : c.op === 'layerNormC'
                ? ['layerNorm', { normalizedShape: [channels], over: 'c', eps, affine: true }, (n, _ch, s) => n * spatial + s]
                : c.op === 'instanceNorm'
                  ? ['instanceNorm', { numFeatures: channels, eps, affine: true }, (n, ch) => n * channels + ch]
                  : ['groupNorm', { numChannels: channels, groups: c.groups, eps, affine: true }, (n, ch) => n * c.groups + Math.floor(ch / c.perGroup)];
        const graph = singleOpGraph(shape, op, attrs, 'none', c.seed);
        const x = randomTensor(shape, createRng(c.seed + 2), c.offset, c.offset + c.width);
        if (op === 'instanceNorm' && c.mode === 'train' && spatial === 1) {
          // PyTorch's rule: nothing to normalise over, so training through it is an error.
          const before = tf.memory().numTensors;
          const compiled = compileGraph(graph);
          const xt = toTf(x);
          expect(() => compiled.run(xt, { mode: 'train' })).toThrow(/needs more than 1 spatial element per channel/);
          xt.dispose();
          compiled.dispose();
          expect(tf.memory().numTensors).toBe(before);
          return;
        }
        const { got, expected } = runBoth(graph, x, c.mode, true);
        const name = graph.outputs[0];
        const params = graph.nodes[1].params as Record<string, ParamTensor>;
        const stats =
          op === 'batchNorm' && c.mode === 'eval'
            ? runningElementStats(x, params.runningMean.data, params.runningVar.data)
            : elementStats(x, groupOf);
        // LayerNorm over C, H, W has element-wise gamma/beta; the others one per channel.
        const at = (p: ParamTensor) => (ch: number, inSample: number) => p.data[c.op === 'layerNormChw' ? inSample : ch];
        const bound = normalizationBound(x, expected[name], stats, eps, at(params.gamma), at(params.beta));
        expectWithin(got[name], expected[name], bound, `${c.op} ${c.mode}`);
      }),
      { numRuns: 80 },
    );
  });
});
