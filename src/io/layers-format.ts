/**
 * The tfjs Layers model.json format, read strictly:
 *   { format: 'layers-model', modelTopology, weightsManifest: [{ paths, weights: [{ name, shape, dtype, quantization? }] }] }
 * `modelTopology` is a Keras model config ({ class_name, config }), or, in files converted from
 * Keras HDF5, { model_config: { class_name, config }, ... }. Each manifest group's files, in
 * order, hold its weights back to back (tensorflowjs_converter splits them into 4 MB shards).
 * Every field is type-checked before it is used, and every weight's stored size is known before
 * any byte is read, so a file's numbers never drive an allocation larger than its own bytes.
 */
import type { ParamTensor } from '../ir/graph.ts';
import { LayersModelError, WeightBytesError } from './errors.ts';
import { STORED_BYTES, dequantize, isWeightQuantization, type QuantizationSpec, type WeightQuantization } from './quantize.ts';

export interface WeightSpec {
  readonly name: string;
  readonly shape: number[];
  readonly dtype: string;
  readonly quantization?: QuantizationSpec;
}

export interface WeightsGroup {
  readonly paths: string[];
  readonly weights: WeightSpec[];
}

export interface KerasLayerJSON {
  readonly class_name: string;
  readonly config: Record<string, unknown>;
  readonly name?: string;
  readonly inbound_nodes?: unknown[];
}

export interface LayersModelJSON {
  readonly format?: string;
  readonly generatedBy?: string;
  readonly convertedBy?: string | null;
  readonly modelTopology: unknown;
  readonly weightsManifest: WeightsGroup[];
}

export type WeightData = ArrayBuffer | readonly ArrayBuffer[];

/**
 * The largest model shapefold reads: 2^29 parameters (2 GiB as float32). Every weight's element
 * count and every parameter the importer makes up (a BatchNormalization without beta) is checked
 * against it before anything is allocated.
 */
export const MAX_PARAMETERS = 2 ** 29;

export function isLayersModelJSON(json: unknown): json is LayersModelJSON {
  return typeof json === 'object' && json !== null && 'modelTopology' in json && 'weightsManifest' in json;
}

/** A tfjs graph model (tensorflowjs_converter's --output_format tfjs_graph_model): a TF GraphDef, not Keras layers. */
export function isGraphModelJSON(json: unknown): boolean {
  if (typeof json !== 'object' || json === null) return false;
  const top = (json as Record<string, unknown>).modelTopology;
  return (json as Record<string, unknown>).format === 'graph-model' || (typeof top === 'object' && top !== null && Array.isArray((top as Record<string, unknown>).node));
}

export const GRAPH_MODEL_MESSAGE =
  "is a tfjs graph model (format 'graph-model': a TensorFlow GraphDef for tf.loadGraphModel); shapefold reads tfjs Layers models (format 'layers-model', from tensorflowjs_converter --output_format tfjs_layers_model or model.save)";

/** `json` as a Layers model.json, or the error saying what it is instead. */
export function checkLayersModelJSON(json: unknown, source: string): LayersModelJSON {
  if (isGraphModelJSON(json)) throw new LayersModelError({ source }, GRAPH_MODEL_MESSAGE);
  if (!isLayersModelJSON(json) || Array.isArray(json)) throw new LayersModelError({ source }, 'is not a tfjs Layers model (needs modelTopology and weightsManifest)');
  if (json.format !== undefined && json.format !== null && json.format !== 'layers-model') {
    throw new LayersModelError({ source, field: 'format' }, `is ${JSON.stringify(json.format)}; shapefold reads 'layers-model'`);
  }
  return json;
}

/** A weight as the manifest declares it, with where its bytes are. */
export interface ManifestWeight {
  readonly spec: WeightSpec;
  readonly group: number;
  /** `weightsManifest[g].weights[i]`, for messages. */
  readonly field: string;
  readonly count: number;
  readonly bytes: number;
}

export interface Manifest {
  readonly groups: readonly { readonly paths: readonly string[]; readonly weights: readonly ManifestWeight[]; readonly bytes: number }[];
  readonly weights: readonly ManifestWeight[];
}

