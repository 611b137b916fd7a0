/**
 * Opaque layers of several outputs: an LSTM and a GRU returning their states, a Bidirectional
 * LSTM returning the states of both directions, and a custom registered layer returning two
 * tensors, built with stock tfjs-layers as Keras users build them, each output read by different
 * consumers and some of them model outputs. Each goes import -> executor (eval, and train
 * gradients against tfjs-layers' own) -> fold around it -> export -> tf.loadLayersModel, every
 * output equal to model.predict's; the reference (through the full probe) evaluates them; the
 * report lists them; codegen refuses them by name.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileGraph, fit, selectBackend } from '../../src/backend/index.ts';
import { dslModuleSource } from '../../src/codegen/dsl-module.ts';
import { foldGraph, formatFoldReport } from '../../src/fold/index.ts';
import type { NodeOf } from '../../src/ir/graph.ts';
import { graphFromJSON, graphToJSON, graphToSplitJSON } from '../../src/ir/serialize.ts';
import { validateGraph } from '../../src/ir/validate.ts';
import { LAYERS_FOLD_OPTIONS, exportLayersModel, importLayersModel, type LayersModelJSON } from '../../src/io/index.ts';
import { batchNormalizationLayers } from '../../src/bench/zoo-models.ts';
import { runCli } from './cli-fixtures.ts';
import { expectCloseTo, loadFromMemory, randomInput, randomizeWeights, saveToMemory, writeSavedModel, type SavedModel } from './io-fixtures.ts';

type ST = tf.SymbolicTensor;
const L = tf.layers;
const apply = (layer: tf.layers.Layer, x: ST | ST[]): ST => layer.apply(x) as ST;
const applyAll = (layer: tf.layers.Layer, x: ST | ST[]): ST[] => layer.apply(x) as ST[];

/** [x * g, x * (1 - g)] with g = sigmoid(gate[c]): a custom layer of two outputs, registered as a user registers one. */
class GateSplit extends tf.layers.Layer {
  static className = 'GateSplit';
  private gate: tf.LayerVariable | undefined;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    this.gate = this.addWeight('gate', [shape[shape.length - 1] as number], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    return [inputShape as tf.Shape, inputShape as tf.Shape];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const g = tf.sigmoid((this.gate as tf.LayerVariable).read());
      return [tf.mul(x, g), tf.mul(x, tf.sub(1, g))];
    });
  }
}
tf.serialization.registerClass(GateSplit);

/** [x, x twice along time]: a second output whose unknown length is not output 0's. */
class WithDoubled extends tf.layers.Layer {
  static className = 'WithDoubled';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    const [n, steps, c] = inputShape as tf.Shape;
    return [[n, steps, c], [n, steps === null ? null : 2 * (steps as number), c]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return [tf.clone(x), tf.concat([x, x], 1)];
  }
}
tf.serialization.registerClass(WithDoubled);

/**
 * An LSTM returning its sequence and both states: the sequence pooled into a Dense + BN, the
 * hidden state through a BN into a Dense, both summed into the softmax head; the cell state a
 * model output through a BN that nothing can fold into.
 */
function lstmStates(): tf.LayersModel {
  const steps = tf.input({ shape: [6, 3], name: 'steps' });
  const [sequence, hidden, cell] = applyAll(L.lstm({ units: 4, returnSequences: true, returnState: true, name: 'lstm' }), steps);
  const pooled = apply(L.batchNormalization({ name: 'seq_bn' }), apply(L.dense({ units: 5, name: 'seq_dense' }), apply(L.globalAveragePooling1d({ name: 'seq_gap' }), sequence)));
  const state = apply(L.dense({ units: 5, name: 'state_dense' }), apply(L.batchNormalization({ name: 'state_bn' }), hidden));
  const predictions = apply(L.dense({ units: 3, activation: 'softmax', name: 'predictions' }), apply(L.add({ name: 'sum' }), [pooled, state]));
  return tf.model({ inputs: steps, outputs: [predictions, apply(L.batchNormalization({ name: 'cell_bn' }), cell)], name: 'lstm_states' });
}

