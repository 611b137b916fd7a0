import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conv2d, input, model, relu } from '../../dsl/index.ts';
import { writeFilesAtomic } from '../../src/io/files.ts';
import { COMMANDS } from '../../src/cli/commands/index.ts';
import { describeFailure } from '../../src/cli/failure.ts';
import { graphToJSON } from '../../src/ir/serialize.ts';
import { runCli } from './cli-fixtures.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shapefold-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = runCli;

describe('shapefold check', () => {
  it('prints the shapes of a DSL module export', async () => {
    const { code, out } = await run(['check', 'examples/lenet-bn.ts#lenetBn']);
    expect(code).toBe(0);
    expect(out).toMatch(/flatten_1\s+flatten\s+maxPool2d_2\s+\[N, 256\]/);
    expect(out).toMatch(/fc3\s+linear\s+relu_4\s+\[N, 10\]\s+850/);
  });

  it('prints the shapes of a graph JSON file', async () => {
    const { graph } = model(input(['N', 3, 'H', 'W'], { name: 'x' }).to(conv2d({ out: 4, kernel: 3, stride: 2, padding: 1, name: 'c' })).to(relu()));
    const file = join(dir, 'g.json');
    await writeFile(file, JSON.stringify(graphToJSON(graph)));
    const { code, out } = await run(['check', file]);
    expect(code).toBe(0);
    expect(out).toContain('[N, 4, floor((H+1)/2), floor((W+1)/2)]');
  });

  it('names the file and the problem for bad input, without a stack trace', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ "format": "shapefold-graph", ');
    const cases: [string[], RegExp, number][] = [
      [['check', join(dir, 'missing.json')], /missing\.json: cannot read \(ENOENT\)/, 1],
      [['check', bad], /bad\.json: is not valid JSON/, 1],
      [['check', 'examples/lenet-bn.ts'], /no export named 'default'.*\(exports: lenetBn\)/, 1],
      [['check', 'examples/lenet-bn.ts#nope'], /no export named 'nope'/, 1],
      [['check', 'README.md'], /expected a graph \.json or a model module/, 1],
      [['check', 'examples'], /^shapefold check: examples: expected a graph \.json or a model module \(\.ts, \.mts, \.js, \.mjs\); it is a directory$/, 1],
      [['check'], /missing arguments: usage: shapefold check <model>/, 2],
      [['check', 'a.json', 'b.json'], /unexpected argument 'b\.json'/, 2],
      [['check', '--frobnicate', 'a.json'], /unknown option '--frobnicate' \(see 'shapefold check --help'\)/, 2],
      [['frobnicate'], /unknown command 'frobnicate' \(commands: check, fold, prove, bench/, 2],
      [['bench', 'speed'], /no benchmark named 'speed' \(benchmarks: types, exec, fold, layers, probe; or give a model\.json\)/, 2],
    ];
    for (const [argv, message, exitCode] of cases) {
      const { code, err } = await run(argv);
      expect(code, argv.join(' ')).toBe(exitCode);
      expect(err).toMatch(message);
      expect(err.split('\n'), argv.join(' ')).toHaveLength(1);
    }
  });

  it('reports a malformed graph by node and field', async () => {
    const { graph } = model(input(['N', 3, 8, 8], { name: 'x' }).to(conv2d({ out: 4, kernel: 3, name: 'c' })));
    const json = graphToJSON(graph);
    const conv = json.nodes.find((n) => n.name === 'c')!;
    conv.params.weight.shape[1] = 5;
    const file = join(dir, 'wrong.json');
    await writeFile(file, JSON.stringify(json));
    const { code, err } = await run(['check', file]);
    expect(code).toBe(1);
    expect(err).toContain('wrong.json');
    expect(err).toContain("'c'");
  });
});

