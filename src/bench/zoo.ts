/**
 * `npm run bench:zoo`: every architecture of the zoo (src/bench/zoo-models.ts, the definitions the
 * test suite runs small) at full size, batch 1, random weights and BN statistics, generated with
 * stock tfjs-layers; imported, folded, exported back to a stock Layers model, and both timed with
 * stock `model.predict` in interleaved rounds (medians). Writes the table as BENCHMARKS.md's zoo
 * section, keeping the rest of the file.
 *
 *   npm run bench:zoo -- [--runs 9] [--warmup 2] [--only NAME,...] [--size N (every model)] [--classifier softmax|linear] [--breakdown [NAME,...]] [--control] [--browser [--threads N] [--timeout 600]] [--out BENCHMARKS.md]
 *
 * A model shapefold cannot import yet gets a row saying why, not a number. Each row gives the
 * 1-minute load average before and after its timing. `--breakdown` adds, for each model (or
 * only those named after it), where its predict time goes by layer class and by backend kernel (src/bench/layer-breakdown.ts),
 * original and folded, in passes after the timed one: the share of the original's time that its
 * BatchNormalization layers take bounds what removing them can give. `--control` also times a
 * second copy of each original in the same rounds: its ratio to the original (an A/A ratio, 1
 * but for noise) says how far the run's ratios can be trusted on a loaded machine.
 *
 * `--browser` times the same exported models in headless chromium instead of Node
 * (src/bench/zoo-browser.ts): each row in a cross-origin isolated page, where tfjs-wasm runs
 * XNNPACK on `--threads` threads (default: one per core of this machine), and in a plain page (one
 * thread), with the same timing code bundled into the page; it writes its own section, "The zoo
 * in a browser". Each job may take `--timeout` seconds.
 *
 * Goals (issue 7): no model slower than its original (ratio >= 0.98, within noise); the
 * MobileNet-v2 shape >= 2x; MobileNet-v1 >= 1.5x. A benchmark, not a test: goals print
 * PASS/FAIL and never change the exit code.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { selectBackend, wasmDetail } from '../backend/select.ts';
import { foldGraph } from '../fold/index.ts';
import { createRng } from '../ir/init.ts';
import { LAYERS_EXPORTABLE_RULES, exportLayersModel, importLayersModel, type ExportedLayersModel, type LayersModelJSON } from '../io/index.ts';
import { maxRelativeDifference } from '../io/predict-timing.ts';
import { kernelBreakdowns, layerBreakdowns, type KernelBreakdown, type LayerBreakdown } from './layer-breakdown.ts';
import { interleavedMedians, layersModelToMemory, loadLayersFromMemory, randomizeLayersWeights } from './layers-timing.ts';
import { BrowserBenchError, runPageJobs, type PageJob, type PageRun } from './zoo-browser.ts';
import { ZOO, batchNormalizationLayers, type ZooModel } from './zoo-models.ts';

/** The two sections this writes into BENCHMARKS.md: the Node run's, the browser run's. */
const NODE_HEADING = '## The zoo (';
const BROWSER_HEADING = '## The zoo in a browser (';

const GOALS: Readonly<Record<string, number>> = { 'MobileNet v2': 2, 'MobileNet v1': 1.5 };
const NOT_SLOWER = 0.98;

interface Row {
  readonly name: string;
  /** Why it was not measured. */
  readonly error?: string;
  readonly size: number;
  /** The model's input as the table shows it: H x W for an image, else its shape without the batch. */
  readonly input: string;
  readonly bnBefore: number;
  readonly bnAfter: number;
  readonly params: number;
  readonly paramsAfter: number;
  readonly originalMs: number;
  readonly foldedMs: number;
  readonly maxRelDiff: number;
  /** 1-minute load average before and after the timed rounds. */
  readonly load: readonly [number, number];
  /** With --control: the original against a second copy of itself, timed in the same rounds (1 within noise). */
  readonly controlRatio?: number;
  readonly breakdown?: { readonly layers: readonly [LayerBreakdown, LayerBreakdown]; readonly kernels: readonly [KernelBreakdown, KernelBreakdown] };
}

const bnCount = (json: LayersModelJSON) => batchNormalizationLayers(json.modelTopology).length;

