/**
 * Fuzzing the file readers with mutated valid files. Seeds: tfjs Layers models generated with
 * tfjs-layers (functional and Sequential; float32 in one file, and uint8/float16 in several
 * shards), and shapefold graph files (parameters inline, and in a weights file beside the JSON). Mutations: truncated or garbled JSON text, a field
 * deleted or replaced by a value of the wrong type (null, a string, a list, negative, zero, huge,
 * fractional, infinite), duplicated or dropped list entries, duplicate layer names, cycles,
 * weight files cut short or grown, manifest weights dropped or added, bad quantization fields,
 * NaN/Inf weights, a negative BN variance, epsilon 0.
 *
 * Every case must end in one of two ways, within its time bound:
 *   - a named error: a ShapefoldError (never a TypeError, RangeError or other raw error);
 *   - a correct import: stock tf.loadLayersModel loads the same mutated files and its predict
 *     equals shapefold's run of the imported graph (non-finite outputs in the same places), and
 *     folding and exporting the graph again ends in success or a ShapefoldError.
 *     A graph file that reads must validate and fold (or fail named).
 * SHAPEFOLD_FUZZ_RUNS sets the number of Layers cases (default 150; graph cases: two thirds of it),
 * SHAPEFOLD_FUZZ_SEED the fast-check seed, SHAPEFOLD_FUZZ_LOG a file that receives each outcome.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { appendFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend/index.ts';
import { loadGraph } from '../../src/cli/load.ts';
import { foldGraph } from '../../src/fold/index.ts';
import { ShapefoldError } from '../../src/ir/errors.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { weightsFileFor, writeGraphFile } from '../../src/ir/graph-file.ts';
import { graphToJSON } from '../../src/ir/serialize.ts';
import { validateGraph } from '../../src/ir/validate.ts';
import { LAYERS_EXPORTABLE_RULES, importLayersModel, readLayersModel, writeLayersModel, type LayersModelJSON } from '../../src/io/index.ts';
import { concatNet, flattenHead, mobileNetV1, randomizeWeights, resNetLike, runOurs, saveToMemory } from '../unit/io-fixtures.ts';

const RUNS = Number(process.env.SHAPEFOLD_FUZZ_RUNS ?? 150);
const GRAPH_RUNS = Math.ceil((RUNS * 2) / 3);
/** A file to append each case's outcome to as it ends (long runs: partial counts survive an interruption). */
const LOG = process.env.SHAPEFOLD_FUZZ_LOG;
/** Wall time one case may take; a case past it is a failure (a hang in the making). */
const CASE_MS = 10_000;
// A case's time is checked after it ends; a true hang is caught by vitest's test timeout.
/** Largest input shapefold and tfjs are both run on to compare outputs. */
const MAX_COMPARED_INPUT = 1 << 16;
/** Largest tensor (values per sample) of a model both are run on: tfjs's wasm crashes far past it. */
const MAX_COMPARED_TENSOR = 1 << 22;

interface Files {
  readonly name: string;
  readonly files: Record<string, Uint8Array>;
  readonly input: readonly number[];
}

type Outcome =
  | 'imported'
  | 'named error'
  | 'imported, too large to run'
  | 'imported, tfjs refuses a training-only field'
  | 'imported, as tfjs computes it on cpu (its wasm differs)'
  | 'imported, neither tfjs nor shapefold runs it';

/**
 * Config fields that only training reads (initializers, regularizers, constraints, trainable).
 * tfjs-layers validates them when it builds a model; shapefold does not read them and writes
 * fresh ones, so a file whose only fault is one of these imports (and is counted apart).
 */
const TRAINING_ONLY = /(^|_)(initializer|regularizer|constraint)$|^trainable$/;
const tally = new Map<string, number>();
const count = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);

let dir: string;
let layerSeeds: Files[] = [];
let graphSeeds: Files[] = [];

const text = (s: string) => new TextEncoder().encode(s);

/**
 * tfjs-layers 4.22 leaves depth_multiplier out of a saved SeparableConv2D config and then cannot
 * load its own file; the seeds carry it (from the kernel's shape), so every seed loads in tfjs.
 */
