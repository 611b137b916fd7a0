/**
 * Keras' ReLU layer with every option (ThresholdedReLU is the case slope 0, no bound):
 *
 *   y = min(x, maxValue)                 if x > threshold
 *   y = negativeSlope * (x - threshold)  otherwise
 *
 * `maxValue` null is no bound. Continuous when threshold is 0; ThresholdedReLU jumps at theta.
 */
import type { AttrsByOp } from '../../ir/graph.ts';
import { mapValues, type Float64Tensor } from '../tensor.ts';

export function generalRelu(x: Float64Tensor, attrs: AttrsByOp['generalRelu']): Float64Tensor {
  const max = attrs.maxValue ?? Infinity;
  return mapValues(x, (v) => (v > attrs.threshold ? Math.min(v, max) : attrs.negativeSlope * (v - attrs.threshold)));
}
