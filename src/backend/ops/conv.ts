/**
 * conv2d and weightNormConv2d.
 *
 *   y[n, o, i, j] = b[o] + sum_{c in group(o), p, q} W[o, c, p, q] * x[n, c, S*i + D*p - pad_t, S*j + D*q - pad_l]
 *
 * Weights move once, at compile time, from PyTorch's [Cout, Cin/g, kH, kW] to tfjs':
 *   groups = 1              conv2d filter [kH, kW, Cin, Cout]
 *   groups = Cin            depthwiseConv2d filter [kH, kW, Cin, Cout/Cin]; output channel o = c*mult + m
 *                           is PyTorch's o, because group c owns outputs [c*mult, (c+1)*mult)
 *   other groups            [kH, kW, Cin/g, Cout]; input channels and filter columns are split
 *                           into g slices, convolved pairwise and concatenated
 * except in a graph compiled to run once, where a groups = 1 conv of few output positions keeps
 * PyTorch's layout and runs as a matMul on its input patches (convolveUnpacked).
 * Weight norm: W = g * v / ||v||, the norm over everything but the output unit, computed inside
 * the forward so gradients reach both v and g.
 *
 * tfjs limits worked around here:
 *   - 'same' is resolved to explicit padding (TensorFlow's rule, ../../reference/padding.ts)
 *     before any kernel sees it: tfjs-backend-wasm 4.22 returns zeros for some 'same' convs
 *     (e.g. a 1x2 kernel at stride [2, 1]), explicit padding is computed correctly;
 *   - strides and dilations both > 1 are refused: convolve at stride 1 with the padding the
 *     strided conv would use, then keep every S-th row and column (identical output);
 *   - conv gradients with dilation > 1 are not implemented: in train mode the filter is dilated
 *     explicitly (zeros between taps), which is the same function with dilation 1.
 *
 * tapBias A [Cout, kH, kW] (optional, conv2d only; see ParamsByOp in the IR) adds the bias map
 *   M[i, j, o] = sum_{p, q} R[i, p] * A[o, p, q] * C[j, q],   i.e. M_o = R A_o C^T
 * with R [outH, kH] (C [outW, kW]) the 0/1 matrix of which kernel rows (columns) read inside the
 * unpadded input at output row i (column j). R and C depend only on the input's H and W, so they
 * are built once per size (plain arrays, cached); M is two small matMuls per call, differentiable
 * in A, so A trains like any bias. When every tap of every position reads inside (no padding at
 * this size), M is the per-channel constant sum_{p, q} A[o, p, q] and joins the rank-1 bias of
 * the fused kernel. Otherwise the fused kernel takes M itself as its bias on backends that
 * broadcast a bias map (cpu); wasm's FusedConv2D takes only a rank-1 bias, so there the conv runs
 * fused with its rank-1 bias and M is added before the activation.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2dAttrs, NodeOf, Pair } from '../../ir/graph.ts';
import { resolvePadding2d, windowCount } from '../../reference/padding.ts';
import { applyActivation, fusedGradientExists } from './activation.ts';
import type { BuiltNode, FusedActivation, Layout, Mode, NodeParams, OpBuilder } from './types.ts';

type TfPadding = 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

function tfPadding([top, bottom, left, right]: readonly [number, number, number, number]): TfPadding {
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return 'valid';
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}

const isOne = (p: Pair): boolean => p[0] === 1 && p[1] === 1;

/** tfjs wants mutable tuples; the IR's are readonly. */
export const pair = (p: Pair): [number, number] => [p[0], p[1]];

/**
 * Inserts D-1 zeros between neighbouring taps of a [kH, kW, a, b] filter, giving
 * [D_h(kH-1)+1, D_w(kW-1)+1, a, b]; built from pad and reshape so it is differentiable.
 */
export function dilateFilter(filter: tf.Tensor4D, [dh, dw]: Pair): tf.Tensor4D {
  const [kh, kw, a, b] = filter.shape;
  const spread = tf.pad(tf.reshape(filter, [kh, 1, kw, 1, a * b]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0]]);
  const dilated = tf.reshape(spread, [kh * dh, kw * dw, a, b]);
  return tf.slice(dilated, [0, 0, 0, 0], [dh * (kh - 1) + 1, dw * (kw - 1) + 1, a, b]) as tf.Tensor4D;
}

