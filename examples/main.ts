/**
 * `npm start`: build ResNet-18 in the typed DSL, print every layer's inferred shape, then run it
 * in eval mode on random input on the best available tfjs backend and report backend and timing.
 */
import * as tf from '@tensorflow/tfjs';
import { model } from '../dsl/index.ts';
import { compileGraph, selectBackend } from '../src/backend/index.ts';
import { formatShapeTable } from '../src/report/summary.ts';
import { resnet18 } from './resnet18.ts';

const { graph, outputShape } = model(resnet18());
console.log('ResNet-18, built in the typed DSL (shapes inferred by the compiler and again at run time):\n');
console.log(formatShapeTable(graph));

const backend = await selectBackend();
console.log(`\nbackend: ${backend.name}${backend.fallbacks.map((f) => `  (${f.name} unavailable: ${f.reason})`).join('')}`);

const before = tf.memory().numTensors;
const compiled = compileGraph(graph, { mode: 'eval' });
const batch = 1;
const x = tf.randomNormal([batch, 3, 224, 224], 0, 1, 'float32', 42);
const times: number[] = [];
let outShape: number[] = [];
for (let run = 0; run < 6; run++) {
  const start = performance.now();
  const outputs = compiled.run(x);
  const y = Object.values(outputs)[0];
  await y.data();
  times.push(performance.now() - start);
  outShape = y.shape;
  tf.dispose(Object.values(outputs));
}
x.dispose();
compiled.dispose();
const warm = times.slice(1).sort((a, b) => a - b);
console.log(`eval forward, batch ${batch}: output [${outShape.join(', ')}] (declared [${outputShape.join(', ')}])`);
console.log(`time: first run ${times[0].toFixed(1)} ms, median of ${warm.length} warm runs ${warm[Math.floor(warm.length / 2)].toFixed(1)} ms`);
console.log(`tensors leaked: ${tf.memory().numTensors - before}`);
