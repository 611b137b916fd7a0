/**
 * Batch normalization (Ioffe & Szegedy 2015) on [N, C], [N, C, L] or [N, C, H, W], per channel c:
 *
 *   eval, or frozen:  y = (x - runningMean[c]) / sqrt(runningVar[c] + eps) * gamma[c] + beta[c]
 *   train:            y = (x - mu_B[c]) / sqrt(var_B[c] + eps) * gamma[c] + beta[c]
 *     mu_B, var_B = mean and biased variance over N (and H, W): n = N*H*W elements per channel,
 *     and the running statistics are updated as in ./runningStats.ts.
 * A frozen BN behaves as in eval in both modes and updates nothing.
 * affine false: no gamma, beta. trackRunningStats false: the train form in both modes, nothing
 * updated. decay null: the running statistics are the cumulative average of the batches' (see
 * ./runningStats.ts), batchesTracked counting them.
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
  readonly batchesTracked?: Float64Tensor;
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
  const channels = attrs.numFeatures;
  requireDim(x, 1, channels, 'attrs.numFeatures');
  const affine: Affine | undefined =
    attrs.affine === false ? undefined : { gamma: requireParam(params.gamma, 'gamma', [channels]).data, beta: requireParam(params.beta, 'beta', [channels]).data };
  const batch = () => momentsBy(x, channels, byChannel);
  if (attrs.trackRunningStats === false) {
    const { mean, variance } = batch();
    return { output: standardize(x, byChannel, mean, variance, attrs.eps, affine) };
  }
  const running: RunningStats = {
    runningMean: requireParam(params.runningMean, 'runningMean', [channels]).data,
    runningVar: requireParam(params.runningVar, 'runningVar', [channels]).data,
  };
  if (mode === 'eval' || attrs.frozen) {
    return { output: standardize(x, byChannel, running.runningMean, running.runningVar, attrs.eps, affine) };
  }
  const { mean, variance, count } = batch();
  const seen = attrs.decay === null ? requireParam(params.batchesTracked, 'batchesTracked', [1]).data[0] : 0;
  return {
    output: standardize(x, byChannel, mean, variance, attrs.eps, affine),
    updatedStats: {
      ...updateRunningStats(running, mean, variance, count, attrs, seen),
      ...(attrs.decay === null ? { batchesTracked: Float64Array.of(seen + 1) } : {}),
    },
  };
}