/** A zoo row built, imported, folded and exported: what both the Node and the browser timing start from. */
interface Prepared {
  readonly name: string;
  readonly size: number;
  readonly input: string;
  readonly bnBefore: number;
  readonly bnAfter: number;
  readonly original: tf.LayersModel;
  /** The original as `model.save` writes it. */
  readonly saved: ExportedLayersModel;
  readonly exported: ExportedLayersModel;
  /** One seeded input per model input, batch 1. */
  readonly inputs: tf.Tensor[];
}

/** Builds `entry` with random weights and folds it, or the row saying why shapefold cannot import it. */
async function prepare(entry: ZooModel, size: number, classifierActivation: 'softmax' | 'linear'): Promise<Prepared | Row> {
  const original = entry.build({ size, classifierActivation });
  const dims = original.inputs[0].shape.slice(1);
  const input = dims.length === 3 ? `${dims[0]}x${dims[1]}` : `[${dims.join(', ')}]`;
  randomizeLayersWeights(original, 1);
  const saved = await layersModelToMemory(original);
  let graph;
  try {
    graph = importLayersModel(saved.modelJson, saved.weightData, entry.name);
  } catch (error) {
    original.dispose();
    const nothing = { bnBefore: bnCount(saved.modelJson), bnAfter: NaN, params: NaN, paramsAfter: NaN, originalMs: NaN, foldedMs: NaN, maxRelDiff: NaN, load: [NaN, NaN] as const };
    return { name: entry.name, size, input, error: (error as Error).message, ...nothing };
  }
  const { graph: folded } = foldGraph(graph, { rules: LAYERS_EXPORTABLE_RULES, probe: false });
  const exported = exportLayersModel(folded, `${original.name}_folded`);
  const rng = createRng(2);
  const inputs = original.inputs.map((input) => {
    const shape = [1, ...(input.shape.slice(1) as number[])];
    return tf.tensor(Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => 2 * rng() - 1), shape);
  });
  return { name: entry.name, size, input, bnBefore: bnCount(saved.modelJson), bnAfter: bnCount(exported.modelJson), original, saved, exported, inputs };
}

function dispose(p: Prepared): void {
  tf.dispose(p.inputs);
  p.original.dispose();
}

/** Times a prepared row in this process (Node, wasm on one thread). */
async function measure(p: Prepared, runs: number, warmup: number, breakdown: boolean, control: boolean): Promise<Row> {
  const { original, inputs } = p;
  const foldedModel = await loadLayersFromMemory(p.exported);
  const x = inputs.length === 1 ? inputs[0] : inputs;
  const loadBefore = loadavg()[0];
  const copy = control ? await loadLayersFromMemory(p.saved) : undefined;
  const [originalMs, foldedMs, copyMs] = interleavedMedians(copy === undefined ? [original, foldedModel] : [original, foldedModel, copy], x, runs, warmup);
  copy?.dispose();
  const load = [loadBefore, loadavg()[0]] as const;
  const layers = breakdown ? layerBreakdowns([original, foldedModel], x, runs, 1) : undefined;
  const kernels = breakdown ? await kernelBreakdowns([original, foldedModel], x, runs) : undefined;
  const row: Row = {
    name: p.name,
    size: p.size,
    input: p.input,
    bnBefore: p.bnBefore,
    bnAfter: p.bnAfter,
    params: original.countParams(),
    paramsAfter: foldedModel.countParams(),
    originalMs,
    foldedMs,
    maxRelDiff: maxRelativeDifference(original, foldedModel, x),
    load,
    ...(copyMs !== undefined ? { controlRatio: originalMs / copyMs } : {}),
    ...(layers !== undefined && kernels !== undefined ? { breakdown: { layers: [layers[0], layers[1]], kernels: [kernels[0], kernels[1]] } } : {}),
  };
  dispose(p);
  foldedModel.dispose();
  return row;
}

function verdict(row: Row): string {
  if (row.error !== undefined) return 'not measured';
  const ratio = row.originalMs / row.foldedMs;
  const goal = GOALS[row.name];
  if (goal !== undefined) return `${ratio >= goal ? 'PASS' : 'FAIL'} (>= ${goal}x)`;
  return ratio >= NOT_SLOWER ? 'PASS' : 'FAIL';
}