function withDepthMultipliers(json: LayersModelJSON): void {
  const weights = json.weightsManifest.flatMap((g) => g.weights);
  for (const layer of (json.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers) {
    if (layer.class_name !== 'SeparableConv2D' || layer.config.depth_multiplier !== undefined) continue;
    layer.config.depth_multiplier = weights.find((w) => w.name === `${String(layer.config.name)}/depthwise_kernel`)?.shape[3];
  }
}

async function filesOf(model: tf.LayersModel, name: string, input: readonly number[], store?: { quantize: 'uint8' | 'float16'; shardSize: number }): Promise<Files> {
  const saved = await saveToMemory(model);
  withDepthMultipliers(saved.modelJson);
  if (store === undefined) return { name, files: { 'model.json': text(JSON.stringify(saved.modelJson)), 'weights.bin': new Uint8Array(saved.weightData) }, input };
  const graph = importLayersModel(saved.modelJson, saved.weightData, name);
  const written = await writeLayersModel(graph, store);
  return { name, files: { 'model.json': text(JSON.stringify(written.modelJson)), ...Object.fromEntries(written.shards) }, input };
}

beforeAll(async () => {
  await selectBackend();
  dir = await mkdtemp(join(tmpdir(), 'shapefold-fuzz-'));
  const build = [
    [resNetLike(), 'resnet', [1, 12, 12, 4]],
    [flattenHead(), 'sequential', [1, 9, 7, 3]],
    [concatNet(), 'concat', [1, 10, 10, 5]],
    [mobileNetV1({ size: 16, first: 4, blocks: [[8, 2], [8, 1]], classes: 3 }), 'mobilenet', [1, 16, 16, 3]],
  ] as const;
  for (const [k, [model, name, input]] of build.entries()) {
    randomizeWeights(model, 100 + k);
    layerSeeds.push(await filesOf(model, name, input));
  }
  layerSeeds.push(await filesOf(build[2][0], 'concat-uint8-shards', [1, 10, 10, 5], { quantize: 'uint8', shardSize: 700 }));
  layerSeeds.push(await filesOf(build[3][0], 'mobilenet-float16-shards', [1, 16, 16, 3], { quantize: 'float16', shardSize: 500 }));
  for (const [model] of build) model.dispose();
  // Graph files both ways: parameters inline (version 1) and in a weights file beside the JSON (version 2).
  for (const seed of layerSeeds.slice(0, 4)) {
    const json = JSON.parse(new TextDecoder().decode(seed.files['model.json']));
    const graph = importLayersModel(json, seed.files['weights.bin'].slice().buffer, seed.name);
    graphSeeds.push({ name: `${seed.name}.graph.json`, files: { 'model.json': text(JSON.stringify(graphToJSON(graph))) }, input: seed.input });
    const split = join(dir, `${seed.name}-split`);
    await mkdir(split);
    await writeGraphFile(join(split, 'model.json'), graph);
    const files = Object.fromEntries(await Promise.all(['model.json', weightsFileFor('model.json')].map(async (f) => [f, new Uint8Array(await readFile(join(split, f)))] as const)));
    graphSeeds.push({ name: `${seed.name}.split-graph.json`, files, input: seed.input });
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  console.log(`fuzz outcomes: ${[...tally].map(([k, n]) => `${k} ${n}`).join(', ')}`);
});

// ---- mutations ------------------------------------------------------------------------------

type Json = unknown;
type Path = readonly (string | number)[];

/** Every path into `json` (objects and arrays), the root excluded. */
function pathsOf(json: Json, at: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(json)) json.forEach((v, i) => (out.push([...at, i]), pathsOf(v, [...at, i], out)));
  else if (typeof json === 'object' && json !== null) for (const [k, v] of Object.entries(json)) out.push([...at, k]), pathsOf(v, [...at, k], out);
  return out;
}

function parentOf(json: Json, path: Path): Record<string | number, unknown> {
  let at = json as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  return at;
}

/** Values of the wrong type or an absurd size. Infinity and NaN are written into the text (see `WRITE`). */
const ODD_VALUES: readonly unknown[] = [null, 'x', '', [], {}, true, -1, 0, 0.5, 1e9, 2 ** 40, -(2 ** 31), 'INFINITY', 'NAN', [0], [null, 3], { class_name: 1 }];
const WRITE = (json: Json) => JSON.stringify(json).replaceAll('"INFINITY"', '1e999').replaceAll('"NAN"', '1e999');

interface Mutation {
  readonly describe: string;
  /** The path of the JSON field changed, for mutations of one field. */
  readonly field?: string;
  apply(seed: Files): Record<string, Uint8Array>;
}

const parse = (seed: Files): Record<string, unknown> => JSON.parse(new TextDecoder().decode(seed.files['model.json']));
const withJson = (seed: Files, json: Json, raw = WRITE(json)) => ({ ...seed.files, 'model.json': text(raw) });
const layersOf = (json: Record<string, any>): any[] => json.modelTopology?.config?.layers ?? json.nodes ?? []; // eslint-disable-line @typescript-eslint/no-explicit-any
const binFiles = (seed: Files) => Object.keys(seed.files).filter((f) => f.endsWith('.bin')).sort();

function float32View(bytes: Uint8Array): Float32Array {
  const copy = bytes.slice();
  return new Float32Array(copy.buffer, 0, copy.byteLength >> 2);
}

const mutation = (kind: string, pick: fc.Arbitrary<(seed: Files) => Mutation>) => pick.map((f) => ({ kind, f }));

const MUTATIONS = fc.oneof(
  mutation(
    'truncated text',
    fc.double({ min: 0, max: 1, noNaN: true }).map((u) => (seed: Files) => ({
      describe: `model.json cut at ${u.toFixed(3)}`,
      apply: (s) => ({ ...s.files, 'model.json': seed.files['model.json'].subarray(0, Math.floor(u * seed.files['model.json'].length)) }),
    })),
  ),
  mutation(
    'garbled text',
    fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom('{', '}', ']', '"', ',', ':', '\u0000', 'ÿ', '1e999', '-')).map(([u, c]) => (seed: Files) => ({
      describe: `'${c}' written into model.json at ${u.toFixed(3)}`,
      apply: (s) => {
        const t = new TextDecoder().decode(s.files['model.json']);
        const at = Math.floor(u * t.length);
        return { ...s.files, 'model.json': text(t.slice(0, at) + c + t.slice(at + 1)) };
      },
    })),
  ),
  mutation(
    'field replaced',
    fc.tuple(fc.nat(), fc.constantFrom(...ODD_VALUES)).map(([k, value]) => (seed: Files) => {
      const json = parse(seed);
      const paths = pathsOf(json);
      const path = paths[k % paths.length];
      return {
        describe: `${path.join('.')} = ${JSON.stringify(value)}`,
        field: path.join('.'),
        apply: () => {
          parentOf(json, path)[path.at(-1) as string] = structuredClone(value);
          return withJson(seed, json);
        },
      };
    }),
  ),
  mutation(
    'field deleted',
    fc.nat().map((k) => (seed: Files) => {
      const json = parse(seed);
      const paths = pathsOf(json);
      const path = paths[k % paths.length];
      return {
        describe: `${path.join('.')} deleted`,
        field: path.join('.'),
        apply: () => {
          const parent = parentOf(json, path);
          if (Array.isArray(parent)) parent.splice(path.at(-1) as number, 1);
          else delete parent[path.at(-1) as string];
          return withJson(seed, json);
        },
      };
    }),
  ),
  mutation(
    'list entry duplicated',
    fc.nat().map((k) => (seed: Files) => {
      const json = parse(seed);
      const paths = pathsOf(json).filter((p) => Array.isArray(parentOf(json, p)));
      const path = paths[k % paths.length];
      return {
        describe: `${path.join('.')} duplicated`,
        apply: () => {
          const parent = parentOf(json, path) as unknown as unknown[];
          parent.splice(path.at(-1) as number, 0, structuredClone(parent[path.at(-1) as number]));
          return withJson(seed, json);
        },
      };
    }),
  ),
  mutation(
    'duplicate or cyclic layers',
    fc.tuple(fc.nat(), fc.nat(), fc.boolean()).map(([a, b, cycle]) => (seed: Files) => {
      const json = parse(seed) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const list = layersOf(json);
      const [i, j] = [a % list.length, b % list.length];
      const nameOf = (l: any) => l?.config?.name ?? l?.name; // eslint-disable-line @typescript-eslint/no-explicit-any
      return {
        describe: cycle ? `layer #${i} reads layer #${j}` : `layer #${i} renamed to layer #${j}'s name`,
        apply: () => {
          if (cycle) {
            if (Array.isArray(list[i].inbound_nodes)) list[i].inbound_nodes = [[[nameOf(list[j]), 0, 0, {}]]];
            else if (Array.isArray(list[i].inputs)) list[i].inputs = [nameOf(list[j])];
          } else if (list[i].config !== undefined) list[i].config.name = nameOf(list[j]);
          else list[i].name = nameOf(list[j]);
          return withJson(seed, json);
        },
      };
    }),
  ),
  mutation(
    'weight file resized',
    fc.tuple(fc.nat(), fc.integer({ min: -64, max: 64 }).filter((d) => d !== 0)).map(([k, delta]) => (seed: Files) => ({
      describe: `a weight file ${delta < 0 ? 'cut' : 'grown'} by ${Math.abs(delta)} bytes`,
      apply: (s) => {
        const files = binFiles(s);
        if (files.length === 0) return s.files;
        const file = files[k % files.length];
        const bytes = s.files[file];
        const resized = delta < 0 ? bytes.subarray(0, Math.max(0, bytes.length + delta)) : new Uint8Array([...bytes, ...new Uint8Array(delta).fill(7)]);
        return { ...s.files, [file]: resized };
      },
    })),
  ),
  mutation(
    'manifest weight dropped or added',
    fc.tuple(fc.nat(), fc.boolean()).map(([k, add]) => (seed: Files) => {
      const json = parse(seed) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      return {
        describe: add ? 'a stray float32 weight added to the manifest (and 4 bytes to the data)' : `manifest weight #${k} dropped`,
        apply: () => {
          const weights = json.weightsManifest?.[0]?.weights;
          if (!Array.isArray(weights)) return seed.files;
          const files = binFiles(seed);
          if (add) {
            weights.push({ name: 'stray/kernel', shape: [1], dtype: 'float32' });
            const last = files.at(-1) as string;
            return { ...withJson(seed, json), [last]: new Uint8Array([...seed.files[last], 0, 0, 128, 63]) };
          }
          weights.splice(k % weights.length, 1);
          return withJson(seed, json);
        },
      };
    }),
  ),
  mutation(
    'quantization changed',
    fc.tuple(fc.nat(), fc.constantFrom<unknown>({ dtype: 'uint8', min: -1, scale: 0.01 }, { dtype: 'uint16', min: 0, scale: 1 }, { dtype: 'float16' }, { dtype: 'uint8' }, { dtype: 'uint8', min: 0, scale: -1 }, { dtype: 'int8', min: 0, scale: 1 }, { dtype: 'float16', min: 0, scale: 1 }, null, 'uint8')).map(([k, q]) => (seed: Files) => {
      const json = parse(seed) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      return {
        describe: `manifest weight #${k} quantization = ${JSON.stringify(q)}`,
        apply: () => {
          const weights = json.weightsManifest?.[0]?.weights;
          if (!Array.isArray(weights)) return seed.files;
          weights[k % weights.length].quantization = q;
          return withJson(seed, json);
        },
      };
    }),
  ),
  mutation(
    'odd weight values',
    fc.tuple(fc.nat(), fc.constantFrom(NaN, Infinity, -Infinity, -1, 0, 1e30)).map(([k, v]) => (seed: Files) => ({
      describe: `a float32 of the weights (or a BN moving_variance) set to ${v}`,
      apply: (s) => {
        const file = s.files['weights.bin'] === undefined ? undefined : 'weights.bin';
        if (file === undefined) return s.files;
        const json = parse(seed) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        const values = float32View(s.files[file]);
        // Half the time aim at a moving_variance: negative variance, zero variance.
        const specs: { name: string; shape: number[] }[] = json.weightsManifest[0].weights;
        let offset = 0;
        const starts = specs.map((w) => ((offset += w.shape.reduce((p, d) => p * d, 1)), offset - w.shape.reduce((p, d) => p * d, 1)));
        const variances = specs.map((w, i) => [w, starts[i]] as const).filter(([w]) => w.name.endsWith('moving_variance'));
        const at = k % 2 === 0 && variances.length > 0 ? (variances[k % variances.length][1] as number) : k % values.length;
        values[at] = v;
        return { ...s.files, [file]: new Uint8Array(values.buffer) };
      },
    })),
  ),
  mutation(
    'epsilon 0',
    fc.nat().map((k) => (seed: Files) => {
      const json = parse(seed) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      return {
        describe: 'a BatchNormalization epsilon set to 0 and its variance to 0',
        apply: () => {
          const bns = layersOf(json).filter((l) => l.class_name === 'BatchNormalization' || l.op === 'batchNorm');
          if (bns.length === 0) return seed.files;
          const bn = bns[k % bns.length];
          if (bn.config !== undefined) bn.config.epsilon = 0;
          else bn.attrs.eps = 0;
          return withJson(seed, json);
        },
      };
    }),
  ),
);

