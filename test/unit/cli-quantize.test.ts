/**
 * `shapefold fold --quantize uint8|uint16|float16 --shard-size <bytes>`: the written manifest
 * says how each weight is stored and lists the shards, every shard is at most the size asked for,
 * and tf.loadLayersModel predicts what the original does within the storage's own error.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend/index.ts';
import type { LayersModelJSON } from '../../src/io/index.ts';
import { runCli } from './cli-fixtures.ts';
import { loadFromMemory, mobileNetV1, predict, randomInput, randomizeWeights, saveToMemory } from './io-fixtures.ts';

let dir: string;
let original: tf.LayersModel;
let x: tf.Tensor;
let expected: Float32Array;
const input = () => join(dir, 'in', 'model.json');

beforeAll(async () => {
  await selectBackend();
  dir = await mkdtemp(join(tmpdir(), 'shapefold-quantize-'));
  original = mobileNetV1({ size: 16, first: 8, blocks: [[16, 2], [16, 1]], classes: 5, prefix: 'q_' });
  randomizeWeights(original, 8);
  const saved = await saveToMemory(original);
  await mkdir(join(dir, 'in'));
  await writeFile(input(), JSON.stringify({ ...saved.modelJson, weightsManifest: [{ ...saved.modelJson.weightsManifest[0], paths: ['weights.bin'] }] }));
  await writeFile(join(dir, 'in', 'weights.bin'), new Uint8Array(saved.weightData));
  x = randomInput([2, 16, 16, 3], 3);
  expected = predict(original, x);
});
afterAll(async () => {
  original.dispose();
  x.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function readWritten(at: string): Promise<{ modelJson: LayersModelJSON; weightData: ArrayBuffer; shardBytes: number[] }> {
  const modelJson = JSON.parse(await readFile(join(at, 'model.json'), 'utf8')) as LayersModelJSON;
  const shards = await Promise.all(modelJson.weightsManifest.flatMap((g) => g.paths).map((path) => readFile(join(at, path))));
  return { modelJson, weightData: new Uint8Array(Buffer.concat(shards)).buffer, shardBytes: shards.map((s) => s.byteLength) };
}

/**
 * How far the stored weights may move the output, relative to its largest value: uint8 keeps
 * about 2 significant digits of each weight, float16 about 3, uint16 about 4; through this small
 * net (four convs) the relative error stays within a few times that.
 */
const TOLERANCE = { uint8: 5e-2, float16: 5e-3, uint16: 5e-4 } as const;
const BYTES = { uint8: 1, uint16: 2, float16: 2 } as const;

describe.each(['uint8', 'uint16', 'float16'] as const)('--quantize %s --shard-size 500', (quantize) => {
  it('writes every weight with that storage in shards of at most 500 bytes, and tfjs loads it to model.predict’s output within the storage’s error', async () => {
    const out = join(dir, `out-${quantize}`);
    const { code, err } = await runCli(['fold', input(), '-o', out, '--no-probe', '--quantize', quantize, '--shard-size', '500']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const { modelJson, weightData, shardBytes } = await readWritten(out);
    const weights = modelJson.weightsManifest.flatMap((g) => g.weights);
    expect(weights.length).toBeGreaterThan(0);
    for (const w of weights) {
      expect(w.dtype, w.name).toBe('float32');
      expect(w.quantization?.dtype, w.name).toBe(quantize);
      if (quantize === 'float16') expect(w.quantization).toEqual({ dtype: 'float16' });
      else expect(Object.keys(w.quantization ?? {}).sort(), w.name).toEqual(['dtype', 'min', 'original_dtype', 'scale']);
    }
    const stored = weights.reduce((n, w) => n + w.shape.reduce((p, d) => p * d, 1) * BYTES[quantize], 0);
    const count = Math.ceil(stored / 500);
    expect(count).toBeGreaterThan(1);
    const paths = modelJson.weightsManifest.flatMap((g) => g.paths);
    expect(paths).toEqual(Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`));
    expect((await readdir(out)).sort()).toEqual(['model.json', ...paths].sort());
    expect(shardBytes.every((b) => b <= 500)).toBe(true);
    expect(shardBytes.reduce((a, b) => a + b, 0)).toBe(stored);
    const reloaded = await loadFromMemory({ modelJson, weightData });
    const actual = predict(reloaded, x);
    reloaded.dispose();
    const scale = Math.max(...Array.from(expected, Math.abs));
    const worst = Math.max(...Array.from(actual, (v, i) => Math.abs(v - expected[i])));
    expect(worst / scale, `max difference ${worst} on outputs up to ${scale}`).toBeLessThanOrEqual(TOLERANCE[quantize]);
  });
});

it('--shard-size alone keeps the input’s float32 and cuts it into shards of that size', async () => {
  const out = join(dir, 'out-sharded');
  const { code } = await runCli(['fold', input(), '-o', out, '--no-probe', '--shard-size', '4096']);
  expect(code).toBe(0);
  const { modelJson, shardBytes } = await readWritten(out);
  expect(modelJson.weightsManifest.flatMap((g) => g.weights).every((w) => w.quantization === undefined)).toBe(true);
  expect(shardBytes.slice(0, -1).every((b) => b === 4096)).toBe(true);
  expect(shardBytes.at(-1)).toBeLessThanOrEqual(4096);
});

describe('usage errors (exit 2, one line, nothing written)', () => {
  const cases: [string, string[], string][] = [
    ['an unknown storage', ['--quantize', 'int8'], "--quantize must be uint8, uint16 or float16, got 'int8'"],
    ['a shard size of 0', ['--shard-size', '0'], "--shard-size must be an integer >= 1, got '0'"],
    ['a shard size that is not a number', ['--shard-size', '4MB'], "--shard-size must be an integer >= 1, got '4MB'"],
    ['a fractional shard size', ['--shard-size', '1.5'], "--shard-size must be an integer >= 1, got '1.5'"],
    ['--quantize with the graph format', ['--format', 'graph', '--quantize', 'uint8'], '--quantize applies to --format layers; the graph format stores float32 in one file'],
    ['--shard-size with the graph format', ['--format', 'graph', '--shard-size', '100'], '--shard-size applies to --format layers; the graph format stores float32 in one file'],
  ];
  it.each(cases)('%s', async (_name, options, message) => {
    const out = join(dir, 'never');
    const { code, err } = await runCli(['fold', input(), '-o', out, '--no-probe', ...options]);
    expect(code).toBe(2);
    expect(err.split('\n')[0]).toContain(message);
    await expect(stat(out)).rejects.toThrow();
  });
});

it('fold --help documents --quantize and --shard-size', async () => {
  const { code, out } = await runCli(['fold', '--help']);
  expect(code).toBe(0);
  expect(out).toMatch(/--quantize uint8\|uint16\|float16 +store the Layers weights quantized/);
  expect(out).toMatch(/--shard-size <bytes> +largest Layers weight file in bytes \(default 4194304, 4 MB\)/);
});
