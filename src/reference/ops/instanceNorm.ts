/**
 * Instance normalization (Ulyanov et al. 2016) on [N, C, H, W], same in train and eval (no
 * running statistics):
 *
 *   mean, var per sample n and channel c over (H, W), biased
 *   y = (x - mean) / sqrt(var + eps) * gamma[c] + beta[c]        (affine: gamma, beta [C]; else none)
 */
import type { AttrsByOp } from '../../ir/graph.ts';
import { requireDim, requireRank } from '../check.ts';
import type { Float64Tensor } from '../tensor.ts';
import { readAffine, type AffineParams } from './layerNorm.ts';
import { momentsBy, standardize, type GroupOf } from './moments.ts';

export function instanceNorm(x: Float64Tensor, params: AffineParams, attrs: AttrsByOp['instanceNorm']): Float64Tensor {
  requireRank(x, [4]);
  requireDim(x, 1, attrs.numFeatures, 'attrs.numFeatures');
  const affine = readAffine(params, attrs.affine, [attrs.numFeatures]);
  const [batch, channels] = x.shape;
  const perInstance: GroupOf = (n, c) => n * channels + c;
  const { mean, variance } = momentsBy(x, batch * channels, perInstance);
  return standardize(x, perInstance, mean, variance, attrs.eps, affine);
}
