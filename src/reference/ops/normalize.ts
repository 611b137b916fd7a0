/**
 * Input preprocessing with constant per-channel statistics (attrs, not trained), axis 1:
 *
 *   y[n, c, ...] = (x[n, c, ...] - mean[c]) / std[c]
 *
 * computed as written (subtract, then divide) rather than as x * (1/std) + (-mean/std), so the
 * oracle does not share the rounding of the folded form it is meant to check.
 */
import type { AttrsByOp } from '../../ir/graph.ts';
import { requireDim, requireRank } from '../check.ts';
import { ReferenceRunError } from '../errors.ts';
import { channelView, zeros, type Float64Tensor } from '../tensor.ts';

export function normalize(x: Float64Tensor, attrs: AttrsByOp['normalize']): Float64Tensor {
  requireRank(x, [2, 3, 4]);
  const { mean, std } = attrs;
  if (mean.length !== std.length) {
    throw new ReferenceRunError(`attrs.mean has ${mean.length} values but attrs.std has ${std.length}`);
  }
  requireDim(x, 1, mean.length, 'the length of attrs.mean and attrs.std');
  const view = channelView(x.shape);
  const y = zeros(x.shape);
  for (let n = 0; n < view.n; n++) {
    for (let c = 0; c < view.c; c++) {
      const base = (n * view.c + c) * view.s;
      for (let s = 0; s < view.s; s++) y.data[base + s] = (x.data[base + s] - mean[c]) / std[c];
    }
  }
  return y;
}
