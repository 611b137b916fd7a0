/**
 * The folding bugs users hit in other tools (/work/shared/ANCHORS.md), each written as a wrong
 * Rule and run through the real engine: fast-check must find a graph where the folded output
 * leaves the float32 rounding bound of the correct fold (test/arbitraries/fold-bound.ts), shrink
 * it to a small one, and the proof checker must reject the rule. The property tested is the same
 * one the correct rules pass in test/property/fold-rules.test.ts: "where the rule fires, the
 * output stays within the bound"; here it has to FAIL.
 *
 * Two bugs are not rules: folding into a conv whose output is used twice (the engine must refuse;
 * a fold that ignores the second consumer is shown wrong), and folding in low precision (the
 * correct fold with its parameters rounded to fp16's 11-bit significand leaves the float32 bound,
 * pytorch PR#145623).
 *
 * Seeds are fixed so the searches are deterministic; each finds its counterexample well inside
 * its run budget.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { affineOf } from '../../src/algebra/affine.ts';
import { evaluateVector, evaluateWeight, type BoundRole, type EvalEnv } from '../../src/algebra/evaluate.ts';
import {
  add,
  affineScale,
  affineShift,
  div,
  mul,
  param,
  scaleIn,
  scaleOut,
  sqrt,
  sub,
  tapParam,
  tapScaleOut,
  weight,
} from '../../src/algebra/expr.ts';
import type { Rule } from '../../src/algebra/rule.ts';
import { foldGraph } from '../../src/fold/index.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph, Node, ParamTensor } from '../../src/ir/graph.ts';
import { proveRule } from '../../src/proof/prove.ts';
import { bnConvValid, convBn, convTransposeBn, scaleReluCommute } from '../../src/rules/index.ts';
import { ruleChain, type ChainCase, type ChainOptions } from '../arbitraries/chains.ts';
import { checkFoldBound } from '../arbitraries/fold-bound.ts';
import { nodeDraft, type NodeDraft } from '../arbitraries/layers.ts';
import { inputFor } from '../arbitraries/replay.ts';

const OPTIONS: ChainOptions = {
  allowHard: true,
  maxSpatial: 8,
  batch: { min: 1, max: 2 },
  spatial: { min: 1, max: 5 },
  channels: { min: 1, max: 4 },
};

/** A variant of a correct rule with one replacement param (or its conditions) changed. */
function variant(base: Rule, name: string, params: Record<string, unknown>, conditions = base.conditions): Rule {
  // the node that carries the folded parameters ('sc' is the scale moved past the activation)
  const target = base.replacement.findIndex((r) => r.role === 'folded' || r.role === 'sc');
  const replacement = base.replacement.map((r, i) => (i === target ? { ...r, params: { ...r.params, ...params } } : r));
  return { ...base, name, statement: `(wrong) ${base.statement}`, replacement, conditions } as Rule;
}

const W = weight('conv.weight');
const s = affineScale('bn');
const t = affineShift('bn');

/** Drops the conv's bias: the engine itself refuses it (a non-zero param the rule never reads). */
const droppedConvBias = variant(convBn, 'conv-bn-no-conv-bias', { bias: t });

