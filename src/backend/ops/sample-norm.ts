/**
 * Norms whose statistics come from each sample alone (the same in train and eval mode), on
 * channels-last tensors, with biased variance and optional gamma/beta:
 *
 *   y = gamma * (x - mu) / sqrt(var + eps) + beta, mu and var taken over
 *     layerNorm 'chw'   all of C, H, W (or C, L) of the sample; gamma, beta element-wise over
 *                       [H, W, C] ([L, C]), the IR's [C, H, W] transposed once at compile time
 *     layerNorm 'c'     the channels at one position (ConvNeXt); gamma, beta per channel
 *     instanceNorm      H, W of one channel of the sample
 *     groupNorm         H, W and the C/G consecutive channels of one group
 */
import * as tf from '@tensorflow/tfjs-core';
import { ExecutionError } from '../errors.ts';
import type { Layout, NodeParams, OpBuilder } from './types.ts';

export function standardize(x: tf.Tensor, axes: number[], eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, axes, true);
  return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
}

/** Axes 1 .. rank-2 of a channels-last tensor: the spatial ones. */
export function spatialAxes(rank: number): number[] {
  return Array.from({ length: rank - 2 }, (_, i) => i + 1);
}

function affine(params: NodeParams, enabled: boolean, layout?: Layout): (y: tf.Tensor) => tf.Tensor {
  if (!enabled) return (y) => y;
  const gamma = params.trainable('gamma', layout);
  const beta = params.trainable('beta', layout);
  return (y) => tf.add(tf.mul(y, gamma), beta);
}

/** [C, H, W] <-> [H, W, C] (and [C, L] <-> [L, C]): an element-wise affine over one channels-last sample. */
function sampleChannelsLast(rank: number): Layout {
  return { perm: [...Array.from({ length: rank - 1 }, (_, i) => i + 1), 0] };
}

export const layerNorm: OpBuilder<'layerNorm'> = (node, params) => {
  const { over, eps, normalizedShape } = node.attrs;
  const scale = affine(params, node.attrs.affine, normalizedShape.length > 1 ? sampleChannelsLast(normalizedShape.length) : undefined);
  return {
    forward: ([x]) => {
      const axes = over === 'c' ? [x.rank - 1] : Array.from({ length: x.rank - 1 }, (_, i) => i + 1);
      return scale(standardize(x, axes, eps));
    },
  };
};

export const instanceNorm: OpBuilder<'instanceNorm'> = (node, params) => {
  const scale = affine(params, node.attrs.affine);
  return {
    forward: ([x], mode) => {
      // As PyTorch: one value per sample and channel normalises to 0 whatever the input, so
      // training through it learns nothing (eval mode runs it, as PyTorch does).
      if (mode === 'train' && x.size === x.shape[0] * x.shape[x.rank - 1]) {
        throw new ExecutionError(node.name, node.op, `train mode needs more than 1 spatial element per channel, got H x W = 1 x 1`);
      }
      return scale(standardize(x, spatialAxes(x.rank), node.attrs.eps));
    },
  };
};

export const groupNorm: OpBuilder<'groupNorm'> = (node, params) => {
  const { groups, eps } = node.attrs;
  const scale = affine(params, node.attrs.affine);
  return {
    forward: ([x]) => {
      const channels = x.shape[x.rank - 1];
      // [..., C] -> [..., G, C/G]: group g holds channels [g*C/G, (g+1)*C/G), PyTorch's grouping.
      const grouped = tf.reshape(x, [...x.shape.slice(0, -1), groups, channels / groups]);
      const y = standardize(grouped, [...spatialAxes(x.rank), x.rank], eps);
      return scale(tf.reshape(y, x.shape));
    },
  };
};
