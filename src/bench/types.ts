/**
 * `npm run bench:types`: what the typed DSL costs the compiler, against the same networks in
 * plain tfjs layers code. Each program (src/bench/type-fixtures.ts) is written to its own folder
 * under `<repo>/.tmp/bench-types/` with a tsconfig extending the repo's, and checked with the
 * repo's native compiler (`tsc -p ... --noEmit --extendedDiagnostics`) `--runs` times, the runs of
 * all programs interleaved so that drift in machine load hits them alike. Reported: medians of
 * check time, total time, instantiations and types, and the DSL/plain ratios of total and check
 * time. Any compiler error fails the run; so does a DSL program whose deliberately wrong output
 * annotation is accepted (then the benchmark would not be measuring the shape computation).
 *
 * Each DSL program runs twice: against the repository's dsl/ sources (the compiler also checks
 * the DSL's implementation), and '[package]' as a consumer of the npm package compiles it: the
 * declarations `npm run build` emits, installed for the run as <work>/node_modules/shapefold and
 * imported as 'shapefold/dsl', under the consumer settings the package is tested with (strict,
 * noUncheckedIndexedAccess, exactOptionalPropertyTypes). The tfjs baselines are checked with the
 * same consumer settings; only the source-variant DSL programs keep the repository's own.
 *
 *   npm run bench:types -- [--runs 5] [--json] [--keep] [--only <text>] [--layers 200]
 *
 * A benchmark, not a test: the goals (1.5x from source, 1.2x as a package consumer) are reported
 * as PASS/FAIL but never change the exit code.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHAIN_LAYERS, type DslVariant, type TypeBenchProgram, typeBenchPrograms } from './type-fixtures.ts';

const GOAL_TOTAL_RATIO = 1.5;
const GOAL_CONSUMER_RATIO = 1.2;
/** What the package's consumer test checks declarations with, beyond the repository's tsconfig. */
/**
 * `paths: {}` undoes the repository's mapping of 'shapefold/dsl' to its sources, so the consumer
 * programs resolve the installed package's declarations, as a consumer's compiler does.
 */
const CONSUMER_OPTIONS = { noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, allowImportingTsExtensions: false, paths: {} };
const EXCESSIVE_DEPTH = 'TS2589';

export class TypeBenchError extends Error {
  override name = 'TypeBenchError';
}

interface Options {
  readonly runs: number;
  readonly json: boolean;
  readonly keep: boolean;
  readonly only?: string;
  readonly layers: number;
}

const USAGE = 'usage: npm run bench:types -- [--runs N (default 5)] [--json] [--keep] [--only <text>] [--layers N (default 200)]';

function positiveInteger(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1) {
    throw new TypeBenchError(`${flag} needs a positive integer, got ${value === undefined ? 'nothing' : JSON.stringify(value)}\n${USAGE}`);
  }
  return n;
}

