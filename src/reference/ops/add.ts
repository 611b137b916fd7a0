/**
 * Elementwise sum of two or more tensors of one shape (residual merge); no broadcasting.
 *
 *   y = x_1 + x_2 + ... + x_k
 */
import { ReferenceRunError } from '../errors.ts';
import { formatShape, sameShape, zeros, type Float64Tensor } from '../tensor.ts';

export function add(xs: readonly Float64Tensor[]): Float64Tensor {
  if (xs.length < 2) throw new ReferenceRunError(`add needs at least 2 inputs, got ${xs.length}`);
  const [first] = xs;
  xs.forEach((x, i) => {
    if (!sameShape(x.shape, first.shape)) {
      throw new ReferenceRunError(
        `input ${i} has shape ${formatShape(x.shape)}, but input 0 has ${formatShape(first.shape)}`,
      );
    }
  });
  const y = zeros(first.shape);
  for (const x of xs) {
    for (let i = 0; i < y.data.length; i++) y.data[i] += x.data[i];
  }
  return y;
}
