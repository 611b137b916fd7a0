/**
 * Fully connected layer (PyTorch Linear).
 *
 *   x [N, in], weight [out, in], bias [out]
 *   y[n, o] = bias[o] + sum_i x[n, i] * weight[o, i]        (y = x W^T + b)
 */
import type { LinearAttrs } from '../../ir/graph.ts';
import { paramIf, requireDim, requireParam, requireRank } from '../check.ts';
import { zeros, type Float64Tensor } from '../tensor.ts';

export interface LinearParams {
  readonly weight?: Float64Tensor;
  readonly bias?: Float64Tensor;
}

/** The checks linear and weightNormLinear share: returns the weight shape. */
export function checkLinearArgs(x: Float64Tensor, attrs: LinearAttrs): readonly number[] {
  requireRank(x, [2]);
  requireDim(x, 1, attrs.inFeatures, 'attrs.inFeatures');
  return [attrs.outFeatures, attrs.inFeatures];
}

export function linear(x: Float64Tensor, params: LinearParams, attrs: LinearAttrs): Float64Tensor {
  const weight = requireParam(params.weight, 'weight', checkLinearArgs(x, attrs)).data;
  const bias = paramIf(attrs.bias, 'bias', params.bias, 'bias', [attrs.outFeatures])?.data;
  const [batch] = x.shape;
  const { inFeatures, outFeatures } = attrs;
  const y = zeros([batch, outFeatures]);
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < outFeatures; o++) {
      let sum = bias === undefined ? 0 : bias[o];
      for (let i = 0; i < inFeatures; i++) sum += x.data[n * inFeatures + i] * weight[o * inFeatures + i];
      y.data[n * outFeatures + o] = sum;
    }
  }
  return y;
}
