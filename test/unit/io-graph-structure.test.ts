/**
 * Graph structure on import: models nested in models (any depth, either kind) and shared layers
 * (one layer object called several times), generated with stock tfjs-layers and compared with
 * `model.predict`. Shared weights stay shared: tied in the IR, one variable in the executor, one
 * Keras layer called several times on export, and never folded into one copy only.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adaBN, compileGraph, selectBackend } from '../../src/backend/index.ts';
import { foldGraph } from '../../src/fold/index.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { graphFromJSON, graphToJSON, graphToSplitJSON } from '../../src/ir/serialize.ts';
import { validateGraph } from '../../src/ir/validate.ts';
import { LAYERS_EXPORTABLE_RULES, LayersModelError, exportLayersModel, importLayersModel } from '../../src/io/index.ts';
import { expectCloseTo, loadFromMemory, predict, randomInput, randomizeWeights, saveToMemory, type SavedModel } from './io-fixtures.ts';
import { nestedModels, sharedLayers } from '../../src/bench/zoo-models.ts';

beforeAll(async () => {
  await selectBackend();
});

const layersOf = (saved: { modelJson: { modelTopology: unknown } }) =>
  (saved.modelJson.modelTopology as { config: { layers: { class_name: string; name: string; inbound_nodes: unknown[] }[] } }).config.layers;

async function roundTrip(model: tf.LayersModel, inputs: tf.Tensor[]) {
  randomizeWeights(model, 5);
  const saved = await saveToMemory(model);
  const expected = predict(model, inputs.length === 1 ? inputs[0] : (inputs as unknown as tf.Tensor));
  return { saved, expected };
}

function runAll(graph: Graph, inputs: tf.Tensor[]): Float32Array {
  const net = compileGraph(graph);
  const out = net.runNHWC(Object.fromEntries(graph.inputs.map((name, i) => [name, inputs[i]])));
  const data = out[graph.outputs[0]].dataSync() as Float32Array;
  tf.dispose(Object.values(out));
  net.dispose();
  return data;
}

describe('shared layers: a conv and a whole Sequential encoder each called on two inputs', () => {
  let model: tf.LayersModel;
  let saved: SavedModel;
  let inputs: tf.Tensor[];
  let expected: Float32Array;
  let graph: Graph;

  beforeAll(async () => {
    model = sharedLayers({ size: 8, classifierActivation: 'linear' });
    inputs = [randomInput([2, 8, 8, 3], 1), randomInput([2, 8, 8, 3], 2)];
    ({ saved, expected } = await roundTrip(model, inputs));
    graph = importLayersModel(saved.modelJson, saved.weightData, 'siamese.json');
  });
  afterAll(() => {
    model.dispose();
    tf.dispose(inputs);
  });

  it('imports each call as nodes tied to the first call’s, and runs to model.predict’s output', () => {
    const tied = graph.nodes.filter((n) => n.tiedTo !== undefined).map((n) => [n.name, n.tiedTo]);
    expect(tied).toEqual([
      ['shared_conv_1', 'shared_conv'],
      ['enc_conv_1', 'enc_conv'],
      ['enc_bn_1', 'enc_bn'],
    ]);
    const before = tf.memory().numTensors;
    expectCloseTo(runAll(graph, inputs), expected, 'imported');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives tied nodes one set of variables, exported back as equal params', () => {
    const net = compileGraph(graph);
    expect([...net.variables.keys()].filter((k) => k.startsWith('shared_conv'))).toEqual(['shared_conv.weight', 'shared_conv.bias']);
    const exported = net.exportGraph();
    const byName = new Map(exported.nodes.map((n) => [n.name, n]));
    expect(byName.get('enc_conv_1')?.params).toEqual(byName.get('enc_conv')?.params);
    net.dispose();
  });

  it('keeps ties through JSON and refuses a tie whose weights differ', () => {
    const again = graphFromJSON(graphToJSON(graph));
    expect(again.nodes.find((n) => n.name === 'enc_bn_1')?.tiedTo).toBe('enc_bn');
    const { topology, weights } = graphToSplitJSON(graph);
    const split = graphFromJSON(JSON.parse(JSON.stringify(topology)), 'split', weights);
    expect(split.nodes.filter((n) => n.tiedTo !== undefined).map((n) => n.name)).toEqual(['shared_conv_1', 'enc_conv_1', 'enc_bn_1']);
    const broken = {
      ...graph,
      nodes: graph.nodes.map((n) =>
        n.name === 'enc_conv_1' && n.op === 'conv2d' ? { ...n, params: { ...n.params, bias: { shape: [6], data: new Float32Array(6) } } } : n,
      ),
    } as Graph;
    expect(() => validateGraph(broken)).toThrow(/conv2d 'enc_conv_1'.*tiedTo 'enc_conv': param 'bias' differs at element 0/);
  });

  it('exports one Keras layer per shared layer, called once per use, and tf.loadLayersModel agrees', async () => {
    const exported = exportLayersModel(graph);
    const calls = Object.fromEntries(layersOf(exported).map((l) => [l.name, l.inbound_nodes.length]));
    expect(calls.shared_conv).toBe(2);
    expect(calls.enc_conv).toBe(2);
    expect(calls.enc_bn).toBe(2);
    expect(Object.keys(calls)).not.toContain('enc_conv_1');
    const reloaded = await loadFromMemory(exported);
    expectCloseTo(predict(reloaded, inputs as unknown as tf.Tensor), expected, 'exported');
    reloaded.dispose();
  });

  it('never folds a BN into one copy of a shared conv: refused with the reason', async () => {
    const { graph: folded, report } = foldGraph(graph, { rules: LAYERS_EXPORTABLE_RULES, probe: false });
    const left = report.left.map((l) => l.name);
    expect(left).toEqual(expect.arrayContaining(['enc_bn', 'enc_bn_1']));
    const why = report.left.find((l) => l.name === 'enc_bn')?.reasons.join(' ');
    expect(why).toMatch(/enc_conv shares its parameters with enc_conv_1 \(one layer used 2 times\)/);
    // The head's BN is not shared and folds.
    expect(left).not.toContain('head_bn');
    const reloaded = await loadFromMemory(exportLayersModel(folded));
    expectCloseTo(predict(reloaded, inputs as unknown as tf.Tensor), expected, 'folded');
    reloaded.dispose();
  });
});

it('AdaBN refuses a BN shared by several uses instead of giving it one use’s statistics', async () => {
  const bn = (name: string) => ({
    name,
    op: 'batchNorm' as const,
    inputs: ['x'],
    attrs: { numFeatures: 2, eps: 1e-3, decay: 0.99, unbiasedRunningVar: false, frozen: false },
    params: { gamma: { shape: [2], data: new Float32Array([1, 2]) }, beta: { shape: [2], data: new Float32Array(2) }, runningMean: { shape: [2], data: new Float32Array(2) }, runningVar: { shape: [2], data: new Float32Array([1, 1]) } },
  });
  const graph: Graph = {
    nodes: [{ name: 'x', op: 'input', inputs: [], attrs: { shape: ['N', 2, 3, 3] }, params: {} }, bn('bn'), { ...bn('bn_1'), tiedTo: 'bn' }, { name: 'sum', op: 'add', inputs: ['bn', 'bn_1'], attrs: {}, params: {} }],
    inputs: ['x'],
    outputs: ['sum'],
  };
  const net = compileGraph(graph);
  const data = tf.ones([4, 2, 3, 3]);
  await expect(adaBN(net, data)).rejects.toThrow(/batchNorm 'bn'.*shares its running statistics with 'bn_1'/);
  data.dispose();
  net.dispose();
});

describe('nested models', () => {
  it('a Sequential inside a functional model inside a Sequential (and a functional inside that) imports, folds and exports', async () => {
    const model = nestedModels({ size: 8, classifierActivation: 'linear' });
    const x = randomInput([2, 8, 8, 3], 4);
    const { saved, expected } = await roundTrip(model, [x]);
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'nested.json');
    expectCloseTo(runAll(graph, [x]), expected, 'imported');
    const { graph: folded, report } = foldGraph(graph, { rules: LAYERS_EXPORTABLE_RULES, probe: false });
    expect(report.left).toEqual([]);
    const reloaded = await loadFromMemory(exportLayersModel(folded));
    expectCloseTo(predict(reloaded, x), expected, 'folded');
    reloaded.dispose();
    model.dispose();
    x.dispose();
  });

  it('names the nested layer at fault, with its path', async () => {
    const model = nestedModels({ size: 8, classifierActivation: 'linear' });
    const saved = await saveToMemory(model);
    model.dispose();
    const json = structuredClone(saved.modelJson);
    const stem = layersOf({ modelJson: json }).find((l) => l.class_name === 'Sequential') as unknown as { config: { layers: { class_name: string }[] } };
    stem.config.layers[1].class_name = 'NoSuchLayer';
    let caught: unknown;
    try {
      importLayersModel(json, saved.weightData, 'nested.json');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LayersModelError);
    expect((caught as LayersModelError).message).toMatch(/^nested\.json: layer 'stem\/stem_bn' \(NoSuchLayer\): unknown layer class; register it with tf\.serialization\.registerClass/);
  });
});
