/**
 * Batch Renorm as the paper (Ioffe 2017, Algorithm 1) and Keras' BatchNormalization(renorm=True)
 * define it: r and d from moving averages of mu_B and sigma_B (renorm momentum), the inference
 * statistics BatchNorm's (momentum), and the warm-up of rMax and dMax. The float64 reference is
 * checked against a hand-written Algorithm 1 below, the tfjs executor against the reference, over
 * several train steps; the older form (sigma from the running variance) is kept as an option and
 * shown to differ.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchRenorm as renormLayer, conv2d, input, model } from '../../dsl/index.ts';
import { foldGraph } from '../../src/fold/index.ts';
import { compileGraph } from '../../src/backend/executor.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { checkAttrs } from '../../src/ir/attrs.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { BatchRenormAttrs, Graph, NodeOf, ParamTensor } from '../../src/ir/graph.ts';
import { batchRenorm, type BatchRenormParams } from '../../src/reference/ops/batchRenorm.ts';
import { runReference } from '../../src/reference/run.ts';
import type { UpdatedStats } from '../../src/reference/ops/runningStats.ts';
import type { Float64Tensor } from '../../src/reference/tensor.ts';
import { makeRng, randomTensor, t64 } from './reference-fixtures.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

interface PaperState {
  mu: number[];
  sigma: number[];
  runningMean: number[];
  runningVar: number[];
  step: number;
}

/**
 * Algorithm 1 for one train step on x[n][c], written from the paper and Keras' docs, not from
 * the library: mu_B, sigma_B; r, d from the moving mu, sigma; y = gamma (x_hat r + d) + beta; then
 * mu += (1 - renormDecay)(mu_B - mu), sigma += (1 - renormDecay)(sigma_B - sigma), and Keras'
 * inference statistics with decay (biased variance here). Warm-up: linear ramps after holdSteps.
 */
function paperStep(x: number[][], s: PaperState, gamma: number[], beta: number[], a: BatchRenormAttrs): { y: number[][]; next: PaperState } {
  const n = x.length;
  const channels = x[0].length;
  let rMax = a.rMax;
  let dMax = a.dMax;
  if (a.warmup !== null) {
    const w = a.warmup;
    const ramp = (end: number) => Math.min(1, Math.max(0, (s.step - w.holdSteps) / (end - w.holdSteps)));
    rMax = 1 + (a.rMax - 1) * ramp(w.rMaxSteps);
    dMax = a.dMax * ramp(w.dMaxSteps);
  }
  const y = x.map((row) => row.slice());
  const next: PaperState = { mu: [], sigma: [], runningMean: [], runningVar: [], step: s.step + 1 };
  for (let c = 0; c < channels; c++) {
    let muB = 0;
    for (let i = 0; i < n; i++) muB += x[i][c] / n;
    let varB = 0;
    for (let i = 0; i < n; i++) varB += (x[i][c] - muB) ** 2 / n;
    const sigmaB = Math.sqrt(varB + a.eps);
    const sigma = Math.max(s.sigma[c], Math.sqrt(a.eps));
    const r = Math.min(rMax, Math.max(1 / rMax, sigmaB / sigma));
    const d = Math.min(dMax, Math.max(-dMax, (muB - s.mu[c]) / sigma));
    for (let i = 0; i < n; i++) y[i][c] = gamma[c] * (((x[i][c] - muB) / sigmaB) * r + d) + beta[c];
    next.mu.push(s.mu[c] + (1 - a.renormDecay) * (muB - s.mu[c]));
    next.sigma.push(s.sigma[c] + (1 - a.renormDecay) * (sigmaB - s.sigma[c]));
    next.runningMean.push(a.decay * s.runningMean[c] + (1 - a.decay) * muB);
    next.runningVar.push(a.decay * s.runningVar[c] + (1 - a.decay) * varB);
  }
  return { y, next };
}

const attrsOf = (overrides: Partial<BatchRenormAttrs>): BatchRenormAttrs => ({
  numFeatures: 3,
  eps: 1e-3,
  rMax: 1.4,
  dMax: 0.3,
  sigma: 'movingStddev',
  renormDecay: 0.6,
  warmup: null,
  decay: 0.9,
  unbiasedRunningVar: false,
  ...overrides,
});

