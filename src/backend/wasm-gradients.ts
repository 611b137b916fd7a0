/**
 * The wasm backend ships the forward conv kernels but not all of their gradients: training a
 * conv needs Conv2DBackpropFilter, a depthwise conv needs DepthwiseConv2dNativeBackpropInput and
 * ...BackpropFilter, and tfjs 4.22's wasm registers none of them. The cpu backend's versions read
 * their inputs through `backend.data.get(id).values` and return `backend.makeTensorInfo(...)`
 * only, so they run unchanged on a view that copies wasm heap data out and the result back in.
 * These kernels run only during backprop, where a copy per call is small next to the loops.
 */
import * as tf from '@tensorflow/tfjs';
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

/** Registers, once, the cpu implementation of each gradient kernel wasm lacks. */
export function borrowCpuGradientKernels(): void {
  const wasmKernels = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  for (const kernelName of BORROWED_GRADIENT_KERNELS) {
    if (wasmKernels.has(kernelName)) continue;
    const cpu = tf.getKernel(kernelName, 'cpu');
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) =>
        cpu.kernelFunc({ inputs, attrs, backend: hostView(backend as BackendWasm) }),
    });
  }
}
