/**
 * Flatten every dim after the batch, in NCHW (row-major) order:
 *
 *   [N, d_1, ..., d_k] -> [N, d_1 * ... * d_k],   y[n, i] = x[n, ...] at row-major offset i
 * The data does not move, only the shape changes.
 */
import { ReferenceRunError } from '../errors.ts';
import { formatShape, sizeOf, type Float64Tensor } from '../tensor.ts';

export function flatten(x: Float64Tensor): Float64Tensor {
  if (x.shape.length < 1) throw new ReferenceRunError(`input of shape ${formatShape(x.shape)} has no batch dim`);
  return { shape: [x.shape[0], sizeOf(x.shape.slice(1))], data: Float64Array.from(x.data) };
}
