/**
 * What the Fashion-MNIST examples share: the data as tfjs tensors, accuracy and predictions of a
 * compiled graph on a set (eval mode, in batches), the norm count of a graph, and a median.
 */
import * as tf from '@tensorflow/tfjs';
import type { CompiledGraph } from '../../src/backend/index.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { IMAGE_SIZE, type ImageSet } from './fashion-mnist.ts';

export interface SetTensors {
  /** [n, 1, 28, 28] */
  readonly x: tf.Tensor4D;
  /** class indices [n] */
  readonly y: tf.Tensor1D;
  readonly labels: Int32Array;
}

export function toTensors(set: ImageSet): SetTensors {
  return {
    x: tf.tensor4d(set.images, [set.count, 1, IMAGE_SIZE, IMAGE_SIZE]),
    y: tf.tensor1d(set.labels, 'int32'),
    labels: set.labels,
  };
}

export function disposeSet(set: SetTensors): void {
  tf.dispose([set.x, set.y]);
}

const EVAL_BATCH = 1000;

/** The predicted class of every image, from `logits(batch)` run on batches of 1,000. */
export async function predictBatched(x: tf.Tensor, logits: (batch: tf.Tensor) => tf.Tensor): Promise<Int32Array> {
  const n = x.shape[0];
  const predictions = new Int32Array(n);
  for (let start = 0; start < n; start += EVAL_BATCH) {
    const size = Math.min(EVAL_BATCH, n - start);
    const classes = tf.tidy(() => tf.argMax(logits(tf.slice(x, start, size)), 1));
    predictions.set(await classes.data(), start);
    classes.dispose();
  }
  return predictions;
}

/** Predictions of a compiled shapefold graph, in eval mode. */
export function predict(net: CompiledGraph, x: tf.Tensor): Promise<Int32Array> {
  return predictBatched(x, (batch) => Object.values(net.run(batch, { mode: 'eval' }))[0]);
}

export function accuracy(predictions: Int32Array, labels: Int32Array): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct / labels.length;
}

export function agreement(a: Int32Array, b: Int32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

const NORM_OPS = new Set(['batchNorm', 'batchRenorm', 'ibn', 'switchableNorm', 'layerNorm', 'instanceNorm', 'groupNorm', 'scaleShift']);

/** BatchNorm-like and scale/shift nodes: what folding removes. */
export function countNorms(graph: Graph): number {
  return graph.nodes.filter((n) => NORM_OPS.has(n.op)).length;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Seconds taken by `run`. */
export async function seconds(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return (performance.now() - start) / 1000;
}

/** `--name value` from argv, or the default. */
export function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}
