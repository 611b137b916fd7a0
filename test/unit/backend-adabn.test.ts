/**
 * AdaBN on a small network holding every BN-like op (batchNorm 2d and 1d, batchRenorm, ibn,
 * switchableNorm, a frozen batchNorm, a BN straight on the input, a projection shortcut), fed
 * data from a shifted and scaled domain. The oracle is the float64 reference run in eval mode on
 * the adapted (exported) graph: AdaBN's fixed point says each node's running statistics are the
 * population mean and variance of its input there, with every upstream node already adapted.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  basicBlock,
  batchNorm,
  batchRenorm,
  conv2d,
  globalAvgPool,
  ibn,
  input,
  linear,
  model,
  relu,
  switchableNorm,
} from '../../dsl/index.ts';
import { type AdaBNReport, adaBN } from '../../src/backend/adabn.ts';
import { InputError } from '../../src/backend/errors.ts';
import { type CompiledGraph, compileGraph } from '../../src/backend/executor.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { ShapeError } from '../../src/ir/errors.ts';
import type { Graph, Node, ParamTensor } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { runReference } from '../../src/reference/run.ts';
import type { Float64Tensor } from '../../src/reference/tensor.ts';
import { expectClose, randomTensor, randomizeParams, toTf } from './backend-helpers.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

const SAMPLES = 20;
const IMAGE = [3, 6, 6] as const;

function network(): Graph {
  const logits = input(['N', 3, 6, 6], { name: 'x' })
    .to(batchNorm({ name: 'bn0' }))
    .to(conv2d({ in: 3, out: 4, kernel: 3, padding: 1, bias: true, name: 'c1' }))
    .to(batchNorm({ name: 'bn1' }))
    .to(relu())
    .to(basicBlock({ out: 6, stride: 2, name: 'block' }))
    .to(batchRenorm({ name: 'renorm', convention: 'keras' }))
    .to(ibn({ name: 'ibn', instanceChannels: 2 }))
    .to(batchNorm({ name: 'frozen', frozen: true }))
    .to(switchableNorm({ name: 'sn' }))
    .to(globalAvgPool())
    .to(linear({ in: 6, out: 5, name: 'fc' }))
    .to(batchNorm({ name: 'bn1d', convention: 'keras' }));
  return randomizeParams(model(logits).graph, 11);
}

/** Target domain: the source's uniform [-1, 1) values scaled by 2.5 and shifted by 1.5. */
function targetData(samples = SAMPLES, seed = 5): Float64Tensor {
  const u = randomTensor([samples, ...IMAGE], createRng(seed));
  return { shape: u.shape, data: u.data.map((v) => Math.fround(2.5 * v + 1.5)) };
}

const STATS_OPS = new Set(['batchNorm', 'batchRenorm', 'ibn', 'switchableNorm']);
const isAdapted = (node: Node) => STATS_OPS.has(node.op) && !(node.op === 'batchNorm' && node.attrs.frozen);
const paramOf = (graph: Graph, node: string, param: string): Float32Array =>
  ((graph.nodes.find((n) => n.name === node) as Node).params as Record<string, ParamTensor>)[param].data;

/** Per-channel population statistics of channels [first, C) of an NCHW tensor, in float64. */
function populationStats(x: Float64Tensor, first: number): { mean: Float64Array; biased: Float64Array; count: number } {
  const [batch, channels] = x.shape;
  const spatial = x.data.length / (batch * channels);
  const count = batch * spatial;
  const mean = new Float64Array(channels - first);
  const biased = new Float64Array(channels - first);
  for (let c = first; c < channels; c++) {
    let sum = 0;
    for (let n = 0; n < batch; n++) for (let s = 0; s < spatial; s++) sum += x.data[(n * channels + c) * spatial + s];
    const mu = sum / count;
    let squares = 0;
    for (let n = 0; n < batch; n++) for (let s = 0; s < spatial; s++) squares += (x.data[(n * channels + c) * spatial + s] - mu) ** 2;
    mean[c - first] = mu;
    biased[c - first] = squares / count;
  }
  return { mean, biased, count };
}

