/**
 * Keras models generated with tfjs-layers for the importer's tests: random weights and random
 * BatchNorm statistics (variance in [0.5, 1.5], gamma in [0.5, 1.5] with some negative), saved
 * to memory exactly as `model.save` writes model.json and weights.bin.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileGraph, selectBackend, type BackendName } from '../../src/backend/index.ts';
import { foldGraph } from '../../src/fold/index.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { layersModelToMemory, loadLayersFromMemory } from '../../src/bench/layers-timing.ts';
import { LAYERS_FOLD_OPTIONS, exportLayersModel, importLayersModel, type ExportedLayersModel, type LayersModelJSON } from '../../src/io/index.ts';

type ST = tf.SymbolicTensor;
const L = tf.layers;
const apply = (layer: tf.layers.Layer, x: ST | ST[]): ST => layer.apply(x) as ST;

/** Sets every weight to seeded random values; statistics as the file comment says. */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const rng = createRng(seed);
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const n = shape.reduce((p, d) => p * d, 1);
    const positive = /moving_variance/.test(w.originalName);
    const gamma = /gamma/.test(w.originalName);
    const data = Float32Array.from({ length: n }, () => {
      const u = rng();
      if (positive) return 0.5 + u;
      if (gamma) return (0.5 + u) * (rng() < 0.2 ? -1 : 1);
      return u - 0.5;
    });
    return tf.tensor(data, shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

export type SavedModel = ExportedLayersModel;

/** As `model.save` writes it, in memory. */
export const saveToMemory = layersModelToMemory;

/** Loads a saved model with stock tfjs-layers. */
export const loadFromMemory = loadLayersFromMemory;

/** Writes a saved model as files, `${dir}/model.json` and `${dir}/weights.bin`, for the CLI; returns the model.json path. */
export async function writeSavedModel(saved: SavedModel, dir: string): Promise<string> {
  const modelPath = join(dir, 'model.json');
  await writeFile(modelPath, JSON.stringify({ ...saved.modelJson, weightsManifest: [{ ...saved.modelJson.weightsManifest[0], paths: ['weights.bin'] }] }));
  await writeFile(join(dir, 'weights.bin'), new Uint8Array(saved.weightData));
  return modelPath;
}

function convBnRelu6(x: ST, filters: number, stride: number, name: string): ST {
  const padded = stride === 2 ? apply(L.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: `${name}_pad` }), x) : x;
  const conv = apply(L.conv2d({ filters, kernelSize: 3, strides: stride, padding: stride === 2 ? 'valid' : 'same', useBias: false, name }), padded);
  return apply(L.reLU({ maxValue: 6, name: `${name}_relu` }), apply(L.batchNormalization({ name: `${name}_bn` }), conv));
}

function depthwiseBlock(x: ST, filters: number, stride: number, name: string): ST {
  const padded = stride === 2 ? apply(L.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: `${name}_pad` }), x) : x;
  let y = apply(L.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: stride === 2 ? 'valid' : 'same', useBias: false, name: `${name}_dw` }), padded);
  y = apply(L.reLU({ maxValue: 6, name: `${name}_dw_relu` }), apply(L.batchNormalization({ name: `${name}_dw_bn` }), y));
  y = apply(L.conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false, name: `${name}_pw` }), y);
  return apply(L.reLU({ maxValue: 6, name: `${name}_pw_relu` }), apply(L.batchNormalization({ name: `${name}_pw_bn` }), y));
}

/**
 * MobileNet v1 as keras.applications writes it: ZeroPadding2D before each stride-2 conv,
 * conv/BN/ReLU6 and depthwise/BN/ReLU6 blocks, then GAP -> Reshape -> Dropout -> 1x1 conv -> Reshape.
 * `blocks` lists [filters, stride] of the depthwise blocks.
 */
export function mobileNetV1(opts: { size: number; first: number; blocks: readonly (readonly [number, number])[]; classes: number; prefix?: string }): tf.LayersModel {
  const p = opts.prefix ?? '';
  const input = tf.input({ shape: [opts.size, opts.size, 3], name: `${p}input` });
  let x = convBnRelu6(input, opts.first, 2, `${p}conv1`);
  opts.blocks.forEach(([filters, stride], i) => {
    x = depthwiseBlock(x, filters, stride, `${p}block${i + 1}`);
  });
  const channels = opts.blocks.at(-1)?.[0] ?? opts.first;
  x = apply(L.globalAveragePooling2d({ name: `${p}gap` }), x);
  x = apply(L.reshape({ targetShape: [1, 1, channels], name: `${p}reshape1` }), x);
  x = apply(L.dropout({ rate: 0.001, name: `${p}dropout` }), x);
  x = apply(L.conv2d({ filters: opts.classes, kernelSize: 1, padding: 'same', name: `${p}conv_preds` }), x);
  x = apply(L.reshape({ targetShape: [opts.classes], name: `${p}reshape2` }), x);
  return tf.model({ inputs: input, outputs: x, name: `${p}mobilenet` });
}

