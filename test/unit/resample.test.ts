/**
 * upsample2d, resize2d and globalMaxPool below the IO layer: the reference by hand, the shape
 * rules and attrs, and the tfjs executor against the reference (values, gradients, no leaks).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/backend/executor.ts';
import { selectBackend, type BackendName } from '../../src/backend/select.ts';
import { checkAttrs } from '../../src/ir/attrs.ts';
import { foldGraph } from '../../src/fold/index.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { GraphError, ShapeError } from '../../src/ir/errors.ts';
import type { AttrsByOp, Graph, Node, Shape } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { inferNodeShape } from '../../src/ir/shapes.ts';
import { globalMaxPool } from '../../src/reference/ops/pool.ts';
import { resize2d, upsample2d } from '../../src/reference/ops/resize.ts';
import { expectExecutorMatchesReference, expectTrainsEveryParam, randomTensor, randomizeParams, toTf } from './backend-helpers.ts';

const plane = (h: number, w: number, values: number[]) => ({ shape: [1, 1, h, w], data: Float64Array.from(values) });

describe('reference resampling', () => {
  it('nearest upsampling repeats every pixel scale times', () => {
    const y = upsample2d(plane(2, 2, [1, 2, 3, 4]), { scale: [2, 3], interpolation: 'nearest' });
    expect(y.shape).toEqual([1, 1, 4, 6]);
    expect(Array.from(y.data)).toEqual([1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4]);
  });

  it('bilinear upsampling interpolates at r/scale and repeats the last row and column', () => {
    const y = upsample2d(plane(1, 2, [0, 4]), { scale: [1, 4], interpolation: 'bilinear' });
    expect(Array.from(y.data)).toEqual([0, 1, 2, 3, 4, 4, 4, 4]);
  });

  it('resize with alignCorners maps the corners onto each other', () => {
    const y = resize2d(plane(1, 3, [0, 10, 20]), { size: [1, 5], interpolation: 'bilinear', alignCorners: true });
    expect(Array.from(y.data)).toEqual([0, 5, 10, 15, 20]);
    const nearest = resize2d(plane(1, 3, [0, 10, 20]), { size: [1, 5], interpolation: 'nearest', alignCorners: true });
    // Source columns 0, 0.5, 1, 1.5, 2 rounded half up.
    expect(Array.from(nearest.data)).toEqual([0, 10, 10, 20, 20]);
  });

  it('downsizing without alignCorners reads floor(r * in / out)', () => {
    const y = resize2d(plane(1, 5, [0, 1, 2, 3, 4]), { size: [1, 2], interpolation: 'nearest', alignCorners: false });
    expect(Array.from(y.data)).toEqual([0, 2]);
  });

  it('global max pool takes the largest value of each plane', () => {
    const x = { shape: [1, 2, 1, 3], data: Float64Array.from([-5, -2, -9, 1, 7, 3]) };
    expect(Array.from(globalMaxPool(x, { keepDims: false }).data)).toEqual([-2, 7]);
    expect(globalMaxPool(x, { keepDims: true }).shape).toEqual([1, 2, 1, 1]);
  });
});

const infer = (op: 'upsample2d' | 'resize2d' | 'globalMaxPool', attrs: object, input: Shape): Shape =>
  inferNodeShape({ name: 'r', op, inputs: ['x'], attrs, params: {} } as Node, [input]);

describe('resampling shape rules and attrs', () => {
  it('scales literal and symbolic sizes, and sets resize sizes', () => {
    expect(infer('upsample2d', { scale: [2, 3], interpolation: 'nearest' }, ['N', 4, 5, 'W'])).toEqual(['N', 4, 10, '3*W']);
    expect(infer('resize2d', { size: [7, 2], interpolation: 'bilinear', alignCorners: false }, ['N', 4, 'H', 'W'])).toEqual(['N', 4, 7, 2]);
    expect(infer('globalMaxPool', { keepDims: true }, ['N', 4, 'H', 'W'])).toEqual(['N', 4, 1, 1]);
  });

  it('names the op and the rank it expects', () => {
    const flat = () => infer('upsample2d', { scale: [2, 2], interpolation: 'nearest' }, ['N', 4]);
    expect(flat).toThrow(ShapeError);
    expect(flat).toThrow("upsample2d 'r': expects a rank-4 input [N, C, H, W], got rank 2");
    expect(() => infer('globalMaxPool', { keepDims: false }, ['N', 4])).toThrow("globalMaxPool 'r': expects a rank-4 input [N, C, H, W], got rank 2");
  });

  it.each([
    ['upsample2d', { scale: [2, 2], interpolation: 'area' }, "upsample2d 'r': attrs.interpolation must be 'nearest' or 'bilinear', got \"area\""],
    ['upsample2d', { scale: [0, 2], interpolation: 'nearest' }, "upsample2d 'r': attrs.scale must be a pair of positive integers, got [0, 2]"],
    ['resize2d', { size: [3, 3], interpolation: 'nearest' }, "resize2d 'r': attrs.alignCorners is missing (it must be true or false)"],
  ] as const)('rejects %s attrs %o', (op, attrs, message) => {
    const check = () => checkAttrs({ name: 'r', op, attrs: attrs as unknown as AttrsByOp['resize2d'] });
    expect(check).toThrow(GraphError);
    expect(check).toThrow(message);
  });
});

/** x -> conv2d 3x3 'same' -> the op: the conv gives the op a trainable input. */
function convThen(shape: readonly number[], node: { op: 'upsample2d' | 'resize2d' | 'globalMaxPool'; attrs: object }): Graph {
  const b = new GraphBuilder({ seed: 2 });
  const x = b.addInput([...shape], 'x');
  const c = b.addNode({ op: 'conv2d', name: 'c', inputs: [x], attrs: { inChannels: shape[1], outChannels: 3, kernel: [3, 3], stride: [1, 1], padding: 'same', dilation: [1, 1], groups: 1, bias: true } });
  b.addNode({ ...node, name: 'y', inputs: [c] } as Parameters<GraphBuilder['addNode']>[0]);
  return randomizeParams(b.build(['y']), 4);
}

