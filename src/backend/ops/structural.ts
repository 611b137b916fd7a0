/**
 * Ops that move or combine values without parameters to learn, on channels-last tensors:
 *   add         y = x_1 + ... + x_n
 *   concat      along the IR channel axis 1, which is the last axis here
 *   concatAxis  along the IR axis, at its channels-last position (src/ir/axes.ts)
 *   merge       Keras' elementwise merges: a lower-rank input gets size-1 axes after the batch
 *               axis (as tfjs-layers' Merge does), then tfjs broadcasting; average = sum / k
 *   flatten     [N, H, W, C] -> [N, C*H*W] in NCHW order: back to channels-first, then reshape,
 *               so a following linear sees the features in the order the IR's weights assume
 *   normalize   y = (x - mean[c]) / std[c] with constant mean and std
 *   scaleShift  y = x * scale[c] + shift[c]
 *   crop2d      y[n, i, j, c] = x[n, i + top, j + left, c]: one slice of H - top - bottom rows and
 *               W - left - right columns, so the gradient flows back into the kept window
 *   identity    y = x
 *   transpose   the IR permutation conjugated by the channels-last layout: one tf.transpose
 *   reshape     in the IR's row-major order: back to channels-first, reshape, channels-last again
 *   repeatVector  [N, C] -> [N, times, C], the channels-last form of [N, C, times]
 */
import * as tf from '@tensorflow/tfjs-core';
import { channelsFirstPerm, channelsLastAxis, channelsLastPerm, composePerms } from '../../ir/axes.ts';
import type { MergeFn } from '../../ir/graph.ts';
import type { OpBuilder } from './types.ts';

export const identity: OpBuilder<'identity'> = () => ({ forward: ([x]) => x });

export const add: OpBuilder<'add'> = () => ({ forward: (xs) => tf.addN(xs as tf.Tensor[]) });

export const concat: OpBuilder<'concat'> = () => ({ forward: (xs) => tf.concat(xs as tf.Tensor[], -1) });

export const concatAxis: OpBuilder<'concatAxis'> = (node) => ({
  forward: (xs) => tf.concat(xs as tf.Tensor[], channelsLastAxis(node.attrs.axis, xs[0].rank)),
});

const COMBINE: { readonly [F in MergeFn]: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor } = {
  add: tf.add,
  subtract: tf.sub,
  multiply: tf.mul,
  average: tf.add,
  maximum: tf.maximum,
  minimum: tf.minimum,
};

export const merge: OpBuilder<'merge'> = (node) => {
  const { fn } = node.attrs;
  const combine = COMBINE[fn];
  return {
    forward: (xs) => {
      const rank = Math.max(...xs.map((x) => x.rank));
      const raised = xs.map((x) => (x.rank === rank ? x : tf.reshape(x, [x.shape[0], ...new Array<number>(rank - x.rank).fill(1), ...x.shape.slice(1)])));
      const combined = raised.slice(1).reduce(combine, raised[0]);
      return fn === 'average' ? tf.div(combined, xs.length) : combined;
    },
  };
};

export const flatten: OpBuilder<'flatten'> = () => ({
  forward: ([x]) => {
    const channelsFirst = x.rank > 2 ? tf.transpose(x, channelsFirstPerm(x.rank)) : x;
    return tf.reshape(channelsFirst, [x.shape[0], -1]);
  },
});

export const crop2d: OpBuilder<'crop2d'> = (node) => {
  const [top, bottom, left, right] = node.attrs.crop;
  return {
    forward: ([x]) => {
      const [n, h, w, c] = x.shape;
      return tf.slice(x, [0, top, left, 0], [n, h - top - bottom, w - left - right, c]);
    },
  };
};

export const normalize: OpBuilder<'normalize'> = (node, params) => {
  const mean = params.constant(node.attrs.mean);
  const std = params.constant(node.attrs.std);
  return { forward: ([x]) => tf.div(tf.sub(x, mean), std) };
};

export const scaleShift: OpBuilder<'scaleShift'> = (_node, params) => {
  const scale = params.trainable('scale');
  const shift = params.trainable('shift');
  return { forward: ([x]) => tf.add(tf.mul(x, scale), shift) };
};

/**
 * The channels-last form of a channels-first permutation `perm`: to channels-first, `perm`,
 * back to channels-last, as one permutation.
 */
function channelsLastForm(perm: readonly number[]): number[] {
  const rank = perm.length;
  return composePerms(composePerms(channelsFirstPerm(rank), perm), channelsLastPerm(rank));
}

export const transpose: OpBuilder<'transpose'> = (node) => {
  const perm = channelsLastForm(node.attrs.perm);
  return { forward: ([x]) => tf.transpose(x, perm) };
};

/** Back to channels-first (the IR's row-major order), reshape, and channels-last again. */
export const reshape: OpBuilder<'reshape'> = (node) => {
  const target = node.attrs.shape;
  return {
    forward: ([x]) => {
      const channelsFirst = x.rank > 2 ? tf.transpose(x, channelsFirstPerm(x.rank)) : x;
      const y = tf.reshape(channelsFirst, [x.shape[0], ...target]);
      return y.rank > 2 ? tf.transpose(y, channelsLastPerm(y.rank)) : y;
    },
  };
};

/** [N, C] -> the channels-last [N, times, C]. */
export const repeatVector: OpBuilder<'repeatVector'> = (node) => ({
  forward: ([x]) => tf.tile(tf.expandDims(x, 1), [1, node.attrs.times, 1]),
});
