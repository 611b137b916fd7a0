/**
 * Mini-batch training of a compiled graph.
 *
 * Each step runs the forward pass in train mode (batch statistics, running-stat updates), takes
 *   mse                  L = mean over all elements of (prediction - y)^2
 *   softmaxCrossEntropy  L = mean over the batch of -sum_k y_k log softmax(logits)_k, with y
 *                        one-hot/probabilities [N, K] or int32 class indices [N]
 * and its gradient with respect to every trainable variable (tf.variableGrads), and lets the
 * optimizer update them: plain SGD, SGD with momentum (tf.train.momentum), or Adam.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node build registers no gradients; tfjs-layers' build registers all of them when
// loaded (as @tensorflow/tfjs does), and tf.variableGrads needs them.
import '@tensorflow/tfjs-layers';
import { createRng } from '../ir/init.ts';
import { InputError } from './errors.ts';
import type { CompiledGraph } from './executor.ts';

export type OptimizerName = 'sgd' | 'adam';
export type LossName = 'mse' | 'softmaxCrossEntropy';

/** x feeds the graph's single input (NCHW), y is the target of the trained output. */
export interface FitData {
  readonly x: tf.Tensor;
  readonly y: tf.Tensor;
}

export interface FitProgress {
  readonly epoch: number;
  readonly epochs: number;
  readonly step: number;
  readonly stepsPerEpoch: number;
  readonly loss: number;
}

export interface FitOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: OptimizerName;
  readonly learningRate: number;
  /** SGD only: momentum coefficient in [0, 1); 0 or absent is plain SGD. */
  readonly momentum?: number;
  readonly loss: LossName;
  /** The output to train; default the graph's only output. */
  readonly output?: string;
  /** Shuffle the samples each epoch, deterministically from `seed` (default true, seed 0). */
  readonly shuffle?: boolean;
  readonly seed?: number;
  readonly onProgress?: (progress: FitProgress) => void;
  /** Draw a progress bar on stderr; default: only when stderr is a TTY. */
  readonly progressBar?: boolean;
}

export interface LossHistory {
  /** The loss of every optimisation step, in order. */
  readonly steps: readonly number[];
  /** The mean step loss of each epoch. */
  readonly epochs: readonly number[];
}

function check(condition: boolean, argument: string, detail: string): void {
  if (!condition) throw new InputError(argument, detail);
}

/** The optimizer and how to release everything it holds. */
function makeOptimizer(opts: FitOptions): { optimizer: tf.Optimizer; dispose: () => void } {
  if (opts.optimizer === 'adam') {
    const adam = tf.train.adam(opts.learningRate);
    return { optimizer: adam, dispose: () => adam.dispose() };
  }
  const momentum = opts.momentum ?? 0;
  if (momentum === 0) {
    const sgd = tf.train.sgd(opts.learningRate);
    return { optimizer: sgd, dispose: () => sgd.dispose() };
  }
  const withMomentum = tf.train.momentum(opts.learningRate, momentum);
  return {
    optimizer: withMomentum,
    dispose: () => {
      withMomentum.dispose();
      // tfjs 4.22's MomentumOptimizer.dispose() forgets the learning-rate scalar its SGD base holds.
      tf.SGDOptimizer.prototype.dispose.call(withMomentum);
    },
  };
}

function lossOf(name: LossName, prediction: tf.Tensor, y: tf.Tensor): tf.Scalar {
  if (name === 'mse') return tf.losses.meanSquaredError(y, prediction);
  const labels = y.dtype === 'int32' ? tf.oneHot(y as tf.Tensor1D, prediction.shape[1] ?? 0) : y;
  return tf.losses.softmaxCrossEntropy(labels, prediction);
}

function checkTarget(name: LossName, prediction: readonly number[], y: tf.Tensor): void {
  const spell = (s: readonly number[]) => `[${s.join(', ')}]`;
  if (name === 'softmaxCrossEntropy') {
    check(prediction.length === 2, 'output', `softmaxCrossEntropy needs [N, K] logits, the output is ${spell(prediction)}`);
    if (y.dtype === 'int32') {
      check(y.rank === 1, 'y', `class indices must be rank 1 [N], got ${spell(y.shape)}`);
      return;
    }
  }
  const expected = [y.shape[0], ...prediction.slice(1)];
  check(
    y.rank === prediction.length && y.shape.every((d, i) => d === expected[i]),
    'y',
    `shape ${spell(y.shape)} does not match the output ${spell(expected)}`,
  );
}

