/** The CLI on tfjs Layers files: check and fold read model.json; fold writes a Layers model back. */
import * as tf from '@tensorflow/tfjs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '../../src/backend/index.ts';
import { main } from '../../src/cli/main.ts';
import { createRng } from '../../src/ir/init.ts';
import { readLayersModel, writeLayersModel, type LayersModelJSON } from '../../src/io/index.ts';
import { loadFromMemory, mobileNetV1, randomizeWeights, saveToMemory } from './io-fixtures.ts';

let dir: string;
let original: tf.LayersModel;

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    return { code: await main(argv), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

async function readSaved(at: string): Promise<{ modelJson: LayersModelJSON; weightData: ArrayBuffer }> {
  const modelJson = JSON.parse(await readFile(join(at, 'model.json'), 'utf8')) as LayersModelJSON;
  const bytes = await readFile(join(at, modelJson.weightsManifest[0].paths[0]));
  return { modelJson, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
}

beforeAll(async () => {
  await selectBackend();
  dir = await mkdtemp(join(tmpdir(), 'shapefold-io-cli-'));
  original = mobileNetV1({ size: 16, first: 4, blocks: [[8, 2], [8, 1]], classes: 3, prefix: 'cli_' });
  randomizeWeights(original, 5);
  const saved = await saveToMemory(original);
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'in', 'model.json'), JSON.stringify(saved.modelJson));
  await writeFile(join(dir, 'in', 'weights.bin'), new Uint8Array(saved.weightData));
});
afterAll(async () => {
  original.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('shapefold on tfjs Layers files', () => {
  it('check prints every layer of a Layers model.json', async () => {
    const { code, out } = await run(['check', join(dir, 'in', 'model.json')]);
    expect(code).toBe(0);
    expect(out).toMatch(/cli_block1_dw/);
    expect(out).toMatch(/cli_conv_preds/);
  });

  it('fold writes a stock Layers model without BatchNormalization that predicts the same', async () => {
    const out = join(dir, 'folded');
    const { code, out: printed } = await run(['fold', join(dir, 'in', 'model.json'), '-o', out, '--no-probe']);
    expect(code).toBe(0);
    // 5 BatchNormalizations, and the head's Dropout bypassed at inference.
    expect(printed).toMatch(/6 folds/);
    expect(printed).toMatch(/dropout-at-inference/);
    expect((await readdir(out)).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    const saved = await readSaved(out);
    const classes = (saved.modelJson.modelTopology as { config: { layers: { class_name: string }[] } }).config.layers.map((l) => l.class_name);
    expect(classes).not.toContain('BatchNormalization');
    const folded = await loadFromMemory(saved);
    const rng = createRng(9);
    const x = tf.tensor(Float32Array.from({ length: 2 * 16 * 16 * 3 }, () => 2 * rng() - 1), [2, 16, 16, 3]);
    const [a, b] = [original, folded].map((m) => tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync()));
    const scale = Math.max(1, ...Array.from(a, Math.abs));
    expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]))) / scale).toBeLessThanOrEqual(1e-5);
    x.dispose();
    folded.dispose();
  });

  it('fold keeps the input weights\' quantization and replaces a previous output whole', async () => {
    const quantized = join(dir, 'quantized');
    const { graph } = await readLayersModel(join(dir, 'in', 'model.json'));
    await writeLayersModel(quantized, graph, { quantize: 'uint8', shardSize: 1000 });
    const out = join(dir, 'folded-uint8');
    await writeLayersModel(out, graph, { shardSize: 500 });
    const { code } = await run(['fold', join(quantized, 'model.json'), '-o', out, '--no-probe']);
    expect(code).toBe(0);
    const json = JSON.parse(await readFile(join(out, 'model.json'), 'utf8')) as LayersModelJSON;
    expect(new Set(json.weightsManifest[0].weights.map((w) => w.quantization?.dtype))).toEqual(new Set(['uint8']));
    expect((await readdir(out)).sort()).toEqual([...json.weightsManifest[0].paths, 'model.json'].sort());
  });

  it('fold --format graph writes the shapefold graph JSON instead', async () => {
    const out = join(dir, 'folded.json');
    const { code } = await run(['fold', join(dir, 'in', 'model.json'), '-o', out, '--no-probe', '--format', 'graph']);
    expect(code).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8')).format).toBe('shapefold-graph');
  });

  it('a broken Layers model is one line naming file, layer and field, and nothing is written', async () => {
    const bad = join(dir, 'bad');
    await mkdir(bad);
    const saved = await readSaved(join(dir, 'in'));
    const layers = (saved.modelJson.modelTopology as { config: { layers: { name: string; class_name: string }[] } }).config.layers;
    (layers.find((l) => l.name === 'cli_gap') as { class_name: string }).class_name = 'Conv3D';
    await writeFile(join(bad, 'model.json'), JSON.stringify(saved.modelJson));
    await writeFile(join(bad, 'weights.bin'), new Uint8Array(saved.weightData));
    const { code, err } = await run(['fold', join(bad, 'model.json'), '-o', join(dir, 'never'), '--no-probe']);
    expect(code).toBe(1);
    expect(err).toBe(`shapefold fold: ${join(bad, 'model.json')}: layer 'cli_gap' (Conv3D): tfjs-layers cannot make the layer from its config: required key 'kernelSize' not in config`);
    await expect(readdir(join(dir, 'never'))).rejects.toThrow();
  });
});