/** A GRU whose output 0 nothing reads: only its state goes on, and is also a model output. */
function gruState(): tf.LayersModel {
  const steps = tf.input({ shape: [5, 2], name: 'steps' });
  const [, hidden] = applyAll(L.gru({ units: 4, returnState: true, name: 'gru' }), steps);
  const x = apply(L.batchNormalization({ name: 'dense_bn' }), apply(L.dense({ units: 6, name: 'dense' }), hidden));
  return tf.model({ inputs: steps, outputs: [hidden, apply(L.dense({ units: 3, activation: 'softmax', name: 'predictions' }), x)], name: 'gru_state' });
}

/** A Bidirectional LSTM returning [output, forward h, forward c, backward h, backward c]: the two h concatenated into a head. */
function bidirectionalStates(): tf.LayersModel {
  const steps = tf.input({ shape: [6, 3], name: 'steps' });
  const [merged, forwardH, , backwardH, backwardC] = applyAll(
    L.bidirectional({ layer: L.lstm({ units: 3, returnState: true }) as tf.RNN, mergeMode: 'concat', name: 'bi' }),
    steps,
  );
  const states = apply(L.concatenate({ name: 'states' }), [forwardH, backwardH]);
  const head = apply(L.batchNormalization({ name: 'head_bn' }), apply(L.dense({ units: 4, name: 'head' }), states));
  const direct = apply(L.dense({ units: 4, name: 'direct' }), merged);
  const predictions = apply(L.dense({ units: 2, activation: 'softmax', name: 'predictions' }), apply(L.add({ name: 'sum' }), [head, direct]));
  return tf.model({ inputs: steps, outputs: [predictions, backwardC], name: 'bi_states' });
}

/** conv + BN -> GateSplit -> a conv + BN on each half, summed, pooled, a head; the second half a model output too. */
function gateSplitNet(): tf.LayersModel {
  const image = tf.input({ shape: [6, 6, 3], name: 'image' });
  const x = apply(L.batchNormalization({ name: 'stem_bn' }), apply(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'stem' }), image));
  const [kept, rest] = applyAll(new GateSplit({ name: 'split' }), x);
  const a = apply(L.batchNormalization({ name: 'a_bn' }), apply(L.conv2d({ filters: 4, kernelSize: 1, name: 'a' }), kept));
  const b = apply(L.batchNormalization({ name: 'b_bn' }), apply(L.conv2d({ filters: 4, kernelSize: 1, name: 'b' }), rest));
  const pooled = apply(L.globalAveragePooling2d({ name: 'gap' }), apply(L.add({ name: 'sum' }), [a, b]));
  return tf.model({ inputs: image, outputs: [apply(L.dense({ units: 3, activation: 'softmax', name: 'predictions' }), pooled), rest], name: 'gate_split' });
}

interface Case {
  readonly name: string;
  readonly build: () => tf.LayersModel;
  readonly input: number[];
  /** The layer, and the outputs of it the model reads. */
  readonly layer: string;
  readonly outputsRead: readonly number[];
  readonly folded: readonly string[];
  readonly blocked: Readonly<Record<string, RegExp>>;
}

const CASES: readonly Case[] = [
  {
    name: 'LSTM(return_sequences, return_state): sequence, h and c to different consumers, c a model output',
    build: lstmStates,
    input: [3, 6, 3],
    layer: 'lstm',
    outputsRead: [0, 1, 2],
    folded: ['seq_bn', 'state_bn'],
    blocked: { cell_bn: /next to opaqueOutput 'lstm_output2', another output of a layer shapefold carries unchanged/ },
  },
  { name: 'GRU(return_state): only the state read, and a model output', build: gruState, input: [2, 5, 2], layer: 'gru', outputsRead: [1], folded: ['dense_bn'], blocked: {} },
  {
    name: 'Bidirectional(LSTM(return_state)): both directions’ states',
    build: bidirectionalStates,
    input: [2, 6, 3],
    layer: 'bi',
    outputsRead: [0, 1, 3, 4],
    folded: ['head_bn'],
    blocked: {},
  },
  {
    name: 'a custom registered layer of two outputs, one of them a model output',
    build: gateSplitNet,
    input: [2, 6, 6, 3],
    layer: 'split',
    outputsRead: [0, 1],
    folded: ['stem_bn', 'a_bn', 'b_bn'],
    blocked: {},
  },
];

type LayerEntry = { class_name: string; config: Record<string, unknown> };
const topologyOf = (json: LayersModelJSON) => (json.modelTopology as { config: { layers: LayerEntry[]; output_layers: unknown[][] } }).config;

