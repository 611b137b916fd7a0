/**
 * UpSampling2D, Resizing, CenterCrop, Rescaling and GlobalMaxPooling2D through tfjs Layers import,
 * fold and export, against stock tfjs-layers `model.predict` on models built with tf.layers.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend/index.ts';
import { foldGraph } from '../../src/fold/index.ts';
import { ALL_RULES } from '../../src/rules/index.ts';
import { LAYERS_FOLD_OPTIONS, exportLayersModel, importLayersModel, type LayersModelJSON } from '../../src/io/index.ts';
import type { KerasLayerJSON } from '../../src/io/layers-format.ts';
import { centerCropOf } from '../../src/io/layers-import.ts';
import { describeRoundTrips, expectCloseTo, layerClasses, loadFromMemory, predict, randomInput, randomizeWeights, runOurs, saveToMemory, type RoundTripCase } from './io-fixtures.ts';

type ST = tf.SymbolicTensor;
const L = tf.layers;
const apply = (layer: tf.layers.Layer, x: ST | ST[]): ST => layer.apply(x) as ST;

function convBnRelu(x: ST, filters: number, name: string): ST {
  const conv = apply(L.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, name }), x);
  return apply(L.reLU({ name: `${name}_relu` }), apply(L.batchNormalization({ name: `${name}_bn` }), conv));
}

/** A small U-Net: max-pool encoder, UpSampling2D (nearest, bilinear) and Conv2DTranspose decoder, Concatenate skips. */
function uNet(): tf.LayersModel {
  const input = tf.input({ shape: [16, 12, 3], name: 'unet_in' });
  const e1 = convBnRelu(input, 6, 'enc1');
  const e2 = convBnRelu(apply(L.maxPooling2d({ poolSize: 2, name: 'pool1' }), e1), 8, 'enc2');
  const mid = convBnRelu(apply(L.maxPooling2d({ poolSize: 2, name: 'pool2' }), e2), 10, 'mid');
  const up2 = apply(L.upSampling2d({ size: [2, 2], name: 'up2' }), mid);
  const d2 = convBnRelu(apply(L.concatenate({ name: 'skip2' }), [up2, e2]), 8, 'dec2');
  const up1 = apply(L.conv2dTranspose({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', name: 'up1' }), d2);
  const d1 = convBnRelu(apply(L.concatenate({ name: 'skip1' }), [up1, e1]), 6, 'dec1');
  const smooth = apply(L.upSampling2d({ size: [1, 2], interpolation: 'bilinear', name: 'up_bilinear' }), d1);
  const out = apply(L.conv2d({ filters: 2, kernelSize: 1, name: 'head' }), smooth);
  return tf.model({ inputs: input, outputs: out, name: 'unet' });
}

/** Rescaling before a 'valid' or 'same' first conv, a CenterCrop, a global max pool and a Dense head. */
function preprocessing(firstPadding: 'valid' | 'same'): tf.LayersModel {
  return tf.sequential({
    name: `pre_${firstPadding}`,
    layers: [
      L.rescaling({ inputShape: [15, 14, 3], scale: 1 / 127.5, offset: -1, name: 'rescale' }),
      L.conv2d({ filters: 6, kernelSize: 3, padding: firstPadding, name: 'first' }),
      L.batchNormalization({ name: 'first_bn' }),
      L.activation({ activation: 'relu', name: 'first_relu' }),
      L.centerCrop({ height: 8, width: 9, name: 'crop' }),
      L.conv2d({ filters: 5, kernelSize: 3, padding: 'valid', name: 'second' }),
      L.globalMaxPooling2d({ name: 'gmp' }),
      L.dense({ units: 4, name: 'logits' }),
    ],
  });
}

/** conv -> `last`: an image preprocessing layer at the end of a Sequential. */
function convThen(inShape: [number, number], last: tf.layers.Layer): tf.LayersModel {
  return tf.sequential({
    name: 'conv_then',
    layers: [L.conv2d({ inputShape: [...inShape, 2], filters: 3, kernelSize: 3, padding: 'same', name: 'conv' }), last],
  });
}
const without = (...classes: string[]) => (json: LayersModelJSON) => {
  for (const c of classes) expect(layerClasses(json)).not.toContain(c);
};

const CASES: readonly RoundTripCase[] = [
  { name: 'U-Net with UpSampling2D, Conv2DTranspose and Concatenate skips', build: uNet, inputShape: [2, 16, 12, 3], inputScale: 100, folded: without('BatchNormalization') },
  { name: 'Rescaling -> valid conv, CenterCrop, GlobalMaxPooling2D', build: () => preprocessing('valid'), inputShape: [2, 15, 14, 3], inputScale: 100, folded: without('Rescaling', 'BatchNormalization') },
  // A shift through a zero-padded conv needs a border tap bias, which no stock layer adds.
  {
    name: 'Rescaling -> same conv',
    build: () => preprocessing('same'),
    inputShape: [2, 15, 14, 3],
    inputScale: 100,
    folded: (json) => {
      without('BatchNormalization')(json);
      expect(layerClasses(json)).toContain('Rescaling');
    },
  },
  ...([
    [[9, 8], 4, 5],
    [[7, 6], 7, 5],
    [[6, 9], 5, 8],
    [[5, 5], 1, 1],
  ] as const).map(([inShape, h, w]): RoundTripCase => ({
    name: `CenterCrop ${inShape.join('x')} to ${h}x${w}`,
    build: () => convThen([...inShape], L.centerCrop({ height: h, width: w, name: 'crop' })),
    inputShape: [2, ...inShape, 2],
    inputScale: 100,
    // tfjs-backend-wasm 4.22's cropAndResize zeroes the last column when the box ends at the border.
    backend: 'cpu',
  })),
];

describeRoundTrips(CASES, 5);

/**
 * tfjs-layers 4.22's Resizing, and CenterCrop where it resizes, pass the layer's input list to
 * tf.image.resize*, so a model holding one cannot predict: the oracle is the layer applied to the
 * tensor the conv before it computes.
 */
describe.each([
  { name: 'Resizing bilinear 9x5', layer: () => L.resizing({ height: 9, width: 5, name: 'resize' }) },
  { name: 'Resizing bilinear 11x12, crop_to_aspect_ratio', layer: () => L.resizing({ height: 11, width: 12, cropToAspectRatio: true, name: 'resize' }) },
  { name: 'Resizing nearest 4x13', layer: () => L.resizing({ height: 4, width: 13, interpolation: 'nearest', name: 'resize' }) },
  { name: 'Resizing nearest 13x4, crop_to_aspect_ratio', layer: () => L.resizing({ height: 13, width: 4, interpolation: 'nearest', cropToAspectRatio: true, name: 'resize' }) },
  { name: 'CenterCrop to a larger height', layer: () => L.centerCrop({ height: 8, width: 3, name: 'crop' }) },
])('$name', ({ layer }) => {
  it('imports to what the layer computes, and exports back to the same layer config', async () => {
    await selectBackend();
    const resize = layer();
    const model = convThen([6, 7], resize);
    randomizeWeights(model, 5);
    const saved = await saveToMemory(model);
    const x = randomInput([2, 6, 7, 2], 4);
    const expected = tf.tidy(() => (resize.apply(model.layers[0].apply(x) as tf.Tensor) as tf.Tensor).dataSync() as Float32Array);
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'gen.json');
    expectCloseTo(runOurs(graph, x), expected, 'imported');
    const exported = exportLayersModel(graph);
    const lastLayer = (json: LayersModelJSON) => (json.modelTopology as { config: { layers: KerasLayerJSON[] } }).config.layers.at(-1);
    const [written, source] = [lastLayer(exported.modelJson), lastLayer(saved.modelJson)];
    if (source?.class_name === 'Resizing') {
      expect(written?.class_name).toBe('Resizing');
      for (const field of ['height', 'width', 'interpolation', 'crop_to_aspect_ratio']) expect(written?.config[field]).toEqual(source.config[field]);
    }
    expectCloseTo(runOurs(importLayersModel(exported.modelJson, exported.weightData, 'out.json'), x), expected, 'exported');
    (await loadFromMemory(exported)).dispose();
    tf.dispose(x);
    model.dispose();
  });
});

describe('Rescaling folds into the first conv', () => {
  it("in shapefold's own format, borders included, even before a zero-padded conv", async () => {
    const model = preprocessing('same');
    randomizeWeights(model, 8);
    const saved = await saveToMemory(model);
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'gen.json');
    expect(graph.nodes.find((n) => n.name === 'rescale')?.op).toBe('normalize');
    const { graph: folded, report } = foldGraph(graph, { rules: ALL_RULES, probe: false });
    expect(folded.nodes.map((n) => n.op)).not.toContain('normalize');
    expect(report.folds.map((f) => f.rule)).toContain('bn-conv-padded');
    const x = tf.tidy(() => tf.mul(randomInput([2, 15, 14, 3], 6), 127));
    expectCloseTo(runOurs(folded, x), predict(model, x), 'folded with a tap bias');
    tf.dispose(x);
    model.dispose();
  });

  it('for a Layers output, stays a Rescaling before a padded conv, and the report says why', async () => {
    const model = preprocessing('same');
    randomizeWeights(model, 8);
    const saved = await saveToMemory(model);
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'gen.json');
    const { report } = foldGraph(graph, { ...LAYERS_FOLD_OPTIONS, probe: false });
    const left = report.left.find((l) => l.name === 'rescale');
    expect(left?.reasons.join('\n')).toContain('bn-conv-padded: folding rescale into first needs this rule, withheld here: its border-exact tap bias has no stock tfjs Layers form');
    expect(left?.reasons.join('\n')).toContain('the padded zeros are not normalized, so the folded bias differs on the border frame; no Layers layer adds a per-position bias');
    model.dispose();
  });
});