describe('shapefold fold', () => {
  it('folds a DSL model, prints the report and writes the graph and report', async () => {
    const out = join(dir, 'folded.json');
    const report = join(dir, 'report.json');
    const { code, out: text } = await run(['fold', 'examples/residual-units.ts#residualUnits', '-o', out, '--report', report, '--no-probe']);
    expect(code).toBe(0);
    expect(text).toMatch(/fold \(eval mode\): \d+ folds/);
    expect(text).toContain("scaleShift 'resB.bn2'");
    const folded = JSON.parse(await readFile(out, 'utf8')) as { nodes: { op: string }[] };
    expect(folded.nodes.some((n) => n.op === 'batchNorm')).toBe(false);
    const parsed = JSON.parse(await readFile(report, 'utf8')) as { folds: unknown[]; left: { name: string }[] };
    expect(parsed.folds.length).toBeGreaterThan(0);
    expect(parsed.left.map((l) => l.name).sort()).toEqual(['resB.bn2', 'resC.bn4']);
    // The folded file is a model shapefold can read back.
    expect((await run(['check', out])).code).toBe(0);
  });

  it('writes nothing when the model cannot be loaded or the options are wrong', async () => {
    const out = join(dir, 'never.json');
    await writeFile(join(dir, 'plain.txt'), 'a file, not a directory');
    const cases: [string[], RegExp, number][] = [
      [['fold', 'examples/lenet-bn.ts#nope', '-o', out], /no export named 'nope'/, 1],
      [['fold', 'examples/lenet-bn.ts#lenetBn'], /missing -o <out>/, 2],
      [['fold', 'examples/lenet-bn.ts#lenetBn', '-o', out, '--mode', 'infer'], /--mode must be eval or train, got 'infer'/, 2],
      [['fold', 'examples/lenet-bn.ts#lenetBn', '-o'], /--out needs a value/, 2],
      [['fold', 'examples/lenet-bn.ts#lenetBn', '--out', '/proc/x/y.json'], /\/proc\/x\/y\.json: cannot write in \/proc /, 1],
      [['fold', 'examples/lenet-bn.ts#lenetBn', '-o', join(dir, 'plain.txt', 'x.json')], /plain\.txt is not a directory/, 1],
      [['fold', 'examples/lenet-bn.ts#lenetBn', '-o', dir], /is a directory; expected a file name/, 1],
      [['fold', 'examples/lenet-bn.ts#lenetBn', '-o', out, '--report', '/proc/r.json'], /\/proc\/r\.json: cannot write in \/proc/, 1],
    ];
    for (const [argv, message, exitCode] of cases) {
      const { code, err } = await run(argv);
      expect(code, argv.join(' ')).toBe(exitCode);
      expect(err).toMatch(message);
      expect(err.split('\n'), argv.join(' ')).toHaveLength(1);
    }
    expect((await readdir(dir)).filter((f) => f.startsWith('never') || f.endsWith('.tmp') || f.startsWith('.shapefold'))).toEqual([]);
  });

  it('--json prints the report as JSON and nothing else', async () => {
    const out = join(dir, 'folded-json.json');
    const { code, out: text } = await run(['fold', 'examples/lenet-bn.ts#lenetBn', '--out', out, '--no-probe', '--json']);
    expect(code).toBe(0);
    const parsed = JSON.parse(text) as { output: string; format: string; report: { folds: { rule: string }[] } };
    expect(parsed.output).toBe(out);
    expect(parsed.format).toBe('graph');
    expect(parsed.report.folds.map((f) => f.rule)).toEqual(['conv-bn', 'conv-bn', 'linear-bn', 'linear-bn']);
  });
});

