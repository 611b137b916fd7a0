/**
 * keras.applications' InceptionV3 (299x299: 94 conv -> BN -> ReLU, 1x7/7x1 factorised convs,
 * 'valid' reductions, average-pool branches, concats), written with stock tfjs-layers the way
 * Keras builds it, for benchmarks on a model of its size and shape. Weights are the caller's
 * (layers-timing.ts randomizeLayersWeights).
 */
import * as tf from '@tensorflow/tfjs';

type ST = tf.SymbolicTensor;
const L = tf.layers;
const apply = (layer: tf.layers.Layer, x: ST | ST[]): ST => layer.apply(x) as ST;

export function inceptionV3(size = 299, classes = 1000): tf.LayersModel {
  let count = 0;
  const convBn = (x: ST, filters: number, kh: number, kw: number, padding: 'same' | 'valid' = 'same', strides = 1): ST => {
    const k = ++count;
    const y = apply(L.conv2d({ filters, kernelSize: [kh, kw], strides, padding, useBias: false, name: `conv2d_${k}` }), x);
    const z = apply(L.batchNormalization({ scale: false, name: `batch_normalization_${k}` }), y);
    return apply(L.activation({ activation: 'relu', name: `activation_${k}` }), z);
  };
  const concat = (xs: ST[], name: string) => apply(L.concatenate({ axis: -1, name }), xs);
  const avgPool = (x: ST) => apply(L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }), x);
  const maxPool = (x: ST) => apply(L.maxPooling2d({ poolSize: 3, strides: 2 }), x);

  const input = tf.input({ shape: [size, size, 3], name: 'input_1' });
  let x = convBn(input, 32, 3, 3, 'valid', 2);
  x = convBn(x, 32, 3, 3, 'valid');
  x = convBn(x, 64, 3, 3);
  x = maxPool(x);
  x = convBn(x, 80, 1, 1, 'valid');
  x = convBn(x, 192, 3, 3, 'valid');
  x = maxPool(x);
  for (const [i, pool] of [32, 64, 64].entries()) {
    const b5 = convBn(convBn(x, 48, 1, 1), 64, 5, 5);
    const b3 = convBn(convBn(convBn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3);
    x = concat([convBn(x, 64, 1, 1), b5, b3, convBn(avgPool(x), pool, 1, 1)], `mixed${i}`);
  }
  x = concat([convBn(x, 384, 3, 3, 'valid', 2), convBn(convBn(convBn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, 'valid', 2), maxPool(x)], 'mixed3');
  for (const [i, c] of [128, 160, 160, 192].entries()) {
    const b7 = convBn(convBn(convBn(x, c, 1, 1), c, 1, 7), 192, 7, 1);
    const b7dbl = convBn(convBn(convBn(convBn(convBn(x, c, 1, 1), c, 7, 1), c, 1, 7), c, 7, 1), 192, 1, 7);
    x = concat([convBn(x, 192, 1, 1), b7, b7dbl, convBn(avgPool(x), 192, 1, 1)], `mixed${4 + i}`);
  }
  const b3 = convBn(convBn(x, 192, 1, 1), 320, 3, 3, 'valid', 2);
  const b7x3 = convBn(convBn(convBn(convBn(x, 192, 1, 1), 192, 1, 7), 192, 7, 1), 192, 3, 3, 'valid', 2);
  x = concat([b3, b7x3, maxPool(x)], 'mixed8');
  for (let i = 0; i < 2; i++) {
    const a = convBn(x, 384, 1, 1);
    const b3x3 = concat([convBn(a, 384, 1, 3), convBn(a, 384, 3, 1)], `mixed9_${i}`);
    const d = convBn(convBn(x, 448, 1, 1), 384, 3, 3);
    const dbl = concat([convBn(d, 384, 1, 3), convBn(d, 384, 3, 1)], `concatenate_${i + 1}`);
    x = concat([convBn(x, 320, 1, 1), b3x3, dbl, convBn(avgPool(x), 192, 1, 1)], `mixed${9 + i}`);
  }
  x = apply(L.globalAveragePooling2d({ name: 'avg_pool' }), x);
  // Keras ends with a softmax; shapefold's importer takes Dense activations up to tanh, so logits.
  x = apply(L.dense({ units: classes, name: 'predictions' }), x);
  return tf.model({ inputs: input, outputs: x, name: 'inception_v3' });
}
