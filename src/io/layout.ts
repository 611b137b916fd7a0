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

/**
 * out[j...] = data[i...] where out's axis k is data's axis perm[k] (numpy transpose). One side is
 * walked in order, a row (its last axis) at a time, the other's offset kept as it moves:
 * recomputing an offset from the full index for every element made this most of a large model's
 * import time. The side with the longer rows is walked: a Keras kernel [kH, kW, Cin, Cout] has
 * rows of Cout, the IR weight [Cout, Cin, kH, kW] rows of kW.
 */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): ParamTensor {
  const rank = shape.length;
  const outShape = perm.map((axis) => shape[axis]);
  if (rank === 0) return { shape: [], data: Float32Array.from(data) };
  const rowMajorStrides = (dims: readonly number[]) => {
    const strides = new Array<number>(rank).fill(1);
    for (let k = rank - 2; k >= 0; k--) strides[k] = strides[k + 1] * dims[k + 1];
    return strides;
  };
  const inStrides = rowMajorStrides(shape);
  const outStrides = rowMajorStrides(outShape);
  const out = new Float32Array(data.length);
  // Walk the side with the longer rows in order (`walked`: its dims); `other` is the element's
  // offset on the other side, `otherStrides` that side's stride along each walked axis.
  const gather = outShape[rank - 1] >= shape[rank - 1];
  const walked = gather ? outShape : shape;
  const otherStrides = new Array<number>(rank);
  perm.forEach((axis, k) => {
    if (gather) otherStrides[k] = inStrides[axis];
    else otherStrides[axis] = outStrides[k];
  });
  const rowLength = walked[rank - 1];
  const rowStride = otherStrides[rank - 1];
  const index = new Array<number>(rank - 1).fill(0);
  let other = 0;
  for (let at = 0; at < out.length; at += rowLength) {
    if (gather) for (let i = 0, o = other; i < rowLength; i++, o += rowStride) out[at + i] = data[o];
    else for (let i = 0, o = other; i < rowLength; i++, o += rowStride) out[o] = data[at + i];
    for (let k = rank - 2; k >= 0; k--) {
      other += otherStrides[k];
      if (++index[k] < walked[k]) break;
      other -= walked[k] * otherStrides[k];
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