type ConvKind = 'standard' | 'depthwise' | 'grouped';

function convKind(a: Conv2dAttrs): ConvKind {
  if (a.groups === 1) return 'standard';
  return a.groups === a.inChannels ? 'depthwise' : 'grouped';
}

/** PyTorch [Cout, Cin/g, kH, kW] <-> the filter layout of `kind`. */
function filterLayout(a: Conv2dAttrs, kind: ConvKind): Layout {
  const [kh, kw] = a.kernel;
  if (kind === 'depthwise') return { perm: [2, 3, 1, 0], execShape: [kh, kw, a.inChannels, a.outChannels / a.inChannels] };
  return { perm: [2, 3, 1, 0] };
}

/** The tfjs calls one conv becomes for an input of spatial size h x w. */
interface Lowering {
  readonly pad: TfPadding;
  readonly strides: Pair;
  readonly dilations: Pair;
  /** Dilate the filter explicitly (train mode) instead of passing `dilations`. */
  readonly dilateFilter: boolean;
  /** Keep every S-th output row/column after a stride-1 conv. */
  readonly subsample?: Pair;
}

function lower(a: Conv2dAttrs, h: number, w: number, mode: Mode): Lowering {
  const pad = tfPadding(resolvePadding2d(a.padding, h, w, a.kernel, a.stride, a.dilation));
  if (isOne(a.dilation)) return { pad, strides: a.stride, dilations: a.dilation, dilateFilter: false };
  if (mode === 'train') return { pad, strides: a.stride, dilations: [1, 1], dilateFilter: true };
  if (isOne(a.stride)) return { pad, strides: a.stride, dilations: a.dilation, dilateFilter: false };
  return { pad, strides: [1, 1], dilations: a.dilation, dilateFilter: false, subsample: a.stride };
}

function subsample(y: tf.Tensor4D, [sh, sw]: Pair): tf.Tensor4D {
  return tf.stridedSlice(y, [0, 0, 0, 0], y.shape, [1, sh, sw, 1]) as tf.Tensor4D;
}

function convolve(kind: ConvKind, a: Conv2dAttrs, x: tf.Tensor4D, filter: tf.Tensor4D, how: Lowering): tf.Tensor4D {
  const f = how.dilateFilter ? dilateFilter(filter, a.dilation) : filter;
  const run = (xs: tf.Tensor4D, fs: tf.Tensor4D): tf.Tensor4D =>
    kind === 'depthwise'
      ? tf.depthwiseConv2d(xs, fs, pair(how.strides), how.pad, 'NHWC', pair(how.dilations))
      : tf.conv2d(xs, fs, pair(how.strides), how.pad, 'NHWC', pair(how.dilations));
  let y: tf.Tensor4D;
  if (kind === 'grouped') {
    const xParts = tf.split<tf.Tensor4D>(x, a.groups, 3);
    const fParts = tf.split<tf.Tensor4D>(f, a.groups, 3);
    y = tf.concat(xParts.map((xp, i) => run(xp, fParts[i])), 3);
  } else {
    y = run(x, f);
  }
  return how.subsample ? subsample(y, how.subsample) : y;
}

/**
 * The conv (groups = 1) as one matMul against its weight as stored, [Cout, Cin*kH*kW]: the
 * padded input's strided slice for each tap, stacked last so each output position's row reads
 * [ci][kh][kw], the weight's own order. No filter conversion at all: for a graph that runs once,
 * where tfjs-backend-wasm's first use of a filter (transposing and packing it) costs more than
 * the few multiply-adds per weight of a small output.
 */
function convolveUnpacked(a: Conv2dAttrs, x: tf.Tensor4D, weight: tf.Tensor): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [dh, dw] = a.dilation;
  const [top, bottom, left, right] = resolvePadding2d(a.padding, h, w, a.kernel, a.stride, a.dilation);
  const outH = windowCount(h, top + bottom, kh, sh, dh);
  const outW = windowCount(w, left + right, kw, sw, dw);
  const padded = top + bottom + left + right === 0 ? x : tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  const taps: tf.Tensor4D[] = [];
  for (let p = 0; p < kh; p++) {
    for (let q = 0; q < kw; q++) {
      const end = [n, p * dh + (outH - 1) * sh + 1, q * dw + (outW - 1) * sw + 1, c];
      taps.push(tf.stridedSlice(padded, [0, p * dh, q * dw, 0], end, [1, sh, sw, 1]) as tf.Tensor4D);
    }
  }
  const patches = taps.length === 1 ? taps[0] : tf.stack(taps, 4);
  const span = c * kh * kw;
  const y = tf.matMul(tf.reshape(patches, [n * outH * outW, span]), tf.reshape(weight, [a.outChannels, span]), false, true);
  return tf.reshape(y, [n, outH, outW, a.outChannels]);
}