const firstStatChannel = (node: Node) => (node.op === 'ibn' ? node.attrs.instanceChannels : 0);

/** Runs adaBN, asserting that it leaves tf.memory().numTensors as it found it. */
async function adapt(compiled: CompiledGraph, data: Parameters<typeof adaBN>[1], opts?: { batchSize?: number }): Promise<AdaBNReport> {
  const before = tf.memory().numTensors;
  const report = await adaBN(compiled, data, opts);
  expect(tf.memory().numTensors).toBe(before);
  return report;
}

/** Expects the promise to reject with `kind`, without leaking tensors. */
async function expectRejects(run: () => Promise<unknown>, kind: new (...args: never[]) => Error, message: RegExp): Promise<void> {
  const before = tf.memory().numTensors;
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(kind);
  expect((error as Error).message).toMatch(message);
  expect(tf.memory().numTensors).toBe(before);
}

describe('adaBN', () => {
  it("sets every adapted node's statistics to the population statistics of its eval-mode input on the target data", async () => {
    const graph = network();
    const target = targetData();
    const compiled = compileGraph(graph);
    const x = toTf(target);
    await adapt(compiled, x, { batchSize: 7 });
    const adapted = compiled.exportGraph();
    x.dispose();
    compiled.dispose();

    const { values } = runReference(adapted, { x: target }, { mode: 'eval' });
    const checked = adapted.nodes.filter(isAdapted);
    expect(checked.map((n) => n.name)).toEqual(['bn0', 'bn1', 'block.bn1', 'block.bn2', 'block.proj_bn', 'renorm', 'ibn', 'sn', 'bn1d']);
    for (const node of checked) {
      const stats = populationStats(values.get(node.inputs[0]) as Float64Tensor, firstStatChannel(node));
      const unbiased = (node.attrs as { unbiasedRunningVar: boolean }).unbiasedRunningVar;
      const variance = stats.biased.map((v) => (unbiased ? (v * stats.count) / (stats.count - 1) : v));
      expectClose(paramOf(adapted, node.name, 'runningMean'), stats.mean, 1e-4, `${node.name} mean`);
      expectClose(paramOf(adapted, node.name, 'runningVar'), variance, 1e-4, `${node.name} variance`);
    }
  });

  it('leaves eval-mode BN outputs standardised on the target data (they were not before)', async () => {
    const graph = network();
    const target = targetData();
    const compiled = compileGraph(graph);
    const x = toTf(target);
    await adapt(compiled, x);
    const adapted = compiled.exportGraph();
    x.dispose();
    compiled.dispose();

    /** Per channel of a BN's statistics part: input and (y - beta) / gamma statistics. */
    const standardised = (g: Graph, node: Node) => {
      const { values } = runReference(g, { x: target }, { mode: 'eval' });
      const y = values.get(node.name) as Float64Tensor;
      const gamma = paramOf(g, node.name, 'gamma');
      const beta = paramOf(g, node.name, 'beta');
      const z = { shape: y.shape, data: new Float64Array(y.data.length) };
      const [batch, channels] = y.shape;
      const spatial = y.data.length / (batch * channels);
      y.data.forEach((v, i) => {
        const c = Math.floor(i / spatial) % channels;
        z.data[i] = (v - beta[c]) / gamma[c];
      });
      const first = firstStatChannel(node);
      return { input: populationStats(values.get(node.inputs[0]) as Float64Tensor, first), output: populationStats(z, first) };
    };
    const plainNorms = adapted.nodes.filter((n) => isAdapted(n) && n.op !== 'switchableNorm');
    for (const node of plainNorms) {
      const { input: x, output: z } = standardised(adapted, node);
      // Normalised by its own population statistics, z has mean 0 and variance b / (s + eps), with
      // b the biased input variance and s the stored one (b, or b n / (n - 1) when unbiased).
      const { eps, unbiasedRunningVar } = node.attrs as { eps: number; unbiasedRunningVar: boolean };
      const stored = x.biased.map((b) => (unbiasedRunningVar ? (b * x.count) / (x.count - 1) : b));
      expectClose(z.mean, new Float64Array(z.mean.length), 1e-3, `${node.name} mean after`);
      expectClose(z.biased, x.biased.map((b, c) => b / (stored[c] + eps)), 1e-3, `${node.name} variance after`);
    }
    const source = standardised(graph, graph.nodes.find((n) => n.name === 'bn0') as Node).output;
    expect(Math.max(...source.mean.map(Math.abs))).toBeGreaterThan(0.5);
  });

  it('leaves frozen BNs and every weight untouched, and reports what it changed', async () => {
    const graph = network();
    const compiled = compileGraph(graph);
    const before = compiled.exportGraph();
    const x = toTf(targetData());
    const report = await adapt(compiled, x, { batchSize: 8 });
    const after = compiled.exportGraph();
    x.dispose();
    compiled.dispose();

    expect(report.frozen).toEqual(['frozen']);
    expect(report.samples).toBe(SAMPLES);
    expect(report.batches).toBe(3);
    for (const [i, node] of after.nodes.entries()) {
      const stats = isAdapted(node) ? ['runningMean', 'runningVar'] : [];
      for (const [name, p] of Object.entries(node.params as Record<string, ParamTensor>)) {
        if (!stats.includes(name)) expect(p.data, `${node.name}.${name}`).toEqual((before.nodes[i].params as Record<string, ParamTensor>)[name].data);
      }
    }
    // Levels: a node's pass comes after every adapted node upstream of it; the frozen BN adds none.
    expect(report.nodes.map((n) => [n.node, n.level])).toEqual([
      ['bn0', 0], ['bn1', 1], ['block.bn1', 2], ['block.bn2', 3], ['block.proj_bn', 2], ['renorm', 4], ['ibn', 5], ['sn', 6], ['bn1d', 7],
    ]);
    expect(report.passes).toBe(8);
    const spatial: Record<string, number> = { bn0: 36, bn1: 36, 'block.bn1': 9, 'block.bn2': 9, 'block.proj_bn': 9, renorm: 9, ibn: 9, sn: 9, bn1d: 1 };
    for (const entry of report.nodes) {
      expect(entry.valuesPerChannel, entry.node).toBe(SAMPLES * spatial[entry.node]);
      const oldMean = paramOf(before, entry.node, 'runningMean');
      const newMean = paramOf(after, entry.node, 'runningMean');
      const oldVar = paramOf(before, entry.node, 'runningVar');
      const newVar = paramOf(after, entry.node, 'runningVar');
      expect(entry.channels).toBe(newMean.length);
      expect(entry.before.mean).toEqual(oldMean);
      expect(entry.after.variance).toEqual(newVar);
      expect(entry.maxMeanChange).toBe(Math.max(...Array.from(newMean, (v, c) => Math.abs(v - oldMean[c]))));
      expect(entry.maxVarChange).toBe(Math.max(...Array.from(newVar, (v, c) => Math.abs(v - oldVar[c]))));
      expect(entry.maxMeanChange, entry.node).toBeGreaterThan(0);
    }
  });

  it('gives the same statistics however the data is batched: one tensor, an array, an async iterable', async () => {
    const target = targetData();
    const whole = toTf(target);
    const parts = [tf.slice(whole, 0, 3), tf.slice(whole, 3, 9), tf.slice(whole, 15, 5), tf.slice(whole, 12, 3)];
    async function* stream() {
      yield* parts;
    }
    const sources: [string, Parameters<typeof adaBN>[1], { batchSize?: number }][] = [
      ['tensor, default batch size', whole, {}],
      ['tensor, batches of 1', whole, { batchSize: 1 }],
      ['array', parts, {}],
      ['async iterable', stream(), {}],
    ];
    const results: Graph[] = [];
    for (const [, data, opts] of sources) {
      const compiled = compileGraph(network());
      await adapt(compiled, data, opts);
      results.push(compiled.exportGraph());
      compiled.dispose();
    }
    for (const t of [whole, ...parts]) t.dispose();
    for (const [i, [label]] of sources.entries()) {
      for (const node of results[0].nodes.filter(isAdapted)) {
        for (const p of ['runningMean', 'runningVar']) {
          expectClose(paramOf(results[i], node.name, p), paramOf(results[0], node.name, p), 1e-5, `${label}: ${node.name}.${p}`);
        }
      }
    }
  });

  it('does nothing but report on a graph whose only BN is frozen', async () => {
    const logits = input(['N', 2, 4, 4], { name: 'x' }).to(conv2d({ out: 3, kernel: 1 })).to(batchNorm({ name: 'f', frozen: true }));
    const compiled = compileGraph(randomizeParams(model(logits).graph, 1));
    const before = compiled.exportGraph();
    const x = toTf(randomTensor([4, 2, 4, 4], createRng(2)));
    const report = await adapt(compiled, x);
    expect(report).toMatchObject({ passes: 0, nodes: [], frozen: ['f'], samples: 4 });
    expect(compiled.exportGraph()).toEqual(before);
    x.dispose();
    compiled.dispose();
  });
});

