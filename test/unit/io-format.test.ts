/**
 * The tfjs Layers file format in tensorflowjs_converter's conventions: sharded weights and
 * uint8/uint16/float16 quantization, written by shapefold and read back by stock
 * `tf.loadLayersModel` through tfjs's own http loader (which fetches and joins the shards);
 * in-memory artifacts in and out; and the strict reader's named errors.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend/index.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { LayersExportError, LayersModelError, importLayersModel, readLayersModel, writeLayersModel, type LayersModelJSON, type WeightQuantization } from '../../src/io/index.ts';
import { dequantize, float16Bits, float16Value, quantize } from '../../src/io/quantize.ts';
import { expectCloseTo, predict, randomInput, randomizeWeights, resNetLike, runOurs, saveToMemory, type SavedModel } from './io-fixtures.ts';

let dir: string;
let model: tf.LayersModel;
let saved: SavedModel;
let graph: Graph;
let x: tf.Tensor;
let expected: Float32Array;

beforeAll(async () => {
  await selectBackend();
  dir = await mkdtemp(join(tmpdir(), 'shapefold-io-format-'));
  model = resNetLike();
  randomizeWeights(model, 21);
  saved = await saveToMemory(model);
  graph = importLayersModel(saved.modelJson, saved.weightData, 'resnet.json');
  x = randomInput([2, 12, 12, 4], 4);
  expected = predict(model, x);
});
afterAll(async () => {
  model.dispose();
  x.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** stock tf.loadLayersModel over tfjs's http loader, its fetches served from `at`. */
async function loadWithTfjs(at: string): Promise<tf.LayersModel> {
  const fetchFunc = async (url: string) => new Response(await readFile(join(at, new URL(url).pathname.slice(1))));
  return tf.loadLayersModel(tf.io.http('http://model.local/model.json', { fetchFunc: fetchFunc as unknown as typeof fetch }));
}

function largestDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('sharded, quantized weights as tensorflowjs_converter writes them', () => {
  it('cuts the weights into group1-shard<i>of<n>.bin of at most shardSize bytes, and tf.loadLayersModel reads them', async () => {
    const out = join(dir, 'sharded');
    const written = await writeLayersModel(out, graph, { shardSize: 4000 });
    const total = written.weightSpecs.reduce((n, w) => n + 4 * w.shape.reduce((p, d) => p * d, 1), 0);
    const n = Math.ceil(total / 4000);
    expect(n).toBeGreaterThan(3);
    const names = Array.from({ length: n }, (_, i) => `group1-shard${i + 1}of${n}.bin`);
    expect((await readdir(out)).sort()).toEqual([...names, 'model.json'].sort());
    for (const [k, name] of names.entries()) expect((await readFile(join(out, name))).byteLength).toBe(k < n - 1 ? 4000 : total - 4000 * (n - 1));
    const loaded = await loadWithTfjs(out);
    expectCloseTo(predict(loaded, x), expected, 'sharded, stock tfjs');
    loaded.dispose();
    const read = await readLayersModel(join(out, 'model.json'));
    expect(read.quantization).toBeNull();
    expectCloseTo(runOurs(read.graph, x), expected, 'sharded, shapefold');
  });

  it('writes one 4 MB shard by default and reads models whose weights span several groups', async () => {
    const out = join(dir, 'default');
    await writeLayersModel(out, graph);
    expect((await readdir(out)).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    // Split the manifest into one group per weight, each in its own file, as older converters did.
    const json = JSON.parse(await readFile(join(out, 'model.json'), 'utf8')) as LayersModelJSON;
    const bytes = await readFile(join(out, 'group1-shard1of1.bin'));
    const groups: LayersModelJSON['weightsManifest'] = [];
    let at = 0;
    for (const [g, w] of json.weightsManifest[0].weights.entries()) {
      const size = 4 * w.shape.reduce((p, d) => p * d, 1);
      const name = `group${g + 1}-shard1of1.bin`;
      await writeFile(join(out, name), bytes.subarray(at, (at += size)));
      groups.push({ paths: [name], weights: [w] });
    }
    await writeFile(join(out, 'model.json'), JSON.stringify({ ...json, weightsManifest: groups }));
    expectCloseTo(runOurs((await readLayersModel(join(out, 'model.json'))).graph, x), expected, 'one group per weight');
  });

  it.each([
    // Largest output error relative to the largest output; measured 1.5e-2, 1.6e-5 and 4.4e-4.
    ['uint8', 0.05],
    ['uint16', 1e-4],
    ['float16', 2e-3],
  ] as const)('quantize %s: the converter manifest fields, read by stock tfjs, kept when read back', async (q: WeightQuantization, tolerance: number) => {
    const out = join(dir, `q-${q}`);
    await writeLayersModel(out, graph, { quantize: q, shardSize: 3000 });
    const json = JSON.parse(await readFile(join(out, 'model.json'), 'utf8')) as LayersModelJSON;
    for (const w of json.weightsManifest[0].weights) {
      expect(w.dtype).toBe('float32');
      expect(w.quantization?.dtype).toBe(q);
      if (q === 'float16') expect(Object.keys(w.quantization ?? {})).toEqual(['dtype']);
      else expect(w.quantization).toEqual({ dtype: q, min: expect.any(Number), scale: expect.any(Number), original_dtype: 'float32' });
    }
    const loaded = await loadWithTfjs(out);
    const stock = predict(loaded, x);
    const scale = Math.max(...Array.from(expected, Math.abs));
    expect(largestDifference(stock, expected) / scale).toBeLessThan(tolerance);
    expect(largestDifference(stock, expected)).toBeGreaterThan(0);
    // shapefold decodes exactly what tfjs decodes: the same weights, so the same function.
    const read = await readLayersModel(join(out, 'model.json'));
    expect(read.quantization).toBe(q);
    expectCloseTo(runOurs(read.graph, x), stock, `${q}: shapefold vs tfjs on the same quantized file`);
    loaded.dispose();
  });

  it('dequantizes exactly as tfjs-core decodeWeights does', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<WeightQuantization>('uint8', 'uint16', 'float16'),
        fc.array(fc.float({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 40 }),
        (q, values) => {
          const stored = quantize(Float32Array.from(values), q);
          const ours = dequantize(stored.bytes, stored.spec, values.length);
          const spec = { name: 'w', shape: [values.length], dtype: 'float32' as const, quantization: stored.spec };
          const decoded = tf.io.decodeWeights(stored.bytes.slice().buffer, [spec]);
          const theirs = decoded.w.dataSync();
          tf.dispose(decoded);
          expect(Array.from(ours)).toEqual(Array.from(theirs));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('float16 rounds to the nearest half, ties to even, as numpy astype(float16) does', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true }), (v) => {
        const h = float16Bits(v);
        const near = float16Value(h);
        if (!Number.isFinite(near)) {
          expect(Math.abs(v)).toBeGreaterThanOrEqual(65520);
          return;
        }
        for (const other of [h - 1, h + 1]) {
          if ((other & 0x7c00) === 0x7c00 || (other & 0x8000) !== (h & 0x8000)) continue;
          const d = Math.abs(v - float16Value(other));
          expect(Math.abs(v - near)).toBeLessThanOrEqual(d);
          if (d === Math.abs(v - near)) expect(h & 1).toBe(0);
        }
      }),
      { numRuns: 2000 },
    );
    expect(float16Value(float16Bits(65504))).toBe(65504);
    expect(float16Value(float16Bits(2 ** -24))).toBe(2 ** -24);
    expect(float16Value(float16Bits(2 ** -26))).toBe(0);
  });

  it('uint8 nudges its range so that 0 is stored exactly', () => {
    const { bytes, spec } = quantize(Float32Array.from([-0.3, 0, 0.17, 1.2]), 'uint8');
    const back = dequantize(bytes, spec, 4);
    expect(back[1]).toBe(0);
    expect(largestDifference(back, Float32Array.from([-0.3, 0, 0.17, 1.2]))).toBeLessThanOrEqual((spec.scale as number) / 2 + 1e-7);
  });
});