function table(rows: readonly Row[], backend: string, runs: number, classifier: string): string {
  const control = rows.some((r) => r.controlRatio !== undefined);
  const lines = [
    `Stock \`model.predict\` on ${backend}, batch 1, random weights and BN statistics, ${runs} interleaved runs each, medians; ` +
      `classifier activation ${classifier}.`,
    'Ratio = original / folded time. Goals: every ratio >= 0.98; MobileNet v2 >= 2x; MobileNet v1 >= 1.5x.' +
      (control ? ' A/A: the original against a second copy of itself in the same rounds, the run\'s noise.' : ''),
    '',
    `| model | input | BN before | BN after | params before | params after | original ms | folded ms | ratio | max rel. diff | load |${control ? ' A/A |' : ''} goal |`,
    `|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|${control ? '--:|' : ''}---|`,
  ];
  for (const r of rows) {
    if (r.error !== undefined) {
      lines.push(`| ${r.name} | ${r.input} | ${r.bnBefore} | | | | | | | | |${control ? ' |' : ''} not measured: ${r.error.replaceAll('|', '/')} |`);
      continue;
    }
    lines.push(
      `| ${r.name} | ${r.input} | ${r.bnBefore} | ${r.bnAfter} | ${r.params.toLocaleString('en-US')} | ${r.paramsAfter.toLocaleString('en-US')} | ` +
        `${r.originalMs.toFixed(1)} | ${r.foldedMs.toFixed(1)} | ${(r.originalMs / r.foldedMs).toFixed(2)}x | ${r.maxRelDiff.toExponential(1)} | ` +
        `${r.load[0].toFixed(1)}-${r.load[1].toFixed(1)} |${control ? ` ${r.controlRatio?.toFixed(2) ?? ''}x |` : ''} ${verdict(r)} |`,
    );
  }
  for (const r of rows) if (r.breakdown !== undefined) lines.push('', breakdownTable(r.name, r.breakdown.layers, runs), '', kernelTable(r.name, r.breakdown.kernels, runs));
  return lines.join('\n');
}

/**
 * A model's predict time by layer class, original beside folded, and what its BN layers' share
 * bounds: with them gone at no cost and nothing else changed, the ratio is total / (total - BN).
 */
function breakdownTable(name: string, [original, folded]: readonly [LayerBreakdown, LayerBreakdown], runs: number): string {
  const classes = [...new Set([...original.byClass.keys(), ...folded.byClass.keys()])];
  const layerSum = (b: LayerBreakdown) => [...b.byClass.values()].reduce((p, v) => p + v, 0);
  const [originalSum, foldedSum] = [layerSum(original), layerSum(folded)];
  const cell = (b: LayerBreakdown, sum: number, c: string) =>
    b.counts.has(c) ? `${b.counts.get(c)} | ${(b.byClass.get(c) ?? 0).toFixed(1)} | ${((100 * (b.byClass.get(c) ?? 0)) / sum).toFixed(0)}%` : '| |';
  const bn = original.byClass.get('BatchNormalization');
  const bound =
    bn === undefined
      ? `No BatchNormalization in the original (layer sums: ${(originalSum / foldedSum).toFixed(2)}x in this pass).`
      : `BatchNormalization: ${((100 * bn) / originalSum).toFixed(0)}% of the original's layer time; removing it alone, at no cost, gives ` +
        `${(originalSum / (originalSum - bn)).toFixed(2)}x (layer sums: ${(originalSum / foldedSum).toFixed(2)}x in this pass).`;
  return [
    `${name}, time by layer class (each layer's \`call\` timed, medians of ${runs} interleaved predicts):`,
    '',
    '| layer class | original layers | original ms | share | folded layers | folded ms | share |',
    '|---|--:|--:|--:|--:|--:|--:|',
    ...classes.map((c) => `| ${c} | ${cell(original, originalSum, c)} | ${cell(folded, foldedSum, c)} |`),
    `| all layers | | ${originalSum.toFixed(1)} | | | ${foldedSum.toFixed(1)} | |`,
    `| whole predict | | ${original.totalMs.toFixed(1)} | | | ${folded.totalMs.toFixed(1)} | |`,
    '',
    bound,
  ].join('\n');
}