const OPS = [
  { op: 'upsample2d', attrs: { scale: [2, 3], interpolation: 'nearest' } },
  { op: 'upsample2d', attrs: { scale: [3, 2], interpolation: 'bilinear' } },
  { op: 'resize2d', attrs: { size: [7, 4], interpolation: 'bilinear', alignCorners: true } },
  { op: 'resize2d', attrs: { size: [3, 9], interpolation: 'bilinear', alignCorners: false } },
  { op: 'resize2d', attrs: { size: [8, 3], interpolation: 'nearest', alignCorners: true } },
  { op: 'resize2d', attrs: { size: [2, 7], interpolation: 'nearest', alignCorners: false } },
  { op: 'globalMaxPool', attrs: { keepDims: false } },
  { op: 'globalMaxPool', attrs: { keepDims: true } },
] as const;

for (const backend of ['wasm', 'cpu'] as BackendName[]) {
  describe(`executor resampling on ${backend}`, () => {
    beforeAll(async () => {
      await selectBackend({ backend });
    });

    it.each(OPS)('$op $attrs matches the reference, leaking nothing', (node) => {
      expectExecutorMatchesReference(convThen([2, 2, 5, 6], node), randomTensor([2, 2, 5, 6], createRng(7)), ['y']);
    });

    it.each(OPS)('$op $attrs trains the conv before it', (node) => {
      expectTrainsEveryParam(convThen([2, 2, 5, 6], node), randomTensor([2, 2, 5, 6], createRng(9)), 'y', 2);
    });
  });
}

describe('bilinear in train mode', () => {
  it('computes what the eval kernel computes', async () => {
    await selectBackend({ backend: 'cpu' });
    for (const node of OPS.filter((o) => 'interpolation' in o.attrs && o.attrs.interpolation === 'bilinear')) {
      const graph = convThen([2, 2, 5, 6], node);
      const compiled = compileGraph(graph);
      const xt = toTf(randomTensor([2, 2, 5, 6], createRng(3)));
      const evalOut = compiled.run(xt).y;
      const trainOut = compiled.run(xt, { mode: 'train' }).y;
      const [a, b] = [evalOut.dataSync(), trainOut.dataSync()];
      a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v))));
      tf.dispose([xt, evalOut, trainOut]);
      compiled.dispose();
    }
  });
});

describe('fold decision', () => {
  it('no rule moves a BN across a resample, and the report says so', () => {
    const b = new GraphBuilder({ seed: 1 });
    const x = b.addInput([1, 2, 4, 4], 'x');
    let y = b.addNode({ op: 'conv2d', name: 'c1', inputs: [x], attrs: { inChannels: 2, outChannels: 3, kernel: [3, 3], stride: [1, 1], padding: 'same', dilation: [1, 1], groups: 1, bias: true } });
    y = b.addNode({ op: 'tanh', name: 't', inputs: [y], attrs: {} });
    y = b.addNode({ op: 'batchNorm', name: 'bn', inputs: [y], attrs: { numFeatures: 3, eps: 1e-3, frozen: false, decay: 0.9, unbiasedRunningVar: false } });
    y = b.addNode({ op: 'upsample2d', name: 'up', inputs: [y], attrs: { scale: [2, 2], interpolation: 'nearest' } });
    b.addNode({ op: 'conv2d', name: 'c2', inputs: [y], attrs: { inChannels: 3, outChannels: 2, kernel: [1, 1], stride: [1, 1], padding: 'valid', dilation: [1, 1], groups: 1, bias: true } });
    const { graph, report } = foldGraph(randomizeParams(b.build(['c2']), 3), { probe: false });
    expect(graph.nodes.map((n) => n.op)).toContain('batchNorm');
    expect(report.left.find((l) => l.name === 'bn')?.reasons.join('\n')).toContain(
      "it is next to upsample2d 'up', which commutes with a per-channel scale and shift, but no rule moves one across it",
    );
  });
});