describe('paths in messages', () => {
  const LAYERS_MODEL = 'examples/models/lenet-bn-fashion-mnist/model.json';

  it('name a file the way it was typed: relative stays relative, absolute stays absolute', async () => {
    const at = join(dir, 'typed');
    await mkdir(join(at, 'weightless'), { recursive: true });
    await copyFile(LAYERS_MODEL, join(at, 'weightless', 'model.json'));
    await writeFile(join(at, 'plain'), 'a file, not a directory');
    await mkdir(join(at, 'notes'));
    await writeFile(join(at, 'notes', 'todo.txt'), 'not a model');
    await writeFile(join(at, 'imports.mjs'), "import 'shapefold-no-such-package';\nexport default 1;\n");
    const rel = relative(process.cwd(), at);
    for (const typed of [rel, at]) {
      const cases: [string[], string][] = [
        [['check', join(typed, 'weightless', 'model.json')], `${join(typed, 'weightless', 'model.json')}: weightsManifest[0].paths cannot read ${join(typed, 'weightless', 'group1-shard1of1.bin')} (ENOENT)`],
        [['codegen', LAYERS_MODEL, '-o', join(typed, 'plain', 'x.ts')], `${join(typed, 'plain', 'x.ts')}: ${join(typed, 'plain')} is not a directory`],
        [['fold', LAYERS_MODEL, '-o', join(typed, 'plain', 'sub', 'out')], `${join(typed, 'plain', 'sub', 'out')}: ${join(typed, 'plain')} is not a directory`],
        [['fold', LAYERS_MODEL, '-o', join(typed, 'out'), '--report', join(typed, 'plain', 'r.json')], `${join(typed, 'plain', 'r.json')}: ${join(typed, 'plain')} is not a directory`],
        [['fold', LAYERS_MODEL, '-o', join(typed, 'notes')], `${join(typed, 'notes')}: exists and holds files but no model.json (todo.txt); refusing to replace it`],
        [['check', join(typed, 'missing.mjs')], `${join(typed, 'missing.mjs')}: cannot read (ENOENT)`],
        [['codegen', join(typed, 'missing.json'), '-o', join(typed, 'never.ts')], `${join(typed, 'missing.json')}: cannot read (ENOENT)`],
        [['check', join(typed, 'imports.mjs')], `${join(typed, 'imports.mjs')}: cannot load the module (Cannot find package 'shapefold-no-such-package' imported from ${join(typed, 'imports.mjs')})`],
      ];
      for (const [argv, message] of cases) {
        const { code, err } = await run(argv);
        expect(code, argv.join(' ')).toBe(1);
        expect(err, argv.join(' ')).toBe(`shapefold ${argv[0]}: ${message}`);
      }
    }
  });

  it('fold refuses an -o directory holding other files before reading the model', async () => {
    await mkdir(join(dir, 'occupied'));
    await writeFile(join(dir, 'occupied', 'keep.txt'), 'mine');
    const { code, err } = await run(['fold', join(dir, 'missing', 'model.json'), '--format', 'layers', '-o', join(dir, 'occupied')]);
    expect(code).toBe(1);
    expect(err).toBe(`shapefold fold: ${join(dir, 'occupied')}: exists and holds files but no model.json (keep.txt); refusing to replace it`);
  });
});

describe('command-line conventions', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const { code, out } = await run(['--version']);
    expect(code).toBe(0);
    expect(out.trim()).toBe(version);
  });

  it('every command has -h/--help describing its options, exit 0', async () => {
    for (const command of ['check', 'fold', 'prove', 'bench']) {
      for (const flag of ['-h', '--help']) {
        const { code, out } = await run([command, flag]);
        expect(code, `${command} ${flag}`).toBe(0);
        expect(out).toContain(`usage: shapefold ${command}`);
        expect(out).toContain('-h, --help');
      }
    }
    const fold = await run(['help', 'fold']);
    expect(fold.out).toContain('-o, --out <out>');
    expect(fold.out).toContain('--json');
  });

  it('no arguments prints the command list to stderr with exit 2; --help to stdout with exit 0', async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/exit codes: 0 success, 1 failure .*, 2 usage error/);
  });

  it('check --json lists every layer with its shape', async () => {
    const { code, out } = await run(['check', 'examples/lenet-bn.ts#lenetBn', '--json']);
    expect(code).toBe(0);
    const table = JSON.parse(out) as { nodes: { name: string; op: string; shape: (string | number)[]; params: number }[]; params: number };
    expect(table.nodes.find((n) => n.name === 'fc3')).toMatchObject({ op: 'linear', shape: ['N', 10], params: 850 });
    expect(table.params).toBe(table.nodes.reduce((n, node) => n + node.params, 0));
  });
});

