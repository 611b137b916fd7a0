/**
 * Weight layouts between Keras (channels-last) and the IR (PyTorch):
 *   Conv2D kernel            [kH, kW, Cin, Cout]  <->  conv2d weight [Cout, Cin, kH, kW]
 *   Conv2DTranspose kernel   [kH, kW, Cout, Cin]  <->  convTranspose2d weight [Cin, Cout, kH, kW]
 *   DepthwiseConv2D kernel   [kH, kW, Cin, mult]  <->  conv2d weight [Cin*mult, 1, kH, kW], output c*mult + m
 *   Dense kernel             [in, out]            <->  linear weight [out, in]
 * All four are one axis permutation of a row-major array (the depthwise one is the Conv2D one
 * with Cin*mult read as [Cin, mult]; the transposed one is the Conv2D one with in and out swapped
 * on both sides), so a single `permute` covers them and its inverse.
 *
 * Flatten order: Keras flattens [H, W, C] as (h*W + w)*C + c, the IR flattens [C, H, W] as
 * c*H*W + h*W + w. A Dense reading a flatten keeps its function when its input rows are permuted
 * by `hwcRowOfChwFeature`.
 */
import type { ParamTensor } from '../ir/graph.ts';

const TILE = 32;

/** Row-major strides of `dims`. */
function stridesOf(dims: readonly number[]): number[] {
  const strides = new Array<number>(dims.length).fill(1);
  for (let k = dims.length - 2; k >= 0; k--) strides[k] = strides[k + 1] * dims[k + 1];
  return strides;
}

/**
 * `shape` and `perm` with the axes of size 1 dropped and the axes that stay neighbours, in the
 * same order, on both sides merged into one.
 */
function mergeAxes(shape: readonly number[], perm: readonly number[]): { dims: number[]; perm: number[] } {
  const kept = shape.flatMap((size, axis) => (size === 1 ? [] : [axis]));
  const groups: number[][] = [];
  for (const axis of perm) {
    if (shape[axis] === 1) continue;
    const last = groups[groups.length - 1];
    const follows = last !== undefined && kept.indexOf(axis) === kept.indexOf(last[last.length - 1]) + 1;
    if (follows) last.push(axis);
    else groups.push([axis]);
  }
  const byInput = [...groups].sort((x, y) => x[0] - y[0]);
  return { dims: byInput.map((g) => g.reduce((p, axis) => p * shape[axis], 1)), perm: groups.map((g) => byInput.indexOf(g)) };
}