/** The same predicts by backend kernel (tf.profile's kernel times), original beside folded. */
function kernelTable(name: string, [original, folded]: readonly [KernelBreakdown, KernelBreakdown], runs: number): string {
  const kernels = [...new Set([...original.byKernel.keys(), ...folded.byKernel.keys()])];
  const sum = (b: KernelBreakdown) => [...b.byKernel.values()].reduce((p, v) => p + v, 0);
  const cell = (b: KernelBreakdown, k: string) => (b.byKernel.has(k) ? `${b.calls.get(k) ?? 0} | ${(b.byKernel.get(k) ?? 0).toFixed(1)}` : '|');
  return [
    `${name}, time by backend kernel (tf.profile, medians of ${runs} interleaved predicts):`,
    '',
    '| kernel | original calls | original ms | folded calls | folded ms |',
    '|---|--:|--:|--:|--:|',
    ...kernels.map((k) => `| ${k} | ${cell(original, k)} | ${cell(folded, k)} |`),
    `| all kernels | | ${sum(original).toFixed(1)} | | ${sum(folded).toFixed(1)} |`,
  ].join('\n');
}

/** Puts `section` in place of the file's section whose heading starts with `heading` (up to the next "## " heading), or at its end; the rest of the file is kept. */
async function writeSection(path: string, heading: string, section: string): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => '# Benchmarks\n');
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith(heading));
  if (start < 0) {
    await writeFile(path, `${text.replace(/\n*$/, '')}\n\n${section}`);
    return;
  }
  const next = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  const rest = next < 0 ? [] : lines.slice(next);
  await writeFile(path, [...lines.slice(0, start), ...section.replace(/\n*$/, '\n').split('\n'), ...rest].join('\n'));
}

/** Writes a prepared row where the page fetches it: models/<key>/{original,folded}/ (model.json + weights.bin) and input.bin. */
async function writeForPage(dir: string, key: string, p: Prepared): Promise<void> {
  for (const [name, model] of [['original', p.saved], ['folded', p.exported]] as const) {
    const at = join(dir, key, name);
    await mkdir(at, { recursive: true });
    const modelJson = { ...model.modelJson, weightsManifest: model.modelJson.weightsManifest.map((g) => ({ ...g, paths: ['weights.bin'] })) };
    await writeFile(join(at, 'model.json'), JSON.stringify(modelJson));
    await writeFile(join(at, 'weights.bin'), new Uint8Array(model.weightData));
  }
  const data = p.inputs.map((t) => t.dataSync() as Float32Array);
  await writeFile(join(dir, key, 'input.bin'), Buffer.concat(data.map((d) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength))));
}

/** The same outputs must come out of the page's two models as out of Node's (issue 7: 1e-5 relative). */
const AGREE = 1e-5;

/**
 * `--browser`: prepares the rows in Node, then times each in headless chromium twice, in a
 * cross-origin isolated page (threads) and in a plain one (one thread), one after the other.
 * Returns the rows of each setting and how the page said the backend ran.
 */
