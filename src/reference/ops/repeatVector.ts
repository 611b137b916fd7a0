/**
 * Keras RepeatVector in channels-first order: [N, C] -> [N, C, T],
 *
 *   y[n, c, t] = x[n, c]      for t < times
 */
import type { AttrsByOp } from '../../ir/graph.ts';
import { requireRank } from '../check.ts';
import { zeros, type Float64Tensor } from '../tensor.ts';

export function repeatVector(x: Float64Tensor, attrs: AttrsByOp['repeatVector']): Float64Tensor {
  requireRank(x, [2]);
  const [n, c] = x.shape;
  const y = zeros([n, c, attrs.times]);
  for (let i = 0; i < n * c; i++) y.data.fill(x.data[i], i * attrs.times, (i + 1) * attrs.times);
  return y;
}
