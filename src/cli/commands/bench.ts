/** `shapefold bench [types|exec|fold|layers]`: the repository's benchmarks (they need its dev dependencies). */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ShapefoldError } from '../../ir/errors.ts';
import { defineCommand, UsageError } from '../args.ts';
import { packageInfo } from '../package-info.ts';

const BENCHES = ['types', 'exec', 'fold', 'layers'] as const;

export const benchCommand = defineCommand({
  name: 'bench',
  synopsis: '[types|exec|fold|layers] [-- options for the benchmark]',
  summary: 'run the benchmarks (all four by default), from a clone of the repository',
  options: {},
  positionals: { min: 0, max: Infinity },
  run({ positionals }) {
    const [first, ...rest] = positionals;
    if (first !== undefined && !(BENCHES as readonly string[]).includes(first)) {
      throw new UsageError(`no benchmark named '${first}' (benchmarks: ${BENCHES.join(', ')})`);
    }
    const chosen = first === undefined ? BENCHES : [first];
    for (const name of chosen) {
      const script = join(packageInfo().root, 'src', 'bench', `${name}.ts`);
      if (!existsSync(script)) throw new ShapefoldError(`${script}: the benchmarks run from a clone of the shapefold repository`);
      const run = spawnSync(process.execPath, ['--import', 'tsx', script, ...rest], { stdio: 'inherit' });
      if (run.status !== 0) return run.status ?? 1;
    }
    return 0;
  },
});
