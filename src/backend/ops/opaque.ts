/**
 * opaque: a Keras layer shapefold has no op for, run by tfjs-layers itself. The layer is made
 * once per compiled graph from its class name and config (keras-layer.ts), built for the input
 * shapes it was imported with, given the node's weights, and called on the channels-last
 * tensors, which are the Keras layout of the IR's values. Its weights become the node's
 * variables: trained in train mode (the layer is called with `training`), exported by
 * exportGraph. A tied node (one Keras layer called twice) calls the same layer object.
 *
 * A layer of several outputs (return_state) is called once per run: `forwardAll` gives them all,
 * and an opaqueOutput node takes output `index` of them (the executor hands it that tensor).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { NodeOf } from '../../ir/graph.ts';
import { ExecutionError } from '../errors.ts';
import { buildKerasLayer, createKerasLayer } from '../keras-layer.ts';
import type { Mode, NodeParams, OpBuilder } from './types.ts';

function makeLayer(node: NodeOf<'opaque'>, params: NodeParams): tfl.layers.Layer {
  const { className, config, weights, inputShapes } = node.attrs;
  const fail = (problem: string, cause?: unknown): never => {
    throw new ExecutionError(node.name, node.op, `tfjs-layers cannot make its ${className} layer: ${problem}`, { cause });
  };
  let layer: tfl.layers.Layer | undefined;
  try {
    layer = createKerasLayer(className, config);
    buildKerasLayer(layer, inputShapes);
  } catch (e) {
    fail(e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e), e);
  }
  const built = (layer as tfl.layers.Layer).weights;
  const spelled = (list: readonly { shape: readonly (number | null)[] }[]) => list.map((w) => `[${w.shape.join(', ')}]`).join(', ');
  if (built.length !== weights.length || built.some((w, i) => w.shape.join() !== weights[i].shape.join())) {
    fail(`it builds weights ${spelled(built)}, the node has ${spelled(weights)}`);
  }
  const values = weights.map((w) => node.params[w.name]);
  tf.tidy(() => (layer as tfl.layers.Layer).setWeights(values.map((v, i) => tf.tensor(v?.data ?? new Float32Array(0), [...weights[i].shape], 'float32'))));
  built.forEach((w, i) => params.adopt(weights[i].name, w.read() as tf.Variable, w.trainable));
  return layer as tfl.layers.Layer;
}

export const opaque: OpBuilder<'opaque'> = (node, params) => {
  const layer = params.shared(() => makeLayer(node, params));
  const forwardAll = (xs: readonly tf.Tensor[], mode: Mode): readonly tf.Tensor[] => {
    const out = layer.apply(xs.length === 1 ? xs[0] : [...xs], { training: mode === 'train' }) as tf.Tensor | tf.Tensor[];
    return Array.isArray(out) ? out : [out];
  };
  return { forward: (xs, mode) => forwardAll(xs, mode)[0], forwardAll };
};

/** Output `index` of an opaque layer: the executor passes that tensor of the layer's one call as the input. */
export const opaqueOutput: OpBuilder<'opaqueOutput'> = () => ({ forward: ([output]) => output });
