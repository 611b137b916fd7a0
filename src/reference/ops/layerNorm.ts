/**
 * Layer normalization on [N, C], [N, C, L] or [N, C, H, W], biased variance, same in train and eval:
 *
 *   over 'chw':  mean, var per sample n over (C, H, W);
 *                y = (x - mean) / sqrt(var + eps) * gamma[c, h, w] + beta[c, h, w]   (PyTorch's
 *                LayerNorm([C, H, W]): element-wise affine over the normalized shape)
 *   over 'c':    mean, var per sample n and position (h, w) over C  (ConvNeXt's channels-last LN);
 *                y = (x - mean) / sqrt(var + eps) * gamma[c] + beta[c]
 * affine: false drops gamma and beta. On [N, C] both choices normalise each sample over its C
 * features with gamma, beta [C].
 */
import type { AttrsByOp } from '../../ir/graph.ts';
import { paramIf, requireDim, requireRank } from '../check.ts';
import { channelView, type Float64Tensor } from '../tensor.ts';
import { momentsBy, standardize, type Affine, type AffineIndex, type GroupOf } from './moments.ts';

export interface AffineParams {
  readonly gamma?: Float64Tensor;
  readonly beta?: Float64Tensor;
}

/** gamma/beta of `shape` when `affine`, none otherwise. */
export function readAffine(params: AffineParams, affine: boolean, shape: readonly number[]): Affine | undefined {
  const gamma = paramIf(affine, 'affine', params.gamma, 'gamma', shape);
  const beta = paramIf(affine, 'affine', params.beta, 'beta', shape);
  return gamma === undefined || beta === undefined ? undefined : { gamma: gamma.data, beta: beta.data };
}

export function layerNorm(x: Float64Tensor, params: AffineParams, attrs: AttrsByOp['layerNorm']): Float64Tensor {
  requireRank(x, [2, 3, 4]);
  const normalized = attrs.normalizedShape;
  requireDim(x, 1, normalized[0], 'attrs.normalizedShape[0]');
  if (attrs.over === 'chw') {
    for (let axis = 2; axis < x.shape.length; axis++) requireDim(x, axis, normalized[axis - 1], `attrs.normalizedShape[${axis - 1}]`);
  }
  const affine = readAffine(params, attrs.affine, normalized);
  const view = channelView(x.shape);
  const [groups, groupOf, affineIndex]: [number, GroupOf, AffineIndex] =
    attrs.over === 'chw'
      ? [view.n, (n) => n, (c, s) => c * view.s + s]
      : [view.n * view.s, (n, _c, s) => n * view.s + s, (c) => c];
  const { mean, variance } = momentsBy(x, groups, groupOf);
  return standardize(x, groupOf, mean, variance, attrs.eps, affine, affineIndex);
}
