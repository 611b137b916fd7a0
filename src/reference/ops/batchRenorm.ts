/**
 * Batch renormalization (Ioffe 2017, Algorithm 1; Keras' BatchNormalization(renorm=True)) on
 * [N, C], [N, C, L] or [N, C, H, W], per channel c, with mu_B and the biased var_B over N (and L,
 * or H and W) as in BatchNorm:
 *
 *   train:  sigma_B = sqrt(var_B + eps)
 *           (mu, sigma) = (renormMean, max(renormStd, sqrt(eps)))        sigma 'movingStddev'
 *                         (runningMean, sqrt(runningVar + eps))          sigma 'runningVar'
 *           r = clip(sigma_B / sigma, 1/rMax_t, rMax_t)
 *           d = clip((mu_B - mu) / sigma, -dMax_t, dMax_t)
 *           y = ((x - mu_B) / sigma_B * r + d) * gamma + beta
 *           then, from the values before this batch:
 *             runningMean, runningVar as BatchNorm's (./runningStats.ts, with decay)
 *             renormMean <- renormDecay * renormMean + (1 - renormDecay) * mu_B       ('movingStddev')
 *             renormStd  <- renormDecay * renormStd  + (1 - renormDecay) * sigma_B
 *             batchesTracked <- batchesTracked + 1                                    (with a warmup)
 *   eval:   y = (x - runningMean) / sqrt(runningVar + eps) * gamma + beta   (BatchNorm eval)
 *
 * rMax_t, dMax_t are rMax, dMax, or with a warmup the schedule of src/ir/graph.ts (RenormWarmup)
 * at t = batchesTracked. rMax_t = 1, dMax_t = 0 gives r = 1, d = 0, i.e. BatchNorm train.
 */
import type { BatchRenormAttrs, RenormWarmup } from '../../ir/graph.ts';
import { requireDim, requireParam, requireRank } from '../check.ts';
import { channelView, zeros, type Float64Tensor } from '../tensor.ts';
import { readBatchNormParams, type BatchNormParams } from './batchNorm.ts';
import { momentsBy, standardize, type GroupOf } from './moments.ts';
import { updateRunningStats, type NormResult, type ReferenceMode } from './runningStats.ts';

export interface BatchRenormParams extends BatchNormParams {
  readonly renormMean?: Float64Tensor;
  readonly renormStd?: Float64Tensor;
  readonly batchesTracked?: Float64Tensor;
}

const byChannel: GroupOf = (_n, c) => c;

const clip = (value: number, low: number, high: number): number => Math.min(Math.max(value, low), high);

/** The clips at train step t (src/ir/graph.ts, RenormWarmup). */
export function renormClips(attrs: Pick<BatchRenormAttrs, 'rMax' | 'dMax'>, warmup: RenormWarmup | null, t: number): { rMax: number; dMax: number } {
  if (warmup === null) return { rMax: attrs.rMax, dMax: attrs.dMax };
  const ramp = (end: number) => clip((t - warmup.holdSteps) / (end - warmup.holdSteps), 0, 1);
  return { rMax: 1 + (attrs.rMax - 1) * ramp(warmup.rMaxSteps), dMax: attrs.dMax * ramp(warmup.dMaxSteps) };
}

export function batchRenorm(x: Float64Tensor, params: BatchRenormParams, attrs: BatchRenormAttrs, mode: ReferenceMode): NormResult {
  requireRank(x, [2, 3, 4]);
  const channels = attrs.numFeatures;
  requireDim(x, 1, channels, 'attrs.numFeatures');
  const { affine, running } = readBatchNormParams(params, channels, channels);
  const { eps } = attrs;
  if (mode === 'eval') {
    return { output: standardize(x, byChannel, running.runningMean, running.runningVar, eps, affine) };
  }
  const moving = attrs.sigma === 'movingStddev';
  const renormMean = moving ? requireParam(params.renormMean, 'renormMean', [channels]).data : running.runningMean;
  const renormStd = moving ? requireParam(params.renormStd, 'renormStd', [channels]).data : undefined;
  const t = attrs.warmup === null ? 0 : requireParam(params.batchesTracked, 'batchesTracked', [1]).data[0];
  const { rMax, dMax } = renormClips(attrs, attrs.warmup, t);

  const batch = momentsBy(x, channels, byChannel);
  const sigmaBatch = Float64Array.from(batch.variance, (v) => Math.sqrt(v + eps));
  const view = channelView(x.shape);
  const y = zeros(x.shape);
  for (let c = 0; c < view.c; c++) {
    const sigma = renormStd === undefined ? Math.sqrt(running.runningVar[c] + eps) : Math.max(renormStd[c], Math.sqrt(eps));
    const r = clip(sigmaBatch[c] / sigma, 1 / rMax, rMax);
    const d = clip((batch.mean[c] - renormMean[c]) / sigma, -dMax, dMax);
    for (let n = 0; n < view.n; n++) {
      const base = (n * view.c + c) * view.s;
      for (let s = 0; s < view.s; s++) {
        const normalized = ((x.data[base + s] - batch.mean[c]) / sigmaBatch[c]) * r + d;
        y.data[base + s] = normalized * affine.gamma[c] + affine.beta[c];
      }
    }
  }
  const blend = (old: Float64Array, fresh: Float64Array) => old.map((v, c) => attrs.renormDecay * v + (1 - attrs.renormDecay) * fresh[c]);
  return {
    output: y,
    updatedStats: {
      ...updateRunningStats(running, batch.mean, batch.variance, batch.count, attrs),
      ...(renormStd === undefined ? {} : { renormMean: blend(renormMean, batch.mean), renormStd: blend(renormStd, sigmaBatch) }),
      ...(attrs.warmup === null ? {} : { batchesTracked: Float64Array.of(t + 1) }),
    },
  };
}
