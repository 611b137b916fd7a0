import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { GraphError, ShapeError } from '../../src/ir/errors.ts';
import type { Graph, Shape } from '../../src/ir/graph.ts';
import { bindInputShapes, inferShapes } from '../../src/ir/shapes.ts';
import { evalDim } from '../../src/shape/dim.ts';

/** image [N, 3, H, W] and mask [N, 1, H, W] -> concat -> stride-2 conv -> flatten. */
function twoInputs(): Graph {
  const g = new GraphBuilder();
  g.addInput(['N', 3, 'H', 'W'], 'image');
  g.addInput(['N', 1, 'H', 'W'], 'mask');
  g.addNode({ op: 'concat', name: 'cat', inputs: ['image', 'mask'], attrs: {} });
  g.addNode({
    op: 'conv2d',
    name: 'down',
    inputs: ['cat'],
    attrs: { inChannels: 4, outChannels: 2, kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1, bias: false },
  });
  g.addNode({ op: 'flatten', name: 'flat', inputs: ['down'], attrs: {} });
  return g.build(['flat']);
}

function squareInput(): Graph {
  const g = new GraphBuilder();
  g.addInput(['N', 3, 'H', 'H'], 'image');
  return g.build(['image']);
}

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('bindInputShapes', () => {
  it('returns the value of every symbol', () => {
    expect(bindInputShapes(twoInputs(), { image: [2, 3, 32, 31], mask: [2, 1, 32, 31] })).toEqual({ N: 2, H: 32, W: 31 });
  });

  it('names the input, dim index and label of a literal mismatch', () => {
    const e = errorOf(() => bindInputShapes(twoInputs(), { image: [2, 4, 32, 32], mask: [2, 1, 32, 32] }));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toBe("input 'image': dim 1 (C) is 4, the model expects 3");
    expect((e as ShapeError).dim).toBe(1);
    expect((e as ShapeError).node).toBe('image');
  });

  it('rejects a symbol with two values in one input', () => {
    expect(() => bindInputShapes(squareInput(), { image: [1, 3, 32, 31] })).toThrow(
      "input 'image': symbol H is 32 in dim 2 but 31 in dim 3",
    );
  });

  it('rejects a symbol with two values across inputs', () => {
    expect(() => bindInputShapes(twoInputs(), { image: [2, 3, 32, 32], mask: [2, 1, 16, 32] })).toThrow(
      "input 'mask': symbol H is 32 in input 'image' dim 2 but 16 in dim 2",
    );
    expect(() => bindInputShapes(twoInputs(), { image: [2, 3, 32, 32], mask: [3, 1, 32, 32] })).toThrow(
      "input 'mask': symbol N is 2 in input 'image' dim 0 but 3 in dim 0",
    );
  });

  it('rejects a wrong rank and non-positive sizes', () => {
    expect(() => bindInputShapes(squareInput(), { image: [3, 32, 32] })).toThrow(
      "input 'image': expects a rank-4 input [N, C, H, W], got rank 3",
    );
    expect(() => bindInputShapes(squareInput(), { image: [0, 3, 32, 32] })).toThrow(
      "input 'image': dim 0 (N) must be a positive integer, got 0",
    );
    expect(() => bindInputShapes(squareInput(), { image: [1, 3, 2.5, 32] })).toThrow(
      "input 'image': dim 2 (H) must be a positive integer, got 2.5",
    );
  });

  it('rejects missing and unknown inputs', () => {
    const missing = errorOf(() => bindInputShapes(twoInputs(), { image: [2, 3, 8, 8] }));
    expect(missing).toBeInstanceOf(GraphError);
    expect(missing.message).toBe("no value given for input 'mask'");
    expect(() => bindInputShapes(twoInputs(), { image: [2, 3, 8, 8], mask: [2, 1, 8, 8], depth: [2, 1, 8, 8] })).toThrow(
      "'depth' is not an input of the graph (its inputs: image, mask)",
    );
  });
});

describe('inferShapes', () => {
  it('infers symbolic shapes from the declared inputs', () => {
    const shapes = inferShapes(twoInputs());
    expect(shapes.get('cat')).toEqual(['N', 4, 'H', 'W']);
    expect(shapes.get('flat')).toEqual(['N', '2*floor((H+1)/2)*floor((W+1)/2)']);
  });

  it('with concrete inputs, agrees with the symbolic shapes evaluated', () => {
    const graph = twoInputs();
    const symbolic = inferShapes(graph);
    for (const [h, w] of [
      [1, 1],
      [7, 8],
      [32, 31],
    ]) {
      const concrete = { image: [2, 3, h, w], mask: [2, 1, h, w] };
      const env = bindInputShapes(graph, concrete);
      const literal = inferShapes(graph, concrete);
      for (const [name, shape] of symbolic) {
        expect(literal.get(name)).toEqual(shape.map((d) => evalDim(d, env)));
      }
    }
  });

  it('rejects overrides for non-inputs and bad dims', () => {
    expect(() => inferShapes(twoInputs(), { cat: [1, 4, 2, 2] })).toThrow("a shape was given for 'cat', which is not an input node");
    expect(() => inferShapes(twoInputs(), { image: [1, 3, -2, 2] as Shape })).toThrow(
      "input 'image': dim 2 (H) must be a positive integer or a symbol name (an identifier other than 'floor'), got -2",
    );
  });

  it('reports a layer that a concrete input does not fit', () => {
    expect(() => inferShapes(twoInputs(), { image: [1, 3, 4, 4], mask: [1, 1, 4, 5] })).toThrow(
      "concat 'cat': inputs differ at dim 3 (W): 4 vs 5",
    );
  });
});