/** model.predict's outputs, in the model's order. */
function predictAll(model: tf.LayersModel, x: tf.Tensor): Float32Array[] {
  return tf.tidy(() => [model.predict(x)].flat().map((t) => t.dataSync() as Float32Array));
}

beforeAll(async () => {
  await selectBackend();
});

describe.each(CASES)('$name', (c) => {
  let model: tf.LayersModel;
  let saved: SavedModel;
  let x: tf.Tensor;
  let expected: Float32Array[];

  beforeAll(async () => {
    model = c.build();
    randomizeWeights(model, 51);
    saved = await saveToMemory(model);
    x = randomInput(c.input, 52);
    expected = predictAll(model, x);
  });
  afterAll(() => {
    model.dispose();
    x.dispose();
  });

  it('imports the other outputs as opaqueOutput nodes of the one opaque node; the executor computes every model output, leaking nothing', () => {
    const before = tf.memory().numTensors;
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'outputs.json');
    expect(graph.nodes.filter((n) => n.op === 'opaque').map((n) => n.name)).toEqual([c.layer]);
    const selected = graph.nodes.filter((n): n is NodeOf<'opaqueOutput'> => n.op === 'opaqueOutput');
    expect(selected.map((n) => [n.inputs[0], n.attrs.index])).toEqual(c.outputsRead.filter((k) => k > 0).map((k) => [c.layer, k]));
    const net = compileGraph(graph);
    const out = net.runNHWC(x);
    graph.outputs.forEach((name, i) => expectCloseTo(out[name].dataSync() as Float32Array, expected[i], `output ${name}`));
    tf.dispose(Object.values(out));
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('folds around the layer, and the export loads back with the layer called once and every output as model.predict’s', async () => {
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'outputs.json');
    const before = tf.memory().numTensors;
    const { graph: folded, report } = foldGraph(graph, { ...LAYERS_FOLD_OPTIONS, probe: 'full' });
    expect(report.probe?.ok).toBe(true);
    const exported = exportLayersModel(folded);
    expect(tf.memory().numTensors).toBe(before);
    const left = batchNormalizationLayers(exported.modelJson.modelTopology);
    for (const bn of c.folded) expect(left, `${bn} folded`).not.toContain(bn);
    expect([...left].sort()).toEqual(Object.keys(c.blocked).sort());
    for (const [bn, reason] of Object.entries(c.blocked)) expect(report.left.find((l) => l.name === bn)?.reasons.join('; ')).toMatch(reason);
    expect(report.opaque).toEqual([{ name: c.layer, className: topologyOf(saved.modelJson).layers.find((l) => l.config.name === c.layer)?.class_name, outputsRead: c.outputsRead }]);
    expect(formatFoldReport(report)).toContain(`${c.layer} (${report.opaque?.[0].className}; outputs read: ${c.outputsRead.join(', ')})`);
    const layer = topologyOf(exported.modelJson).layers.find((l) => l.config.name === c.layer) as LayerEntry & { inbound_nodes: unknown[] };
    expect(layer.config).toEqual(topologyOf(saved.modelJson).layers.find((l) => l.config.name === c.layer)?.config);
    expect(layer.inbound_nodes).toHaveLength(1);
    const reloaded = await loadFromMemory(exported);
    const got = predictAll(reloaded, x);
    expect(got).toHaveLength(expected.length);
    got.forEach((values, i) => expectCloseTo(values, expected[i], `exported output ${i}`));
    reloaded.dispose();
  });

  it('trains through every output: the executor’s gradients of the layer’s weights are tfjs-layers’ own', () => {
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'outputs.json');
    const before = tf.memory().numTensors;
    const net = compileGraph(graph, { mode: 'train' });
    // A loss reading every model output with its own weights, so each output's gradient path counts.
    const weights = expected.map((e, i) => randomInput([e.length / c.input[0]], 60 + i));
    const loss = (outputs: readonly tf.Tensor[]) => tf.addN(outputs.map((o, i) => tf.sum(tf.mul(tf.reshape(o, [c.input[0], -1]), weights[i]))));
    const layerWeights = model.getLayer(c.layer).trainableWeights;
    expect(layerWeights.length).toBeGreaterThan(0);
    const ourVariables = layerWeights.map((w) => net.variables.get(`${c.layer}.${w.originalName}`) as tf.Variable);
    const theirVariables = layerWeights.map((w) => w.read() as tf.Variable);
    const ours = tf.variableGrads(() => {
      const out = net.runNHWC(x, { mode: 'train' });
      return loss(graph.outputs.map((name) => out[name])) as tf.Scalar;
    }, ourVariables);
    const theirs = tf.variableGrads(() => loss([model.apply(x, { training: true })].flat() as tf.Tensor[]) as tf.Scalar, theirVariables);
    layerWeights.forEach((w, k) => {
      const reference = theirs.grads[theirVariables[k].name];
      expect(tf.tidy(() => tf.max(tf.abs(reference)).dataSync()[0]), `${w.originalName} has a gradient`).toBeGreaterThan(0);
      expectCloseTo(ours.grads[ourVariables[k].name].dataSync() as Float32Array, reference.dataSync() as Float32Array, `gradient of ${w.originalName}`);
    });
    tf.dispose([ours.value, theirs.value, ...Object.values(ours.grads), ...Object.values(theirs.grads), ...weights]);
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('codegen refuses the model, naming the opaque layer', () => {
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'outputs.json');
    expect(() => dslModuleSource(graph, { source: 'outputs.json' })).toThrow(`outputs.json: node '${c.layer}' is an opaque `);
  });
});

