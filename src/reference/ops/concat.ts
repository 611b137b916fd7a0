/**
 * Concatenation along the channel axis (axis 1) of tensors that agree on every other dim:
 *
 *   [N, C_1, ...] ++ ... ++ [N, C_k, ...] -> [N, C_1 + ... + C_k, ...]
 *   y[n, (C_1 + ... + C_{j-1}) + c, ...] = x_j[n, c, ...]
 */
import { ReferenceRunError } from '../errors.ts';
import { channelView, formatShape, zeros, type Float64Tensor } from '../tensor.ts';

export function concat(xs: readonly Float64Tensor[]): Float64Tensor {
  if (xs.length < 1) throw new ReferenceRunError('concat needs at least 1 input');
  const [first] = xs;
  if (first.shape.length < 2) {
    throw new ReferenceRunError(`input 0 has shape ${formatShape(first.shape)}; concat on axis 1 needs rank >= 2`);
  }
  xs.forEach((x, i) => {
    const agrees = x.shape.length === first.shape.length && x.shape.every((d, axis) => axis === 1 || d === first.shape[axis]);
    if (!agrees) {
      throw new ReferenceRunError(
        `input ${i} has shape ${formatShape(x.shape)}, which differs from input 0 ${formatShape(first.shape)} ` +
          'in a dim other than 1 (channels)',
      );
    }
  });
  const totalChannels = xs.reduce((sum, x) => sum + x.shape[1], 0);
  const outShape = [first.shape[0], totalChannels, ...first.shape.slice(2)];
  const y = zeros(outShape);
  const { n: batch, s: spatial } = channelView(first.shape);
  let channelOffset = 0;
  for (const x of xs) {
    const channels = x.shape[1];
    for (let n = 0; n < batch; n++) {
      const block = x.data.subarray(n * channels * spatial, (n + 1) * channels * spatial);
      y.data.set(block, (n * totalChannels + channelOffset) * spatial);
    }
    channelOffset += channels;
  }
  return y;
}
