/**
 * Pooling on [N, C, H, W], per sample and channel.
 *
 * maxPool2d / avgPool2d, window (kH, kW), stride (sH, sW), padding [top, bottom, left, right]
 * (explicit, 'valid' = none, 'same' = TensorFlow's rule with dilation 1, see ../padding.ts):
 *   outH = floor((H + top + bottom - kH) / sH) + 1, likewise outW
 *   window(oh, ow) = rows oh*sH - top .. + kH - 1, columns ow*sW - left .. + kW - 1
 *   max: y = max of the window's real elements (padding never wins, as if it were -infinity)
 *   avg: y = (sum of the window's real elements) / divisor, padding contributing 0;
 *        divisor = kH*kW if countIncludePad, else the number of real elements (tfjs' 'same')
 * A window made of padding alone has no value under either rule and is an error.
 *
 * globalAvgPool: y[n, c] = mean over (h, w) of x[n, c, h, w]; [N, C] or, keepDims, [N, C, 1, 1].
 * globalMaxPool: y[n, c] = max over (h, w) of x[n, c, h, w]; likewise.
 */
import type { AttrsByOp, PoolAttrs } from '../../ir/graph.ts';
import { requirePositiveOutput, requireRank } from '../check.ts';
import { ReferenceRunError } from '../errors.ts';
import { resolvePadding2d, windowCount } from '../padding.ts';
import { zeros, type Float64Tensor } from '../tensor.ts';

interface WindowSummary {
  readonly max: number;
  readonly sum: number;
  readonly realCount: number;
}

function pool2d(
  x: Float64Tensor,
  attrs: PoolAttrs,
  reduce: (window: WindowSummary, kernelArea: number) => number,
): Float64Tensor {
  requireRank(x, [4]);
  const [batch, channels, height, width] = x.shape;
  const { kernel: [kH, kW], stride: [sH, sW] } = attrs;
  const [top, bottom, left, right] = resolvePadding2d(attrs.padding, height, width, attrs.kernel, attrs.stride, [1, 1]);
  const outH = windowCount(height, top + bottom, kH, sH, 1);
  const outW = windowCount(width, left + right, kW, sW, 1);
  requirePositiveOutput(outH, outW, `the ${kH}x${kW} window does not fit the padded ${height}x${width} input`);

  const y = zeros([batch, channels, outH, outW]);
  for (let plane = 0; plane < batch * channels; plane++) {
    const xBase = plane * height * width;
    const yBase = plane * outH * outW;
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        let max = -Infinity;
        let sum = 0;
        let realCount = 0;
        for (let kh = 0; kh < kH; kh++) {
          const ih = oh * sH + kh - top;
          if (ih < 0 || ih >= height) continue;
          for (let kw = 0; kw < kW; kw++) {
            const iw = ow * sW + kw - left;
            if (iw < 0 || iw >= width) continue;
            const value = x.data[xBase + ih * width + iw];
            max = Math.max(max, value);
            sum += value;
            realCount++;
          }
        }
        if (realCount === 0) {
          throw new ReferenceRunError(
            `pooling window at output (${oh}, ${ow}) covers only padding (padding ${top}/${bottom}/${left}/${right}, ` +
              `kernel ${kH}x${kW})`,
          );
        }
        y.data[yBase + oh * outW + ow] = reduce({ max, sum, realCount }, kH * kW);
      }
    }
  }
  return y;
}

export function maxPool2d(x: Float64Tensor, attrs: PoolAttrs): Float64Tensor {
  return pool2d(x, attrs, (window) => window.max);
}

export function avgPool2d(x: Float64Tensor, attrs: AttrsByOp['avgPool2d']): Float64Tensor {
  return pool2d(x, attrs, (window, kernelArea) => window.sum / (attrs.countIncludePad ? kernelArea : window.realCount));
}

function globalPool(x: Float64Tensor, keepDims: boolean, reduce: (plane: Float64Array) => number): Float64Tensor {
  requireRank(x, [4]);
  const [batch, channels, height, width] = x.shape;
  const y = zeros(keepDims ? [batch, channels, 1, 1] : [batch, channels]);
  const area = height * width;
  for (let plane = 0; plane < batch * channels; plane++) y.data[plane] = reduce(x.data.subarray(plane * area, (plane + 1) * area));
  return y;
}

export function globalAvgPool(x: Float64Tensor, attrs: AttrsByOp['globalAvgPool']): Float64Tensor {
  return globalPool(x, attrs.keepDims, (plane) => plane.reduce((sum, v) => sum + v, 0) / plane.length);
}

export function globalMaxPool(x: Float64Tensor, attrs: AttrsByOp['globalMaxPool']): Float64Tensor {
  return globalPool(x, attrs.keepDims, (plane) => plane.reduce((max, v) => Math.max(max, v), -Infinity));
}