export async function measureInBrowser(
  entries: readonly ZooModel[],
  opts: { readonly size?: number; readonly classifier: 'softmax' | 'linear'; readonly runs: number; readonly warmup: number; readonly control: boolean; readonly threads: number; readonly timeoutMs: number },
): Promise<{ readonly threaded: Row[]; readonly single: Row[]; readonly backends: readonly [string, string]; readonly runs: readonly PageRun[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'shapefold-zoo-'));
  try {
    const errors: Row[] = [];
    const prepared: { key: string; p: Pick<Row, 'name' | 'size' | 'input' | 'bnBefore' | 'bnAfter'>; inputShapes: number[][] }[] = [];
    for (const entry of entries) {
      const p = await prepare(entry, opts.size ?? entry.bench.size, opts.classifier);
      if (!('original' in p)) {
        errors.push(p);
        console.log(`${p.name}: not measured: ${p.error}`);
        continue;
      }
      const key = String(prepared.length);
      await writeForPage(dir, key, p);
      prepared.push({ key, p: { name: p.name, size: p.size, input: p.input, bnBefore: p.bnBefore, bnAfter: p.bnAfter }, inputShapes: p.inputs.map((t) => t.shape) });
      dispose(p);
    }
    const jobs = prepared.flatMap(({ key, inputShapes }) =>
      [true, false].map((isolated) => ({ model: key, isolated, ...(isolated ? { threads: opts.threads } : {}), runs: opts.runs, warmup: opts.warmup, control: opts.control, inputShapes })),
    );
    const setting = (isolated: boolean) => (isolated ? 'cross-origin isolated page' : 'plain page');
    const describe = (job: PageJob) => `${prepared[Number(job.model)].p.name}, ${setting(job.isolated)}`;
    const runs = await runPageJobs(dir, jobs, {
      timeoutMs: opts.timeoutMs,
      describe,
      check: ({ job, result: r }) =>
        r.backend !== 'wasm'
          ? `the page ran on ${r.backend}, not wasm`
          : r.crossOriginIsolated !== job.isolated
            ? `the page says crossOriginIsolated ${r.crossOriginIsolated}`
            : !(r.maxRelDiff <= AGREE)
              ? `original and folded outputs differ by ${r.maxRelDiff.toExponential(1)} relative (over ${AGREE})`
              : r.tensorsLeft !== 0
                ? `${r.tensorsLeft} tensors left after the job`
                : undefined,
      onRun: ({ job, result: r }) =>
        console.log(`${describe(job)}, ${wasmDetail(r.simd, r.threads)}: ${r.originalMs.toFixed(1)} -> ${r.foldedMs.toFixed(1)} ms (${(r.originalMs / r.foldedMs).toFixed(2)}x)`),
    });
    const rowsOf = (isolated: boolean): Row[] => [
      ...runs
        .filter((run) => run.job.isolated === isolated)
        .map(({ job, result: r, load }): Row => ({
          ...prepared[Number(job.model)].p,
          params: r.params,
          paramsAfter: r.paramsAfter,
          originalMs: r.originalMs,
          foldedMs: r.foldedMs,
          maxRelDiff: r.maxRelDiff,
          load,
          ...(r.copyMs !== undefined ? { controlRatio: r.originalMs / r.copyMs } : {}),
        })),
      ...errors,
    ];
    const backendOf = (isolated: boolean) => {
      const seen = [...new Set(runs.filter((run) => run.job.isolated === isolated).map(({ result: r }) => `${wasmDetail(r.simd, r.threads)} in ${browserName(r.userAgent)}, ${setting(isolated)}`))];
      return seen.join(' / ');
    };
    return { threaded: rowsOf(true), single: rowsOf(false), backends: [backendOf(true), backendOf(false)], runs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** 'headless Chromium 156' from a user agent (HeadlessChrome/156.0...). */
const browserName = (userAgent: string) => {
  const version = /(?:Headless)?Chrom(?:e|ium)\/(\d+)/.exec(userAgent)?.[1];
  return version === undefined ? userAgent : `headless Chromium ${version}`;
};

/** Each row's ratio in the two page settings, side by side: what threads change. */
function threadTable(threaded: readonly Row[], single: readonly Row[], backends: readonly [string, string]): string {
  const threads = /(\d+) threads?/.exec(backends[0])?.[1] ?? '?';
  const control = threaded.some((r) => r.controlRatio !== undefined);
  const cell = (r: Row | undefined) => (r === undefined || r.error !== undefined ? ' | ' : `${r.originalMs.toFixed(1)} -> ${r.foldedMs.toFixed(1)} | ${(r.originalMs / r.foldedMs).toFixed(2)}x`);
  const aa = (r: Row | undefined) => (r?.controlRatio === undefined ? '' : `${r.controlRatio.toFixed(2)}x`);
  return [
    `The same rows, one thread beside ${threads}: ms original -> folded, ratio${control ? ', A/A' : ''}.`,
    '',
    `| model | 1 thread ms | 1 thread ratio | ${threads} threads ms | ${threads} threads ratio |${control ? ' A/A (1, N threads) |' : ''}`,
    `|---|--:|--:|--:|--:|${control ? '---|' : ''}`,
    ...threaded.map((t) => {
      const s = single.find((r) => r.name === t.name);
      return `| ${t.name} | ${cell(s)} | ${cell(t)} |${control ? ` ${aa(s)}, ${aa(t)} |` : ''}`;
    }),
  ].join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const option = (flag: string, fallback: string) => {
    const at = argv.indexOf(flag);
    return at < 0 ? fallback : (argv[at + 1] ?? fallback);
  };
  const runs = Number(option('--runs', '9'));
  const warmup = Number(option('--warmup', '2'));
  const only = option('--only', '').split(',').filter((s) => s !== '');
  const out = option('--out', 'BENCHMARKS.md');
  const classifier = option('--classifier', 'softmax');
  const sizeOverride = argv.includes('--size') ? Number(option('--size', '')) : undefined;
  if (sizeOverride !== undefined && !(Number.isSafeInteger(sizeOverride) && sizeOverride >= 32)) throw new Error('--size: an integer >= 32');
  if (classifier !== 'softmax' && classifier !== 'linear') throw new Error(`--classifier: softmax or linear, got ${classifier}`);
  const breakdownAt = argv.indexOf('--breakdown');
  const breakdownList = breakdownAt < 0 || (argv[breakdownAt + 1] ?? '--').startsWith('--') ? [] : argv[breakdownAt + 1].split(',').filter((s) => s !== '');
  const wantsBreakdown = (name: string) => breakdownAt >= 0 && (breakdownList.length === 0 || breakdownList.includes(name));
  for (const [flag, names] of [['--only', only], ['--breakdown', breakdownList]] as const) {
    const unknown = names.filter((name) => !ZOO.some((e) => e.name === name));
    if (unknown.length > 0) throw new Error(`${flag}: unknown model ${unknown.join(', ')}; the zoo has ${ZOO.map((e) => e.name).join(', ')}`);
  }
  const control = argv.includes('--control');
  const entries = ZOO.filter((e) => only.length === 0 || only.includes(e.name));
  // The command as a reader re-runs it: npm's `--` before the options, without where the table went.
  const shown = argv.filter((_, i) => argv[i] !== '--out' && argv[i - 1] !== '--out').map((a) => (/[\s"]/.test(a) ? `"${a}"` : a));
  const command = ['npm run bench:zoo', ...(shown.length > 0 ? ['--', ...shown] : [])].join(' ');
  if (argv.includes('--browser')) {
    if (breakdownAt >= 0) throw new Error('--breakdown: Node only (tf.profile and the layer timing run in this process), not with --browser');
    const timeoutMs = 1000 * Number(option('--timeout', '600'));
    if (!(timeoutMs > 0)) throw new Error('--timeout: seconds, a positive number');
    const threads = Number(option('--threads', String(availableParallelism())));
    if (!(Number.isSafeInteger(threads) && threads >= 1 && threads <= 8)) throw new Error('--threads: an integer from 1 to 8 (tfjs-wasm starts 8 workers)');
    const { threaded, single, backends } = await measureInBrowser(entries, { size: sizeOverride, classifier, runs, warmup, control, threads, timeoutMs });
    const text = [table(threaded, backends[0], runs, classifier), table(single, backends[1], runs, classifier), threadTable(threaded, single, backends)].join('\n\n');
    await writeSection(out, BROWSER_HEADING, `${BROWSER_HEADING}\`${command}\`)\n\n${text}\n`);
    console.log(`\nbackend: ${backends[0]}\n\n${table(threaded, backends[0], runs, classifier)}\n\nbackend: ${backends[1]}\n\n${table(single, backends[1], runs, classifier)}\n\n${threadTable(threaded, single, backends)}\n\nwritten to ${out}`);
    return;
  }
  const backend = await selectBackend({ backend: 'wasm' });
  const rows: Row[] = [];
  for (const entry of entries) {
    const p = await prepare(entry, sizeOverride ?? entry.bench.size, classifier);
    const row = 'original' in p ? await measure(p, runs, warmup, wantsBreakdown(entry.name), control) : p;
    rows.push(row);
    if (row.error !== undefined) console.log(`${row.name}: not measured: ${row.error}`);
    else console.log(`${row.name}: ${row.originalMs.toFixed(1)} -> ${row.foldedMs.toFixed(1)} ms (${(row.originalMs / row.foldedMs).toFixed(2)}x), BN ${row.bnBefore} -> ${row.bnAfter}, ${verdict(row)}`);
    // Written after every model: a long run stopped part way keeps what it measured.
    await writeSection(out, NODE_HEADING, `${NODE_HEADING}\`${command}\`)\n\n${table(rows, backend.detail, runs, classifier)}\n`);
  }
  console.log(`\nbackend: ${backend.detail}\n\n${table(rows, backend.detail, runs, classifier)}\n\nwritten to ${out}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof BrowserBenchError ? `bench:zoo --browser: ${error.message}` : error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
