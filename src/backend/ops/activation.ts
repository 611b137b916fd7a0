/**
 * Pointwise activations:
 *   relu(x) = max(x, 0)     relu6(x) = min(max(x, 0), 6)     leakyRelu(x) = x >= 0 ? x : alpha*x
 *   sigmoid(x) = 1 / (1 + e^-x)     tanh(x)
 * The first four also exist fused into conv/matMul kernels (`FusedActivation`); `applyActivation`
 * is their unfused spelling, used wherever a fused kernel cannot run.
 */
import * as tf from '@tensorflow/tfjs';
import type { FusedActivation, OpBuilder } from './types.ts';

export function applyActivation(x: tf.Tensor, activation: FusedActivation): tf.Tensor {
  switch (activation.kind) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'leakyrelu':
      return tf.leakyRelu(x, activation.leakyreluAlpha);
    case 'sigmoid':
      return tf.sigmoid(x);
  }
}

/** tfjs can differentiate a fused kernel only through these activations. */
export function fusedGradientExists(activation: FusedActivation): boolean {
  return activation.kind === 'linear' || activation.kind === 'relu';
}

export const relu: OpBuilder<'relu'> = () => ({ forward: ([x]) => tf.relu(x) });
export const relu6: OpBuilder<'relu6'> = () => ({ forward: ([x]) => tf.relu6(x) });
export const leakyRelu: OpBuilder<'leakyRelu'> = (node) => ({
  forward: ([x]) => tf.leakyRelu(x, node.attrs.alpha),
});
export const sigmoid: OpBuilder<'sigmoid'> = () => ({ forward: ([x]) => tf.sigmoid(x) });
export const tanh: OpBuilder<'tanh'> = () => ({ forward: ([x]) => tf.tanh(x) });
