/**
 * The CLI's progress: live bars on a terminal (a fake TTY stream records every write), plain
 * lines elsewhere, and the steps import, fold, probe and export report through them.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '../../src/backend/index.ts';
import { main } from '../../src/cli/main.ts';
import { createProgress, progressLine, type ProgressStream } from '../../src/cli/progress.ts';
import { mobileNetV1, randomizeWeights, saveToMemory } from './io-fixtures.ts';

/** A stream that records writes; `isTTY` as given. */
function recorder(isTTY: boolean): ProgressStream & { readonly writes: string[] } {
  const writes: string[] = [];
  return { isTTY, writes, write: (text: string) => writes.push(text) };
}

/** A clock the test moves by hand. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** A stage that folds twice (no total known) then probes three steps, time passing as given. */
async function foldAndProbe(stream: ProgressStream, time: ReturnType<typeof clock>, stepMs: number, verbose = false): Promise<string> {
  return createProgress(stream, { now: time.now, verbose }).stage('fold and probe (fast)', (tick) => {
    for (let k = 1; k <= 2; k++) {
      time.advance(stepMs);
      tick(k, undefined, 'fold');
    }
    for (let k = 1; k <= 3; k++) {
      time.advance(stepMs);
      tick(k, 3, 'probe');
    }
    return 'done';
  });
}

describe('progress off a terminal', () => {
  it('writes one plain line per long stage: its time and what each step did, nothing redrawn', async () => {
    const stream = recorder(false);
    const time = clock();
    expect(await foldAndProbe(stream, time, 400)).toBe('done');
    expect(stream.writes).toEqual(['fold and probe (fast): 2.00 s (fold 2 in 0.80 s, probe 3/3 in 1.20 s)\n']);
  });

  it('stays silent for a short stage unless --verbose', async () => {
    const quiet = recorder(false);
    await foldAndProbe(quiet, clock(), 10);
    expect(quiet.writes).toEqual([]);
    const verbose = recorder(false);
    await foldAndProbe(verbose, clock(), 10, true);
    expect(verbose.writes).toEqual(['fold and probe (fast): 0.05 s (fold 2 in 0.02 s, probe 3/3 in 0.03 s)\n']);
  });
});

describe('progress on a terminal', () => {
  it('redraws one line with the step, its count or bar, and ends with the plain line', async () => {
    const stream = recorder(true);
    await foldAndProbe(stream, clock(), 400);
    const clear = '\r\x1b[2K';
    expect(stream.writes).toEqual([
      `${clear}fold and probe (fast) ...`,
      `${clear}fold and probe (fast): fold 1`,
      `${clear}fold and probe (fast): fold 2`,
      `${clear}fold and probe (fast): probe [########                ] 1/3`,
      `${clear}fold and probe (fast): probe [################        ] 2/3`,
      `${clear}fold and probe (fast): probe [########################] 3/3`,
      clear,
      'fold and probe (fast): 2.00 s (fold 2 in 0.80 s, probe 3/3 in 1.20 s)\n',
    ]);
  });

  it('redraws at most every 100 ms, but always draws a finished bar', async () => {
    const stream = recorder(true);
    const time = clock();
    await createProgress(stream, { now: time.now }).stage('import m.json', (tick) => {
      for (let k = 1; k <= 50; k++) {
        time.advance(10);
        tick(k, 50, 'layers');
      }
    });
    const bars = stream.writes.filter((w) => w.includes('layers ['));
    // Steps at 10 ms .. 500 ms: drawn at 10, 110, 210, 310, 410, and the last at 500.
    expect(bars.map((w) => /(\d+)\/50/.exec(w)![1])).toEqual(['1', '11', '21', '31', '41', '50']);
  });

  it('draws a bar that never overflows, and a bare count when the total is unknown', () => {
    expect(progressLine('export out', 'files', 7, 4)).toBe(`export out: files [${'#'.repeat(24)}] 7/4`);
    expect(progressLine('export out', 'files', 0, 0)).toBe(`export out: files [${' '.repeat(24)}] 0/0`);
    expect(progressLine('fold', undefined, 3, undefined)).toBe('fold 3');
  });
});

describe('shapefold fold reports its steps', () => {
  let dir: string;

  beforeAll(async () => {
    await selectBackend();
    dir = await mkdtemp(join(tmpdir(), 'shapefold-progress-'));
    const net = mobileNetV1({ size: 16, first: 4, blocks: [[8, 2], [8, 1]], classes: 3, prefix: 'p_' });
    randomizeWeights(net, 3);
    const saved = await saveToMemory(net);
    net.dispose();
    await mkdir(join(dir, 'in'));
    await writeFile(join(dir, 'in', 'model.json'), JSON.stringify(saved.modelJson));
    await writeFile(join(dir, 'in', 'weights.bin'), new Uint8Array(saved.weightData));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('import (weight files, layers), fold, probe and export (files), as plain lines off a terminal', async () => {
    const err: string[] = [];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      err.push(String(chunk));
      return true;
    });
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const before = tf.memory().numTensors;
    let code: number;
    try {
      code = await main(['fold', join(dir, 'in', 'model.json'), '-o', join(dir, 'out'), '--verbose']);
    } finally {
      write.mockRestore();
      log.mockRestore();
    }
    expect(code).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const lines = err.join('').split('\n');
    expect(err.join('')).not.toContain('\r');
    expect(lines.find((l) => l.startsWith('import '))).toMatch(/^import .*model\.json: [\d.]+ s \(weight files 1\/1 in [\d.]+ s, layers (\d+)\/\1 in [\d.]+ s\)$/);
    expect(lines.find((l) => l.startsWith('fold and probe (fast)'))).toMatch(/^fold and probe \(fast\): [\d.]+ s \(fold \d+ in [\d.]+ s, probe (\d+)\/\1 in [\d.]+ s\)$/);
    expect(lines.find((l) => l.startsWith('export '))).toMatch(/^export .*out: [\d.]+ s \(files 2\/2 in [\d.]+ s\)$/);
  });
});