// ---- the oracle -----------------------------------------------------------------------------

let caseNumber = 0;

async function writeCase(files: Record<string, Uint8Array>): Promise<string> {
  const at = join(dir, `case-${caseNumber++}`);
  await mkdir(at);
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(at, name), bytes);
  return at;
}

/** stock tf.loadLayersModel over tfjs's http loader, its fetches served from `at`. */
function loadWithTfjs(at: string): Promise<tf.LayersModel> {
  const fetchFunc = async (url: string) => new Response(await readFile(join(at, new URL(url).pathname.slice(1))));
  return tf.loadLayersModel(tf.io.http('http://model.local/model.json', { fetchFunc: fetchFunc as unknown as typeof fetch }));
}

const isNamed = (error: unknown) => error instanceof ShapefoldError;
const show = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error));

/** After a successful import: fold and export must also end in success or a named error. */
function foldAndExport(graph: Graph): Promise<unknown> {
  try {
    const folded = foldGraph(graph, { mode: 'eval', probe: false, rules: LAYERS_EXPORTABLE_RULES }).graph;
    return writeLayersModel(folded).catch((error: unknown) => {
      if (!isNamed(error)) throw error;
    });
  } catch (error) {
    if (!isNamed(error)) throw error;
    return Promise.resolve();
  }
}

