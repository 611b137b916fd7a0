/**
 * `npm start`: build ResNet-18 in the typed DSL and print every layer's inferred shape; fold its
 * BatchNorms into the convolutions and print the fold report; then run the original and the
 * folded network in eval mode on the same random input on the best available tfjs backend, and
 * report the backend, both timings, the largest output difference and the tensors leaked.
 */
import * as tf from '@tensorflow/tfjs';
import { model } from '../dsl/index.ts';
import { compileGraph, selectBackend } from '../src/backend/index.ts';
import { foldGraph, formatFoldReport } from '../src/fold/index.ts';
import type { Graph } from '../src/ir/graph.ts';
import { withTrainedStats } from '../src/bench/trained-stats.ts';
import { formatShapeTable } from '../src/report/summary.ts';
import { resnet18 } from './resnet18.ts';

const RUNS = 8;

const { graph: fresh, outputShape } = model(resnet18());
// Fresh BatchNorms are the identity; fold ones with statistics a trained network might have.
const graph = withTrainedStats(fresh, 1);
console.log('ResNet-18 in the typed DSL (shapes inferred by the compiler, and again at run time):\n');
console.log(formatShapeTable(graph));

const backend = await selectBackend();
console.log(`\nbackend: ${backend.name}${backend.fallbacks.map((f) => `  (${f.name} unavailable: ${f.reason})`).join('')}`);

const foldStart = performance.now();
const folded = foldGraph(graph, { probe: false });
const foldMs = performance.now() - foldStart;
console.log(`\n${formatFoldReport(folded.report)}`);
console.log(`folding took ${foldMs.toFixed(0)} ms`);

const before = tf.memory().numTensors;
const x = tf.randomNormal([1, 3, 224, 224], 0, 1, 'float32', 42);

/** Median warm time of RUNS eval forwards, and the output of the last one. */
async function timeForward(g: Graph): Promise<{ median: number; output: Float32Array }> {
  const net = compileGraph(g, { mode: 'eval' });
  try {
    const times: number[] = [];
    let output: Float32Array = new Float32Array();
    for (let run = 0; run <= RUNS; run++) {
      const start = performance.now();
      const outputs = net.run(x);
      output = (await Object.values(outputs)[0].data()) as Float32Array;
      if (run > 0) times.push(performance.now() - start);
      tf.dispose(Object.values(outputs));
    }
    times.sort((a, b) => a - b);
    return { median: times[Math.floor(times.length / 2)], output };
  } finally {
    net.dispose();
  }
}

const original = await timeForward(graph);
const foldedRun = await timeForward(folded.graph);
x.dispose();

let maxDiff = 0;
let maxAbs = 0;
for (let k = 0; k < original.output.length; k++) {
  maxDiff = Math.max(maxDiff, Math.abs(original.output[k] - foldedRun.output[k]));
  maxAbs = Math.max(maxAbs, Math.abs(original.output[k]));
}
console.log(`\neval forward, batch 1, output [1, ${outputShape.slice(1).join(', ')}], median of ${RUNS} warm runs on ${backend.name}:`);
console.log(`  original ${original.median.toFixed(1)} ms, folded ${foldedRun.median.toFixed(1)} ms: ${(original.median / foldedRun.median).toFixed(2)}x`);
console.log(`  max |folded - original| = ${maxDiff.toExponential(2)} (outputs up to ${maxAbs.toFixed(2)})`);
console.log(`  tensors leaked: ${tf.memory().numTensors - before}`);