it('fit trains a GRU through its returned state alone (the model output an opaqueOutput node)', async () => {
  const model = gruState();
  randomizeWeights(model, 53);
  const saved = await saveToMemory(model);
  model.dispose();
  const graph = importLayersModel(saved.modelJson, saved.weightData, 'gru.json');
  const before = tf.memory().numTensors;
  const net = compileGraph(graph, { mode: 'train' });
  const stateOutput = graph.outputs.find((name) => graph.nodes.find((n) => n.name === name)?.op === 'opaqueOutput') as string;
  // fit feeds the IR's channels-first layout: the sequence [N, C, L].
  const x = randomInput([8, 2, 5], 54);
  const y = tf.tidy(() => tf.mul(tf.ones([8, 4]), 0.5));
  const history = await fit(net, { x, y }, { epochs: 4, batchSize: 8, optimizer: 'adam', learningRate: 0.05, loss: 'mse', output: stateOutput, progressBar: false });
  expect(history.steps.at(-1)).toBeLessThan(history.steps[0]);
  const trained = net.exportGraph();
  const kernel = (g: typeof graph) => (g.nodes.find((n) => n.name === 'gru')?.params as Record<string, { data: Float32Array }>)['gru/kernel'].data;
  expect(kernel(trained)).not.toEqual(kernel(graph));
  tf.dispose([x, y]);
  net.dispose();
  expect(tf.memory().numTensors).toBe(before);
});

it('a shared LSTM returning its state, called on two sequences, is written back as one layer called twice', async () => {
  const [first, second] = [tf.input({ shape: [5, 3], name: 'first' }), tf.input({ shape: [5, 3], name: 'second' })];
  const encoder = L.lstm({ units: 4, returnState: true, name: 'encoder' });
  const [, firstState] = applyAll(encoder, first);
  const [secondOut, , secondCell] = applyAll(encoder, second);
  const joined = apply(L.concatenate({ name: 'joined' }), [firstState, secondOut, secondCell]);
  const model = tf.model({ inputs: [first, second], outputs: [apply(L.batchNormalization({ name: 'bn' }), apply(L.dense({ units: 3, name: 'dense' }), joined)), firstState], name: 'shared' });
  randomizeWeights(model, 57);
  const saved = await saveToMemory(model);
  const xs = [randomInput([2, 5, 3], 58), randomInput([2, 5, 3], 59)];
  const expected = tf.tidy(() => (model.predict(xs) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array));
  const graph = importLayersModel(saved.modelJson, saved.weightData, 'shared.json');
  expect(graph.nodes.filter((n) => n.op === 'opaque').map((n) => [n.name, n.tiedTo])).toEqual([['encoder', undefined], ['encoder_1', 'encoder']]);
  const net = compileGraph(graph);
  const out = net.runNHWC({ first: xs[0], second: xs[1] });
  graph.outputs.forEach((name, i) => expectCloseTo(out[name].dataSync() as Float32Array, expected[i], `executor output ${name}`));
  tf.dispose(Object.values(out));
  net.dispose();
  const { graph: folded } = foldGraph(graph, { ...LAYERS_FOLD_OPTIONS, probe: 'fast' });
  const exported = exportLayersModel(folded);
  const layer = topologyOf(exported.modelJson).layers.find((l) => l.config.name === 'encoder') as LayerEntry & { inbound_nodes: unknown[] };
  expect(layer.inbound_nodes).toHaveLength(2);
  const reloaded = await loadFromMemory(exported);
  const got = tf.tidy(() => (reloaded.predict(xs) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array));
  got.forEach((values, i) => expectCloseTo(values, expected[i], `output ${i}`));
  tf.dispose(xs);
  reloaded.dispose();
  model.dispose();
});

