/**
 * Batch renormalization (Ioffe 2017) on [N, C], [N, C, L] or [N, C, H, W], per channel c:
 *
 *   train:  sigma   = sqrt(runningVar + eps),      sigma_B = sqrt(var_B + eps)
 *           r = clip(sigma_B / sigma, 1/rMax, rMax)
 *           d = clip((mu_B - runningMean) / sigma, -dMax, dMax)
 *           y = ((x - mu_B) / sigma_B * r + d) * gamma + beta
 *           (mu_B, biased var_B over N, H, W as in BatchNorm; running statistics updated like BatchNorm)
 *   eval:   y = (x - runningMean) / sigma * gamma + beta          (BatchNorm eval)
 *
 * Forward values at the clip limits: rMax = 1, dMax = 0 gives r = 1, d = 0, i.e. BatchNorm train;
 * unclipped r and d give (x - runningMean) / sigma, i.e. BatchNorm eval (r and d are constants
 * for the gradient only, which the forward pass does not see).
 */
import type { BatchRenormAttrs } from '../../ir/graph.ts';
import { requireDim, requireRank } from '../check.ts';
import { channelView, zeros, type Float64Tensor } from '../tensor.ts';
import { readBatchNormParams, type BatchNormParams } from './batchNorm.ts';
import { momentsBy, standardize, type GroupOf } from './moments.ts';
import { updateRunningStats, type NormResult, type ReferenceMode } from './runningStats.ts';

const byChannel: GroupOf = (_n, c) => c;

const clip = (value: number, low: number, high: number): number => Math.min(Math.max(value, low), high);

export function batchRenorm(x: Float64Tensor, params: BatchNormParams, attrs: BatchRenormAttrs, mode: ReferenceMode): NormResult {
  requireRank(x, [2, 3, 4]);
  requireDim(x, 1, attrs.numFeatures, 'attrs.numFeatures');
  const { affine, running } = readBatchNormParams(params, attrs.numFeatures, attrs.numFeatures);
  const { eps, rMax, dMax } = attrs;
  if (mode === 'eval') {
    return { output: standardize(x, byChannel, running.runningMean, running.runningVar, eps, affine) };
  }
  const batch = momentsBy(x, attrs.numFeatures, byChannel);
  const view = channelView(x.shape);
  const y = zeros(x.shape);
  for (let c = 0; c < view.c; c++) {
    const sigma = Math.sqrt(running.runningVar[c] + eps);
    const sigmaBatch = Math.sqrt(batch.variance[c] + eps);
    const r = clip(sigmaBatch / sigma, 1 / rMax, rMax);
    const d = clip((batch.mean[c] - running.runningMean[c]) / sigma, -dMax, dMax);
    for (let n = 0; n < view.n; n++) {
      const base = (n * view.c + c) * view.s;
      for (let s = 0; s < view.s; s++) {
        const normalized = ((x.data[base + s] - batch.mean[c]) / sigmaBatch) * r + d;
        y.data[base + s] = normalized * affine.gamma[c] + affine.beta[c];
      }
    }
  }
  return { output: y, updatedStats: updateRunningStats(running, batch.mean, batch.variance, batch.count, attrs) };
}
