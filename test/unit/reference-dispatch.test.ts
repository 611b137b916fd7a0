/**
 * runReference must hand each node's inputs, params (widened to float64), attrs and mode to its
 * op function unchanged. One single-node graph per op kind, compared with calling the op directly;
 * the table must cover every op of the IR, so a new op fails here until it is wired.
 */
import { describe, expect, it } from 'vitest';
import { OP_KINDS } from '../../src/ir/attrs.ts';
import type { AttrsByOp, Graph, Node, OpKind, ParamTensor } from '../../src/ir/graph.ts';
import { leakyRelu, relu, relu6, sigmoid, tanh } from '../../src/reference/ops/activations.ts';
import { add } from '../../src/reference/ops/add.ts';
import { batchNorm } from '../../src/reference/ops/batchNorm.ts';
import { batchRenorm } from '../../src/reference/ops/batchRenorm.ts';
import { activation } from '../../src/reference/ops/activation.ts';
import { concat, concatAlong } from '../../src/reference/ops/concat.ts';
import { dropout } from '../../src/reference/ops/dropout.ts';
import { elu } from '../../src/reference/ops/elu.ts';
import { generalRelu } from '../../src/reference/ops/generalRelu.ts';
import { merge } from '../../src/reference/ops/merge.ts';
import { prelu } from '../../src/reference/ops/prelu.ts';
import { logSoftmax, softmax } from '../../src/reference/ops/softmax.ts';
import { conv2d } from '../../src/reference/ops/conv2d.ts';
import { convTranspose2d } from '../../src/reference/ops/convTranspose2d.ts';
import { crop2d } from '../../src/reference/ops/crop2d.ts';
import { flatten } from '../../src/reference/ops/flatten.ts';
import { groupNorm } from '../../src/reference/ops/groupNorm.ts';
import { ibn } from '../../src/reference/ops/ibn.ts';
import { instanceNorm } from '../../src/reference/ops/instanceNorm.ts';
import { layerNorm } from '../../src/reference/ops/layerNorm.ts';
import { linear } from '../../src/reference/ops/linear.ts';
import { normalize } from '../../src/reference/ops/normalize.ts';
import { opaque, type OpaqueEvaluator } from '../../src/reference/ops/opaque.ts';
import { opaqueOutput } from '../../src/reference/ops/opaqueOutput.ts';
import { avgPool2d, globalAvgPool, globalMaxPool, maxPool2d } from '../../src/reference/ops/pool.ts';
import { repeatVector } from '../../src/reference/ops/repeatVector.ts';
import { reshape } from '../../src/reference/ops/reshape.ts';
import { resize2d, upsample2d } from '../../src/reference/ops/resize.ts';
import { transpose } from '../../src/reference/ops/transpose.ts';
import type { NormResult, ReferenceMode } from '../../src/reference/ops/runningStats.ts';
import { scaleShift } from '../../src/reference/ops/scaleShift.ts';
import { switchableNorm } from '../../src/reference/ops/switchableNorm.ts';
import { weightNormConv2d, weightNormLinear } from '../../src/reference/ops/weightNorm.ts';
import { runReference, toFloat64 } from '../../src/reference/run.ts';
import type { Float64Tensor } from '../../src/reference/tensor.ts';
import { expectClose, inputNode, makeRng, p32, randomTensor } from './reference-fixtures.ts';

type Params64 = Record<string, Float64Tensor>;

interface Case<K extends OpKind> {
  readonly attrs: AttrsByOp[K];
  readonly params: Record<string, ParamTensor>;
  readonly inputs: readonly (readonly number[])[];
  readonly direct: (xs: Float64Tensor[], params: Params64, attrs: AttrsByOp[K], mode: ReferenceMode) => Float64Tensor | NormResult;
}

