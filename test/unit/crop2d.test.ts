/**
 * crop2d end to end below the IO layer: the reference by hand, the IR shape rule and attrs
 * schema, the tfjs executor against the reference (values, gradients, no leaked tensors) and the
 * DSL builder at run time.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as d from '../../dsl/index.ts';
import { compileGraph } from '../../src/backend/executor.ts';
import { selectBackend, type BackendName } from '../../src/backend/select.ts';
import { checkAttrs } from '../../src/ir/attrs.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { GraphError, ShapeError } from '../../src/ir/errors.ts';
import type { AttrsByOp, Graph, Node, Shape } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { inferNodeShape } from '../../src/ir/shapes.ts';
import { crop2d } from '../../src/reference/ops/crop2d.ts';
import { runReference } from '../../src/reference/run.ts';
import { fromTf, randomTensor, randomizeParams, toTf } from './backend-helpers.ts';

type Crop = AttrsByOp['crop2d']['crop'];

const inferCrop = (crop: Crop, input: Shape): Shape =>
  inferNodeShape({ name: 'trim', op: 'crop2d', inputs: ['x'], attrs: { crop }, params: {} } as Node, [input]);

describe('reference crop2d', () => {
  it('keeps rows top..H-bottom and columns left..W-right of every plane', () => {
    // Two planes of 3 x 4: plane p holds 100p + 10r + c at row r, column c.
    const data = Float64Array.from({ length: 24 }, (_, i) => 100 * Math.floor(i / 12) + 10 * Math.floor((i % 12) / 4) + (i % 4));
    const y = crop2d({ shape: [1, 2, 3, 4], data }, { crop: [1, 0, 1, 2] });
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(Array.from(y.data)).toEqual([11, 21, 111, 121]);
  });

  it('with no crop is a copy, not the same array', () => {
    const x = { shape: [1, 1, 2, 2], data: Float64Array.from([1, 2, 3, 4]) };
    const y = crop2d(x, { crop: [0, 0, 0, 0] });
    expect(Array.from(y.data)).toEqual([1, 2, 3, 4]);
    expect(y.data).not.toBe(x.data);
  });

  it('refuses a crop that leaves nothing', () => {
    expect(() => crop2d({ shape: [1, 1, 2, 2], data: new Float64Array(4) }, { crop: [1, 1, 0, 0] })).toThrow(/leaves nothing/);
  });
});

describe('crop2d shape rule and attrs', () => {
  it('subtracts the crop from literal and symbolic sizes', () => {
    expect(inferCrop([1, 2, 0, 3], ['N', 8, 10, 7])).toEqual(['N', 8, 7, 4]);
    expect(inferCrop([1, 1, 0, 1], ['N', 8, 'H', 'W'])).toEqual(['N', 8, 'H-2', 'W-1']);
    expect(inferCrop([0, 0, 0, 0], ['N', 8, 'H', 5])).toEqual(['N', 8, 'H', 5]);
  });

  it('names the dim, the input size and the crop when nothing would be left', () => {
    const height = () => inferCrop([2, 1, 0, 0], ['N', 8, 3, 9]);
    expect(height).toThrow(ShapeError);
    expect(height).toThrow("crop2d 'trim': input height 3 is too small for the crop 2+1");
    expect(() => inferCrop([0, 0, 3, 3], ['N', 8, 9, 4])).toThrow("crop2d 'trim': input width 4 is too small for the crop 3+3");
    expect(() => inferCrop([1, 1, 1, 1], ['N', 8])).toThrow("crop2d 'trim': expects a rank-4 input [N, C, H, W], got rank 2");
  });

  it.each([
    [[1, 1, 1], 'crop must be [top, bottom, left, right] of non-negative integers, got [1, 1, 1]'],
    [[1, -1, 0, 0], 'crop must be [top, bottom, left, right] of non-negative integers, got [1, -1, 0, 0]'],
    [[0, 0.5, 0, 0], 'crop must be [top, bottom, left, right] of non-negative integers, got [0, 0.5, 0, 0]'],
  ])('rejects crop %o', (crop, message) => {
    const check = () => checkAttrs({ name: 'trim', op: 'crop2d', attrs: { crop } as unknown as AttrsByOp['crop2d'] });
    expect(check).toThrow(GraphError);
    expect(check).toThrow(message);
  });
});

/** x -> conv2d 3x3 'same' -> crop2d: the conv gives the crop a trainable input. */
function convThenCrop(shape: [number, number, number, number], crop: Crop): Graph {
  const b = new GraphBuilder({ seed: 2 });
  const x = b.addInput(shape, 'x');
  const c = b.addNode({ op: 'conv2d', name: 'c', inputs: [x], attrs: { inChannels: shape[1], outChannels: 3, kernel: [3, 3], stride: [1, 1], padding: 'same', dilation: [1, 1], groups: 1, bias: true } });
  b.addNode({ op: 'crop2d', name: 'y', inputs: [c], attrs: { crop } });
  return randomizeParams(b.build(['y']), 4);
}

