/**
 * The CLI's reports: `fold --probe fast|full|off` (what the probe ran; usage errors for
 * contradictions), `fold --html`, `info <model>` and `bench <model.json>`.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLayersBench, type LayersBenchResult } from '../../src/io/layers-bench.ts';
import { quantile } from '../../src/io/predict-timing.ts';
import { runCli } from './cli-fixtures.ts';
import { mobileNetV1, randomizeWeights, saveToMemory } from './io-fixtures.ts';

let dir: string;
let layersModel: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shapefold-cli-report-'));
  const original = mobileNetV1({ size: 16, first: 4, blocks: [[8, 2], [8, 1]], classes: 3, prefix: 'rep_' });
  randomizeWeights(original, 5);
  const saved = await saveToMemory(original);
  original.dispose();
  await mkdir(join(dir, 'in'));
  layersModel = join(dir, 'in', 'model.json');
  await writeFile(layersModel, JSON.stringify(saved.modelJson));
  await writeFile(join(dir, 'in', 'weights.bin'), new Uint8Array(saved.weightData));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MODEL = 'examples/residual-units.ts#residualUnits';

describe('shapefold fold --probe', () => {
  it('probes fast by default and says what ran', async () => {
    const { code, out } = await runCli(['fold', MODEL, '-o', join(dir, 'fast.json'), '--backend', 'cpu']);
    expect(code).toBe(0);
    expect(out).toContain('probe (fast, eval mode, seed 0): PASS');
    expect(out).toMatch(/\d+ of \d+ folds checked on their own, float64, random patches with border taps/);
    expect(out).toContain('whole network, float32 on cpu, at x [1, ');
  });

  it('--probe full adds the float64 whole-network check', async () => {
    const { code, out } = await runCli(['fold', MODEL, '-o', join(dir, 'full.json'), '--probe', 'full', '--backend', 'cpu']);
    expect(code).toBe(0);
    expect(out).toContain('probe (full, eval mode, seed 0): PASS');
    expect(out).toContain('whole network, float64 reference, at x [2, ');
  });

  it('rejects an unknown level and a contradiction as usage errors, writing nothing', async () => {
    const cases: [string[], string][] = [
      [['--probe', 'quick'], "shapefold fold: --probe must be fast, full or off, got 'quick'"],
      [['--no-probe', '--probe', 'full'], "shapefold fold: --no-probe contradicts --probe full (see 'shapefold fold --help')"],
    ];
    for (const [flags, message] of cases) {
      const { code, err } = await runCli(['fold', MODEL, '-o', join(dir, 'never.json'), ...flags]);
      expect(code).toBe(2);
      expect(err).toBe(message);
    }
    expect((await readdir(dir)).filter((f) => f.startsWith('never'))).toEqual([]);
  });
});

describe('shapefold fold --html', () => {
  it('writes one self-contained page with both graphs beside the folded model', async () => {
    const html = join(dir, 'report.html');
    const { code, out } = await runCli(['fold', MODEL, '-o', join(dir, 'html.json'), '--html', html, '--backend', 'cpu']);
    expect(code).toBe(0);
    expect(out).toContain(`wrote ${join(dir, 'html.json')} and ${html}`);
    const page = await readFile(html, 'utf8');
    expect(page).toContain(`shapefold fold report: ${MODEL}`);
    expect(page.match(/<svg /g)).toHaveLength(2);
    expect(page).toMatch(/<th>import<\/th><td>\d+\.\d\d s<\/td>/);
    expect(page).toContain('Probe: <span class="ok">PASS</span>');
  });

  it("creates the missing folders of the page's path, as -o does for the model", async () => {
    const html = join(dir, 'reports', 'today', 'report.html');
    const { code } = await runCli(['fold', MODEL, '-o', join(dir, 'html2.json'), '--html', html, '--backend', 'cpu']);
    expect(code).toBe(0);
    expect(await readFile(html, 'utf8')).toMatch(/^<!DOCTYPE html>/);
  });
});

describe('shapefold fold onto its input', () => {
  it('refuses an output that would replace the input model, before any work', async () => {
    const before = await readdir(join(dir, 'in'));
    for (const out of [join(dir, 'in'), join(dir, 'in', '')]) {
      const { code, err } = await runCli(['fold', layersModel, '-o', out]);
      expect(code).toBe(2);
      expect(err.trim()).toBe(`shapefold fold: -o ${out} would replace the input model ${layersModel}; write the folded model elsewhere (see 'shapefold fold --help')`);
    }
    expect(await readdir(join(dir, 'in'))).toEqual(before);
  });

  it("given the model's directory instead of its model.json, says which file to give", async () => {
    const { code, err } = await runCli(['fold', join(dir, 'in'), '-o', join(dir, 'from-dir')]);
    expect(code).toBe(1);
    expect(err.trim()).toBe(`shapefold fold: ${join(dir, 'in')}: expected a graph .json or a model module (.ts, .mts, .js, .mjs); it is a directory: for the Layers model in it, give ${layersModel}`);
  });
});

describe('shapefold info', () => {
  it('lists layers, op counts with the BatchNorms, and what fold would do, writing nothing', async () => {
    const before = await readdir(join(dir, 'in'));
    const { code, out } = await runCli(['info', layersModel]);
    expect(code).toBe(0);
    expect(out).toMatch(/rep_conv_preds/);
    expect(out).toMatch(/^ops: .*5 batchNorm/m);
    expect(out).toContain('BatchNorm layers: 5');
    // Five BNs fold; the Dropout before the classifier is bypassed at inference, which the report counts too.
    expect(out).toContain('what `shapefold fold --format layers` would do:\nfold (eval mode): 6 folds');
    expect(out).not.toContain('probe (');
    expect(await readdir(join(dir, 'in'))).toEqual(before);
  });

  it('--json carries the layers, the op counts and the fold report', async () => {
    const { code, out } = await runCli(['info', layersModel, '--json']);
    expect(code).toBe(0);
    const info = JSON.parse(out) as { nodes: unknown[]; ops: Record<string, number>; format: string; report: { folds: { rule: string }[] } };
    expect(info.ops.batchNorm).toBe(5);
    expect(info.format).toBe('layers');
    expect(info.report.folds.filter((f) => f.rule !== 'dropout-at-inference')).toHaveLength(5);
    expect(info.report.folds.filter((f) => f.rule === 'dropout-at-inference')).toHaveLength(1);
  });
});

describe('shapefold bench <model.json>', () => {
  it('times the model and its folded form under model.predict, names the backend, and leaks no tensor', async () => {
    const { code, out } = await runCli(['bench', layersModel, '--runs', '3', '--warmup', '1', '--backend', 'cpu', '--json']);
    expect(code).toBe(0);
    // The backend is chosen by the first run; a second leaves tfjs's tensor count where it found it.
    const before = tf.memory().numTensors;
    expect((await runCli(['bench', layersModel, '--runs', '2', '--warmup', '1', '--backend', 'cpu', '--json'])).code).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const result = JSON.parse(out) as LayersBenchResult;
    expect(result.backend).toBe('cpu');
    expect(result.runs).toBe(3);
    expect(result.inputs).toEqual([[1, 16, 16, 3]]);
    expect(result.batchNorms).toEqual({ original: 5, folded: 0 });
    expect(result.speedup).toBeCloseTo(result.originalMs / result.foldedMs, 10);
    const [q1, q3] = result.speedupQuartiles;
    expect(0 < q1 && q1 <= q3 && Number.isFinite(q3)).toBe(true);
    expect(result.maxAbsDiff).toBeLessThan(1e-4);
  });

  it('shows the per-round spread when it is as wide as the speedup is far from 1', () => {
    const result: LayersBenchResult = {
      backend: 'cpu', inputs: [[1, 8]], folds: 1, batchNorms: { original: 1, folded: 0 },
      runs: 15, warmup: 3, originalMs: 2.04, foldedMs: 2, speedup: 1.02, speedupQuartiles: [0.91, 1.13], maxAbsDiff: 1e-6,
    };
    const speedupLine = (r: LayersBenchResult) => formatLayersBench('m.json', r).split('\n').find((line) => line.includes('speedup'));
    expect(speedupLine(result)).toBe('  speedup                    1.02x (per-round ratios 0.91x-1.13x, the middle half of 15 rounds: no clear difference)');
    expect(speedupLine({ ...result, speedup: 1.3, speedupQuartiles: [1.1, 1.45] })).toBe('  speedup                    1.30x (per-round ratios 1.10x-1.45x, the middle half of 15 rounds)');
    expect(speedupLine({ ...result, speedup: 1.5, speedupQuartiles: [1.45, 1.56] })).toBe('  speedup                    1.50x');
  });

  it('takes the quartiles between ranks', () => {
    expect([0.25, 0.5, 0.75].map((q) => quantile([1, 2, 3, 4], q))).toEqual([1.75, 2.5, 3.25]);
    expect(quantile([7], 0.25)).toBe(7);
  });

  it('runs a repository benchmark from any working directory', () => {
    // `--import tsx` was resolved from the working directory: elsewhere, Node's stack trace.
    const repo = fileURLToPath(new URL('../../', import.meta.url));
    const tsx = pathToFileURL(createRequire(join(repo, 'package.json')).resolve('tsx')).href;
    const run = spawnSync(process.execPath, ['--import', tsx, join(repo, 'src/cli/bin.ts'), 'bench', 'types', '--', '--runs', '0'], { cwd: tmpdir(), encoding: 'utf8' });
    expect(run.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
    expect(run.stderr).toContain('--runs needs a positive integer, got "0"');
    expect(run.status).not.toBe(0);
  });

  it('rejects benchmark options without a model, and a bad count, as usage errors', async () => {
    expect(await runCli(['bench', 'fold', '--runs', '3'])).toMatchObject({ code: 2, err: "shapefold bench: --runs applies to a model benchmark; pass a repository benchmark's options after --" });
    expect(await runCli(['bench', layersModel, '--runs', '0'])).toMatchObject({ code: 2, err: "shapefold bench: --runs must be an integer >= 1, got '0'" });
  });
});
