/**
 * Keras LayerNormalization over several axes, against stock tfjs-layers `model.predict`: over
 * every non-batch axis (axis [1, 2, 3], or [1, 2] on a sequence) it is the IR's layerNorm over
 * 'chw' with gamma and beta [C, H, W], written back as the same layer; over any other set of axes
 * it is carried as an opaque layer that tfjs-layers runs.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { Node } from '../../src/ir/graph.ts';
import { importLayersModel, type LayersModelJSON } from '../../src/io/index.ts';
import { describeRoundTrips, layerClasses, randomizeWeights, saveToMemory, type RoundTripCase } from './io-fixtures.ts';

const L = tf.layers;

function imageNet(axis: number | number[], name: string): tf.LayersModel {
  return tf.sequential({
    name,
    layers: [
      L.conv2d({ inputShape: [6, 5, 3], filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }),
      L.layerNormalization({ axis, epsilon: 1e-3, name: 'ln' }),
      L.reLU({ name: 'relu' }),
      L.conv2d({ filters: 3, kernelSize: 1, name: 'head_conv' }),
      L.batchNormalization({ name: 'head_bn' }),
      L.globalAveragePooling2d({ name: 'gap' }),
    ],
  });
}

function sequenceNet(): tf.LayersModel {
  return tf.sequential({
    name: 'seq_ln',
    layers: [
      L.conv1d({ inputShape: [7, 3], filters: 5, kernelSize: 3, padding: 'same', name: 'conv' }),
      L.layerNormalization({ axis: [1, 2], center: false, name: 'ln' }),
      L.flatten({ name: 'flat' }),
      L.dense({ units: 4, name: 'out' }),
    ],
  });
}

interface LayerEntry {
  readonly class_name: string;
  readonly config: { readonly name: string; readonly axis?: unknown };
}
const lnEntry = (json: LayersModelJSON) => (json.modelTopology as { config: { layers: LayerEntry[] } }).config.layers.find((l) => l.config.name === 'ln');

const overAll = (axis: readonly number[]) => (json: LayersModelJSON) => {
  expect(lnEntry(json)?.class_name).toBe('LayerNormalization');
  expect(lnEntry(json)?.config.axis).toEqual(axis);
};

const CASES: RoundTripCase[] = [
  { name: 'LayerNormalization axis [1, 2, 3] on an image', build: () => imageNet([1, 2, 3], 'ln_all'), inputShape: [2, 6, 5, 3], exported: overAll([1, 2, 3]), folded: overAll([1, 2, 3]) },
  { name: 'LayerNormalization axis [-3, -2, -1]', build: () => imageNet([-3, -2, -1], 'ln_negative'), inputShape: [2, 6, 5, 3], exported: overAll([1, 2, 3]) },
  // tfjs stores gamma and beta in the listed order and reshapes them to the input's order.
  { name: 'LayerNormalization axis [3, 1, 2] (gamma as tfjs reads it)', build: () => imageNet([3, 1, 2], 'ln_unsorted'), inputShape: [2, 6, 5, 3], exported: overAll([1, 2, 3]) },
  { name: 'LayerNormalization axis [1, 2] on a sequence, center false', build: sequenceNet, inputShape: [2, 7, 3], exported: overAll([1, 2]) },
  {
    name: 'LayerNormalization axis [1, 2] on an image (H and W only): opaque, written back unchanged',
    build: () => imageNet([1, 2], 'ln_hw'),
    inputShape: [2, 6, 5, 3],
    exported: (json, original) => expect(lnEntry(json)).toEqual({ ...lnEntry(original), name: 'ln', inbound_nodes: expect.anything() }),
  },
];

describeRoundTrips(CASES, 61);

describe('the IR op each axis set imports to', () => {
  const opOf = async (build: () => tf.LayersModel): Promise<Node | undefined> => {
    const model = build();
    randomizeWeights(model, 3);
    const saved = await saveToMemory(model);
    model.dispose();
    return importLayersModel(saved.modelJson, saved.weightData, 'ln.json').nodes.find((n) => n.name === 'ln');
  };

  it('every non-batch axis: layerNorm over chw with gamma and beta [C, H, W]', async () => {
    const node = await opOf(() => imageNet([1, 2, 3], 'ln_all'));
    expect(node?.op).toBe('layerNorm');
    expect(node?.attrs).toEqual({ normalizedShape: [4, 6, 5], over: 'chw', eps: 1e-3, affine: true });
    expect((node?.params as { gamma: { shape: number[] } }).gamma.shape).toEqual([4, 6, 5]);
  });

  it('the last axis alone: layerNorm over c; H and W only: opaque', async () => {
    expect((await opOf(() => imageNet(-1, 'ln_last')))?.attrs).toMatchObject({ over: 'c', normalizedShape: [4] });
    expect((await opOf(() => imageNet([1, 2], 'ln_hw')))?.op).toBe('opaque');
  });

  it('a repeated axis is a named error, as tfjs refuses it', async () => {
    const model = imageNet([1, 2, 3], 'ln_all');
    const saved = await saveToMemory(model);
    model.dispose();
    const json = structuredClone(saved.modelJson);
    const entry = lnEntry(json) as unknown as { config: { axis: unknown } };
    entry.config.axis = [1, 1, 3];
    expect(() => importLayersModel(json, saved.weightData, 'ln.json')).toThrow("ln.json: layer 'ln' (LayerNormalization): config.axis is [1,1,3]; it must name distinct non-batch axes of a rank-4 input");
  });
});

it('layerClasses sees one LayerNormalization per model', async () => {
  const model = imageNet([1, 2, 3], 'ln_all');
  const saved = await saveToMemory(model);
  model.dispose();
  expect(layerClasses(saved.modelJson).filter((c) => c === 'LayerNormalization')).toHaveLength(1);
});