const rows = (x: Float64Tensor): number[][] => Array.from({ length: x.shape[0] }, (_, i) => Array.from(x.data.slice(i * x.shape[1], (i + 1) * x.shape[1])));

/** Batches whose statistics drift, so r and d move and reach their clips on some channels. */
function batches(count: number, n: number, channels: number, seed: number): Float64Tensor[] {
  const rng = makeRng(seed);
  return Array.from({ length: count }, (_, k) => {
    const x = randomTensor([n, channels], rng, -1, 1);
    return t64([n, channels], Array.from(x.data, (v, i) => v * (1 + 0.7 * k * ((i % channels) + 1)) + 0.4 * k));
  });
}

function referenceSteps(xs: readonly Float64Tensor[], attrs: BatchRenormAttrs, start: BatchRenormParams): { outputs: Float64Tensor[]; params: BatchRenormParams } {
  let params = start;
  const outputs: Float64Tensor[] = [];
  for (const x of xs) {
    const { output, updatedStats } = batchRenorm(x, params, attrs, 'train');
    outputs.push(output);
    const u = updatedStats!;
    const vec = (data: Float64Array | undefined) => (data === undefined ? undefined : { shape: [data.length], data });
    params = { ...params, runningMean: vec(u.runningMean), runningVar: vec(u.runningVar), renormMean: vec(u.renormMean), renormStd: vec(u.renormStd), batchesTracked: vec(u.batchesTracked) };
  }
  return { outputs, params };
}

const start = (channels: number): BatchRenormParams => ({
  gamma: t64([channels], [1.5, 0.5, -2].slice(0, channels)),
  beta: t64([channels], [0.1, -0.2, 0.3].slice(0, channels)),
  runningMean: t64([channels], Array(channels).fill(0)),
  runningVar: t64([channels], Array(channels).fill(1)),
  renormMean: t64([channels], Array(channels).fill(0)),
  renormStd: t64([channels], Array(channels).fill(1)),
  batchesTracked: t64([1], [0]),
});