function parseArgs(argv: readonly string[]): Options {
  let runs = 5;
  let json = false;
  let keep = false;
  let only: string | undefined;
  let layers = CHAIN_LAYERS;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') runs = positiveInteger(arg, argv[++i]);
    else if (arg === '--layers') layers = positiveInteger(arg, argv[++i]);
    else if (arg === '--json') json = true;
    else if (arg === '--keep') keep = true;
    else if (arg === '--only') {
      only = argv[++i];
      if (only === undefined) throw new TypeBenchError(`--only needs a text to match program names\n${USAGE}`);
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new TypeBenchError(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
  }
  return { runs, json, keep, only, layers };
}

/** One compiler run: `Label: value` lines of --extendedDiagnostics (times in seconds, memory in K). */
interface CompileResult {
  readonly metrics: Readonly<Record<string, number>>;
  readonly errors: readonly string[];
}

const METRIC_LINE = /^([A-Za-z][A-Za-z /-]*?):\s+([0-9]+(?:\.[0-9]+)?)(s|K|M)?\s*$/;
const ERROR_LINE = /error TS\d+:/;

function compile(tsc: string, tsconfig: string): CompileResult {
  const run = spawnSync(tsc, ['-p', tsconfig, '--noEmit', '--extendedDiagnostics'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw new TypeBenchError(`could not run ${tsc}: ${run.error.message}`);
  const output = `${run.stdout}\n${run.stderr}`;
  const metrics: Record<string, number> = {};
  const errors: string[] = [];
  for (const line of output.split('\n')) {
    const metric = METRIC_LINE.exec(line.trim());
    if (metric) metrics[metric[1]] = Number(metric[2]) * (metric[3] === 'M' ? 1024 : 1);
    else if (ERROR_LINE.test(line)) errors.push(line.trim());
  }
  if (run.status !== 0 && errors.length === 0) {
    throw new TypeBenchError(`${tsc} exited with ${run.status ?? run.signal} and no TS error lines; its output:\n${output.trim()}`);
  }
  return { metrics, errors };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** The labels this report needs; TypeScript 7 prints exactly these. */
const LABELS = { check: 'Check time', total: 'Total time', instantiations: 'Instantiations', types: 'Types' } as const;

interface ProgramResult {
  readonly name: string;
  readonly style: TypeBenchProgram['style'];
  readonly variant?: DslVariant;
  readonly baseline?: string;
  /** Medians over the runs of every metric the compiler printed. */
  readonly median: Readonly<Record<string, number>>;
  readonly runs: readonly Readonly<Record<string, number>>[];
  readonly errors: readonly string[];
  /** DSL programs: whether the wrong output annotation was rejected. */
  readonly controlRejected?: boolean;
  readonly ratio?: { readonly total: number; readonly check: number };
  /**
   * Instantiations minus those of the program that only imports the same library: what the
   * program itself costs. Counts, unlike times, do not depend on machine load.
   */
  readonly instantiationsBeyondImports?: number;
}

function slug(name: string): string {
  return name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** A posix-style relative module specifier, './x' or '../x'. */
function specifier(fromDir: string, to: string): string {
  const rel = relative(fromDir, to).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

function writeTsconfig(dir: string, repo: string, files: readonly string[], compilerOptions: object = {}): string {
  mkdirSync(dir, { recursive: true });
  const tsconfig = join(dir, 'tsconfig.json');
  const config = { extends: specifier(dir, join(repo, 'tsconfig.json')), compilerOptions, files, include: [] };
  writeFileSync(tsconfig, `${JSON.stringify(config, null, 2)}\n`);
  return tsconfig;
}

/** A folder with `main.ts` and a tsconfig checking just that file with the repo's options plus `compilerOptions`. */
function writeProject(dir: string, repo: string, source: string, compilerOptions: object = {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.ts'), source);
  return writeTsconfig(dir, repo, ['main.ts'], compilerOptions);
}

/** Programs of the DSL's source variant keep the repository's settings; the rest get a consumer's. */
function optionsFor(program: TypeBenchProgram): object {
  return program.variant === 'source' ? {} : CONSUMER_OPTIONS;
}

function findTsc(repo: string): { tsc: string; version: string } {
  const tsc = join(repo, 'node_modules', '.bin', process.platform === 'win32' ? 'tsc.cmd' : 'tsc');
  if (!existsSync(tsc)) {
    throw new TypeBenchError(`TypeScript compiler not found at ${tsc}; run 'npm install' in ${repo}`);
  }
  const run = spawnSync(tsc, ['--version'], { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    throw new TypeBenchError(`${tsc} --version failed: ${run.error?.message ?? run.stderr.trim()}`);
  }
  return { tsc, version: run.stdout.trim() };
}

function log(options: Options, message: string): void {
  // With --json, stdout carries only the JSON document.
  if (options.json) process.stderr.write(`${message}\n`);
  else console.log(message);
}

/**
 * Installs the package's declarations for the run: the package build (tsconfig.build.json),
 * declarations only, into `<workDir>/node_modules/shapefold/dist`, beside the repository's
 * package.json, so that 'shapefold/dsl' resolves through its `exports` as in a consumer's project.
 */
function installPackageDeclarations(tsc: string, repo: string, workDir: string): { entry: string } | { errors: readonly string[] } {
  const packageDir = join(workDir, 'node_modules', 'shapefold');
  const run = spawnSync(tsc, ['-p', join(repo, 'tsconfig.build.json'), '--emitDeclarationOnly', '--outDir', join(packageDir, 'dist')], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const errors = `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => ERROR_LINE.test(line));
  const emitted = join(packageDir, 'dist', 'dsl', 'index.d.ts');
  if (run.error || errors.length > 0 || !existsSync(emitted)) {
    return { errors: errors.length > 0 ? errors : [run.error?.message ?? `no ${emitted} emitted`] };
  }
  copyFileSync(join(repo, 'package.json'), join(packageDir, 'package.json'));
  return { entry: 'shapefold/dsl' };
}

interface Goal {
  readonly maxTotalRatio: number;
  readonly worstTotalRatio: number | null;
  readonly ts2589: boolean;
  readonly pass: boolean;
}

interface BenchReport {
  readonly compiler: string;
  readonly runs: number;
  readonly chainLayers: number;
  readonly programs: readonly ProgramResult[];
  /** The goal for the DSL checked from its sources. */
  readonly goal: Goal;
  /** The goal for a consumer of the package (its declarations); null when they could not be emitted. */
  readonly goalWithDeclarations: Goal | null;
  /** Programs whose total time varied by more than NOISY_SPREAD between runs. */
  readonly noisy: readonly string[];
  readonly failures: readonly string[];
}

const NOISY_SPREAD = 1.5;

function goalOver(programs: readonly ProgramResult[], failures: readonly string[], maxTotalRatio: number): Goal {
  const ratios = programs.map((p) => p.ratio?.total ?? NaN);
  const measured = ratios.filter(Number.isFinite);
  const ts2589 = programs.some((p) => p.errors.some((e) => e.includes(EXCESSIVE_DEPTH)));
  const worst = measured.length > 0 ? Math.max(...measured) : null;
  const complete = measured.length === ratios.length && worst !== null;
  return { maxTotalRatio, worstTotalRatio: worst, ts2589, pass: failures.length === 0 && !ts2589 && complete && worst <= maxTotalRatio };
}

function benchmark(options: Options, repo: string, workDir: string): BenchReport {
  const { tsc, version } = findTsc(repo);
  log(options, `${version}, ${options.runs} run(s) per program, programs in ${relative(repo, workDir)}`);
  const failures: string[] = [];

  // Only the [.d.ts] rows depend on this emit, so its failure is a warning, not a failed run.
  const declarations = installPackageDeclarations(tsc, repo, workDir);
  if ('errors' in declarations) {
    process.stderr.write(`!! could not emit the package's .d.ts, skipping the [package] rows:\n   ${declarations.errors.slice(0, 20).join('\n   ')}\n`);
  }
  // Every program lives one folder below workDir, so one import path per variant fits them all.
  const programDir = join(workDir, 'program');
  const all = typeBenchPrograms(
    {
      source: specifier(programDir, join(repo, 'dsl', 'index.ts')),
      declarations: 'entry' in declarations ? declarations.entry : undefined,
    },
    options.layers,
  );
  const wanted = all.filter((p) => options.only === undefined || p.name.includes(options.only));
  if (wanted.length === 0) throw new TypeBenchError(`--only ${JSON.stringify(options.only)} matches no program; programs: ${all.map((p) => p.name).join(', ')}`);
  // Baselines and import-only programs come along: the ratios and 'beyond imports' need them.
  const names = new Set(wanted.flatMap((p) => [p.name, p.baseline, p.imports]));
  for (const p of all) if (names.has(p.name)) names.add(p.imports);
  const selected = all.filter((p) => names.has(p.name));

  const projects = selected.map((program) => ({ program, tsconfig: writeProject(join(workDir, slug(program.name)), repo, program.source, optionsFor(program)) }));
  const runsOf = new Map<string, Record<string, number>[]>();
  const errorsOf = new Map<string, readonly string[]>();
  const controlOf = new Map<string, boolean>();

  // A first unmeasured pass: warms the file cache, finds compile errors, runs the controls.
  for (const { program, tsconfig } of projects) {
    const first = compile(tsc, tsconfig);
    errorsOf.set(program.name, first.errors);
    if (first.errors.length > 0) {
      failures.push(`${program.name}: ${first.errors.length} compiler error(s), first: ${first.errors[0]}`);
      log(options, `\n!! ${program.name} does not compile:\n   ${first.errors.slice(0, 20).join('\n   ')}`);
    }
    if (program.wrongSource !== undefined) {
      const control = compile(tsc, writeProject(join(workDir, `${slug(program.name)}-control`), repo, program.wrongSource, optionsFor(program)));
      const rejected = control.errors.length > 0 && !control.errors.some((e) => e.includes(EXCESSIVE_DEPTH));
      controlOf.set(program.name, rejected);
      if (!rejected) {
        failures.push(
          control.errors.length === 0
            ? `${program.name}: a wrong output annotation compiles, so the output type is not the computed shape`
            : `${program.name}: the wrong-annotation control failed with ${EXCESSIVE_DEPTH}: ${control.errors[0]}`,
        );
      }
    }
    runsOf.set(program.name, []);
  }
  const measured = projects.filter(({ program }) => errorsOf.get(program.name)!.length === 0);
  for (let run = 0; run < options.runs; run++) {
    for (const { program, tsconfig } of measured) {
      const result = compile(tsc, tsconfig);
      if (result.errors.length > 0) throw new TypeBenchError(`${program.name} compiled once, then failed: ${result.errors[0]}`);
      runsOf.get(program.name)!.push({ ...result.metrics });
    }
    log(options, `run ${run + 1}/${options.runs} done`);
  }

  const medians = new Map<string, Record<string, number>>();
  for (const [name, runs] of runsOf) {
    const labels = new Set(runs.flatMap((r) => Object.keys(r)));
    medians.set(name, Object.fromEntries([...labels].map((label) => [label, median(runs.map((r) => r[label]).filter((v) => v !== undefined))])));
  }
  const firstMedian = [...medians.values()].find((m) => Object.keys(m).length > 0);
  const missing = firstMedian === undefined ? [] : Object.values(LABELS).filter((label) => !(label in firstMedian));
  if (missing.length > 0) {
    failures.push(`--extendedDiagnostics lacks ${missing.join(', ')}; it printed: ${Object.keys(firstMedian!).join(', ')}`);
  }

  const programs: ProgramResult[] = selected.map((program) => {
    const m = medians.get(program.name)!;
    const base = program.baseline === undefined ? undefined : medians.get(program.baseline);
    const ratioOf = (label: string) => (base && m[label] !== undefined && base[label] ? m[label] / base[label] : NaN);
    const ratio = base && Object.keys(m).length > 0 ? { total: ratioOf(LABELS.total), check: ratioOf(LABELS.check) } : undefined;
    const imports = program.imports === undefined ? undefined : medians.get(program.imports);
    const own = m[LABELS.instantiations];
    const fixed = imports?.[LABELS.instantiations];
    const instantiationsBeyondImports = own !== undefined && fixed !== undefined ? own - fixed : undefined;
    return {
      name: program.name,
      style: program.style,
      variant: program.variant,
      baseline: program.baseline,
      median: m,
      runs: runsOf.get(program.name)!,
      errors: errorsOf.get(program.name)!,
      controlRejected: controlOf.get(program.name),
      ratio,
      instantiationsBeyondImports,
    };
  });
  const noisy = programs.flatMap((p) => {
    const totals = p.runs.map((r) => r[LABELS.total]).filter((v) => v !== undefined);
    return totals.length > 1 && Math.max(...totals) > NOISY_SPREAD * Math.min(...totals) ? [p.name] : [];
  });
  const withVariant = (variant: DslVariant) => programs.filter((p) => p.style === 'dsl' && p.variant === variant);
  return {
    compiler: version,
    runs: options.runs,
    chainLayers: options.layers,
    programs,
    goal: goalOver(withVariant('source'), failures, GOAL_TOTAL_RATIO),
    goalWithDeclarations: 'entry' in declarations ? goalOver(withVariant('declarations'), failures, GOAL_CONSUMER_RATIO) : null,
    noisy,
    failures,
  };
}

const ms = (seconds: number | undefined): string => (seconds === undefined ? '-' : `${Math.round(seconds * 1000)} ms`);
const count = (n: number | undefined): string => (n === undefined ? '-' : Math.round(n).toLocaleString('en-US'));
const times = (r: number | undefined): string => (r === undefined || !Number.isFinite(r) ? '' : `${r.toFixed(2)}x`);

function table(report: BenchReport): string {
  const header = ['program', 'check time', 'total time', 'instantiations', 'types', 'DSL/plain total', 'DSL/plain check', 'instantiations beyond imports'];
  const rows = report.programs.map((p) => [
    p.errors.length > 0 ? `${p.name} (ERRORS)` : p.name,
    ms(p.median[LABELS.check]),
    ms(p.median[LABELS.total]),
    count(p.median[LABELS.instantiations]),
    count(p.median[LABELS.types]),
    times(p.ratio?.total),
    times(p.ratio?.check),
    p.instantiationsBeyondImports === undefined ? '' : count(p.instantiationsBeyondImports),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function goalLine(label: string, goal: Goal): string {
  const worst = goal.worstTotalRatio === null ? 'no ratio measured' : `worst ${goal.worstTotalRatio.toFixed(2)}x`;
  return `${label}: total-time ratio <= ${goal.maxTotalRatio}x, no ${EXCESSIVE_DEPTH}: ${goal.pass ? 'PASS' : 'FAIL'} (${worst}${goal.ts2589 ? `, ${EXCESSIVE_DEPTH} seen` : ''})`;
}

function main(): number {
  const options = parseArgs(process.argv.slice(2));
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const root = join(repo, '.tmp', 'bench-types');
  mkdirSync(root, { recursive: true });
  const workDir = mkdtempSync(join(root, 'run-'));
  try {
    const report = benchmark(options, repo, workDir);
    if (options.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(`\n${table(report)}\n`);
      console.log('Medians. DSL rows are divided by the tfjs row of the same network and input. Plain DSL rows import dsl/ from');
      console.log("source (its implementation is checked too); '[package]' rows import 'shapefold/dsl' from the built package's");
      console.log('.d.ts with strict + noUncheckedIndexedAccess + exactOptionalPropertyTypes, as the tfjs rows are checked.');
      console.log("'imports only' rows are the fixed cost of a library, 'beyond imports' what a program adds.");
      if (report.noisy.length > 0) {
        const which = report.noisy.length === report.programs.length ? 'every program' : `${report.noisy.length} of ${report.programs.length} programs`;
        console.log(`note: total time varied by more than ${NOISY_SPREAD}x between runs for ${which} (busy machine?): use more --runs; counts are exact`);
      }
      console.log(goalLine('goal', report.goal));
      if (report.goalWithDeclarations) console.log(goalLine('goal for a consumer of the package', report.goalWithDeclarations));
    }
    for (const failure of report.failures) console.error(`FAILED: ${failure}`);
    return report.failures.length > 0 ? 1 : 0;
  } finally {
    if (options.keep) log(options, `programs kept in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

try {
  process.exitCode = main();
} catch (error) {
  if (!(error instanceof TypeBenchError)) throw error;
  console.error(`bench:types: ${error.message}`);
  process.exitCode = 1;
}
