/**
 * The wasm backend ships the forward conv kernels but not all of their gradients: training a
 * conv needs Conv2DBackpropFilter, a depthwise conv needs DepthwiseConv2dNativeBackpropInput and
 * ...BackpropFilter, and tfjs 4.22's wasm registers none of them. The cpu backend's versions read
 * their inputs through `backend.data.get(id).values` and return `backend.makeTensorInfo(...)`
 * only, so they run unchanged on a view that copies wasm heap data out and the result back in.
 *
 * Except the one every conv net trains through: cpu's Conv2DBackpropFilter reads each element
 * through TensorBuffer.get, about 13 s per LeNet step of 32 images. Channels-last (what the
 * executor and tfjs-layers run) gets its own kernel instead:
 *
 *   dW[kh, kw, ci, co] = sum over n, oh, ow of x[n, oh*sH + kh - padTop, ow*sW + kw - padLeft, ci] * dy[n, oh, ow, co]
 *
 * computed as patches(x)^T . dy with wasm's matrix product (conv2dBackpropFilterNHWC); a scalar
 * loop over the same sum was 40% of a LeNet training step. Channels-first input still goes to
 * cpu's kernel.
 *
 * An Embedding trains through the gradient of its gather, UnsortedSegmentSum, which wasm lacks
 * too; cpu's kernel builds a mask and a full product per segment (vocabulary x batch work), so
 * wasm gets a direct scatter-add of its own (unsortedSegmentSum below).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { sameShape } from '../reference/tensor.ts';

/** The gradient kernels shapefold registers on wasm when wasm has none of its own. */
export const WASM_GRADIENT_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'UnsortedSegmentSum',
] as const;

/** The two members of MathBackendCPU the borrowed kernels touch, served from wasm memory. */
function hostView(wasm: BackendWasm): object {
  return {
    data: { get: (dataId: object) => ({ values: wasm.readSync(dataId) }) },
    makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo {
      const out = wasm.makeOutput(shape, dtype);
      wasm.typedArrayFromHeap(out).set(values);
      return out;
    },
  };
}

/** Values of patches (im2col) taken at a time: 2^22, 16 MB of wasm memory per block (at least one image). */
const PATCH_BLOCK_VALUES = 2 ** 22;

/**
 * The filter gradient of a channels-last conv (see the file comment) as matrix products: the
 * patches of x, one row per tap t = (kh, kw, ci) and one column per output position
 * m = (n, oh, ow), times dy as [M, Cout], give dW as [kh * kw * ci, Cout], which is dW's own
 * layout. Blocks of whole images go through wasm's BatchMatMul (float32, as TensorFlow's own
 * kernel accumulates; patches are laid out tap-major because a transposed operand runs about 8x
 * slower there) and are summed in float64, so memory stays bounded for any batch.
 */
export function conv2dBackpropFilterNHWC(wasm: BackendWasm, x: Float32Array, dy: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const taps = filterHeight * filterWidth * inChannels;
  const perImage = outHeight * outWidth;
  const imagesPerBlock = Math.max(1, Math.min(batchSize, Math.floor(PATCH_BLOCK_VALUES / (taps * perImage))));
  const batchMatMul = tf.getKernel('BatchMatMul', 'wasm');
  const dW = new Float64Array(taps * outChannels);
  for (let firstImage = 0; firstImage < batchSize; firstImage += imagesPerBlock) {
    const images = Math.min(imagesPerBlock, batchSize - firstImage);
    const columns = images * perImage;
    const patches = wasm.makeOutput([1, taps, columns], 'float32');
    const grads = wasm.makeOutput([1, columns, outChannels], 'float32');
    try {
      const col = wasm.typedArrayFromHeap(patches) as Float32Array;
      col.fill(0);
      for (let kh = 0; kh < filterHeight; kh++) {
        for (let kw = 0; kw < filterWidth; kw++) {
          for (let ci = 0; ci < inChannels; ci++) {
            const row = ((kh * filterWidth + kw) * inChannels + ci) * columns;
            for (let i = 0; i < images; i++) {
              const n = firstImage + i;
              for (let oh = 0; oh < outHeight; oh++) {
                const xr = oh * strideHeight + kh - top;
                if (xr < 0 || xr >= inHeight) continue;
                const to = row + (i * outHeight + oh) * outWidth;
                const xRow = (n * inHeight + xr) * inWidth;
                for (let ow = 0; ow < outWidth; ow++) {
                  const xc = ow * strideWidth + kw - left;
                  if (xc >= 0 && xc < inWidth) col[to + ow] = x[(xRow + xc) * inChannels + ci];
                }
              }
            }
          }
        }
      }
      const from = firstImage * perImage * outChannels;
      (wasm.typedArrayFromHeap(grads) as Float32Array).set(dy.subarray(from, from + columns * outChannels));
      const product = batchMatMul.kernelFunc({ inputs: { a: patches, b: grads }, attrs: { transposeA: false, transposeB: false }, backend: wasm }) as tf.TensorInfo;
      const block = wasm.typedArrayFromHeap(product) as Float32Array;
      for (let i = 0; i < dW.length; i++) dW[i] += block[i];
      wasm.disposeData(product.dataId);
    } finally {
      wasm.disposeData(patches.dataId);
      wasm.disposeData(grads.dataId);
    }
  }
  return Float32Array.from(dW);
}

