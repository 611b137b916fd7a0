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
import { resolvePadding2d, tapsInside, windowCount } from '../padding.ts';
import { zeros, type Float64Tensor, type ParamValues } from '../tensor.ts';

export interface ConvParams {
  readonly weight?: ParamValues;
  readonly bias?: ParamValues;
  readonly tapBias?: ParamValues;
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
 * The same sum for small maps (the fold probe's patches), as dot products over the input
 * channels: each output position's receptive field in a group is gathered tap-major, [kh][kw][ci],
 * each block of four filters is read once and laid out the same way (a 1x1 kernel's filters
 * already are: read in place), and every position sums bias, then for each tap that reads inside
 * the input (in (kh, kw) order) its terms over ci. Four filters at a time, and two positions
 * reading inside through the same tap at a time, give eight independent sums sharing their loads
 * instead of one chain of dependent additions (the loop's speed limit), and the taps that read
 * padding are skipped rather than multiplied by zero (on a 3x3 patch of a 3x3 conv, 49 of 81
 * terms remain). Only the order of the terms differs from the row loop's (ci-major), so results
 * agree with it to rounding.
 */
function convPerOutput(
  out: Float64Array,
  xs: Float64Array,
  weight: Float32Array | Float64Array,
  bias: Float32Array | Float64Array | undefined,
  tapBias: Float32Array | Float64Array | undefined,
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
  // The positions reading inside through tap t: reading[readingStart[t] .. readingStart[t + 1]).
  const readingStart = new Int32Array(taps + 1);
  const reading = new Int32Array(positions * taps);
  for (let t = 0, n = 0; t < taps; t++) {
    const kh = Math.floor(t / g.kW);
    const kw = t % g.kW;
    readingStart[t] = n;
    for (let p = 0; p < positions; p++) {
      const oh = Math.floor(p / g.outW);
      const ow = p % g.outW;
      if (kh >= rows.lo[oh] && kh < rows.hi[oh] && kw >= cols.lo[ow] && kw < cols.hi[ow]) reading[n++] = p;
    }
    readingStart[t + 1] = n;
  }
  const columns = new Float64Array(positions * span);
  const inPlace = taps === 1;
  const filters = inPlace ? weight : weight instanceof Float32Array ? new Float32Array(4 * span) : new Float64Array(4 * span);
  const sums = new Float64Array(positions * 4);
  for (let n = 0; n < g.batch; n++) {
    for (let group = 0; group < g.groups; group++) {
      const xFirst = (n * g.inChannels + group * inPerGroup) * xStrideC;
      for (let oh = 0; oh < g.outH; oh++) {
        for (let ow = 0; ow < g.outW; ow++) {
          const column = (oh * g.outW + ow) * span;
          for (let kh = rows.lo[oh]; kh < rows.hi[oh]; kh++) {
            for (let kw = cols.lo[ow]; kw < cols.hi[ow]; kw++) {
              const xAt = xFirst + (oh * g.sH + kh * g.dH - g.top) * g.width + ow * g.sW + kw * g.dW - g.left;
              const at = column + (kh * g.kW + kw) * inPerGroup;
              for (let ci = 0; ci < inPerGroup; ci++) columns[at + ci] = xs[xAt + ci * xStrideC];
            }
          }
        }
      }
      for (let co = group * outPerGroup; co < (group + 1) * outPerGroup; co += 4) {
        const block = Math.min(4, (group + 1) * outPerGroup - co);
        // The block's filters tap-major: filters[first + j * span + t * inPerGroup + ci] = W[co + j, ci, t].
        // A partial last block repeats its last filter, so every sum reads a real filter; taps
        // no position reads inside through (all but the centre on a 1x1 map) are not copied.
        const first = inPlace ? co * span : 0;
        const f1 = first + Math.min(1, block - 1) * span;
        const f2 = first + Math.min(2, block - 1) * span;
        const f3 = first + Math.min(3, block - 1) * span;
        if (!inPlace) {
          for (let j = 0; j < 4; j++) {
            const from = (co + Math.min(j, block - 1)) * span;
            for (let t = 0; t < taps; t++) {
              if (readingStart[t + 1] === readingStart[t]) continue;
              const to = j * span + t * inPerGroup;
              for (let ci = 0; ci < inPerGroup; ci++) filters[to + ci] = weight[from + ci * taps + t];
            }
          }
        }
        for (let p = 0; p < positions; p++) {
          for (let j = 0; j < 4; j++) sums[p * 4 + j] = j < block && bias !== undefined ? bias[co + j] : 0;
        }
        // Tap by tap (the outer order of every sum), so one tap's slice of the filters and of the
        // columns stays in cache while every position reading inside through it adds its terms.
        for (let t = 0; t < taps; t++) {
          const offset = t * inPerGroup;
          const end = readingStart[t + 1];
          let i = readingStart[t];
          for (; i + 1 < end; i += 2) {
            const p = reading[i];
            const q = reading[i + 1];
            const xp = p * span + offset;
            const xq = q * span + offset;
            let a0 = sums[p * 4];
            let a1 = sums[p * 4 + 1];
            let a2 = sums[p * 4 + 2];
            let a3 = sums[p * 4 + 3];
            let b0 = sums[q * 4];
            let b1 = sums[q * 4 + 1];
            let b2 = sums[q * 4 + 2];
            let b3 = sums[q * 4 + 3];
            for (let ci = 0; ci < inPerGroup; ci++) {
              const x = columns[xp + ci];
              const y = columns[xq + ci];
              const w0 = filters[first + offset + ci];
              const w1 = filters[f1 + offset + ci];
              const w2 = filters[f2 + offset + ci];
              const w3 = filters[f3 + offset + ci];
              a0 += w0 * x;
              a1 += w1 * x;
              a2 += w2 * x;
              a3 += w3 * x;
              b0 += w0 * y;
              b1 += w1 * y;
              b2 += w2 * y;
              b3 += w3 * y;
            }
            sums[p * 4] = a0;
            sums[p * 4 + 1] = a1;
            sums[p * 4 + 2] = a2;
            sums[p * 4 + 3] = a3;
            sums[q * 4] = b0;
            sums[q * 4 + 1] = b1;
            sums[q * 4 + 2] = b2;
            sums[q * 4 + 3] = b3;
          }
          if (i < end) {
            const p = reading[i];
            const xp = p * span + offset;
            let a0 = sums[p * 4];
            let a1 = sums[p * 4 + 1];
            let a2 = sums[p * 4 + 2];
            let a3 = sums[p * 4 + 3];
            for (let ci = 0; ci < inPerGroup; ci++) {
              const x = columns[xp + ci];
              a0 += filters[first + offset + ci] * x;
              a1 += filters[f1 + offset + ci] * x;
              a2 += filters[f2 + offset + ci] * x;
              a3 += filters[f3 + offset + ci] * x;
            }
            sums[p * 4] = a0;
            sums[p * 4 + 1] = a1;
            sums[p * 4 + 2] = a2;
            sums[p * 4 + 3] = a3;
          }
        }
        for (let p = 0; p < positions; p++) {
          for (let j = 0; j < block; j++) out[(n * g.outChannels + co + j) * positions + p] = sums[p * 4 + j];
        }
      }
    }
    if (tapBias !== undefined) addInsideTaps(out.subarray(n * g.outChannels * positions), tapBias, rows, cols, g);
  }
}

/** Adds, at each output position of one sample, the tap bias's taps that read inside the input. */
function addInsideTaps(
  out: Float64Array,
  tapBias: Float32Array | Float64Array,
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
