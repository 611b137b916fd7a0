/**
 * Weight quantization as tensorflowjs_converter writes it and tfjs-core's io decodes it.
 *
 *   uint8 / uint16 (affine):  stored q = round((clip(x, lo, hi) - lo) / scale), read x' = q * scale + min
 *     range [m, M] = [min(x), max(x)]; qmax = 2^bits - 1; scale = (M - m) / qmax;
 *     when m <= 0 <= M the range is nudged so that 0 is exactly some q:
 *       z = round(-m / scale), lo = -z * scale, hi = qmax * scale + lo;  otherwise lo = m, hi = M.
 *     A constant tensor (m = M) stores zeros with scale 1 and min m.
 *     The manifest entry carries { dtype, min: lo, scale, original_dtype: 'float32' }.
 *   float16: IEEE half precision, round to nearest even; the manifest carries { dtype: 'float16' }.
 * Reading is tfjs's own formula: the product and sum in float64, stored as float32.
 */
export const QUANTIZATIONS = ['uint8', 'uint16', 'float16'] as const;
export type WeightQuantization = (typeof QUANTIZATIONS)[number];

export interface QuantizationSpec {
  readonly dtype: WeightQuantization;
  readonly min?: number;
  readonly scale?: number;
  readonly original_dtype?: string;
}

export const STORED_BYTES: Readonly<Record<'float32' | WeightQuantization, number>> = { float32: 4, uint8: 1, uint16: 2, float16: 2 };

export function isWeightQuantization(value: unknown): value is WeightQuantization {
  return typeof value === 'string' && (QUANTIZATIONS as readonly string[]).includes(value);
}

/** The stored bytes of `values` under `dtype`, and the manifest's quantization entry. */
export function quantize(values: Float32Array, dtype: WeightQuantization): { bytes: Uint8Array; spec: QuantizationSpec } {
  if (dtype === 'float16') {
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) half[i] = float16Bits(values[i]);
    return { bytes: new Uint8Array(half.buffer), spec: { dtype } };
  }
  const qmax = dtype === 'uint8' ? 255 : 65535;
  const stored = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  let m = Infinity;
  let M = -Infinity;
  for (const v of values) {
    if (v < m) m = v;
    if (v > M) M = v;
  }
  if (values.length === 0 || m === M) {
    return { bytes: new Uint8Array(stored.buffer), spec: { dtype, min: values.length === 0 ? 0 : m, scale: 1, original_dtype: 'float32' } };
  }
  const scale = (M - m) / qmax;
  const lo = m <= 0 && M >= 0 ? -Math.round(-m / scale) * scale : m;
  const hi = qmax * scale + lo;
  for (let i = 0; i < values.length; i++) stored[i] = Math.round((Math.min(hi, Math.max(lo, values[i])) - lo) / scale);
  return { bytes: new Uint8Array(stored.buffer), spec: { dtype, min: lo, scale, original_dtype: 'float32' } };
}

/** Decodes `bytes` (exactly the weight's stored bytes) to float32, as tfjs-core's decodeWeights does. */
export function dequantize(bytes: Uint8Array, spec: QuantizationSpec | undefined, count: number): Float32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  if (spec === undefined) return new Float32Array(aligned.buffer.slice(aligned.byteOffset, aligned.byteOffset + 4 * count));
  const out = new Float32Array(count);
  if (spec.dtype === 'float16') {
    const half = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
    for (let i = 0; i < count; i++) out[i] = float16Value(half[i]);
    return out;
  }
  const stored = spec.dtype === 'uint8' ? aligned : new Uint16Array(aligned.buffer, aligned.byteOffset, count);
  const scale = spec.scale as number;
  const min = spec.min as number;
  for (let i = 0; i < count; i++) out[i] = stored[i] * scale + min;
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of a float32 value, rounding to nearest even (NaN stays NaN, overflow is infinity). */
export function float16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit-1 mantissa right, rounding to nearest even.
    if (e < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - e;
    const kept = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return sign | (kept + (rest > half || (rest === half && (kept & 1) === 1) ? 1 : 0));
  }
  const kept = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  return sign | (kept + (rest > 0x1000 || (rest === 0x1000 && (kept & 1) === 1) ? 1 : 0));
}

/** The float32 value of IEEE 754 binary16 bits. */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
