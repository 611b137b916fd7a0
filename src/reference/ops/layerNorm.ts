/**
 * Layer normalization on [N, C] or [N, C, H, W], biased variance, same in train and eval:
 *
 *   over 'chw':  mean, var per sample n over (C, H, W)
 *   over 'c':    mean, var per sample n and position (h, w) over C  (ConvNeXt's channels-last LN)
 *   y = (x - mean) / sqrt(var + eps) * gamma[c] + beta[c]        (affine: gamma, beta [C]; else none)
 * On [N, C] both choices normalise each sample over its C features.
 */
import type { AttrsByOp } from '../../ir/graph.ts';
import { paramIf, requireDim, requireRank } from '../check.ts';
import { channelView, type Float64Tensor } from '../tensor.ts';
import { momentsBy, standardize, type Affine, type GroupOf } from './moments.ts';

export interface AffineParams {
  readonly gamma?: Float64Tensor;
  readonly beta?: Float64Tensor;
}

/** gamma/beta [C] when `affine`, none otherwise. */
export function readAffine(params: AffineParams, affine: boolean, channels: number): Affine | undefined {
  const gamma = paramIf(affine, 'affine', params.gamma, 'gamma', [channels]);
  const beta = paramIf(affine, 'affine', params.beta, 'beta', [channels]);
  return gamma === undefined || beta === undefined ? undefined : { gamma: gamma.data, beta: beta.data };
}

export function layerNorm(x: Float64Tensor, params: AffineParams, attrs: AttrsByOp['layerNorm']): Float64Tensor {
  requireRank(x, [2, 4]);
  requireDim(x, 1, attrs.numChannels, 'attrs.numChannels');
  const affine = readAffine(params, attrs.affine, attrs.numChannels);
  const view = channelView(x.shape);
  const [groups, groupOf]: [number, GroupOf] =
    attrs.over === 'chw' ? [view.n, (n) => n] : [view.n * view.s, (n, _c, s) => n * view.s + s];
  const { mean, variance } = momentsBy(x, groups, groupOf);
  return standardize(x, groupOf, mean, variance, attrs.eps, affine);
}
