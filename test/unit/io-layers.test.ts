/**
 * tfjs Layers import and export against stock tfjs-layers: every model is generated with
 * tfjs-layers itself (random weights and BN statistics), and `model.predict` is the oracle.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend/index.ts';
import { foldGraph } from '../../src/fold/index.ts';
import type { Graph, Node } from '../../src/ir/graph.ts';
import { LAYERS_EXPORTABLE_RULES, exportLayersModel, importLayersModel, readLayersModel, writeLayersModel, type LayersModelJSON } from '../../src/io/index.ts';
import { concatNet, expectCloseTo, flattenHead, loadFromMemory, mobileNetV1, predict, randomInput, randomizeWeights, resNetLike, runOurs, type SavedModel, saveToMemory } from './io-fixtures.ts';

const bnLayers = (json: LayersModelJSON) =>
  ((json.modelTopology as { config: { layers: { class_name: string; name: string }[] } }).config.layers)
    .filter((l) => l.class_name === 'BatchNormalization')
    .map((l) => l.name);

interface Case {
  readonly name: string;
  readonly build: () => tf.LayersModel;
  readonly inputShape: number[];
  /** BNs the fold leaves, and why. */
  readonly bnLeft: readonly string[];
}

const CASES: readonly Case[] = [
  {
    name: 'MobileNet-v1-style (ZeroPadding2D, depthwise, ReLU6, Reshape/Dropout head)',
    build: () => mobileNetV1({ size: 32, first: 8, blocks: [[16, 1], [24, 2], [24, 1], [32, 2]], classes: 7 }),
    inputShape: [2, 32, 32, 3],
    bnLeft: [],
  },
  { name: 'ResNet-style functional net with Add', build: resNetLike, inputShape: [2, 12, 12, 4], bnLeft: [] },
  // fh_bn follows a tanh and precedes a pool: no rule moves a shift through either.
  { name: 'Sequential Flatten + Dense head', build: flattenHead, inputShape: [3, 9, 7, 3], bnLeft: ['fh_bn'] },
  // cat_bn precedes a ReLU6, which no scale or shift crosses.
  { name: 'Concatenate, SeparableConv2D, depth multiplier', build: concatNet, inputShape: [2, 10, 10, 5], bnLeft: ['cat_bn'] },
];

beforeAll(async () => {
  await selectBackend();
});

describe.each(CASES)('$name', (c) => {
  let original: tf.LayersModel;
  let saved: SavedModel;
  let x: tf.Tensor;
  let expected: Float32Array;

  beforeAll(async () => {
    original = c.build();
    randomizeWeights(original, 7);
    saved = await saveToMemory(original);
    x = randomInput(c.inputShape, 3);
    expected = predict(original, x);
  });
  afterAll(() => {
    original.dispose();
    x.dispose();
  });

  it('imports to a graph the executor runs to model.predict’s output', () => {
    const before = tf.memory().numTensors;
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'gen.json');
    expect(tf.memory().numTensors).toBe(before);
    expect(graph.nodes[0].op).toBe('input');
    expect((graph.nodes[0] as Extract<Node, { op: 'input' }>).attrs.shape[0]).toBe('N');
    expectCloseTo(runOurs(graph, x), expected, 'imported');
  });

  it('exports back to a stock Layers model with the same output', async () => {
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'gen.json');
    const before = tf.memory().numTensors;
    const exported = exportLayersModel(graph);
    expect(tf.memory().numTensors).toBe(before);
    const reloaded = await loadFromMemory(exported);
    expectCloseTo(predict(reloaded, x), expected, 'exported');
    reloaded.dispose();
  });

  it('folds, exports, and loads: same output, only the explained BatchNormalizations left', async () => {
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'gen.json');
    const folded = foldGraph(graph, { rules: LAYERS_EXPORTABLE_RULES, probe: false }).graph;
    const exported = exportLayersModel(folded);
    expect(bnLayers(exported.modelJson)).toEqual(c.bnLeft);
    expect(bnLayers(saved.modelJson).length).toBeGreaterThan(c.bnLeft.length);
    const reloaded = await loadFromMemory(exported);
    expectCloseTo(predict(reloaded, x), expected, 'folded');
    reloaded.dispose();
  });
});

describe('files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shapefold-io-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writeLayersModel then readLayersModel gives back the graph, and tf.loadLayersModel reads the files', async () => {
    const model = resNetLike();
    randomizeWeights(model, 11);
    const saved = await saveToMemory(model);
    const graph = importLayersModel(saved.modelJson, saved.weightData);
    await writeLayersModel(join(dir, 'out'), graph);
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    const { graph: again } = await readLayersModel(join(dir, 'out', 'model.json'));
    const x = randomInput([1, 12, 12, 4], 5);
    expectCloseTo(runOurs(again, x), predict(model, x), 'files');
    x.dispose();
    model.dispose();
  });

  it('writes nothing for a graph it cannot export', async () => {
    const graph: Graph = {
      nodes: [
        { name: 'x', op: 'input', inputs: [], attrs: { shape: ['N', 2, 4, 4] }, params: {} },
        { name: 'ln', op: 'instanceNorm', inputs: ['x'], attrs: { numFeatures: 2, eps: 1e-5, affine: false }, params: {} },
      ],
      inputs: ['x'],
      outputs: ['ln'],
    };
    await expect(writeLayersModel(join(dir, 'bad'), graph)).rejects.toThrow(/instanceNorm 'ln': cannot be written as a tfjs Layers model/);
    await expect(readdir(join(dir, 'bad'))).rejects.toThrow();
  });

  it('names the missing weight file', async () => {
    const model = flattenHead();
    const saved = await saveToMemory(model);
    model.dispose();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'lonely.json'), JSON.stringify(saved.modelJson));
    await expect(readLayersModel(join(dir, 'lonely.json'))).rejects.toThrow(/lonely\.json: weightsManifest\[0\]\.paths cannot read .*weights\.bin \(ENOENT\)/);
  });
});

describe('import details', () => {
  it('keeps no unread node: a GAP -> Reshape [1, 1, C] becomes one keepDims pool', async () => {
    const model = mobileNetV1({ size: 16, first: 4, blocks: [[8, 1]], classes: 3 });
    const saved = await saveToMemory(model);
    model.dispose();
    const graph = importLayersModel(saved.modelJson, saved.weightData);
    const pools = graph.nodes.filter((n) => n.op === 'globalAvgPool');
    expect(pools.map((n) => [n.name, n.op === 'globalAvgPool' && n.attrs.keepDims])).toEqual([['reshape1', true]]);
    const read = new Set(graph.nodes.flatMap((n) => n.inputs));
    expect(graph.nodes.filter((n) => !read.has(n.name) && !graph.outputs.includes(n.name))).toEqual([]);
  });
});
