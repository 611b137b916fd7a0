/**
 * BatchNorm's PyTorch and Keras switches, each through the DSL, the IR, the float64 reference,
 * the tfjs executor (train and eval), the fold decision and, where Keras has one, Layers import
 * and export: affine false (center = scale = false), trackRunningStats false, momentum null (a
 * cumulative average, PyTorch's momentum=None) and BatchNorm1d on [N, C, L].
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNorm, conv2d, input, linear, model } from '../../dsl/index.ts';
import { adaBN } from '../../src/backend/adabn.ts';
import { compileGraph } from '../../src/backend/executor.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { foldGraph } from '../../src/fold/index.ts';
import type { Graph, NodeOf } from '../../src/ir/graph.ts';
import { validateGraph } from '../../src/ir/validate.ts';
import { exportLayersModel, importLayersModel } from '../../src/io/index.ts';
import { runReference } from '../../src/reference/run.ts';
import type { Float64Tensor } from '../../src/reference/tensor.ts';
import { ALL_RULES } from '../../src/rules/index.ts';
import { describeRoundTrips, layerClasses } from './io-fixtures.ts';
import { makeRng, randomTensor } from './reference-fixtures.ts';
import { randomizeParams } from './backend-helpers.ts';

const L = tf.layers;

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

const bnNode = (graph: Graph): NodeOf<'batchNorm'> => graph.nodes.find((n) => n.op === 'batchNorm') as NodeOf<'batchNorm'>;

/** Runs `steps` train batches then one eval batch on the executor and the reference, comparing each output and the final state. */
function executorFollowsReference(graph: Graph, shape: number[], steps: number, seed: number): Graph {
  const compiled = compileGraph(graph);
  const before = tf.memory().numTensors;
  const rng = makeRng(seed);
  let reference = graph;
  const run = (x: Float64Tensor, mode: 'train' | 'eval') => {
    const xt = tf.tensor(Float32Array.from(x.data), x.shape as number[]);
    const y = compiled.run(xt, { mode })[graph.outputs[0]];
    const got = y.dataSync();
    tf.dispose([xt, y]);
    const ref = runReference(reference, { [graph.inputs[0]]: x }, { mode });
    ref.outputs[graph.outputs[0]].data.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(2e-4 * (1 + Math.abs(v))));
    const updated = ref.updatedStats.get(bnNode(graph).name);
    if (updated !== undefined) {
      reference = {
        ...reference,
        nodes: reference.nodes.map((n) => {
          if (n.op !== 'batchNorm') return n;
          const params = { ...n.params } as Record<string, { shape: readonly number[]; data: Float32Array }>;
          for (const [name, data] of Object.entries(updated)) params[name] = { shape: [data.length], data: Float32Array.from(data) };
          return { ...n, params } as typeof n;
        }),
      };
    }
  };
  for (let k = 0; k < steps; k++) run(randomTensor(shape, rng, -1 - k, 2 + k), 'train');
  run(randomTensor(shape, rng, -3, 3), 'eval');
  expect(tf.memory().numTensors).toBe(before);
  const exported = bnNode(compiled.exportGraph());
  for (const [name, param] of Object.entries(bnNode(reference).params)) {
    const held = (exported.params as Record<string, { data: Float32Array }>)[name].data;
    param!.data.forEach((v, i) => expect(held[i]).toBeCloseTo(v, 4));
  }
  compiled.dispose();
  return reference;
}