describe('in-memory artifacts in and out', () => {
  it('writeLayersModel(graph) gives ModelArtifacts tf.io.fromMemory loads; readLayersModel takes them back', async () => {
    const before = tf.memory().numTensors;
    const artifacts = await writeLayersModel(graph, { quantize: 'float16' });
    const read = await readLayersModel(artifacts);
    expect(tf.memory().numTensors).toBe(before);
    expect(read.quantization).toBe('float16');
    const loaded = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: artifacts.modelTopology as object, weightSpecs: artifacts.weightSpecs as tf.io.WeightsManifestEntry[], weightData: artifacts.weightData as ArrayBuffer }),
    );
    expectCloseTo(runOurs(read.graph, x), predict(loaded, x), 'artifacts');
    loaded.dispose();
  });

  it('reads what tfjs save handlers hand out', async () => {
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const read = await readLayersModel(artifacts as never);
    expectCloseTo(runOurs(read.graph, x), expected, 'save handler artifacts');
  });

  it('refuses bad write options by name', async () => {
    await expect(writeLayersModel(graph, { quantize: 'int4' as never })).rejects.toThrow(/writeLayersModel: options\.quantize is "int4"; supported: uint8, uint16, float16/);
    await expect(writeLayersModel(graph, { shardSize: 0 })).rejects.toThrow(/options\.shardSize must be a positive whole number of bytes, got 0/);
  });
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const layers = (json: Json): Json[] => json.modelTopology.config.layers;
const layerOf = (json: Json, name: string): Json => layers(json).find((l) => l.config.name === name) as Json;

function importing(edit: (json: Json) => void, data?: (bytes: ArrayBuffer) => ArrayBuffer): () => Graph {
  const json = structuredClone(saved.modelJson) as Json;
  edit(json);
  return () => importLayersModel(json, data === undefined ? saved.weightData : data(saved.weightData), 'net/model.json');
}