/** A small ResNet-style functional net: identity and projection shortcuts with Add, pools, dense head. */
export function resNetLike(): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 4], name: 'image' });
  const stem = apply(L.activation({ activation: 'relu', name: 'stem_relu' }), apply(L.batchNormalization({ name: 'stem_bn' }), apply(L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'stem' }), input)));
  let y = apply(L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, name: 'a_conv1' }), stem);
  y = apply(L.reLU({ name: 'a_relu1' }), apply(L.batchNormalization({ name: 'a_bn1' }), y));
  y = apply(L.batchNormalization({ name: 'a_bn2' }), apply(L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, name: 'a_conv2' }), y));
  let x = apply(L.reLU({ name: 'a_out' }), apply(L.add({ name: 'a_add' }), [stem, y]));
  const shortcut = apply(L.batchNormalization({ name: 'b_proj_bn' }), apply(L.conv2d({ filters: 16, kernelSize: 1, strides: 2, useBias: false, name: 'b_proj' }), x));
  y = apply(L.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'b_conv1' }), x);
  y = apply(L.leakyReLU({ alpha: 0.1, name: 'b_leaky' }), apply(L.batchNormalization({ name: 'b_bn1' }), y));
  y = apply(L.batchNormalization({ name: 'b_bn2' }), apply(L.conv2d({ filters: 16, kernelSize: 3, dilationRate: 2, padding: 'same', useBias: false, name: 'b_conv2' }), y));
  x = apply(L.reLU({ name: 'b_out' }), apply(L.add({ name: 'b_add' }), [shortcut, y]));
  x = apply(L.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'maxpool' }), x);
  x = apply(L.averagePooling2d({ poolSize: 2, padding: 'valid', name: 'avgpool' }), x);
  x = apply(L.globalAveragePooling2d({ name: 'gap' }), x);
  x = apply(L.dense({ units: 12, activation: 'relu', name: 'fc1' }), x);
  x = apply(L.dense({ units: 5, name: 'logits' }), x);
  return tf.model({ inputs: input, outputs: x, name: 'resnet_like' });
}

/** Sequential, no InputLayer of its own: conv -> BN -> pool -> Flatten -> Dense -> BN1d -> Dense. */
export function flattenHead(): tf.LayersModel {
  return tf.sequential({
    name: 'flatten_head',
    layers: [
      L.conv2d({ inputShape: [9, 7, 3], filters: 6, kernelSize: [3, 2], padding: 'valid', activation: 'tanh', name: 'fh_conv' }),
      L.batchNormalization({ name: 'fh_bn' }),
      L.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'fh_pool' }),
      L.flatten({ name: 'fh_flatten' }),
      L.dense({ units: 10, activation: 'sigmoid', name: 'fh_dense1' }),
      L.batchNormalization({ name: 'fh_bn1d', center: false }),
      L.dense({ units: 4, name: 'fh_dense2' }),
    ],
  });
}

/** Concatenate of a plain, a separable and a strided-valid branch, BN after the merge. */
export function concatNet(): tf.LayersModel {
  const input = tf.input({ shape: [10, 10, 5], name: 'cat_in' });
  const a = apply(L.conv2d({ filters: 4, kernelSize: 1, name: 'cat_a' }), input);
  const b = apply(L.separableConv2d({ filters: 6, kernelSize: 3, padding: 'same', depthMultiplier: 2, name: 'cat_b' }), input);
  const c = apply(L.batchNormalization({ name: 'cat_c_bn', scale: false }), apply(L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', useBias: false, name: 'cat_c' }), input));
  let x = apply(L.concatenate({ name: 'cat' }), [a, b, c]);
  x = apply(L.batchNormalization({ name: 'cat_bn' }), x);
  x = apply(L.activation({ activation: 'relu6', name: 'cat_relu6' }), x);
  x = apply(L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'cat_dw' }), x);
  x = apply(L.batchNormalization({ name: 'cat_dw_bn' }), x);
  return tf.model({ inputs: input, outputs: x, name: 'concat_net' });
}

export interface ConvTransposeSpec {
  readonly kernel: number | [number, number];
  readonly stride: number | [number, number];
  readonly padding: 'valid' | 'same';
  readonly bias: boolean;
  readonly activation: 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'tanh';
}

/** Sequential Conv2DTranspose (7 filters) -> BatchNormalization on a [5, 4, 3] input. */
export function convTransposeNet(spec: ConvTransposeSpec, name = 'up'): tf.LayersModel {
  return tf.sequential({
    name: `${name}_net`,
    layers: [
      L.conv2dTranspose({
        inputShape: [5, 4, 3],
        filters: 7,
        kernelSize: spec.kernel,
        strides: spec.stride,
        padding: spec.padding,
        useBias: spec.bias,
        activation: spec.activation,
        name,
      }),
      L.batchNormalization({ name: `${name}_bn` }),
    ],
  });
}

