/** One builder per IR op; `input` nodes are the executor's own business. */
import type { OpKind } from '../../ir/graph.ts';
import { activation, elu, generalRelu, leakyRelu, logSoftmax, prelu, relu, relu6, sigmoid, softmax, tanh } from './activation.ts';
import { batchNorm, batchRenorm } from './batch-norm.ts';
import { convTranspose2d } from './conv-transpose.ts';
import { conv2d, weightNormConv2d } from './conv.ts';
import { ibn } from './ibn.ts';
import { linear, weightNormLinear } from './linear.ts';
import { avgPool2d, globalAvgPool, globalMaxPool, maxPool2d } from './pool.ts';
import { resize2d, upsample2d } from './resize.ts';
import { groupNorm, instanceNorm, layerNorm } from './sample-norm.ts';
import { dropout } from './noise.ts';
import { opaque, opaqueOutput } from './opaque.ts';
import { add, concat, concatAxis, crop2d, flatten, identity, merge, normalize, repeatVector, reshape, scaleShift, transpose } from './structural.ts';
import { switchableNorm } from './switchable-norm.ts';
import { alsoOnLines, type OpBuilder } from './types.ts';

export const BUILDERS: { readonly [K in Exclude<OpKind, 'input'>]: OpBuilder<K> } = {
  conv2d: alsoOnLines(conv2d),
  convTranspose2d,
  linear,
  weightNormConv2d: alsoOnLines(weightNormConv2d),
  weightNormLinear,
  batchNorm,
  batchRenorm,
  layerNorm,
  instanceNorm,
  groupNorm,
  ibn,
  switchableNorm,
  scaleShift,
  normalize,
  relu,
  relu6,
  leakyRelu,
  sigmoid,
  tanh,
  activation,
  elu,
  generalRelu,
  prelu,
  softmax,
  logSoftmax,
  merge,
  dropout,
  concatAxis,
  add,
  concat,
  maxPool2d: alsoOnLines(maxPool2d),
  avgPool2d: alsoOnLines(avgPool2d),
  globalAvgPool,
  globalMaxPool,
  upsample2d,
  resize2d,
  transpose,
  reshape,
  repeatVector,
  flatten,
  crop2d,
  identity,
  opaque,
  opaqueOutput,
};
