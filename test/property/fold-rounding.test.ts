/**
 * Layers folded from both sides have every parameter rounded to float32 ONCE (ANCHORS.md: fold in
 * float64, round once). Three chains where a second fold rewrites what a first fold produced:
 *   normalize -> zero-padded conv -> BN   conv-bn, then bn-conv-padded on the folded conv
 *   weightNormConv2d -> BN                conv-weight-norm, then conv-bn
 *   BN2d -> flatten -> linear -> BN1d     linear-bn, then bn-flatten-linear
 * Each folded parameter is compared with its exact value, written here directly from the layers'
 * definitions in float64 (not through the engine's expressions):
 *   |p' - p*| <= half a float32 ulp of p*  (+ the float64 evaluation's own error, 2^-48 of the
 *   magnitudes summed).
 * Rounding after each fold breaks this on a sizeable share of entries (two roundings err by up to
 * a whole ulp), so any run of the properties catches it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldGraph } from '../../src/fold/index.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { AttrsByOp, Graph, Node, ParamTensor } from '../../src/ir/graph.ts';
import { foldRuns, replayParameters } from '../arbitraries/replay.ts';
import { scalarValue, tensorOf } from '../arbitraries/values.ts';

const RUNS = foldRuns(100);
const F64_SLACK = 2 ** -48;

/** Half the float32 spacing at |x| (for a subnormal or zero, half the smallest step). */
function halfUlp32(x: number): number {
  if (x === 0) return 2 ** -150;
  return Math.max(2 ** (Math.floor(Math.log2(Math.abs(x))) - 24), 2 ** -150);
}

interface Expected {
  readonly value: number;
  /** sum of |terms| the value was summed from (|value| for a product). */
  readonly magnitude: number;
}

/** `name` absent counts as zeros (an all-zero tap bias is dropped). */
function expectRoundedOnce(node: Node, name: string, exact: readonly Expected[]): void {
  const p = (node.params as Readonly<Record<string, ParamTensor | undefined>>)[name];
  const data = p?.data ?? new Float32Array(exact.length);
  expect(data.length).toBe(exact.length);
  exact.forEach(({ value, magnitude }, k) => {
    const error = Math.abs(data[k] - value);
    const bound = halfUlp32(value) + F64_SLACK * magnitude;
    if (!(error <= bound)) {
      throw new Error(`${node.name}.${name}[${k}] = ${data[k]}, exact ${value}: off by ${error} > half an ulp ${halfUlp32(value)}`);
    }
  });
}

const product = (value: number): Expected => ({ value, magnitude: Math.abs(value) });

function sumOf(terms: readonly number[]): Expected {
  return { value: terms.reduce((a, t) => a + t, 0), magnitude: terms.reduce((a, t) => a + Math.abs(t), 0) };
}

const ordinary = scalarValue('ordinary');
const positive = scalarValue('ordinary', 'nonNegative').filter((v) => v > 0);
const values = (n: number, element = ordinary) => tensorOf([n], element);

interface Bn {
  readonly gamma: ParamTensor;
  readonly beta: ParamTensor;
  readonly runningMean: ParamTensor;
  readonly runningVar: ParamTensor;
  readonly eps: number;
}

const bnArb = (c: number): fc.Arbitrary<Bn> =>
  fc.record({
    gamma: values(c),
    beta: values(c),
    runningMean: values(c),
    runningVar: values(c, scalarValue('ordinary', 'nonNegative')),
    eps: fc.constantFrom(1e-5, 0.1),
  });

const bnAttrs = (c: number, eps: number): AttrsByOp['batchNorm'] => ({ numFeatures: c, eps, decay: 0.9, unbiasedRunningVar: true, frozen: false });
const bnParams = (bn: Bn) => ({ gamma: bn.gamma, beta: bn.beta, runningMean: bn.runningMean, runningVar: bn.runningVar });
const scaleOf = (bn: Bn, c: number) => bn.gamma.data[c] / Math.sqrt(bn.runningVar.data[c] + bn.eps);
const shiftOf = (bn: Bn, c: number) => bn.beta.data[c] - bn.runningMean.data[c] * scaleOf(bn, c);