const rng = makeRng(99);
const param = (shape: number[], low = -1, high = 1): ParamTensor => p32(shape, randomTensor(shape, rng, low, high).data);
const bn = (c: number) => ({ gamma: param([c], 0.5, 2), beta: param([c]), runningMean: param([c]), runningVar: param([c], 0.5, 2) });
const conv = { inChannels: 4, outChannels: 6, kernel: [3, 3], stride: [2, 1], padding: 'same', dilation: [1, 2], groups: 2, bias: true } as const;
const running = { decay: 0.7, unbiasedRunningVar: true };
const IMAGE = [2, 4, 5, 5] as const;
/** Stands in for tfjs-layers, which evaluates opaque nodes for the probe: output k is x * w + 1 + k per channel. */
const scaledByWeight: OpaqueEvaluator = (node, [x], readers) => {
  const w = node.params['y/w']?.data ?? new Float32Array(0);
  const plane = x.shape[2] * x.shape[3];
  return [0, ...readers.map((r) => r.attrs.index)].map((k) => ({ shape: [...x.shape], data: x.data.map((v, i) => v * w[Math.floor(i / plane) % x.shape[1]] + 1 + k) }));
};
const OPAQUE_PARAMS = { 'y/w': param([4]) };
const OPAQUE = { className: 'MyLayer', config: { name: 'y', units: 3 }, weights: [{ name: 'y/w', shape: [4] }], inputShapes: [[null, 5, 5, 4]], outputShape: [null, 5, 5, 4] };

