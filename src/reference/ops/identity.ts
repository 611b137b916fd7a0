/**
 * y = x. A copy, so that a caller editing one tensor in the result does not edit another.
 */
import type { Float64Tensor } from '../tensor.ts';

export function identity(x: Float64Tensor): Float64Tensor {
  return { shape: [...x.shape], data: Float64Array.from(x.data) };
}
