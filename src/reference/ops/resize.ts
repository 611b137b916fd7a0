/**
 * Resampling of [N, C, H, W] to [N, C, outH, outW], per sample and channel, as TensorFlow's
 * legacy resize (half_pixel_centers false), which tfjs and Keras use. Along each axis, output
 * index r reads the source coordinate
 *
 *   src(r) = r * ratio,   ratio = (in - 1) / (out - 1)  with alignCorners and out > 1,
 *                         ratio = in / out              otherwise,
 *
 * computed here as the exact rational r * num / den (an integer quotient is exact in float64).
 *   nearest:   row min(in - 1, alignCorners ? round(src) : floor(src))   (round: halves up)
 *   bilinear:  top = floor(src), bottom = min(top + 1, in - 1), f = src - top,
 *              y = x[top] + (x[bottom] - x[top]) * f, first along W, then along H.
 *
 * upsample2d (Keras UpSampling2D) is the resize to [H*sH, W*sW] without alignCorners: nearest
 * repeats every pixel sH x sW times; bilinear interpolates and repeats the last row/column.
 */
import type { AttrsByOp, Interpolation } from '../../ir/graph.ts';
import { requireRank } from '../check.ts';
import { zeros, type Float64Tensor } from '../tensor.ts';

/** Where each output index of one axis reads: the two source indices and the weight of the second. */
export interface AxisTaps {
  readonly low: Int32Array;
  readonly high: Int32Array;
  readonly frac: Float64Array;
}

export function axisTaps(inSize: number, outSize: number, interpolation: Interpolation, alignCorners: boolean): AxisTaps {
  const [num, den] = alignCorners && outSize > 1 ? [inSize - 1, outSize - 1] : [inSize, outSize];
  const low = new Int32Array(outSize);
  const high = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  for (let r = 0; r < outSize; r++) {
    const src = (r * num) / den;
    if (interpolation === 'nearest') {
      const nearest = Math.min(inSize - 1, alignCorners ? Math.round(src) : Math.floor(src));
      low[r] = nearest;
      high[r] = nearest;
    } else {
      const top = Math.floor(src);
      low[r] = top;
      high[r] = Math.min(top + 1, inSize - 1);
      frac[r] = src - top;
    }
  }
  return { low, high, frac };
}

function resample(x: Float64Tensor, outH: number, outW: number, interpolation: Interpolation, alignCorners: boolean): Float64Tensor {
  requireRank(x, [4]);
  const [batch, channels, height, width] = x.shape;
  const rows = axisTaps(height, outH, interpolation, alignCorners);
  const cols = axisTaps(width, outW, interpolation, alignCorners);
  const y = zeros([batch, channels, outH, outW]);
  for (let plane = 0; plane < batch * channels; plane++) {
    const at = (r: number, c: number) => x.data[(plane * height + r) * width + c];
    for (let i = 0; i < outH; i++) {
      const lerpRow = (r: number, j: number) => {
        const left = at(r, cols.low[j]);
        return left + (at(r, cols.high[j]) - left) * cols.frac[j];
      };
      for (let j = 0; j < outW; j++) {
        const top = lerpRow(rows.low[i], j);
        y.data[(plane * outH + i) * outW + j] = top + (lerpRow(rows.high[i], j) - top) * rows.frac[i];
      }
    }
  }
  return y;
}

export function upsample2d(x: Float64Tensor, attrs: AttrsByOp['upsample2d']): Float64Tensor {
  requireRank(x, [4]);
  return resample(x, x.shape[2] * attrs.scale[0], x.shape[3] * attrs.scale[1], attrs.interpolation, false);
}

export function resize2d(x: Float64Tensor, attrs: AttrsByOp['resize2d']): Float64Tensor {
  return resample(x, attrs.size[0], attrs.size[1], attrs.interpolation, attrs.alignCorners);
}