const CASES: { readonly [K in Exclude<OpKind, 'input'>]: Case<K> } = {
  conv2d: { attrs: conv, params: { weight: param([6, 2, 3, 3]), bias: param([6]) }, inputs: [IMAGE], direct: ([x], p, a) => conv2d(x, p, a) },
  convTranspose2d: {
    attrs: { inChannels: 4, outChannels: 2, kernel: [2, 3], stride: [2, 2], padding: [1, 0], outputPadding: [1, 1], dilation: [1, 1], groups: 2, bias: true },
    params: { weight: param([4, 1, 2, 3]), bias: param([2]) }, inputs: [IMAGE], direct: ([x], p, a) => convTranspose2d(x, p, a),
  },
  linear: { attrs: { inFeatures: 3, outFeatures: 2, bias: true }, params: { weight: param([2, 3]), bias: param([2]) }, inputs: [[2, 3]], direct: ([x], p, a) => linear(x, p, a) },
  weightNormConv2d: { attrs: conv, params: { v: param([6, 2, 3, 3]), g: param([6]), bias: param([6]) }, inputs: [IMAGE], direct: ([x], p, a) => weightNormConv2d(x, p, a) },
  weightNormLinear: { attrs: { inFeatures: 3, outFeatures: 2, bias: false }, params: { v: param([2, 3]), g: param([2]) }, inputs: [[2, 3]], direct: ([x], p, a) => weightNormLinear(x, p, a) },
  batchNorm: { attrs: { numFeatures: 4, eps: 1e-3, frozen: false, ...running }, params: bn(4), inputs: [IMAGE], direct: ([x], p, a, m) => batchNorm(x, p, a, m) },
  batchRenorm: {
    attrs: { numFeatures: 4, eps: 1e-3, rMax: 1.5, dMax: 0.2, sigma: 'movingStddev', renormDecay: 0.8, warmup: { holdSteps: 1, rMaxSteps: 5, dMaxSteps: 3 }, ...running },
    params: { ...bn(4), renormMean: param([4]), renormStd: param([4], 0.5, 2), batchesTracked: p32([1], [2]) },
    inputs: [IMAGE], direct: ([x], p, a, m) => batchRenorm(x, p, a, m) },
  layerNorm: { attrs: { normalizedShape: [4], over: 'c', eps: 1e-3, affine: true }, params: { gamma: param([4]), beta: param([4]) }, inputs: [IMAGE], direct: ([x], p, a) => layerNorm(x, p, a) },
  instanceNorm: { attrs: { numFeatures: 4, eps: 1e-3, affine: false }, params: {}, inputs: [IMAGE], direct: ([x], p, a) => instanceNorm(x, p, a) },
  groupNorm: { attrs: { numChannels: 4, groups: 2, eps: 1e-3, affine: true }, params: { gamma: param([4]), beta: param([4]) }, inputs: [IMAGE], direct: ([x], p, a) => groupNorm(x, p, a) },
  ibn: {
    attrs: { numFeatures: 4, eps: 1e-3, frozen: false, instanceChannels: 1, ...running },
    params: { ...bn(3), gamma: param([4]), beta: param([4]) }, inputs: [IMAGE], direct: ([x], p, a, m) => ibn(x, p, a, m),
  },
  switchableNorm: {
    attrs: { numFeatures: 4, eps: 1e-3, ...running }, params: { ...bn(4), meanWeights: param([3]), varWeights: param([3]) },
    inputs: [IMAGE], direct: ([x], p, a, m) => switchableNorm(x, p, a, m),
  },
  scaleShift: { attrs: { numChannels: 4 }, params: { scale: param([4]), shift: param([4]) }, inputs: [IMAGE], direct: ([x], p, a) => scaleShift(x, p, a) },
  normalize: { attrs: { mean: [0.1, 0.2, 0.3, 0.4], std: [1, 2, 3, 4] }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => normalize(x, a) },
  relu: { attrs: {}, params: {}, inputs: [IMAGE], direct: ([x]) => relu(x) },
  relu6: { attrs: {}, params: {}, inputs: [IMAGE], direct: ([x]) => relu6(x) },
  leakyRelu: { attrs: { alpha: 0.2 }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => leakyRelu(x, a.alpha) },
  sigmoid: { attrs: {}, params: {}, inputs: [IMAGE], direct: ([x]) => sigmoid(x) },
  tanh: { attrs: {}, params: {}, inputs: [IMAGE], direct: ([x]) => tanh(x) },
  activation: { attrs: { fn: 'gelu' }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => activation(x, a.fn) },
  elu: { attrs: { alpha: 0.7 }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => elu(x, a.alpha) },
  generalRelu: { attrs: { maxValue: 1.5, negativeSlope: 0.1, threshold: 0.2 }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => generalRelu(x, a) },
  prelu: { attrs: { alphaShape: [4, 1, 5] }, params: { alpha: param([4, 1, 5]) }, inputs: [IMAGE], direct: ([x], p) => prelu(x, p) },
  softmax: { attrs: { axis: 2 }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => softmax(x, a.axis) },
  logSoftmax: { attrs: { axis: 1 }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => logSoftmax(x, a.axis) },
  merge: { attrs: { fn: 'multiply' }, params: {}, inputs: [IMAGE, [2, 4, 1, 1], [2, 4]], direct: (xs, _p, a) => merge(xs, a.fn) },
  dropout: { attrs: { kind: 'alphaDropout', rate: 0.3 }, params: {}, inputs: [IMAGE], direct: ([x], _p, _a, m) => dropout(x, m) },
  concatAxis: { attrs: { axis: 3 }, params: {}, inputs: [IMAGE, [2, 4, 5, 2]], direct: (xs, _p, a) => concatAlong(xs, a.axis) },
  add: { attrs: {}, params: {}, inputs: [IMAGE, IMAGE, IMAGE], direct: (xs) => add(xs) },
  concat: { attrs: {}, params: {}, inputs: [IMAGE, [2, 1, 5, 5]], direct: (xs) => concat(xs) },
  maxPool2d: { attrs: { kernel: [3, 2], stride: [2, 2], padding: 'same' }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => maxPool2d(x, a) },
  avgPool2d: { attrs: { kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1], countIncludePad: false }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => avgPool2d(x, a) },
  crop2d: { attrs: { crop: [1, 0, 2, 1] }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => crop2d(x, a) },
  globalAvgPool: { attrs: { keepDims: true }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => globalAvgPool(x, a) },
  globalMaxPool: { attrs: { keepDims: false }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => globalMaxPool(x, a) },
  upsample2d: { attrs: { scale: [2, 3], interpolation: 'bilinear' }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => upsample2d(x, a) },
  resize2d: { attrs: { size: [7, 3], interpolation: 'nearest', alignCorners: true }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => resize2d(x, a) },
  transpose: { attrs: { perm: [0, 2, 3, 1] }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => transpose(x, a) },
  reshape: { attrs: { shape: [5, 4, 5] }, params: {}, inputs: [IMAGE], direct: ([x], _p, a) => reshape(x, a) },
  repeatVector: { attrs: { times: 3 }, params: {}, inputs: [[2, 4]], direct: ([x], _p, a) => repeatVector(x, a) },
  flatten: { attrs: {}, params: {}, inputs: [IMAGE], direct: ([x]) => flatten(x) },
  identity: { attrs: {}, params: {}, inputs: [IMAGE], direct: ([x]) => identity(x) },
  opaque: {
    attrs: OPAQUE, params: OPAQUE_PARAMS, inputs: [IMAGE],
    direct: (xs, _p, attrs) => opaque({ name: 'y', op: 'opaque', inputs: ['x0'], attrs, params: OPAQUE_PARAMS }, xs, [], scaledByWeight)[0],
  },
  // Its input is an opaque node 'layer' on x0 (see LAYER_OF).
  opaqueOutput: {
    attrs: { index: 2, outputShape: [null, 5, 5, 4] }, params: {}, inputs: [IMAGE],
    direct: (xs, _p, attrs) => {
      const selector = { name: 'y', op: 'opaqueOutput', inputs: ['layer'], attrs, params: {} } as const;
      return opaqueOutput(selector, opaque(LAYER_OF.y, xs, [selector], scaledByWeight)[1]);
    },
  },
};

