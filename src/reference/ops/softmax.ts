/**
 * Softmax and log-softmax along one axis, max-shifted so exp never overflows:
 *
 *   softmax(x)_i    = exp(x_i - m) / sum_j exp(x_j - m)         m = max_j x_j
 *   logSoftmax(x)_i = x_i - m - log(sum_j exp(x_j - m))
 */
import { ReferenceRunError } from '../errors.ts';
import { formatShape, sizeOf, zeros, type Float64Tensor } from '../tensor.ts';

function alongAxis(x: Float64Tensor, axis: number, log: boolean): Float64Tensor {
  if (axis < 0 || axis >= x.shape.length) throw new ReferenceRunError(`axis ${axis} is outside an input of shape ${formatShape(x.shape)}`);
  const outer = sizeOf(x.shape.slice(0, axis));
  const size = x.shape[axis];
  const inner = sizeOf(x.shape.slice(axis + 1));
  const y = zeros(x.shape);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (o * size + k) * inner + i;
      let max = -Infinity;
      for (let k = 0; k < size; k++) max = Math.max(max, x.data[at(k)]);
      let sum = 0;
      for (let k = 0; k < size; k++) sum += Math.exp(x.data[at(k)] - max);
      for (let k = 0; k < size; k++) {
        const shifted = x.data[at(k)] - max;
        y.data[at(k)] = log ? shifted - Math.log(sum) : Math.exp(shifted) / sum;
      }
    }
  }
  return y;
}

export const softmax = (x: Float64Tensor, axis: number): Float64Tensor => alongAxis(x, axis, false);
export const logSoftmax = (x: Float64Tensor, axis: number): Float64Tensor => alongAxis(x, axis, true);