function sameOutputs(ours: Float32Array, theirs: Float32Array): string | undefined {
  if (ours.length !== theirs.length) return `output sizes differ: ${ours.length} vs ${theirs.length}`;
  const finite = Array.from(theirs).filter(Number.isFinite).map(Math.abs);
  const scale = Math.max(1, ...finite);
  for (let i = 0; i < ours.length; i++) {
    const [a, b] = [ours[i], theirs[i]];
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      if (Number.isFinite(a) !== Number.isFinite(b)) return `output ${i}: shapefold ${a}, tfjs ${b}`;
      continue;
    }
    if (Math.abs(a - b) > 1e-4 * scale) return `output ${i}: shapefold ${a}, tfjs ${b}`;
  }
  return undefined;
}

/** Stock tfjs's prediction on its cpu backend; the backend in use is restored after. */
async function predictOnCpu(model: tf.LayersModel, x: tf.Tensor): Promise<Float32Array> {
  const backend = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
  } finally {
    await tf.setBackend(backend);
  }
}

/** Tensors shapefold's own steps leave behind (stock tfjs leaks some when it refuses a file, so it is measured apart). */
async function leakedBy(step: () => Promise<unknown>): Promise<void> {
  const before = tf.memory().numTensors;
  try {
    await step();
  } finally {
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) throw new Error(`shapefold leaked ${leaked} tensors`);
  }
}

