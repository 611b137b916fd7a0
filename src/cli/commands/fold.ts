/** `shapefold fold <model> -o <out>`: fold normalization away, print the report, write the folded model. */
import { dirname, resolve } from 'node:path';
import { selectBackend, type BackendName, BACKEND_NAMES } from '../../backend/select.ts';
import { FoldProbeError, foldGraph, formatFoldReport, type FoldMode, type FoldReport } from '../../fold/index.ts';
import { writeGraphFile } from '../../ir/graph-file.ts';
import { LAYERS_FOLD_OPTIONS } from '../../io/fold-rules.ts';
import { writeFilesAtomic } from '../../io/files.ts';
import { checkLayersOutput, DEFAULT_SHARD_BYTES, writeLayersModel } from '../../io/layers-model.ts';
import { QUANTIZATIONS, type WeightQuantization } from '../../io/quantize.ts';
import { defineCommand, helpHint, integerOption, oneOf, UsageError } from '../args.ts';
import { isLayersModelFile, loadModel, MODEL_SPEC_HELP } from '../load.ts';
import { FailureWithResult } from '../failure.ts';
import { assertWritable } from '../output-path.ts';
import { createProgress, stepTicker } from '../progress.ts';
import { foldReportHtml } from '../../report/html.ts';

const FORMATS = ['graph', 'layers'] as const;
const MODES = ['eval', 'train'] as const;
const PROBE_LEVELS = ['fast', 'full', 'off'] as const;

function printReport(out: string, format: string, report: FoldReport, json: boolean): void {
  if (json) console.log(JSON.stringify({ output: out, format, report }, null, 2));
  else console.log(formatFoldReport(report));
}

