/**
 * The shapefold command line. Each command is one function; errors shapefold raises on purpose
 * (a ShapefoldError: bad file, bad layer, bad dimension) print as one line and exit 1, anything
 * else is a bug and keeps its stack trace.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { selectBackend, type BackendName } from '../backend/select.ts';
import { foldGraph, formatFoldReport, type FoldMode } from '../fold/index.ts';
import { ShapefoldError } from '../ir/errors.ts';
import { graphToJSON } from '../ir/serialize.ts';
import { LAYERS_EXPORTABLE_RULES } from '../io/fold-rules.ts';
import { writeLayersModel } from '../io/layers-export.ts';
import { formatProof, proveAll } from '../proof/index.ts';
import { formatShapeTable } from '../report/summary.ts';
import { ALL_RULES } from '../rules/index.ts';
import { writeFileAtomic } from './io.ts';
import { isLayersModelFile, loadGraph } from './load.ts';

const USAGE = `usage: shapefold <command> [options]

commands:
  check <model>     validate a model and print every layer's inferred shape
                    <model> is a graph .json, a tfjs Layers model.json, or a DSL module: file.ts[#export]
  fold <model> -o <out> [--report <report.json>] [--mode eval|train] [--no-probe]
              [--backend wasm|cpu|tensorflow] [--format graph|layers]
                    fold normalization into neighbouring convs and linears; print the report
                    (every fold, and why each remaining norm stays), write the folded graph;
                    --format layers (the default for a Layers input) writes <out>/model.json
                    and <out>/weights.bin, a stock tfjs Layers model
  prove [--rule <name>] [--verbose] [--json]
                    run the independent checker over every fold rule (or one) and print
                    each proof; exit 1 if any rule fails to prove
  bench [types|exec|fold|layers] [options]
                    run the benchmarks (all four by default); options go to each
  help              this text
`;

export class UsageError extends ShapefoldError {
  override readonly name = 'UsageError';
}

async function check(args: readonly string[]): Promise<number> {
  const [spec, ...rest] = args;
  if (spec === undefined || rest.length > 0) throw new UsageError('usage: shapefold check <model.json | module.ts[#export]>');
  const graph = await loadGraph(spec);
  console.log(formatShapeTable(graph));
  return 0;
}

/** Splits `--flag value` options from positional arguments; `flags` take no value. */
function parseOptions(args: readonly string[], valued: readonly string[], flags: readonly string[]) {
  const options = new Map<string, string | true>();
  const positional: string[] = [];
  for (let k = 0; k < args.length; k++) {
    const arg = args[k];
    if (valued.includes(arg)) {
      const value = args[++k];
      if (value === undefined || value.startsWith('-')) throw new UsageError(`${arg} needs a value`);
      options.set(arg, value);
    } else if (flags.includes(arg)) options.set(arg, true);
    else if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
    else positional.push(arg);
  }
  return { options, positional };
}

async function fold(args: readonly string[]): Promise<number> {
  const { options, positional } = parseOptions(args, ['-o', '--output', '--report', '--mode', '--backend', '--format'], ['--no-probe']);
  const [spec, ...extra] = positional;
  const output = (options.get('-o') ?? options.get('--output')) as string | undefined;
  if (spec === undefined || extra.length > 0 || output === undefined) {
    throw new UsageError('usage: shapefold fold <model> -o <out> [--report <report.json>] [--mode eval|train] [--no-probe] [--format graph|layers]');
  }
  const mode = (options.get('--mode') ?? 'eval') as string;
  if (mode !== 'eval' && mode !== 'train') throw new UsageError(`--mode must be eval or train, got '${mode}'`);
  const probe = !options.has('--no-probe');
  const format = options.get('--format') ?? ((await isLayersModelFile(spec)) ? 'layers' : 'graph');
  if (format !== 'graph' && format !== 'layers') throw new UsageError(`--format must be graph or layers, got '${String(format)}'`);
  const graph = await loadGraph(spec);
  if (probe) {
    const backend = await selectBackend({ backend: options.get('--backend') as BackendName | undefined });
    console.log(`backend: ${backend.name}${backend.fallbacks.map((f) => ` (${f.name} unavailable: ${f.reason})`).join('')}`);
  }
  // A Layers model cannot hold a tapBias: fold only what stock Keras layers can express.
  const rules = format === 'layers' ? { rules: LAYERS_EXPORTABLE_RULES } : {};
  const result = foldGraph(graph, { mode: mode as FoldMode, probe, ...rules });
  console.log(formatFoldReport(result.report));
  if (format === 'layers') await writeLayersModel(output, result.graph);
  else await writeFileAtomic(output, `${JSON.stringify(graphToJSON(result.graph))}\n`);
  const report = options.get('--report') as string | undefined;
  if (report !== undefined) await writeFileAtomic(report, `${JSON.stringify(result.report, null, 2)}\n`);
  console.log(`\nwrote ${output}${report === undefined ? '' : ` and ${report}`}`);
  return 0;
}

const BENCHES = ['types', 'exec', 'fold', 'layers'] as const;

function bench(args: readonly string[]): number {
  const [first, ...rest] = args;
  if (first !== undefined && !first.startsWith('-') && !(BENCHES as readonly string[]).includes(first)) {
    throw new UsageError(`no benchmark named '${first}' (benchmarks: ${BENCHES.join(', ')})`);
  }
  const chosen = first !== undefined && (BENCHES as readonly string[]).includes(first) ? [first] : BENCHES;
  const passThrough = chosen.length === 1 ? rest : args;
  for (const name of chosen) {
    const script = fileURLToPath(new URL(`../bench/${name}.ts`, import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', script, ...passThrough], { stdio: 'inherit' });
    if (run.status !== 0) return run.status ?? 1;
  }
  return 0;
}

function prove(args: readonly string[]): number {
  let only: string | undefined;
  let verbose = false;
  let json = false;
  for (let k = 0; k < args.length; k++) {
    const arg = args[k];
    if (arg === '--rule') {
      only = args[++k];
      if (only === undefined) throw new UsageError('--rule needs a rule name');
    } else if (arg === '--verbose' || arg === '-v') verbose = true;
    else if (arg === '--json') json = true;
    else throw new UsageError(`unknown option '${arg}'`);
  }
  const rules = only === undefined ? ALL_RULES : ALL_RULES.filter((r) => r.name === only);
  if (rules.length === 0) {
    throw new UsageError(`no rule named '${only}' (rules: ${ALL_RULES.map((r) => r.name).join(', ')})`);
  }
  const reports = proveAll(rules);
  if (json) console.log(JSON.stringify(reports, null, 2));
  else {
    console.log(reports.map((r) => formatProof(r, { verbose })).join('\n'));
    const failed = reports.filter((r) => !r.ok).length;
    console.log(`\n${reports.length - failed} of ${reports.length} rules proved${failed > 0 ? `, ${failed} FAILED` : ''}`);
  }
  return reports.every((r) => r.ok) ? 0 : 1;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'check':
        return await check(args);
      case 'fold':
        return await fold(args);
      case 'prove':
        return prove(args);
      case 'bench':
        return bench(args);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command '${command}'\n${USAGE}`);
    }
  } catch (error) {
    if (error instanceof ShapefoldError) {
      console.error(`shapefold ${command}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