async function layersCase(seed: Files, m: Mutation): Promise<Outcome> {
  const at = await writeCase(m.apply(seed));
  let graph: Graph | undefined;
  try {
    await leakedBy(async () => {
      graph = (await readLayersModel(join(at, 'model.json'), { onWarning: () => undefined })).graph;
    });
  } catch (error) {
    if (isNamed(error)) return 'named error';
    throw new Error(`raw error: ${show(error)}`);
  }
  if (graph === undefined) throw new Error('no graph');
  const imported = graph;
  await leakedBy(() => foldAndExport(imported));
  let model: tf.LayersModel;
  try {
    model = await loadWithTfjs(at);
  } catch (error) {
    if (m.field !== undefined && m.field.split('.').some((key) => TRAINING_ONLY.test(key))) return 'imported, tfjs refuses a training-only field';
    throw new Error(`shapefold imported a model stock tfjs refuses (${show(error)})`);
  }
  try {
    const shape = (model.inputs[0].shape as (number | null)[]).map((d, i) => d ?? seed.input[i] ?? 1);
    // A literal batch is run as declared (the executor takes no other), when it is small.
    const batch = (model.inputs[0].shape as (number | null)[])[0];
    if (batch !== null && batch > 4) return 'imported, too large to run';
    shape[0] = batch ?? 1;
    const largest = Math.max(...[...validateGraph(imported).values()].map((t) => t.slice(1).reduce<number>((p, d) => p * (typeof d === 'number' ? d : 1), 1)));
    if (shape.reduce((p, d) => p * d, 1) > MAX_COMPARED_INPUT || largest > MAX_COMPARED_TENSOR) return 'imported, too large to run';
    const x = tf.tidy(() => tf.randomUniform(shape, -1, 1, 'float32', 5));
    try {
      let theirs: Float32Array;
      try {
        theirs = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
      } catch (tfjsError) {
        // tfjs loads some configs it cannot run (a ZeroPadding2D's data_format is checked only in
        // call): shapefold carries such a layer opaquely, and its run must fail too, named.
        try {
          await leakedBy(async () => runOurs(imported, x));
        } catch (error) {
          if (isNamed(error)) return 'imported, neither tfjs nor shapefold runs it';
          throw new Error(`raw error where tfjs cannot run the model either (${show(tfjsError)}): ${show(error)}`);
        }
        throw new Error(`shapefold runs a model stock tfjs loads but cannot run (${show(tfjsError)})`);
      }
      let ours: Float32Array = new Float32Array(0);
      await leakedBy(async () => {
        ours = runOurs(imported, x);
      });
      const difference = sameOutputs(ours, theirs);
      if (difference !== undefined) {
        // tfjs-backend-wasm 4.22 returns zeros for 'same' convs whose stride passes the kernel
        // (src/backend/ops/conv.ts); its cpu backend is the second opinion.
        if (sameOutputs(ours, await predictOnCpu(model, x)) === undefined) return 'imported, as tfjs computes it on cpu (its wasm differs)';
        throw new Error(`imported, but computes something else than tfjs: ${difference}`);
      }
    } finally {
      x.dispose();
    }
    return 'imported';
  } finally {
    model.dispose();
  }
}

