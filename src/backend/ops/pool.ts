/**
 * Pools on [N, H, W, C], windows over H and W (a sequence [N, L, C] runs as [N, 1, L, C], see
 * alsoOnLines in types.ts; the global pools reduce over L):
 *   maxPool2d      y = max over the window; explicit padding pads with -Infinity, so a pad
 *                  never wins (PyTorch's rule)
 *   avgPool2d      y = sum over the window / count, where count is kH*kW when countIncludePad,
 *                  else the number of window cells inside the unpadded input
 *   globalAvgPool  y[n, c] = mean over H, W  (keepDims: [N, 1, 1, C], the NHWC of [N, C, 1, 1])
 *   globalMaxPool  y[n, c] = max over H, W, likewise
 *
 * tfjs pools take only 'same' and 'valid'. Its 'same' max pool ignores padding and its 'same'
 * average divides by real cells, which are exactly the rules above for 'same'. Explicit padding
 * becomes tf.pad + a 'valid' pool; an average that must not count the padding is divided by
 * the pooled fraction of real cells (a pooled ones-mask).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Padding2d, PoolAttrs } from '../../ir/graph.ts';
import { resolvePadding2d } from '../../reference/padding.ts';
import { pair } from './conv.ts';
import type { OpBuilder } from './types.ts';

type Pads = readonly [number, number, number, number];

function isZero(p: Pads): boolean {
  return p.every((v) => v === 0);
}

function padSpatial(x: tf.Tensor4D, [t, b, l, r]: Pads, value: number): tf.Tensor4D {
  return tf.pad(x, [[0, 0], [t, b], [l, r], [0, 0]], value);
}

export const maxPool2d: OpBuilder<'maxPool2d'> = (node) => {
  const { padding } = node.attrs;
  const kernel = pair(node.attrs.kernel);
  const stride = pair(node.attrs.stride);
  return {
    forward: ([input]) => {
      const x = input as tf.Tensor4D;
      if (padding === 'same' || padding === 'valid') return tf.maxPool(x, kernel, stride, padding);
      const padded = isZero(padding) ? x : padSpatial(x, padding, -Infinity);
      return tf.maxPool(padded, kernel, stride, 'valid');
    },
  };
};

function explicitPads(a: PoolAttrs, padding: Exclude<Padding2d, 'valid'>, x: tf.Tensor4D): Pads {
  return resolvePadding2d(padding, x.shape[1], x.shape[2], a.kernel, a.stride, [1, 1]);
}

export const avgPool2d: OpBuilder<'avgPool2d'> = (node) => {
  const a = node.attrs;
  const { padding, countIncludePad } = a;
  const kernel = pair(a.kernel);
  const stride = pair(a.stride);
  return {
    forward: ([input]) => {
      const x = input as tf.Tensor4D;
      if (padding === 'valid') return tf.avgPool(x, kernel, stride, 'valid');
      if (padding === 'same' && !countIncludePad) return tf.avgPool(x, kernel, stride, 'same');
      const pads = explicitPads(a, padding, x);
      if (isZero(pads)) return tf.avgPool(x, kernel, stride, 'valid');
      const pooled = tf.avgPool(padSpatial(x, pads, 0), kernel, stride, 'valid');
      if (countIncludePad) return pooled;
      const realCells = padSpatial(tf.ones([1, x.shape[1], x.shape[2], 1]), pads, 0);
      return tf.div(pooled, tf.avgPool(realCells as tf.Tensor4D, kernel, stride, 'valid'));
    },
  };
};

/** Axes 1 .. rank-2 of a channels-last tensor: H, W of an image, L of a sequence. */
const positionAxes = (x: tf.Tensor): number[] => Array.from({ length: x.rank - 2 }, (_, i) => i + 1);

export const globalAvgPool: OpBuilder<'globalAvgPool'> = (node) => ({
  forward: ([x]) => tf.mean(x, positionAxes(x), node.attrs.keepDims),
});

export const globalMaxPool: OpBuilder<'globalMaxPool'> = (node) => ({
  forward: ([x]) => tf.max(x, positionAxes(x), node.attrs.keepDims),
});
