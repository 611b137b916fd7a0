/**
 * Layers shapefold has no op for (LSTM, Embedding, TimeDistributed, a custom registered class)
 * are carried through as opaque nodes that tfjs-layers runs: import -> fold -> export ->
 * tf.loadLayersModel computes model.predict's output, the BNs around them fold where the math
 * allows, the report names the opaque layer where it blocks, and the layer comes back unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileGraph, fit, selectBackend } from '../../src/backend/index.ts';
import { kerasConfigToTfjs } from '../../src/backend/keras-layer.ts';
// tfjs-layers' own (internal) conversion, as the oracle for ours.
import { convertPythonicToTs, convertTsToPythonic } from '@tensorflow/tfjs-layers/dist/utils/serialization_utils.js';
import { dslModuleSource } from '../../src/codegen/dsl-module.ts';
import { cloneGraph, graphFromJSON, graphToJSON, graphToSplitJSON } from '../../src/ir/serialize.ts';
import { foldGraph, formatFoldReport } from '../../src/fold/index.ts';
import { LAYERS_FOLD_OPTIONS, exportLayersModel, importLayersModel, type LayersModelJSON } from '../../src/io/index.ts';
import { batchNormalizationLayers, textClassifier } from '../../src/bench/zoo-models.ts';
import { runCli } from './cli-fixtures.ts';
import { expectCloseTo, loadFromMemory, predict, randomInput, randomizeWeights, saveToMemory, writeSavedModel, type SavedModel } from './io-fixtures.ts';

type ST = tf.SymbolicTensor;
const L = tf.layers;
const apply = (layer: tf.layers.Layer, x: ST | ST[]): ST => layer.apply(x) as ST;

/** y = tanh(x) * scale[c]: a custom layer with a weight, registered as a user registers one. */
class ScaledTanh extends tf.layers.Layer {
  static className = 'ScaledTanh';
  private scale: tf.LayerVariable | undefined;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    this.scale = this.addWeight('scale', [shape[shape.length - 1] as number], 'float32', tf.initializers.ones());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(tf.tanh(Array.isArray(inputs) ? inputs[0] : inputs), (this.scale as tf.LayerVariable).read()));
  }
}
tf.serialization.registerClass(ScaledTanh);

/** TimeDistributed convs over 4 frames, then a BN and a Conv1D + BN over time. */
function videoNet(): tf.LayersModel {
  const frames = tf.input({ shape: [4, 8, 8, 3], name: 'frames' });
  let x = apply(L.timeDistributed({ layer: L.conv2d({ filters: 5, kernelSize: 3, activation: 'relu', name: 'frame_conv' }), name: 'per_frame_conv' }), frames);
  x = apply(L.timeDistributed({ layer: L.globalAveragePooling2d({ name: 'frame_gap' }), name: 'per_frame_gap' }), x);
  x = apply(L.batchNormalization({ name: 'time_bn' }), x);
  x = apply(L.conv1d({ filters: 6, kernelSize: 1, name: 'time_conv' }), x);
  x = apply(L.reLU({ name: 'time_relu' }), apply(L.batchNormalization({ name: 'time_conv_bn' }), x));
  x = apply(L.globalAveragePooling1d({ name: 'time_gap' }), x);
  return tf.model({ inputs: frames, outputs: apply(L.dense({ units: 3, activation: 'softmax', name: 'predictions' }), x), name: 'video' });
}

/**
 * A 3-D CNN over a volume: Conv3D and MaxPooling3D opaque, then Dense + BN. (No BN on the volume:
 * tfjs-layers 4.22 cannot run one, 'batchNormalization is not implemented for array of rank 5'.)
 */
