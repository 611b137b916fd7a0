/**
 * `npm run bench:zoo -- --browser`'s page path, end to end in a real headless chromium: one small
 * zoo model exported and timed in a cross-origin isolated page (tfjs-wasm's threaded build) and
 * in a plain page. Checks what the page reported, never a speed.
 *
 * Skipped without chromium, with the reason in its title; SHAPEFOLD_REQUIRE_BROWSER=1
 * (`npm run test:browser`) makes a missing chromium a failure instead.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { findChromium, runPageJobs } from '../../src/bench/zoo-browser.ts';
import { ZOO, type ZooModel } from '../../src/bench/zoo-models.ts';
import { measureInBrowser } from '../../src/bench/zoo.ts';

const chromium = findChromium();
const required = process.env.SHAPEFOLD_REQUIRE_BROWSER === '1';
const mobileNetV2 = ZOO.find((e) => e.name === 'MobileNet v2');

describe.skipIf(chromium === undefined && !required)(
  `bench:zoo --browser${chromium === undefined ? ' (skipped: no chromium on PATH or at SHAPEFOLD_CHROMIUM; apt-get install chromium)' : ''}`,
  () => {
    it('times a folded MobileNet v2 in an isolated page on threads and in a plain page on one, with equal outputs', async () => {
      expect(chromium, 'SHAPEFOLD_REQUIRE_BROWSER=1 but no chromium found').toBeDefined();
      expect(mobileNetV2).toBeDefined();
      const zoo = mobileNetV2 as ZooModel;
      const entry: ZooModel = { ...zoo, build: (o) => zoo.build({ ...o, width: 0.25 }) };
      const cores = availableParallelism();
      const { runs, threaded, single, backends } = await measureInBrowser([entry], { size: 32, classifier: 'softmax', runs: 3, warmup: 1, control: true, threads: cores, timeoutMs: 120_000 });
      expect(runs.map((r) => r.job.isolated)).toEqual([true, false]);
      const [isolated, plain] = runs.map((r) => r.result);
      expect(isolated.crossOriginIsolated).toBe(true);
      expect(plain.crossOriginIsolated).toBe(false);
      if (cores >= 2) expect(isolated.threads).toBeGreaterThanOrEqual(2);
      expect(plain.threads).toBe(1);
      for (const { job, result, load } of runs) {
        expect(result.job).toBe(job.id);
        expect(result.backend).toBe('wasm');
        expect(typeof result.simd).toBe('boolean');
        expect(result.hardwareConcurrency).toBeGreaterThanOrEqual(1);
        expect(result.userAgent).toMatch(/Chrom/);
        for (const ms of [result.originalMs, result.foldedMs, result.copyMs]) {
          expect(Number.isFinite(ms) && (ms as number) > 0, `a time of ${ms} ms`).toBe(true);
        }
        expect(result.maxRelDiff).toBeLessThanOrEqual(1e-5);
        // 52 BNs folded away: four weights each fewer, the conv biases they become added
        expect(result.paramsAfter).toBeLessThan(result.params);
        expect(result.tensorsLeft).toBe(0);
        expect(load.every((l) => Number.isFinite(l))).toBe(true);
      }
      expect([threaded.length, single.length]).toEqual([1, 1]);
      expect(threaded[0]).toMatchObject({ name: 'MobileNet v2', bnBefore: 52, bnAfter: 0, input: '32x32' });
      expect(backends[0]).toMatch(new RegExp(`^wasm \\((no )?SIMD, ${isolated.threads} threads?\\) in headless Chromium \\d+, cross-origin isolated page$`));
      expect(backends[1]).toMatch(/^wasm \((no )?SIMD, 1 thread\) in headless Chromium \d+, plain page$/);
    }, 240_000);

    it('fails with one named line when the page cannot load its model', async () => {
      const job = { model: 'missing', isolated: false, runs: 1, warmup: 0, control: false, inputShapes: [[1, 4]] };
      await expect(runPageJobs('/nonexistent-shapefold-dir', [job], { timeoutMs: 60_000, describe: () => 'the missing model' })).rejects.toThrow(
        // the page's own report, or chromium's console line for the failed fetch, whichever comes first
        /^page (error|console message) \(the missing model\): .*404/,
      );
    }, 120_000);
  },
);
