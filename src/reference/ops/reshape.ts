/**
 * Reshape of the non-batch dims, row-major data unchanged:
 *
 *   [N, d_1, ..., d_k] -> [N, s_1, ..., s_m],   d_1 * ... * d_k = s_1 * ... * s_m
 */
import type { AttrsByOp } from '../../ir/graph.ts';
import { ReferenceRunError } from '../errors.ts';
import { formatShape, sizeOf, type Float64Tensor } from '../tensor.ts';

export function reshape(x: Float64Tensor, attrs: AttrsByOp['reshape']): Float64Tensor {
  const shape = [x.shape[0], ...attrs.shape];
  if (sizeOf(shape) !== x.data.length) throw new ReferenceRunError(`cannot reshape ${formatShape(x.shape)} into ${formatShape(shape)}`);
  return { shape, data: Float64Array.from(x.data) };
}
