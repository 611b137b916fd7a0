/**
 * Batch normalization (Ioffe & Szegedy 2015) on [N, C], [N, C, L] or [N, C, H, W], per channel c:
 *
 *   eval, or frozen:  y = (x - runningMean[c]) / sqrt(runningVar[c] + eps) * gamma[c] + beta[c]
 *   train:            y = (x - mu_B[c]) / sqrt(var_B[c] + eps) * gamma[c] + beta[c]
 *     mu_B, var_B = mean and biased variance over N (and H, W): n = N*H*W elements per channel,
 *     and the running statistics are updated as in ./runningStats.ts.
 * A frozen BN behaves as in eval in both modes and updates nothing.
 */
import type { BatchNormAttrs } from '../../ir/graph.ts';
import { requireDim, requireParam, requireRank } from '../check.ts';
import type { Float64Tensor } from '../tensor.ts';
import { momentsBy, standardize, type Affine, type GroupOf } from './moments.ts';
import { updateRunningStats, type NormResult, type ReferenceMode, type RunningStats } from './runningStats.ts';

export interface BatchNormParams {
  readonly gamma?: Float64Tensor;
  readonly beta?: Float64Tensor;
  readonly runningMean?: Float64Tensor;
  readonly runningVar?: Float64Tensor;
}

/** gamma/beta over `channels`, running statistics over `statChannels` (fewer for IBN). */
export function readBatchNormParams(
  params: BatchNormParams,
  channels: number,
  statChannels: number,
): { readonly affine: Affine; readonly running: RunningStats } {
  return {
    affine: {
      gamma: requireParam(params.gamma, 'gamma', [channels]).data,
      beta: requireParam(params.beta, 'beta', [channels]).data,
    },
    running: {
      runningMean: requireParam(params.runningMean, 'runningMean', [statChannels]).data,
      runningVar: requireParam(params.runningVar, 'runningVar', [statChannels]).data,
    },
  };
}

const byChannel: GroupOf = (_n, c) => c;

export function batchNorm(x: Float64Tensor, params: BatchNormParams, attrs: BatchNormAttrs, mode: ReferenceMode): NormResult {
  requireRank(x, [2, 3, 4]);
  requireDim(x, 1, attrs.numFeatures, 'attrs.numFeatures');
  const { affine, running } = readBatchNormParams(params, attrs.numFeatures, attrs.numFeatures);
  if (mode === 'eval' || attrs.frozen) {
    return { output: standardize(x, byChannel, running.runningMean, running.runningVar, attrs.eps, affine) };
  }
  const batch = momentsBy(x, attrs.numFeatures, byChannel);
  return {
    output: standardize(x, byChannel, batch.mean, batch.variance, attrs.eps, affine),
    updatedStats: updateRunningStats(running, batch.mean, batch.variance, batch.count, attrs),
  };
}
