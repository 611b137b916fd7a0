/**
 * Reshape, Permute, RepeatVector, Flatten of any rank, BatchNormalization on any axis and
 * LayerNormalization through tfjs Layers import, fold and export, against stock tfjs-layers
 * `model.predict` on models built with tf.layers. Keras reshapes and permutes its channels-last
 * tensors; the IR is channels-first, so these go through explicit transposes, which export merges
 * back into the Keras layers.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend/index.ts';
import { foldGraph } from '../../src/fold/index.ts';
import { LAYERS_FOLD_OPTIONS, exportLayersModel, importLayersModel, type LayersModelJSON } from '../../src/io/index.ts';
import { describeRoundTrips, expectCloseTo, layerClasses, loadFromMemory, predict, randomInput, randomizeWeights, runOurs, saveToMemory, type RoundTripCase } from './io-fixtures.ts';

const L = tf.layers;

const seq = (name: string, layers: tf.layers.Layer[]) => () => tf.sequential({ name, layers });

/** The exported layer classes are exactly the original's, in order (a Sequential has no InputLayer). */
const sameClasses = (json: LayersModelJSON, original: LayersModelJSON) => {
  const layers = (j: LayersModelJSON) => layerClasses(j).filter((c) => c !== 'InputLayer');
  expect(layers(json)).toEqual(layers(original));
};

const CASES: readonly RoundTripCase[] = [
  {
    name: 'Reshape of an image into a sequence and back into an image',
    build: seq('reshapes', [
      L.conv2d({ inputShape: [6, 4, 3], filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }),
      L.reshape({ targetShape: [12, 8], name: 'to_seq' }),
      L.conv1d({ filters: 6, kernelSize: 3, name: 'conv1d' }),
      L.reshape({ targetShape: [5, -1, 4], name: 'to_img' }),
      L.conv2d({ filters: 2, kernelSize: 2, name: 'conv2' }),
    ]),
    inputShape: [2, 6, 4, 3],
    exported: sameClasses,
  },
  {
    name: 'Permute of an image, Flatten of the permuted map into a Dense',
    build: seq('permutes', [
      L.permute({ inputShape: [5, 4, 3], dims: [2, 1, 3], name: 'swap_hw' }),
      L.conv2d({ filters: 4, kernelSize: 2, name: 'conv' }),
      L.permute({ dims: [3, 1, 2], name: 'channels_first' }),
      L.flatten({ name: 'flat' }),
      L.dense({ units: 3, name: 'out' }),
    ]),
    inputShape: [2, 5, 4, 3],
    exported: sameClasses,
  },
  {
    name: 'RepeatVector into Conv1D, LayerNormalization, GlobalAveragePooling1D',
    build: seq('repeat', [
      L.dense({ inputShape: [6], units: 4, name: 'embed' }),
      L.repeatVector({ n: 5, name: 'repeat' }),
      L.conv1d({ filters: 3, kernelSize: 2, name: 'conv1d' }),
      L.layerNormalization({ name: 'ln' }),
      L.globalAveragePooling1d({ name: 'gap' }),
    ]),
    inputShape: [3, 6],
    exported: sameClasses,
  },
  {
    name: 'LayerNormalization on an image, center and scale off',
    build: seq('ln_img', [
      L.conv2d({ inputShape: [5, 6, 3], filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }),
      L.layerNormalization({ name: 'ln' }),
      L.layerNormalization({ center: false, scale: false, epsilon: 1e-5, name: 'ln_plain' }),
      L.conv2d({ filters: 2, kernelSize: 1, name: 'head' }),
    ]),
    inputShape: [2, 5, 6, 3],
    exported: sameClasses,
  },
  {
    name: 'Flatten of a map as the model output, Flatten of a sequence',
    build: seq('flat_out', [
      L.conv1d({ inputShape: [7, 3], filters: 4, kernelSize: 2, name: 'conv1d' }),
      L.flatten({ name: 'flat' }),
    ]),
    inputShape: [2, 7, 3],
  },
];

describeRoundTrips(CASES, 12);

