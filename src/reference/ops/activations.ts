/**
 * Elementwise activations, any shape:
 *
 *   relu(x)       = max(x, 0)
 *   relu6(x)      = min(max(x, 0), 6)
 *   leakyRelu(x)  = x if x >= 0, else alpha * x
 *   sigmoid(x)    = 1 / (1 + exp(-x))
 *   tanh(x)       = (exp(x) - exp(-x)) / (exp(x) + exp(-x))
 */
import { mapValues, type Float64Tensor } from '../tensor.ts';

export const relu = (x: Float64Tensor): Float64Tensor => mapValues(x, (v) => Math.max(v, 0));

export const relu6 = (x: Float64Tensor): Float64Tensor => mapValues(x, (v) => Math.min(Math.max(v, 0), 6));

export const leakyRelu = (x: Float64Tensor, alpha: number): Float64Tensor =>
  mapValues(x, (v) => (v >= 0 ? v : alpha * v));

/** Split by sign so exp never overflows: for v < 0, exp(v) / (1 + exp(v)). */
export const sigmoid = (x: Float64Tensor): Float64Tensor =>
  mapValues(x, (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))));

export const tanh = (x: Float64Tensor): Float64Tensor => mapValues(x, Math.tanh);
