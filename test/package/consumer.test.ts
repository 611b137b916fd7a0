/**
 * shapefold as its users get it: `npm pack`, the tarball installed into a fresh project with
 * exactly the peers package.json declares as required (tfjs-core, tfjs-layers, the cpu and wasm
 * backends; not @tensorflow/tfjs), then plain Node, CommonJS require, the installed `shapefold`
 * executable, and the TypeScript compiler (the project's TypeScript 7 and the oldest version the
 * package claims, 5.5) on a consumer's code.
 *
 * Offline by construction: the tarball has no dependencies of its own (tfjs-node, an optional
 * dependency, is left out), and each peer is installed from this repository's node_modules as
 * npm links a local package. The project lives in the system's temporary directory, outside the
 * repository, so nothing else the repository installed is visible to it: a package the build
 * loads without declaring it fails here as in a user's app.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC_7 = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const TSC_OLDEST = join(ROOT, 'test', 'package', 'typescript-oldest', 'node_modules', 'typescript', 'bin', 'tsc');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

let work: string;
let app: string;
let packed: { files: { path: string }[] };
let version: string;
/** The peers a user must install: package.json's peerDependencies less the optional ones. */
let requiredPeers: string[];

/** The consumer's TypeScript: a small CNN, a fold, and on BAD_LINE one deliberate shape error. */
const APP_TS = `import { input, conv2d, batchNorm, relu, flatten, linear, model } from 'shapefold/dsl';
import { foldGraph, type FoldResult } from 'shapefold';

const features = input(['N', 3, 32, 32], { name: 'image' })
  .to(conv2d({ in: 3, out: 8, kernel: 3, padding: 1 }))
  .to(batchNorm())
  .to(relu())
  .to(flatten());
export const net = model(features.to(linear({ in: 8192, out: 10, name: 'fc' })));
export const folded: FoldResult = foldGraph(net.graph, { probe: false });
export const wrong = features.to(linear({ in: 100, out: 10 }));
`;
const BAD_LINE = 11;
const BAD_MESSAGE = 'linear: input has 8192 features, layer expects 100';

/** The consumer's plain JavaScript: build, fold, run both on the best backend, compare. */
const APP_MJS = `import * as tf from '@tensorflow/tfjs-core';
import { input, conv2d, batchNorm, relu, globalAvgPool, linear, model } from 'shapefold/dsl';
import { compileGraph, foldGraph, selectBackend } from 'shapefold';

const backend = await selectBackend();
const before = tf.memory().numTensors;
const { graph } = model(
  input(['N', 3, 16, 16], { name: 'x' })
    .to(conv2d({ in: 3, out: 8, kernel: 3, padding: 1, name: 'conv' }))
    .to(batchNorm({ name: 'bn' }))
    .to(relu())
    .to(globalAvgPool())
    .to(linear({ in: 8, out: 4, name: 'fc' })),
);
const bn = graph.nodes.find((n) => n.name === 'bn');
bn.params.runningMean.data.forEach((_, i, d) => (d[i] = 0.1 * i - 0.3));
bn.params.runningVar.data.forEach((_, i, d) => (d[i] = 0.5 + 0.25 * i));
bn.params.gamma.data.forEach((_, i, d) => (d[i] = 1.5 - 0.2 * i));
const result = foldGraph(graph);
const x = tf.randomNormal([2, 3, 16, 16], 0, 1, 'float32', 7);
const [original, folded] = [graph, result.graph].map((g) => compileGraph(g, { mode: 'eval' }));
const [a, b] = [original, folded].map((net) => {
  const { fc } = net.run(x);
  const values = fc.dataSync();
  fc.dispose();
  return values;
});
original.dispose();
folded.dispose();
x.dispose();
console.log(JSON.stringify({
  backend: backend.name,
  folds: result.report.folds.map((f) => f.rule),
  ops: result.graph.nodes.map((n) => n.op),
  maxDiff: Math.max(...a.map((v, i) => Math.abs(v - b[i]))),
  leaked: tf.memory().numTensors - before,
}));
`;