const describe = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v) ?? String(v));

function checkQuantization(q: unknown, fail: (field: string, problem: string) => never): QuantizationSpec | undefined {
  if (q === undefined) return undefined;
  if (typeof q !== 'object' || q === null || Array.isArray(q)) return fail('quantization', `must be { dtype, min?, scale? }, got ${describe(q)}`);
  const { dtype, min, scale, original_dtype: original } = q as Record<string, unknown>;
  if (!isWeightQuantization(dtype)) return fail('quantization.dtype', `is ${describe(dtype)}; supported: uint8, uint16, float16`);
  if (original !== undefined && original !== 'float32') return fail('quantization.original_dtype', `is ${describe(original)}; only float32 weights are read`);
  if (dtype === 'float16') {
    if (min !== undefined || scale !== undefined) return fail('quantization', 'is float16, which has no min or scale');
    return { dtype };
  }
  if (typeof min !== 'number' || !Number.isFinite(min)) return fail('quantization.min', `must be a finite number for ${dtype}, got ${describe(min)}`);
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0) return fail('quantization.scale', `must be a positive finite number for ${dtype}, got ${describe(scale)}`);
  return { dtype, min, scale };
}

/**
 * The manifest, every field checked: paths are relative file names, weight names are unique
 * strings, shapes are non-negative integers, dtypes float32, quantization complete and finite.
 */
export function readManifest(manifest: unknown, source: string, weightsAt = (g: number) => `weightsManifest[${g}].weights`): Manifest {
  const fail = (field: string, problem: string): never => {
    throw new LayersModelError({ source, field }, problem);
  };
  if (!Array.isArray(manifest)) return fail('weightsManifest', `must be a list of weight groups, got ${describe(manifest)}`);
  const names = new Map<string, string>();
  let total = 0;
  const groups = manifest.map((group: unknown, g) => {
    const at = `weightsManifest[${g}]`;
    if (typeof group !== 'object' || group === null || Array.isArray(group)) return fail(at, `must be { paths, weights }, got ${describe(group)}`);
    const { paths, weights } = group as Record<string, unknown>;
    if (!Array.isArray(paths)) return fail(`${at}.paths`, `must be a list of file names, got ${describe(paths)}`);
    paths.forEach((p: unknown, k) => {
      if (typeof p !== 'string' || p.length === 0 || p.startsWith('/') || p.includes('\0') || /^[a-z]+:/i.test(p)) {
        fail(`${at}.paths[${k}]`, `must be a file name relative to the model.json, got ${describe(p)}`);
      }
    });
    if (!Array.isArray(weights)) return fail(`${at}.weights`, `must be a list of weights, got ${describe(weights)}`);
    let bytes = 0;
    const read = weights.map((w: unknown, i): ManifestWeight => {
      const field = `${weightsAt(g)}[${i}]`;
      const wfail = (sub: string, problem: string): never => fail(`${field}${sub === '' ? '' : `.${sub}`}`, problem);
      if (typeof w !== 'object' || w === null || Array.isArray(w)) return wfail('', `must be a weight { name, shape, dtype }, got ${describe(w)}`);
      const { name, shape, dtype, quantization } = w as Record<string, unknown>;
      if (typeof name !== 'string' || name.length === 0) return wfail('name', `must be a non-empty string, got ${describe(name)}`);
      const named = `${field} ('${name}')`;
      const nfail = (sub: string, problem: string): never => fail(`${named}.${sub}`, problem);
      const previous = names.get(name);
      if (previous !== undefined) return fail(named, `has the same name as ${previous}`);
      names.set(name, field);
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        return nfail('shape', `must be a list of non-negative integers, got ${describe(shape)}`);
      }
      if (dtype !== 'float32') return nfail('dtype', `is ${describe(dtype)}; only float32 weights are model parameters`);
      const q = checkQuantization(quantization, (sub, problem) => nfail(sub, problem));
      const count = (shape as number[]).reduce((p, d) => p * d, 1);
      total += count;
      if (total > MAX_PARAMETERS) return nfail('shape', `[${shape.join(', ')}] takes the model past ${MAX_PARAMETERS} parameters, the most shapefold reads`);
      const size = count * STORED_BYTES[q?.dtype ?? 'float32'];
      bytes += size;
      const spec: WeightSpec = { name, shape: [...(shape as number[])], dtype, ...(q === undefined ? {} : { quantization: q }) };
      return { spec, group: g, field: named, count, bytes: size };
    });
    return { paths: paths as string[], weights: read, bytes };
  });
  return { groups, weights: groups.flatMap((g) => g.weights) };
}

