/**
 * `shapefold bench <model.json>`: a tfjs Layers model against its folded form under stock
 * model.predict (src/io/layers-bench.ts). `shapefold bench [types|exec|fold|layers|probe]`: the
 * repository's benchmarks (they need its dev dependencies).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ShapefoldError } from '../../ir/errors.ts';
import { BACKEND_NAMES, selectBackend, type BackendName } from '../../backend/select.ts';
import { benchLayersFile, formatLayersBench } from '../../io/layers-bench.ts';
import { defineCommand, helpHint, integerOption, oneOf, UsageError } from '../args.ts';
import { createProgress } from '../progress.ts';
import { packageInfo } from '../package-info.ts';

const BENCHES = ['types', 'exec', 'fold', 'layers', 'probe'] as const;
const MODEL_OPTIONS = ['runs', 'warmup', 'backend', 'json'] as const;

export const benchCommand = defineCommand({
  name: 'bench',
  synopsis: '<model.json> [options] | [types|exec|fold|layers|probe] [-- options for the benchmark]',
  summary: 'time a Layers model against its folded form under model.predict; or run the repository benchmarks',
  details: [
    'With a model.json: the model as tfjs loads it and the same model folded and written back as a',
    'stock Layers model, timed under model.predict on the best available backend (or --backend), in',
    'interleaved runs at batch 1; prints the medians, the speedup (and the middle half of the per-round',
    'ratios when that spread is as wide as the speedup is far from 1) and the largest output difference.',
    'With a benchmark name (or nothing: all of them), runs the repository benchmarks.',
  ].join('\n'),
  options: {
    runs: { type: 'string', value: '<n>', help: 'timed runs of each model (default 15)' },
    warmup: { type: 'string', value: '<n>', help: 'untimed runs of each model first (default 3)' },
    backend: { type: 'string', value: BACKEND_NAMES.join('|'), help: 'tfjs backend (default: the best available)' },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
  positionals: { min: 0, max: Infinity },
  async run({ values, positionals }) {
    const [first, ...rest] = positionals;
    if (first !== undefined && first.endsWith('.json')) {
      if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}' ${helpHint('bench')}`);
      const runs = integerOption('runs', values.runs, 15, 1);
      const warmup = integerOption('warmup', values.warmup, 3, 0);
      const backendName = values.backend === undefined ? undefined : oneOf<BackendName>('backend', values.backend, BACKEND_NAMES, 'cpu');
      const backend = await selectBackend(backendName === undefined ? {} : { backend: backendName });
      if (values.verbose === true) console.error(`backend: ${backend.detail}`);
      const result = await createProgress(process.stderr, values).stage(`bench ${first}`, () => benchLayersFile(first, { runs, warmup }));
      console.log(values.json === true ? JSON.stringify(result, null, 2) : formatLayersBench(first, result));
      return 0;
    }
    const modelOnly = MODEL_OPTIONS.filter((o) => values[o] !== undefined);
    if (modelOnly.length > 0) throw new UsageError(`--${modelOnly[0]} applies to a model benchmark; pass a repository benchmark's options after --`);
    if (first !== undefined && !(BENCHES as readonly string[]).includes(first)) {
      throw new UsageError(`no benchmark named '${first}' (benchmarks: ${BENCHES.join(', ')}; or give a model.json)`);
    }
    const chosen = first === undefined ? BENCHES : [first];
    const { root } = packageInfo();
    for (const name of chosen) {
      const script = join(root, 'src', 'bench', `${name}.ts`);
      if (!existsSync(script)) throw new ShapefoldError(`${script}: the benchmarks run from a clone of the shapefold repository`);
      const run = spawnSync(process.execPath, ['--import', tsxLoader(root), script, ...rest], { stdio: 'inherit' });
      if (run.status !== 0) return run.status ?? 1;
    }
    return 0;
  },
});

/**
 * tsx's loader as the clone resolves it: `--import tsx` alone is resolved from the working
 * directory, so run from anywhere else it failed with Node's stack trace.
 */
function tsxLoader(root: string): string {
  try {
    return pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href;
  } catch {
    throw new ShapefoldError(`${root}: the benchmarks need the repository's dev dependencies (run npm install there)`);
  }
}
