/**
 * 2-D convolution (cross-correlation, as in every framework), NCHW.
 *
 *   x [N, Cin, H, W], weight [Cout, Cin/G, kH, kW], bias [Cout], G = groups
 *   y[n, co, oh, ow] = bias[co]
 *       + sum_{ci < Cin/G, kh, kw} weight[co, ci, kh, kw]
 *                                  * xpad[n, g*(Cin/G) + ci, oh*sH + kh*dH, ow*sW + kw*dW]
 *   where g = floor(co / (Cout/G)) and xpad is x with zero padding [top, bottom, left, right]
 *   (explicit, 'valid' = none, 'same' = TensorFlow's rule, see ../padding.ts).
 *   outH = floor((H + top + bottom - dH(kH-1) - 1) / sH) + 1, likewise outW.
 * Depthwise convolution is the case G = Cin.
 *
 * Optional tapBias [Cout, kH, kW] adds, per output position, the taps whose input position lies
 * inside the unpadded input:
 *   + sum_{kh, kw} tapBias[co, kh, kw] * [0 <= oh*sH + kh*dH - top < H] * [0 <= ow*sW + kw*dW - left < W]
 * which is conv_W(pad0(v * 1)) when tapBias[co, kh, kw] = sum_ci W[co, ci, kh, kw] * v[ci].
 */
import type { Conv2dAttrs } from '../../ir/graph.ts';
import { paramIf, requireDim, requireDivisible, requireParam, requirePositiveOutput, requireRank } from '../check.ts';
import { resolvePadding2d, windowCount } from '../padding.ts';
import { zeros, type Float64Tensor } from '../tensor.ts';

export interface ConvParams {
  readonly weight?: Float64Tensor;
  readonly bias?: Float64Tensor;
  readonly tapBias?: Float64Tensor;
}

/** The checks every conv-shaped op (conv2d, weightNormConv2d) shares: returns the weight shape. */
export function checkConvArgs(x: Float64Tensor, attrs: Conv2dAttrs): readonly number[] {
  requireRank(x, [4]);
  requireDim(x, 1, attrs.inChannels, 'attrs.inChannels');
  requireDivisible(attrs.inChannels, 'inChannels', attrs.groups, 'groups');
  requireDivisible(attrs.outChannels, 'outChannels', attrs.groups, 'groups');
  return [attrs.outChannels, attrs.inChannels / attrs.groups, attrs.kernel[0], attrs.kernel[1]];
}

/** For each tap along one axis, the output positions [first, end) at which it reads inside the unpadded input. */
function insideRange(kernel: number, dilation: number, before: number, stride: number, size: number, count: number) {
  const first = new Int32Array(kernel);
  const end = new Int32Array(kernel);
  for (let k = 0; k < kernel; k++) {
    first[k] = Math.min(count, Math.max(0, Math.ceil((before - k * dilation) / stride)));
    end[k] = Math.max(first[k], Math.min(count, Math.floor((size - 1 + before - k * dilation) / stride) + 1));
  }
  return { first, end };
}

/**
 * Output maps up to this many positions (the fold probe's patches) are computed per output: the
 * row loop's setup per (co, ci, kh, kw) costs more than its few multiply-adds there.
 */
const SMALL_MAP = 64;

interface ConvGeometry {
  readonly batch: number;
  readonly inChannels: number;
  readonly height: number;
  readonly width: number;
  readonly outChannels: number;
  readonly groups: number;
  readonly outH: number;
  readonly outW: number;
  readonly kH: number;
  readonly kW: number;
  readonly sH: number;
  readonly sW: number;
  readonly dH: number;
  readonly dW: number;
  readonly top: number;
  readonly left: number;
}

/**
 * The taps [lo, hi) along one axis that read inside the unpadded input, for each output
 * position: input position o*stride + k*dilation - before must lie in [0, size).
 */
function tapsInside(count: number, stride: number, dilation: number, before: number, size: number, kernel: number) {
  const lo = new Int32Array(count);
  const hi = new Int32Array(count);
  for (let o = 0; o < count; o++) {
    const start = o * stride - before;
    lo[o] = Math.min(kernel, Math.max(0, Math.ceil(-start / dilation)));
    hi[o] = Math.max(lo[o], Math.min(kernel, Math.floor((size - 1 - start) / dilation) + 1));
  }
  return { lo, hi };
}

/**
 * The same sum, one output at a time: bias, then for each ci the inside taps in (kh, kw) order,
 * then the tap bias's inside taps; the same terms added in the same order as the row loop.
 */
