/**
 * 2-D transposed convolution (PyTorch ConvTranspose2d), NCHW, written as the scatter that is
 * the adjoint of conv2d — deliberately not via conv2d, so the two implementations check each
 * other (<conv(x), y> = <x, convT(y)> in the tests).
 *
 *   x [N, Cin, H, W], weight [Cin, Cout/G, kH, kW], bias [Cout], G = groups
 *   every input element scatters its kernel into the output:
 *   y[n, g*(Cout/G) + co, ih*sH - P_H + kh*dH, iw*sW - P_W + kw*dW] += x[n, ci, ih, iw] * weight[ci, co, kh, kw]
 *   where g = floor(ci / (Cin/G)); positions outside [0, outH) x [0, outW) are dropped; then + bias[co].
 *   outH = (H - 1)*sH - 2*P_H + dH*(kH - 1) + outputPadding_H + 1, likewise outW.
 * So the output is the full scatter (P = 0, outputPadding = 0) with P rows/columns cropped from the
 * top/left and P - outputPadding from the bottom/right; where outputPadding exceeds P the extra
 * cells lie beyond the full scatter and hold the bias alone.
 */
import type { ConvTranspose2dAttrs } from '../../ir/graph.ts';
import { paramIf, requireDim, requireDivisible, requireParam, requirePositiveOutput, requireRank } from '../check.ts';
import { zeros, type Float64Tensor } from '../tensor.ts';
import type { ConvParams } from './conv2d.ts';

export function convTranspose2d(x: Float64Tensor, params: ConvParams, attrs: ConvTranspose2dAttrs): Float64Tensor {
  requireRank(x, [4]);
  requireDim(x, 1, attrs.inChannels, 'attrs.inChannels');
  requireDivisible(attrs.inChannels, 'inChannels', attrs.groups, 'groups');
  requireDivisible(attrs.outChannels, 'outChannels', attrs.groups, 'groups');
  const { inChannels, outChannels, groups, kernel: [kH, kW], stride: [sH, sW], dilation: [dH, dW] } = attrs;
  const [padH, padW] = attrs.padding;
  const outPerGroup = outChannels / groups;
  const weight = requireParam(params.weight, 'weight', [inChannels, outPerGroup, kH, kW]).data;
  const bias = paramIf(attrs.bias, 'bias', params.bias, 'bias', [outChannels])?.data;

  const [batch, , height, width] = x.shape;
  const outH = (height - 1) * sH - 2 * padH + dH * (kH - 1) + attrs.outputPadding[0] + 1;
  const outW = (width - 1) * sW - 2 * padW + dW * (kW - 1) + attrs.outputPadding[1] + 1;
  requirePositiveOutput(outH, outW, `padding ${padH}x${padW} crops away the whole ${height}x${width} scatter`);

  const inPerGroup = inChannels / groups;
  const y = zeros([batch, outChannels, outH, outW]);
  const out = y.data;
  const xs = x.data;
  const outPlane = outH * outW;

  for (let n = 0; n < batch; n++) {
    for (let ci = 0; ci < inChannels; ci++) {
      const firstOut = Math.floor(ci / inPerGroup) * outPerGroup;
      const xBase = (n * inChannels + ci) * height * width;
      for (let ih = 0; ih < height; ih++) {
        for (let iw = 0; iw < width; iw++) {
          const value = xs[xBase + ih * width + iw];
          for (let co = 0; co < outPerGroup; co++) {
            const outBase = (n * outChannels + firstOut + co) * outPlane;
            const wBase = (ci * outPerGroup + co) * kH * kW;
            for (let kh = 0; kh < kH; kh++) {
              const oh = ih * sH - padH + kh * dH;
              if (oh < 0 || oh >= outH) continue;
              for (let kw = 0; kw < kW; kw++) {
                const ow = iw * sW - padW + kw * dW;
                if (ow < 0 || ow >= outW) continue;
                out[outBase + oh * outW + ow] += value * weight[wBase + kh * kW + kw];
              }
            }
          }
        }
      }
    }
  }
  if (bias !== undefined) {
    for (let n = 0; n < batch; n++) {
      for (let co = 0; co < outChannels; co++) {
        const outBase = (n * outChannels + co) * outPlane;
        for (let i = 0; i < outPlane; i++) out[outBase + i] += bias[co];
      }
    }
  }
  return y;
}