describe('Batch Renorm, the paper form (sigma: movingStddev)', () => {
  it('follows Algorithm 1 computed by hand in float64, step after step, moving statistics included', () => {
    const attrs = attrsOf({});
    const xs = batches(6, 8, 3, 1);
    const { outputs, params } = referenceSteps(xs, attrs, start(3));
    let state: PaperState = { mu: [0, 0, 0], sigma: [1, 1, 1], runningMean: [0, 0, 0], runningVar: [1, 1, 1], step: 0 };
    let clipped = 0;
    xs.forEach((x, k) => {
      const { y, next } = paperStep(rows(x), state, [1.5, 0.5, -2], [0.1, -0.2, 0.3], attrs);
      const got = rows(outputs[k]);
      y.forEach((row, i) => row.forEach((v, c) => expect(got[i][c]).toBeCloseTo(v, 12)));
      state.sigma.forEach((sigma, c) => {
        const r = Math.sqrt(variance(rows(x), c) + attrs.eps) / sigma;
        if (r > attrs.rMax || r < 1 / attrs.rMax) clipped++;
      });
      state = next;
    });
    expect(clipped).toBeGreaterThan(0);
    state.mu.forEach((v, c) => expect(params.renormMean!.data[c]).toBeCloseTo(v, 12));
    state.sigma.forEach((v, c) => expect(params.renormStd!.data[c]).toBeCloseTo(v, 12));
    state.runningMean.forEach((v, c) => expect(params.runningMean!.data[c]).toBeCloseTo(v, 12));
    state.runningVar.forEach((v, c) => expect(params.runningVar!.data[c]).toBeCloseTo(v, 12));
  });

  it('warms up as the paper: r = 1 and d = 0 for holdSteps, then rMax and dMax ramp linearly', () => {
    const attrs = attrsOf({ warmup: { holdSteps: 2, rMaxSteps: 6, dMaxSteps: 4 }, rMax: 3, dMax: 5 });
    const xs = batches(8, 8, 3, 2);
    const { outputs, params } = referenceSteps(xs, attrs, start(3));
    let state: PaperState = { mu: [0, 0, 0], sigma: [1, 1, 1], runningMean: [0, 0, 0], runningVar: [1, 1, 1], step: 0 };
    xs.forEach((x, k) => {
      const { y, next } = paperStep(rows(x), state, [1.5, 0.5, -2], [0.1, -0.2, 0.3], attrs);
      rows(outputs[k]).forEach((row, i) => row.forEach((v, c) => expect(v).toBeCloseTo(y[i][c], 12)));
      state = next;
    });
    expect(params.batchesTracked!.data[0]).toBe(8);
    // Within holdSteps the output is BatchNorm train: (x - mu_B) / sigma_B * gamma + beta.
    const plain = batchRenorm(xs[0], start(3), attrsOf({ rMax: 1, dMax: 0 }), 'train').output;
    expect(Array.from(outputs[0].data)).toEqual(Array.from(plain.data));
  });

  it('differs from the running-variance form (sigma: runningVar) once the statistics have moved', () => {
    const xs = batches(5, 8, 3, 3);
    const paper = referenceSteps(xs, attrsOf({ rMax: 100, dMax: 100 }), start(3));
    const older = referenceSteps(xs, attrsOf({ rMax: 100, dMax: 100, sigma: 'runningVar' }), start(3));
    const last = xs.length - 1;
    const gap = Math.max(...paper.outputs[last].data.map((v, i) => Math.abs(v - older.outputs[last].data[i])));
    expect(gap).toBeGreaterThan(0.05);
    // At inference both are BatchNorm with the same running statistics.
    expect(Array.from(paper.params.runningVar!.data)).toEqual(Array.from(older.params.runningVar!.data));
  });

  it('runs the same on tfjs as in the float64 reference, over steps, on [N, C] and [N, C, L]', () => {
    for (const shape of [[8, 3], [4, 3, 5]]) {
      const attrs = attrsOf({ warmup: { holdSteps: 1, rMaxSteps: 4, dMaxSteps: 3 }, rMax: 2, dMax: 1 });
      const b = new GraphBuilder({ seed: 3 });
      const x = b.addInput(shape, 'x');
      b.addNode({ op: 'batchRenorm', inputs: [x], attrs, name: 'bn', params: Object.fromEntries(Object.entries(start(3)).map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }])) as never });
      let reference = b.build(['bn']);
      const compiled = compileGraph(reference);
      const before = tf.memory().numTensors;
      const rng = makeRng(4);
      for (let k = 0; k < 5; k++) {
        const input = randomTensor(shape, rng, -1 - k, 1 + 2 * k);
        const xt = tf.tensor(Float32Array.from(input.data), shape);
        const y = compiled.run(xt, { mode: 'train' }).bn;
        const got = y.dataSync();
        tf.dispose([xt, y]);
        const ref = runReference(reference, { x: input }, { mode: 'train' });
        ref.outputs.bn.data.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(1e-4 * (1 + Math.abs(v))));
        reference = withState(reference, ref.updatedStats.get('bn')!);
      }
      expect(tf.memory().numTensors).toBe(before);
      const exported = compiled.exportGraph().nodes[1] as NodeOf<'batchRenorm'>;
      const expected = reference.nodes[1] as NodeOf<'batchRenorm'>;
      for (const name of ['runningMean', 'runningVar', 'renormMean', 'renormStd', 'batchesTracked'] as const) {
        exported.params[name]!.data.forEach((v, c) => expect(v).toBeCloseTo(expected.params[name]!.data[c], 4));
      }
      compiled.dispose();
    }
  });
});

