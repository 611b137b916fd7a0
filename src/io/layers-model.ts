/**
 * Reading and writing tfjs Layers models, from and to files or memory, in tensorflowjs_converter's
 * conventions: weights in one group split into 4 MB shards `group1-shard<i>of<n>.bin`, optionally
 * quantized (uint8, uint16 or float16, as `--quantize_uint8` etc. write them).
 *
 *   readLayersModel('model/model.json')          files: every shard's size checked before reading
 *   readLayersModel({ modelTopology, weightSpecs, weightData })   tfjs's ModelArtifacts
 *   writeLayersModel('out', graph, options)      out/model.json + shards, replaced atomically
 *   writeLayersModel(graph, options)             the same model as ModelArtifacts, in memory
 */
import { open, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Graph } from '../ir/graph.ts';
import { LayersModelError, WeightBytesError } from './errors.ts';
import { checkOutputDirectory, checkWritableParent, writeDirectoryAtomic } from './files.ts';
import { exportLayersModel } from './layers-export.ts';
import {
  checkLayersModelJSON,
  decodeWeights,
  isLayersModelJSON,
  readManifest,
  splitWeightData,
  storedQuantization,
  type LayersModelJSON,
  type Manifest,
  type WeightData,
  type WeightSpec,
} from './layers-format.ts';
import { importLayersTopology, type ImportOptions } from './layers-import.ts';
import { QUANTIZATIONS, isWeightQuantization, quantize, type WeightQuantization } from './quantize.ts';

/** tensorflowjs_converter's default shard size, the largest file browsers cache. */
export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

/** The largest model.json read: a Layers topology is kilobytes, so anything near this is not one. */
const MAX_MODEL_JSON_BYTES = 256 * 1024 * 1024;

/** A tfjs Layers model in memory, as tfjs's `ModelArtifacts` (what `tf.io.fromMemory` and save handlers take). */
export interface LayersArtifacts {
  readonly modelTopology: unknown;
  readonly weightSpecs: readonly WeightSpec[];
  readonly weightData: WeightData;
  readonly format?: string;
  readonly generatedBy?: string;
  readonly convertedBy?: string | null;
}

export interface LayersModelRead {
  readonly graph: Graph;
  /** How most of the weights were stored (null: float32); pass it as `quantize` to write the same way. */
  readonly quantization: WeightQuantization | null;
  /** Things the model imports despite (one line each, naming file, layer and field). */
  readonly warnings: readonly string[];
}

export interface LayersWriteOptions {
  /** Store float32 weights as uint8/uint16 (affine) or float16, as tensorflowjs_converter's --quantize_* do; null or absent: float32. */
  readonly quantize?: WeightQuantization | null;
  /** Largest weight file in bytes (default 4 MB, as tensorflowjs_converter's --weight_shard_size_bytes). */
  readonly shardSize?: number;
  /** The Keras model name (default 'shapefold'). */
  readonly modelName?: string;
  /** Called after each file (weight shard, then model.json) is written: files done, files in all. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface LayersModelWritten extends LayersArtifacts {
  /** The model.json as written, its manifest naming the shard files. */
  readonly modelJson: LayersModelJSON;
  /**
   * Shard file names with their bytes, in manifest order. Unquantized, the shards are views of one
   * buffer (`weightData`): read a shard through its byteOffset and byteLength, not its `.buffer`.
   */
  readonly shards: readonly (readonly [name: string, bytes: Uint8Array])[];
}

const fileError = (source: string, field: string | undefined, problem: string) => new LayersModelError({ source, ...(field === undefined ? {} : { field }) }, problem);
const codeOf = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

