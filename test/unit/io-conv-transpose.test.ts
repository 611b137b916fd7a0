/**
 * Conv2DTranspose through the tfjs Layers importer and exporter, with stock tfjs-layers'
 * `model.predict` as the oracle: every kernel 1-4 and stride 1-3 in 'valid' and 'same', with and
 * without bias and activation, followed by a BatchNormalization. TF's 'same' crops K - S rows,
 * the larger half at the end; where K - S is odd the IR adds a crop2d of the trailing row, and
 * the exporter makes that one Conv2DTranspose 'same' again.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend/index.ts';
import { foldGraph } from '../../src/fold/index.ts';
import type { Graph, Node } from '../../src/ir/graph.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { createRng } from '../../src/ir/init.ts';
import { LAYERS_EXPORTABLE_RULES, LayersExportError, LayersModelError, exportLayersModel, importLayersModel, type LayersModelJSON } from '../../src/io/index.ts';
import { convTransposeNet, type ConvTransposeSpec, expectCloseTo, loadFromMemory, predict, randomInput, randomizeWeights, runOurs, type SavedModel, saveToMemory } from './io-fixtures.ts';

const layersOf = (json: LayersModelJSON) => (json.modelTopology as { config: { layers: { class_name: string; name: string; config: Record<string, unknown> }[] } }).config.layers;

/** TF's 'same' crops evenly when K <= S or K - S is even; otherwise the IR needs a crop2d. */
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
const CASES = [...GRID, ...NON_SQUARE];
const needsCrop = (c: ConvTransposeSpec) => c.padding === 'same' && pairs(c).some(([k, s]) => !sameIsSymmetric(k, s));

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
    expect(ops).toEqual(['input', 'convTranspose2d', ...(needsCrop(c) ? ['crop2d'] : []), ...(c.activation === 'linear' ? [] : [c.activation]), 'batchNorm']);
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
    expect(layersOf(exported.modelJson).map((l) => l.class_name)).not.toContain('Cropping2D');
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
    // conv-act-bn reads conv2d only. A crop2d between them does not: convtranspose-crop-bn folds
    // through it, and the exporter absorbs the crop into a Conv2DTranspose 'same' again.
    if (c.activation === 'linear') expect(folded.nodes.map((n) => n.op)).toEqual(['input', 'convTranspose2d', ...(needsCrop(c) ? ['crop2d'] : [])]);
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

  it("maps 'same' k3 s2 to padding 0 and a crop2d of the trailing row and column, TF's larger half at the end", async () => {
    const saved = await savedWith({ kernel: 3, stride: 2, padding: 'same', bias: true, activation: 'linear' });
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'up.json');
    const conv = graph.nodes.find((n) => n.op === 'convTranspose2d');
    const crop = graph.nodes.find((n) => n.op === 'crop2d');
    expect(conv?.attrs).toMatchObject({ padding: [0, 0], outputPadding: [0, 0] });
    expect(crop).toMatchObject({ name: 'up_crop', inputs: ['up'], attrs: { crop: [0, 1, 0, 1] } });
  });

  // tfjs-layers ignores both: the layer is carried as tfjs runs it, opaque, with a warning naming the field.
  const importedWarning = (saved: SavedModel) => {
    const warnings: string[] = [];
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'up.json', { onWarning: (m) => warnings.push(m) });
    return { op: graph.nodes.find((n) => n.name === 'up')?.op, warnings };
  };

  it('carries a Conv2DTranspose with config.dilation_rate (which tfjs-layers ignores) as opaque, naming the field', async () => {
    const saved = await savedWith({ kernel: 3, stride: 1, padding: 'valid', bias: true, activation: 'linear' }, (config) => {
      config.dilation_rate = [2, 2];
    });
    expect(importedWarning(saved)).toEqual({
      op: 'opaque',
      warnings: ["up.json: layer 'up' (Conv2DTranspose): config.dilation_rate is [2, 2]; tfjs-layers' Conv2DTranspose has only 1; shapefold carries the layer as an opaque one that tfjs-layers runs (nothing folds across it)"],
    });
  });

  it('carries a Conv2DTranspose with config.output_padding (which tfjs-layers ignores) as opaque, naming the field', async () => {
    const saved = await savedWith({ kernel: 3, stride: 2, padding: 'valid', bias: true, activation: 'linear' }, (config) => {
      config.output_padding = [1, 1];
    });
    expect(importedWarning(saved).warnings).toEqual([
      "up.json: layer 'up' (Conv2DTranspose): config.output_padding is [1,1]; tfjs-layers' Conv2DTranspose ignores it, so only null is read; shapefold carries the layer as an opaque one that tfjs-layers runs (nothing folds across it)",
    ]);
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
    // One bias-only row appended at the end, where both Keras modes crop K - S = 0 rows.
    [
      { kernel: [2, 2], outputPadding: [1, 1] },
      /padding \[0, 0\] with outputPadding \[1, 1\] \(kernel \[2, 2\], stride \[2, 2\]\) appends more bias-only rows than Keras 'valid' or 'same' does/,
    ],
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

describe('convTranspose2d and crop2d export, against the executor', () => {
  type Transpose = Partial<Extract<Node, { op: 'convTranspose2d' }>['attrs']>;
  /** x [N, 3, 5, 4] -> convTranspose2d (random weight and bias) [-> crop2d]. */
  function upsampler(attrs: Transpose, crop?: readonly [number, number, number, number]): Graph {
    const b = new GraphBuilder({ seed: 3 });
    const x = b.addInput(['N', 3, 5, 4], 'x');
    const rng = createRng(8);
    const bias = { shape: [4], data: Float32Array.from({ length: 4 }, () => 2 * rng() - 1) };
    const a = { inChannels: 3, outChannels: 4, kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padding: [0, 0], outputPadding: [0, 0], groups: 1, bias: true, ...attrs } as const;
    const up = b.addNode({ op: 'convTranspose2d', name: 'up', inputs: [x], attrs: a, params: { bias } });
    return b.build([crop === undefined ? up : b.addNode({ op: 'crop2d', name: 'trim', inputs: [up], attrs: { crop } })]);
  }

  it.each([
    // PyTorch's usual 2x upsampler crops 1 at the top, 0 at the bottom: 'valid' + Cropping2D [[1, 0], [1, 0]].
    { label: 'k3 s2 padding 1 outputPadding 1', graph: () => upsampler({ padding: [1, 1], outputPadding: [1, 1] }), classes: ['Conv2DTranspose', 'Cropping2D'], padding: 'valid' },
    // 'same' on the height, 'valid' on the width: Keras has one mode for both, the rest is cropped.
    { label: 'k4 s2 padding [1, 0]', graph: () => upsampler({ kernel: [4, 4], padding: [1, 0] }), classes: ['Conv2DTranspose', 'Cropping2D'], padding: 'valid' },
    // Exactly TF's k3 s2 'same': one layer.
    { label: 'k3 s2 + crop2d [0, 1, 0, 1]', graph: () => upsampler({}, [0, 1, 0, 1]), classes: ['Conv2DTranspose'], padding: 'same' },
    { label: 'k3 s2 + crop2d [1, 0, 0, 2]', graph: () => upsampler({}, [1, 0, 0, 2]), classes: ['Conv2DTranspose', 'Cropping2D'], padding: 'valid' },
    // k1 s2 appends one bias row; 'valid' does too, and the crop takes it off again on the width.
    { label: 'k1 s2 outputPadding 1 + crop2d [0, 0, 0, 1]', graph: () => upsampler({ kernel: [1, 1], outputPadding: [1, 1] }, [0, 0, 0, 1]), classes: ['Conv2DTranspose', 'Cropping2D'], padding: 'valid' },
  ])('$label exports as $classes and predicts what the executor computes', async ({ graph: make, classes, padding }) => {
    const graph = make();
    const x = randomInput([2, 5, 4, 3], 4);
    const before = tf.memory().numTensors;
    const exported = exportLayersModel(graph);
    expect(tf.memory().numTensors).toBe(before);
    const layers = layersOf(exported.modelJson).filter((l) => l.class_name !== 'InputLayer');
    expect(layers.map((l) => l.class_name)).toEqual(classes);
    expect(layers[0].config.padding).toBe(padding);
    const reloaded = await loadFromMemory(exported);
    expectCloseTo(predict(reloaded, x), runOurs(graph, x), 'exported');
    const roundTrip = importLayersModel(exported.modelJson, exported.weightData, 'round-trip.json');
    expectCloseTo(runOurs(roundTrip, x), runOurs(graph, x), 'round trip');
    reloaded.dispose();
    x.dispose();
  });
});

describe('Cropping2D', () => {
  it.each([
    { label: 'one number', cropping: 1 },
    { label: '[rows, cols]', cropping: [2, 1] },
    { label: '[[top, bottom], [left, right]]', cropping: [[0, 3], [2, 0]] },
  ] as const)('imports as a crop2d the executor runs to model.predict’s output, and exports back: $label', async ({ cropping }) => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [7, 6, 3], filters: 2, kernelSize: 1, name: 'mix' }),
        tf.layers.cropping2D({ cropping: cropping as number, name: 'trim' }),
      ],
    });
    randomizeWeights(model, 6);
    const saved = await saveToMemory(model);
    const x = randomInput([2, 7, 6, 3], 5);
    const expected = predict(model, x);
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'crop.json');
    const crop = graph.nodes.find((n) => n.op === 'crop2d');
    const [t, b, l, r] = typeof cropping === 'number' ? [cropping, cropping, cropping, cropping] : typeof cropping[0] === 'number' ? [cropping[0], cropping[0], cropping[1], cropping[1]] : [...cropping[0], ...(cropping[1] as readonly number[])];
    expect(crop?.attrs).toEqual({ crop: [t, b, l, r] });
    expectCloseTo(runOurs(graph, x), expected, 'imported');
    const exported = exportLayersModel(graph);
    expect(layersOf(exported.modelJson).find((layer) => layer.class_name === 'Cropping2D')?.config.cropping).toEqual([[t, b], [l, r]]);
    const reloaded = await loadFromMemory(exported);
    expectCloseTo(predict(reloaded, x), expected, 'exported');
    reloaded.dispose();
    model.dispose();
    x.dispose();
  });

  it('names config.cropping when it is not n, [rows, cols] or [[top, bottom], [left, right]]', async () => {
    const model = tf.sequential({ layers: [tf.layers.cropping2D({ inputShape: [7, 6, 3], cropping: 1, name: 'trim' })] });
    const saved = await saveToMemory(model);
    model.dispose();
    const layer = layersOf(saved.modelJson).find((l) => l.class_name === 'Cropping2D');
    (layer?.config as Record<string, unknown>).cropping = [[1, -1], [0, 0]];
    expect(() => importLayersModel(saved.modelJson, saved.weightData, 'crop.json')).toThrow(
      /^crop\.json: layer 'trim' \(Cropping2D\): config\.cropping must be n, \[rows, cols\] or \[\[top, bottom\], \[left, right\]\] of non-negative integers/,
    );
  });

  it('is a shape error naming the layer when it crops the whole height', async () => {
    const model = tf.sequential({ layers: [tf.layers.cropping2D({ inputShape: [7, 6, 3], cropping: 1, name: 'trim' })] });
    const saved = await saveToMemory(model);
    model.dispose();
    const layer = layersOf(saved.modelJson).find((l) => l.class_name === 'Cropping2D');
    (layer?.config as Record<string, unknown>).cropping = [[4, 3], [0, 0]];
    expect(() => importLayersModel(saved.modelJson, saved.weightData, 'crop.json')).toThrow(
      /crop\.json: .*'trim'.*input height 7 is too small for the crop 4\+3/,
    );
  });
});