describe('affine: false', () => {
  it('has no gamma or beta; runs as the reference in train and eval; folds into the conv before it', () => {
    const net = model(input([2, 3, 6, 6]).to(conv2d({ out: 4, kernel: 3 })).to(batchNorm({ affine: false })));
    const bn = bnNode(net.graph);
    expect(bn.attrs.affine).toBe(false);
    expect(Object.keys(bn.params).sort()).toEqual(['runningMean', 'runningVar']);
    const graph = randomizeParams(net.graph, 3);
    executorFollowsReference(graph, [2, 3, 6, 6], 3, 1);
    const { graph: folded, report } = foldGraph(graph, { rules: ALL_RULES, probe: false });
    expect(folded.nodes.map((n) => n.op)).toEqual(['input', 'conv2d']);
    expect(report.folds.map((f) => f.rule)).toEqual(['conv-bn']);
    const x = randomTensor([2, 3, 6, 6], makeRng(5), -2, 2);
    const before = runReference(graph, { [graph.inputs[0]]: x }, { mode: 'eval' }).outputs[graph.outputs[0]].data;
    const after = runReference(folded, { [folded.inputs[0]]: x }, { mode: 'eval' }).outputs[folded.outputs[0]].data;
    before.forEach((v, i) => expect(after[i]).toBeCloseTo(v, 4));
  });

  it('exports as center = scale = false without gamma and beta, and imports back to affine: false', () => {
    const graph = randomizeParams(model(input([2, 5]).to(linear({ in: 5, out: 3 })).to(batchNorm({ affine: false, convention: 'keras' }))).graph, 4);
    const exported = exportLayersModel(graph);
    const layers = (exported.modelJson.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers;
    expect(layers.find((l) => l.class_name === 'BatchNormalization')?.config).toMatchObject({ center: false, scale: false });
    const names = exported.modelJson.weightsManifest.flatMap((g) => g.weights.map((w) => w.name));
    expect(names.some((n) => n.endsWith('/gamma') || n.endsWith('/beta'))).toBe(false);
    const back = bnNode(importLayersModel(exported.modelJson, exported.weightData, 'back.json'));
    expect(back.attrs.affine).toBe(false);
    expect(Object.keys(back.params).sort()).toEqual(['runningMean', 'runningVar']);
  });
});

describeRoundTrips(
  [
    {
      name: 'a stock BatchNormalization with center and scale false',
      build: () =>
        tf.sequential({
          layers: [
            L.conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 3, useBias: false, name: 'c' }),
            L.batchNormalization({ center: false, scale: false, name: 'bn' }),
            L.reLU({ name: 'r' }),
            L.flatten({ name: 'f' }),
            L.dense({ units: 5, name: 'd' }),
            L.batchNormalization({ center: false, scale: false, name: 'bn1d' }),
          ],
        }),
      inputShape: [2, 6, 6, 3],
      exported: (json) => expect(layerClasses(json).filter((k) => k === 'BatchNormalization').length).toBe(2),
      folded: (json) => expect(layerClasses(json)).not.toContain('BatchNormalization'),
    },
  ],
  21,
);

describe('trackRunningStats: false', () => {
  it('normalises with the batch statistics in eval mode too, keeps none, and is not folded (with the reason)', () => {
    const net = model(input([4, 3, 5, 5]).to(conv2d({ out: 2, kernel: 3 })).to(batchNorm({ trackRunningStats: false })));
    const bn = bnNode(net.graph);
    expect(Object.keys(bn.params).sort()).toEqual(['beta', 'gamma']);
    const graph = randomizeParams(net.graph, 5);
    executorFollowsReference(graph, [4, 3, 5, 5], 2, 2);
    // eval output has each channel's batch mean beta: the batch's own statistics were used.
    const x = randomTensor([4, 3, 5, 5], makeRng(6), -2, 2);
    const y = runReference(graph, { [graph.inputs[0]]: x }, { mode: 'eval' }).outputs[graph.outputs[0]];
    const channelMean = (c: number) => {
      let sum = 0;
      for (let n = 0; n < 4; n++) for (let s = 0; s < 9; s++) sum += y.data[(n * 2 + c) * 9 + s];
      return sum / 36;
    };
    const betaData = (bnNode(graph).params.beta as { data: Float32Array }).data;
    [0, 1].forEach((c) => expect(channelMean(c)).toBeCloseTo(betaData[c], 6));
    const { graph: folded, report } = foldGraph(graph, { rules: ALL_RULES, probe: false });
    expect(folded.nodes.map((n) => n.op)).toContain('batchNorm');
    expect(JSON.stringify(report)).toContain('keeps no running statistics (trackRunningStats: false)');
    expect(() => exportLayersModel(graph)).toThrow(/trackRunningStats false/);
  });

  it('is refused together with frozen, and AdaBN leaves it out', async () => {
    expect(() => batchNorm({ trackRunningStats: false, frozen: true })).toThrow('batchNorm: frozen needs running statistics, but trackRunningStats is false');
    const graph = randomizeParams(model(input([4, 3]).to(linear({ in: 3, out: 2 })).to(batchNorm({ trackRunningStats: false }))).graph, 6);
    const compiled = compileGraph(graph);
    const data = tf.randomNormal([4, 3]);
    const report = await adaBN(compiled, data);
    expect(report.nodes).toEqual([]);
    tf.dispose(data);
    compiled.dispose();
  });
});

