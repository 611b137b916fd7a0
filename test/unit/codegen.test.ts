/**
 * Real models as typed code: a tfjs Layers model (generated with stock tfjs-layers) is imported,
 * written out as a DSL module, compiled with tsc 7, and loaded back. The module's `model()` must
 * rebuild the importer's graph node for node, `load()` must give it the same weights (outputs
 * equal to `model.predict`), and a hand edit that breaks a shape must be a type error on the
 * edited line.
 */
import * as tf from '@tensorflow/tfjs';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { selectBackend } from '../../src/backend/index.ts';
import { CodegenError, dslModuleSource } from '../../src/codegen/dsl-module.ts';
import { copyParams } from '../../src/codegen/params.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { importLayersModel } from '../../src/io/index.ts';
import { ZOO, efficientNetB0, mobileNetV3Small, uNet } from '../../src/bench/zoo-models.ts';
import { concatNet, expectCloseTo, flattenHead, mobileNetV1, predict, randomInput, randomizeWeights, resNetLike, runOurs, saveToMemory } from './io-fixtures.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;

beforeAll(async () => {
  await selectBackend();
  await mkdir(join(repo, '.tmp'), { recursive: true });
  dir = await mkdtemp(join(repo, '.tmp/codegen-'));
});
afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const CASES = [
  { name: 'mobilenet', build: () => mobileNetV1({ size: 32, first: 8, blocks: [[16, 1], [24, 2], [32, 2]], classes: 7 }), inputShape: [2, 32, 32, 3] },
  { name: 'resnet_like', build: resNetLike, inputShape: [2, 12, 12, 4] },
  { name: 'flatten_head', build: flattenHead, inputShape: [3, 9, 7, 3] },
  { name: 'concat_net', build: concatNet, inputShape: [2, 10, 10, 5] },
  // BatchNormalization without center and scale: the DSL's batchNorm({ affine: false }).
  { name: 'plain_bn', build: plainBatchNorm, inputShape: [2, 8, 8, 3] },
  // The zoo's users of the later builders: hard-sigmoid/swish, squeeze-excite multiplies, Rescaling, upsampling, softmax heads.
  { name: 'mobilenet_v3_small', build: () => mobileNetV3Small({ size: 32, width: 0.25, classes: 5 }), inputShape: [2, 32, 32, 3] },
  { name: 'efficientnet_b0', build: () => efficientNetB0({ size: 32, width: 0.25, classes: 5 }), inputShape: [2, 32, 32, 3] },
  { name: 'unet', build: () => uNet({ size: 32, width: 0.25, classes: 4 }), inputShape: [2, 32, 32, 3] },
  // A Keras Add of [N, H, W, C] and [N, 1, 1, C] (a squeeze-excite-style shift): d.broadcastAdd.
  { name: 'broadcast_add', build: broadcastAddNet, inputShape: [2, 8, 8, 4] },
] as const;

function broadcastAddNet(): tf.LayersModel {
  const x = tf.input({ shape: [8, 8, 4], name: 'ba_image' });
  const features = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'ba_conv' }).apply(x) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'ba_pool' }).apply(features) as tf.SymbolicTensor;
  const shift = tf.layers.reshape({ targetShape: [1, 1, 6], name: 'ba_reshape' }).apply(pooled) as tf.SymbolicTensor;
  const gate = tf.layers.conv2d({ filters: 6, kernelSize: 1, activation: 'sigmoid', name: 'ba_gate' }).apply(shift) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'ba_add' }).apply([features, gate]) as tf.SymbolicTensor;
  const flat = tf.layers.flatten({ name: 'ba_flat' }).apply(sum) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: 3, name: 'ba_dense' }).apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y });
}

function plainBatchNorm(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, name: 'pb_conv' }),
      tf.layers.batchNormalization({ center: false, scale: false, name: 'pb_bn' }),
      tf.layers.flatten({ name: 'pb_flat' }),
      tf.layers.dense({ units: 3, name: 'pb_dense' }),
    ],
  });
}

/** `tsc -p` on a folder; its diagnostics as `file(line): message`. */
function tsc(folder: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(join(repo, 'node_modules/.bin/tsc'), ['-p', folder, '--noEmit', '--pretty', 'false'], { cwd: repo, maxBuffer: 1 << 26 }, (error, stdout) => {
      if (error !== null && stdout.trim() === '') reject(error);
      else resolve(stdout.split('\n').filter((l) => /error TS\d+/.test(l)));
    });
  });
}

