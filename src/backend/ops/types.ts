/**
 * The contract between the executor and the per-op builders.
 *
 * Inside the executor every tensor is channels-last: [N, H, W, C] for images, [N, F] for
 * features (the IR's [N, C, H, W] transposed once at the graph boundary), so per-channel
 * parameters broadcast along the last axis and tfjs' NHWC kernels run without transposes.
 * A builder runs once at compile time: it turns its node's params into variables (converted to
 * the tfjs layout there, once) and returns the forward function the executor calls per run.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NodeOf, OpKind } from '../../ir/graph.ts';

export type Mode = 'eval' | 'train';

export type Forward = (inputs: readonly tf.Tensor[], mode: Mode) => tf.Tensor;

/** Activations tfjs can fuse into conv2d / depthwiseConv2d / matMul kernels. */
export interface FusedActivation {
  readonly kind: 'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'sigmoid';
  readonly leakyreluAlpha?: number;
}

export interface BuiltNode {
  readonly forward: Forward;
  /**
   * Present on a layer of several outputs (an opaque LSTM returning its states): all of them,
   * output 0 (`forward`'s) first, from one call; opaqueOutput nodes read the others.
   */
  readonly forwardAll?: (inputs: readonly tf.Tensor[], mode: Mode) => readonly tf.Tensor[];
  /** Present on layers with a fused tfjs kernel: the layer, its bias and `activation` in one call. */
  readonly fuse?: (activation: FusedActivation) => Forward;
}

/**
 * How a param moves from its IR layout to the executor's: its axes permuted (`perm`, as numpy's
 * transpose), then read as `execShape` when that differs from the permuted shape (a depthwise
 * filter's [kH, kW, 1, Cin*mult] as [kH, kW, Cin, mult]). Moving back inverts both.
 */
export interface Layout {
  readonly perm: readonly number[];
  readonly execShape?: readonly number[];
}

export interface RunningStats {
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
}

/** A node's parameters, handed to its builder; everything it creates is released by dispose(). */
export interface NodeParams {
  /** The param as a trainable variable in the executor layout (`${node}.${param}` in `variables`). */
  trainable(param: string, layout?: Layout): tf.Variable;
  /** The param as a variable no optimizer updates (gamma, beta of a BN frozen 'all'); exported like the others. */
  fixed(param: string, layout?: Layout): tf.Variable;
  /** runningMean and runningVar as non-trainable variables (`node` in `stats`). */
  runningStats(): RunningStats;
  /** A constant per-channel vector held for the life of the compiled graph. */
  constant(values: readonly number[]): tf.Tensor1D;
  /**
   * An object the node's owner holds for the life of the compiled graph (a tied node gets its
   * owner's, and `make` is not called again): the tfjs layer an opaque node runs.
   */
  shared<T>(make: () => T): T;
  /**
   * A variable another object made (a weight of that tfjs layer) held as param `param`: trained
   * when `trainable`, exported by exportGraph, disposed with the compiled graph.
   */
  adopt(param: string, variable: tf.Variable, trainable: boolean): void;
}

/** How the executor wants a layer built, beyond its node and params. */
export interface BuildHints {
  /**
   * Hold the weight as stored (the IR layout) and multiply it without tfjs' conversion: the graph
   * runs once and this layer uses each weight in only a few multiply-adds (CompileOptions.once).
   */
  readonly unpacked?: boolean;
}

export type OpBuilder<K extends OpKind> = (node: NodeOf<K>, params: NodeParams, hints?: BuildHints) => BuiltNode;

/**
 * A 2-D window op (conv, pool) that also runs on a channels-last sequence [N, L, C], as the image
 * [N, 1, L, C] (a reshape, no copy), its result reshaped back to [N, L', C'].
 */
export function alsoOnLines<K extends OpKind>(builder: OpBuilder<K>): OpBuilder<K> {
  const onLines =
    (forward: Forward): Forward =>
    (inputs, mode) => {
      const [x] = inputs;
      if (x.rank !== 3) return forward(inputs, mode);
      const y = forward([tf.expandDims(x, 1), ...inputs.slice(1)], mode);
      return tf.squeeze(y, [1]);
    };
  return (node, params, hints) => {
    const built = builder(node, params, hints);
    const fuse = built.fuse;
    return fuse === undefined ? { forward: onLines(built.forward) } : { forward: onLines(built.forward), fuse: (activation) => onLines(fuse(activation)) };
  };
}