describe('Batch Renorm folded after training', () => {
  it('folds with the inference statistics it keeps (runningMean, runningVar), not the moving sigma', () => {
    const net = model(input([8, 2, 6, 6]).to(conv2d({ out: 3, kernel: 3 })).to(renormLayer({ momentum: 0.5, renormMomentum: 0.3 })));
    const compiled = compileGraph(net.graph);
    const rng = makeRng(11);
    for (let k = 0; k < 4; k++) {
      const x = tf.tensor(Float32Array.from(randomTensor([8, 2, 6, 6], rng, -1 - k, 2 + k).data), [8, 2, 6, 6]);
      tf.dispose([x, compiled.run(x, { mode: 'train' })[net.graph.outputs[0]]]);
    }
    const trained = compiled.exportGraph();
    compiled.dispose();
    const bn = trained.nodes.find((n) => n.op === 'batchRenorm') as NodeOf<'batchRenorm'>;
    // The two sigmas differ here, so folding with the wrong one would show.
    const gap = Math.max(...Array.from(bn.params.renormStd!.data, (s, c) => Math.abs(s / Math.sqrt(bn.params.runningVar!.data[c] + bn.attrs.eps) - 1)));
    expect(gap).toBeGreaterThan(0.01);
    const { graph: folded } = foldGraph(trained, { probe: false });
    expect(folded.nodes.map((n) => n.op)).toEqual(['input', 'conv2d']);
    const x = randomTensor([8, 2, 6, 6], rng, -2, 2);
    const before = runReference(trained, { [trained.inputs[0]]: x }, { mode: 'eval' }).outputs[trained.outputs[0]].data;
    const after = runReference(folded, { [folded.inputs[0]]: x }, { mode: 'eval' }).outputs[folded.outputs[0]].data;
    before.forEach((v, i) => expect(Math.abs(after[i] - v)).toBeLessThan(1e-5 * (1 + Math.abs(v))));
  });
});

describe('Batch Renorm options', () => {
  it('DSL default: the paper form, renorm momentum as the convention reads momentum, no warm-up', () => {
    const pytorch = model(input([8, 3]).to(renormLayer()));
    expect(pytorch.graph.nodes[1].attrs).toMatchObject({ sigma: 'movingStddev', renormDecay: 0.9, warmup: null, decay: 0.9 });
    expect(Object.keys(pytorch.graph.nodes[1].params).sort()).toEqual(['beta', 'gamma', 'renormMean', 'renormStd', 'runningMean', 'runningVar']);
    const keras = model(input([8, 3]).to(renormLayer({ convention: 'keras', momentum: 0.9, renormMomentum: 0.5, warmup: 'paper', sigma: 'runningVar' })));
    expect(keras.graph.nodes[1].attrs).toMatchObject({ sigma: 'runningVar', renormDecay: 0.5, decay: 0.9, eps: 1e-3, warmup: { holdSteps: 5000, rMaxSteps: 40000, dMaxSteps: 25000 } });
    expect(Object.keys(keras.graph.nodes[1].params).sort()).toEqual(['batchesTracked', 'beta', 'gamma', 'runningMean', 'runningVar']);
    expect(() => renormLayer({ warmup: { holdSteps: 5, rMaxSteps: 5, dMaxSteps: 9 } })).toThrow("batchRenorm: warmup.rMaxSteps (5) and warmup.dMaxSteps (9) must be later than warmup.holdSteps (5)");
    expect(() => renormLayer({ sigma: 'var' as never })).toThrow("batchRenorm: sigma must be 'movingStddev' or 'runningVar', got \"var\"");
    expect(() => renormLayer({ renormMomentum: 2 })).toThrow(/batchRenorm: renormMomentum/);
  });

  it('the IR refuses a malformed sigma or warm-up, naming the field', () => {
    const node = (attrs: Partial<BatchRenormAttrs>) => ({ name: 'r', op: 'batchRenorm' as const, attrs: attrsOf(attrs) });
    expect(() => checkAttrs(node({ sigma: 'std' as never }))).toThrow(/attrs.sigma must be one of 'movingStddev', 'runningVar'/);
    expect(() => checkAttrs(node({ warmup: { holdSteps: 3, rMaxSteps: 2, dMaxSteps: 9 } }))).toThrow(/attrs.warmup must be null or \{ holdSteps, rMaxSteps, dMaxSteps \}/);
    expect(() => checkAttrs(node({ renormDecay: 1.5 }))).toThrow(/attrs.renormDecay must be a number in \[0, 1\]/);
  });
});

function variance(x: number[][], c: number): number {
  const mean = x.reduce((s, row) => s + row[c], 0) / x.length;
  return x.reduce((s, row) => s + (row[c] - mean) ** 2, 0) / x.length;
}

function withState(graph: Graph, state: UpdatedStats): Graph {
  const node = graph.nodes[1];
  const params: Record<string, ParamTensor> = { ...(node.params as Record<string, ParamTensor>) };
  for (const [name, data] of Object.entries(state)) if (data !== undefined) params[name] = { shape: [data.length], data: Float32Array.from(data) };
  return { ...graph, nodes: [graph.nodes[0], { ...node, params } as Graph['nodes'][number]] };
}