/** The opaque node an opaqueOutput case reads. */
const LAYER_OF = { y: { name: 'layer', op: 'opaque', inputs: ['x0'], attrs: OPAQUE, params: OPAQUE_PARAMS } as const };

function identity(x: Float64Tensor): Float64Tensor {
  return x;
}

describe('runReference dispatch', () => {
  it('has a case for every op kind of the IR', () => {
    expect(Object.keys(CASES).sort()).toEqual(OP_KINDS.filter((k) => k !== 'input').sort());
  });

  for (const op of Object.keys(CASES) as Exclude<OpKind, 'input'>[]) {
    it(`${op}: passes inputs, float64 params, attrs and mode through to the op`, () => {
      const spec = CASES[op] as Case<typeof op>;
      const names = spec.inputs.map((_, i) => `x${i}`);
      const values = spec.inputs.map((shape) => randomTensor(shape, rng, -2, 2));
      const layer = op === 'opaqueOutput' ? [LAYER_OF.y as unknown as Node] : [];
      const node = { name: 'y', op, inputs: op === 'opaqueOutput' ? ['layer'] : names, attrs: spec.attrs, params: spec.params } as unknown as Node;
      const graph: Graph = { nodes: [...names.map((n, i) => inputNode(n, spec.inputs[i])), ...layer, node], inputs: names, outputs: ['y'] };
      const params64 = Object.fromEntries(Object.entries(spec.params).map(([k, p]) => [k, toFloat64(p)]));
      // Dropout draws random numbers in train mode, which the reference refuses (dropout.ts).
      const modes = op === 'dropout' ? (['eval'] as const) : (['eval', 'train'] as const);
      if (op === 'opaque' || op === 'opaqueOutput') expect(() => runReference(graph, Object.fromEntries(names.map((n, i) => [n, values[i]])))).toThrow(`opaque '${op === 'opaque' ? 'y' : 'layer'}': the MyLayer layer has no float64 reference`);
      if (op === 'dropout') expect(() => runReference(graph, Object.fromEntries(names.map((n, i) => [n, values[i]])), { mode: 'train' })).toThrow(/random numbers in train mode/);
      for (const mode of modes) {
        const result = runReference(graph, Object.fromEntries(names.map((n, i) => [n, values[i]])), { mode, opaque: scaledByWeight });
        const direct = spec.direct(values, params64, spec.attrs, mode);
        const expected = 'output' in direct ? direct : { output: direct, updatedStats: undefined };
        expectClose(result.outputs.y, expected.output, 0);
        expect(result.updatedStats.get('y')).toEqual(expected.updatedStats);
      }
    });
  }
});