it('shapefold info lists the layer with the outputs read; the graph file keeps the opaqueOutput nodes', async () => {
  const model = lstmStates();
  randomizeWeights(model, 56);
  const saved = await saveToMemory(model);
  model.dispose();
  const dir = await mkdtemp(join(tmpdir(), 'shapefold-outputs-'));
  try {
    const info = await runCli(['info', await writeSavedModel(saved, dir)]);
    expect(info.code).toBe(0);
    expect(info.out).toContain('opaque layers (run by tfjs-layers, written back unchanged): lstm (LSTM; outputs read: 0, 1, 2)');
    // the shape table names the other outputs as the layer's, and so do the inputs of their readers
    const table = info.out.slice(info.out.indexOf('layer  '), info.out.indexOf('\n\n', info.out.indexOf('layer  ')));
    expect(table).toMatch(/^lstm\s+opaque LSTM\s+steps\s+\[N, 4, 6\]/m);
    expect(table).toMatch(/^lstm\[1\]\s+LSTM output 1\s+lstm\s+\[N, 4\]$/m);
    expect(table).toMatch(/^lstm\[2\]\s+LSTM output 2\s+lstm\s+\[N, 4\]$/m);
    expect(table).toMatch(/^cell_bn\s+\S+\s+lstm\[2\]\s/m);
    expect(table).not.toContain('lstm_output');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const graph = importLayersModel(saved.modelJson, saved.weightData, 'lstm.json');
  const { topology, weights } = graphToSplitJSON(graph);
  for (const copy of [graphFromJSON(JSON.parse(JSON.stringify(graphToJSON(graph)))), graphFromJSON(JSON.parse(JSON.stringify(topology)), 'split', weights)]) {
    expect(copy.nodes.filter((n) => n.op === 'opaqueOutput')).toEqual(graph.nodes.filter((n) => n.op === 'opaqueOutput'));
  }
});

describe('named errors', () => {
  const lstmGraph = async () => {
    const model = lstmStates();
    const saved = await saveToMemory(model);
    model.dispose();
    return importLayersModel(saved.modelJson, saved.weightData, 'lstm.json');
  };

  it('a second output of a size tfjs does not know and that is not output 0’s is refused, naming it', async () => {
    const steps = tf.input({ shape: [null, 3] as unknown as number[], name: 'steps' });
    const [, doubled] = applyAll(new WithDoubled({ name: 'doubled' }), steps);
    const model = tf.model({ inputs: steps, outputs: apply(L.dense({ units: 2, name: 'dense' }), doubled) });
    const saved = await saveToMemory(model);
    model.dispose();
    expect(() => importLayersModel(saved.modelJson, saved.weightData, 'doubled.json')).toThrow(
      "doubled.json: layer 'doubled' (WithDoubled): output 1's size 1 (channels-last) is unknown to tfjs and not output 0's: shapefold needs it known; give the model input literal sizes",
    );
  });

  it('an opaqueOutput node must read an opaque node', async () => {
    const graph = await lstmGraph();
    const nodes = graph.nodes.map((n) => (n.op === 'opaqueOutput' && n.attrs.index === 2 ? { ...n, inputs: ['steps'] } : n));
    expect(() => validateGraph({ ...graph, nodes })).toThrow("opaqueOutput 'lstm_output2': reads 'steps', a input node; it selects an output of an opaque node");
  });

  it('an output past those the layer returns is named at run time, leaking nothing', async () => {
    const graph = await lstmGraph();
    const nodes = graph.nodes.map((n) => (n.op === 'opaqueOutput' && n.attrs.index === 2 ? { ...n, attrs: { ...n.attrs, index: 3 } } : n));
    const before = tf.memory().numTensors;
    const net = compileGraph({ ...graph, nodes });
    const x = randomInput([1, 6, 3], 55);
    expect(() => net.runNHWC(x)).toThrow("opaqueOutput 'lstm_output2': reads output 3 of 'lstm', whose layer returned 3 output(s)");
    x.dispose();
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