describe('momentum: null (cumulative average, PyTorch momentum=None)', () => {
  it('keeps the running statistics as the plain average over the batches seen, counting them', () => {
    const net = model(input([6, 2]).to(batchNorm({ momentum: null })));
    const bn = bnNode(net.graph);
    expect(bn.attrs.decay).toBeNull();
    expect(bn.params.batchesTracked?.data).toEqual(new Float32Array([0]));
    const rng = makeRng(7);
    const xs = [0, 1, 2].map((k) => randomTensor([6, 2], rng, -1 - k, 1 + 3 * k));
    let graph = net.graph;
    for (const x of xs) {
      const updated = runReference(graph, { [graph.inputs[0]]: x }, { mode: 'train' }).updatedStats.get(bn.name)!;
      graph = { ...graph, nodes: graph.nodes.map((n) => (n.op === 'batchNorm' ? { ...n, params: { ...n.params, ...Object.fromEntries(Object.entries(updated).map(([k, v]) => [k, { shape: [v.length], data: Float32Array.from(v) }])) } } : n)) } as Graph;
    }
    // Hand computation: the mean of the three batch means and of the three unbiased batch variances.
    const stats = xs.map((x) =>
      [0, 1].map((c) => {
        const v = [0, 1, 2, 3, 4, 5].map((n) => x.data[n * 2 + c]);
        const mean = v.reduce((a, b) => a + b, 0) / 6;
        return { mean, unbiased: v.reduce((a, b) => a + (b - mean) ** 2, 0) / 5 };
      }),
    );
    const held = bnNode(graph).params;
    [0, 1].forEach((c) => {
      expect(held.runningMean!.data[c]).toBeCloseTo(stats.reduce((a, s) => a + s[c].mean, 0) / 3, 5);
      expect(held.runningVar!.data[c]).toBeCloseTo(stats.reduce((a, s) => a + s[c].unbiased, 0) / 3, 4);
    });
    expect(held.batchesTracked!.data[0]).toBe(3);
    executorFollowsReference(randomizeParams(net.graph, 8), [6, 2], 4, 3);
    expect(() => exportLayersModel(net.graph)).toThrow(/momentum null/);
  });

  it('passes graph validation only as null or a number in [0, 1]', () => {
    const graph = model(input([6, 2]).to(batchNorm({ momentum: null }))).graph;
    const bad = { ...graph, nodes: graph.nodes.map((n) => (n.op === 'batchNorm' ? { ...n, attrs: { ...n.attrs, decay: 'none' } } : n)) } as Graph;
    expect(() => validateGraph(bad)).toThrow(/attrs.decay must be a number in \[0, 1\], or null/);
  });
});

describe('BatchNorm1d on [N, C, L]', () => {
  it('normalises per channel over N and L, in train and eval, and the DSL names other ranks', () => {
    const net = model(input([3, 4, 7]).to(batchNorm({ momentum: 0.3 })));
    executorFollowsReference(randomizeParams(net.graph, 9), [3, 4, 7], 3, 4);
    expect(() => model(input([3, 4, 7, 2, 2]).to(batchNorm() as never))).toThrow(
      'batchNorm: expects a rank-2, rank-3 or rank-4 input, got rank 5',
    );
  });
});
