/**
 * A folded graph is an ordinary trainable graph: compileGraph turns its folded weights, biases and
 * tap biases into variables, fit() lowers the loss, exportGraph writes them back. And a graph
 * whose statistics AdaBN re-estimated on shifted target data folds like any other, computing
 * what the adapted graph computes.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { basicBlock, conv2d, batchNorm, globalAvgPool, input, linear, model, relu, resB } from '../../dsl/index.ts';
import { adaBN } from '../../src/backend/adabn.ts';
import { compileGraph } from '../../src/backend/executor.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { fit } from '../../src/backend/train.ts';
import { foldGraph } from '../../src/fold/index.ts';
import type { Graph, ParamTensor } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { expectSameFunction, standardInput, trainedLike } from './fold-fixtures.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

function network(): Graph {
  const logits = input(['N', 3, 'H', 'W'], { name: 'x' })
    .to(conv2d({ in: 3, out: 4, kernel: 3, padding: 1, bias: false, name: 'stem' }))
    .to(batchNorm({ name: 'stem_bn' }))
    .to(relu({ name: 'stem_relu' }))
    .to(resB({ out: 4, name: 'b1' }))
    .to(basicBlock({ out: 6, stride: 2, name: 'b2' }))
    .to(globalAvgPool({ name: 'gap' }))
    .to(linear({ in: 6, out: 2, name: 'fc' }))
    .to(batchNorm({ name: 'fc_bn' }));
  return trainedLike(model(logits).graph, 60);
}

function toTensor(values: { shape: readonly number[]; data: Float64Array }): tf.Tensor {
  return tf.tensor(Float32Array.from(values.data), [...values.shape], 'float32');
}

describe('a folded graph trains', () => {
  it('has variables for folded weights, biases and tap biases; SGD lowers the loss; exportGraph writes them back', async () => {
    const { graph: folded, report } = foldGraph(network(), { probe: false });
    expect(report.folds.some((f) => f.rule === 'bn-conv-padded')).toBe(true);
    const before = tf.memory().numTensors;
    const compiled = compileGraph(folded);
    const names = [...compiled.variables.keys()];
    expect(names).toContain('b1.conv2.tapBias');
    expect(names).toContain('stem.bias');
    const x = toTensor(standardInput([8, 3, 6, 6], 61));
    const rng = createRng(62);
    const y = tf.tensor2d(Float32Array.from({ length: 16 }, () => rng() - 0.5), [8, 2]);
    const history = await fit(compiled, { x, y }, { epochs: 10, batchSize: 8, optimizer: 'sgd', learningRate: 0.05, loss: 'mse', progressBar: false });
    expect(history.steps[history.steps.length - 1]).toBeLessThan(history.steps[0]);
    const trained = compiled.exportGraph();
    const tapsBefore = (folded.nodes.find((n) => n.name === 'b1.conv2')!.params as Record<string, ParamTensor>).tapBias.data;
    const tapsAfter = (trained.nodes.find((n) => n.name === 'b1.conv2')!.params as Record<string, ParamTensor>).tapBias.data;
    expect(tapsAfter.some((v, i) => v !== tapsBefore[i])).toBe(true);
    tf.dispose([x, y]);
    compiled.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('AdaBN, then fold', () => {
  it('the adapted graph folds, and the folded graph computes the adapted function', async () => {
    const graph = network();
    const compiled = compileGraph(graph);
    // Target domain: shifted and rescaled inputs.
    const target = standardInput([16, 3, 5, 5], 63);
    const shifted = { shape: target.shape, data: target.data.map((v) => Math.fround(2.5 * v + 1)) };
    const x = toTensor(shifted);
    const adaptation = await adaBN(compiled, x, { batchSize: 8 });
    expect(adaptation.nodes.length).toBeGreaterThan(0);
    const adapted = compiled.exportGraph();
    x.dispose();
    compiled.dispose();

    const before = tf.memory().numTensors;
    const { graph: folded, report } = foldGraph(adapted);
    expect(tf.memory().numTensors).toBe(before);
    expect(folded.nodes.filter((n) => n.op === 'batchNorm')).toEqual([]);
    expectSameFunction(adapted, folded, { x: shifted }, 'eval', 1e-5);
    // Folding adds no error of its own beyond float32 rounding of the parameters.
    expect(report.probe!.ok).toBe(true);
    for (const check of report.probe!.folds) expect(check.maxDiff).toBeLessThan(1e-5 * Math.max(1, check.outputScale));
  });
});