describe('adaBN errors', () => {
  it('names empty data, wrong shapes, wrong dtypes and bad options, and changes nothing', async () => {
    const compiled = compileGraph(network());
    const before = compiled.exportGraph();
    const good = toTf(targetData(4));
    const wrongChannels = tf.zeros([4, 2, 6, 6]);
    const ints = tf.zeros([4, ...IMAGE], 'int32');
    const noSamples = tf.zeros([0, ...IMAGE]);
    async function* nothing(): AsyncGenerator<tf.Tensor> {}

    await expectRejects(() => adaBN(compiled, []), InputError, /no target data/);
    await expectRejects(() => adaBN(compiled, nothing()), InputError, /no target data/);
    await expectRejects(() => adaBN(compiled, noSamples), InputError, /input 'x'.*at least one sample/);
    await expectRejects(() => adaBN(compiled, wrongChannels), ShapeError, /input 'x'.*dim 1 \(C\) is 2, the model expects 3/);
    await expectRejects(() => adaBN(compiled, [good, good, wrongChannels]), ShapeError, /batch 2/);
    await expectRejects(() => adaBN(compiled, [good, ints]), InputError, /input 'x': batch 1 has dtype int32/);
    await expectRejects(() => adaBN(compiled, [good], { batchSize: 2 }), InputError, /batchSize.*only applies when the data is one tensor/);
    await expectRejects(() => adaBN(compiled, good, { batchSize: 0 }), InputError, /batchSize.*positive integer/);
    expect(compiled.exportGraph()).toEqual(before);
    for (const t of [good, wrongChannels, ints, noSamples]) t.dispose();
    compiled.dispose();
  });

  it('refuses an unbiased variance from one value per channel, after measuring the levels before it', async () => {
    const logits = input(['N', 3], { name: 'x' })
      .to(batchNorm({ name: 'biased', convention: 'keras' }))
      .to(linear({ out: 2, name: 'fc' }))
      .to(batchNorm({ name: 'unbiased' }));
    const compiled = compileGraph(randomizeParams(model(logits).graph, 4));
    const before = compiled.exportGraph();
    const one = toTf(randomTensor([1, 3], createRng(6)));
    await expectRejects(() => adaBN(compiled, one), InputError, /batchNorm 'unbiased'.*at least 2 values per channel; the data gives 1/);
    expect(compiled.exportGraph()).toEqual(before);
    one.dispose();
    compiled.dispose();
  });

  it('rejects a disposed graph and a disposed batch by name', async () => {
    const compiled = compileGraph(network());
    const gone = toTf(targetData(2));
    gone.dispose();
    await expectRejects(() => adaBN(compiled, [gone]), InputError, /batch 0 has been disposed/);
    compiled.dispose();
    const x = toTf(targetData(2));
    await expectRejects(() => adaBN(compiled, x), Error, /after dispose/);
    x.dispose();
  });
});
