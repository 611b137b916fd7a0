/**
 * IBN-a (Pan et al. 2018) on [N, C, H, W], with k = instanceChannels:
 *
 *   channels c < k:   InstanceNorm statistics (per sample n, per channel, over H, W; biased)
 *   channels c >= k:  BatchNorm statistics (train: batch mean and biased variance over N, H, W,
 *                     and the running statistics updated as in ./runningStats.ts;
 *                     eval or frozen: runningMean[c - k], runningVar[c - k])
 *   y = (x - mean) / sqrt(var + eps) * gamma[c] + beta[c]
 * gamma/beta cover all C channels; runningMean/runningVar only the C - k BatchNorm channels.
 */
import type { AttrsByOp } from '../../ir/graph.ts';
import { requireDim, requireRank } from '../check.ts';
import { ReferenceRunError } from '../errors.ts';
import type { Float64Tensor } from '../tensor.ts';
import { readBatchNormParams, type BatchNormParams } from './batchNorm.ts';
import { momentsBy, standardize, type GroupOf } from './moments.ts';
import { updateRunningStats, type NormResult, type ReferenceMode } from './runningStats.ts';

export function ibn(x: Float64Tensor, params: BatchNormParams, attrs: AttrsByOp['ibn'], mode: ReferenceMode): NormResult {
  requireRank(x, [4]);
  requireDim(x, 1, attrs.numFeatures, 'attrs.numFeatures');
  const { numFeatures: channels, instanceChannels: k, eps } = attrs;
  if (k > channels) {
    throw new ReferenceRunError(`attrs.instanceChannels = ${k} exceeds numFeatures = ${channels}`);
  }
  const { affine, running } = readBatchNormParams(params, channels, channels - k);
  const batch = x.shape[0];
  // Statistic slots: [0, N*k) one per (sample, instance channel), then one per BatchNorm channel.
  const firstBatchSlot = batch * k;
  const groupOf: GroupOf = (n, c) => (c < k ? n * k + c : firstBatchSlot + c - k);
  const stats = momentsBy(x, firstBatchSlot + channels - k, groupOf);

  if (mode === 'eval' || attrs.frozen) {
    const mean = Float64Array.from(stats.mean);
    const variance = Float64Array.from(stats.variance);
    mean.set(running.runningMean, firstBatchSlot);
    variance.set(running.runningVar, firstBatchSlot);
    return { output: standardize(x, groupOf, mean, variance, eps, affine) };
  }
  return {
    output: standardize(x, groupOf, stats.mean, stats.variance, eps, affine),
    updatedStats: updateRunningStats(
      running,
      stats.mean.subarray(firstBatchSlot),
      stats.variance.subarray(firstBatchSlot),
      stats.count.subarray(firstBatchSlot),
      attrs,
    ),
  };
}
