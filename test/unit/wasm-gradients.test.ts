/**
 * The conv filter gradient shapefold registers on wasm (patches times dy through wasm's matrix
 * product) against the sum that defines it, in float64, over strides, 'same'/'valid'/explicit
 * padding, one and several channels, and a product large enough to be taken in several blocks of
 * rows. (tfjs's cpu kernel would be the other oracle, but it takes minutes on these sizes.)
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '../../src/backend/select.ts';
import { registerWasmGradientKernels } from '../../src/backend/wasm-gradients.ts';

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

/** Runs `f` with the cpu backend active and returns to wasm. */
async function onCpu<T>(f: () => T): Promise<T> {
  await selectBackend({ backend: 'cpu' });
  try {
    return f();
  } finally {
    await selectBackend({ backend: 'wasm' });
  }
}

interface Segments {
  readonly x: number[];
  readonly ids: number[];
  readonly numSegments: number;
}

const SEGMENTS: readonly Segments[] = [
  // An Embedding's gradient: one row of dy per token, tokens repeated, some rows of the table unused.
  { x: [12, 5], ids: [12], numSegments: 30 },
  { x: [6, 4, 3], ids: [6], numSegments: 4 },
  { x: [3, 4, 2], ids: [3, 4], numSegments: 7 },
  { x: [9], ids: [9], numSegments: 3 },
  { x: [0, 3], ids: [0], numSegments: 2 },
];

describe('UnsortedSegmentSum on wasm', () => {
  it('is registered on wasm, which has none of its own, and never over a kernel wasm has', () => {
    const registered = tf.getKernel('UnsortedSegmentSum', 'wasm');
    expect(registered).toBeDefined();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      registerWasmGradientKernels();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBe(registered);
  });

  it.each(SEGMENTS.map((g, i) => ({ ...g, i })))('is the defining sum, rounded once, and cpu’s result for x $x, ids $ids, $numSegments segments', async (g) => {
    const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    const xs = Array.from(tf.tidy(() => tf.randomUniform(g.x, -1, 1, 'float32', g.i).dataSync()));
    // Ids from -1 (a dropped row) to numSegments - 1, repeated where there are more rows than segments.
    const ids = Array.from({ length: size(g.ids) }, (_, k) => ((k * 7 + g.i) % (g.numSegments + 1)) - 1);
    const run = () => tf.tidy(() => tf.unsortedSegmentSum(tf.tensor(xs, g.x), tf.tensor<tf.Rank>(ids, g.ids, 'int32') as tf.Tensor1D, g.numSegments).dataSync() as Float32Array);
    const before = tf.memory().numTensors;
    const onWasm = run();
    expect(tf.memory().numTensors).toBe(before);
    const rowSize = size(g.x.slice(g.ids.length));
    const expected = new Float64Array(g.numSegments * rowSize);
    ids.forEach((s, k) => {
      if (s >= 0) for (let j = 0; j < rowSize; j++) expected[s * rowSize + j] += xs[k * rowSize + j];
    });
    expect(Array.from(onWasm)).toEqual(Array.from(expected, Math.fround));
    // cpu's kernel sums over the first axis only, so it is an oracle for one-dimensional ids.
    if (g.ids.length === 1) {
      const onCpuBackend = await onCpu(run);
      for (let k = 0; k < expected.length; k++) expect(Math.abs(onWasm[k] - onCpuBackend[k]), `out[${k}]`).toBeLessThanOrEqual(1e-6);
    }
  });

  it('sums int32 values as int32', () => {
    const out = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32'), tf.tensor1d([1, 0, 1], 'int32'), 2));
    expect(out.dtype).toBe('int32');
    expect(Array.from(out.dataSync())).toEqual([3, 4, 6, 8]);
    out.dispose();
  });

  it('names an id at or past numSegments and ids whose shape is not a prefix of x’s, leaking nothing', () => {
    const before = tf.memory().numTensors;
    expect(() => tf.tidy(() => tf.unsortedSegmentSum(tf.ones([3, 2]), tf.tensor1d([0, 2, 1], 'int32'), 2))).toThrow(
      'UnsortedSegmentSum on wasm: segmentIds[1] is 2, outside [0, 2) (numSegments)',
    );
    expect(() => tf.tidy(() => tf.unsortedSegmentSum(tf.ones([3, 2]), tf.tensor1d([0, 1], 'int32'), 2))).toThrow(
      "UnsortedSegmentSum on wasm: segmentIds' shape [2] is not a prefix of x's shape [3, 2]",
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('lets a stock tfjs-layers model with an Embedding fit on wasm, to the weights the cpu backend trains', async () => {
    const train = async () => {
      const model = tf.sequential({
        layers: [
          tf.layers.embedding({ inputDim: 25, outputDim: 4, inputLength: 6, embeddingsInitializer: tf.initializers.randomUniform({ seed: 1 }) }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        ],
      });
      const optimizer = tf.train.sgd(0.5);
      model.compile({ optimizer, loss: 'meanSquaredError' });
      const x = tf.tensor2d(Array.from({ length: 8 * 6 }, (_, k) => (k * 11) % 25), [8, 6]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3));
      const history = await model.fit(x, y, { epochs: 4, batchSize: 4, shuffle: false, verbose: 0 });
      const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
      tf.dispose([x, y]);
      model.dispose();
      optimizer.dispose();
      return { loss: history.history.loss as number[], weights };
    };
    const before = tf.memory().numTensors;
    const onWasm = await train();
    expect(tf.memory().numTensors).toBe(before);
    await selectBackend({ backend: 'cpu' });
    const reference = await train().finally(() => selectBackend({ backend: 'wasm' }));
    expect(onWasm.loss.at(-1)).toBeLessThan(onWasm.loss[0]);
    onWasm.loss.forEach((l, i) => expect(Math.abs(l - reference.loss[i]), `loss ${i}`).toBeLessThanOrEqual(1e-5));
    const embeddings = [onWasm.weights[0], reference.weights[0]];
    expect(embeddings[0].length).toBe(25 * 4);
    embeddings[0].forEach((v, k) => expect(Math.abs(v - embeddings[1][k]), `embeddings[${k}]`).toBeLessThanOrEqual(1e-5));
  });
});