interface BackpropFilterAttrs {
  readonly strides: [number, number] | number;
  readonly pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  readonly dataFormat: 'NHWC' | 'NCHW';
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil';
  readonly filterShape: [number, number, number, number];
}

/** Conv2DBackpropFilter for wasm: the loop above on channels-last data, cpu's kernel otherwise. */
function conv2dBackpropFilterKernel(cpu: tf.KernelConfig): tf.KernelConfig['kernelFunc'] {
  return ({ inputs, attrs, backend }) => {
    const wasm = backend as BackendWasm;
    const a = attrs as unknown as BackpropFilterAttrs;
    if (a.dataFormat !== 'NHWC') return cpu.kernelFunc({ inputs, attrs, backend: hostView(wasm) });
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast',
    );
    const dW = conv2dBackpropFilterNHWC(wasm, wasm.readSync(x.dataId) as Float32Array, wasm.readSync(dy.dataId) as Float32Array, info);
    const out = wasm.makeOutput(a.filterShape, 'float32');
    wasm.typedArrayFromHeap(out).set(dW);
    return out;
  };
}

/**
 * The sum TensorFlow's UnsortedSegmentSum defines, with i over segmentIds' elements (its shape a
 * prefix of x's) and j over the rest of x:
 *
 *   out[s, j] = sum over i with segmentIds[i] = s of x[i, j],   out: [numSegments, ...x.shape[rank(segmentIds):]]
 *
 * A negative id drops its row, as TensorFlow drops it; an id >= numSegments is refused as
 * TensorFlow's CPU kernel refuses it (a silently dropped row would be a lost gradient). Sums are
 * taken in float64 and rounded once.
 */
export function unsortedSegmentSum(
  x: Float32Array | Int32Array,
  xShape: readonly number[],
  segmentIds: Int32Array,
  segmentIdsShape: readonly number[],
  numSegments: number,
): Float64Array {
  const where = 'UnsortedSegmentSum on wasm';
  if (!Number.isInteger(numSegments) || numSegments < 0) throw new Error(`${where}: numSegments is ${numSegments}; expected a non-negative integer`);
  if (segmentIdsShape.length > xShape.length || !sameShape(segmentIdsShape, xShape.slice(0, segmentIdsShape.length))) {
    throw new Error(`${where}: segmentIds' shape [${segmentIdsShape.join(', ')}] is not a prefix of x's shape [${xShape.join(', ')}]`);
  }
  const rowSize = xShape.slice(segmentIdsShape.length).reduce((a, b) => a * b, 1);
  const out = new Float64Array(numSegments * rowSize);
  for (let i = 0; i < segmentIds.length; i++) {
    const s = segmentIds[i];
    if (s < 0) continue;
    if (s >= numSegments) throw new Error(`${where}: segmentIds[${i}] is ${s}, outside [0, ${numSegments}) (numSegments)`);
    for (let j = 0, from = i * rowSize, to = s * rowSize; j < rowSize; j++) out[to + j] += x[from + j];
  }
  return out;
}

/** UnsortedSegmentSum for wasm: the sum above, read from and written to wasm memory. */
const unsortedSegmentSumKernel: tf.KernelConfig['kernelFunc'] = ({ inputs, attrs, backend }) => {
  const wasm = backend as BackendWasm;
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`UnsortedSegmentSum on wasm: x is ${x.dtype}; expected float32 or int32`);
  if (segmentIds.dtype !== 'int32') throw new Error(`UnsortedSegmentSum on wasm: segmentIds is ${segmentIds.dtype}; expected int32`);
  const sums = unsortedSegmentSum(
    wasm.readSync(x.dataId) as Float32Array | Int32Array,
    x.shape,
    wasm.readSync(segmentIds.dataId) as Int32Array,
    segmentIds.shape,
    numSegments,
  );
  const out = wasm.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
  wasm.typedArrayFromHeap(out).set(sums);
  return out;
};

/** The kernel for each name in WASM_GRADIENT_KERNELS; the depthwise ones are cpu's, run on a view of wasm memory. */
function wasmGradientKernel(kernelName: (typeof WASM_GRADIENT_KERNELS)[number]): tf.KernelConfig['kernelFunc'] {
  if (kernelName === 'UnsortedSegmentSum') return unsortedSegmentSumKernel;
  const cpu = tf.getKernel(kernelName, 'cpu');
  if (kernelName === 'Conv2DBackpropFilter') return conv2dBackpropFilterKernel(cpu);
  return ({ inputs, attrs, backend }) => cpu.kernelFunc({ inputs, attrs, backend: hostView(backend as BackendWasm) });
}

/** Registers, once, each gradient kernel of WASM_GRADIENT_KERNELS that wasm lacks. */
export function registerWasmGradientKernels(): void {
  const wasmKernels = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  for (const kernelName of WASM_GRADIENT_KERNELS) {
    if (!wasmKernels.has(kernelName)) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: wasmGradientKernel(kernelName) });
  }
}
