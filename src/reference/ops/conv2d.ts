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
