/**
 * The checker never proves a false rule because of a side condition it did not check: the square
 * root and reciprocal laws need p >= 0 and p != 0, established from the IR's guarantees
 * (src/proof/domain.ts) or the rule's own conditions. Each rule here is false for some values
 * (|q| where q is meant, a scale moved through ReLU whose sign nothing fixes) or one the engine
 * could not apply; each must fail, and say why.
 */
import { describe, expect, it } from 'vitest';
import { add, affineScale, affineShift, div, mul, num, param, recip, repeat, scaleIn, scaleOut, sqrt, tapParam, tapScaleOut, weight, type VExpr } from '../../src/algebra/expr.ts';
import type { Condition, ReplacementNode, Rule } from '../../src/algebra/rule.ts';
import { DOMAIN } from '../../src/proof/domain.ts';
import { formatProof, proveRule } from '../../src/proof/index.ts';
import { validateGraph } from '../../src/ir/validate.ts';
import type { Graph } from '../../src/ir/graph.ts';

const W = weight('conv.weight');
const s = affineScale('bn');
const t = affineShift('bn');
const inference: Condition = { kind: 'inferenceStatistics', role: 'bn' };

/** The matched conv with its output scaled by `scale` (weight and tap bias) and the given bias. */
function foldedConv(scale: VExpr, bias: VExpr): ReplacementNode {
  return { role: 'folded', op: 'conv2d', attrsFrom: 'conv', attrs: { bias: true }, params: { weight: scaleOut(W, scale), bias, tapBias: tapScaleOut(tapParam('conv.tapBias'), scale) } };
}

function failsWith(rule: Rule, pattern: RegExp): void {
  const report = proveRule(rule);
  expect(report.ok, formatProof(report)).toBe(false);
  expect(report.reason).toMatch(pattern);
}

function convBnWithBias(bias: VExpr): Rule {
  return {
    name: 'conv-bn-abs',
    statement: 'conv -> BN with a bias that is |t|, not t',
    pattern: [
      { role: 'conv', ops: ['conv2d'] },
      { role: 'bn', ops: ['batchNorm'] },
    ],
    replacement: [foldedConv(s, add(mul(param('conv.bias'), s), bias))],
    conditions: [inference],
  };
}

/** s ⊙ relu(conv(x)) + t rewritten as q ⊙ relu((s/q) ⊙ conv(x)) + t: false wherever q < 0. */
function reluThroughQ(q: VExpr, conditions: Condition[] = []): Rule {
  const sOverQ = div(s, q);
  return {
    name: 'conv-relu-bn-q',
    statement: 's/q before the relu, q after it',
    pattern: [
      { role: 'conv', ops: ['conv2d'] },
      { role: 'act', ops: ['relu'] },
      { role: 'bn', ops: ['batchNorm'] },
    ],
    replacement: [
      foldedConv(sOverQ, mul(param('conv.bias'), sOverQ)),
      { role: 'act', attrsFrom: 'act', params: {} },
      { role: 'after', op: 'scaleShift', params: { scale: q, shift: t } },
    ],
    conditions: [{ kind: 'nonNegative', expr: s, what: 'scale' }, inference, ...conditions],
  };
}

describe('square roots and reciprocals only where their conditions hold', () => {
  const absOfT = [
    ['1/sqrt((1/t)^2)', mul(num(1), recip(sqrt(mul(recip(t), recip(t)))))],
    ['sqrt(t^2)', sqrt(mul(t, t))],
    ['sqrt(t)^2', mul(sqrt(t), sqrt(t))],
    ['1/sqrt(1/t^2)', recip(sqrt(recip(mul(t, t))))],
  ] as const;
  for (const [spelling, bias] of absOfT) {
    it(`a conv -> BN bias written ${spelling} is not t`, () => {
      failsWith(convBnWithBias(bias), /differs|needs (nonZero|nonNegative)/);
    });
  }

  it('the right bias still proves, and so does t written as 1/(1/t) once t != 0 is a condition', () => {
    expect(proveRule(convBnWithBias(t)).ok).toBe(true);
    const report = proveRule({ ...convBnWithBias(recip(recip(t))), conditions: [inference, { kind: 'nonZero', expr: t, what: 'shift' }] });
    expect(report.ok, formatProof(report)).toBe(true);
  });

  it('1/(1/t) without nonZero(t) fails and names that condition', () => {
    failsWith(convBnWithBias(recip(recip(t))), /reciprocal needs nonZero\(.*\).*would prove with the missing condition nonZero/);
  });

  const qs = [
    ['t', t],
    ['beta', param('bn.beta')],
    ['1/t', recip(t)],
    ['1/sqrt((1/t)^2)', recip(sqrt(mul(recip(t), recip(t))))],
    ['sqrt(1/t)^2', mul(sqrt(recip(t)), sqrt(recip(t)))],
    ['1/(1/beta)', recip(recip(param('bn.beta')))],
  ] as const;
  for (const [spelling, q] of qs) {
    it(`a scale s/q moved before ReLU with q = ${spelling} after it fails (wrong for q < 0)`, () => {
      expect(proveRule(reluThroughQ(q)).ok).toBe(false);
      expect(proveRule(reluThroughQ(q, [{ kind: 'nonZero', expr: q, what: 'q' }])).ok).toBe(false);
    });
  }

  it('the same move proves once q > 0 is stated (q >= 0 and q != 0)', () => {
    const q = param('bn.beta');
    const report = proveRule(reluThroughQ(q, [{ kind: 'nonNegative', expr: q, what: 'q' }, { kind: 'nonZero', expr: q, what: 'q' }]));
    expect(report.ok, formatProof(report)).toBe(true);
  });
});

