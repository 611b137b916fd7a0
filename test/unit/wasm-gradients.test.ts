/**
 * The conv filter gradient shapefold registers on wasm (patches times dy through wasm's matrix
 * product) against the sum that defines it, in float64, over strides, 'same'/'valid'/explicit
 * padding, one and several channels, and a product large enough to be taken in several blocks of
 * rows. (tfjs's cpu kernel would be the other oracle, but it takes minutes on these sizes.)
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend/select.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

interface Geometry {
  readonly x: [number, number, number, number];
  readonly kernel: [number, number];
  readonly cout: number;
  readonly stride: [number, number];
  readonly pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
}

const GEOMETRIES: readonly Geometry[] = [
  { x: [64, 28, 28, 1], kernel: [5, 5], cout: 6, stride: [1, 1], pad: 'valid' },
  { x: [3, 12, 10, 6], kernel: [5, 5], cout: 16, stride: [1, 1], pad: 'same' },
  { x: [2, 9, 8, 3], kernel: [3, 2], cout: 4, stride: [2, 3], pad: 'same' },
  { x: [2, 7, 7, 4], kernel: [3, 3], cout: 5, stride: [2, 2], pad: [[0, 0], [2, 1], [0, 3], [0, 0]] },
  // 36 * 36 output positions of 5 * 5 * 64 taps per image: a block of 2^22 values holds 2 images of 3.
  { x: [3, 40, 40, 64], kernel: [5, 5], cout: 3, stride: [1, 1], pad: 'valid' },
];

/** dW[kh, kw, ci, co] = sum over n, oh, ow of x[n, oh*sH + kh - top, ow*sW + kw - left, ci] * dy[n, oh, ow, co], in float64. */
function definedGradient(g: Geometry, x: Float32Array, dy: tf.Tensor): Float64Array {
  const [n, h, w, cin] = g.x;
  const [kh, kw] = g.kernel;
  const [, oh, ow, cout] = dy.shape;
  const info = tf.backend_util.computeConv2DInfo(g.x, [kh, kw, cin, g.cout], g.stride, 1, g.pad, undefined, false, 'channelsLast');
  const { top, left } = info.padInfo;
  const d = dy.dataSync();
  const dW = new Float64Array(kh * kw * cin * cout);
  for (let b = 0; b < n; b++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let p = 0; p < kh; p++) for (let q = 0; q < kw; q++) {
    const [r, c] = [i * g.stride[0] + p - top, j * g.stride[1] + q - left];
    if (r < 0 || r >= h || c < 0 || c >= w) continue;
    for (let ci = 0; ci < cin; ci++) for (let co = 0; co < cout; co++) {
      dW[((p * kw + q) * cin + ci) * cout + co] += x[((b * h + r) * w + c) * cin + ci] * d[((b * oh + i) * ow + j) * cout + co];
    }
  }
  return dW;
}

describe('Conv2DBackpropFilter on wasm', () => {
  it.each(GEOMETRIES.map((g, i) => ({ ...g, i })))('is the defining sum for x $x, kernel $kernel, stride $stride, pad $pad, leaking nothing', (g) => {
    const x = tf.randomUniform(g.x, -1, 1, 'float32', g.i) as tf.Tensor4D;
    const w = tf.randomUniform([...g.kernel, g.x[3], g.cout], -1, 1, 'float32', g.i + 1) as tf.Tensor4D;
    const dy = tf.tidy(() => tf.randomUniform(tf.conv2d(x, w, g.stride, g.pad).shape, -1, 1, 'float32', g.i + 2));
    const before = tf.memory().numTensors;
    const dW = tf.tidy(() => tf.grad((wv: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, wv as tf.Tensor4D, g.stride, g.pad), dy)))(w).dataSync() as Float32Array);
    expect(tf.memory().numTensors).toBe(before);
    const expected = definedGradient(g, x.dataSync() as Float32Array, dy);
    tf.dispose([x, w, dy]);
    expect(dW.length).toBe(expected.length);
    const scale = Math.max(...expected.map(Math.abs));
    for (let i = 0; i < expected.length; i++) expect(Math.abs(dW[i] - expected[i]), `dW[${i}]`).toBeLessThanOrEqual(1e-5 * scale);
  });
});
