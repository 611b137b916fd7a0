/**
 * The dropout family: the identity in eval mode; in train mode Keras' (tfjs-layers 4.22's) noise,
 * on channels-last tensors:
 *   dropout          keep each value with probability 1 - rate, scaled by 1/(1 - rate)
 *   spatialDropout   the same per sample and channel (noise shape [N, 1, ..., 1, C]): whole maps
 *   gaussianDropout  x * N(1, sqrt(rate / (1 - rate)))
 *   gaussianNoise    x + N(0, rate)                       (rate is the standard deviation)
 *   alphaDropout     dropped values set to SELU's negative saturation a' = -1.7581, then
 *                    a (x keep + a' (1 - keep)) + b, a = ((1 - rate)(1 + rate a'^2))^(-1/2),
 *                    b = -a a' rate: mean and variance are kept for SELU-normalised inputs. This
 *                    is Keras' formula; tfjs-layers 4.22 writes a' (keep - 1), the wrong sign,
 *                    which shifts the mean (0.6 for standard normal inputs at rate 0.2)
 * Random draws are constants to the gradient, so training differentiates through the mask.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DropoutKind } from '../../ir/graph.ts';
import type { OpBuilder } from './types.ts';

const SELU_NEGATIVE_SATURATION = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946;

const TRAIN: { readonly [K in DropoutKind]: (x: tf.Tensor, rate: number) => tf.Tensor } = {
  dropout: (x, rate) => tf.dropout(x, rate),
  spatialDropout: (x, rate) => tf.dropout(x, rate, [x.shape[0], ...new Array<number>(x.rank - 2).fill(1), x.shape[x.rank - 1]]),
  gaussianDropout: (x, rate) => tf.mul(x, tf.randomNormal(x.shape, 1, Math.sqrt(rate / (1 - rate)))),
  gaussianNoise: (x, rate) => tf.add(x, tf.randomNormal(x.shape, 0, rate)),
  alphaDropout: (x, rate) => {
    const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape), rate), 'float32');
    const a = ((1 - rate) * (1 + rate * SELU_NEGATIVE_SATURATION ** 2)) ** -0.5;
    const b = -a * SELU_NEGATIVE_SATURATION * rate;
    const dropped = tf.add(tf.mul(x, keep), tf.mul(tf.sub(1, keep), SELU_NEGATIVE_SATURATION));
    return tf.add(tf.mul(dropped, a), b);
  },
};

export const dropout: OpBuilder<'dropout'> = (node) => {
  const { kind, rate } = node.attrs;
  const noise = TRAIN[kind];
  return { forward: ([x], mode) => (mode === 'train' && rate > 0 ? noise(x, rate) : x) };
};