describe('the checker refuses what the engine cannot build', () => {
  it('a replacement with bias: false and a bias parameter', () => {
    const rule = convBnWithBias(t);
    const [folded] = rule.replacement;
    failsWith({ ...rule, replacement: [{ ...folded, attrs: { bias: false } }] }, /defines param 'bias', which that node does not take/);
  });

  it('a parameter the op does not have', () => {
    const rule = convBnWithBias(t);
    const [folded] = rule.replacement;
    failsWith({ ...rule, replacement: [{ ...folded, params: { ...folded.params, gamma: s } }] }, /defines param 'gamma'/);
  });

  it("a repeat count other than ROLE.spatial of a flatten role ('flat.x')", () => {
    const fc = weight('fc.weight');
    const rule = (times: string): Rule => ({
      name: 'bn-flatten-linear',
      statement: 'BN2d -> flatten -> linear',
      pattern: [
        { role: 'bn', ops: ['batchNorm'] },
        { role: 'flat', ops: ['flatten'] },
        { role: 'fc', ops: ['linear'] },
      ],
      replacement: [
        { role: 'flat', op: 'flatten', attrsFrom: 'flat', params: {} },
        { role: 'f', op: 'linear', attrsFrom: 'fc', params: { weight: scaleIn(fc, repeat(s, times)), bias: add(param('fc.bias'), { kind: 'matvec', weight: fc, arg: repeat(t, times) }) } },
      ],
      conditions: [inference],
    });
    expect(proveRule(rule('flat.spatial')).ok).toBe(true);
    failsWith(rule('flat.x'), /repeat count 'flat\.x' is not ROLE\.spatial/);
    failsWith(rule('bn.spatial'), /repeat count 'bn\.spatial'/);
  });
});

describe("the IR's validation enforces every fact the checker takes from it", () => {
  const bnGraph = (eps: number, runningVar: number): Graph => ({
    inputs: ['x'],
    outputs: ['bn'],
    nodes: [
      { name: 'x', op: 'input', inputs: [], attrs: { shape: [1, 1, 2, 2] }, params: {} },
      {
        name: 'bn',
        op: 'batchNorm',
        inputs: ['x'],
        attrs: { numFeatures: 1, eps, frozen: false, decay: 0.9, unbiasedRunningVar: true },
        params: Object.fromEntries(['gamma', 'beta', 'runningMean', 'runningVar'].map((n) => [n, { shape: [1], data: Float32Array.of(n === 'runningVar' ? runningVar : 1) }])),
      },
    ],
  });
  const normalizeGraph = (std: number): Graph => ({
    inputs: ['x'],
    outputs: ['n'],
    nodes: [
      { name: 'x', op: 'input', inputs: [], attrs: { shape: [1, 1, 2, 2] }, params: {} },
      { name: 'n', op: 'normalize', inputs: ['x'], attrs: { mean: [0], std: [std] }, params: {} },
    ],
  });

  it('eps > 0 and runningVar >= 0 for BatchNorm, std > 0 for normalize', () => {
    expect(DOMAIN.batchNorm).toEqual({ eps: ['nonNegative', 'nonZero'], runningVar: ['nonNegative'] });
    expect(DOMAIN.normalize).toEqual({ std: ['nonNegative', 'nonZero'] });
    expect(() => validateGraph(bnGraph(1e-5, 0))).not.toThrow();
    expect(() => validateGraph(bnGraph(0, 1))).toThrow(/eps/);
    expect(() => validateGraph(bnGraph(-1e-5, 1))).toThrow(/eps/);
    expect(() => validateGraph(bnGraph(1e-5, -1e-3))).toThrow(/runningVar/);
    expect(() => validateGraph(normalizeGraph(0))).toThrow(/std/);
    expect(() => validateGraph(normalizeGraph(-1))).toThrow(/std/);
  });
});