const only = (graph: Graph, op: Node['op']): Node => {
  const found = graph.nodes.filter((n) => n.op === op);
  if (found.length !== 1) throw new Error(`expected one ${op}, got ${found.length}`);
  return found[0];
};

describe('a layer folded twice is rounded to float32 once', () => {
  const convCase = fc
    .record({ cin: fc.integer({ min: 1, max: 3 }), cout: fc.integer({ min: 1, max: 3 }), k: fc.integer({ min: 1, max: 3 }), pad: fc.integer({ min: 1, max: 2 }) })
    .chain((d) =>
      fc.record({
        d: fc.constant(d),
        mean: fc.array(ordinary, { minLength: d.cin, maxLength: d.cin }),
        std: fc.array(positive, { minLength: d.cin, maxLength: d.cin }),
        weight: tensorOf([d.cout, d.cin, d.k, d.k], ordinary),
        bias: values(d.cout),
        bn: bnArb(d.cout),
      }),
    );

  it(`normalize -> zero-padded conv -> BN: weight, bias and tap bias (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(convCase, ({ d, mean, std, weight, bias, bn }) => {
        const b = new GraphBuilder();
        const x = b.addInput([1, d.cin, 5, 5], 'x');
        const pre = b.addNode({ op: 'normalize', inputs: [x], name: 'pre', attrs: { mean, std } });
        const conv = b.addNode({
          op: 'conv2d',
          inputs: [pre],
          name: 'conv',
          attrs: { inChannels: d.cin, outChannels: d.cout, kernel: [d.k, d.k], stride: [1, 1], padding: [d.pad, d.pad, d.pad, d.pad], dilation: [1, 1], groups: 1, bias: true },
          params: { weight, bias },
        });
        const norm = b.addNode({ op: 'batchNorm', inputs: [conv], name: 'bn', attrs: bnAttrs(d.cout, bn.eps), params: bnParams(bn) });
        const graph = b.build([b.addNode({ op: 'relu', inputs: [norm], attrs: {} })]);
        const { graph: folded, report } = foldGraph(graph, { probe: false });
        expect(report.folds.map((f) => f.rule)).toEqual(['conv-bn', 'bn-conv-padded']);
        const taps = d.k * d.k;
        const w = (o: number, c: number, t: number) => weight.data[(o * d.cin + c) * taps + t];
        const node = only(folded, 'conv2d');
        const weights: Expected[] = [];
        const tapBias: Expected[] = [];
        for (let o = 0; o < d.cout; o++) {
          for (let c = 0; c < d.cin; c++) for (let t = 0; t < taps; t++) weights.push(product((w(o, c, t) * scaleOf(bn, o)) / std[c]));
        }
        for (let o = 0; o < d.cout; o++) {
          for (let t = 0; t < taps; t++) tapBias.push(sumOf(Array.from({ length: d.cin }, (_, c) => (w(o, c, t) * scaleOf(bn, o) * -mean[c]) / std[c])));
        }
        expectRoundedOnce(node, 'weight', weights);
        expectRoundedOnce(node, 'tapBias', tapBias);
        expectRoundedOnce(node, 'bias', Array.from({ length: d.cout }, (_, o) => sumOf([bias.data[o] * scaleOf(bn, o), shiftOf(bn, o)])));
      }),
      replayParameters(RUNS),
    );
  });

  const weightNormCase = fc
    .record({ cin: fc.integer({ min: 1, max: 3 }), cout: fc.integer({ min: 1, max: 3 }), k: fc.integer({ min: 1, max: 3 }) })
    .chain((d) =>
      fc.record({
        d: fc.constant(d),
        // every output unit's direction non-zero
        v: tensorOf([d.cout, d.cin, d.k, d.k], positive),
        g: values(d.cout),
        bias: values(d.cout),
        bn: bnArb(d.cout),
      }),
    );

  it(`weightNormConv2d -> BN: weight and bias (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(weightNormCase, ({ d, v, g, bias, bn }) => {
        const b = new GraphBuilder();
        const x = b.addInput([1, d.cin, 4, 4], 'x');
        const conv = b.addNode({
          op: 'weightNormConv2d',
          inputs: [x],
          name: 'conv',
          attrs: { inChannels: d.cin, outChannels: d.cout, kernel: [d.k, d.k], stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1, bias: true },
          params: { v, g, bias },
        });
        const graph = b.build([b.addNode({ op: 'batchNorm', inputs: [conv], name: 'bn', attrs: bnAttrs(d.cout, bn.eps), params: bnParams(bn) })]);
        const { graph: folded, report } = foldGraph(graph, { probe: false });
        expect(report.folds.map((f) => f.rule)).toEqual(['conv-weight-norm', 'conv-bn']);
        const perUnit = d.cin * d.k * d.k;
        const norm = (o: number) => Math.sqrt(Array.from({ length: perUnit }, (_, i) => v.data[o * perUnit + i] ** 2).reduce((a, s) => a + s, 0));
        const weights = Array.from({ length: d.cout * perUnit }, (_, k) => {
          const o = Math.floor(k / perUnit);
          return product(((v.data[k] * g.data[o]) / norm(o)) * scaleOf(bn, o));
        });
        const node = only(folded, 'conv2d');
        expectRoundedOnce(node, 'weight', weights);
        expectRoundedOnce(node, 'bias', Array.from({ length: d.cout }, (_, o) => sumOf([bias.data[o] * scaleOf(bn, o), shiftOf(bn, o)])));
      }),
      replayParameters(RUNS),
    );
  });

  const linearCase = fc
    .record({ c: fc.integer({ min: 1, max: 3 }), hw: fc.integer({ min: 1, max: 4 }), out: fc.integer({ min: 1, max: 3 }) })
    .chain((d) =>
      fc.record({ d: fc.constant(d), first: bnArb(d.c), weight: tensorOf([d.out, d.c * d.hw], ordinary), bias: values(d.out), second: bnArb(d.out) }),
    );

  it(`BN2d -> flatten -> linear -> BN1d: weight and bias (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(linearCase, ({ d, first, weight, bias, second }) => {
        const b = new GraphBuilder();
        const x = b.addInput([1, d.c, d.hw, 1], 'x');
        const bn2d = b.addNode({ op: 'batchNorm', inputs: [x], name: 'bn2d', attrs: bnAttrs(d.c, first.eps), params: bnParams(first) });
        const flat = b.addNode({ op: 'flatten', inputs: [bn2d], name: 'flat', attrs: {} });
        const fc1 = b.addNode({ op: 'linear', inputs: [flat], name: 'fc', attrs: { inFeatures: d.c * d.hw, outFeatures: d.out, bias: true }, params: { weight, bias } });
        const graph = b.build([b.addNode({ op: 'batchNorm', inputs: [fc1], name: 'bn1d', attrs: bnAttrs(d.out, second.eps), params: bnParams(second) })]);
        const { graph: folded, report } = foldGraph(graph, { probe: false });
        expect(report.folds.map((f) => f.rule)).toEqual(['linear-bn', 'bn-flatten-linear']);
        const inputs = d.c * d.hw;
        const channel = (i: number) => Math.floor(i / d.hw);
        const w = (o: number, i: number) => weight.data[o * inputs + i];
        const weights: Expected[] = [];
        for (let o = 0; o < d.out; o++) for (let i = 0; i < inputs; i++) weights.push(product(w(o, i) * scaleOf(second, o) * scaleOf(first, channel(i))));
        const biases = Array.from({ length: d.out }, (_, o) =>
          sumOf([
            bias.data[o] * scaleOf(second, o),
            shiftOf(second, o),
            ...Array.from({ length: inputs }, (_, i) => w(o, i) * scaleOf(second, o) * shiftOf(first, channel(i))),
          ]),
        );
        const node = only(folded, 'linear');
        expectRoundedOnce(node, 'weight', weights);
        expectRoundedOnce(node, 'bias', biases);
      }),
      replayParameters(RUNS),
    );
  });
});