function concatenate(buffers: readonly ArrayBuffer[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return out;
}

/**
 * Every weight by name, as float32, from each group's bytes (`data[g]`: group g's files in order,
 * concatenated). Every byte is accounted for: a group whose data is shorter or longer than its
 * weights is an error naming the group, its files and the first weight it cuts off.
 */
export function decodeWeights(manifest: Manifest, data: readonly Uint8Array[], source: string): Map<string, ParamTensor> {
  const weights = new Map<string, ParamTensor>();
  manifest.groups.forEach((group, g) => {
    const bytes = data[g];
    const files = group.paths.length === 0 ? 'no files' : group.paths.join(', ');
    if (bytes.byteLength !== group.bytes) {
      let end = 0;
      const cut = group.weights.find((w) => (end += w.bytes) > bytes.byteLength);
      const problem =
        bytes.byteLength < group.bytes
          ? `is short: ${files} hold ${bytes.byteLength} bytes, its ${group.weights.length} weights need ${group.bytes}; ${cut === undefined ? '' : `${cut.field} runs past the end`}`
          : `is long: ${files} hold ${bytes.byteLength} bytes, its ${group.weights.length} weights need only ${group.bytes}; ${bytes.byteLength - group.bytes} bytes are not any weight's`;
      throw new WeightBytesError({ source, field: `weightsManifest[${g}]` }, problem.replace(/; $/, ''));
    }
    let offset = 0;
    for (const w of group.weights) {
      weights.set(w.spec.name, { shape: [...w.spec.shape], data: dequantize(bytes.subarray(offset, offset + w.bytes), w.spec.quantization, w.count) });
      offset += w.bytes;
    }
  });
  return weights;
}

/** In-memory weight data (one buffer or a list, as tfjs's ModelArtifacts holds it) split into the manifest's groups. */
export function splitWeightData(manifest: Manifest, data: WeightData, source: string): Uint8Array[] {
  const buffers = data instanceof ArrayBuffer ? [data] : data;
  if (!Array.isArray(buffers) || !buffers.every((b) => b instanceof ArrayBuffer)) {
    throw new LayersModelError({ source, field: 'weightData' }, 'must be an ArrayBuffer or a list of them');
  }
  const length = buffers.reduce((n, b) => n + b.byteLength, 0);
  const needed = manifest.groups.reduce((n, g) => n + g.bytes, 0);
  if (length !== needed) {
    let end = 0;
    const cut = manifest.weights.find((w) => (end += w.bytes) > length);
    throw new WeightBytesError(
      { source, field: 'weightData' },
      `holds ${length} bytes, the manifest's ${manifest.weights.length} weights need ${needed} (${length < needed ? 'short' : 'long'} by ${Math.abs(length - needed)})${cut === undefined ? '' : `; ${cut.field} runs past the end`}`,
    );
  }
  const all = concatenate(buffers, length);
  let at = 0;
  return manifest.groups.map((g) => all.subarray(at, (at += g.bytes)));
}

/**
 * The quantization the weights are stored in: the one that stores most of the parameters, or
 * null when most are plain float32. A writer keeping the input's size passes it on.
 */
export function storedQuantization(manifest: Manifest): WeightQuantization | null {
  const counts = new Map<WeightQuantization | null, number>();
  for (const w of manifest.weights) {
    const q = w.spec.quantization?.dtype ?? null;
    counts.set(q, (counts.get(q) ?? 0) + w.count);
  }
  let best: WeightQuantization | null = null;
  for (const [q, n] of counts) if (n > (counts.get(best) ?? 0)) best = q;
  return best;
}
