/**
 * `--json`: stdout carries one JSON document whatever happens. A failure is
 * `{ ok: false, error: { name, message }, exitCode }` (and what the command got as far as: fold's
 * report when the probe fails) beside the usual one line on stderr.
 */
import { mkdtempSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeFailure, failureDocument } from '../../src/cli/failure.ts';
import { packageInfo } from '../../src/cli/package-info.ts';
import { runCli } from './cli-fixtures.ts';

// No fold rule shapefold ships fails its probe: the probe-failure path is reached by marking the
// probe of a real fold as failed.
const failTheProbe = vi.hoisted(() => ({ on: false }));
vi.mock('../../src/fold/index.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/fold/index.ts')>();
  return {
    ...actual,
    foldGraph: (...args: Parameters<typeof actual.foldGraph>) => {
      const result = actual.foldGraph(...args);
      const probe = result.report.probe;
      if (!failTheProbe.on || probe === undefined) return result;
      return { ...result, report: { ...result.report, probe: { ...probe, ok: false } } };
    },
  };
});

// Made now, not in beforeAll: the cases below name files in it.
const dir = mkdtempSync(join(tmpdir(), 'shapefold-cli-json-'));

beforeAll(async () => {
  await mkdir(join(dir, 'weightless'));
  await copyFile('examples/models/lenet-bn-fashion-mnist/model.json', join(dir, 'weightless', 'model.json'));
  await writeFile(join(dir, 'bad.json'), '{ "format": "shapefold-graph", ');
  await mkdir(join(dir, 'occupied'));
  await writeFile(join(dir, 'occupied', 'keep.txt'), 'mine');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MODEL = 'examples/lenet-bn.ts#lenetBn';
const LAYERS_MODEL = 'examples/models/lenet-bn-fashion-mnist/model.json';

/** The document on stdout, checked to be the only thing there and to say what stderr says. */
async function failedJson(argv: string[]): Promise<{ code: number; doc: { ok: boolean; error: { name: string; message: string }; exitCode: number } & Record<string, unknown> }> {
  const { code, out, err } = await runCli(argv);
  expect(err.split('\n'), argv.join(' ')).toHaveLength(1);
  const doc = JSON.parse(out) as { ok: boolean; error: { name: string; message: string }; exitCode: number };
  const command = argv[0].startsWith('-') ? '' : ` ${argv[0]}`;
  expect(err, argv.join(' ')).toBe(`shapefold${command}: ${doc.error.message}`);
  expect(doc.exitCode).toBe(code);
  return { code, doc };
}

describe('--json on a failure', () => {
  const cases: [what: string, argv: string[], name: string, message: RegExp, exitCode: number][] = [
    ['a missing input file', ['check', join(dir, 'missing.json')], 'LoadError', /missing\.json: cannot read \(ENOENT\)$/, 1],
    ['an input that is not JSON', ['info', join(dir, 'bad.json')], 'LoadError', /bad\.json: is not valid JSON/, 1],
    ['a model whose weights cannot be read', ['fold', join(dir, 'weightless', 'model.json'), '-o', join(dir, 'never')], 'LayersModelError', /weightsManifest\[0\]\.paths cannot read .*group1-shard1of1\.bin \(ENOENT\)$/, 1],
    ['an -o that cannot be written', ['fold', MODEL, '-o', '/proc/x/y.json'], 'OutputPathError', /^\/proc\/x\/y\.json: cannot write in \/proc /, 1],
    ['an -o directory holding other files', ['fold', LAYERS_MODEL, '-o', join(dir, 'occupied')], 'OutputPathError', /occupied: exists and holds files but no model\.json \(keep\.txt\); refusing to replace it$/, 1],
    ['an -o that would replace the input', ['fold', LAYERS_MODEL, '-o', 'examples/models/lenet-bn-fashion-mnist'], 'UsageError', /would replace the input model/, 2],
    ['a negative size', ['fold', LAYERS_MODEL, '-o', join(dir, 'never'), '--shard-size', '-5'], 'UsageError', /^--shard-size must be an integer >= 1, got '-5'$/, 2],
    ['a count that is not a number', ['bench', 'model.json', '--runs', 'ten'], 'UsageError', /^--runs must be an integer >= 1, got 'ten'$/, 2],
    ['a value not among the choices', ['fold', MODEL, '-o', join(dir, 'never.json'), '--mode', 'infer'], 'UsageError', /^--mode must be eval or train, got 'infer'$/, 2],
    ['an unknown option', ['check', MODEL, '--frobnicate'], 'UsageError', /^unknown option '--frobnicate'/, 2],
    ['a missing argument', ['check'], 'UsageError', /^missing arguments: usage: shapefold check/, 2],
    ['an unknown command', ['frobnicate'], 'UsageError', /^unknown command 'frobnicate'/, 2],
    ['no command', [], 'UsageError', /^expected a command before '--json'/, 2],
    ['a command without --json', ['codegen', LAYERS_MODEL, '-o', join(dir, 'never.ts')], 'UsageError', /^unknown option '--json'/, 2],
  ];
  it.each(cases)('%s: one document on stdout, the same message on stderr', async (_what, argv, name, message, exitCode) => {
    const { code, doc } = await failedJson([...argv, '--json']);
    expect(code).toBe(exitCode);
    expect(doc).toEqual({ ok: false, error: { name, message: expect.stringMatching(message) }, exitCode });
  });

  it('wrote nothing for any of them', async () => {
    expect((await readdir(dir)).sort()).toEqual(['bad.json', 'occupied', 'weightless']);
    expect(await readdir(join(dir, 'occupied'))).toEqual(['keep.txt']);
  });

  it("a --json after '--' is a benchmark's, and asks for nothing", async () => {
    const { code, out, err } = await runCli(['bench', 'speed', '--', '--json']);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(/no benchmark named 'speed'/);
  });

  it('a failed probe is one document: the failure with the report, and no model written', async () => {
    failTheProbe.on = true;
    try {
      const out = join(dir, 'probe', 'folded.json');
      const report = join(dir, 'probe', 'report.json');
      const { code, doc } = await failedJson(['fold', MODEL, '-o', out, '--report', report, '--backend', 'cpu', '--json']);
      expect(code).toBe(1);
      expect(doc).toMatchObject({
        ok: false,
        error: { name: 'FoldProbeError', message: expect.stringMatching(/^the probe found the folded model outside its tolerance/) },
        exitCode: 1,
        output: out,
        format: 'graph',
        report: { probe: { ok: false } },
      });
      expect(await readdir(join(dir, 'probe'))).toEqual(['report.json']);
      // Without --json: the report as text on stdout, the same line on stderr.
      const text = await runCli(['fold', MODEL, '-o', out, '--backend', 'cpu']);
      expect(text.code).toBe(1);
      expect(text.out).toContain('probe (fast, eval mode, seed 0): FAILED');
      expect(text.err).toBe(`shapefold fold: ${doc.error.message}`);
    } finally {
      failTheProbe.on = false;
      await rm(join(dir, 'probe'), { recursive: true, force: true });
    }
  });
});

describe('the failure document', () => {
  it('names a file-system error by its code', () => {
    const error = Object.assign(new Error("EACCES: permission denied, open 'out/y.json'"), { code: 'EACCES', path: 'out/y.json', syscall: 'open' });
    expect(failureDocument(describeFailure(error, 'fold'))).toEqual({
      ok: false,
      error: { name: 'SystemError', message: 'out/y.json: permission denied (EACCES)', code: 'EACCES' },
      exitCode: 1,
    });
  });

  it('says that a bug is one, in one line', () => {
    const error = new RangeError('Invalid typed array length: 4294967296\nmore');
    expect(failureDocument(describeFailure(error, 'fold'))).toEqual({
      ok: false,
      error: { name: 'RangeError', message: `internal error (a bug in shapefold ${packageInfo().version}): Invalid typed array length: 4294967296` },
      exitCode: 1,
    });
  });
});
