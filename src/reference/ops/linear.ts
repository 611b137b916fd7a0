/**
 * Fully connected layer (PyTorch Linear), on the features at axis 1 of [N, in, ...] (Keras Dense
 * on any rank acts on its last axis, which is the IR's axis 1):
 *
 *   x [N, in, S...], weight [out, in], bias [out]
 *   y[n, o, s] = bias[o] + sum_i x[n, i, s] * weight[o, i]        (on [N, in]: y = x W^T + b)
 */
import type { LinearAttrs } from '../../ir/graph.ts';
import { paramIf, requireDim, requireParam, requireRank } from '../check.ts';
import { channelView, zeros, type Float64Tensor, type ParamValues } from '../tensor.ts';

export interface LinearParams {
  readonly weight?: ParamValues;
  readonly bias?: ParamValues;
}

/** The checks linear and weightNormLinear share: returns the weight shape. */
export function checkLinearArgs(x: Float64Tensor, attrs: LinearAttrs): readonly number[] {
  if (x.shape.length < 2) requireRank(x, [2]);
  requireDim(x, 1, attrs.inFeatures, 'attrs.inFeatures');
  return [attrs.outFeatures, attrs.inFeatures];
}

export function linear(x: Float64Tensor, params: LinearParams, attrs: LinearAttrs): Float64Tensor {
  const weight = requireParam(params.weight, 'weight', checkLinearArgs(x, attrs)).data;
  const bias = paramIf(attrs.bias, 'bias', params.bias, 'bias', [attrs.outFeatures])?.data;
  const { n: batch, s: positions } = channelView(x.shape);
  const { inFeatures, outFeatures } = attrs;
  const y = zeros(x.shape.map((d, i) => (i === 1 ? outFeatures : d)));
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < outFeatures; o++) {
      for (let s = 0; s < positions; s++) {
        let sum = bias === undefined ? 0 : bias[o];
        for (let i = 0; i < inFeatures; i++) sum += x.data[(n * inFeatures + i) * positions + s] * weight[o * inFeatures + i];
        y.data[(n * outFeatures + o) * positions + s] = sum;
      }
    }
  }
  return y;
}
