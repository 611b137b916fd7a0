/**
 * Switchable normalization (Luo et al. 2018) on [N, C, H, W]:
 *
 *   IN statistics per (n, c) over (H, W); LN statistics per n over (C, H, W);
 *   BN statistics per c: train: batch mean and variance over (N, H, W), and the running
 *   statistics updated as in ./runningStats.ts; eval: runningMean, runningVar.
 *   w = softmax(meanWeights), v = softmax(varWeights)         (logits ordered IN, LN, BN)
 *   mean[n, c] = w_IN * mean_IN[n, c] + w_LN * mean_LN[n] + w_BN * mean_BN[c]
 *   var[n, c]  = v_IN * var_IN[n, c]  + v_LN * var_LN[n]  + v_BN * var_BN[c]
 *   y = (x - mean[n, c]) / sqrt(var[n, c] + eps) * gamma[c] + beta[c]
 * Every variance here is the biased one. (The authors' code takes the IN variance unbiased; the
 * shapefold IR fixes biased everywhere so that all backends agree.)
 */
import type { AttrsByOp } from '../../ir/graph.ts';
import { requireDim, requireParam, requireRank } from '../check.ts';
import type { Float64Tensor } from '../tensor.ts';
import { readBatchNormParams, type BatchNormParams } from './batchNorm.ts';
import { momentsBy, standardize, type GroupOf } from './moments.ts';
import { updateRunningStats, type NormResult, type ReferenceMode } from './runningStats.ts';

export interface SwitchableNormParams extends BatchNormParams {
  readonly meanWeights?: Float64Tensor;
  readonly varWeights?: Float64Tensor;
}

function softmax(logits: Float64Array): Float64Array {
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const total = exps.reduce((sum, e) => sum + e, 0);
  return exps.map((e) => e / total);
}

export function switchableNorm(
  x: Float64Tensor,
  params: SwitchableNormParams,
  attrs: AttrsByOp['switchableNorm'],
  mode: ReferenceMode,
): NormResult {
  requireRank(x, [4]);
  requireDim(x, 1, attrs.numFeatures, 'attrs.numFeatures');
  const channels = attrs.numFeatures;
  const { affine, running } = readBatchNormParams(params, channels, channels);
  const [wIn, wLn, wBn] = softmax(requireParam(params.meanWeights, 'meanWeights', [3]).data);
  const [vIn, vLn, vBn] = softmax(requireParam(params.varWeights, 'varWeights', [3]).data);

  const batch = x.shape[0];
  const perInstance: GroupOf = (n, c) => n * channels + c;
  const instance = momentsBy(x, batch * channels, perInstance);
  const layer = momentsBy(x, batch, (n) => n);
  const batchStats = mode === 'train' ? momentsBy(x, channels, (_n, c) => c) : undefined;
  const bnMean = batchStats?.mean ?? running.runningMean;
  const bnVar = batchStats?.variance ?? running.runningVar;

  const mean = new Float64Array(batch * channels);
  const variance = new Float64Array(batch * channels);
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const k = n * channels + c;
      mean[k] = wIn * instance.mean[k] + wLn * layer.mean[n] + wBn * bnMean[c];
      variance[k] = vIn * instance.variance[k] + vLn * layer.variance[n] + vBn * bnVar[c];
    }
  }
  const output = standardize(x, perInstance, mean, variance, attrs.eps, affine);
  if (batchStats === undefined) return { output };
  return {
    output,
    updatedStats: updateRunningStats(running, batchStats.mean, batchStats.variance, batchStats.count, attrs),
  };
}