/** Nodes without their parameters: what "the same graph" compares. */
const structure = (g: Graph) => ({
  inputs: g.inputs,
  outputs: g.outputs,
  nodes: g.nodes.map((n) => ({ name: n.name, op: n.op, inputs: n.inputs, attrs: n.attrs, params: Object.keys(n.params).sort() })),
});

describe('codegen: a Layers model as a typed DSL module', () => {
  it('every fixture: generated, type-checked, rebuilt node for node, and run to model.predict', async () => {
    const folder = join(dir, 'zoo');
    await mkdir(folder);
    const generated: { name: string; graph: Graph; x: tf.Tensor; expected: Float32Array; modelJson: string }[] = [];
    for (const c of CASES) {
      const keras = c.build();
      randomizeWeights(keras, 7);
      const saved = await saveToMemory(keras);
      const graph = importLayersModel(saved.modelJson, saved.weightData, `${c.name}/model.json`);
      await mkdir(join(folder, c.name));
      const modelJson = join(folder, c.name, 'model.json');
      await writeFile(modelJson, JSON.stringify(saved.modelJson));
      await writeFile(join(folder, c.name, 'weights.bin'), new Uint8Array(saved.weightData));
      const rel = (p: string) => relative(folder, join(repo, p)).replaceAll('\\', '/');
      // As users get it from the CLI (package specifiers), and with relative ones so this process can import it.
      const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        expect(await main(['codegen', modelJson, '-o', join(folder, `${c.name}.pkg.ts`)])).toBe(0);
        expect(log).toHaveBeenCalledWith(`wrote ${join(folder, `${c.name}.pkg.ts`)}: ${graph.nodes.length} layers`);
      } finally {
        log.mockRestore();
      }
      await writeFile(
        join(folder, `${c.name}.ts`),
        dslModuleSource(graph, { source: `${c.name}/model.json`, weightsPath: `./${c.name}/model.json`, dslModule: rel('dsl/index.ts'), coreModule: rel('src/index.ts') }),
      );
      if (c.name === 'broadcast_add') expect(await readFile(join(folder, `${c.name}.pkg.ts`), 'utf8')).toContain("d.broadcastAdd(ba_conv, ba_gate_sigmoid, { name: 'ba_add' })");
      const x = randomInput([...c.inputShape], 3);
      generated.push({ name: c.name, graph, x, expected: predict(keras, x), modelJson });
      keras.dispose();
    }
    await writeFile(join(folder, 'tsconfig.json'), JSON.stringify({ extends: relative(folder, join(repo, 'tsconfig.json')), include: ['*.ts'] }));
    expect(await tsc(folder)).toEqual([]);

    for (const g of generated) {
      const module = (await import(pathToFileURL(join(folder, `${g.name}.ts`)).href)) as {
        model(): { graph: Graph };
        load(path?: string): Promise<Graph>;
      };
      expect(structure(module.model().graph), g.name).toEqual(structure(g.graph));
      const loaded = await module.load();
      expect(structure(loaded)).toEqual(structure(g.graph));
      const before = tf.memory().numTensors;
      expectCloseTo(runOurs(loaded, g.x), g.expected, `${g.name} via the generated module`);
      expect(tf.memory().numTensors).toBe(before);
      g.x.dispose();
    }
  });

  it('the whole zoo (softmax heads, squeeze-excite multiplies, upsampling, swish): generated, type-checked, rebuilt node for node', async () => {
    const folder = join(dir, 'whole-zoo');
    await mkdir(folder);
    const rel = (p: string) => relative(folder, join(repo, p)).replaceAll('\\', '/');
    const graphs: { file: string; graph: Graph }[] = [];
    for (const z of ZOO) {
      const keras = z.build({ size: z.test.size, width: z.test.width, classes: 5 });
      const saved = await saveToMemory(keras);
      keras.dispose();
      const graph = importLayersModel(saved.modelJson, saved.weightData, z.name);
      const opaque = graph.nodes.find((n) => n.op === 'opaque');
      if (opaque !== undefined) {
        // Only tfjs-layers runs a layer shapefold has no op for: a named refusal, not a module.
        expect(() => dslModuleSource(graph, { source: z.name })).toThrow(`${z.name}: node '${opaque.name}' is an opaque`);
        continue;
      }
      const file = `${z.name.replace(/[^A-Za-z0-9]+/g, '_')}.ts`;
      await writeFile(join(folder, file), dslModuleSource(graph, { source: z.name, dslModule: rel('dsl/index.ts'), coreModule: rel('src/index.ts') }));
      graphs.push({ file, graph });
    }
    await writeFile(join(folder, 'tsconfig.json'), JSON.stringify({ extends: relative(folder, join(repo, 'tsconfig.json')), include: ['*.ts'] }));
    expect(await tsc(folder)).toEqual([]);
    expect(graphs.length).toBeGreaterThanOrEqual(15);
    for (const { file, graph } of graphs) {
      const module = (await import(pathToFileURL(join(folder, file)).href)) as { model(): { graph: Graph } };
      expect(structure(module.model().graph), file).toEqual(structure(graph));
    }
  });

  it('states the shapes in the signature and one named call per layer', async () => {
    const keras = resNetLike();
    const saved = await saveToMemory(keras);
    keras.dispose();
    const source = dslModuleSource(importLayersModel(saved.modelJson, saved.weightData));
    expect(source).toContain("export function network(image: d.Tensor<['N', 4, 12, 12]>): d.Returns<['N', 5]> {");
    expect(source).toContain("const b_add = d.add(b_proj_bn, b_bn2, { name: 'b_add' });");
    expect(source).toContain("const b_conv2 = b_leaky.to(d.conv2d({ in: 16, out: 16, kernel: 3, padding: 'same', dilation: 2, bias: false, name: 'b_conv2' }));");
  });

  it('a hand edit that breaks a shape is one type error, on the edited line; a new output shape is one, at the return', async () => {
    const folder = join(dir, 'edited');
    await mkdir(folder);
    const keras = resNetLike();
    const saved = await saveToMemory(keras);
    keras.dispose();
    const rel = (p: string) => relative(folder, join(repo, p)).replaceAll('\\', '/');
    const source = dslModuleSource(importLayersModel(saved.modelJson, saved.weightData), { dslModule: rel('dsl/index.ts'), coreModule: rel('src/index.ts') });
    const lines = source.split('\n');
    const broken = [...lines];
    const edited = lines.findIndex((l) => l.includes("name: 'b_conv1'"));
    broken[edited] = lines[edited].replace('in: 8,', 'in: 16,');
    const widened = [...lines];
    const head = lines.findIndex((l) => l.includes('d.linear(') && l.includes('out: 5,'));
    widened[head] = lines[head].replace('out: 5,', 'out: 6,');
    await writeFile(join(folder, 'broken.ts'), broken.join('\n'));
    await writeFile(join(folder, 'widened.ts'), widened.join('\n'));
    await writeFile(join(folder, 'tsconfig.json'), JSON.stringify({ extends: relative(folder, join(repo, 'tsconfig.json')), include: ['*.ts'] }));
    const errors = await tsc(folder);
    const returnLine = lines.findIndex((l) => l.startsWith('  return ')) + 1;
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain(`broken.ts(${edited + 1},`);
    expect(errors[0]).toContain("conv2d 'b_conv1': input has 8 channels, layer expects 16");
    expect(errors[1]).toContain(`widened.ts(${returnLine},`);
  });

  it('the command without -o is a usage error', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await main(['codegen', 'model.json'])).toBe(2);
      expect(error.mock.calls.flat().join('\n')).toMatch(/missing -o <model.ts>/);
    } finally {
      error.mockRestore();
    }
  });

  it('copyParams refuses a source whose layer differs, by name', async () => {
    const keras = flattenHead();
    const saved = await saveToMemory(keras);
    keras.dispose();
    const graph = importLayersModel(saved.modelJson, saved.weightData);
    const renamed = { ...graph, nodes: graph.nodes.map((n) => (n.name === 'fh_dense2' ? { ...n, name: 'other' } : n)) } as Graph;
    expect(() => copyParams(graph, renamed)).toThrow("copyParams: linear 'fh_dense2' is not in the source model");
  });

  it('a node with no DSL spelling is a named error', () => {
    const graph: Graph = {
      inputs: ['x'],
      outputs: ['pool'],
      nodes: [
        { name: 'x', op: 'input', inputs: [], attrs: { shape: ['N', 2, 8, 8] }, params: {} },
        { name: 'pool', op: 'maxPool2d', inputs: ['x'], attrs: { kernel: [2, 2], stride: [2, 2], padding: [0, 1, 0, 1] }, params: {} },
      ],
    };
    expect(() => dslModuleSource(graph, { source: 'm.json' })).toThrow(CodegenError);
    expect(() => dslModuleSource(graph, { source: 'm.json' })).toThrow("m.json: node 'pool' pads [0, 1, 0, 1]; DSL pools pad each side alike");
  });
});

