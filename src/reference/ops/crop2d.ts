/**
 * Drop rows and columns at the borders of an NCHW tensor, crop = [top, bottom, left, right]:
 *
 *   y[n, c, i, j] = x[n, c, i + top, j + left],   0 <= i < H - top - bottom,  0 <= j < W - left - right
 */
import type { AttrsByOp } from '../../ir/graph.ts';
import { ReferenceRunError } from '../errors.ts';
import { formatShape, type Float64Tensor } from '../tensor.ts';

export function crop2d(x: Float64Tensor, attrs: AttrsByOp['crop2d']): Float64Tensor {
  if (x.shape.length !== 4) throw new ReferenceRunError(`crop2d expects an [N, C, H, W] input, got ${formatShape(x.shape)}`);
  const [n, c, h, w] = x.shape;
  const [top, bottom, left, right] = attrs.crop;
  const [outH, outW] = [h - top - bottom, w - left - right];
  if (outH < 1 || outW < 1) {
    throw new ReferenceRunError(`crop ${formatShape(attrs.crop)} leaves nothing of an input of shape ${formatShape(x.shape)}`);
  }
  const data = new Float64Array(n * c * outH * outW);
  for (let plane = 0; plane < n * c; plane++) {
    for (let i = 0; i < outH; i++) {
      const from = (plane * h + i + top) * w + left;
      data.set(x.data.subarray(from, from + outW), (plane * outH + i) * outW);
    }
  }
  return { shape: [n, c, outH, outW], data };
}
