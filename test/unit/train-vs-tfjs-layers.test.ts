/**
 * shapefold's `fit` against stock tfjs-layers' `model.fit`, step for step: from the same weights
 * (shapefold's draw, through its Layers export) on the same batches, SGD at learning rate 1.0
 * through conv -> BatchNorm and linear -> BatchNorm1d (Keras' convention: momentum 0.9, biased
 * moving variance, both sides) must leave the same losses, weights and moving statistics. (The
 * LeNet example keeps PyTorch's unbiased running variance: n/(n-1) apart, 1.004 for its BN1d's
 * batches of 256, 1.00001 for its conv BNs.) This is what examples/lenet-fashion-mnist.ts relies on
 * when it compares the two frameworks on one trajectory; and `fit`'s seeded shuffle must be
 * `permutation(n, createRng(seed))`, the order the example hands tfjs-layers.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNorm, conv2d, flatten, input, linear, maxPool, model, scope, sigmoid } from '../../dsl/index.ts';
import { compileGraph } from '../../src/backend/executor.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { fit, permutation } from '../../src/backend/train.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { exportLayersModel } from '../../src/io/layers-export.ts';
import { loadLayersFromMemory } from '../../src/io/predict-timing.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

const SAMPLES = 48;
const RECIPE = { optimizer: 'sgd', learningRate: 1.0, batchSize: 16, loss: 'softmaxCrossEntropy', progressBar: false } as const;

const KERAS_BN = { convention: 'keras', momentum: 0.9, eps: 1e-5 } as const;

function smallLenet(): Graph {
  return model(
    input(['N', 1, 12, 12], { name: 'image', scope: scope({ seed: 3 }) })
      .to(conv2d({ in: 1, out: 4, kernel: 3, name: 'conv' }))
      .to(batchNorm({ name: 'bn', ...KERAS_BN }))
      .to(sigmoid())
      .to(maxPool({ kernel: 2 }))
      .to(flatten())
      .to(linear({ in: 100, out: 16, name: 'fc1' }))
      .to(batchNorm({ name: 'bn1d', ...KERAS_BN }))
      .to(sigmoid())
      .to(linear({ in: 16, out: 3, name: 'fc2' })),
  ).graph;
}

function data(): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const rng = createRng(11);
  const labels = Int32Array.from({ length: SAMPLES }, (_, i) => i % 3);
  // Each class lights up its own band of rows, with noise: learnable in a few steps.
  const pixels = Float32Array.from({ length: SAMPLES * 144 }, (_, i) => {
    const sample = Math.floor(i / 144);
    const row = Math.floor((i % 144) / 12);
    return (Math.floor(row / 4) === labels[sample] ? 0.8 : 0.2) + 0.3 * (rng() - 0.5);
  });
  return { x: tf.tensor4d(pixels, [SAMPLES, 1, 12, 12]), y: tf.tensor1d(labels, 'int32') };
}

/** Every weight of a graph in tfjs-layers' order (layer by layer, kernel/bias, gamma/beta/moving mean/moving variance). */
async function layersWeights(graph: Graph): Promise<Float32Array[]> {
  const loaded = await loadLayersFromMemory(exportLayersModel(graph));
  const weights = loaded.getWeights().map((w) => w.dataSync() as Float32Array);
  loaded.dispose();
  return weights;
}

describe('fit and tfjs-layers model.fit, one trajectory', () => {
  it('from the same weights on the same batches, leave the same losses, weights and moving statistics', async () => {
    const before = tf.memory().numTensors;
    const initial = smallLenet();
    const { x, y } = data();
    const net = compileGraph(initial);
    const keras = await loadLayersFromMemory(exportLayersModel(initial));
    const optimizer = tf.train.sgd(RECIPE.learningRate);
    keras.compile({ optimizer, loss: (yTrue: tf.Tensor, logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, logits) });

    const ours: number[] = [];
    const theirs: number[] = [];
    for (let epoch = 1; epoch <= 3; epoch++) {
      const [xs, ys, nhwc, oneHot] = tf.tidy(() => {
        const order = tf.tensor1d(permutation(SAMPLES, createRng(epoch)), 'int32');
        const shuffledX = tf.gather(x, order);
        const shuffledY = tf.gather(y, order);
        return [shuffledX, shuffledY, tf.transpose(shuffledX, [0, 2, 3, 1]), tf.oneHot(shuffledY, 3).toFloat()];
      });
      ours.push(...(await fit(net, { x: xs, y: ys }, { ...RECIPE, epochs: 1, shuffle: false })).steps);
      // Per-batch losses, as shapefold's history has them.
      for (let start = 0; start < SAMPLES; start += RECIPE.batchSize) {
        const slice = (t: tf.Tensor) => tf.slice(t, start, RECIPE.batchSize);
        const [batchX, batchY] = [slice(nhwc), slice(oneHot)];
        theirs.push((await keras.trainOnBatch(batchX, batchY)) as number);
        tf.dispose([batchX, batchY]);
      }
      tf.dispose([xs, ys, nhwc, oneHot]);
    }
    expect(ours.length).toBe(9);
    for (let step = 0; step < ours.length; step++) expect(ours[step], `step ${step + 1}`).toBeCloseTo(theirs[step], 4);
    // The losses fall: the comparison is of a network that learns, not of one standing still.
    expect(ours[8]).toBeLessThan(ours[0] / 2);

    const trained = net.exportGraph();
    const oursWeights = await layersWeights(trained);
    const theirsWeights = keras.getWeights().map((w) => w.dataSync() as Float32Array);
    expect(oursWeights.length).toBe(theirsWeights.length);
    oursWeights.forEach((w, i) => {
      const scale = Math.max(...theirsWeights[i].map(Math.abs), 1e-3);
      const worst = Math.max(...w.map((v, k) => Math.abs(v - theirsWeights[i][k])));
      expect(worst / scale, `${keras.weights[i].name}`).toBeLessThan(1e-3);
    });
    // The moving statistics moved (the comparison includes them).
    expect(keras.weights.filter((w) => w.name.includes('moving')).length).toBe(4);

    net.dispose();
    keras.dispose();
    optimizer.dispose();
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("fit's seeded shuffle visits the samples in the order permutation(n, createRng(seed))", async () => {
    const before = tf.memory().numTensors;
    const initial = smallLenet();
    const { x, y } = data();
    const shuffledByFit = compileGraph(initial);
    const shuffledBefore = compileGraph(initial);
    const a = await fit(shuffledByFit, { x, y }, { ...RECIPE, epochs: 1, seed: 5 });
    const [xs, ys] = tf.tidy(() => {
      const order = tf.tensor1d(permutation(SAMPLES, createRng(5)), 'int32');
      return [tf.gather(x, order), tf.gather(y, order)];
    });
    const b = await fit(shuffledBefore, { x: xs, y: ys }, { ...RECIPE, epochs: 1, shuffle: false });
    expect(b.steps).toEqual(a.steps);
    const [left, right] = [shuffledByFit.exportGraph(), shuffledBefore.exportGraph()];
    left.nodes.forEach((node, i) => {
      for (const [name, param] of Object.entries(node.params)) {
        expect(Array.from((right.nodes[i].params as Record<string, { data: Float32Array }>)[name].data), `${node.name}.${name}`).toEqual(Array.from(param!.data));
      }
    });
    shuffledByFit.dispose();
    shuffledBefore.dispose();
    tf.dispose([x, y, xs, ys]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
