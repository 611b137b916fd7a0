/**
 * `npm run bench:fold`: what folding costs and what it buys.
 *
 *   fold time      ResNet-50 built in the DSL (53 BNs), median of --runs after --warmup;
 *                  goal < 50 ms. Plain chains of L x (3x3 conv -> BN -> ReLU), L = 100, 300,
 *                  1000, 3000, 10000: one fold each (median of three up to 300), ms per layer and
 *                  the growth exponent of a log-log fit; goals < 1 s at 10,000 and growth ~linear
 *                  (exponent <= 1.2). A chain whose projected time exceeds --max-seconds is not
 *                  run; its projection (from the exponent so far) is printed instead.
 *   accuracy       ResNet-50 at --ref-size (small: the float64 reference is plain JavaScript):
 *                  max |folded_f32 - ref64| / max |original_f32 - ref64|, both float32 runs on the
 *                  tfjs executor (compileGraph), the reference on the original graph; goal <= 2.
 *   speed          original vs folded ResNet-50 on the executor (wasm, batch 1, --size), timed in
 *                  interleaved rounds; median ms and the speedup. ANCHORS.md: TensorFlow's own
 *                  converter fold gives ~1.45x on a MobileNet-style model on this backend.
 *
 *   npm run bench:fold -- [--runs 7] [--warmup 2] [--size 224] [--ref-size 64] [--max-seconds 60] [--json]
 *
 * A benchmark, not a test: goals print PASS/FAIL and never change the exit code.
 */
import * as tf from '@tensorflow/tfjs';
import { performance } from 'node:perf_hooks';
import { input, model, resnet50 as resnet50Layers } from '../../dsl/index.ts';
import { compileGraph } from '../backend/executor.ts';
import { selectBackend } from '../backend/select.ts';
import { foldGraph } from '../fold/index.ts';
import { GraphBuilder } from '../ir/builder.ts';
import type { Graph } from '../ir/graph.ts';
import { createRng } from '../ir/init.ts';
import { runReference } from '../reference/run.ts';
import { withTrainedStats } from './trained-stats.ts';

const GOALS = { resnetFoldMs: 50, chain10kMs: 1000, growthExponent: 1.2, errorRatio: 2 } as const;
const CHAIN_LENGTHS = [100, 300, 1000, 3000, 10000] as const;

export class FoldBenchError extends Error {
  override name = 'FoldBenchError';
}

interface Options {
  readonly runs: number;
  readonly warmup: number;
  readonly size: number;
  readonly refSize: number;
  readonly maxSeconds: number;
  readonly json: boolean;
}

const USAGE = 'usage: npm run bench:fold -- [--runs N (7)] [--warmup N (2)] [--size N (224)] [--ref-size N (64)] [--max-seconds S (60)] [--json]';

