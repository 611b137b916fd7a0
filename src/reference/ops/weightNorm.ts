/**
 * Weight normalization (Salimans & Kingma 2016), PyTorch `weight_norm(dim=0)`:
 *
 *   weight[o, ...] = g[o] * v[o, ...] / ||v[o, ...]||_2
 *
 * the norm taken per output unit (conv: per Cout over Cin/G, kH, kW; linear: per out over in),
 * then the plain conv2d / linear with that weight. v has the layer's weight shape; g is [Cout]
 * (resp. [out]). A zero row of v has no direction; it gives an error rather than NaN.
 */
import type { Conv2dAttrs, LinearAttrs } from '../../ir/graph.ts';
import { paramIf, requireParam } from '../check.ts';
import { ReferenceRunError } from '../errors.ts';
import { sizeOf, type Float64Tensor } from '../tensor.ts';
import { checkConvArgs, conv2d } from './conv2d.ts';
import { checkLinearArgs, linear } from './linear.ts';

export interface WeightNormParams {
  readonly v?: Float64Tensor;
  readonly g?: Float64Tensor;
  readonly bias?: Float64Tensor;
}

/** g * v / ||v|| with the norm over every axis but the first. */
export function weightNormWeight(v: Float64Tensor, g: Float64Tensor): Float64Tensor {
  const units = v.shape[0];
  const perUnit = sizeOf(v.shape.slice(1));
  const weight = new Float64Array(v.data.length);
  for (let o = 0; o < units; o++) {
    const row = v.data.subarray(o * perUnit, (o + 1) * perUnit);
    const norm = Math.sqrt(row.reduce((sum, value) => sum + value * value, 0));
    if (norm === 0) throw new ReferenceRunError(`param 'v' row ${o} is all zeros: its norm is 0`);
    const scale = g.data[o] / norm;
    for (let i = 0; i < perUnit; i++) weight[o * perUnit + i] = row[i] * scale;
  }
  return { shape: [...v.shape], data: weight };
}

export function weightNormConv2d(x: Float64Tensor, params: WeightNormParams, attrs: Conv2dAttrs): Float64Tensor {
  const v = requireParam(params.v, 'v', checkConvArgs(x, attrs));
  const g = requireParam(params.g, 'g', [attrs.outChannels]);
  const bias = paramIf(attrs.bias, 'bias', params.bias, 'bias', [attrs.outChannels]);
  return conv2d(x, { weight: weightNormWeight(v, g), bias }, attrs);
}

export function weightNormLinear(x: Float64Tensor, params: WeightNormParams, attrs: LinearAttrs): Float64Tensor {
  const v = requireParam(params.v, 'v', checkLinearArgs(x, attrs));
  const g = requireParam(params.g, 'g', [attrs.outFeatures]);
  const bias = paramIf(attrs.bias, 'bias', params.bias, 'bias', [attrs.outFeatures]);
  return linear(x, { weight: weightNormWeight(v, g), bias }, attrs);
}
