/**
 * convTranspose2d, PyTorch semantics: every input pixel scatters a kernel-sized patch,
 *
 *   full[n, o, S*i + D*p, S*j + D*q] += x[n, c, i, j] * W[c, o', p, q]     (c and o in one group)
 *   y = full cropped by P at the top/left and by P - outputPadding at the bottom/right,
 *   Hout = (H-1)*S - 2P + D*(kH-1) + outputPadding + 1
 *
 * tf.conv2dTranspose is the input-gradient of a conv over an Hout-high input. Its kernel reads
 * only the top/left padding and the row count floor((Hout + top + bottom - K')/S) + 1, which must
 * be H; with top = P, bottom = P - outputPadding + S - 1 it is, for any outputPadding < S.
 * When bottom would be negative (outputPadding >= S is legal once D > S) the rows past the end
 * of `full` are zero, so we run with a smaller outputPadding and append those zero rows.
 * Dilation: tfjs has none here, so the filter is dilated explicitly (K' = D(K-1)+1).
 * Weights [Cin, Cout/g, kH, kW] become [kH, kW, Cout/g, Cin] once; groups split x and filter.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConvTranspose2dAttrs } from '../../ir/graph.ts';
import { dilateFilter, pair } from './conv.ts';
import type { Layout, OpBuilder } from './types.ts';

const LAYOUT: Layout = { perm: [2, 3, 1, 0] };

/** Padding and output size along one axis; `zeroRows` are appended after the kernel's output. */
function axisPlan(inSize: number, kernel: number, stride: number, pad: number, outputPadding: number, dilation: number) {
  const effectiveKernel = dilation * (kernel - 1) + 1;
  const zeroRows = Math.max(0, outputPadding - pad - stride + 1);
  const runPadding = outputPadding - zeroRows;
  return {
    before: pad,
    after: pad - runPadding + stride - 1,
    kernelOut: (inSize - 1) * stride - 2 * pad + effectiveKernel + runPadding,
    zeroRows,
  };
}

function convTranspose(a: ConvTranspose2dAttrs, x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const rows = axisPlan(h, a.kernel[0], a.stride[0], a.padding[0], a.outputPadding[0], a.dilation[0]);
  const cols = axisPlan(w, a.kernel[1], a.stride[1], a.padding[1], a.outputPadding[1], a.dilation[1]);
  const f = a.dilation[0] === 1 && a.dilation[1] === 1 ? filter : dilateFilter(filter, a.dilation);
  const groupOut = a.outChannels / a.groups;
  const pad: [[0, 0], [number, number], [number, number], [0, 0]] = [[0, 0], [rows.before, rows.after], [cols.before, cols.after], [0, 0]];
  const run = (xs: tf.Tensor4D, fs: tf.Tensor4D): tf.Tensor4D =>
    tf.conv2dTranspose(xs, fs, [n, rows.kernelOut, cols.kernelOut, groupOut], pair(a.stride), pad);
  let y: tf.Tensor4D;
  if (a.groups === 1) {
    y = run(x, f);
  } else {
    const fParts = tf.split<tf.Tensor4D>(f, a.groups, 3);
    y = tf.concat(tf.split<tf.Tensor4D>(x, a.groups, 3).map((xp, i) => run(xp, fParts[i])), 3);
  }
  if (rows.zeroRows === 0 && cols.zeroRows === 0) return y;
  return tf.pad(y, [[0, 0], [0, rows.zeroRows], [0, cols.zeroRows], [0, 0]]);
}

export const convTranspose2d: OpBuilder<'convTranspose2d'> = (node, params) => {
  const a = node.attrs;
  const weight = params.trainable('weight', LAYOUT) as tf.Variable<tf.Rank.R4>;
  const bias = a.bias ? params.trainable('bias') : undefined;
  return {
    forward: ([x]) => {
      const y = convTranspose(a, x as tf.Tensor4D, weight);
      return bias ? tf.add(y, bias) : y;
    },
  };
};
