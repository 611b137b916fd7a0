/**
 * `npm run bench:zoo`: every architecture of the zoo (src/bench/zoo-models.ts, the definitions the
 * test suite runs small) at full size, batch 1, random weights and BN statistics, generated with
 * stock tfjs-layers; imported, folded, exported back to a stock Layers model, and both timed with
 * stock `model.predict` in interleaved rounds (medians). Writes the table as BENCHMARKS.md's zoo
 * section, keeping the rest of the file.
 *
 *   npm run bench:zoo -- [--runs 9] [--warmup 2] [--only NAME,...] [--size N (every model)] [--classifier softmax|linear] [--breakdown [NAME,...]] [--control] [--out BENCHMARKS.md]
 *
 * A model shapefold cannot import yet gets a row saying why, not a number. Each row gives the
 * 1-minute load average before and after its timing. `--breakdown` adds, for each model (or
 * only those named after it), where its predict time goes by layer class and by backend kernel (src/bench/layer-breakdown.ts),
 * original and folded, in passes after the timed one: the share of the original's time that its
 * BatchNormalization layers take bounds what removing them can give. `--control` also times a
 * second copy of each original in the same rounds: its ratio to the original (an A/A ratio, 1
 * but for noise) says how far the run's ratios can be trusted on a loaded machine.
 *
 * Goals (issue 7): no model slower than its original (ratio >= 0.98, within noise); the
 * MobileNet-v2 shape >= 2x; MobileNet-v1 >= 1.5x. A benchmark, not a test: goals print
 * PASS/FAIL and never change the exit code.
 */
import * as tf from '@tensorflow/tfjs';
import { readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { selectBackend } from '../backend/select.ts';
import { foldGraph } from '../fold/index.ts';
import { createRng } from '../ir/init.ts';
import { LAYERS_EXPORTABLE_RULES, exportLayersModel, importLayersModel, type LayersModelJSON } from '../io/index.ts';
import { kernelBreakdowns, layerBreakdowns, type KernelBreakdown, type LayerBreakdown } from './layer-breakdown.ts';
import { interleavedMedians, layersModelToMemory, loadLayersFromMemory, randomizeLayersWeights } from './layers-timing.ts';
import { ZOO, batchNormalizationLayers, type ZooModel } from './zoo-models.ts';

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

async function measure(entry: ZooModel, size: number, runs: number, warmup: number, classifierActivation: 'softmax' | 'linear', breakdown: boolean, control: boolean): Promise<Row> {
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
  const foldedModel = await loadLayersFromMemory(exported);
  const rng = createRng(2);
  const inputs = original.inputs.map((input) => {
    const shape = [1, ...(input.shape.slice(1) as number[])];
    return tf.tensor(Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => 2 * rng() - 1), shape);
  });
  const x = inputs.length === 1 ? inputs[0] : inputs;
  const loadBefore = loadavg()[0];
  const copy = control ? await loadLayersFromMemory(saved) : undefined;
  const [originalMs, foldedMs, copyMs] = interleavedMedians(copy === undefined ? [original, foldedModel] : [original, foldedModel, copy], x, runs, warmup);
  copy?.dispose();
  const load = [loadBefore, loadavg()[0]] as const;
  const layers = breakdown ? layerBreakdowns([original, foldedModel], x, runs, 1) : undefined;
  const kernels = breakdown ? await kernelBreakdowns([original, foldedModel], x, runs) : undefined;
  const maxRelDiff = tf.tidy(() => {
    const a = original.predict(x) as tf.Tensor;
    const b = foldedModel.predict(x) as tf.Tensor;
    return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(1, tf.max(tf.abs(a)).dataSync()[0]);
  });
  const row: Row = {
    name: entry.name,
    size,
    input,
    bnBefore: bnCount(saved.modelJson),
    bnAfter: bnCount(exported.modelJson),
    params: original.countParams(),
    paramsAfter: foldedModel.countParams(),
    originalMs,
    foldedMs,
    maxRelDiff,
    load,
    ...(copyMs !== undefined ? { controlRatio: originalMs / copyMs } : {}),
    ...(layers !== undefined && kernels !== undefined ? { breakdown: { layers: [layers[0], layers[1]], kernels: [kernels[0], kernels[1]] } } : {}),
  };
  tf.dispose(inputs);
  original.dispose();
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

/** Puts `section` in place of the file's "## The zoo" section (up to the next "## " heading), or at its end; the rest of the file is kept. */
async function writeZooSection(path: string, section: string): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => '# Benchmarks\n');
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith('## The zoo'));
  if (start < 0) {
    await writeFile(path, `${text.replace(/\n*$/, '')}\n\n${section}`);
    return;
  }
  const next = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  const rest = next < 0 ? [] : lines.slice(next);
  await writeFile(path, [...lines.slice(0, start), ...section.replace(/\n*$/, '\n').split('\n'), ...rest].join('\n'));
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
  const backend = await selectBackend({ backend: 'wasm' });
  // The command as a reader re-runs it: npm's `--` before the options, without where the table went.
  const shown = argv.filter((_, i) => argv[i] !== '--out' && argv[i - 1] !== '--out').map((a) => (/[\s"]/.test(a) ? `"${a}"` : a));
  const command = ['npm run bench:zoo', ...(shown.length > 0 ? ['--', ...shown] : [])].join(' ');
  const rows: Row[] = [];
  for (const entry of ZOO.filter((e) => only.length === 0 || only.includes(e.name))) {
    const row = await measure(entry, sizeOverride ?? entry.bench.size, runs, warmup, classifier, wantsBreakdown(entry.name), argv.includes('--control'));
    rows.push(row);
    if (row.error !== undefined) console.log(`${row.name}: not measured: ${row.error}`);
    else console.log(`${row.name}: ${row.originalMs.toFixed(1)} -> ${row.foldedMs.toFixed(1)} ms (${(row.originalMs / row.foldedMs).toFixed(2)}x), BN ${row.bnBefore} -> ${row.bnAfter}, ${verdict(row)}`);
    // Written after every model: a long run stopped part way keeps what it measured.
    await writeZooSection(out, `## The zoo (\`${command}\`)\n\n${table(rows, backend.name, runs, classifier)}\n`);
  }
  console.log(`\n${table(rows, backend.name, runs, classifier)}\n\nwritten to ${out}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
