/**
 * Group normalization (Wu & He 2018) on [N, C] or [N, C, H, W], same in train and eval:
 *
 *   channels split into G consecutive groups of C/G;
 *   mean, var per sample n and group g over (C/G, H, W), biased
 *   y = (x - mean) / sqrt(var + eps) * gamma[c] + beta[c]        (affine: gamma, beta [C]; else none)
 * G = C is InstanceNorm, G = 1 is LayerNorm over 'chw'.
 */
import type { AttrsByOp } from '../../ir/graph.ts';
import { requireDim, requireDivisible, requireRank } from '../check.ts';
import type { Float64Tensor } from '../tensor.ts';
import { readAffine, type AffineParams } from './layerNorm.ts';
import { momentsBy, standardize, type GroupOf } from './moments.ts';

export function groupNorm(x: Float64Tensor, params: AffineParams, attrs: AttrsByOp['groupNorm']): Float64Tensor {
  requireRank(x, [2, 4]);
  requireDim(x, 1, attrs.numChannels, 'attrs.numChannels');
  requireDivisible(attrs.numChannels, 'numChannels', attrs.groups, 'groups');
  const affine = readAffine(params, attrs.affine, [attrs.numChannels]);
  const { groups, numChannels } = attrs;
  const perGroup = numChannels / groups;
  const bySampleGroup: GroupOf = (n, c) => n * groups + Math.floor(c / perGroup);
  const { mean, variance } = momentsBy(x, x.shape[0] * groups, bySampleGroup);
  return standardize(x, bySampleGroup, mean, variance, attrs.eps, affine);
}