/**
 * out[j...] = data[i...] where out's axis k is data's axis perm[k] (numpy transpose). Axes of size
 * 1 are dropped and axes that stay neighbours in the same order are merged (a Keras kernel
 * [kH, kW, Cin, Cout] -> [Cout, Cin, kH, kW] is [K, Cin, Cout] -> [Cout, Cin, K]); then the input's
 * last axis and the output's last axis are moved in TILE x TILE blocks, so both the reads and the
 * writes of a block stay in cache: walking one side in order and the other with a stride of
 * Cin * Cout elements made this most of a large model's import and export time. `into` (at least
 * as long as `data`) receives the values instead of a new array.
 */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[], into?: Float32Array): ParamTensor {
  const outShape = perm.map((axis) => shape[axis]);
  const out = into === undefined ? new Float32Array(data.length) : into.subarray(0, data.length);
  const merged = mergeAxes(shape, perm);
  const rank = merged.dims.length;
  if (data.length === 0 || rank <= 1 || merged.perm.every((axis, k) => axis === k)) {
    out.set(data);
    return { shape: outShape, data: out };
  }
  const dims = merged.dims;
  const inStrides = stridesOf(dims);
  const outDims = merged.perm.map((axis) => dims[axis]);
  const outStridesByOut = stridesOf(outDims);
  const outStrides = new Array<number>(rank);
  merged.perm.forEach((axis, k) => (outStrides[axis] = outStridesByOut[k]));
  // a: the input's last axis (contiguous there); b: the output's last (contiguous there).
  const a = rank - 1;
  const b = merged.perm[rank - 1];
  const sizeA = dims[a];
  const sizeB = dims[b];
  const readB = inStrides[b];
  const writeA = outStrides[a];
  const moveBlocks = (inBase: number, outBase: number) => {
    for (let a0 = 0; a0 < sizeA; a0 += TILE) {
      const a1 = Math.min(sizeA, a0 + TILE);
      for (let b0 = 0; b0 < sizeB; b0 += TILE) {
        const b1 = Math.min(sizeB, b0 + TILE);
        for (let i = a0; i < a1; i++) {
          const write = outBase + i * writeA;
          for (let j = b0, read = inBase + b0 * readB + i; j < b1; j++, read += readB) out[write + j] = data[read];
        }
      }
    }
  };
  // The remaining axes walked in order, both offsets kept as they move.
  const others = dims.flatMap((_, axis) => (axis === a || axis === b ? [] : [axis]));
  const index = new Array<number>(others.length).fill(0);
  const count = data.length / (a === b ? sizeA : sizeA * sizeB);
  let inBase = 0;
  let outBase = 0;
  for (let n = 0; n < count; n++) {
    if (a === b) out.set(data.subarray(inBase, inBase + sizeA), outBase);
    else moveBlocks(inBase, outBase);
    for (let k = others.length - 1; k >= 0; k--) {
      const axis = others[k];
      inBase += inStrides[axis];
      outBase += outStrides[axis];
      if (++index[k] < dims[axis]) break;
      inBase -= dims[axis] * inStrides[axis];
      outBase -= dims[axis] * outStrides[axis];
      index[k] = 0;
    }
  }
  return { shape: outShape, data: out };
}

/** One sample's tensor (a shape without N) in Keras's channels-last order [..., C] as the IR's [C, ...]. */
export function sampleToChannelsFirst(data: Float32Array, kerasShape: readonly number[]): ParamTensor {
  const k = kerasShape.length;
  return permute(data, kerasShape, [k - 1, ...Array.from({ length: k - 1 }, (_, i) => i)]);
}

/** One sample's tensor in the IR's [C, ...] as Keras's channels-last [..., C] (inverse of sampleToChannelsFirst). */
export function sampleToChannelsLast(data: Float32Array, irShape: readonly number[]): ParamTensor {
  const k = irShape.length;
  return permute(data, irShape, [...Array.from({ length: k - 1 }, (_, i) => i + 1), 0]);
}

export const KERAS_CONV_TO_IR = [3, 2, 0, 1] as const;
export const IR_CONV_TO_KERAS = [2, 3, 1, 0] as const;
export const TRANSPOSE_2D = [1, 0] as const;

/** The Keras (HWC) flatten index of IR (CHW) flatten feature `feature`. */
export function hwcRowOfChwFeature(feature: number, channels: number, height: number, width: number): number {
  const c = Math.floor(feature / (height * width));
  const hw = feature % (height * width);
  return hw * channels + c;
}

/** Rows of a [rows, cols] matrix reordered: out row i = data row rowOf(i). */
export function reorderRows(data: Float32Array, rows: number, cols: number, rowOf: (row: number) => number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < rows; i++) out.set(data.subarray(rowOf(i) * cols, (rowOf(i) + 1) * cols), i * cols);
  return out;
}

/** A dense float32 buffer filled with `value`. */
export function filled(length: number, value: number): ParamTensor {
  return { shape: [length], data: new Float32Array(length).fill(value) };
}

/** The IR (CHW) flatten index of Keras (HWC) flatten row `row`: the inverse of `hwcRowOfChwFeature`. */
export function chwFeatureOfHwcRow(row: number, channels: number, height: number, width: number): number {
  return (row % channels) * height * width + Math.floor(row / channels);
}