const WILD_RULES: readonly { readonly bug: string; readonly rule: Rule; readonly maxParams: number }[] = [
  {
    bug: 'conv bias not rescaled by the BN scale (ncnn#1339)',
    rule: variant(convBn, 'conv-bn-unscaled-bias', { bias: add(param('conv.bias'), t) }),
    maxParams: 16,
  },
  {
    bug: "BN's bias term dropped (TASO#47)",
    rule: variant(convBn, 'conv-bn-no-bn-shift', { bias: mul(param('conv.bias'), s) }),
    maxParams: 16,
  },
  {
    bug: 'transposed-conv weights scaled on the input axis (ultralytics PR#25364)',
    rule: variant(convTransposeBn, 'convtranspose-bn-wrong-axis', { weight: scaleIn(W, s) }),
    maxParams: 24,
  },
  {
    bug: 'BN shift through a zero-padded conv as a per-channel bias (no noPadding condition)',
    rule: variant(bnConvValid, 'bn-conv-naive-padded', {}, bnConvValid.conditions.filter((c) => c.kind !== 'noPadding')),
    maxParams: 24,
  },
  {
    bug: 'eps missing from the BN scale',
    rule: {
      ...convBn,
      name: 'conv-bn-no-eps',
      pattern: [convBn.pattern[0], { role: 'bn', ops: ['batchNorm'] }],
      replacement: [
        {
          ...convBn.replacement[0],
          params: (() => {
            const scaleNoEps = div(param('bn.gamma'), sqrt(param('bn.runningVar')));
            return {
              weight: scaleOut(W, scaleNoEps),
              bias: add(mul(param('conv.bias'), scaleNoEps), sub(param('bn.beta'), mul(param('bn.runningMean'), scaleNoEps))),
              tapBias: tapScaleOut(tapParam('conv.tapBias'), scaleNoEps),
            };
          })(),
        },
      ],
    },
    maxParams: 16,
  },
  {
    bug: 'grouped-conv index slip: the output scale applied along the input channels (LeViT PR#22, pytorch#180995)',
    rule: variant(convBn, 'conv-bn-index-slip', { weight: scaleIn(W, s), tapBias: tapParam('conv.tapBias') }),
    maxParams: 40,
  },
  {
    bug: 'a shift commuted through ReLU',
    rule: variant(scaleReluCommute, 'shift-relu-commute', { shift: affineShift('sc') }, scaleReluCommute.conditions.filter((c) => c.kind !== 'zero')),
    maxParams: 8,
  },
  {
    bug: 'a scale commuted through ReLU without the nonNegative condition',
    rule: variant(scaleReluCommute, 'scale-relu-commute-any-sign', {}, scaleReluCommute.conditions.filter((c) => c.kind !== 'nonNegative')),
    maxParams: 8,
  },
];

const paramCount = (graph: Graph): number =>
  graph.nodes.reduce((sum, n) => sum + Object.values(n.params as Record<string, ParamTensor>).reduce((k, p) => k + p.data.length, 0), 0);

/** "Where the rule fires, the folded output stays within the bound": true for correct rules. */
function withinBoundWhereFired(rule: Rule) {
  return fc.property(ruleChain(rule, OPTIONS), (c: ChainCase) => {
    let folded: Graph;
    try {
      const result = foldGraph(c.graph, { rules: [rule], probe: false });
      if (!result.report.folds.some((f) => f.rule === rule.name)) return true;
      folded = result.graph;
    } catch (error) {
      // a wrong rule whose sizes do not even fit this graph (an index slip on Cin != Cout)
      if (error instanceof Error && error.name === 'FoldRuleError') return true;
      throw error;
    }
    const check = checkFoldBound(c.graph, folded, { x: inputFor(c.inputShape, c.inputSeed) }, 'eval');
    return check.unbounded || check.ok;
  });
}

describe('wild folding bugs, written as rules, are caught by the property and by the checker', () => {
  it('the correct rules they were derived from pass the same property', () => {
    for (const rule of [convBn, convTransposeBn, bnConvValid, scaleReluCommute]) {
      const result = fc.check(withinBoundWhereFired(rule), { numRuns: 150, seed: 7 });
      expect(result.failed, `${rule.name}: ${result.counterexample === null ? '' : String(result.errorInstance ?? '')}`).toBe(false);
    }
  });

  for (const { bug, rule, maxParams } of WILD_RULES) {
    it(`${bug}: fast-check finds a small counterexample; proveRule rejects it`, () => {
      const result = fc.check(withinBoundWhereFired(rule), { numRuns: 2000, seed: 1 });
      expect(result.failed).toBe(true);
      const [c] = result.counterexample as [ChainCase];
      expect(paramCount(c.graph), `shrunk to ${c.graph.nodes.map((n) => n.op).join(' -> ')}`).toBeLessThanOrEqual(maxParams);
      const proof = proveRule(rule);
      expect(proof.ok).toBe(false);
      expect(proof.reason).toBeTruthy();
    });
  }
});

