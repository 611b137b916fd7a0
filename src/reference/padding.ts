/**
 * Padding rules shared by convolutions and pools.
 *
 * 'same' follows TensorFlow, so a graph imported from Keras pads exactly as it did there:
 *     out      = ceil(in / S)
 *     padTotal = max((out - 1)*S + (K - 1)*D + 1 - in, 0)
 *     before   = floor(padTotal / 2),  after = padTotal - before
 * (the odd pixel goes after, unlike a symmetric PyTorch padding). 'valid' pads nothing.
 */
import type { Pair, Padding2d } from '../ir/graph.ts';

/** [before, after] zero padding of one spatial axis under TensorFlow's 'same' rule. */
export function resolveSamePadding(
  inSize: number,
  kernel: number,
  stride: number,
  dilation: number,
): readonly [before: number, after: number] {
  const out = Math.ceil(inSize / stride);
  const padTotal = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
  const before = Math.floor(padTotal / 2);
  return [before, padTotal - before];
}

/** Explicit [top, bottom, left, right] padding for an H x W input. */
export function resolvePadding2d(
  padding: Padding2d,
  height: number,
  width: number,
  kernel: Pair,
  stride: Pair,
  dilation: Pair,
): readonly [top: number, bottom: number, left: number, right: number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    const [top, bottom] = resolveSamePadding(height, kernel[0], stride[0], dilation[0]);
    const [left, right] = resolveSamePadding(width, kernel[1], stride[1], dilation[1]);
    return [top, bottom, left, right];
  }
  return padding;
}

/** floor((in + padTotal - D(K-1) - 1) / S) + 1: the number of window positions along one axis. */
export function windowCount(inSize: number, padTotal: number, kernel: number, stride: number, dilation: number): number {
  return Math.floor((inSize + padTotal - dilation * (kernel - 1) - 1) / stride) + 1;
}

/**
 * The taps [lo, hi) along one axis that read inside the unpadded input, for each output
 * position: input position o*stride + k*dilation - before must lie in [0, size). The return type
 * is declared because the inferred `Int32Array<ArrayBuffer>` breaks a .d.ts for TypeScript < 5.7.
 */
export function tapsInside(count: number, stride: number, dilation: number, before: number, size: number, kernel: number): { lo: Int32Array; hi: Int32Array } {
  const lo = new Int32Array(count);
  const hi = new Int32Array(count);
  for (let o = 0; o < count; o++) {
    const start = o * stride - before;
    lo[o] = Math.min(kernel, Math.max(0, Math.ceil(-start / dilation)));
    hi[o] = Math.max(lo[o], Math.min(kernel, Math.floor((size - 1 - start) / dilation) + 1));
  }
  return { lo, hi };
}