/** |a - b| <= 1e-5 * max(1, max |b|): a few float32 ulps of the largest output, per element. */
export function expectCloseTo(actual: Float32Array, expected: Float32Array, label: string): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst / scale, `${label}: max difference ${worst} on outputs up to ${scale}`).toBeLessThanOrEqual(1e-5);
}

export function randomInput(shape: number[], seed: number): tf.Tensor {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => 2 * rng() - 1), shape);
}

export function predict(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

export function runOurs(graph: Graph, x: tf.Tensor): Float32Array {
  const net = compileGraph(graph);
  try {
    const out = net.runNHWC(x);
    const data = out[graph.outputs[0]].dataSync() as Float32Array;
    tf.dispose(Object.values(out));
    return data;
  } finally {
    // A refused run (e.g. a batch other than the graph's literal one) must not strand the parameters.
    net.dispose();
  }
}

/** A stock model with seeded random weights, saved to memory, and its prediction on a seeded input. */
export interface GeneratedModel {
  readonly model: tf.LayersModel;
  readonly saved: SavedModel;
  readonly x: tf.Tensor;
  readonly expected: Float32Array;
  dispose(): void;
}

export async function generateModel(build: () => tf.LayersModel, inputShape: number[], seeds: { readonly weights: number; readonly input: number }): Promise<GeneratedModel> {
  const model = build();
  randomizeWeights(model, seeds.weights);
  const saved = await saveToMemory(model);
  const x = randomInput(inputShape, seeds.input);
  return { model, saved, x, expected: predict(model, x), dispose: () => tf.dispose([model, x] as never) };
}

/** A stock tfjs-layers model for describeRoundTrips, and what its exported model.json must show. */
export interface RoundTripCase {
  readonly name: string;
  readonly build: () => tf.LayersModel;
  readonly inputShape: number[];
  /** Inputs are uniform in [-scale, scale) (default 1). */
  readonly inputScale?: number;
  /** Where model.predict is the oracle only on one backend (default: the best available). */
  readonly backend?: BackendName;
  /** Checks on the model.json exported from the imported graph, given the original's. */
  readonly exported?: (json: LayersModelJSON, original: LayersModelJSON) => void;
  /** Checks on the model.json exported after folding for a Layers output. */
  readonly folded?: (json: LayersModelJSON) => void;
}

export const layerClasses = (json: LayersModelJSON): string[] =>
  (json.modelTopology as { config: { layers: { class_name: string }[] } }).config.layers.map((l) => l.class_name);

/**
 * One describe per case, against the original's model.predict within 1e-5: the imported graph on
 * the executor (leaking nothing), its export reloaded with tf.loadLayersModel, and its fold for a
 * Layers output, exported and reloaded.
 */
export function describeRoundTrips(cases: readonly RoundTripCase[], seed: number): void {
  describe.each(cases)('$name', (c) => {
    let original: tf.LayersModel;
    let saved: SavedModel;
    let x: tf.Tensor;
    let expected: Float32Array;

    beforeAll(async () => {
      await selectBackend(c.backend === undefined ? {} : { backend: c.backend });
      original = c.build();
      randomizeWeights(original, seed);
      saved = await saveToMemory(original);
      x = tf.tidy(() => tf.mul(randomInput(c.inputShape, seed + 1), c.inputScale ?? 1));
      expected = predict(original, x);
    });
    afterAll(() => {
      original.dispose();
      x.dispose();
    });

    it('imports to a graph the executor runs to model.predict’s output, leaking nothing', () => {
      const before = tf.memory().numTensors;
      const graph = importLayersModel(saved.modelJson, saved.weightData, 'gen.json');
      expectCloseTo(runOurs(graph, x), expected, 'imported');
      expect(tf.memory().numTensors).toBe(before);
    });

    it('exports back to stock layers with the same output', async () => {
      const graph = importLayersModel(saved.modelJson, saved.weightData, 'gen.json');
      const before = tf.memory().numTensors;
      const exported = exportLayersModel(graph);
      expect(tf.memory().numTensors).toBe(before);
      c.exported?.(exported.modelJson, saved.modelJson);
      const reloaded = await loadFromMemory(exported);
      expectCloseTo(predict(reloaded, x), expected, 'exported');
      reloaded.dispose();
    });

    it('folds for Layers, exports, and loads with the same output', async () => {
      const graph = importLayersModel(saved.modelJson, saved.weightData, 'gen.json');
      const exported = exportLayersModel(foldGraph(graph, { ...LAYERS_FOLD_OPTIONS, probe: false }).graph);
      c.folded?.(exported.modelJson);
      const reloaded = await loadFromMemory(exported);
      expectCloseTo(predict(reloaded, x), expected, 'folded');
      reloaded.dispose();
    });
  });
}
