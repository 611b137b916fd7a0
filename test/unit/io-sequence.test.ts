/**
 * Sequences [N, L, C] (the IR's [N, C, L]) and Dense on any rank through tfjs Layers import, fold
 * and export, against stock tfjs-layers `model.predict` on models built with tf.layers.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { foldGraph } from '../../src/fold/index.ts';
import type { Node } from '../../src/ir/graph.ts';
import { importLayersModel } from '../../src/io/index.ts';
import { ALL_RULES } from '../../src/rules/index.ts';
import { describeRoundTrips, expectCloseTo, layerClasses, predict, randomInput, randomizeWeights, runOurs, saveToMemory, type RoundTripCase } from './io-fixtures.ts';

const L = tf.layers;

/** A 1-D conv net: Conv1D 'same'/'valid'/strided/dilated, BN, both 1-D pools, both global pools, Dense head. */
function conv1dNet(): tf.LayersModel {
  return tf.sequential({
    name: 'conv1d_net',
    layers: [
      L.conv1d({ inputShape: [24, 3], filters: 8, kernelSize: 5, padding: 'same', useBias: false, name: 'c1' }),
      L.batchNormalization({ name: 'c1_bn' }),
      L.reLU({ name: 'c1_relu' }),
      L.maxPooling1d({ poolSize: 2, name: 'p1' }),
      L.conv1d({ filters: 8, kernelSize: 3, dilationRate: 2, padding: 'valid', name: 'c2' }),
      L.batchNormalization({ name: 'c2_bn' }),
      L.averagePooling1d({ poolSize: 3, strides: 1, padding: 'same', name: 'p2' }),
      L.conv1d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'c3' }),
      L.globalAveragePooling1d({ name: 'gap' }),
      L.dense({ units: 5, name: 'logits' }),
    ],
  });
}

/** Dense on [N, L, C] (per position), BN over its features, Flatten of the sequence, Dense. */
function denseOnSequence(): tf.LayersModel {
  return tf.sequential({
    name: 'dense_seq',
    layers: [
      L.dense({ inputShape: [7, 4], units: 6, useBias: false, name: 'proj' }),
      L.batchNormalization({ name: 'proj_bn' }),
      L.activation({ activation: 'tanh', name: 'proj_tanh' }),
      L.conv1d({ filters: 5, kernelSize: 2, name: 'mix' }),
      L.flatten({ name: 'flat' }),
      L.dense({ units: 3, name: 'out' }),
    ],
  });
}

/** Dense on an image [N, H, W, C], acting at every pixel, and a BN after it. */
function denseOnImage(): tf.LayersModel {
  return tf.sequential({
    name: 'dense_img',
    layers: [
      L.conv2d({ inputShape: [6, 5, 3], filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }),
      L.dense({ units: 7, name: 'pixelwise' }),
      L.batchNormalization({ name: 'pixelwise_bn' }),
      L.globalMaxPooling2d({ name: 'gmp' }),
    ],
  });
}

function sequenceMaxHead(): tf.LayersModel {
  return tf.sequential({
    name: 'seq_max',
    layers: [
      L.conv1d({ inputShape: [11, 2], filters: 4, kernelSize: 3, strides: 2, name: 'c' }),
      L.batchNormalization({ name: 'c_bn' }),
      L.globalMaxPooling1d({ name: 'gmp' }),
      L.dense({ units: 2, name: 'out' }),
    ],
  });
}

/** The exported model keeps every layer class of the original; `bnLeft` BatchNormalizations survive the fold. */
function sequenceCase(name: string, build: () => tf.LayersModel, inputShape: number[], bnLeft: number): RoundTripCase {
  const kept = (k: string) => k !== 'InputLayer' && k !== 'Activation' && k !== 'ReLU';
  return {
    name,
    build,
    inputShape,
    exported: (json, original) => {
      const written = new Set(layerClasses(json));
      for (const className of layerClasses(original).filter(kept)) expect(written).toContain(className);
    },
    folded: (json) => expect(layerClasses(json).filter((k) => k === 'BatchNormalization').length).toBe(bnLeft),
  };
}

describeRoundTrips(
  [
    sequenceCase('1-D conv net on [N, L, C]', conv1dNet, [2, 24, 3], 0),
    sequenceCase('Dense on a sequence, Flatten of a sequence', denseOnSequence, [3, 7, 4], 0),
    // pixelwise_bn folds into the Dense before it, which acts at every pixel.
    sequenceCase('Dense on an image', denseOnImage, [2, 6, 5, 3], 0),
    sequenceCase('strided Conv1D, BN, GlobalMaxPooling1D', sequenceMaxHead, [2, 11, 2], 0),
  ],
  9,
);

describe('sequences in the IR', () => {
  it('are [N, C, L], and a Conv1D is a conv2d with a [1, k] kernel', async () => {
    const model = conv1dNet();
    const saved = await saveToMemory(model);
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'gen.json');
    expect((graph.nodes[0] as Extract<Node, { op: 'input' }>).attrs.shape).toEqual(['N', 3, 24]);
    expect(graph.nodes.find((n) => n.name === 'c2')).toMatchObject({ op: 'conv2d', attrs: { kernel: [1, 3], dilation: [1, 2], padding: 'valid' } });
    model.dispose();
  });

  it("fold a BN before a 'same' Conv1D with a tap bias in shapefold's format, exact at the ends", async () => {
    const model = tf.sequential({
      layers: [
        L.conv1d({ inputShape: [9, 2], filters: 3, kernelSize: 1, name: 'a' }),
        L.activation({ activation: 'relu', name: 'a_relu' }),
        L.batchNormalization({ name: 'bn' }),
        L.conv1d({ filters: 4, kernelSize: 3, padding: 'same', name: 'b' }),
      ],
    });
    randomizeWeights(model, 4);
    const saved = await saveToMemory(model);
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'gen.json');
    const { graph: folded, report } = foldGraph(graph, { rules: ALL_RULES, probe: false });
    expect(report.folds.map((f) => f.rule)).toContain('bn-conv-padded');
    expect(folded.nodes.map((n) => n.op)).not.toContain('batchNorm');
    const x = randomInput([2, 9, 2], 1);
    expectCloseTo(runOurs(folded, x), predict(model, x), 'tap bias on a sequence');
    tf.dispose(x);
    model.dispose();
  });

  it("carries Conv1D's causal padding as an opaque layer, named in a warning; running it fails as tfjs-layers 4.22 does", async () => {
    const model = tf.sequential({ layers: [L.conv1d({ inputShape: [9, 2], filters: 3, kernelSize: 2, padding: 'causal', name: 'causal' })] });
    const saved = await saveToMemory(model);
    const warnings: string[] = [];
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'gen.json', { onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([`gen.json: layer 'causal' (Conv1D): config.padding is "causal"; supported: valid, same; shapefold carries the layer as an opaque one that tfjs-layers runs (nothing folds across it)`]);
    const x = randomInput([1, 9, 2], 2);
    expect(() => runOurs(graph, x)).toThrow(/^opaque 'causal': tfjs failed: /);
    tf.dispose(x);
    model.dispose();
  });
});
