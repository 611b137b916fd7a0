/**
 * Axis permutation, the batch axis kept first:
 *
 *   y[i_0, ..., i_{r-1}] = x[j]  where j[perm[k]] = i_k      (axis k of y is axis perm[k] of x)
 */
import type { AttrsByOp } from '../../ir/graph.ts';
import { ReferenceRunError } from '../errors.ts';
import { formatShape, zeros, type Float64Tensor } from '../tensor.ts';

export function transpose(x: Float64Tensor, attrs: AttrsByOp['transpose']): Float64Tensor {
  const { perm } = attrs;
  const rank = x.shape.length;
  if (perm.length !== rank) throw new ReferenceRunError(`perm ${formatShape(perm)} does not fit an input of shape ${formatShape(x.shape)}`);
  const y = zeros(perm.map((axis) => x.shape[axis]));
  const strides = new Array<number>(rank).fill(1);
  for (let k = rank - 2; k >= 0; k--) strides[k] = strides[k + 1] * x.shape[k + 1];
  const index = new Array<number>(rank).fill(0);
  for (let out = 0; out < y.data.length; out++) {
    let from = 0;
    for (let k = 0; k < rank; k++) from += index[k] * strides[perm[k]];
    y.data[out] = x.data[from];
    for (let k = rank - 1; k >= 0; k--) {
      if (++index[k] < y.shape[k]) break;
      index[k] = 0;
    }
  }
  return y;
}