/** Which kernel rows (columns) read inside the unpadded input, per output row (column). */
interface TapMasks {
  /** [outH, kH], row-major, 0 or 1. */
  readonly rows: Float32Array;
  /** [outW, kW], row-major, 0 or 1. */
  readonly cols: Float32Array;
  readonly outH: number;
  readonly outW: number;
  /** Every tap of every output position reads inside: the map is a per-channel constant. */
  readonly allInside: boolean;
}

/** masks[i, p] = 1 when i*S + p*D - before lies in [0, size), for i < outSize and p < kernel. */
function axisMask(size: number, before: number, after: number, kernel: number, stride: number, dilation: number) {
  const outSize = windowCount(size, before + after, kernel, stride, dilation);
  const mask = new Float32Array(outSize * kernel);
  let allInside = true;
  for (let i = 0; i < outSize; i++) {
    for (let p = 0; p < kernel; p++) {
      const at = i * stride + p * dilation - before;
      const inside = at >= 0 && at < size;
      mask[i * kernel + p] = inside ? 1 : 0;
      allInside &&= inside;
    }
  }
  return { mask, outSize, allInside };
}

function tapMasks(a: Conv2dAttrs, h: number, w: number): TapMasks {
  const [top, bottom, left, right] = resolvePadding2d(a.padding, h, w, a.kernel, a.stride, a.dilation);
  const rows = axisMask(h, top, bottom, a.kernel[0], a.stride[0], a.dilation[0]);
  const cols = axisMask(w, left, right, a.kernel[1], a.stride[1], a.dilation[1]);
  return { rows: rows.mask, cols: cols.mask, outH: rows.outSize, outW: cols.outSize, allInside: rows.allInside && cols.allInside };
}

/** M [outH, outW, Cout] with M_o = R A_o C^T, from A [Cout, kH, kW]. */
function biasMap(tapBias: tf.Tensor, m: TapMasks, [kh, kw]: Pair): tf.Tensor3D {
  const cout = tapBias.shape[0];
  const rows = tf.tensor2d(m.rows, [m.outH, kh]);
  const cols = tf.tensor2d(m.cols, [m.outW, kw]);
  // (R [outH, kH]) x (A as [kH, Cout*kW]) -> [outH*Cout, kW], then x C^T -> [outH*Cout, outW].
  const byRows = tf.matMul(rows, tf.reshape(tf.transpose(tapBias, [1, 0, 2]), [kh, cout * kw]));
  const both = tf.matMul(tf.reshape(byRows, [m.outH * cout, kw]), cols, false, true);
  return tf.transpose(tf.reshape(both, [m.outH, cout, m.outW]), [0, 2, 1]);
}

/** Backends whose fused conv kernels broadcast an [outH, outW, Cout] bias map. */
const BIAS_MAP_BACKENDS: ReadonlySet<string> = new Set(['cpu']);

/**
 * The builder shared by conv2d and weightNormConv2d, given how to obtain the filter per call: in
 * the tfjs layout, or (`unpacked`, groups = 1 only) as stored, for convolveUnpacked.
 */
