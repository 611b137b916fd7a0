/**
 * Per-channel affine map on axis 1 of [N, C], [N, C, L] or [N, C, H, W]: what BN chains and folds collapse into.
 *
 *   y[n, c, ...] = x[n, c, ...] * scale[c] + shift[c]
 */
import type { AttrsByOp } from '../../ir/graph.ts';
import { requireDim, requireParam, requireRank } from '../check.ts';
import { channelView, zeros, type Float64Tensor } from '../tensor.ts';

export interface ScaleShiftParams {
  readonly scale?: Float64Tensor;
  readonly shift?: Float64Tensor;
}

function perChannelAffine(x: Float64Tensor, scale: ArrayLike<number>, shift: ArrayLike<number>): Float64Tensor {
  const view = channelView(x.shape);
  const y = zeros(x.shape);
  for (let n = 0; n < view.n; n++) {
    for (let c = 0; c < view.c; c++) {
      const base = (n * view.c + c) * view.s;
      for (let s = 0; s < view.s; s++) y.data[base + s] = x.data[base + s] * scale[c] + shift[c];
    }
  }
  return y;
}

export function scaleShift(x: Float64Tensor, params: ScaleShiftParams, attrs: AttrsByOp['scaleShift']): Float64Tensor {
  requireRank(x, [2, 3, 4]);
  requireDim(x, 1, attrs.numChannels, 'attrs.numChannels');
  const scale = requireParam(params.scale, 'scale', [attrs.numChannels]).data;
  const shift = requireParam(params.shift, 'shift', [attrs.numChannels]).data;
  return perChannelAffine(x, scale, shift);
}