function volumeNet(): tf.LayersModel {
  const volume = tf.input({ shape: [4, 6, 6, 2], name: 'volume' });
  let x = apply(L.reLU({ name: 'conv3d_relu' }), apply(L.conv3d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv3d' }), volume));
  x = apply(L.flatten({ name: 'flat' }), apply(L.maxPooling3d({ poolSize: 2, name: 'pool3d' }), x));
  x = apply(L.batchNormalization({ name: 'dense_bn' }), apply(L.dense({ units: 6, name: 'dense' }), x));
  return tf.model({ inputs: volume, outputs: apply(L.dense({ units: 3, activation: 'softmax', name: 'predictions' }), apply(L.reLU({ name: 'dense_relu' }), x)), name: 'volume' });
}

/** A conv + BN, the custom layer, a BN stuck between it and a ReLU, a head. */
function customLayerNet(): tf.LayersModel {
  const image = tf.input({ shape: [8, 8, 3], name: 'image' });
  let x = apply(L.batchNormalization({ name: 'conv_bn' }), apply(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }), image));
  x = apply(new ScaledTanh({ name: 'scaled_tanh' }), x);
  x = apply(L.reLU({ name: 'relu' }), apply(L.batchNormalization({ name: 'stuck_bn' }), x));
  x = apply(L.globalAveragePooling2d({ name: 'gap' }), x);
  return tf.model({ inputs: image, outputs: apply(L.dense({ units: 3, activation: 'softmax', name: 'predictions' }), x), name: 'custom' });
}

interface OpaqueCase {
  readonly name: string;
  readonly build: () => tf.LayersModel;
  readonly input: () => tf.Tensor;
  readonly opaque: readonly string[];
  /** BNs the fold must remove, and those it must leave with a reason naming an opaque layer. */
  readonly folded: readonly string[];
  readonly blocked: Readonly<Record<string, RegExp>>;
}

/** Token indices below the vocabulary, as floats (tfjs's Embedding casts its input to int32). */
const tokens = (shape: number[], vocabulary: number, seed: number) => tf.tidy(() => tf.floor(tf.mul(tf.add(randomInput(shape, seed), 1), vocabulary / 2)));

const CASES: readonly OpaqueCase[] = [
  {
    name: 'Embedding -> BN -> LSTM -> Dense + BN -> softmax (text classifier)',
    build: () => textClassifier({ size: 12, width: 0.125, vocabulary: 30, classes: 4 }),
    input: () => tokens([3, 12], 30, 5),
    opaque: ['embedding', 'lstm'],
    folded: ['dense_bn'],
    blocked: { embedding_bn: /next to opaque Embedding 'embedding', a layer shapefold carries unchanged.*feeds opaque LSTM 'lstm'/ },
  },
  {
    name: 'TimeDistributed(Conv2D) -> TimeDistributed(GAP) -> BN -> Conv1D + BN',
    build: videoNet,
    input: () => randomInput([2, 4, 8, 8, 3], 6),
    opaque: ['per_frame_conv', 'per_frame_gap'],
    folded: ['time_bn', 'time_conv_bn'],
    blocked: {},
  },
  {
    name: 'Conv3D -> ReLU -> MaxPooling3D -> Flatten -> Dense + BN',
    build: volumeNet,
    input: () => randomInput([2, 4, 6, 6, 2], 8),
    opaque: ['conv3d', 'pool3d'],
    folded: ['dense_bn'],
    blocked: {},
  },
  {
    name: 'a custom layer registered with tf.serialization.registerClass',
    build: customLayerNet,
    input: () => randomInput([2, 8, 8, 3], 7),
    opaque: ['scaled_tanh'],
    folded: ['conv_bn'],
    blocked: { stuck_bn: /next to opaque ScaledTanh 'scaled_tanh', a layer shapefold carries unchanged for tfjs-layers to run/ },
  },
];

type LayerEntry = { class_name: string; config: Record<string, unknown> };
const layersOf = (json: LayersModelJSON) => (json.modelTopology as { config: { layers: LayerEntry[] } }).config.layers;
const layerNamed = (json: LayersModelJSON, name: string) => layersOf(json).find((l) => l.config.name === name);

beforeAll(async () => {
  await selectBackend();
});

