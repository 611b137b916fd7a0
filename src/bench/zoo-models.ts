/**
 * The model zoo: architectures users bring, built with stock tfjs-layers the way Keras users
 * build them, at any input size. The test suite runs them small (test/unit/io-zoo.test.ts) and
 * `npm run bench:zoo` full size, from these same definitions.
 */
import * as tf from '@tensorflow/tfjs';

type ST = tf.SymbolicTensor;
const L = tf.layers;
const apply = (layer: tf.layers.Layer, x: ST | ST[]): ST => layer.apply(x) as ST;

export interface ZooOptions {
  /** Input height and width. */
  readonly size: number;
}

/**
 * Shared layers: a conv and a whole Sequential encoder (conv, BN, ReLU), each called on two
 * inputs (a Siamese pair), merged by Add, then a head with a BN of its own.
 */
export function sharedLayers({ size }: ZooOptions): tf.LayersModel {
  const a = tf.input({ shape: [size, size, 3], name: 'left' });
  const b = tf.input({ shape: [size, size, 3], name: 'right' });
  const shared = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'shared_conv' });
  const encoder = tf.sequential({
    name: 'enc',
    layers: [
      L.conv2d({ inputShape: [size, size, 4], filters: 6, kernelSize: 3, padding: 'same', name: 'enc_conv' }),
      L.batchNormalization({ name: 'enc_bn' }),
      L.reLU({ name: 'enc_relu' }),
    ],
  });
  const merged = apply(L.add({ name: 'merge' }), [encoder.apply(apply(shared, a)) as ST, encoder.apply(apply(shared, b)) as ST]);
  let x = apply(L.conv2d({ filters: 8, kernelSize: 1, useBias: false, name: 'head_conv' }), merged);
  x = apply(L.reLU({ name: 'head_relu' }), apply(L.batchNormalization({ name: 'head_bn' }), x));
  x = apply(L.globalAveragePooling2d({ name: 'gap' }), x);
  x = apply(L.dense({ units: 5, name: 'logits' }), x);
  return tf.model({ inputs: [a, b], outputs: x, name: 'siamese' });
}

/**
 * Models nested four deep: a Sequential holding a Sequential stem and a functional residual body,
 * which holds a Sequential, which holds a functional core. Every BN follows a conv.
 */
export function nestedModels({ size }: ZooOptions): tf.LayersModel {
  const stem = tf.sequential({
    name: 'stem',
    layers: [
      L.conv2d({ inputShape: [size, size, 3], filters: 8, kernelSize: 3, padding: 'same', useBias: false, name: 'stem_conv' }),
      L.batchNormalization({ name: 'stem_bn' }),
      L.reLU({ name: 'stem_relu' }),
    ],
  });
  const coreIn = tf.input({ shape: [size, size, 8], name: 'core_in' });
  const core = tf.model({
    name: 'core',
    inputs: coreIn,
    outputs: apply(L.batchNormalization({ name: 'core_bn' }), apply(L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'core_conv' }), coreIn)),
  });
  const deep = tf.sequential({ name: 'deep', layers: [L.inputLayer({ inputShape: [size, size, 8], name: 'deep_in' }), core, L.reLU({ name: 'deep_relu' })] });
  const bodyIn = tf.input({ shape: [size, size, 8], name: 'body_in' });
  let y = apply(L.conv2d({ filters: 8, kernelSize: 1, useBias: false, name: 'body_conv' }), bodyIn);
  y = apply(L.batchNormalization({ name: 'body_bn' }), y);
  y = deep.apply(y) as ST;
  const body = tf.model({ name: 'body', inputs: bodyIn, outputs: apply(L.reLU({ name: 'body_out' }), apply(L.add({ name: 'body_add' }), [bodyIn, y])) });
  return tf.sequential({
    name: 'nested',
    layers: [stem, body, L.globalAveragePooling2d({ name: 'gap' }), L.dense({ units: 4, name: 'logits' })],
  });
}