async function graphCase(seed: Files, m: Mutation): Promise<Outcome> {
  const at = await writeCase(m.apply(seed));
  try {
    await leakedBy(async () => foldAndExport(await loadGraph(join(at, 'model.json'))));
    return 'imported';
  } catch (error) {
    if (isNamed(error)) return 'named error';
    throw new Error(`raw error: ${show(error)}`);
  }
}

/** Runs `runs` sampled cases one after another; every failure is collected, then all are reported. */
async function fuzz(family: string, seeds: () => Files[], run: (seed: Files, m: Mutation) => Promise<Outcome>, runs: number): Promise<void> {
  const cases = fc.sample(fc.tuple(fc.nat(), MUTATIONS), { numRuns: runs, seed: Number(process.env.SHAPEFOLD_FUZZ_SEED ?? 20261201) });
  const failures: string[] = [];
  for (const [s, { kind, f }] of cases) {
    const list = seeds();
    const seed = list[s % list.length];
    const m = f(seed);
    const started = performance.now();
    try {
      const outcome = await run(seed, m);
      count(`${family} ${outcome}`);
      if (LOG !== undefined) appendFileSync(LOG, `${family}\t${outcome}\n`);
    } catch (error) {
      count(`${family} FAILED`);
      failures.push(`${seed.name}, ${kind} (${m.describe}): ${(error as Error).message}`);
      if (LOG !== undefined) appendFileSync(LOG, `${family}\tFAILED\t${failures.at(-1)}\n`);
    }
    const took = performance.now() - started;
    if (took > CASE_MS) failures.push(`${seed.name}, ${kind} (${m.describe}): took ${took.toFixed(0)} ms`);
  }
  expect(failures).toEqual([]);
}

describe('fuzzed files end in a correct import or a named error', () => {
  // Generous for a loaded 2-core machine: a case takes 20-300 ms; a hang still ends the test.
  it(`tfjs Layers models (${RUNS} cases)`, async () => {
    await fuzz('layers', () => layerSeeds, layersCase, RUNS);
  }, 60_000 + RUNS * 2_000);

  it(`shapefold graph JSON files (${GRAPH_RUNS} cases)`, async () => {
    await fuzz('graph', () => graphSeeds, graphCase, GRAPH_RUNS);
  }, 60_000 + GRAPH_RUNS * 2_000);
});