export const foldCommand = defineCommand({
  name: 'fold',
  synopsis: '<model> -o <out> [options]',
  summary: 'fold normalization into neighbouring convs and linears; print the report, write the folded model',
  details: [
    MODEL_SPEC_HELP,
    '',
    'The report lists every fold, and why each remaining norm stays. --format layers (the default',
    'for a Layers input) writes <out>/model.json and its weight shards (group1-shard1of1.bin, ...), a',
    'stock tfjs Layers model stored like the input (float32, or its uint8/uint16/float16 quantization)',
    'unless --quantize says otherwise, in shards of at most --shard-size bytes (4 MB by default, as',
    'tensorflowjs_converter writes them); --format graph writes <out>, the graph as JSON, and beside it',
    '<name>.weights.bin (float32).',
  ].join('\n'),
  options: {
    out: { type: 'string', short: 'o', value: '<out>', help: 'where to write the folded model (required)' },
    report: { type: 'string', value: '<report.json>', help: 'also write the fold report as JSON' },
    mode: { type: 'string', value: 'eval|train', help: 'fold for inference (eval, default) or keep training behaviour' },
    format: { type: 'string', value: 'graph|layers', help: 'output format (default: layers for a Layers input, else graph)' },
    backend: { type: 'string', value: BACKEND_NAMES.join('|'), help: 'tfjs backend for the probe (default: the best available)' },
    probe: {
      type: 'string',
      value: 'fast|full|off',
      help: 'check the folded model: each fold on a float64 patch and the network in float32 (fast, default), the network in float64 too (full), or not at all',
    },
    'no-probe': { type: 'boolean', help: 'the same as --probe off' },
    html: { type: 'string', value: '<report.html>', help: 'also write the report as one self-contained HTML page: both graphs, the probe, timings' },
    json: { type: 'boolean', help: 'print the fold report as JSON instead of text' },
    quantize: {
      type: 'string',
      value: QUANTIZATIONS.join('|'),
      help: "store the Layers weights quantized, as tensorflowjs_converter's --quantize_* (default: as the input stores them)",
    },
    'shard-size': { type: 'string', value: '<bytes>', help: `largest Layers weight file in bytes (default ${DEFAULT_SHARD_BYTES}, 4 MB)` },
  },
  positionals: { min: 1, max: 1 },
  async run({ values, positionals: [spec] }) {
    const out = values.out;
    if (out === undefined) throw new UsageError(`missing -o <out> ${helpHint('fold')}`);
    const mode: FoldMode = oneOf('mode', values.mode, MODES, 'eval');
    const format = oneOf('format', values.format, FORMATS, (await isLayersModelFile(spec!)) ? 'layers' : 'graph');
    const backendName = values.backend === undefined ? undefined : oneOf<BackendName>('backend', values.backend, BACKEND_NAMES, 'cpu');
    if (values['no-probe'] === true && values.probe !== undefined && values.probe !== 'off') {
      throw new UsageError(`--no-probe contradicts --probe ${values.probe} ${helpHint('fold')}`);
    }
    const probe = values['no-probe'] === true ? 'off' : oneOf('probe', values.probe, PROBE_LEVELS, 'fast');
    for (const option of ['quantize', 'shard-size'] as const) {
      if (values[option] !== undefined && format !== 'layers') throw new UsageError(`--${option} applies to --format layers; the graph format stores float32 in one file ${helpHint('fold')}`);
    }
    const quantize = values.quantize === undefined ? undefined : oneOf<WeightQuantization>('quantize', values.quantize, QUANTIZATIONS, 'uint8');
    const shardSize = integerOption('shard-size', values['shard-size'], DEFAULT_SHARD_BYTES, 1);
    // Before any work: a fold of a large model must not run for minutes and then fail to write.
    const input = resolve(spec!.replace(/#[^#/]*$/, ''));
    if (resolve(out) === input || (format === 'layers' && resolve(out) === dirname(input))) {
      throw new UsageError(`-o ${out} would replace the input model ${spec}; write the folded model elsewhere ${helpHint('fold')}`);
    }
    await assertWritable(out, format === 'layers' ? 'directory' : 'file');
    // A directory holding anything but a Layers model is not replaced: say so now, not after the fold.
    if (format === 'layers') await checkLayersOutput(out);
    if (values.report !== undefined) await assertWritable(values.report, 'file');
    if (values.html !== undefined) await assertWritable(values.html, 'file');

    const progress = createProgress(process.stderr, values);
    const timings: { label: string; ms: number }[] = [];
    const timed = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
      const start = performance.now();
      const value = await work();
      timings.push({ label, ms: performance.now() - start });
      return value;
    };
    const { graph, layers } = await timed('import', () => progress.stage(`import ${spec}`, (tick) => loadModel(spec!, stepTicker(tick))));
    if (probe !== 'off') {
      const backend = await selectBackend(backendName === undefined ? {} : { backend: backendName });
      if (values.verbose === true) {
        console.error(`backend: ${backend.detail}${backend.fallbacks.map((f) => ` (${f.name} unavailable: ${f.reason})`).join('')}`);
      }
    }
    // A Layers model cannot hold a tapBias: fold only what stock Keras layers can express.
    const rules = format === 'layers' ? LAYERS_FOLD_OPTIONS : {};
    const foldLabel = probe === 'off' ? 'fold' : `fold and probe (${probe})`;
    const result = await timed(foldLabel, () =>
      progress.stage(foldLabel, (tick) => foldGraph(graph, { mode, probe, ...rules, onProgress: (p) => tick(p.done, p.total, p.phase) })),
    );
    // The reports are written even when the probe fails: they say why.
    const writeReports = async () => {
      const files: [string, string][] = [];
      if (values.report !== undefined) files.push([values.report, `${JSON.stringify(result.report, null, 2)}\n`]);
      if (values.html !== undefined) files.push([values.html, foldReportHtml({ title: spec!, original: graph, folded: result.graph, report: result.report, timings })]);
      if (files.length > 0) await writeFilesAtomic(files);
    };
    if (result.report.probe?.ok === false) {
      await writeReports();
      const failure = new FoldProbeError('the probe found the folded model outside its tolerance (see the report); no model was written (--probe off skips the check)');
      // With --json the report goes into the failure's one document.
      if (values.json === true) throw new FailureWithResult(failure, { output: out, format, report: result.report });
      printReport(out, format, result.report, false);
      throw failure;
    }
    await timed('export', () =>
      progress.stage(`export ${out}`, async (tick) => {
        // The input's weight storage (float32 or its quantization) is kept unless --quantize says otherwise.
        const onProgress = (done: number, total: number) => tick(done, total, 'files');
        if (format === 'layers') await writeLayersModel(out, result.graph, { quantize: quantize ?? layers?.quantization ?? null, shardSize, onProgress });
        else await writeGraphFile(out, result.graph);
      }),
    );
    await writeReports();
    printReport(out, format, result.report, values.json === true);
    const reports = [values.report, values.html].filter((f): f is string => f !== undefined);
    if (values.json !== true) console.log(`\nwrote ${[out, ...reports].join(' and ')}`);
    return 0;
  },
});
