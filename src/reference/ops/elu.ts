/**
 * Exponential linear unit:
 *
 *   elu(x) = x if x > 0, else alpha * (exp(x) - 1)
 */
import { mapValues, type Float64Tensor } from '../tensor.ts';

export const elu = (x: Float64Tensor, alpha: number): Float64Tensor => mapValues(x, (v) => (v > 0 ? v : alpha * Math.expm1(v)));
