/**
 * Keras' elementwise merges with broadcasting (the IR's `merge`), NCHW:
 *
 *   add       y = x_1 + ... + x_k          multiply  y = x_1 * ... * x_k
 *   subtract  y = x_1 - x_2                average   y = (x_1 + ... + x_k) / k
 *   maximum   y = max(x_1, ..., x_k)       minimum   y = min(x_1, ..., x_k)
 *
 * Inputs of lower rank get size-1 axes after the channel axis (Keras inserts them after the
 * batch axis of its channels-last tensors, which is the same thing); then every size-1 dim
 * stretches to the common size.
 */
import { padForBroadcast } from '../../ir/axes.ts';
import type { MergeFn } from '../../ir/graph.ts';
import { ReferenceRunError } from '../errors.ts';
import { formatShape, sizeOf, zeros, type Float64Tensor } from '../tensor.ts';

const COMBINE: { readonly [F in MergeFn]: (a: number, b: number) => number } = {
  add: (a, b) => a + b,
  subtract: (a, b) => a - b,
  multiply: (a, b) => a * b,
  average: (a, b) => a + b,
  maximum: (a, b) => Math.max(a, b),
  minimum: (a, b) => Math.min(a, b),
};

export function merge(xs: readonly Float64Tensor[], fn: MergeFn): Float64Tensor {
  if (xs.length < 2) throw new ReferenceRunError(`${fn} needs at least 2 inputs, got ${xs.length}`);
  if (fn === 'subtract' && xs.length !== 2) throw new ReferenceRunError(`subtract takes exactly 2 inputs, got ${xs.length}`);
  const rank = Math.max(...xs.map((x) => x.shape.length));
  const shapes = xs.map((x) => padForBroadcast(x.shape, rank, 1));
  const out = shapes[0].map((_, i) => Math.max(...shapes.map((s) => s[i])));
  shapes.forEach((s, j) => {
    const bad = s.findIndex((d, i) => d !== out[i] && (d !== 1 || i === 0));
    if (bad >= 0) throw new ReferenceRunError(`input ${j} of shape ${formatShape(xs[j].shape)} does not broadcast to ${formatShape(out)} at dim ${bad}`);
  });
  const y = zeros(out);
  const index = new Array<number>(rank).fill(0);
  const strides = shapes.map((s) => {
    const st = new Array<number>(rank).fill(0);
    let step = 1;
    for (let k = rank - 1; k >= 0; k--) {
      st[k] = s[k] === 1 ? 0 : step;
      step *= s[k];
    }
    return st;
  });
  const combine = COMBINE[fn];
  for (let i = 0; i < sizeOf(out); i++) {
    let acc = Number.NaN;
    xs.forEach((x, j) => {
      let at = 0;
      for (let k = 0; k < rank; k++) at += index[k] * strides[j][k];
      acc = j === 0 ? x.data[at] : combine(acc, x.data[at]);
    });
    y.data[i] = fn === 'average' ? acc / xs.length : acc;
    for (let k = rank - 1; k >= 0; k--) {
      if (++index[k] < out[k]) break;
      index[k] = 0;
    }
  }
  return y;
}