async function sizeOf(path: string, source: string, field?: string): Promise<number> {
  // The model.json itself is named once, as the message's source: 'm.json: cannot read (ENOENT)'.
  const subject = path === source ? '' : ` ${path}`;
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw fileError(source, field, `cannot read${subject} (${codeOf(error)})`);
  }
  if (info.isFile()) return info.size;
  if (path !== source) throw fileError(source, field, `${path} is not a file`);
  // Given the model's folder rather than its model.json, say which file to give, as the CLI's loader does.
  const inside = join(path, 'model.json');
  const holdsModel = info.isDirectory() && (await stat(inside).then((entry) => entry.isFile(), () => false));
  throw fileError(source, field, holdsModel ? `is a directory: for the Layers model in it, give ${inside}` : info.isDirectory() ? 'is a directory' : 'is not a file');
}

/** Reads exactly `length` bytes of `path` into `into` at `at`; the file was measured before. */
async function readInto(path: string, into: Uint8Array, at: number, length: number, source: string, field: string): Promise<void> {
  let file;
  try {
    file = await open(path, 'r');
    const { bytesRead } = await file.read(into, at, length, 0);
    if (bytesRead !== length) throw fileError(source, field, `${path} changed while being read (${bytesRead} of ${length} bytes)`);
  } catch (error) {
    if (error instanceof LayersModelError) throw error;
    throw fileError(source, field, `cannot read ${path} (${codeOf(error)})`);
  } finally {
    await file?.close();
  }
}

/** Each group's files, measured against the manifest before a byte is read, then read into one buffer per group. */
async function readGroups(manifest: Manifest, path: string, onFileRead?: (done: number, total: number) => void): Promise<Uint8Array[]> {
  const groups: Uint8Array[] = [];
  const fileCount = manifest.groups.reduce((n, g) => n + g.paths.length, 0);
  let filesRead = 0;
  for (const [g, group] of manifest.groups.entries()) {
    const field = `weightsManifest[${g}].paths`;
    // Joined, not resolved: messages name the files the way the model.json's path was given.
    const files = group.paths.map((p) => join(dirname(path), p));
    const sizes: number[] = [];
    for (const file of files) sizes.push(await sizeOf(file, path, field));
    const total = sizes.reduce((n, s) => n + s, 0);
    if (total !== group.bytes) {
      let end = 0;
      const cut = group.weights.find((w) => (end += w.bytes) > total);
      const listed = group.paths.map((p, k) => `${p} (${sizes[k]})`).join(', ');
      throw new WeightBytesError(
        { source: path, field: `weightsManifest[${g}]` },
        total < group.bytes
          ? `is short: its files hold ${total} bytes (${listed || 'none'}), its ${group.weights.length} weights need ${group.bytes}${cut === undefined ? '' : `; ${cut.field} runs past the end`}`
          : `is long: its files hold ${total} bytes (${listed}), its ${group.weights.length} weights need only ${group.bytes}; ${total - group.bytes} bytes are not any weight's`,
      );
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const [k, file] of files.entries()) {
      await readInto(file, bytes, at, sizes[k], path, field);
      at += sizes[k];
      onFileRead?.(++filesRead, fileCount);
    }
    groups.push(bytes);
  }
  return groups;
}

