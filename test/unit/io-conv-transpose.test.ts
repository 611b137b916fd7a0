/**
 * Conv2DTranspose through the tfjs Layers importer and exporter, with stock tfjs-layers'
 * `model.predict` as the oracle: every kernel 1-4 and stride 1-3 in 'valid' and 'same', with and
 * without bias and activation, followed by a BatchNormalization. TF's 'same' crops K - S rows,
 * the larger half at the end; where K - S is odd that has no IR form and is a named error.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileGraph, selectBackend } from '../../src/backend/index.ts';
import { foldGraph } from '../../src/fold/index.ts';
import type { Graph, Node } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { LAYERS_EXPORTABLE_RULES, LayersExportError, LayersModelError, exportLayersModel, importLayersModel, type LayersModelJSON } from '../../src/io/index.ts';
import { convTransposeNet, loadFromMemory, randomizeWeights, saveToMemory, type ConvTransposeSpec, type SavedModel } from './io-fixtures.ts';

/** |a - b| <= 1e-5 * max(1, max |b|): a few float32 ulps of the largest output, per element. */
function expectCloseTo(actual: Float32Array, expected: Float32Array, label: string): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst / scale, `${label}: max difference ${worst} on outputs up to ${scale}`).toBeLessThanOrEqual(1e-5);
}

function randomInput(shape: number[], seed: number): tf.Tensor {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => 2 * rng() - 1), shape);
}

function predict(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

function runOurs(graph: Graph, x: tf.Tensor): Float32Array {
  const net = compileGraph(graph);
  const out = net.runNHWC(x);
  const data = out[graph.outputs[0]].dataSync() as Float32Array;
  tf.dispose(Object.values(out));
  net.dispose();
  return data;
}

const layersOf = (json: LayersModelJSON) => (json.modelTopology as { config: { layers: { class_name: string; name: string; config: Record<string, unknown> }[] } }).config.layers;

/** TF's 'same' is representable when it crops evenly: K <= S, or K - S even. */
const sameIsSymmetric = (k: number, s: number) => k <= s || (k - s) % 2 === 0;

const ACTIVATIONS = ['relu', 'relu6', 'sigmoid', 'tanh'] as const;

interface Case extends ConvTransposeSpec {
  readonly label: string;
}

const GRID: Case[] = [];
for (const padding of ['valid', 'same'] as const) {
  for (const stride of [1, 2, 3]) {
    for (const kernel of [1, 2, 3, 4]) {
      const activation = ACTIVATIONS[(kernel + stride) % ACTIVATIONS.length];
      GRID.push({ label: `${padding} k${kernel} s${stride}, bias, linear`, kernel, stride, padding, bias: true, activation: 'linear' });
      GRID.push({ label: `${padding} k${kernel} s${stride}, no bias, ${activation}`, kernel, stride, padding, bias: false, activation });
    }
  }
}
const NON_SQUARE: Case[] = [
  { label: 'valid k[3,2] s[2,3], bias, linear', kernel: [3, 2], stride: [2, 3], padding: 'valid', bias: true, activation: 'linear' },
  { label: 'same k[4,1] s[2,3], bias, relu', kernel: [4, 1], stride: [2, 3], padding: 'same', bias: true, activation: 'relu' },
];
/** [kernel, stride] of the height and the width axis. */
function pairs(c: ConvTransposeSpec): [number, number][] {
  const [k, s] = [c.kernel, c.stride].map((v) => (typeof v === 'number' ? [v, v] : v));
  return [0, 1].map((axis) => [k[axis], s[axis]]);
}
const CASES = [...GRID, ...NON_SQUARE].filter((c) => c.padding === 'valid' || pairs(c).every(([k, s]) => sameIsSymmetric(k, s)));
const ASYMMETRIC = GRID.filter((c) => c.padding === 'same' && !sameIsSymmetric(c.kernel as number, c.stride as number) && c.bias);

beforeAll(async () => {
  await selectBackend();
});

describe.each(CASES)('Conv2DTranspose $label', (c) => {
  let original: tf.LayersModel;
  let saved: SavedModel;
  let x: tf.Tensor;
  let expected: Float32Array;

  beforeAll(async () => {
    original = convTransposeNet(c);
    randomizeWeights(original, 5);
    saved = await saveToMemory(original);
    x = randomInput([2, 5, 4, 3], 9);
    expected = predict(original, x);
  });
  afterAll(() => {
    original.dispose();
    x.dispose();
  });

  it('imports to a convTranspose2d the executor runs to model.predict’s output', () => {
    const before = tf.memory().numTensors;
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'up.json');
    expect(tf.memory().numTensors).toBe(before);
    const ops = graph.nodes.map((n) => n.op);
    expect(ops).toEqual(['input', 'convTranspose2d', ...(c.activation === 'linear' ? [] : [c.activation]), 'batchNorm']);
    expectCloseTo(runOurs(graph, x), expected, 'imported');
  });

  it('exports back to a Conv2DTranspose that tf.loadLayersModel predicts the same with', async () => {
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'up.json');
    const before = tf.memory().numTensors;
    const exported = exportLayersModel(graph);
    expect(tf.memory().numTensors).toBe(before);
    const convT = layersOf(exported.modelJson).find((l) => l.class_name === 'Conv2DTranspose');
    // Where K <= S on both axes 'valid' and 'same' crop alike, and the exporter writes 'valid'.
    expect(convT?.config.padding).toBe(pairs(c).every(([k, s]) => k <= s) ? 'valid' : c.padding);
    const reloaded = await loadFromMemory(exported);
    expectCloseTo(predict(reloaded, x), expected, 'exported');
    reloaded.dispose();
  });

  it('folds the BatchNormalization into the Conv2DTranspose (when no activation sits between) and stays exact', async () => {
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'up.json');
    const folded = foldGraph(graph, { rules: LAYERS_EXPORTABLE_RULES, probe: false }).graph;
    const exported = exportLayersModel(folded);
    const bns = layersOf(exported.modelJson).filter((l) => l.class_name === 'BatchNormalization');
    // An activation between the two keeps the BN: relu6, sigmoid and tanh are not homogeneous and
    // conv-act-bn reads conv2d only.
    expect(bns.length).toBe(c.activation === 'linear' ? 0 : 1);
    const reloaded = await loadFromMemory(exported);
    expectCloseTo(predict(reloaded, x), expected, 'folded');
    reloaded.dispose();
  });
});

