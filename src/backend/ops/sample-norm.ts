/**
 * Norms whose statistics come from each sample alone (the same in train and eval mode), on
 * channels-last tensors, with biased variance and optional per-channel gamma/beta:
 *
 *   y = gamma[c] * (x - mu) / sqrt(var + eps) + beta[c], mu and var taken over
 *     layerNorm 'chw'   all of C, H, W of the sample
 *     layerNorm 'c'     the channels at one position (ConvNeXt)
 *     instanceNorm      H, W of one channel of the sample
 *     groupNorm         H, W and the C/G consecutive channels of one group
 */
import * as tf from '@tensorflow/tfjs';
import type { NodeParams, OpBuilder } from './types.ts';

export function standardize(x: tf.Tensor, axes: number[], eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, axes, true);
  return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
}

/** Axes 1 .. rank-2 of a channels-last tensor: the spatial ones. */
export function spatialAxes(rank: number): number[] {
  return Array.from({ length: rank - 2 }, (_, i) => i + 1);
}

function affine(params: NodeParams, enabled: boolean): (y: tf.Tensor) => tf.Tensor {
  if (!enabled) return (y) => y;
  const gamma = params.trainable('gamma');
  const beta = params.trainable('beta');
  return (y) => tf.add(tf.mul(y, gamma), beta);
}

export const layerNorm: OpBuilder<'layerNorm'> = (node, params) => {
  const { over, eps } = node.attrs;
  const scale = affine(params, node.attrs.affine);
  return {
    forward: ([x]) => {
      const axes = over === 'c' ? [x.rank - 1] : Array.from({ length: x.rank - 1 }, (_, i) => i + 1);
      return scale(standardize(x, axes, eps));
    },
  };
};

export const instanceNorm: OpBuilder<'instanceNorm'> = (node, params) => {
  const scale = affine(params, node.attrs.affine);
  return { forward: ([x]) => scale(standardize(x, spatialAxes(x.rank), node.attrs.eps)) };
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