describe.each(CASES)('$name', (c) => {
  let model: tf.LayersModel;
  let saved: SavedModel;
  let x: tf.Tensor;
  let expected: Float32Array;

  beforeAll(async () => {
    model = c.build();
    randomizeWeights(model, 41);
    saved = await saveToMemory(model);
    x = c.input();
    expected = predict(model, x);
  });
  afterAll(() => {
    model.dispose();
    x.dispose();
  });

  it('imports its layers as opaque nodes the executor runs to model.predict’s output, leaking nothing', () => {
    const before = tf.memory().numTensors;
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'opaque.json');
    expect(graph.nodes.filter((n) => n.op === 'opaque').map((n) => n.name)).toEqual(c.opaque);
    const net = compileGraph(graph);
    const out = net.runNHWC(x);
    expectCloseTo(out[graph.outputs[0]].dataSync() as Float32Array, expected, 'imported');
    tf.dispose(Object.values(out));
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('folds around them, never across, and the export loads back computing the same', async () => {
    const before = tf.memory().numTensors;
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'opaque.json');
    const { graph: folded, report } = foldGraph(graph, { ...LAYERS_FOLD_OPTIONS, probe: false });
    const exported = exportLayersModel(folded);
    expect(tf.memory().numTensors).toBe(before);
    const left = batchNormalizationLayers(exported.modelJson.modelTopology);
    for (const bn of c.folded) expect(left, `${bn} folded`).not.toContain(bn);
    expect(left.sort()).toEqual(Object.keys(c.blocked).sort());
    for (const [bn, reason] of Object.entries(c.blocked)) {
      expect(report.left.find((l) => l.name === bn)?.reasons.join('; ')).toMatch(reason);
    }
    expect(report.opaque?.map((l) => l.name)).toEqual(c.opaque);
    expect(formatFoldReport(report)).toContain(`carried unchanged, run by tfjs-layers; no fold crosses them (${c.opaque.length}):`);
    const reloaded = await loadFromMemory(exported);
    expectCloseTo(predict(reloaded, x), expected, 'folded and exported');
    reloaded.dispose();
  });

  it('writes each opaque layer back unchanged: class, config, weight names, order and values', () => {
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'opaque.json');
    const exported = exportLayersModel(graph);
    const specs = (json: LayersModelJSON) => json.weightsManifest.flatMap((g) => g.weights);
    for (const name of c.opaque) {
      const before = layerNamed(saved.modelJson, name);
      const after = layerNamed(exported.modelJson, name);
      expect(after?.class_name).toBe(before?.class_name);
      expect(after?.config).toEqual(before?.config);
      const ownWeights = (json: LayersModelJSON) => specs(json).filter((w) => w.name.startsWith(`${name}/`)).map((w) => [w.name, w.shape]);
      expect(ownWeights(exported.modelJson)).toEqual(ownWeights(saved.modelJson));
    }
  });
});

describe('the text classifier in training and in the probe', () => {
  let saved: SavedModel;
  beforeAll(async () => {
    const model = textClassifier({ size: 12, width: 0.125, vocabulary: 30, classes: 4 });
    randomizeWeights(model, 43);
    saved = await saveToMemory(model);
    model.dispose();
  });

  // On wasm: the gradient of the Embedding's gather is the UnsortedSegmentSum shapefold registers there (tfjs 4.22's wasm has none).
  it('trains the opaque layers’ weights with the others (fit, on wasm), and exportGraph writes them', async () => {
    await selectBackend({ backend: 'wasm' });
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'text.json');
    const before = tf.memory().numTensors;
    const net = compileGraph(graph, { mode: 'train' });
    expect([...net.variables.keys()]).toEqual(expect.arrayContaining(['embedding.embedding/embeddings', 'lstm.lstm/kernel', 'lstm.lstm/recurrent_kernel', 'lstm.lstm/bias']));
    const x = tokens([8, 12], 30, 9);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4));
    const history = await fit(net, { x, y }, { epochs: 3, batchSize: 8, optimizer: 'adam', learningRate: 0.05, loss: 'mse', progressBar: false });
    expect(history.steps.at(-1)).toBeLessThan(history.steps[0]);
    const trained = net.exportGraph();
    for (const [node, weight] of [['embedding', 'embedding/embeddings'], ['lstm', 'lstm/kernel']]) {
      const was = graph.nodes.find((n) => n.name === node)?.params as Record<string, { data: Float32Array }>;
      const now = trained.nodes.find((n) => n.name === node)?.params as Record<string, { data: Float32Array }>;
      expect(now[weight].data, `${weight} trained`).not.toEqual(was[weight].data);
    }
    tf.dispose([x, y]);
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('probes the fold in full: the opaque layers through tfjs in float32, token inputs below the vocabulary', () => {
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'text.json');
    const before = tf.memory().numTensors;
    const { report } = foldGraph(graph, { ...LAYERS_FOLD_OPTIONS, probe: 'full' });
    expect(tf.memory().numTensors).toBe(before);
    expect(report.probe?.ok).toBe(true);
    expect(report.probe?.method.at(-1)).toContain(
      "the opaque layers Embedding 'embedding', LSTM 'lstm' run through tfjs-layers in float32 inside the float64 runs; input 'embedding_input' holds token indices in [0, 30) for Embedding 'embedding'",
    );
  });
});

