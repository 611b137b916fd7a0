/**
 * `npm run bench:layers`: a MobileNet-v1-style Keras model (keras.applications' structure,
 * 224x224, batch 1, width 1.0: 27 conv/depthwise layers each with BN and ReLU6, then GAP -> 1x1
 * conv head; random weights and BN statistics) generated with tfjs-layers, against the same model
 * imported, folded (every BN into its conv) and exported back as a stock Layers model. Both run
 * with stock `model.predict` on wasm, in interleaved rounds. Reported: median ms each, the
 * speedup, and max |folded - original| over the 1000 outputs.
 *
 * ANCHORS.md: a conv->BN fold written back this way measured 1.5-2.1x on this backend, and
 * TensorFlow's own converter fold ~1.45x; the goal printed is >= 1.45x.
 *
 *   npm run bench:layers -- [--runs 15] [--warmup 3] [--size 224] [--json]
 *
 * A benchmark, not a test: goals print PASS/FAIL and never change the exit code.
 */
import * as tf from '@tensorflow/tfjs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { selectBackend } from '../backend/select.ts';
import { foldGraph } from '../fold/index.ts';
import { createRng } from '../ir/init.ts';
import { LAYERS_EXPORTABLE_RULES, exportLayersModel, importLayersModel, type LayersModelJSON } from '../io/index.ts';
import { interleavedMedians, layersModelToMemory, loadLayersFromMemory, randomizeLayersWeights } from './layers-timing.ts';

const GOAL_SPEEDUP = 1.45;
const USAGE = 'usage: npm run bench:layers -- [--runs N (15)] [--warmup N (3)] [--size N (224)] [--json]';

export class LayersBenchError extends Error {
  override name = 'LayersBenchError';
}

interface Options {
  readonly runs: number;
  readonly warmup: number;
  readonly size: number;
  readonly json: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const o = { runs: 15, warmup: 3, size: 224, json: false };
  const count = (flag: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (value === undefined || !Number.isInteger(n) || n < min) throw new LayersBenchError(`${flag} needs an integer >= ${min}, got ${value ?? 'nothing'}\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') o.runs = count(arg, argv[++i], 1);
    else if (arg === '--warmup') o.warmup = count(arg, argv[++i], 0);
    else if (arg === '--size') o.size = count(arg, argv[++i], 32);
    else if (arg === '--json') o.json = true;
    else throw new LayersBenchError(`unknown option '${arg}'\n${USAGE}`);
  }
  return o;
}

type ST = tf.SymbolicTensor;
const L = tf.layers;
const apply = (layer: tf.layers.Layer, x: ST): ST => layer.apply(x) as ST;

/** keras.applications.MobileNet (alpha 1.0): [filters, stride] of the 13 depthwise blocks. */
const BLOCKS = [[64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2], [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1]] as const;

function bnRelu6(x: ST, name: string): ST {
  return apply(L.reLU({ maxValue: 6, name: `${name}_relu` }), apply(L.batchNormalization({ name: `${name}_bn` }), x));
}

function padIfStrided(x: ST, stride: number, name: string): ST {
  return stride === 2 ? apply(L.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: `${name}_pad` }), x) : x;
}

export function mobileNetV1(size: number, classes = 1000): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3], name: 'input_1' });
  let x = apply(L.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'conv1' }), padIfStrided(input, 2, 'conv1'));
  x = bnRelu6(x, 'conv1');
  BLOCKS.forEach(([filters, stride], i) => {
    const name = `conv_dw_${i + 1}`;
    x = apply(L.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: stride === 2 ? 'valid' : 'same', useBias: false, name }), padIfStrided(x, stride, name));
    x = bnRelu6(x, name);
    x = bnRelu6(apply(L.conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false, name: `conv_pw_${i + 1}` }), x), `conv_pw_${i + 1}`);
  });
  x = apply(L.globalAveragePooling2d({ name: 'global_average_pooling2d' }), x);
  x = apply(L.reshape({ targetShape: [1, 1, 1024], name: 'reshape_1' }), x);
  x = apply(L.dropout({ rate: 0.001, name: 'dropout' }), x);
  x = apply(L.conv2d({ filters: classes, kernelSize: 1, padding: 'same', name: 'conv_preds' }), x);
  x = apply(L.reshape({ targetShape: [classes], name: 'reshape_2' }), x);
  return tf.model({ inputs: input, outputs: x, name: 'mobilenet_1.00_224' });
}

const layerCount = (json: LayersModelJSON, className: string) =>
  (json.modelTopology as { config: { layers: { class_name: string }[] } }).config.layers.filter((l) => l.class_name === className).length;

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const backend = await selectBackend({ backend: 'wasm' });
  const original = mobileNetV1(o.size);
  randomizeLayersWeights(original, 1);
  const saved = await layersModelToMemory(original);
  const t0 = performance.now();
  const graph = importLayersModel(saved.modelJson, saved.weightData, 'mobilenet (generated)');
  const t1 = performance.now();
  const { graph: folded, report } = foldGraph(graph, { rules: LAYERS_EXPORTABLE_RULES, probe: false });
  const t2 = performance.now();
  const exported = exportLayersModel(folded, 'mobilenet_folded');
  const t3 = performance.now();
  const foldedModel = await loadLayersFromMemory(exported);

  const rng = createRng(2);
  const x = tf.tensor(Float32Array.from({ length: o.size * o.size * 3 }, () => 2 * rng() - 1), [1, o.size, o.size, 3]);
  const [originalMs, foldedMs] = interleavedMedians([original, foldedModel], x, o.runs, o.warmup);
  const maxDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(original.predict(x) as tf.Tensor, foldedModel.predict(x) as tf.Tensor))).dataSync()[0]);
  const result = {
    backend: backend.name,
    size: o.size,
    runs: o.runs,
    layers: { original: layerCount(saved.modelJson, 'BatchNormalization'), folded: layerCount(exported.modelJson, 'BatchNormalization') },
    folds: report.folds.length,
    importMs: t1 - t0,
    foldMs: t2 - t1,
    exportMs: t3 - t2,
    originalMs,
    foldedMs,
    speedup: originalMs / foldedMs,
    maxAbsDiff: maxDiff,
  };
  x.dispose();
  original.dispose();
  foldedModel.dispose();
  if (o.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  console.log(`bench:layers  MobileNet v1 (width 1.0, ${o.size}x${o.size}, batch 1), stock model.predict on ${backend.name}, ${o.runs} interleaved runs`);
  console.log(`  BatchNormalization layers  ${result.layers.original} -> ${result.layers.folded} (${result.folds} folds)`);
  console.log(`  import ${result.importMs.toFixed(0)} ms, fold ${result.foldMs.toFixed(0)} ms, export ${result.exportMs.toFixed(0)} ms`);
  console.log(`  original Layers model      ${result.originalMs.toFixed(1)} ms (median)`);
  console.log(`  folded, exported to Layers ${result.foldedMs.toFixed(1)} ms (median)`);
  console.log(`  speedup                    ${result.speedup.toFixed(2)}x  goal >= ${GOAL_SPEEDUP}x (TensorFlow converter's fold): ${result.speedup >= GOAL_SPEEDUP ? 'PASS' : 'FAIL'}`);
  console.log(`  max |folded - original|    ${result.maxAbsDiff.toExponential(2)}`);
}

// Run only as a script: the model builder is importable without starting the benchmark.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    if (error instanceof LayersBenchError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  });
}
