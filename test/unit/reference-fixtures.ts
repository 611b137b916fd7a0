/**
 * Helpers for the reference interpreter's tests: a seeded random source (so failures reproduce),
 * tensor builders, closeness checks, and one-node graphs.
 */
import { expect } from 'vitest';
import type { AttrsByOp, Graph, Node, OpKind, ParamTensor, Shape } from '../../src/ir/graph.ts';
import { sizeOf, tensor, type Float64Tensor } from '../../src/reference/tensor.ts';

/** mulberry32: a tiny deterministic PRNG with values in [0, 1). */
export function makeRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [low, high). */
export function randomTensor(shape: readonly number[], rng: () => number, low = -1, high = 1): Float64Tensor {
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * rng();
  return { shape: [...shape], data };
}

export const t64 = tensor;

export function p32(shape: readonly number[], values: ArrayLike<number>): ParamTensor {
  return { shape: [...shape], data: Float32Array.from(values) };
}

/** Row-major value at a multi-index. */
export function at(x: Float64Tensor, ...index: number[]): number {
  let offset = 0;
  for (let axis = 0; axis < x.shape.length; axis++) offset = offset * x.shape[axis] + index[axis];
  return x.data[offset];
}

export function expectClose(actual: Float64Tensor, expected: Float64Tensor, tolerance = 1e-12): void {
  expect(actual.shape).toEqual(expected.shape);
  const worst = maxAbsDiff(actual.data, expected.data);
  expect(worst, `max |actual - expected| = ${worst}`).toBeLessThanOrEqual(tolerance);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

export function inputNode(name: string, shape: Shape): Node {
  return { name, op: 'input', inputs: [], attrs: { shape }, params: {} };
}

/** input 'x' of `inputShape` -> one node 'y' of `op` -> output 'y'. */
export function singleOpGraph<K extends OpKind>(
  op: K,
  attrs: AttrsByOp[K],
  params: Partial<Record<string, ParamTensor>>,
  inputShape: Shape,
): Graph {
  const node = { name: 'y', op, inputs: ['x'], attrs, params } as unknown as Node;
  return { nodes: [inputNode('x', inputShape), node], inputs: ['x'], outputs: ['y'] };
}
