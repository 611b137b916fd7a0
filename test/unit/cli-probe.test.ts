/** `shapefold fold --probe fast|full|off`: what the probe ran, and usage errors for contradictions. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-fixtures.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shapefold-cli-probe-'));
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
