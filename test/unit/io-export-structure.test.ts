/**
 * Structure-preserving export: where nothing folds, a stock tfjs-layers model comes back as the
 * same layers (class, name, activation, SeparableConv2D whole); relu6 is the one measured
 * exception (a Conv2D's 'relu6' activation comes back as the conv and a ReLU(max_value 6) layer).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend/index.ts';
import { exportLayersModel, importLayersModel } from '../../src/io/index.ts';
import { expectCloseTo, loadFromMemory, predict, randomInput, randomizeWeights, saveToMemory } from './io-fixtures.ts';

type ST = tf.SymbolicTensor;
const L = tf.layers;
const on = (layer: tf.layers.Layer, x: ST | ST[]) => layer.apply(x) as ST;

interface LayerJSON {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
}
const layersOf = (json: { modelTopology: unknown }) => (json.modelTopology as { config: { layers: LayerJSON[] } }).config.layers;
const summary = (json: { modelTopology: unknown }) =>
  layersOf(json)
    .filter((l) => l.class_name !== 'InputLayer')
    .map((l) => `${l.class_name} ${l.config.name}${l.config.activation === undefined ? '' : ` ${String(l.config.activation)}`}`);

beforeAll(async () => {
  await selectBackend();
});

describe('a model with nothing to fold comes back layer for layer', () => {
  it('Conv2D/DepthwiseConv2D/SeparableConv2D/Conv2DTranspose/Dense keep their activation, class and name', async () => {
    const input = tf.input({ shape: [12, 12, 3], name: 'image' });
    let x = on(L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }), input);
    x = on(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'tanh', name: 'dw' }), x);
    x = on(L.separableConv2d({ filters: 12, kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'relu', name: 'sep' }), x);
    x = on(L.separableConv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'sep2' }), x);
    x = on(L.conv2dTranspose({ filters: 5, kernelSize: 2, strides: 2, padding: 'same', activation: 'sigmoid', name: 'up' }), x);
    x = on(L.conv2d({ filters: 4, kernelSize: 3, activation: 'relu6', name: 'c6' }), x);
    x = on(L.flatten({ name: 'flat' }), x);
    x = on(L.dense({ units: 7, activation: 'relu', name: 'fc' }), x);
    x = on(L.dense({ units: 3, name: 'out' }), x);
    const model = tf.model({ inputs: input, outputs: x, name: 'plain' });
    randomizeWeights(model, 3);
    const saved = await saveToMemory(model);
    const exported = exportLayersModel(importLayersModel(saved.modelJson, saved.weightData));
    expect(summary(exported.modelJson)).toEqual([
      'Conv2D c1 relu',
      'DepthwiseConv2D dw tanh',
      'SeparableConv2D sep relu',
      'SeparableConv2D sep2 linear',
      'Conv2DTranspose up sigmoid',
      'Conv2D c6 linear',
      'ReLU c6_relu6',
      'Flatten flat',
      'Dense fc relu',
      'Dense out linear',
    ]);
    const sep = layersOf(exported.modelJson).find((l) => l.name === 'sep') as LayerJSON;
    const original = layersOf(saved.modelJson).find((l) => l.name === 'sep') as LayerJSON;
    for (const field of ['filters', 'kernel_size', 'strides', 'dilation_rate', 'padding', 'use_bias']) expect(sep.config[field], field).toEqual(original.config[field]);
    expect(sep.config.depth_multiplier).toBe(2);
    const x0 = randomInput([2, 12, 12, 3], 9);
    const reloaded = await loadFromMemory(exported);
    expectCloseTo(predict(reloaded, x0), predict(model, x0), 'exported');
    tf.dispose([x0]);
    reloaded.dispose();
    model.dispose();
  });

  it('a separate Activation after a conv is taken into the conv only when the conv has no other reader', async () => {
    const input = tf.input({ shape: [6, 6, 2], name: 'image' });
    const c = on(L.conv2d({ filters: 3, kernelSize: 1, name: 'c' }), input);
    const r = on(L.activation({ activation: 'relu', name: 'r' }), c);
    const d = on(L.conv2d({ filters: 3, kernelSize: 1, name: 'd' }), r);
    const s = on(L.activation({ activation: 'sigmoid', name: 's' }), d);
    const model = tf.model({ inputs: input, outputs: [on(L.add({ name: 'sum' }), [d, s])], name: 'readers' });
    randomizeWeights(model, 4);
    const saved = await saveToMemory(model);
    const exported = exportLayersModel(importLayersModel(saved.modelJson, saved.weightData));
    expect(summary(exported.modelJson)).toEqual(['Conv2D c relu', 'Conv2D d linear', 'Activation s sigmoid', 'Add sum']);
    const x0 = randomInput([1, 6, 6, 2], 2);
    const reloaded = await loadFromMemory(exported);
    expectCloseTo(predict(reloaded, x0), predict(model, x0), 'exported');
    x0.dispose();
    reloaded.dispose();
    model.dispose();
  });

  it('a ZeroPadding2D read by a max pool (keras.applications ResNet stems) and by an Add comes back as itself', async () => {
    const input = tf.input({ shape: [7, 7, 3], name: 'image' });
    const c = on(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'c' }), input);
    const pad = on(L.zeroPadding2d({ padding: [[1, 0], [2, 1]], name: 'pool1_pad' }), c);
    const pooled = on(L.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }), pad);
    const sum = on(L.add({ name: 'sum' }), [pad, on(L.conv2d({ filters: 4, kernelSize: 1, name: 'd' }), pad)]);
    const model = tf.model({ inputs: input, outputs: [pooled, sum], name: 'padded' });
    randomizeWeights(model, 6);
    const saved = await saveToMemory(model);
    const exported = exportLayersModel(importLayersModel(saved.modelJson, saved.weightData));
    expect(summary(exported.modelJson)).toEqual(['Conv2D c tanh', 'ZeroPadding2D pool1_pad', 'MaxPooling2D pool1_pool', 'Conv2D d linear', 'Add sum']);
    const x0 = randomInput([2, 7, 7, 3], 8);
    const reloaded = await loadFromMemory(exported);
    const both = (m: tf.LayersModel) => tf.tidy(() => tf.concat((m.predict(x0) as tf.Tensor[]).map((t) => t.flatten())).dataSync() as Float32Array);
    expectCloseTo(both(reloaded), both(model), 'exported');
    x0.dispose();
    reloaded.dispose();
    model.dispose();
  });
});
