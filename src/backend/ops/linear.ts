/**
 * linear and weightNormLinear on [N, in] (and on the last axis of a channels-last [N, ..., in]:
 * flattened to [N*..., in], multiplied, shaped back):
 *
 *   y[n, o] = b[o] + sum_i W[o, i] * x[n, i]          i.e. y = x W^T + b
 *
 * PyTorch's W [out, in] is stored transposed, [in, out], so the product is a plain matMul (in a
 * graph compiled to run once, a layer of few rows keeps [out, in]: see linearNode).
 * Weight norm: W = g * v / ||v||, one norm per output unit (a column of the stored [in, out]).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LinearAttrs } from '../../ir/graph.ts';
import { applyActivation, fusedGradientExists } from './activation.ts';
import { weightNormFilter } from './conv.ts';
import type { BuiltNode, FusedActivation, Layout, Mode, OpBuilder } from './types.ts';

const LAYOUT: Layout = { perm: [1, 0] };

/** `f` on the rows of x viewed as [positions, in], its [positions, out] result shaped like x. */
function byRows(x: tf.Tensor, outFeatures: number, f: (rows: tf.Tensor2D) => tf.Tensor): tf.Tensor {
  if (x.rank === 2) return f(x as tf.Tensor2D);
  const y = f(tf.reshape(x, [-1, x.shape[x.rank - 1]]));
  return tf.reshape(y, [...x.shape.slice(0, -1), outFeatures]);
}

/**
 * `unpacked`: the weight is held as stored, [out, in], and multiplied transposed, with no
 * conversion for the backend (a graph that runs once; see CompileOptions.once). tfjs-backend-wasm's
 * fused matMul adds a bias per block of the inner dimension when b is transposed, so there the
 * bias and activation follow the product as their own ops.
 */
function linearNode(a: LinearAttrs, weight: () => tf.Tensor2D, bias: tf.Variable | undefined, unpacked = false): BuiltNode {
  const unfused = (x: tf.Tensor): tf.Tensor =>
    byRows(x, a.outFeatures, (rows) => {
      const y = tf.matMul(rows, weight(), false, unpacked);
      return bias ? tf.add(y, bias) : y;
    });
  if (unpacked) return { forward: ([x]) => unfused(x), fuse: (activation) => ([x]) => applyActivation(unfused(x), activation) };
  return {
    forward: ([x]) => unfused(x),
    fuse: (activation: FusedActivation) => ([x]: readonly tf.Tensor[], mode: Mode): tf.Tensor => {
      if (mode === 'train' && !fusedGradientExists(activation)) return applyActivation(unfused(x), activation);
      return byRows(x, a.outFeatures, (rows) =>
        tf.fused.matMul({ a: rows, b: weight(), bias, activation: activation.kind, leakyreluAlpha: activation.leakyreluAlpha }),
      );
    },
  };
}

export const linear: OpBuilder<'linear'> = (node, params, hints) => {
  const unpacked = hints?.unpacked === true;
  const weight = params.trainable('weight', unpacked ? undefined : LAYOUT) as tf.Variable<tf.Rank.R2>;
  return linearNode(node.attrs, () => weight, node.attrs.bias ? params.trainable('bias') : undefined, unpacked);
};

export const weightNormLinear: OpBuilder<'weightNormLinear'> = (node, params) => {
  const v = params.trainable('v', LAYOUT);
  const g = params.trainable('g');
  return linearNode(
    node.attrs,
    () => weightNormFilter(v, g, [0]) as tf.Tensor2D,
    node.attrs.bias ? params.trainable('bias') : undefined,
  );
};
