/**
 * The zoo (src/bench/zoo-models.ts), small: every architecture built with stock tfjs-layers,
 * imported, folded, exported, loaded back with tf.loadLayersModel, and its predict compared with
 * the original's; every BatchNormalization a stock Layers model can hold folded is gone.
 * `npm run bench:zoo` runs the same definitions full size and times them.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend/index.ts';
import { ZOO, batchNormalizationLayers } from '../../src/bench/zoo-models.ts';
import { foldGraph } from '../../src/fold/index.ts';
import { LAYERS_EXPORTABLE_RULES, exportLayersModel, importLayersModel } from '../../src/io/index.ts';
import { expectCloseTo, loadFromMemory, predict, randomInput, randomizeWeights, saveToMemory } from './io-fixtures.ts';

beforeAll(async () => {
  await selectBackend();
});

it('the zoo has at least 15 architectures', () => {
  expect(ZOO.length).toBeGreaterThanOrEqual(15);
});

describe.each(ZOO)('$name', (entry) => {
  it('imports, folds, exports, and loads back computing model.predict’s output', async () => {
    const model = entry.build({ size: entry.test.size, width: entry.test.width, classes: 10, classifierActivation: 'softmax' });
    randomizeWeights(model, 17);
    const saved = await saveToMemory(model);
    const inputs = model.inputs.map((input, i) => randomInput([2, ...(input.shape.slice(1) as number[])], 30 + i));
    const x = inputs.length === 1 ? inputs[0] : (inputs as unknown as tf.Tensor);
    const expected = predict(model, x);
    const before = tf.memory().numTensors;
    const graph = importLayersModel(saved.modelJson, saved.weightData, `${entry.name}.json`);
    const { graph: folded, report } = foldGraph(graph, { rules: LAYERS_EXPORTABLE_RULES, probe: false });
    const exported = exportLayersModel(folded);
    expect(tf.memory().numTensors).toBe(before);
    const left = batchNormalizationLayers(exported.modelJson.modelTopology);
    const unexplained = left.filter((name) => entry.bnLeft === undefined || !entry.bnLeft.test(name));
    expect(unexplained, `BNs left: ${report.left.map((l) => `${l.name}: ${l.reasons.join('; ')}`).join(' | ')}`).toEqual([]);
    const original = batchNormalizationLayers(saved.modelJson.modelTopology);
    if (original.length > 0) expect(left.length).toBeLessThan(original.length);
    const reloaded = await loadFromMemory(exported);
    expectCloseTo(predict(reloaded, x), expected, `${entry.name} folded`);
    reloaded.dispose();
    model.dispose();
    tf.dispose(inputs);
  });
});