function convNode(a: Conv2dAttrs, filter: () => tf.Tensor4D, bias: tf.Variable | undefined, tapBias?: tf.Variable, unpacked = false): BuiltNode {
  const kind = convKind(a);
  const masksBySize = new Map<string, TapMasks>();
  const masksFor = (h: number, w: number): TapMasks => {
    const key = `${h}x${w}`;
    let masks = masksBySize.get(key);
    if (masks === undefined) {
      masks = tapMasks(a, h, w);
      masksBySize.set(key, masks);
    }
    return masks;
  };
  /** The tapBias term for an h x w input: [Cout] when constant, else the [outH, outW, Cout] map. */
  const tapTerm = (taps: tf.Variable, h: number, w: number): tf.Tensor => {
    const masks = masksFor(h, w);
    return masks.allInside ? tf.sum(taps, [1, 2]) : biasMap(taps, masks, a.kernel);
  };
  const unfused = (x: tf.Tensor4D, mode: Mode): tf.Tensor4D => {
    let y = unpacked ? convolveUnpacked(a, x, filter()) : convolve(kind, a, x, filter(), lower(a, x.shape[1], x.shape[2], mode));
    if (bias) y = tf.add(y, bias);
    return tapBias ? tf.add(y, tapTerm(tapBias, x.shape[1], x.shape[2])) : y;
  };
  const forward = ([x]: readonly tf.Tensor[], mode: Mode): tf.Tensor => unfused(x as tf.Tensor4D, mode);
  if (kind === 'grouped') return { forward };
  // The executor still fuses the layer with its activation; without a fused kernel, in sequence.
  if (unpacked) return { forward, fuse: (activation) => ([x], mode) => applyActivation(unfused(x as tf.Tensor4D, mode), activation) };

  const fuse = (activation: FusedActivation) => ([input]: readonly tf.Tensor[], mode: Mode): tf.Tensor => {
    const x = input as tf.Tensor4D;
    const how = lower(a, x.shape[1], x.shape[2], mode);
    const needsGradient = mode === 'train' && !fusedGradientExists(activation);
    if (how.dilateFilter || how.subsample || needsGradient) return applyActivation(unfused(x, mode), activation);
    const fused = (fusedBias: tf.Tensor | undefined, fusedActivation: FusedActivation): tf.Tensor4D => {
      const args = {
        x,
        filter: filter(),
        strides: pair(how.strides),
        // The fused depthwise d.ts omits explicit padding; the op hands `pad` to the same
        // computeConv2DInfo as the unfused one, which accepts it (checked in the backend tests).
        pad: how.pad as 'valid',
        dataFormat: 'NHWC' as const,
        dilations: pair(how.dilations),
        bias: fusedBias,
        activation: fusedActivation.kind,
        leakyreluAlpha: fusedActivation.leakyreluAlpha,
      };
      return kind === 'depthwise' ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
    };
    if (tapBias === undefined) return fused(bias, activation);
    const term = tapTerm(tapBias, x.shape[1], x.shape[2]);
    const withBias = bias ? tf.add(term, bias) : term;
    if (term.rank === 1 || BIAS_MAP_BACKENDS.has(tf.getBackend())) return fused(withBias, activation);
    return applyActivation(tf.add(fused(bias, { kind: 'linear' }), term), activation);
  };
  return { forward, fuse };
}

export const conv2d: OpBuilder<'conv2d'> = (node, params, hints) => {
  const a = node.attrs;
  const unpacked = hints?.unpacked === true && convKind(a) === 'standard';
  const weight = params.trainable('weight', unpacked ? undefined : filterLayout(a, convKind(a))) as tf.Variable<tf.Rank.R4>;
  const tapBias = node.params.tapBias === undefined ? undefined : params.trainable('tapBias');
  return convNode(a, () => weight, a.bias ? params.trainable('bias') : undefined, tapBias, unpacked);
};

/** g * v / ||v|| for a filter whose output units sit on the axes after `normAxes`. */
export function weightNormFilter(v: tf.Tensor, g: tf.Tensor, normAxes: number[]): tf.Tensor {
  const norms = tf.sqrt(tf.sum(tf.square(v), normAxes));
  return tf.mul(v, tf.div(tf.reshape(g, norms.shape), norms));
}

export const weightNormConv2d: OpBuilder<'weightNormConv2d'> = (node: NodeOf<'weightNormConv2d'>, params: NodeParams) => {
  const a = node.attrs;
  const kind = convKind(a);
  const v = params.trainable('v', filterLayout(a, kind));
  const g = params.trainable('g');
  // Depthwise filters keep output units on two axes [Cin, mult]; the others on the last one.
  const normAxes = kind === 'depthwise' ? [0, 1] : [0, 1, 2];
  return convNode(a, () => weightNormFilter(v, g, normAxes) as tf.Tensor4D, a.bias ? params.trainable('bias') : undefined);
};