describe('strict reading: each violation one named line', () => {
  const weightIndex = (name: string) => saved.modelJson.weightsManifest[0].weights.findIndex((w) => w.name === name);
  it.each<[string, (json: Json) => void, RegExp]>([
    ['a path that is not a string', (j) => (j.weightsManifest[0].paths = [123]), /^net\/model\.json: weightsManifest\[0\]\.paths\[0\] must be a file name relative to the model\.json, got 123$/],
    ['a null weight entry', (j) => (j.weightsManifest[0].weights[2] = null), /^net\/model\.json: weightsManifest\[0\]\.weights\[2\] must be a weight \{ name, shape, dtype \}, got null$/],
    ['weights that are not a list', (j) => (j.weightsManifest[0].weights = { a: 1 }), /weightsManifest\[0\]\.weights must be a list of weights, got \{"a":1\}/],
    ['a manifest that is not a list', (j) => (j.weightsManifest = 'x'), /^net\/model\.json: weightsManifest must be a list of weight groups, got "x"$/],
    ['a negative dimension', (j) => (j.weightsManifest[0].weights[0].shape = [3, -3, 4, 8]), /weightsManifest\[0\]\.weights\[0\] \('stem\/kernel'\)\.shape must be a list of non-negative integers, got \[3,-3,4,8\]/],
    ['a huge dimension', (j) => (j.weightsManifest[0].weights[0].shape = [3, 3, 4, 2 ** 40]), /\.shape \[3, 3, 4, 1099511627776\] takes the model past 536870912 parameters, the most shapefold reads/],
    ['an int32 weight', (j) => (j.weightsManifest[0].weights[0].dtype = 'int32'), /\('stem\/kernel'\)\.dtype is "int32"; only float32 weights are model parameters/],
    ['a duplicate weight name', (j) => (j.weightsManifest[0].weights[1].name = j.weightsManifest[0].weights[0].name), /weightsManifest\[0\]\.weights\[1\] \('stem\/kernel'\) has the same name as weightsManifest\[0\]\.weights\[0\]/],
    ['an unknown quantization', (j) => (j.weightsManifest[0].weights[0].quantization = { dtype: 'int4' }), /\.quantization\.dtype is "int4"; supported: uint8, uint16, float16/],
    ['uint8 without a scale', (j) => (j.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', min: 0 }), /\.quantization\.scale must be a positive finite number for uint8, got missing/],
    ['uint8 with scale 0', (j) => (j.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', min: 0, scale: 0 }), /\.quantization\.scale must be a positive finite number for uint8, got 0/],
    ['uint16 with a string min', (j) => (j.weightsManifest[0].weights[0].quantization = { dtype: 'uint16', min: '0', scale: 1 }), /\.quantization\.min must be a finite number for uint16, got "0"/],
    ['float16 with a scale', (j) => (j.weightsManifest[0].weights[0].quantization = { dtype: 'float16', scale: 1 }), /\.quantization is float16, which has no min or scale/],
    ['a null quantization', (j) => (j.weightsManifest[0].weights[0].quantization = null), /\('stem\/kernel'\)\.quantization must be \{ dtype, min\?, scale\? \}, got null/],
    ['a layer name that disagrees with config.name', (j) => (layers(j)[1].name = 7), /^net\/model\.json: modelTopology\.config\.layers\[1\]\.name is 7, but config\.name is "stem"$/],
    ['a functional layer entry without its name', (j) => delete layers(j)[1].name, /modelTopology\.config\.layers\[1\]\.name is missing; a functional model names each layer entry$/],
    ['an inbound tensor index that is null', (j) => (layerOf(j, 'stem').inbound_nodes[0][0][2] = null), /layer 'stem' \(Conv2D\): inbound_nodes\[0\] must be a list of \[layer, node, tensor, kwargs\]/],
    ['a functional layer entry without inbound_nodes', (j) => delete layerOf(j, 'stem').inbound_nodes, /modelTopology\.config\.layers\[1\]\.inbound_nodes must be a list, got missing$/],
    ['an int32 layer', (j) => (layerOf(j, 'stem').config.dtype = 'int32'), /modelTopology\.config\.layers\[1\]\.config\.dtype is "int32"; shapefold reads float32 layers only$/],
    ['an input so large no tensor of it can be made', (j) => (layerOf(j, 'image').config.batch_input_shape = [null, 100000, 100000, 4]), /'image' \(input\) would output \[N, 4, 100000, 100000\], 40000000000 values per sample; shapefold reads models whose tensors hold at most 268435456$/],
    ['an InputLayer that reads another layer', (j) => (layerOf(j, 'image').inbound_nodes = [[['stem', 0, 0, {}]]]), /modelTopology\.config\.layers\[0\]\.inbound_nodes must be empty: an InputLayer reads no other layer$/],
    ['a layer without a config', (j) => delete layers(j)[1].config, /modelTopology\.config\.layers\[1\]\.config must be an object, got missing/],
    ['a model without a name', (j) => delete j.modelTopology.config.name, /modelTopology\.config\.name must be the model's name, got missing/],
    ['a graph model', (j) => ((j.format = 'graph-model'), (j.modelTopology = { node: [] })), /^net\/model\.json: is a tfjs graph model \(format 'graph-model'.*shapefold reads tfjs Layers models/],
    ['another format', (j) => (j.format = 'keras-v3'), /^net\/model\.json: format is "keras-v3"; shapefold reads 'layers-model'$/],
  ])('%s', (_, edit, message) => {
    expect(importing(edit)).toThrow(LayersModelError);
    expect(importing(edit)).toThrow(message);
  });

  it('a uint8 quantization declared over float32 bytes is a length error, not shifted weights', () => {
    const edit = (j: Json) => (j.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', min: 0, scale: 1 });
    expect(importing(edit)).toThrow(/^net\/model\.json: weightData holds \d+ bytes, the manifest's \d+ weights need \d+ \(long by 864\)$/);
  });

  it('weight data longer than the manifest says', () => {
    expect(importing(() => undefined, (b) => new Uint8Array([...new Uint8Array(b), 0, 0, 0, 0]).buffer)).toThrow(/weightData holds \d+ bytes, .* \(long by 4\)/);
  });

  it('a weight no layer reads', () => {
    const edit = (j: Json) => {
      j.weightsManifest[0].weights.push({ name: 'stray/kernel', shape: [1], dtype: 'float32' });
    };
    expect(importing(edit, (b) => new Uint8Array([...new Uint8Array(b), 0, 0, 0, 0]).buffer)).toThrow(/^net\/model\.json: weight 'stray\/kernel' is in the weights manifest but no layer of the model reads it$/);
  });

  it('center: false with a beta present', () => {
    expect(importing((j) => (layerOf(j, 'a_bn1').config.center = false))).toThrow(
      /^net\/model\.json: layer 'a_bn1' \(BatchNormalization\): weight 'a_bn1\/beta' is in the weights manifest but the layer does not read it \(config\.center is false\)$/,
    );
    expect(importing((j) => (layerOf(j, 'fc1').config.use_bias = false))).toThrow(/layer 'fc1' \(Dense\): weight 'fc1\/bias' .* \(config\.use_bias is false\)$/);
    expect(weightIndex('a_bn1/beta')).toBeGreaterThan(0);
  });

  it('an int32 InputLayer read by anything but Embedding layers is refused, not silently made float', () => {
    expect(importing((j) => (layerOf(j, 'image').config.dtype = 'int32'))).toThrow(
      /^net\/model\.json: layer 'image' \(InputLayer\): config\.dtype is "int32"; shapefold imports float32 inputs only, or int32 token indices that only Embedding layers read$/,
    );
  });

  it('a zero or fractional input dimension', () => {
    expect(importing((j) => (layerOf(j, 'image').config.batch_input_shape = [null, 0, 12, 4]))).toThrow(/config\.batch_input_shape\[1\] must be a positive integer or null, got 0/);
    expect(importing((j) => (layerOf(j, 'image').config.batch_input_shape = [null, 12, 12.5, 4]))).toThrow(/config\.batch_input_shape\[2\] must be a positive integer or null, got 12\.5/);
  });

  it('files: a short or long shard and a missing one are named before anything is read', async () => {
    const out = join(dir, 'files');
    await writeLayersModel(out, graph, { shardSize: 5000 });
    const last = (await readdir(out)).filter((f) => f.endsWith('.bin')).sort().at(-1) as string;
    const bytes = await readFile(join(out, last));
    await writeFile(join(out, last), bytes.subarray(0, bytes.byteLength - 8));
    await expect(readLayersModel(join(out, 'model.json'))).rejects.toThrow(/model\.json: weightsManifest\[0\] is short: its files hold \d+ bytes \(group1-shard1of\d+\.bin \(5000\), .*\), its \d+ weights need \d+; weightsManifest\[0\]\.weights\[\d+\] \('logits\/bias'\) runs past the end$/);
    await writeFile(join(out, last), new Uint8Array([...bytes, 1]));
    await expect(readLayersModel(join(out, 'model.json'))).rejects.toThrow(/is long: .* 1 bytes are not any weight's$/);
    await rm(join(out, last));
    await expect(readLayersModel(join(out, 'model.json'))).rejects.toThrow(/model\.json: weightsManifest\[0\]\.paths cannot read .*group1-shard\d+of\d+\.bin \(ENOENT\)$/);
    await writeFile(join(out, 'model.json'), '{"modelTopology": ');
    await expect(readLayersModel(join(out, 'model.json'))).rejects.toThrow(/model\.json: is not valid JSON/);
  });

  it('given the model\'s folder, names the model.json to give instead', async () => {
    const out = join(dir, 'folder-given');
    await writeLayersModel(out, graph);
    await expect(readLayersModel(out)).rejects.toThrow(`${out}: is a directory: for the Layers model in it, give ${join(out, 'model.json')}`);
    await expect(readLayersModel(dir)).rejects.toThrow(new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is a directory$`));
  });

  it('a weight shape edited in the manifest is named by its layer and weight, not only by the bytes it no longer accounts for', async () => {
    const out = join(dir, 'edited-shape');
    const written = await writeLayersModel(out, graph);
    const units = written.modelJson.weightsManifest[0].weights.find((w) => w.name === 'logits/bias')!.shape[0];
    const weights = written.modelJson.weightsManifest[0].weights.map((w) => (w.name === 'logits/bias' ? { ...w, shape: [units - 1] } : w));
    const json: LayersModelJSON = { ...written.modelJson, weightsManifest: [{ ...written.modelJson.weightsManifest[0], weights }] };
    await writeFile(join(out, 'model.json'), JSON.stringify(json));
    const cause = `layer 'logits' \\(Dense\\): weight 'logits/bias' has shape \\[${units - 1}\\], expected \\[${units}\\]`;
    await expect(readLayersModel(join(out, 'model.json'))).rejects.toThrow(new RegExp(`${cause}; and so weightsManifest\\[0\\] is long: .* 4 bytes are not any weight's$`));
    const inMemory = { modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: written.weightData };
    await expect(readLayersModel(inMemory)).rejects.toThrow(new RegExp(`^model artifacts: ${cause}; and so weightData holds \\d+ bytes, .* \\(long by 4\\)$`));
  });
});

describe('DepthwiseConv2D with dilation: imported as tfjs-layers runs it', () => {
  it('warns naming the layer, and computes what model.predict computes (undilated)', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.depthwiseConv2d({ inputShape: [9, 9, 3], kernelSize: 3, dilationRate: 2, padding: 'same', name: 'dw' }),
        tf.layers.batchNormalization({ name: 'dw_bn' }),
      ],
    });
    randomizeWeights(m, 3);
    const s = await saveToMemory(m);
    const warnings: string[] = [];
    const g = importLayersModel(s.modelJson, s.weightData, 'dw.json', { onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([
      "dw.json: layer 'dw' (DepthwiseConv2D): config.dilation_rate is [2, 2], which tfjs-layers 4.22's DepthwiseConv2D ignores (it runs dilation 1): imported as tfjs computes it, undilated",
    ]);
    const input = randomInput([1, 9, 9, 3], 8);
    expectCloseTo(runOurs(g, input), predict(m, input), 'depthwise dilation');
    input.dispose();
    m.dispose();
  });

  it('the exporter refuses a dilated depthwise conv rather than write one tfjs would run undilated', async () => {
    const g: Graph = {
      nodes: [
        { name: 'x', op: 'input', inputs: [], attrs: { shape: ['N', 2, 8, 8] }, params: {} },
        {
          name: 'dw',
          op: 'conv2d',
          inputs: ['x'],
          attrs: { inChannels: 2, outChannels: 2, kernel: [3, 3], stride: [1, 1], dilation: [2, 2], groups: 2, bias: false, padding: 'valid' },
          params: { weight: { shape: [2, 1, 3, 3], data: new Float32Array(18) } },
        },
      ],
      inputs: ['x'],
      outputs: ['dw'],
    };
    await expect(writeLayersModel(g)).rejects.toThrow(LayersExportError);
    await expect(writeLayersModel(g)).rejects.toThrow(/conv2d 'dw': cannot be written as a tfjs Layers model: is depthwise with dilation \[2, 2\]; tfjs-layers 4\.22's DepthwiseConv2D ignores dilation_rate/);
  });
});

describe('output directories', () => {
  it('replaces a previous model whole, and refuses a directory holding other files before any work', async () => {
    const out = join(dir, 'replace');
    await writeLayersModel(out, graph, { shardSize: 2000 });
    await writeLayersModel(out, graph);
    expect((await readdir(out)).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    expect((await readdir(dir)).filter((e) => e.includes('shapefold-'))).toEqual([]);
    const other = join(dir, 'notes');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'mine');
    await expect(writeLayersModel(other, graph)).rejects.toThrow(/notes: exists and holds files but no model\.json \(notes\.txt\); refusing to replace it/);
    expect(await readdir(other)).toEqual(['notes.txt']);
    await writeFile(join(dir, 'plain'), 'x');
    await expect(writeLayersModel(join(dir, 'plain', 'out'), graph)).rejects.toThrow(/plain\/out: a parent of it is not a directory/);
  });

  it('puts back a model stranded by a writer killed between its two renames', async () => {
    const out = join(dir, 'stranded');
    await writeLayersModel(out, graph, { shardSize: 2000 });
    const before = (await readdir(out)).sort();
    // A dead writer (pid 2^22 + 1 is above Linux's pid_max default) left the old model aside and a half-written new one.
    await rename(out, join(dir, '.stranded.shapefold-4194305-abcdef.old'));
    await mkdir(join(dir, '.stranded.shapefold-4194305-abcdef.tmp'));
    await writeFile(join(dir, '.stranded.shapefold-4194305-abcdef.tmp', 'model.json'), '{');
    await writeLayersModel(out, graph);
    expect((await readdir(out)).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    expect(before.length).toBeGreaterThan(2);
    expect((await readdir(dir)).filter((e) => e.startsWith('.stranded'))).toEqual([]);
  });
});