describe('numeric options', () => {
  // Every option that takes a count or a size; the first test keeps this list complete.
  const NUMERIC: [command: string, option: string, min: number, positionals: string[]][] = [
    ['fold', 'shard-size', 1, ['examples/lenet-bn.ts#lenetBn', '-o', 'never-written', '--format', 'layers']],
    ['bench', 'runs', 1, ['model.json']],
    ['bench', 'warmup', 0, ['model.json']],
  ];

  it('the list above holds every option whose value is a number', () => {
    const numeric = COMMANDS.flatMap((c) => Object.entries(c.options).filter(([, spec]) => spec.value === '<n>' || spec.value === '<bytes>').map(([name]) => `${c.name} --${name}`));
    expect(numeric.sort()).toEqual(NUMERIC.map(([command, option]) => `${command} --${option}`).sort());
  });

  it.each(NUMERIC)('%s --%s: a negative, fractional or misspelt number is one named usage error, exit 2', async (command, option, min, positionals) => {
    for (const value of ['-5', '-0', '-1.5', '-.5', 'abc', '4MB', '1.5', '1e3', '0x10', ' 7', '+3', '']) {
      for (const spelled of [[`--${option}`, value], [`--${option}=${value}`]]) {
        const { code, err } = await run([command, ...positionals, ...spelled]);
        expect(err, spelled.join(' ')).toBe(`shapefold ${command}: --${option} must be an integer >= ${min}, got '${value}'`);
        expect(code).toBe(2);
      }
    }
  });

  it('a value that starts with a dash and is not a number says how to pass it', async () => {
    const { code, err } = await run(['fold', 'examples/lenet-bn.ts#lenetBn', '-o', '-v']);
    expect(code).toBe(2);
    expect(err).toBe("shapefold fold: --out needs a value; a value that starts with '-' is written --out=<value> (see 'shapefold fold --help')");
  });
});

describe('shapefold prove', () => {
  it('proves every rule and says so', async () => {
    const { code, out } = await run(['prove']);
    expect(code).toBe(0);
    expect(out).toMatch(/^PROVED {2}bn-conv-padded: /m);
    expect(out).toMatch(/(\d+) of \1 rules proved$/m);
  });

  it('proves one rule by name, and rejects an unknown name listing the rules', async () => {
    const one = await run(['prove', '--rule', 'conv-bn', '--json']);
    expect(one.code).toBe(0);
    const reports = JSON.parse(one.out) as { rule: string; ok: boolean }[];
    expect(reports.map((r) => [r.rule, r.ok])).toEqual([['conv-bn', true]]);
    const unknown = await run(['prove', '--rule', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/no rule named 'nope' \(rules: .*conv-bn/);
  });
});

describe('writeFilesAtomic', () => {
  it('replaces the target and leaves no temporary file', async () => {
    const target = join(dir, 'out.txt');
    await writeFilesAtomic([[target, 'first']]);
    await writeFilesAtomic([[target, 'second']]);
    expect(await readFile(target, 'utf8')).toBe('second');
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it("creates the missing folders on a target's path, as a directory output does", async () => {
    const target = join(dir, 'new-a', 'new-b', 'out.txt');
    await writeFilesAtomic([[target, 'x']]);
    expect(await readFile(target, 'utf8')).toBe('x');
  });

  it('writes none of the files when one cannot be written, names the path at fault, and leaves no temporary file', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'not a directory');
    const first = join(dir, 'first.txt');
    const error = await writeFilesAtomic([
      [first, 'x'],
      [join(blocker, 'out.txt'), 'y'],
    ]).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(`${blocker}: is not a directory`);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp') || f === 'first.txt')).toEqual([]);
  });
});

describe('the shape of a failure', () => {
  it('a file-system error is one line naming the path', () => {
    const error = Object.assign(new Error("EACCES: permission denied, open '/x/y.json'"), { code: 'EACCES', path: '/x/y.json', syscall: 'open' });
    expect(describeFailure(error, 'fold')).toMatchObject({ code: 1, text: 'shapefold fold: /x/y.json: permission denied (EACCES)' });
  });

  it('a bug keeps its stack, cuts frames inside minified code, and asks to be reported', () => {
    const error = new RangeError('Invalid typed array length: 4294967296');
    error.stack = `RangeError: Invalid typed array length: 4294967296\n    at new Float32Array (<anonymous>)\n    at ${'x'.repeat(40_000)}`;
    const { code, text } = describeFailure(error, 'fold');
    expect(code).toBe(1);
    expect(text).toMatch(/^shapefold fold: internal error \(a bug in shapefold [\d.]+\):\nRangeError: Invalid typed array length/);
    expect(text).toMatch(/Please report it at .+ with the command line/);
    expect(text.length).toBeLessThan(1000);
  });
});
