/**
 * The tfjs Layers model.json format, as far as shapefold reads and writes it:
 *   { format: 'layers-model', modelTopology, weightsManifest: [{ paths, weights: [{ name, shape, dtype, quantization? }] }] }
 * `modelTopology` is a Keras model config ({ class_name, config }), or, in files converted from
 * Keras HDF5, { model_config: { class_name, config }, ... }. Weight files hold the weights in
 * manifest order, back to back; tfjs decodes them (dequantising quantized ones).
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamTensor } from '../ir/graph.ts';
import { LayersModelError } from './errors.ts';

export interface WeightSpec {
  readonly name: string;
  readonly shape: number[];
  readonly dtype: string;
  readonly quantization?: { readonly dtype: string };
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

export function isLayersModelJSON(json: unknown): json is LayersModelJSON {
  return typeof json === 'object' && json !== null && 'modelTopology' in json && 'weightsManifest' in json;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

function concatenate(buffers: readonly ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return out.buffer;
}

/**
 * Every weight by name, as float32. Sizes are checked first so a short file names the weight that
 * runs past its end; decoding is tfjs's own (float16 and uint8/uint16 quantization included).
 */
export function decodeWeights(specs: readonly WeightSpec[], data: WeightData, source: string): Map<string, ParamTensor> {
  const buffer = data instanceof ArrayBuffer ? data : concatenate(data);
  let offset = 0;
  specs.forEach((spec, i) => {
    const field = `weightsManifest weight #${i} ('${spec.name}')`;
    if (typeof spec.name !== 'string' || !Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new LayersModelError({ source, field }, 'needs a name and a shape of non-negative integers');
    }
    if (spec.dtype !== 'float32') throw new LayersModelError({ source, field }, `has dtype ${String(spec.dtype)}; only float32 weights are model parameters`);
    const stored = spec.quantization?.dtype ?? spec.dtype;
    const bytes = BYTES[stored];
    if (bytes === undefined) throw new LayersModelError({ source, field }, `has unknown storage dtype ${String(stored)}`);
    offset += bytes * spec.shape.reduce((p, d) => p * d, 1);
    if (offset > buffer.byteLength) {
      throw new LayersModelError({ source, field }, `ends at byte ${offset}, past the end of the weight data (${buffer.byteLength} bytes)`);
    }
  });
  const weights = new Map<string, ParamTensor>();
  let decoded: tf.NamedTensorMap = {};
  try {
    decoded = tf.io.decodeWeights(buffer, specs as tf.io.WeightsManifestEntry[]);
    for (const spec of specs) {
      const t = decoded[spec.name];
      weights.set(spec.name, { shape: [...spec.shape], data: Float32Array.from(t.dataSync() as Float32Array) });
    }
  } catch (error) {
    throw new LayersModelError({ source, field: 'weightsManifest' }, `cannot be decoded (${(error as Error).message.split('\n')[0]})`);
  } finally {
    tf.dispose(decoded);
  }
  return weights;
}
