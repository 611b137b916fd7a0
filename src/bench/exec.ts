/**
 * `npm run bench:exec`: what the executor costs over the same network written by hand in tfjs.
 *
 * Per available backend (tensorflow if @tensorflow/tfjs-node loads, wasm, cpu) a ResNet-18 is
 * built in the DSL (full width at 112x112 on tensorflow and wasm; width 16 at 64x64 on cpu, whose
 * plain-JS kernels would otherwise take minutes), given non-trivial BatchNorm statistics, and
 * compiled. The direct version is what a careful user writes in NHWC from the same parameters:
 * filters transposed once to [kH, kW, Cin, Cout], tf.conv2d with numeric padding, tf.batchNorm
 * as a separate op (unfolded, as in the graph), tf.relu, tf.maxPool with its padding, tf.add for
 * the residual, tf.mean for the global pool and tf.fused.matMul with the bias for fc. No conv
 * here has a bias or an activation directly after it (a BN comes between), so nothing else fuses.
 *
 * Both take the same NHWC input and produce [1, 1000]; they must agree (max |difference| is
 * printed) before anything is timed. A timed run is `forward(x)` then `await y.data()`, then the
 * output is disposed outside the clock. After the warm-up, direct and executor runNHWC are timed
 * in rounds, each running both once in a seeded random order, so drift in machine load and the
 * state one run leaves for the next hit both alike; then direct and executor run() likewise.
 * Reported: median, p10 and p90 per variant and the executor/direct median ratio (goal <= 1.05).
 * `executor run()` additionally transposes the NCHW input (and a rank >= 3 output) at the
 * boundary; it is shown for information, the goal uses runNHWC.
 *
 * Also reported, to explain a gap: kernels launched per forward (tf.profile) for each variant,
 * and the time of the executor's shape checks (bind + infer shapes over the graph), which it
 * repeats only when the input size changes.
 *
 *   npm run bench:exec -- [--runs 20] [--warmup 5] [--backend tensorflow|wasm|cpu] [--size N] [--json]
 *
 * --size sets the image size on every backend; a small one (e.g. 32) makes the kernels cheap, so
 * what remains of the ratio is the executor's per-layer JavaScript overhead.
 *
 * A benchmark, not a test: the goal is reported as PASS/FAIL but never changes the exit code;
 * disagreeing outputs do (exit 1).
 */
import * as tf from '@tensorflow/tfjs';
import { performance } from 'node:perf_hooks';
import { input, model, resnet18 as resnet18Layers } from '../../dsl/index.ts';
import { BackendUnavailableError } from '../backend/errors.ts';
import { type CompiledGraph, compileGraph } from '../backend/executor.ts';
import { BACKEND_NAMES, type BackendInfo, type BackendName, selectBackend } from '../backend/select.ts';
import type { Graph, ParamTensor } from '../ir/graph.ts';
import { createRng } from '../ir/init.ts';
import { bindInputShapes, inferShapes } from '../ir/shapes.ts';
import { quantile } from '../io/predict-timing.ts';
import { withTrainedStats } from './trained-stats.ts';

const GOAL_RATIO = 1.05;
/** Outputs must agree to this, relative to the largest output magnitude. */
const AGREEMENT = 1e-4;

export class ExecBenchError extends Error {
  override name = 'ExecBenchError';
}

interface Options {
  readonly runs: number;
  readonly warmup: number;
  readonly backend?: BackendName;
  /** Overrides IMAGE_SIZE for every backend. */
  readonly size?: number;
  readonly json: boolean;
}

const USAGE = `usage: npm run bench:exec -- [--runs N (default 20)] [--warmup N (default 5)] [--backend ${BACKEND_NAMES.join('|')}] [--size N (image H = W)] [--json]`;