/** The README's plain-JavaScript example, run as a user would paste it. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use it in your project'));
  const block = /```js\n([\s\S]*?)```/.exec(section);
  if (block === null) throw new Error("README: no js example under 'Use it in your project'");
  return block[1]!;
}

const APP_CJS = `const shapefold = require('shapefold');
const dsl = require('shapefold/dsl');
console.log(typeof shapefold.foldGraph, typeof dsl.input);
`;

const MODEL_MJS = `import { input, conv2d, batchNorm, relu, model } from 'shapefold/dsl';
export const net = () => model(input(['N', 3, 8, 8], { name: 'x' }).to(conv2d({ in: 3, out: 4, kernel: 3, name: 'c' })).to(batchNorm({ name: 'bn' })).to(relu()));
`;

function tsconfig(skipLibCheck: boolean): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck,
      noEmit: true,
      types: [],
    },
    files: ['app.ts'],
  });
}

/** A stock tfjs Layers model (conv, BN, dense) saved as model.json + weights.bin into `dir`. */
async function saveLayersModel(dir: string): Promise<void> {
  const net = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, name: 'conv' }),
      tf.layers.batchNormalization({ name: 'bn' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, name: 'dense' }),
    ],
  });
  await mkdir(dir);
  await net.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const modelJson = { format: 'layers-model', modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
      await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
      await writeFile(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  net.dispose();
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'shapefold-consumer-'));
  const pack = await run('npm', ['pack', '--json', '--pack-destination', work], ROOT);
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  packed = (JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[])[0]!;
  const tarball = join(work, (packed as unknown as { filename: string }).filename);
  const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
    peerDependencies: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  };
  version = manifest.version;
  requiredPeers = Object.keys(manifest.peerDependencies).filter((name) => manifest.peerDependenciesMeta?.[name]?.optional !== true);
  app = join(work, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const install = await run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', '--omit=optional', tarball, ...requiredPeers.map((name) => join(ROOT, 'node_modules', name))],
    app,
  );
  if (install.code !== 0) throw new Error(`npm install of the tarball and its peers failed:\n${install.stderr}`);
  await Promise.all([
    writeFile(join(app, 'app.ts'), APP_TS),
    writeFile(join(app, 'app.mjs'), APP_MJS),
    writeFile(join(app, 'app.cjs'), APP_CJS),
    writeFile(join(app, 'model.mjs'), MODEL_MJS),
    readmeExample().then((code) => writeFile(join(app, 'readme.mjs'), code)),
    saveLayersModel(join(app, 'layers')),
  ]);
}, 600_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('ships the built package and nothing else', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths.filter((p) => !p.startsWith('dist/')).sort()).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json']);
    expect(paths.filter((p) => /\.(ts|mts|cts)$/.test(p) && !p.endsWith('.d.ts') && !p.endsWith('.d.cts'))).toEqual([]);
    expect(paths.some((p) => p.startsWith('dist/src/bench/'))).toBe(false);
    for (const entry of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/dsl/index.js', 'dist/dsl/index.d.ts', 'dist/src/io/index.js', 'dist/src/cli/bin.js']) {
      expect(paths, entry).toContain(entry);
    }
  });
});

/** The packages in a project's node_modules, scoped ones as '@scope/name'. */
async function installed(project: string): Promise<string[]> {
  const top = (await readdir(join(project, 'node_modules'))).filter((name) => !name.startsWith('.'));
  const scoped = await Promise.all(top.map(async (name) => (name.startsWith('@') ? (await readdir(join(project, 'node_modules', name))).map((inner) => `${name}/${inner}`) : [name])));
  return scoped.flat().sort();
}

describe('the consumer project', () => {
  it('has shapefold and exactly its required peers installed, and no @tensorflow/tfjs', async () => {
    expect(requiredPeers).toEqual(expect.arrayContaining(['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu']));
    expect(await installed(app)).toEqual(['shapefold', ...requiredPeers].sort());
  });
});

describe('a JavaScript consumer', () => {
  it('plain node ESM builds a DSL model, folds it and runs both, leaking nothing', async () => {
    const { code, stdout, stderr } = await run(process.execPath, ['app.mjs'], app);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { backend: string; folds: string[]; ops: string[]; maxDiff: number; leaked: number };
    expect(result.folds).toEqual(['conv-bn']);
    expect(result.ops).not.toContain('batchNorm');
    expect(result.maxDiff).toBeLessThan(1e-4);
    expect(result.leaked).toBe(0);
  });

  it("runs the README's JavaScript example as written", async () => {
    const { code, stdout, stderr } = await run(process.execPath, ['readme.mjs'], app);
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toMatch(/^1 fold\(s\)\nTensor\n/);
  });

  it("require('shapefold') from CommonJS loads the package", async () => {
    const { code, stdout, stderr } = await run(process.execPath, ['app.cjs'], app);
    // Node 20.19+ can require() an ES module; an older Node gets the one-line ESM-only message.
    if (code === 0) expect(stdout.trim()).toBe('function function');
    else expect(stderr).toMatch(/^Error: shapefold is ESM-only: use import/m);
  });
});