describe("the conv's own bias dropped", () => {
  it('the engine refuses the rule wherever the conv has a non-zero bias, and proveRule rejects it', () => {
    const hasBias = (c: ChainCase) => {
      const conv = c.graph.nodes.find((n) => n.name === 'conv');
      return conv?.params !== undefined && 'bias' in conv.params && (conv.params.bias as ParamTensor).data.some((v) => v !== 0);
    };
    let refused = 0;
    fc.assert(
      fc.property(ruleChain(droppedConvBias, OPTIONS), (c) => {
        fc.pre(hasBias(c));
        const { report } = foldGraph(c.graph, { rules: [droppedConvBias], probe: false });
        expect(report.folds).toEqual([]);
        expect(report.left.flatMap((l) => l.reasons).join(' ')).toMatch(/bias/);
        refused += 1;
      }),
      { numRuns: 100, seed: 1 },
    );
    expect(refused).toBe(100);
    expect(proveRule(droppedConvBias).ok).toBe(false);
  });
});

describe('a conv whose output is used twice', () => {
  /** x -> conv -> (bn1, bn2) -> add: either BN folded into the conv would change the other path. */
  const sharedConv = fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 5 }), fc.nat())
    .chain(([channels, size, seed]) => {
      const shape = [1, channels, size, size];
      const options = { allowHard: false, maxSpatial: 8 };
      return nodeDraft('conv2d', shape, {}, options).chain((conv: NodeDraft) => {
        const out = [1, (conv.attrs as { outChannels: number }).outChannels, 1, 1];
        return fc
          .tuple(nodeDraft('batchNorm', out, {}, options), nodeDraft('batchNorm', out, {}, options))
          .map(([bn1, bn2]) => {
            const b = new GraphBuilder();
            const x = b.addInput(shape, 'x');
            const y = b.addNode({ op: 'conv2d', inputs: [x], attrs: conv.attrs, params: conv.params, name: 'conv' } as never);
            const p = b.addNode({ op: 'batchNorm', inputs: [y], attrs: bn1.attrs, params: bn1.params, name: 'bn1' } as never);
            const q = b.addNode({ op: 'batchNorm', inputs: [y], attrs: bn2.attrs, params: bn2.params, name: 'bn2' } as never);
            const sum = b.addNode({ op: 'add', inputs: [p, q], attrs: {}, name: 'sum' });
            return { graph: b.build([sum]), shape, seed };
          });
      });
    });

  it('the engine refuses to fold either BN and says why', () => {
    fc.assert(
      fc.property(sharedConv, ({ graph }) => {
        const { graph: folded, report } = foldGraph(graph, { rules: [convBn], probe: false });
        expect(report.folds).toEqual([]);
        expect(folded.nodes.map((n) => n.name)).toEqual(graph.nodes.map((n) => n.name));
        for (const name of ['bn1', 'bn2']) {
          const left = report.left.find((l) => l.name === name);
          expect(left?.reasons.join(' ')).toMatch(/conv/);
        }
      }),
      { numRuns: 50 },
    );
  });

  /** What a tool that ignores the second consumer does: bn1 into the conv, bn2 still reading it. */
  function foldIgnoringSecondConsumer(graph: Graph): Graph {
    const conv = graph.nodes.find((n) => n.name === 'conv') as Extract<Node, { op: 'conv2d' }>;
    const bn = graph.nodes.find((n) => n.name === 'bn1') as Extract<Node, { op: 'batchNorm' }>;
    const bind = (node: Node): BoundRole => ({
      op: node.op,
      attrs: node.attrs,
      tensors: Object.fromEntries(Object.entries(node.params as Record<string, ParamTensor>).map(([k, p]) => [k, { shape: p.shape, data: Float64Array.from(p.data) }])),
      scalars: 'eps' in node.attrs ? { eps: node.attrs.eps } : {},
    });
    const env: EvalEnv = { roles: { conv: bind(conv), bn: bind(bn) }, counts: {} };
    const channels = conv.attrs.outChannels;
    const { scale, shift } = affineOf('batchNorm', 'bn');
    const folded = evaluateWeight(scaleOut(weight('conv.weight'), scale), env);
    const bias = evaluateVector(shift, env, channels);
    const oldBias = conv.params.bias?.data;
    const scaled = evaluateVector(scale, env, channels);
    const newConv = {
      ...conv,
      attrs: { ...conv.attrs, bias: true },
      params: {
        weight: { shape: folded.shape, data: Float32Array.from(folded.data) },
        bias: { shape: [channels], data: Float32Array.from(bias, (b, o) => b + (oldBias?.[o] ?? 0) * scaled[o]) },
        ...(conv.params.tapBias === undefined ? {} : { tapBias: { shape: conv.params.tapBias.shape, data: conv.params.tapBias.data.map((v, k) => v * scaled[Math.floor(k / (conv.params.tapBias!.data.length / channels))]) } }),
      },
    } as Node;
    const nodes = graph.nodes
      .filter((n) => n.name !== 'bn1')
      .map((n) => (n.name === 'conv' ? newConv : n.name === 'sum' ? ({ ...n, inputs: ['conv', 'bn2'] } as Node) : n));
    return { ...graph, nodes };
  }

  it('folding one BN anyway is wrong, and fast-check shows it on a small graph', () => {
    const result = fc.check(
      fc.property(sharedConv, ({ graph, shape, seed }) => {
        const check = checkFoldBound(graph, foldIgnoringSecondConsumer(graph), { x: inputFor(shape, seed) }, 'eval');
        return check.unbounded || check.ok;
      }),
      { numRuns: 500, seed: 1 },
    );
    expect(result.failed).toBe(true);
    expect(paramCount(result.counterexample![0].graph)).toBeLessThanOrEqual(24);
  });
});