describe('CenterCrop offsets', () => {
  it('follow tfjs-layers 4.22: floor((H - h) / 2), a width offset of 0 with W != w becomes 1', () => {
    expect(centerCropOf(9, 8, 4, 5)).toEqual([2, 3, 1, 2]);
    expect(centerCropOf(7, 6, 7, 5)).toEqual([0, 0, 1, 0]);
    expect(centerCropOf(6, 6, 5, 6)).toEqual([0, 1, 0, 0]);
    expect(centerCropOf(4, 6, 6, 3)).toBeUndefined();
    expect(centerCropOf(6, 4, 3, 5)).toBeUndefined();
  });

  it('on a map of unknown size is carried as an opaque layer (the offsets depend on the size), with a warning', () => {
    const model = tf.sequential({ layers: [L.conv2d({ inputShape: [null, null, 2] as unknown as number[], filters: 3, kernelSize: 1, name: 'conv' }), L.centerCrop({ height: 2, width: 2, name: 'crop' })] });
    return saveToMemory(model).then((saved) => {
      const warnings: string[] = [];
      const graph = importLayersModel(saved.modelJson, saved.weightData, 'gen.json', { onWarning: (m) => warnings.push(m) });
      expect(graph.nodes.find((n) => n.name === 'crop')?.op).toBe('opaque');
      expect(warnings).toEqual([
        "gen.json: layer 'crop' (CenterCrop): crops a map of unknown size [H, W]; the crop offsets depend on it; shapefold carries the layer as an opaque one that tfjs-layers runs (nothing folds across it)",
      ]);
      model.dispose();
    });
  });
});