function convPerOutput(
  out: Float64Array,
  xs: Float64Array,
  weight: Float64Array,
  bias: Float64Array | undefined,
  tapBias: Float64Array | undefined,
  g: ConvGeometry,
): void {
  const inPerGroup = g.inChannels / g.groups;
  const outPerGroup = g.outChannels / g.groups;
  const taps = g.kH * g.kW;
  const rows = tapsInside(g.outH, g.sH, g.dH, g.top, g.height, g.kH);
  const cols = tapsInside(g.outW, g.sW, g.dW, g.left, g.width, g.kW);
  const xStrideC = g.height * g.width;
  // The inside taps of one output position: offsets into a channel of x and of the kernel.
  const xOffset = new Int32Array(taps);
  const tapIndex = new Int32Array(taps);
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        let inside = 0;
        for (let kh = rows.lo[oh]; kh < rows.hi[oh]; kh++) {
          for (let kw = cols.lo[ow]; kw < cols.hi[ow]; kw++) {
            xOffset[inside] = (oh * g.sH + kh * g.dH - g.top) * g.width + ow * g.sW + kw * g.dW - g.left;
            tapIndex[inside++] = kh * g.kW + kw;
          }
        }
        for (let co = 0; co < g.outChannels; co++) {
          let acc = bias === undefined ? 0 : bias[co];
          let xBase = (n * g.inChannels + Math.floor(co / outPerGroup) * inPerGroup) * xStrideC;
          let wBase = co * inPerGroup * taps;
          for (let ci = 0; ci < inPerGroup; ci++, xBase += xStrideC, wBase += taps) {
            for (let t = 0; t < inside; t++) acc += weight[wBase + tapIndex[t]] * xs[xBase + xOffset[t]];
          }
          if (tapBias !== undefined) for (let t = 0; t < inside; t++) acc += tapBias[co * taps + tapIndex[t]];
          out[((n * g.outChannels + co) * g.outH + oh) * g.outW + ow] = acc;
        }
      }
    }
  }
}

export function conv2d(x: Float64Tensor, params: ConvParams, attrs: Conv2dAttrs): Float64Tensor {
  const weightShape = checkConvArgs(x, attrs);
  const weight = requireParam(params.weight, 'weight', weightShape).data;
  const bias = paramIf(attrs.bias, 'bias', params.bias, 'bias', [attrs.outChannels])?.data;
  const tapBias =
    params.tapBias === undefined ? undefined : requireParam(params.tapBias, 'tapBias', [attrs.outChannels, ...attrs.kernel]).data;

  const [batch, inChannels, height, width] = x.shape;
  const { outChannels, groups, kernel: [kH, kW], stride: [sH, sW], dilation: [dH, dW] } = attrs;
  const [top, bottom, left, right] = resolvePadding2d(attrs.padding, height, width, attrs.kernel, attrs.stride, attrs.dilation);
  const outH = windowCount(height, top + bottom, kH, sH, dH);
  const outW = windowCount(width, left + right, kW, sW, dW);
  requirePositiveOutput(outH, outW, `the dilated ${kH}x${kW} kernel does not fit the padded ${height}x${width} input`);

  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  const y = zeros([batch, outChannels, outH, outW]);
  const out = y.data;
  const xs = x.data;
  const xStrideC = height * width;
  const xStrideN = inChannels * xStrideC;
  const wStrideCo = inPerGroup * kH * kW;

  if (outH * outW <= SMALL_MAP) {
    convPerOutput(out, xs, weight, bias, tapBias, { batch, inChannels, height, width, outChannels, groups, outH, outW, kH, kW, sH, sW, dH, dW, top, left });
    return y;
  }

  const rows = insideRange(kH, dH, top, sH, height, outH);
  const cols = insideRange(kW, dW, left, sW, width, outW);

  // Each output accumulates bias, then every (ci, kh, kw) term in that order, as the sum above
  // is written; only the taps that read padding are skipped, by looping over the rows and
  // columns where each tap reads inside the input.
  for (let n = 0; n < batch; n++) {
    for (let co = 0; co < outChannels; co++) {
      const firstIn = Math.floor(co / outPerGroup) * inPerGroup;
      const outBase = (n * outChannels + co) * outH * outW;
      out.fill(bias === undefined ? 0 : bias[co], outBase, outBase + outH * outW);
      for (let ci = 0; ci < inPerGroup; ci++) {
        const xBase = n * xStrideN + (firstIn + ci) * xStrideC;
        const wBase = co * wStrideCo + ci * kH * kW;
        for (let kh = 0; kh < kH; kh++) {
          const rowFirst = rows.first[kh];
          const rowEnd = rows.end[kh];
          for (let kw = 0; kw < kW; kw++) {
            const colFirst = cols.first[kw];
            const colEnd = cols.end[kw];
            const w = weight[wBase + kh * kW + kw];
            for (let oh = rowFirst; oh < rowEnd; oh++) {
              const xRow = xBase + (oh * sH + kh * dH - top) * width + kw * dW - left;
              const outRow = outBase + oh * outW;
              for (let ow = colFirst; ow < colEnd; ow++) out[outRow + ow] += w * xs[xRow + ow * sW];
            }
          }
        }
      }
      if (tapBias !== undefined) {
        const tBase = co * kH * kW;
        for (let kh = 0; kh < kH; kh++) {
          const rowFirst = rows.first[kh];
          const rowEnd = rows.end[kh];
          for (let kw = 0; kw < kW; kw++) {
            const colFirst = cols.first[kw];
            const colEnd = cols.end[kw];
            const t = tapBias[tBase + kh * kW + kw];
            for (let oh = rowFirst; oh < rowEnd; oh++) {
              const outRow = outBase + oh * outW;
              for (let ow = colFirst; ow < colEnd; ow++) out[outRow + ow] += t;
            }
          }
        }
      }
    }
  }
  return y;
}