describe('the installed shapefold executable', () => {
  const bin = () => join(app, 'node_modules', '.bin', 'shapefold');

  it('prints its version and help', async () => {
    expect((await run(bin(), ['--version'], app)).stdout.trim()).toBe(version);
    const help = await run(bin(), ['fold', '--help'], app);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('-o, --out <out>');
  });

  it('checks and folds a JavaScript DSL module quietly: no tfjs banner, no backend noise', async () => {
    const check = await run(bin(), ['check', 'model.mjs#net'], app);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/bn\s+batchNorm/);
    const fold = await run(bin(), ['fold', 'model.mjs#net', '-o', 'folded.json'], app);
    expect(fold.code).toBe(0);
    expect(fold.stdout).toMatch(/1 fold\b/);
    expect(fold.stderr).toBe('');
    expect((await run(bin(), ['check', 'folded.json'], app)).code).toBe(0);
  });

  it('checks and folds a tfjs Layers model without printing tfjs\'s banner', async () => {
    const check = await run(bin(), ['check', 'layers/model.json'], app);
    expect([check.code, check.stderr]).toEqual([0, '']);
    expect(check.stdout).toMatch(/bn\s+batchNorm/);
    const fold = await run(bin(), ['fold', 'layers/model.json', '-o', 'layers-folded'], app);
    expect([fold.code, fold.stderr]).toEqual([0, '']);
    expect(fold.stdout).toMatch(/1 fold\b/);
  });

  it('fails in one line: 1 for a bad file, 2 for a bad command line', async () => {
    const missing = await run(bin(), ['check', 'nope.json'], app);
    expect([missing.code, missing.stderr.trim().split('\n').length]).toEqual([1, 1]);
    expect(missing.stderr).toContain('nope.json');
    const usage = await run(bin(), ['fold', 'model.mjs#net'], app);
    expect([usage.code, usage.stderr.trim()]).toEqual([2, "shapefold fold: missing -o <out> (see 'shapefold fold --help')"]);
  });
});

/** `app.ts(11,20): error TS2345: ...` lines, with file, line and message. */
function diagnostics(output: string): { file: string; line: number; text: string }[] {
  return [...output.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+: .*)$/gm)].map((m) => ({ file: m[1]!, line: Number(m[2]), text: m[3]! }));
}

describe.each([
  ['TypeScript 7 (the project compiler)', TSC_7],
  ['TypeScript 5.5 (the oldest supported)', TSC_OLDEST],
])('a TypeScript consumer on %s, strict + noUncheckedIndexedAccess + exactOptionalPropertyTypes', (_name, tsc) => {
  it('sees exactly its one shape error, on its line, in words', async () => {
    await writeFile(join(app, 'tsconfig.json'), tsconfig(true));
    const { stdout } = await run(process.execPath, [tsc, '-p', '.'], app);
    const errors = diagnostics(stdout);
    expect(errors, stdout).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: 'app.ts', line: BAD_LINE });
    expect(errors[0]!.text).toContain(BAD_MESSAGE);
  });

  it("finds no error inside shapefold's declarations even with skipLibCheck off", async () => {
    const sub = join(app, `lib-check-${tsc === TSC_7 ? 7 : 5}`);
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, 'tsconfig.json'), tsconfig(false));
    await writeFile(join(sub, 'app.ts'), APP_TS);
    const { stdout } = await run(process.execPath, [tsc, '-p', '.'], sub);
    const ours = diagnostics(stdout).filter((d) => d.file.includes('shapefold/'));
    expect(ours, stdout).toEqual([]);
    expect(diagnostics(stdout).filter((d) => d.file === 'app.ts').map((d) => d.line)).toEqual([BAD_LINE]);
  });
});