describe('folding in low precision (fp16 / bf16, pytorch PR#145623)', () => {
  /** x rounded to a `bits`-bit significand, round to nearest even (fp16: 11, bf16: 8). */
  const roundSignificand = (x: number, bits: number): number => {
    if (x === 0 || !Number.isFinite(x)) return x;
    const exponent = Math.floor(Math.log2(Math.abs(x)));
    const step = 2 ** (exponent - bits + 1);
    const q = x / step;
    const nearest = Math.round(q);
    const even = Math.abs(q - Math.trunc(q)) === 0.5 && nearest % 2 !== 0 ? nearest - Math.sign(q) : nearest;
    return even * step;
  };

  it('rounding the folded parameters to fp16 precision leaves the float32 bound, on a small graph', () => {
    const result = fc.check(
      fc.property(ruleChain(convBn, { ...OPTIONS, allowHard: false }), (c) => {
        const { graph, report } = foldGraph(c.graph, { rules: [convBn], probe: false });
        const produced = new Set(report.folds.flatMap((f) => f.produced.map((p) => p.name)));
        const lowPrecision: Graph = {
          ...graph,
          nodes: graph.nodes.map((n) =>
            produced.has(n.name)
              ? ({
                  ...n,
                  params: Object.fromEntries(
                    Object.entries(n.params as Record<string, ParamTensor>).map(([k, p]) => [k, { shape: p.shape, data: p.data.map((v) => roundSignificand(v, 11)) }]),
                  ),
                } as Node)
              : n,
          ),
        };
        const check = checkFoldBound(c.graph, lowPrecision, { x: inputFor(c.inputShape, c.inputSeed) }, 'eval');
        return check.unbounded || check.ok;
      }),
      { numRuns: 500, seed: 1 },
    );
    expect(result.failed).toBe(true);
    expect(paramCount((result.counterexample as [ChainCase])[0].graph)).toBeLessThanOrEqual(16);
  });
});