async function readModelJSON(path: string): Promise<unknown> {
  const size = await sizeOf(path, path);
  if (size > MAX_MODEL_JSON_BYTES) throw fileError(path, undefined, `is ${size} bytes; a Layers model.json is far smaller (at most ${MAX_MODEL_JSON_BYTES} read)`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw fileError(path, undefined, `cannot read (${codeOf(error)})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw fileError(path, undefined, `is not valid JSON (${(error as Error).message})`);
  }
}

/** The checked model.json and its weights' bytes, one buffer per manifest group (for tfjs's fromMemory or importLayersModel). */
export async function readLayersFiles(path: string): Promise<{ readonly json: LayersModelJSON; readonly weightData: ArrayBuffer[] }> {
  const json = checkLayersModelJSON(await readModelJSON(path), path);
  const groups = await readGroups(readManifest(json.weightsManifest, path), path);
  return { json, weightData: groups.map((g) => g.slice().buffer) };
}

/**
 * `read`, except that when a group's bytes do not add up (a WeightBytesError) and the topology
 * disagrees with a weight's manifest shape, that disagreement is the error: a shape edited in
 * the manifest changes its byte count, and the layer and weight are what the user must fix. The
 * manifest's shapes are checked against the topology on zeros, in this error path only.
 */
async function withShapeCause<T>(read: () => Promise<T>, manifest: Manifest, topology: unknown, source: string): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof WeightBytesError)) throw error;
    const zeros = new Map(manifest.groups.flatMap((g) => g.weights.map((w) => [w.spec.name, { shape: [...w.spec.shape], data: new Float32Array(w.count) }] as const)));
    try {
      importLayersTopology(topology, zeros, source);
    } catch (cause) {
      if (cause instanceof LayersModelError && cause.layer !== undefined) {
        throw new LayersModelError(cause, `${cause.problem}; and so ${error.field} ${error.problem}`);
      }
    }
    throw error;
  }
}

/**
 * A tfjs Layers model as a shapefold graph, from a model.json path (its weight files beside it)
 * or from in-memory artifacts. Every field, weight and byte is checked (layers-format.ts).
 */
export async function readLayersModel(from: string | LayersArtifacts, options: ImportOptions & { readonly source?: string } = {}): Promise<LayersModelRead> {
  const warnings: string[] = [];
  const onWarning = (message: string) => {
    warnings.push(message);
    options.onWarning?.(message);
  };
  const importOptions: ImportOptions = options.onProgress === undefined ? { onWarning } : { onWarning, onProgress: options.onProgress };
  if (typeof from === 'string') {
    const json = checkLayersModelJSON(await readModelJSON(from), from);
    const manifest = readManifest(json.weightsManifest, from);
    const onFileRead = options.onProgress && ((done: number, total: number) => options.onProgress?.('weight files', done, total));
    const weights = await withShapeCause(async () => decodeWeights(manifest, await readGroups(manifest, from, onFileRead), from), manifest, json.modelTopology, from);
    return { graph: importLayersTopology(json.modelTopology, weights, from, importOptions), quantization: storedQuantization(manifest), warnings };
  }
  const source = options.source ?? 'model artifacts';
  if (typeof from !== 'object' || from === null) throw fileError(source, undefined, 'must be a model.json path or { modelTopology, weightSpecs, weightData }');
  if (from.format !== undefined && from.format !== 'layers-model') checkLayersModelJSON({ ...from, weightsManifest: [] }, source);
  if (!Array.isArray(from.weightSpecs)) throw fileError(source, 'weightSpecs', 'must be a list of weights');
  const manifest = readManifest([{ paths: [], weights: from.weightSpecs }], source, () => 'weightSpecs');
  const weights = await withShapeCause(async () => decodeWeights(manifest, splitWeightData(manifest, from.weightData, source), source), manifest, from.modelTopology, source);
  return { graph: importLayersTopology(from.modelTopology, weights, source, importOptions), quantization: storedQuantization(manifest), warnings };
}

function checkWriteOptions(options: LayersWriteOptions): { quantize: WeightQuantization | null; shardSize: number } {
  const fail = (field: string, problem: string): never => {
    throw new LayersModelError({ source: 'writeLayersModel', field: `options.${field}` }, problem);
  };
  const q = options.quantize ?? null;
  if (q !== null && !isWeightQuantization(q)) fail('quantize', `is ${JSON.stringify(q)}; supported: ${QUANTIZATIONS.join(', ')}`);
  const shardSize = options.shardSize ?? DEFAULT_SHARD_BYTES;
  if (!Number.isSafeInteger(shardSize) || shardSize < 1) fail('shardSize', `must be a positive whole number of bytes, got ${JSON.stringify(shardSize)}`);
  return { quantize: q, shardSize };
}

function concatenate(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  return all;
}

/** The model in tensorflowjs_converter's layout: weights stored (quantized or float32) back to back, cut into shards. */
function encodeLayersModel(graph: Graph, options: LayersWriteOptions): LayersModelWritten {
  const { quantize: q, shardSize } = checkWriteOptions(options);
  const exported = exportLayersModel(graph, options.modelName);
  const floats = new Float32Array(exported.weightData);
  const specs: WeightSpec[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const spec of exported.modelJson.weightsManifest.flatMap((g) => g.weights)) {
    const count = spec.shape.reduce((p, d) => p * d, 1);
    const values = floats.subarray(offset, offset + count);
    offset += count;
    if (q === null) specs.push(spec);
    else {
      const stored = quantize(values, q);
      specs.push({ ...spec, quantization: stored.spec });
      parts.push(stored.bytes);
    }
  }
  // Unquantized, the exported weights are already stored back to back; the shards are views of
  // them (copying a large model's weights twice more cost a tenth of `shapefold fold`).
  const all: Uint8Array<ArrayBuffer> = q === null ? new Uint8Array(exported.weightData) : concatenate(parts);
  const count = Math.ceil(all.byteLength / shardSize);
  const shards = Array.from({ length: count }, (_, i) => [`group1-shard${i + 1}of${count}.bin`, all.subarray(i * shardSize, (i + 1) * shardSize)] as const);
  const modelJson: LayersModelJSON = { ...exported.modelJson, weightsManifest: [{ paths: shards.map(([name]) => name), weights: specs }] };
  return {
    modelJson,
    shards,
    modelTopology: modelJson.modelTopology,
    weightSpecs: specs,
    weightData: all.buffer,
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy,
  };
}

/** Why an existing, non-empty directory must not be replaced by a model (undefined: it holds only a Layers model). */
async function notJustALayersModel(dir: string, entries: readonly string[]): Promise<string | undefined> {
  if (!entries.includes('model.json')) return `exists and holds files but no model.json (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''})`;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  } catch {
    return 'holds a model.json that is not valid JSON';
  }
  if (!isLayersModelJSON(json) || !Array.isArray(json.weightsManifest)) return 'holds a model.json that is not a tfjs Layers model';
  const ours = new Set(['model.json', ...json.weightsManifest.flatMap((g) => (Array.isArray(g?.paths) ? g.paths : []))]);
  const others = entries.filter((e) => !ours.has(e));
  return others.length === 0 ? undefined : `holds files its model.json does not name (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', ...' : ''})`;
}

/**
 * Checks that `dir` can receive a Layers model before any work is done: it is missing, empty,
 * or holds only a Layers model (model.json and the files its manifest names), which is replaced.
 */
export async function checkLayersOutput(dir: string): Promise<void> {
  await checkOutputDirectory(dir, (entries) => notJustALayersModel(dir, entries));
  await checkWritableParent(dir);
}

/**
 * Writes `graph` as a stock tfjs Layers model: into directory `dir` (model.json and its shards,
 * replacing a previous model there in one rename, files.ts), or, without `dir`, in memory.
 */
export async function writeLayersModel(dir: string, graph: Graph, options?: LayersWriteOptions): Promise<LayersModelWritten>;
export async function writeLayersModel(graph: Graph, options?: LayersWriteOptions): Promise<LayersModelWritten>;
export async function writeLayersModel(first: string | Graph, second?: Graph | LayersWriteOptions, third?: LayersWriteOptions): Promise<LayersModelWritten> {
  if (typeof first !== 'string') return encodeLayersModel(first, (second as LayersWriteOptions | undefined) ?? {});
  const dir = first;
  await checkLayersOutput(dir);
  const written = encodeLayersModel(second as Graph, third ?? {});
  await writeDirectoryAtomic(
    dir,
    [...written.shards, ['model.json', `${JSON.stringify(written.modelJson)}\n`]],
    (entries) => notJustALayersModel(dir, entries),
    third?.onProgress,
  );
  return written;
}