it('shapefold info and fold list the opaque layers of a text classifier, and fold writes a model that loads', async () => {
  const model = textClassifier({ size: 12, width: 0.125, vocabulary: 30, classes: 4 });
  randomizeWeights(model, 44);
  const dir = await mkdtemp(join(tmpdir(), 'shapefold-opaque-'));
  try {
    const saved = await saveToMemory(model);
    await mkdir(join(dir, 'in'));
    await writeSavedModel(saved, join(dir, 'in'));
    const info = await runCli(['info', join(dir, 'in', 'model.json')]);
    expect(info.code).toBe(0);
    expect(info.out).toContain('opaque layers (run by tfjs-layers, written back unchanged): embedding (Embedding), lstm (LSTM)');
    const folded = await runCli(['fold', join(dir, 'in', 'model.json'), '-o', join(dir, 'out')]);
    expect(folded.code).toBe(0);
    expect(folded.out).toContain('embedding (Embedding), lstm (LSTM)');
    expect(folded.out).toMatch(/probe \(fast, eval mode, seed 0\): PASS/);
    const x = tokens([2, 12], 30, 3);
    const modelJson = JSON.parse(await readFile(join(dir, 'out', 'model.json'), 'utf8')) as LayersModelJSON;
    const shards = await Promise.all(modelJson.weightsManifest.flatMap((g) => g.paths).map((path) => readFile(join(dir, 'out', path))));
    const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
    const reloaded = await loadFromMemory({ modelJson, weightData });
    expectCloseTo(predict(reloaded, x), predict(model, x), 'fold via the CLI');
    reloaded.dispose();
    x.dispose();
  } finally {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

it('an opaque node survives the shapefold graph file (both layouts) and cloneGraph unchanged', async () => {
  const model = textClassifier({ size: 12, width: 0.125, vocabulary: 30, classes: 4 });
  randomizeWeights(model, 45);
  const saved = await saveToMemory(model);
  model.dispose();
  const graph = importLayersModel(saved.modelJson, saved.weightData, 'text.json');
  const lstm = graph.nodes.find((n) => n.name === 'lstm');
  const { topology, weights } = graphToSplitJSON(graph);
  for (const copy of [graphFromJSON(JSON.parse(JSON.stringify(graphToJSON(graph)))), graphFromJSON(JSON.parse(JSON.stringify(topology)), 'split', weights), cloneGraph(graph)]) {
    expect(copy.nodes.find((n) => n.name === 'lstm')).toEqual(lstm);
  }
});

it('the CLI as Node runs it (tfjs-core and tfjs-layers Node builds, no chained ops) checks and folds an LSTM model', async () => {
  const model = textClassifier({ size: 12, width: 0.125, vocabulary: 30, classes: 4 });
  randomizeWeights(model, 49);
  const saved = await saveToMemory(model);
  model.dispose();
  const dir = await mkdtemp(join(tmpdir(), 'shapefold-opaque-node-'));
  try {
    await writeSavedModel(saved, dir);
    const bin = join(import.meta.dirname, '..', '..', 'src', 'cli', 'bin.ts');
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let [out, err] = ['', ''];
        child.stdout.on('data', (d) => (out += String(d)));
        child.stderr.on('data', (d) => (err += String(d)));
        child.on('close', (code) => resolve({ code, out, err }));
      });
    const check = await run(['check', join(dir, 'model.json')]);
    expect(check.err).toBe('');
    expect(check.out).toMatch(/^lstm +opaque LSTM +embedding_bn +\[N, 8\] +544$/m);
    const folded = await run(['fold', join(dir, 'model.json'), '-o', join(dir, 'out')]);
    expect(folded.code, folded.err).toBe(0);
    expect(folded.out).toMatch(/probe \(fast, eval mode, seed 0\): PASS/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 120_000);

it('codegen names the opaque layer it cannot write as typed DSL', async () => {
  const model = textClassifier({ size: 12, width: 0.125, vocabulary: 30, classes: 4 });
  const saved = await saveToMemory(model);
  model.dispose();
  const graph = importLayersModel(saved.modelJson, saved.weightData, 'text.json');
  expect(() => dslModuleSource(graph, { source: 'text.json' })).toThrow(
    "text.json: node 'embedding' is an opaque Embedding layer, which only tfjs-layers runs; the typed DSL has no builder for it",
  );
});

it('an int32 input only Embedding layers read is read as float32 token indices, with a warning; import, fold and export compute model.predict’s output', async () => {
  const tokensIn = tf.input({ shape: [10], dtype: 'int32', name: 'tokens' });
  let x = apply(L.embedding({ inputDim: 40, outputDim: 6, name: 'embedding' }), tokensIn);
  x = apply(L.gru({ units: 5, name: 'gru' }), x);
  x = apply(L.batchNormalization({ name: 'dense_bn' }), apply(L.dense({ units: 4, name: 'dense' }), x));
  const model = tf.model({ inputs: tokensIn, outputs: apply(L.softmax({ name: 'softmax' }), x), name: 'int_tokens' });
  randomizeWeights(model, 48);
  const saved = await saveToMemory(model);
  const warnings: string[] = [];
  const graph = importLayersModel(saved.modelJson, saved.weightData, 'tokens.json', { onWarning: (m) => warnings.push(m) });
  expect(warnings).toEqual([
    "tokens.json: layer 'tokens' (InputLayer): config.dtype is \"int32\": read as float32 token indices, which Embedding 'embedding' casts to int32 as tfjs does (exact below 2^24); the written model's input is float32",
  ]);
  const ids = tf.tidy(() => tf.cast(tokens([3, 10], 40, 11), 'int32'));
  const expected = predict(model, ids);
  const { graph: folded } = foldGraph(graph, { ...LAYERS_FOLD_OPTIONS, probe: 'fast' });
  const reloaded = await loadFromMemory(exportLayersModel(folded));
  expectCloseTo(predict(reloaded, ids), expected, 'int32 tokens');
  reloaded.dispose();
  ids.dispose();
  model.dispose();
});

it('a layer read partly and then found unsupported is taken back whole and read as opaque (the ZeroPadding2D before it made once)', async () => {
  const model = tf.sequential({
    name: 'crop_unknown',
    layers: [
      L.conv2d({ inputShape: [null, null, 2] as unknown as number[], filters: 3, kernelSize: 1, name: 'conv' }),
      L.zeroPadding2d({ padding: 1, name: 'pad' }),
      L.centerCrop({ height: 3, width: 3, name: 'crop' }),
      L.batchNormalization({ name: 'crop_bn' }),
      L.globalAveragePooling2d({ name: 'gap' }),
    ],
  });
  randomizeWeights(model, 47);
  const saved = await saveToMemory(model);
  const warnings: string[] = [];
  const graph = importLayersModel(saved.modelJson, saved.weightData, 'crop.json', { onWarning: (m) => warnings.push(m) });
  expect(graph.nodes.map((n) => `${n.name}:${n.op}`)).toEqual(['conv_input:input', 'conv:conv2d', 'pad:conv2d', 'crop:opaque', 'crop_bn:batchNorm', 'gap:globalAvgPool']);
  expect(warnings).toEqual([
    "crop.json: layer 'crop' (CenterCrop): crops a map of unknown size [H+2, W+2]; the crop offsets depend on it; shapefold carries the layer as an opaque one that tfjs-layers runs (nothing folds across it)",
  ]);
  const x = randomInput([2, 5, 6, 2], 4);
  const net = compileGraph(graph);
  const out = net.runNHWC(x);
  expectCloseTo(out.gap.dataSync() as Float32Array, predict(model, x), 'crop of unknown size');
  tf.dispose([x, ...Object.values(out)]);
  net.dispose();
  model.dispose();
});

describe('the importer refuses only what tf.loadLayersModel refuses', () => {
  it('imports a BatchNormalization on a volume (which tfjs loads) as opaque; running it fails as in tfjs, naming the layer', async () => {
    const volume = tf.input({ shape: [2, 4, 4, 3], name: 'volume' });
    const model = tf.model({ inputs: volume, outputs: L.batchNormalization({ name: 'volume_bn' }).apply(volume) as ST, name: 'bn5' });
    const saved = await saveToMemory(model);
    model.dispose();
    const graph = importLayersModel(saved.modelJson, saved.weightData, 'bn5.json');
    expect(graph.nodes.map((n) => n.op)).toEqual(['input', 'opaque']);
    const before = tf.memory().numTensors;
    const net = compileGraph(graph);
    const x = tf.zeros([1, 3, 2, 4, 4]);
    expect(() => net.run(x)).toThrow("opaque 'volume_bn': tfjs failed: batchNormalization is not implemented for array of rank 5 yet");
    x.dispose();
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names an unregistered custom class, as tfjs would reject it', async () => {
    const model = customLayerNet();
    const saved = await saveToMemory(model);
    model.dispose();
    const json = JSON.parse(JSON.stringify(saved.modelJson)) as LayersModelJSON;
    const layer = layerNamed(json, 'scaled_tanh') as LayerEntry;
    layer.class_name = 'MyLayer';
    expect(() => importLayersModel(json, saved.weightData, 'custom.json')).toThrow(
      "custom.json: layer 'scaled_tanh' (MyLayer): unknown layer class; register it with tf.serialization.registerClass before importing (tf.loadLayersModel rejects it too)",
    );
  });

  it('names a config tfjs-layers cannot make a layer from', async () => {
    const model = textClassifier({ size: 12, width: 0.125, vocabulary: 30, classes: 4 });
    const saved = await saveToMemory(model);
    model.dispose();
    const json = JSON.parse(JSON.stringify(saved.modelJson)) as LayersModelJSON;
    const lstm = layerNamed(json, 'lstm') as LayerEntry;
    lstm.config.units = -3;
    expect(() => importLayersModel(json, saved.weightData, 'text.json')).toThrow(/^text\.json: layer 'lstm' \(LSTM\): tfjs-layers cannot make the layer from its config: /);
  });
});

describe('kerasConfigToTfjs', () => {
  const layers: Record<string, () => tf.layers.Layer> = {
    LSTM: () => L.lstm({ units: 3, returnSequences: true, recurrentActivation: 'hardSigmoid', name: 'lstm_a' }),
    GRU: () => L.gru({ units: 2, goBackwards: true, recurrentDropout: 0.1, name: 'gru_a' }),
    Embedding: () => L.embedding({ inputDim: 9, outputDim: 4, inputLength: 5, maskZero: true, name: 'emb_a' }),
    Conv3D: () => L.conv3d({ filters: 2, kernelSize: [1, 2, 3], dilationRate: 1, kernelInitializer: 'glorotNormal', name: 'conv3d_a' }),
    TimeDistributed: () => L.timeDistributed({ layer: L.dense({ units: 2, kernelInitializer: 'heNormal', useBias: false, name: 'inner_dense' }), name: 'td_a' }),
    Bidirectional: () => L.bidirectional({ layer: L.lstm({ units: 2, returnSequences: true }) as never, mergeMode: 'sum', name: 'bi_a' }),
  };
  for (const [className, make] of Object.entries(layers)) {
    it(`spells ${className}'s saved config as tfjs-layers' own loader does, and makes the same layer from it`, () => {
      const config = make().getConfig();
      // The Keras spelling model.json holds, as tfjs-layers writes it.
      const keras = convertTsToPythonic(config as never);
      const ours = kerasConfigToTfjs(keras);
      expect(ours).toEqual(convertPythonicToTs(keras as never));
      const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap[className] as [unknown, (c: unknown, config: unknown) => tf.layers.Layer];
      // The layer made from it saves the same config (tfjs adds a dtype where there is an input shape).
      expect(convertTsToPythonic(fromConfig(cls, ours).getConfig() as never)).toMatchObject(keras as object);
    });
  }
});
