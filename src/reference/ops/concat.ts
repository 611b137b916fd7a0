/**
 * Concatenation along one axis (the channel axis 1 for `concat`, any axis >= 1 for `concatAxis`)
 * of tensors that agree on every other dim:
 *
 *   [..., A_1, ...] ++ ... ++ [..., A_k, ...] -> [..., A_1 + ... + A_k, ...]
 *   y[o, (A_1 + ... + A_{j-1}) + a, i] = x_j[o, a, i]   (o: the axes before, i: the axes after)
 */
import { ReferenceRunError } from '../errors.ts';
import { formatShape, sizeOf, zeros, type Float64Tensor } from '../tensor.ts';

export function concatAlong(xs: readonly Float64Tensor[], axis: number): Float64Tensor {
  if (xs.length < 1) throw new ReferenceRunError('concat needs at least 1 input');
  const [first] = xs;
  if (first.shape.length <= axis) {
    throw new ReferenceRunError(`input 0 has shape ${formatShape(first.shape)}; concat on axis ${axis} needs rank >= ${axis + 1}`);
  }
  xs.forEach((x, i) => {
    const agrees = x.shape.length === first.shape.length && x.shape.every((d, k) => k === axis || d === first.shape[k]);
    if (!agrees) {
      throw new ReferenceRunError(
        `input ${i} has shape ${formatShape(x.shape)}, which differs from input 0 ${formatShape(first.shape)} ` +
          `in a dim other than ${axis}${axis === 1 ? ' (channels)' : ''}`,
      );
    }
  });
  const total = xs.reduce((sum, x) => sum + x.shape[axis], 0);
  const y = zeros(first.shape.map((d, k) => (k === axis ? total : d)));
  const outer = sizeOf(first.shape.slice(0, axis));
  const inner = sizeOf(first.shape.slice(axis + 1));
  let offset = 0;
  for (const x of xs) {
    const size = x.shape[axis];
    for (let o = 0; o < outer; o++) {
      const block = x.data.subarray(o * size * inner, (o + 1) * size * inner);
      y.data.set(block, (o * total + offset) * inner);
    }
    offset += size;
  }
  return y;
}

export const concat = (xs: readonly Float64Tensor[]): Float64Tensor => concatAlong(xs, 1);
