/**
 * IBN-a on [N, H, W, C]: the first `instanceChannels` channels are instance-normalised (each
 * sample's H x W per channel), the rest batch-normalised (batch statistics and running-stat
 * updates in train mode unless frozen, running statistics in eval), then one per-channel affine
 * over all C:
 *
 *   y = gamma * concat(IN(x[..., :k]), BN(x[..., k:])) + beta
 */
import * as tf from '@tensorflow/tfjs-core';
import { affineOf, batchNormalize } from './batch-norm.ts';
import { spatialAxes, standardize } from './sample-norm.ts';
import type { OpBuilder } from './types.ts';

export const ibn: OpBuilder<'ibn'> = (node, params) => {
  const { instanceChannels: k, numFeatures, eps } = node.attrs;
  const { gamma, beta } = affineOf(node, params);
  const stats = params.runningStats();
  return {
    forward: ([x], mode) => {
      const parts: tf.Tensor[] = [];
      if (k > 0) parts.push(standardize(tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, k]), spatialAxes(x.rank), eps));
      if (k < numFeatures) parts.push(batchNormalize(node, { stats }, tf.slice(x, [0, 0, 0, k], [-1, -1, -1, -1]), mode));
      const normalized = parts.length === 1 ? parts[0] : tf.concat(parts, 3);
      return tf.add(tf.mul(normalized, gamma), beta);
    },
  };
};
