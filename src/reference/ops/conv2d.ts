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
 * The same sum for small maps (the fold probe's patches), as dot products: each output position's
 * receptive field in a group is gathered into a column [ci][kh][kw] with zeros at the taps that
 * read padding, and each filter, read once, is dotted with every column while it is in cache.
 * The terms are the row loop's, in its order, plus exact zeros (w * 0) where a tap reads padding,
 * which leave every sum unchanged (but for the sign of an exact zero). Gathering each position's
 * inside taps through index tables and reading the filters again for each position made the
 * probe's local checks on a ResNet-50 take seconds.
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
  const span = inPerGroup * taps;
  const positions = g.outH * g.outW;
  const rows = tapsInside(g.outH, g.sH, g.dH, g.top, g.height, g.kH);
  const cols = tapsInside(g.outW, g.sW, g.dW, g.left, g.width, g.kW);
  const xStrideC = g.height * g.width;
  const columns = new Float64Array(positions * span);
  for (let n = 0; n < g.batch; n++) {
    for (let group = 0; group < g.groups; group++) {
      const xFirst = (n * g.inChannels + group * inPerGroup) * xStrideC;
      columns.fill(0);
      for (let oh = 0; oh < g.outH; oh++) {
        for (let ow = 0; ow < g.outW; ow++) {
          const column = (oh * g.outW + ow) * span;
          for (let kh = rows.lo[oh]; kh < rows.hi[oh]; kh++) {
            for (let kw = cols.lo[ow]; kw < cols.hi[ow]; kw++) {
              const xAt = xFirst + (oh * g.sH + kh * g.dH - g.top) * g.width + ow * g.sW + kw * g.dW - g.left;
              const tap = kh * g.kW + kw;
              for (let ci = 0; ci < inPerGroup; ci++) columns[column + ci * taps + tap] = xs[xAt + ci * xStrideC];
            }
          }
        }
      }
      // Four filters at a time: four independent sums, each still added in its own order, instead
      // of one chain of dependent additions, which was the loop's speed limit.
      const groupEnd = (group + 1) * outPerGroup;
      let co = group * outPerGroup;
      for (; co + 4 <= groupEnd; co += 4) {
        const f0 = co * span;
        const [f1, f2, f3] = [f0 + span, f0 + 2 * span, f0 + 3 * span];
        const outBase = (n * g.outChannels + co) * positions;
        for (let p = 0; p < positions; p++) {
          const column = p * span;
          let a0 = bias === undefined ? 0 : bias[co];
          let a1 = bias === undefined ? 0 : bias[co + 1];
          let a2 = bias === undefined ? 0 : bias[co + 2];
          let a3 = bias === undefined ? 0 : bias[co + 3];
          for (let k = 0; k < span; k++) {
            const x = columns[column + k];
            a0 += weight[f0 + k] * x;
            a1 += weight[f1 + k] * x;
            a2 += weight[f2 + k] * x;
            a3 += weight[f3 + k] * x;
          }
          out[outBase + p] = a0;
          out[outBase + positions + p] = a1;
          out[outBase + 2 * positions + p] = a2;
          out[outBase + 3 * positions + p] = a3;
        }
      }
      for (; co < groupEnd; co++) {
        const filter = co * span;
        for (let p = 0; p < positions; p++) {
          const column = p * span;
          let acc = bias === undefined ? 0 : bias[co];
          for (let k = 0; k < span; k++) acc += weight[filter + k] * columns[column + k];
          out[(n * g.outChannels + co) * positions + p] = acc;
        }
      }
    }
    if (tapBias !== undefined) addInsideTaps(out.subarray(n * g.outChannels * positions), tapBias, rows, cols, g);
  }
}

/** Adds, at each output position of one sample, the tap bias's taps that read inside the input. */
function addInsideTaps(
  out: Float64Array,
  tapBias: Float64Array,
  rows: { lo: Int32Array; hi: Int32Array },
  cols: { lo: Int32Array; hi: Int32Array },
  g: ConvGeometry,
): void {
  const taps = g.kH * g.kW;
  for (let co = 0; co < g.outChannels; co++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        let acc = out[(co * g.outH + oh) * g.outW + ow];
        for (let kh = rows.lo[oh]; kh < rows.hi[oh]; kh++) {
          for (let kw = cols.lo[ow]; kw < cols.hi[ow]; kw++) acc += tapBias[co * taps + kh * g.kW + kw];
        }
        out[(co * g.outH + oh) * g.outW + ow] = acc;
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
