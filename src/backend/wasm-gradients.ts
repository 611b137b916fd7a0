/**
 * The wasm backend ships the forward conv kernels but not all of their gradients: training a
 * conv needs Conv2DBackpropFilter, a depthwise conv needs DepthwiseConv2dNativeBackpropInput and
 * ...BackpropFilter, and tfjs 4.22's wasm registers none of them. The cpu backend's versions read
 * their inputs through `backend.data.get(id).values` and return `backend.makeTensorInfo(...)`
 * only, so they run unchanged on a view that copies wasm heap data out and the result back in.
 *
 * Except the one every conv net trains through: cpu's Conv2DBackpropFilter reads each element
 * through TensorBuffer.get, about 13 s per LeNet step of 32 images. Channels-last (what the
 * executor and tfjs-layers run) gets its own loop instead:
 *
 *   dW[kh, kw, ci, co] = sum over n, oh, ow of x[n, oh*sH + kh - padTop, ow*sW + kw - padLeft, ci] * dy[n, oh, ow, co]
 *
 * over contiguous rows (co innermost), accumulated in float64 as cpu does; channels-first input
 * still goes to cpu's kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export const BORROWED_GRADIENT_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
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

/** The filter gradient of a channels-last conv (see the file comment). */
export function conv2dBackpropFilterNHWC(x: Float32Array, dy: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const dW = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const dyRow = ((n * outHeight + oh) * outWidth + ow) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const xr = oh * strideHeight + kh - top;
          if (xr < 0 || xr >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const xc = ow * strideWidth + kw - left;
            if (xc < 0 || xc >= inWidth) continue;
            const xRow = ((n * inHeight + xr) * inWidth + xc) * inChannels;
            const wTap = (kh * filterWidth + kw) * inChannels * outChannels;
            for (let ci = 0; ci < inChannels; ci++) {
              const xv = x[xRow + ci];
              if (xv === 0) continue;
              const wRow = wTap + ci * outChannels;
              for (let co = 0; co < outChannels; co++) dW[wRow + co] += xv * dy[dyRow + co];
            }
          }
        }
      }
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
    const dW = conv2dBackpropFilterNHWC(wasm.readSync(x.dataId) as Float32Array, wasm.readSync(dy.dataId) as Float32Array, info);
    const out = wasm.makeOutput(a.filterShape, 'float32');
    wasm.typedArrayFromHeap(out).set(dW);
    return out;
  };
}

/** Registers, once, the cpu implementation of each gradient kernel wasm lacks. */
export function borrowCpuGradientKernels(): void {
  const wasmKernels = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  for (const kernelName of BORROWED_GRADIENT_KERNELS) {
    if (wasmKernels.has(kernelName)) continue;
    const cpu = tf.getKernel(kernelName, 'cpu');
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc:
        kernelName === 'Conv2DBackpropFilter'
          ? conv2dBackpropFilterKernel(cpu)
          : ({ inputs, attrs, backend }) => cpu.kernelFunc({ inputs, attrs, backend: hostView(backend as BackendWasm) }),
    });
  }
}