function parseArgs(argv: readonly string[]): Options {
  const o = { runs: 7, warmup: 2, size: 224, refSize: 64, maxSeconds: 60, json: false };
  const count = (flag: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < min) throw new FoldBenchError(`${flag} needs a number >= ${min}, got ${value ?? 'nothing'}\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') o.runs = count(arg, argv[++i], 1);
    else if (arg === '--warmup') o.warmup = count(arg, argv[++i], 0);
    else if (arg === '--size') o.size = count(arg, argv[++i], 32);
    else if (arg === '--ref-size') o.refSize = count(arg, argv[++i], 32);
    else if (arg === '--max-seconds') o.maxSeconds = count(arg, argv[++i], 1);
    else if (arg === '--json') o.json = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new FoldBenchError(`unknown argument '${arg}'\n${USAGE}`);
  }
  return o;
}

/** ResNet-50 (torchvision layout) on [1, 3, H, W], H and W bound by each run's input. */
function resnet50(): Graph {
  return model(input([1, 3, 'H', 'W'], { name: 'image' }).to(resnet50Layers())).graph;
}


/** L x (3x3 conv 8 -> 8, pad 1, no bias -> BN -> ReLU) on [1, 8, 8, 8]. */
function plainChain(layers: number): Graph {
  const b = new GraphBuilder({ seed: layers });
  let x = b.addInput([1, 8, 8, 8], 'x');
  for (let i = 0; i < layers; i++) {
    x = b.addNode({
      op: 'conv2d',
      inputs: [x],
      name: `conv${i}`,
      attrs: { inChannels: 8, outChannels: 8, kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1, bias: false },
    });
    x = b.addNode({ op: 'batchNorm', inputs: [x], name: `bn${i}`, attrs: { numFeatures: 8, eps: 1e-5, frozen: false, decay: 0.9, unbiasedRunningVar: true } });
    x = b.addNode({ op: 'relu', inputs: [x], name: `relu${i}`, attrs: {} });
  }
  return withTrainedStats(b.build([x]), layers);
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function timeFold(graph: Graph, runs: number, warmup: number): { ms: number; folds: number; left: number } {
  let result = foldGraph(graph, { probe: false });
  for (let i = 1; i < warmup; i++) result = foldGraph(graph, { probe: false });
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    result = foldGraph(graph, { probe: false });
    times.push(performance.now() - t);
  }
  return { ms: median(times), folds: result.report.folds.length, left: result.report.left.length };
}

/** Least-squares slope of log(ms) against log(layers). */
function growthExponent(points: readonly { layers: number; ms: number }[]): number {
  const xs = points.map((p) => Math.log(p.layers));
  const ys = points.map((p) => Math.log(p.ms));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return num / den;
}

interface ChainResult {
  readonly layers: number;
  readonly ms?: number;
  readonly msPerLayer?: number;
  /** Not run: projected from the growth so far. */
  readonly projectedMs?: number;
}

function benchChains(opts: Options, log: (line: string) => void): { chains: ChainResult[]; exponent: number } {
  const measured: { layers: number; ms: number }[] = [];
  const chains: ChainResult[] = [];
  for (const layers of CHAIN_LENGTHS) {
    if (measured.length >= 2) {
      const last = measured[measured.length - 1];
      const projected = last.ms * (layers / last.layers) ** growthExponent(measured);
      if (projected > opts.maxSeconds * 1000) {
        chains.push({ layers, projectedMs: projected });
        log(`  chain ${String(layers).padStart(5)}: not run, projected ${(projected / 1000).toFixed(1)} s (> --max-seconds ${opts.maxSeconds})`);
        continue;
      }
    }
    const graph = plainChain(layers);
    const { ms, folds } = timeFold(graph, layers <= 300 ? 3 : 1, layers <= 300 ? 1 : 0);
    if (folds !== layers) throw new FoldBenchError(`chain of ${layers}: expected ${layers} folds, got ${folds}`);
    measured.push({ layers, ms });
    chains.push({ layers, ms, msPerLayer: ms / layers });
    log(`  chain ${String(layers).padStart(5)}: ${ms.toFixed(1).padStart(9)} ms  ${(ms / layers).toFixed(3)} ms/layer`);
  }
  return { chains, exponent: growthExponent(measured) };
}

function randomImage(size: number, seed: number): { data: Float32Array; shape: number[] } {
  const rng = createRng(seed);
  return { data: Float32Array.from({ length: 3 * size * size }, () => 2 * rng() - 1), shape: [1, 3, size, size] };
}

/** max |f32 - ref| over the output, for the original and the folded graph. */
function accuracy(original: Graph, folded: Graph, size: number): { original: number; folded: number; ratio: number; referenceMs: number } {
  const image = randomImage(size, 7);
  const t = performance.now();
  const reference = runReference(original, { image: { shape: image.shape, data: Float64Array.from(image.data) } }, { mode: 'eval' }).outputs;
  const referenceMs = performance.now() - t;
  const ref = Object.values(reference)[0].data;
  const maxError = (graph: Graph): number => {
    const compiled = compileGraph(graph);
    const x = tf.tensor(image.data, image.shape, 'float32');
    const outputs = compiled.run(x);
    const got = Array.from(Object.values(outputs)[0].dataSync() as Float32Array);
    tf.dispose([x, ...Object.values(outputs)]);
    compiled.dispose();
    return got.reduce((m: number, v: number, i: number) => Math.max(m, Math.abs(v - ref[i])), 0);
  };
  const o = maxError(original);
  const f = maxError(folded);
  return { original: o, folded: f, ratio: f / o, referenceMs };
}

/** Median run time of each graph, timed in interleaved rounds (a run ends when the data is read). */
async function speed(original: Graph, folded: Graph, opts: Options): Promise<{ originalMs: number; foldedMs: number; speedup: number }> {
  const compiled = [compileGraph(original), compileGraph(folded)];
  const image = randomImage(opts.size, 11);
  const x = tf.tensor(image.data, image.shape, 'float32');
  const once = async (k: number): Promise<number> => {
    const t = performance.now();
    const outputs = compiled[k].run(x);
    await Promise.all(Object.values(outputs).map((o) => o.data()));
    const ms = performance.now() - t;
    tf.dispose(Object.values(outputs));
    return ms;
  };
  for (let i = 0; i < opts.warmup; i++) for (const k of [0, 1]) await once(k);
  const times: number[][] = [[], []];
  for (let r = 0; r < opts.runs; r++) for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) times[k].push(await once(k));
  x.dispose();
  compiled.forEach((c) => c.dispose());
  const [originalMs, foldedMs] = times.map(median);
  return { originalMs, foldedMs, speedup: originalMs / foldedMs };
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const log = opts.json ? () => {} : (line: string) => console.log(line);
  const backend = await selectBackend({ backend: 'wasm' });
  const tensorsBefore = tf.memory().numTensors;

  const original = withTrainedStats(resnet50(), 1);
  log(`ResNet-50: ${original.nodes.length} nodes`);
  const resnet = timeFold(original, opts.runs, opts.warmup);
  const folded = foldGraph(original, { probe: false }).graph;
  log(`  fold: ${resnet.ms.toFixed(1)} ms median of ${opts.runs} (${resnet.folds} folds, ${resnet.left} norm-like nodes left, ${folded.nodes.length} nodes after)`);

  log('plain chains (3x3 conv -> BN -> ReLU):');
  const { chains, exponent } = benchChains(opts, log);
  log(`  growth exponent (log-log fit): ${exponent.toFixed(2)}`);

  log(`accuracy on ResNet-50 at ${opts.refSize}x${opts.refSize} (float32 executor vs float64 reference):`);
  const acc = accuracy(original, folded, opts.refSize);
  log(`  max |original - ref| ${acc.original.toExponential(3)}, max |folded - ref| ${acc.folded.toExponential(3)}, ratio ${acc.ratio.toFixed(3)} (reference took ${(acc.referenceMs / 1000).toFixed(1)} s)`);

  log(`speed on the executor (${backend.name}, batch 1, ${opts.size}x${opts.size}):`);
  const run = await speed(original, folded, opts);
  log(`  original ${run.originalMs.toFixed(1)} ms, folded ${run.foldedMs.toFixed(1)} ms: ${run.speedup.toFixed(2)}x (TF converter fold on a MobileNet-style model: ~1.45x)`);

  const chain10k = chains.find((c) => c.layers === 10000);
  const chain10kMs = chain10k?.ms ?? chain10k?.projectedMs ?? Infinity;
  const goals = [
    { goal: `ResNet-50 fold < ${GOALS.resnetFoldMs} ms`, value: resnet.ms, pass: resnet.ms < GOALS.resnetFoldMs },
    {
      goal: `10,000-layer chain fold < ${GOALS.chain10kMs} ms${chain10k?.ms === undefined ? ' (projected)' : ''}`,
      value: chain10kMs,
      pass: chain10k?.ms !== undefined && chain10k.ms < GOALS.chain10kMs,
    },
    { goal: `fold time growth ~linear (exponent <= ${GOALS.growthExponent})`, value: exponent, pass: exponent <= GOALS.growthExponent },
    { goal: `folded error / original error <= ${GOALS.errorRatio}`, value: acc.ratio, pass: acc.ratio <= GOALS.errorRatio },
  ];
  for (const g of goals) log(`${verdict(g.pass)}  ${g.goal}: ${g.value.toFixed(g.value < 10 ? 3 : 1)}`);
  const leaked = tf.memory().numTensors - tensorsBefore;
  if (leaked !== 0) log(`warning: ${leaked} tensors left behind`);
  if (opts.json) {
    console.log(JSON.stringify({ backend: backend.name, resnet50: { ...resnet, nodes: original.nodes.length }, chains, growthExponent: exponent, accuracy: acc, speed: run, goals }, null, 2));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof FoldBenchError ? error.message : error);
  process.exit(1);
});
