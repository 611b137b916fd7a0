/**
 * Switchable Normalization (Luo et al. 2019) on [N, H, W, C]: a learned softmax mix of the
 * instance, layer and batch statistics,
 *
 *   mu_IN, var_IN   over H, W per sample and channel
 *   mu_LN, var_LN   over H, W, C per sample
 *   mu_BN, var_BN   over N, H, W per channel in train mode (and the running statistics are
 *                   updated from them); the running statistics in eval mode
 *   w = softmax(meanWeights), v = softmax(varWeights)       (order: IN, LN, BN)
 *   mu  = w_IN mu_IN + w_LN mu_LN + w_BN mu_BN
 *   var = v_IN var_IN + v_LN var_LN + v_BN var_BN
 *   y = gamma * (x - mu) / sqrt(var + eps) + beta
 *
 * All variances are biased. Each statistic is taken directly over its axes (not derived from
 * the instance moments via E[x^2] - mu^2, which cancels badly in float32).
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchMoments, updateRunningStats } from './batch-norm.ts';
import type { OpBuilder } from './types.ts';

export const switchableNorm: OpBuilder<'switchableNorm'> = (node, params) => {
  const a = node.attrs;
  const gamma = params.trainable('gamma');
  const beta = params.trainable('beta');
  const meanWeights = params.trainable('meanWeights');
  const varWeights = params.trainable('varWeights');
  const stats = params.runningStats();
  return {
    forward: ([x], mode) => {
      const instance = tf.moments(x, [1, 2], true);
      const layer = tf.moments(x, [1, 2, 3], true);
      let batch: { mean: tf.Tensor; variance: tf.Tensor } = { mean: stats.runningMean, variance: stats.runningVar };
      if (mode === 'train') {
        const moments = batchMoments(x);
        updateRunningStats(node, stats, a, moments);
        batch = moments;
      }
      const [wIn, wLn, wBn] = tf.unstack(tf.softmax(meanWeights));
      const [vIn, vLn, vBn] = tf.unstack(tf.softmax(varWeights));
      const mix = (w: tf.Tensor[], s: tf.Tensor[]): tf.Tensor =>
        tf.add(tf.add(tf.mul(w[0], s[0]), tf.mul(w[1], s[1])), tf.mul(w[2], s[2]));
      const mean = mix([wIn, wLn, wBn], [instance.mean, layer.mean, batch.mean]);
      const variance = mix([vIn, vLn, vBn], [instance.variance, layer.variance, batch.variance]);
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, a.eps))), gamma), beta);
    },
  };
};