describe('Conv2DTranspose import errors', () => {
  async function savedWith(spec: ConvTransposeSpec, edit: (config: Record<string, unknown>) => void = () => {}): Promise<SavedModel> {
    const model = convTransposeNet(spec);
    const saved = await saveToMemory(model);
    model.dispose();
    edit(layersOf(saved.modelJson).find((l) => l.class_name === 'Conv2DTranspose')?.config as Record<string, unknown>);
    return saved;
  }
  const importing = (saved: SavedModel) => () => importLayersModel(saved.modelJson, saved.weightData, 'up.json');

  it.each(ASYMMETRIC)("names the layer and config.padding for an uneven 'same' crop: $label", async (c) => {
    const saved = await savedWith(c);
    const before = tf.memory().numTensors;
    expect(importing(saved)).toThrow(LayersModelError);
    expect(importing(saved)).toThrow(/^up\.json: layer 'up' \(Conv2DTranspose\): config\.padding is 'same' with kernel \d and stride \d \(height\)/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names config.dilation_rate, which tfjs-layers would ignore', async () => {
    const saved = await savedWith({ kernel: 3, stride: 1, padding: 'valid', bias: true, activation: 'linear' }, (config) => {
      config.dilation_rate = [2, 2];
    });
    expect(importing(saved)).toThrow(/up\.json: layer 'up' \(Conv2DTranspose\): config\.dilation_rate is \[2, 2\]/);
  });

  it('names config.output_padding, which tfjs-layers would ignore', async () => {
    const saved = await savedWith({ kernel: 3, stride: 2, padding: 'valid', bias: true, activation: 'linear' }, (config) => {
      config.output_padding = [1, 1];
    });
    expect(importing(saved)).toThrow(/up\.json: layer 'up' \(Conv2DTranspose\): config\.output_padding is \[1,1\]/);
  });

  it('names the kernel weight whose shape does not match [kH, kW, filters, Cin]', async () => {
    const saved = await savedWith({ kernel: 2, stride: 2, padding: 'valid', bias: true, activation: 'linear' }, (config) => {
      config.filters = 6;
    });
    expect(importing(saved)).toThrow(/up\.json: layer 'up' \(Conv2DTranspose\): weight 'up\/kernel' has shape \[2, 2, 7, 3\], expected \[2, 2, 6, 3\]/);
  });
});

describe('convTranspose2d export errors', () => {
  const graphWith = (attrs: Partial<Extract<Node, { op: 'convTranspose2d' }>['attrs']>): Graph => {
    const a = { inChannels: 2, outChannels: 4, kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padding: [0, 0], outputPadding: [0, 0], groups: 1, bias: false, ...attrs } as const;
    const weight = { shape: [a.inChannels, a.outChannels / a.groups, a.kernel[0], a.kernel[1]], data: new Float32Array((a.inChannels * a.outChannels * a.kernel[0] * a.kernel[1]) / a.groups) };
    return {
      nodes: [
        { name: 'x', op: 'input', inputs: [], attrs: { shape: ['N', 2, 6, 6] }, params: {} },
        { name: 'up', op: 'convTranspose2d', inputs: ['x'], attrs: a, params: { weight } },
      ],
      inputs: ['x'],
      outputs: ['up'],
    };
  };

  it.each([
    // PyTorch's usual 2x upsampler: crops 1 at the top, 0 at the bottom; TF's 'same' does the opposite.
    [{ padding: [1, 1], outputPadding: [1, 1] }, /padding \[1, 1\] with outputPadding \[1, 1\] \(kernel \[3, 3\], stride \[2, 2\]\) is neither Keras 'valid' nor 'same' on both axes/],
    // 'valid' on one axis and 'same' on the other: Keras has one mode for both.
    [{ kernel: [4, 4], padding: [1, 0] }, /padding \[1, 0\] with outputPadding \[0, 0\]/],
    [{ groups: 2 }, /has groups 2; Keras' Conv2DTranspose has only 1/],
    [{ dilation: [2, 2] }, /has dilation \[2, 2\]; tfjs-layers' Conv2DTranspose has only 1/],
  ] as const)('%o is a LayersExportError naming the node', (attrs, message) => {
    const graph = graphWith(attrs as Partial<Extract<Node, { op: 'convTranspose2d' }>['attrs']>);
    const before = tf.memory().numTensors;
    expect(() => exportLayersModel(graph)).toThrow(LayersExportError);
    expect(() => exportLayersModel(graph)).toThrow(/^convTranspose2d 'up': cannot be written as a tfjs Layers model: /);
    expect(() => exportLayersModel(graph)).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });
});
