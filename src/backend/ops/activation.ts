/**
 * Pointwise activations, on channels-last tensors:
 *   relu(x) = max(x, 0)     relu6(x) = min(max(x, 0), 6)     leakyRelu(x) = x >= 0 ? x : alpha*x
 *   sigmoid(x) = 1 / (1 + e^-x)     tanh(x)
 *   activation    the parameterless family of ActivationFn (src/ir/graph.ts), in tfjs-layers'
 *                 own formulas (erf-based gelu, hardSigmoid = clip(0.2x + 0.5, 0, 1), ...)
 *   elu           x > 0 ? x : alpha (e^x - 1)
 *   generalRelu   x > threshold ? min(x, maxValue) : negativeSlope (x - threshold)
 *   prelu         x >= 0 ? x : alpha x, alpha [d_1, ..., C] broadcast over the batch and shared axes
 *   softmax, logSoftmax   along the IR axis, which is channels-last axis channelsLastAxis(axis)
 * The first four also exist fused into conv/matMul kernels (`FusedActivation`); `applyActivation`
 * is their unfused spelling, used wherever a fused kernel cannot run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { channelsLastAxis } from '../../ir/axes.ts';
import type { ActivationFn } from '../../ir/graph.ts';
import type { FusedActivation, Layout, OpBuilder } from './types.ts';

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

const softplus = (x: tf.Tensor): tf.Tensor => tf.softplus(x);

const FUNCTIONS: { readonly [F in ActivationFn]: (x: tf.Tensor) => tf.Tensor } = {
  selu: (x) => tf.selu(x),
  gelu: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))),
  geluTanh: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))))),
  hardSigmoid: (x) => tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1),
  softplus,
  softsign: (x) => tf.div(x, tf.add(tf.abs(x), 1)),
  swish: (x) => tf.mul(x, tf.sigmoid(x)),
  mish: (x) => tf.mul(x, tf.tanh(softplus(x))),
};

export const activation: OpBuilder<'activation'> = (node) => {
  const fn = FUNCTIONS[node.attrs.fn];
  return { forward: ([x]) => fn(x) };
};

export const elu: OpBuilder<'elu'> = (node) => {
  const { alpha } = node.attrs;
  if (alpha === 1) return { forward: ([x]) => tf.elu(x) };
  return { forward: ([x]) => tf.where(tf.greater(x, 0), x, tf.mul(alpha, tf.expm1(x))) };
};

export const generalRelu: OpBuilder<'generalRelu'> = (node) => {
  const { maxValue, negativeSlope, threshold } = node.attrs;
  return {
    forward: ([x]) => {
      const above = maxValue === null ? x : tf.minimum(x, maxValue);
      return tf.where(tf.greater(x, threshold), above, tf.mul(negativeSlope, tf.sub(x, threshold)));
    },
  };
};

/** PReLU's alpha [C, d_1, ...] (IR) <-> [d_1, ..., C] (channels-last, broadcasting against [N, d_1, ..., C]). */
function alphaLayout(rank: number): Layout {
  return { perm: [...Array.from({ length: rank - 1 }, (_, i) => i + 1), 0] };
}

export const prelu: OpBuilder<'prelu'> = (node, params) => {
  const alpha = params.trainable('alpha', alphaLayout(node.attrs.alphaShape.length));
  return { forward: ([x]) => tf.prelu(x, alpha) };
};

/** tfjs' softmax kernels take the last axis only; elsewhere exp(x - logsumexp(x)), the same function. */
function alongAxis(axis: number, log: boolean): (x: tf.Tensor) => tf.Tensor {
  return (x) => {
    const along = channelsLastAxis(axis, x.rank);
    if (along === x.rank - 1) return log ? tf.logSoftmax(x) : tf.softmax(x);
    const logProbabilities = tf.sub(x, tf.logSumExp(x, along, true));
    return log ? logProbabilities : tf.exp(logProbabilities);
  };
}

export const softmax: OpBuilder<'softmax'> = (node) => {
  const f = alongAxis(node.attrs.axis, false);
  return { forward: ([x]) => f(x) };
};

export const logSoftmax: OpBuilder<'logSoftmax'> = (node) => {
  const f = alongAxis(node.attrs.axis, true);
  return { forward: ([x]) => f(x) };
};