/** The sample order of one epoch: 0..n-1, shuffled by Fisher-Yates when there is an rng. */
export function permutation(n: number, rng: (() => number) | undefined): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (rng === undefined) return order;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

function progressBar(enabled: boolean): { update(p: FitProgress): void; endEpoch(): void } {
  const width = 24;
  return {
    update(p) {
      if (!enabled) return;
      const filled = Math.round((width * p.step) / p.stepsPerEpoch);
      const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
      process.stderr.write(`\repoch ${p.epoch}/${p.epochs} [${bar}] ${p.step}/${p.stepsPerEpoch} loss ${p.loss.toPrecision(4)}`);
    },
    endEpoch() {
      if (enabled) process.stderr.write('\n');
    },
  };
}

/**
 * Trains `compiled` in place and returns the loss history. Leaves tf.memory().numTensors as it
 * found it: batches, gradients and optimizer state are all released.
 */
export async function fit(compiled: CompiledGraph, data: FitData, opts: FitOptions): Promise<LossHistory> {
  check(Number.isSafeInteger(opts.epochs) && opts.epochs >= 1, 'epochs', `must be a positive integer, got ${opts.epochs}`);
  check(Number.isSafeInteger(opts.batchSize) && opts.batchSize >= 1, 'batchSize', `must be a positive integer, got ${opts.batchSize}`);
  check(Number.isFinite(opts.learningRate) && opts.learningRate > 0, 'learningRate', `must be positive, got ${opts.learningRate}`);
  const momentum = opts.momentum ?? 0;
  check(momentum >= 0 && momentum < 1, 'momentum', `must be in [0, 1), got ${momentum}`);
  check(compiled.inputs.length === 1, 'x', `fit feeds one input, the graph has ${compiled.inputs.length}`);
  const output = opts.output ?? (compiled.outputs.length === 1 ? compiled.outputs[0] : undefined);
  check(output !== undefined && compiled.outputs.includes(output), 'output',
    `name one of the outputs (${compiled.outputs.join(', ')})`);
  const samples = data.x.shape[0];
  check(data.x.rank >= 2 && samples >= 1, 'x', `needs a batch axis with samples, got shape [${data.x.shape.join(', ')}]`);
  check(data.y.shape[0] === samples, 'y', `has ${data.y.shape[0]} samples, x has ${samples}`);

  // An error inside tf.variableGrads would strand the tensors it keeps for backprop, so the
  // target is checked against one forward pass first: in eval mode whatever the graph was
  // compiled with, so that it touches no running statistics.
  const outputShape = tf.tidy(() => compiled.run(tf.slice(data.x, 0, 1), { mode: 'eval' })[output as string].shape);
  checkTarget(opts.loss, outputShape, data.y);

  const trainable = [...compiled.variables.values()];
  const { optimizer, dispose: disposeOptimizer } = makeOptimizer(opts);
  const rng = opts.shuffle ?? true ? createRng(opts.seed ?? 0) : undefined;
  const stepsPerEpoch = Math.ceil(samples / opts.batchSize);
  const bar = progressBar(opts.progressBar ?? process.stderr.isTTY === true);
  const steps: number[] = [];
  const epochs: number[] = [];
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const order = permutation(samples, rng);
      let epochTotal = 0;
      for (let step = 1; step <= stepsPerEpoch; step++) {
        const batch = order.subarray((step - 1) * opts.batchSize, Math.min(step * opts.batchSize, samples));
        const lossTensor = tf.tidy(() => {
          const indices = tf.tensor1d(batch, 'int32');
          const xb = tf.gather(data.x, indices);
          const yb = tf.gather(data.y, indices);
          const { value, grads } = tf.variableGrads(
            () => lossOf(opts.loss, compiled.run(xb, { mode: 'train' })[output as string], yb),
            trainable,
          );
          optimizer.applyGradients(grads);
          return value;
        });
        const loss = (await lossTensor.data())[0];
        lossTensor.dispose();
        steps.push(loss);
        epochTotal += loss;
        const progress = { epoch, epochs: opts.epochs, step, stepsPerEpoch, loss };
        bar.update(progress);
        opts.onProgress?.(progress);
      }
      epochs.push(epochTotal / stepsPerEpoch);
      bar.endEpoch();
    }
  } finally {
    disposeOptimizer();
  }
  return { steps, epochs };
}
