/**
 * `npm run bench:probe`: what the fold probe costs, end to end.
 *
 *   library   foldGraph on ResNet-50 (DSL, 224x224, batch 1, trained-looking BN statistics) on
 *             wasm: with the probe off and with the default fast probe, median of --runs; the
 *             fast probe's phases (folding, the local float64 checks, the two float32 network
 *             runs). Goal < 2 s with the probe.
 *   CLI       `shapefold fold model.json -o out/` as a user runs it (the built dist/ CLI in a new node process: start-up,
 *             import, fold, probe, export) on keras.applications' MobileNetV2 (224) and
 *             InceptionV3 (299), generated with stock tfjs-layers, random weights. Goals < 4 s
 *             and < 12 s.
 *
 * Times are wall clock and, beside them, CPU time (this process, or the child's): on a shared
 * machine the CPU time is the closer measure of the work; the load average is printed too.
 *
 *   npm run bench:probe -- [--runs 3] [--json]
 *
 * A benchmark, not a test: goals print PASS/FAIL and never change the exit code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { input, model, resnet50 } from '../../dsl/index.ts';
import { selectBackend } from '../backend/select.ts';
import { foldGraph, type FoldProgress } from '../fold/index.ts';
import { inceptionV3 } from './inception-v3.ts';
import { layersModelToMemory, randomizeLayersWeights } from './layers-timing.ts';
import { mobileNetV2 } from './zoo-models.ts';
import { withTrainedStats } from './trained-stats.ts';

const GOALS = { resnet50Ms: 2000, mobileNetV2Ms: 4000, inceptionV3Ms: 12000 } as const;
const USAGE = 'usage: npm run bench:probe -- [--runs N (3)] [--json]';

class ProbeBenchError extends Error {
  override name = 'ProbeBenchError';
}

function parseArgs(argv: readonly string[]): { runs: number; json: boolean } {
  const o = { runs: 3, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') {
      o.runs = Number(argv[++i]);
      if (!Number.isInteger(o.runs) || o.runs < 1) throw new ProbeBenchError(`--runs needs an integer >= 1\n${USAGE}`);
    } else if (arg === '--json') o.json = true;
    else throw new ProbeBenchError(`unknown option '${arg}'\n${USAGE}`);
  }
  return o;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Timed {
  readonly wallMs: number;
  readonly cpuMs: number;
}

function timeFold(graph: Parameters<typeof foldGraph>[0], probe: 'off' | 'fast', runs: number) {
  const times: Timed[] = [];
  let phases: Record<string, number> = {};
  let network = '';
  for (let r = 0; r < runs; r++) {
    const wall0 = performance.now();
    const cpu0 = cpuMs();
    let last = wall0;
    const current: Record<string, number> = {};
    const onProgress = (p: FoldProgress) => {
      const now = performance.now();
      const phase = p.phase === 'fold' ? 'fold' : p.detail.startsWith('checked fold') ? 'local checks' : p.detail.replace(/ on \w+$/, '');
      current[phase] = (current[phase] ?? 0) + now - last;
      last = now;
    };
    const { report } = foldGraph(graph, { probe, onProgress });
    times.push({ wallMs: performance.now() - wall0, cpuMs: cpuMs() - cpu0 });
    phases = current;
    const checked = report.probe?.network;
    if (checked !== undefined) network = 'skipped' in checked ? `whole network not run: ${checked.skipped}` : `whole network at ${Object.entries(checked.inputs).map(([n, s]) => `${n} [${s.join(', ')}]`).join(', ')}${checked.reduced === undefined ? '' : ` (${checked.reduced})`}`;
  }
  return { wallMs: median(times.map((t) => t.wallMs)), cpuMs: median(times.map((t) => t.cpuMs)), phases, network };
}

async function cliFold(name: string, build: () => import('@tensorflow/tfjs').LayersModel) {
  const dir = await mkdtemp(join(tmpdir(), `shapefold-bench-${name}-`));
  try {
    const m = build();
    randomizeLayersWeights(m, 1);
    const saved = await layersModelToMemory(m);
    m.dispose();
    await writeFile(join(dir, 'model.json'), JSON.stringify(saved.modelJson));
    await writeFile(join(dir, 'weights.bin'), new Uint8Array(saved.weightData));
    // The built CLI, as an installed package runs it.
    const bin = fileURLToPath(new URL('../../dist/src/cli/bin.js', import.meta.url));
    if (!existsSync(bin)) throw new ProbeBenchError(`${bin} is missing: run npm run build first`);
    // bash's `times` prints the children's user and system CPU time after the run.
    const script = `"${process.execPath}" "${bin}" fold "${join(dir, 'model.json')}" -o "${join(dir, 'out')}" > "${join(dir, 'stdout')}"; code=$?; times; exit $code`;
    const wall0 = performance.now();
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    const wallMs = performance.now() - wall0;
    if (run.status !== 0) throw new ProbeBenchError(`shapefold fold on ${name} failed (${run.status}): ${run.stderr}`);
    const [, children] = run.stdout.trim().split('\n');
    const seconds = (children ?? '').split(/\s+/).map((t) => {
      const match = /^(\d+)m([\d.]+)s$/.exec(t);
      return match === null ? 0 : Number(match[1]) * 60 + Number(match[2]);
    });
    const stdout = await import('node:fs/promises').then((fs) => fs.readFile(join(dir, 'stdout'), 'utf8'));
    const probe = stdout.split('\n').filter((l) => l.startsWith('probe (') || l.includes('whole network') || l.includes('folds checked') || l.includes('reduced to'));
    return { wallMs, cpuMs: 1000 * seconds.reduce((a, b) => a + b, 0), folds: /(\d+) folds/.exec(stdout)?.[1], probe };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const backend = await selectBackend({ backend: 'wasm' });
  const graph = withTrainedStats(model(input([1, 3, 224, 224], { name: 'image' }).to(resnet50())).graph, 1);
  const off = timeFold(graph, 'off', o.runs);
  const fast = timeFold(graph, 'fast', o.runs);
  const mobile = await cliFold('mobilenetv2', () => mobileNetV2({ size: 224 }));
  const inception = await cliFold('inceptionv3', () => inceptionV3(299));
  const result = { backend: backend.detail, loadAverage: loadavg()[0], runs: o.runs, resnet50: { off, fast }, cli: { mobileNetV2: mobile, inceptionV3: inception } };
  if (o.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const ms = (t: Timed) => `${t.wallMs.toFixed(0)} ms wall, ${t.cpuMs.toFixed(0)} ms CPU`;
  const verdict = (t: Timed, goal: number) => `goal < ${goal} ms: ${t.wallMs < goal ? 'PASS' : t.cpuMs < goal ? 'PASS on CPU time, FAIL on wall time' : 'FAIL'}`;
  console.log(`bench:probe on ${backend.detail}, load average ${result.loadAverage.toFixed(1)}`);
  console.log(`  ResNet-50 foldGraph, probe off   ${ms(off)} (median of ${o.runs})`);
  console.log(`  ResNet-50 foldGraph, probe fast  ${ms(fast)}  ${verdict(fast, GOALS.resnet50Ms)}`);
  for (const [phase, t] of Object.entries(fast.phases)) console.log(`      ${phase.padEnd(40)} ${t.toFixed(0)} ms wall`);
  console.log(`      ${fast.network}`);
  console.log(`  CLI fold, MobileNetV2 224 (Layers)  ${ms(mobile)}  ${verdict(mobile, GOALS.mobileNetV2Ms)}`);
  for (const line of mobile.probe) console.log(`      ${line.trim()}`);
  console.log(`  CLI fold, InceptionV3 299 (Layers)  ${ms(inception)}  ${verdict(inception, GOALS.inceptionV3Ms)}`);
  for (const line of inception.probe) console.log(`      ${line.trim()}`);
}

main().catch((error: unknown) => {
  if (error instanceof ProbeBenchError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
});