/**
 * tfjs-layers 4.22 runs BatchNormalization on a non-last axis wrongly: it reshapes the parameters
 * to broadcast along that axis, but tf.batchNorm's kernels (cpu and wasm) index a parameter by the
 * element's flat position modulo its length, i.e. as if it lay along the last axis. The import
 * keeps Keras's meaning; the oracle computes it with plain tf ops.
 */
describe('BatchNormalization over height and width', () => {
  function build(): tf.LayersModel {
    return tf.sequential({
      name: 'bn_axes',
      layers: [
        L.conv2d({ inputShape: [5, 4, 3], filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }),
        L.batchNormalization({ axis: 1, name: 'bn_h' }),
        L.batchNormalization({ axis: 2, center: false, name: 'bn_w' }),
        L.flatten({ name: 'flat' }),
        L.batchNormalization({ scale: false, name: 'bn_flat' }),
        L.dense({ units: 3, name: 'out' }),
      ],
    });
  }

  /** Keras's BN on `axis` of x, from the layer's weights by name. */
  function kerasBatchNorm(x: tf.Tensor, layer: tf.layers.Layer, axis: number): tf.Tensor {
    const weight = (suffix: string) => layer.weights.find((w) => w.originalName.endsWith(suffix))?.read();
    const shape = x.shape.map((d, i) => (i === axis ? d : 1));
    const at = (t: tf.Tensor | undefined, fallback: number) => (t === undefined ? tf.scalar(fallback) : tf.reshape(t, shape));
    const normed = tf.div(tf.sub(x, at(weight('moving_mean'), 0)), tf.sqrt(tf.add(at(weight('moving_variance'), 1), 1e-3)));
    return tf.add(tf.mul(normed, at(weight('gamma'), 1)), at(weight('beta'), 0));
  }

  it("imports and exports Keras's meaning, which stock tfjs-layers does not compute", async () => {
    await selectBackend();
    const model = build();
    randomizeWeights(model, 12);
    const saved = await saveToMemory(model);
    const x = randomInput([2, 5, 4, 3], 8);
    const layer = (name: string) => model.getLayer(name);
    const expected = tf.tidy(() => {
      let y = layer('conv').apply(x) as tf.Tensor;
      y = kerasBatchNorm(y, layer('bn_h'), 1);
      y = kerasBatchNorm(y, layer('bn_w'), 2);
      y = kerasBatchNorm(tf.reshape(y, [2, -1]), layer('bn_flat'), 1);
      return (layer('out').apply(y) as tf.Tensor).dataSync() as Float32Array;
    });
    let worst = 0;
    predict(model, x).forEach((v, i) => (worst = Math.max(worst, Math.abs(v - expected[i]))));
    expect(worst).toBeGreaterThan(0.1);
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'gen.json');
    expectCloseTo(runOurs(graph, x), expected, 'imported');
    for (const g of [graph, foldGraph(graph, { ...LAYERS_FOLD_OPTIONS, probe: false }).graph]) {
      const reloaded = await loadFromMemory(exportLayersModel(g));
      expectCloseTo(predict(reloaded, x), expected, 'exported');
      reloaded.dispose();
    }
    tf.dispose(x);
    model.dispose();
  });
});

describe('named errors', () => {
  it.each([
    [[7, 7], 'config.target_shape [7,7] does not hold the 48 values of each sample'],
    [[-1, null], 'config.target_shape must be a list of positive sizes with at most one -1, got [-1,null]'],
    [[6, 0, 8], 'config.target_shape must be a list of positive sizes with at most one -1, got [6,0,8]'],
  ])('Reshape to %o', async (target, message) => {
    const model = tf.sequential({ layers: [L.conv2d({ inputShape: [4, 4, 3], filters: 3, kernelSize: 1, name: 'conv' }), L.reshape({ targetShape: [6, 8], name: 'bad' })] });
    const saved = await saveToMemory(model);
    const layers = (saved.modelJson.modelTopology as { config: { layers: { config: Record<string, unknown> }[] } }).config.layers;
    (layers.find((l) => l.config.name === 'bad') as { config: Record<string, unknown> }).config.target_shape = target;
    expect(() => importLayersModel(saved.modelJson, saved.weightData, 'gen.json')).toThrow(`gen.json: layer 'bad' (Reshape): ${message}`);
    model.dispose();
  });
});