function parseArgs(argv: readonly string[]): Options {
  let runs = 20;
  let warmup = 5;
  let backend: BackendName | undefined;
  let size: number | undefined;
  let json = false;
  const count = (flag: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (value === undefined || !Number.isSafeInteger(n) || n < min) {
      throw new ExecBenchError(`${flag} needs an integer >= ${min}, got ${value ?? 'nothing'}\n${USAGE}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') runs = count(arg, argv[++i], 1);
    else if (arg === '--warmup') warmup = count(arg, argv[++i], 0);
    else if (arg === '--size') size = count(arg, argv[++i], 32);
    else if (arg === '--json') json = true;
    else if (arg === '--backend') {
      const name = argv[++i];
      if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
        throw new ExecBenchError(`--backend must be one of ${BACKEND_NAMES.join(', ')}, got ${name ?? 'nothing'}\n${USAGE}`);
      }
      backend = name as BackendName;
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new ExecBenchError(`unknown argument '${arg}'\n${USAGE}`);
  }
  return { runs, warmup, backend, size, json };
}

/** Image size per backend: cpu's plain-JS kernels would take minutes per run at 112. */
const IMAGE_SIZE: Record<BackendName, number> = { tensorflow: 112, wasm: 112, cpu: 64 };

/**
 * ResNet-18 (torchvision's layout) on [1, 3, H, W]. H and W stay symbolic in the graph: the
 * executor binds them from the input, so one graph serves every backend's image size.
 */
function resnet18(): Graph {
  return model(input([1, 3, 'H', 'W'], { name: 'image' }).to(resnet18Layers())).graph;
}


/** The hand-written network: parameters read from the graph by name, converted once. */
interface DirectResNet {
  forward(x: tf.Tensor4D): tf.Tensor;
  dispose(): void;
}

function directResNet18(graph: Graph): DirectResNet {
  const held: tf.Tensor[] = [];
  const hold = <T extends tf.Tensor>(t: T): T => {
    held.push(t);
    return t;
  };
  const params = (name: string): Record<string, ParamTensor> => {
    const node = graph.nodes.find((n) => n.name === name);
    if (node === undefined) throw new ExecBenchError(`the graph has no node '${name}'`);
    return node.params as Record<string, ParamTensor>;
  };
  const filter = (name: string): tf.Tensor4D => {
    const { weight } = params(name);
    const [cout, cin, kh, kw] = weight.shape;
    return hold(tf.tidy(() => tf.transpose(tf.tensor4d(weight.data, [cout, cin, kh, kw]), [2, 3, 1, 0])));
  };
  const vector = (p: ParamTensor): tf.Tensor1D => hold(tf.tensor1d(p.data));
  interface Bn { mean: tf.Tensor1D; variance: tf.Tensor1D; gamma: tf.Tensor1D; beta: tf.Tensor1D }
  const bn = (name: string): Bn => {
    const p = params(name);
    return { mean: vector(p.runningMean), variance: vector(p.runningVar), gamma: vector(p.gamma), beta: vector(p.beta) };
  };
  const EPS = 1e-5;
  const normalize = (x: tf.Tensor4D, b: Bn): tf.Tensor4D => tf.batchNorm(x, b.mean, b.variance, b.beta, b.gamma, EPS);

  const block = (name: string, stride: number, projection: boolean) => {
    const conv1 = filter(`${name}.conv1`);
    const bn1 = bn(`${name}.bn1`);
    const conv2 = filter(`${name}.conv2`);
    const bn2 = bn(`${name}.bn2`);
    const shortcut = projection ? { conv: filter(`${name}.proj`), bn: bn(`${name}.proj_bn`) } : undefined;
    return (x: tf.Tensor4D): tf.Tensor4D => {
      const h = tf.relu(normalize(tf.conv2d(x, conv1, stride, 1), bn1));
      const y = normalize(tf.conv2d(h, conv2, 1, 1), bn2);
      const skip = shortcut ? normalize(tf.conv2d(x, shortcut.conv, stride, 'valid'), shortcut.bn) : x;
      return tf.relu(tf.add(y, skip));
    };
  };

  const stem = { conv: filter('conv1'), bn: bn('bn1') };
  const blocks = [
    block('layer1.0', 1, false),
    block('layer1.1', 1, false),
    block('layer2.0', 2, true),
    block('layer2.1', 1, false),
    block('layer3.0', 2, true),
    block('layer3.1', 1, false),
    block('layer4.0', 2, true),
    block('layer4.1', 1, false),
  ];
  const fc = params('fc');
  const fcWeight = hold(tf.tidy(() => tf.transpose(tf.tensor2d(fc.weight.data, [fc.weight.shape[0], fc.weight.shape[1]]))));
  const fcBias = vector(fc.bias);

  return {
    forward: (x) =>
      tf.tidy(() => {
        let h = tf.maxPool(tf.relu(normalize(tf.conv2d(x, stem.conv, 2, 3), stem.bn)), 3, 2, 1);
        for (const run of blocks) h = run(h);
        return tf.fused.matMul({ a: tf.mean(h, [1, 2]), b: fcWeight, bias: fcBias });
      }),
    dispose: () => {
      for (const t of held) t.dispose();
    },
  };
}

interface Summary {
  readonly medianMs: number;
  readonly p10Ms: number;
  readonly p90Ms: number;
}

function summarize(times: readonly number[]): Summary {
  const sorted = [...times].sort((a, b) => a - b);
  return { medianMs: quantile(sorted, 0.5), p10Ms: quantile(sorted, 0.1), p90Ms: quantile(sorted, 0.9) };
}

type Forward = () => tf.Tensor;

/**
 * `runs` rounds, each timing every variant once in a seeded random order. Variants are compared
 * in pairs: on wasm a forward is measurably faster or slower depending on what ran just before
 * it (allocator and GC state), so a third variant in the rotation skews the other two.
 */
async function interleaved(variants: readonly Variant[], runs: number): Promise<number[][]> {
  const times = variants.map((): number[] => []);
  const rng = createRng(runs);
  for (let run = 0; run < runs; run++) {
    for (const i of shuffled(variants.length, rng)) times[i].push(await timeOnce(variants[i].forward));
  }
  return times;
}

/** 0..n-1 in a seeded random order (Fisher-Yates). */
function shuffled(n: number, rng: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

async function timeOnce(forward: Forward): Promise<number> {
  const start = performance.now();
  const y = forward();
  await y.data();
  const elapsed = performance.now() - start;
  y.dispose();
  return elapsed;
}

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<{ diff: number; scale: number }> {
  const [x, y] = await Promise.all([a.data(), b.data()]);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return { diff, scale };
}

/** Kernels launched by one forward, by kernel name. */
async function kernelCounts(forward: Forward): Promise<{ total: number; byName: Record<string, number> }> {
  const info = await tf.profile(() => {
    const y = forward();
    // tf.profile keeps what the function returns alive; nothing of it is needed.
    return tf.tidy(() => tf.sum(y));
  });
  const byName: Record<string, number> = {};
  for (const k of info.kernels) byName[k.name] = (byName[k.name] ?? 0) + 1;
  tf.dispose(info.result as tf.Tensor);
  return { total: info.kernels.length, byName };
}

interface Variant {
  readonly name: string;
  readonly forward: Forward;
}

interface BackendResult {
  readonly backend: BackendName;
  readonly detail: string;
  readonly network: { readonly input: readonly number[]; readonly nodes: number };
  readonly runs: number;
  readonly warmup: number;
  readonly maxAbsDiff: number;
  readonly outputScale: number;
  readonly timings: Record<string, Summary>;
  readonly ratio: number;
  readonly ratioWithBoundary: number;
  readonly pass: boolean;
  readonly kernels: Record<string, { total: number; byName: Record<string, number> }>;
  /** Median time of the executor's shape checks alone (paid when the input size changes). */
  readonly inputCheckMs: number;
}

interface Skipped {
  readonly backend: BackendName;
  readonly skipped: string;
}

function medianOf(fn: () => void, repeats: number): number {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return summarize(times).medianMs;
}

async function benchBackend(info: BackendInfo, opts: Options, log: (line: string) => void): Promise<BackendResult> {
  const size = opts.size ?? IMAGE_SIZE[info.name];
  const graph = withTrainedStats(resnet18(), 1);
  const compiled: CompiledGraph = compileGraph(graph, { mode: 'eval' });
  const direct = directResNet18(graph);
  const output = graph.outputs[0];
  const nchw = tf.tidy(() => tf.randomUniform([1, 3, size, size], -1, 1, 'float32', 7));
  const nhwc = tf.transpose(nchw, [0, 2, 3, 1]) as tf.Tensor4D;
  const variants: Variant[] = [
    { name: 'direct tfjs (NHWC)', forward: () => direct.forward(nhwc) },
    { name: 'executor runNHWC', forward: () => compiled.runNHWC(nhwc)[output] },
    { name: 'executor run (NCHW)', forward: () => compiled.run(nchw)[output] },
  ];
  try {
    log(`backend ${info.detail}: ResNet-18, input [1, 3, ${size}, ${size}], ${graph.nodes.length} nodes`);
    const [reference, ...others] = variants.map((v) => v.forward());
    let worst = { diff: 0, scale: 0 };
    for (const other of others) {
      const d = await maxAbsDiff(other, reference);
      worst = { diff: Math.max(worst.diff, d.diff), scale: Math.max(worst.scale, d.scale) };
    }
    tf.dispose([reference, ...others]);
    log(`  verify: max |executor - direct| = ${worst.diff.toExponential(2)} (outputs up to ${worst.scale.toFixed(3)})`);
    if (!(worst.diff <= AGREEMENT * Math.max(1, worst.scale))) {
      throw new ExecBenchError(`${info.name}: executor and direct outputs differ by ${worst.diff}; not timing a different computation`);
    }

    for (let i = 0; i < opts.warmup; i++) for (const v of variants) await timeOnce(v.forward);
    const [directVariant, nhwcVariant, nchwVariant] = variants;
    const [directTimes, nhwcTimes] = await interleaved([directVariant, nhwcVariant], opts.runs);
    const [directAgain, nchwTimes] = await interleaved([directVariant, nchwVariant], opts.runs);
    const timings = Object.fromEntries(
      [directTimes, nhwcTimes, nchwTimes].map((times, i) => [variants[i].name, summarize(times)]),
    );
    const ratio = timings[nhwcVariant.name].medianMs / timings[directVariant.name].medianMs;
    const ratioWithBoundary = timings[nchwVariant.name].medianMs / summarize(directAgain).medianMs;

    const kernels: Record<string, { total: number; byName: Record<string, number> }> = {};
    for (const v of variants) kernels[v.name] = await kernelCounts(v.forward);
    const concrete = { image: [1, 3, size, size] };
    const inputCheckMs = medianOf(() => {
      bindInputShapes(graph, concrete);
      inferShapes(graph, concrete);
    }, 50);

    log(`  ${opts.runs} timed runs after ${opts.warmup} warm-up, forward + await data():`);
    log(`    ${'variant'.padEnd(22)}${'median'.padStart(10)}${'p10'.padStart(10)}${'p90'.padStart(10)}${'kernels'.padStart(10)}`);
    for (const v of variants) {
      const t = timings[v.name];
      const ms = (x: number) => `${x.toFixed(2)} ms`.padStart(10);
      log(`    ${v.name.padEnd(22)}${ms(t.medianMs)}${ms(t.p10Ms)}${ms(t.p90Ms)}${String(kernels[v.name].total).padStart(10)}`);
    }
    const extra = kernelDifference(kernels[variants[1].name].byName, kernels[variants[0].name].byName);
    log(`  kernels executor runNHWC vs direct: ${extra || 'same kernels'}`);
    log(`  executor shape checks (bind + infer every layer; first run of each input size only): ${inputCheckMs.toFixed(3)} ms median`);
    const pass = ratio <= GOAL_RATIO;
    log(`  executor/direct median ratio: ${ratio.toFixed(3)} (run() with the NCHW boundary, against its own direct rounds: ${ratioWithBoundary.toFixed(3)})`);
    log(`  goal: overhead <= ${Math.round((GOAL_RATIO - 1) * 100)}%: ${pass ? 'PASS' : 'FAIL'}`);
    return {
      backend: info.name,
      detail: info.detail,
      network: { input: [1, 3, size, size], nodes: graph.nodes.length },
      runs: opts.runs,
      warmup: opts.warmup,
      maxAbsDiff: worst.diff,
      outputScale: worst.scale,
      timings,
      ratio,
      ratioWithBoundary,
      pass,
      kernels,
      inputCheckMs,
    };
  } finally {
    compiled.dispose();
    direct.dispose();
    tf.dispose([nchw, nhwc]);
  }
}

/** 'Pad +1, Transpose -2': kernels one variant launches more (or fewer) than the other. */
function kernelDifference(a: Record<string, number>, b: Record<string, number>): string {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return names
    .map((name) => [name, (a[name] ?? 0) - (b[name] ?? 0)] as const)
    .filter(([, d]) => d !== 0)
    .map(([name, d]) => `${name} ${d > 0 ? '+' : ''}${d}`)
    .join(', ');
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const log = opts.json ? () => {} : (line: string) => console.log(line);
  log('bench:exec: shapefold executor vs. the same ResNet-18 written directly in tfjs');
  const results: (BackendResult | Skipped)[] = [];
  for (const name of opts.backend ? [opts.backend] : BACKEND_NAMES) {
    let info: BackendInfo;
    try {
      info = await selectBackend({ backend: name });
    } catch (e) {
      if (!(e instanceof BackendUnavailableError)) throw e;
      log(`backend ${name}: skipped: ${e.message}`);
      results.push({ backend: name, skipped: e.message });
      continue;
    }
    results.push(await benchBackend(info, opts, log));
  }
  if (opts.json) console.log(JSON.stringify(results, null, 2));
}

main().catch((e: unknown) => {
  if (e instanceof ExecBenchError) {
    console.error(`bench:exec: ${e.message}`);
    process.exit(1);
  }
  throw e;
});
