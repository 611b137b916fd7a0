/**
 * transpose, reshape and repeatVector below the IO layer: shape rules and attrs, the reference by
 * hand, and the tfjs executor (channels-last inside) against the reference, gradients included.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type BackendName } from '../../src/backend/select.ts';
import { checkAttrs } from '../../src/ir/attrs.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { GraphError, ShapeError } from '../../src/ir/errors.ts';
import type { AttrsByOp, Graph, Node, Shape } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { inferNodeShape } from '../../src/ir/shapes.ts';
import { repeatVector } from '../../src/reference/ops/repeatVector.ts';
import { transpose } from '../../src/reference/ops/transpose.ts';
import { expectExecutorMatchesReference, expectTrainsEveryParam, randomTensor, randomizeParams } from './backend-helpers.ts';

const infer = (op: 'transpose' | 'reshape' | 'repeatVector', attrs: object, input: Shape): Shape =>
  inferNodeShape({ name: 'r', op, inputs: ['x'], attrs, params: {} } as Node, [input]);

describe('shape rules and attrs', () => {
  it('permute, reshape and repeat', () => {
    expect(infer('transpose', { perm: [0, 3, 1, 2] }, ['N', 4, 'H', 5])).toEqual(['N', 5, 4, 'H']);
    expect(infer('reshape', { shape: [6, 10] }, ['N', 3, 4, 5])).toEqual(['N', 6, 10]);
    expect(infer('repeatVector', { times: 3 }, ['N', 8])).toEqual(['N', 8, 3]);
  });

  it('name what does not fit', () => {
    expect(() => infer('reshape', { shape: [7, 7] }, ['N', 3, 4, 4])).toThrow(ShapeError);
    expect(() => infer('reshape', { shape: [7, 7] }, ['N', 3, 4, 4])).toThrow("reshape 'r': cannot reshape 48 values per sample into [7, 7] (49)");
    expect(() => infer('reshape', { shape: [12] }, ['N', 3, 'H'])).toThrow("reshape 'r': cannot reshape 3*H values per sample into [12] (12)");
    expect(() => infer('transpose', { perm: [0, 2, 1] }, ['N', 3, 4, 5])).toThrow("transpose 'r': perm [0, 2, 1] has 3 axes but the input has rank 4");
    expect(() => infer('repeatVector', { times: 2 }, ['N', 3, 4])).toThrow("repeatVector 'r': expects a rank-2 input [N, C], got rank 3");
  });

  it.each([
    ['transpose', { perm: [1, 0, 2] }, 'perm must be a permutation [0, ...] of the axes that keeps the batch axis 0 first, got [1, 0, 2]'],
    ['transpose', { perm: [0, 1, 1] }, 'perm must be a permutation [0, ...] of the axes that keeps the batch axis 0 first, got [0, 1, 1]'],
    ['reshape', { shape: [4, -1] }, 'shape must be a non-empty list of positive integers, got [4, -1]'],
  ] as const)('rejects %s attrs %o', (op, attrs, message) => {
    const check = () => checkAttrs({ name: 'r', op, attrs: attrs as unknown as AttrsByOp['transpose'] });
    expect(check).toThrow(GraphError);
    expect(check).toThrow(`${op} 'r': attrs.${message}`);
  });
});

describe('reference', () => {
  it('transpose moves axis perm[k] of x to axis k', () => {
    // x[0, c, l] = 10c + l on [1, 2, 3]
    const x = { shape: [1, 2, 3], data: Float64Array.from([0, 1, 2, 10, 11, 12]) };
    const y = transpose(x, { perm: [0, 2, 1] });
    expect(y.shape).toEqual([1, 3, 2]);
    expect(Array.from(y.data)).toEqual([0, 10, 1, 11, 2, 12]);
  });

  it('repeatVector repeats each feature along the new last axis', () => {
    const y = repeatVector({ shape: [1, 2], data: Float64Array.from([4, 7]) }, { times: 3 });
    expect(Array.from(y.data)).toEqual([4, 4, 4, 7, 7, 7]);
  });
});

/** x [2, 3, 4, 5] -> conv 1x1 -> transpose -> reshape to a sequence -> linear -> flatten -> linear -> repeatVector. */
function chain(): Graph {
  const b = new GraphBuilder({ seed: 3 });
  const x = b.addInput([2, 3, 4, 5], 'x');
  let y = b.addNode({ op: 'conv2d', name: 'c', inputs: [x], attrs: { inChannels: 3, outChannels: 4, kernel: [1, 1], stride: [1, 1], padding: 'valid', dilation: [1, 1], groups: 1, bias: true } });
  y = b.addNode({ op: 'transpose', name: 't', inputs: [y], attrs: { perm: [0, 3, 1, 2] } });
  y = b.addNode({ op: 'reshape', name: 'r', inputs: [y], attrs: { shape: [10, 8] } });
  y = b.addNode({ op: 'linear', name: 'fc', inputs: [y], attrs: { inFeatures: 10, outFeatures: 3, bias: true } });
  const seq = b.addNode({ op: 'transpose', name: 't2', inputs: [y], attrs: { perm: [0, 2, 1] } });
  y = b.addNode({ op: 'flatten', name: 'f', inputs: [seq], attrs: {} });
  y = b.addNode({ op: 'linear', name: 'fc2', inputs: [y], attrs: { inFeatures: 24, outFeatures: 2, bias: false } });
  b.addNode({ op: 'repeatVector', name: 'rep', inputs: [y], attrs: { times: 3 } });
  return randomizeParams(b.build(['rep', 't2']), 2);
}

for (const backend of ['wasm', 'cpu'] as BackendName[]) {
  describe(`executor on ${backend}`, () => {
    beforeAll(async () => {
      await selectBackend({ backend });
    });

    it('matches the reference through transposes, reshapes and repeats, leaking nothing', () => {
      expectExecutorMatchesReference(chain(), randomTensor([2, 3, 4, 5], createRng(1)), ['rep', 't2']);
    });

    it('passes gradients back to every parameter', () => {
      expectTrainsEveryParam(chain(), randomTensor([2, 3, 4, 5], createRng(2)), 'rep', 5);
    });
  });
}
