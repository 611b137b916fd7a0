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
 */
import * as tf from '@tensorflow/tfjs';
import { channelsLastAxis } from '../../ir/axes.ts';
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

/** The permutation taking a channels-last tensor of rank r back to channels-first. */
export function channelsFirstPerm(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

/** The permutation taking a channels-first tensor of rank r to channels-last. */
export function channelsLastPerm(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

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