for (const backend of ['wasm', 'cpu'] as BackendName[]) {
  describe(`executor crop2d on ${backend}`, () => {
    beforeAll(async () => {
      await selectBackend({ backend });
    });

    it.each([
      { shape: [2, 2, 5, 6], crop: [1, 0, 2, 1] },
      { shape: [1, 3, 4, 4], crop: [0, 3, 0, 0] },
      { shape: [3, 1, 7, 2], crop: [2, 2, 1, 0] },
    ] as const)('matches the reference for $shape cropped by $crop, leaking nothing', ({ shape, crop }) => {
      const graph = convThenCrop([...shape], crop);
      const x = randomTensor(shape, createRng(7));
      const expected = runReference(graph, { x }).outputs.y;
      const before = tf.memory().numTensors;
      const compiled = compileGraph(graph);
      const xt = toTf(x);
      const out = compiled.run(xt);
      const y = fromTf(out.y);
      tf.dispose([xt, out.y]);
      compiled.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(y.shape).toEqual(expected.shape);
      y.data.forEach((v, i) => expect(Math.abs(v - expected.data[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected.data[i]))));
    });

    it('passes the gradient back into the kept window and zero elsewhere', () => {
      const b = new GraphBuilder();
      const x = b.addInput([1, 1, 3, 4], 'x');
      b.addNode({ op: 'crop2d', name: 'y', inputs: [x], attrs: { crop: [1, 0, 1, 2] } });
      const graph = b.build(['y']);
      const compiled = compileGraph(graph);
      const before = tf.memory().numTensors;
      const xt = tf.zeros([1, 1, 3, 4]);
      const upstream = tf.tensor([[[[3], [5]]]]);
      const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(compiled.run(input, { mode: 'train' }).y, upstream)))(xt);
      // The output is rows 1..2, column 1 of the 3 x 4 input.
      expect(Array.from(grad.dataSync())).toEqual([0, 0, 0, 0, 0, 3, 0, 0, 0, 5, 0, 0]);
      tf.dispose([xt, upstream, grad]);
      expect(tf.memory().numTensors).toBe(before);
      compiled.dispose();
    });

    it('trains the layer before it: every conv weight gets a gradient through the crop', () => {
      const graph = convThenCrop([2, 2, 5, 6], [1, 2, 0, 3]);
      const compiled = compileGraph(graph);
      const xt = toTf(randomTensor([2, 2, 5, 6], createRng(9)));
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(compiled.run(xt, { mode: 'train' }).y)) as tf.Scalar);
      expect(Object.keys(grads).length).toBe(2);
      for (const g of Object.values(grads)) expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
      tf.dispose([value, xt, ...Object.values(grads)]);
      compiled.dispose();
    });
  });
}

describe('DSL crop2d', () => {
  it.each([
    { crop: 1, attrs: [1, 1, 1, 1], shape: ['N', 4, 7, 6] },
    { crop: [2, 1], attrs: [2, 2, 1, 1], shape: ['N', 4, 5, 6] },
    { crop: [0, 1, 2, 3], attrs: [0, 1, 2, 3], shape: ['N', 4, 8, 3] },
  ] as const)('spells crop $crop as $attrs', ({ crop, attrs, shape }) => {
    const y = d.input(['N', 4, 9, 8], { name: 'x' }).to(d.crop2d({ crop, name: 'trim' }));
    expect(y.shape).toEqual(shape);
    const node = d.model(y).graph.nodes.find((n) => n.name === 'trim');
    expect(node).toMatchObject({ op: 'crop2d', inputs: ['x'], attrs: { crop: attrs } });
  });

  it('builds a graph whose output shape is the shape rule applied to a symbolic input', () => {
    const y = d.input(['N', 4, 'H', 'W']).to(d.crop2d({ crop: [1, 1, 0, 1] }));
    expect(y.shape).toEqual(['N', 4, 'H-2', 'W-1']);
  });

  it('throws the shape rule message where the type-level check would fail', () => {
    const build = () => d.input(['N', 4, 3, 9]).to(d.crop2d({ crop: [2, 1, 0, 0], name: 'trim' } as { crop: [number, number, number, number]; name: string }));
    expect(build).toThrow("crop2d 'trim': input height 3 is too small for the crop 2+1");
  });

  it.each([-1, 1.5, [1, 2, 3], 'all'])('names a bad crop %o', (crop) => {
    expect(() => d.crop2d({ crop } as unknown as d.Crop2dConfig)).toThrow(d.DslError);
    expect(() => d.crop2d({ crop } as unknown as d.Crop2dConfig)).toThrow(/^crop2d: crop/);
  });
});
