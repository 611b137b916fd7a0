/**
 * The proof checker must reject every folding bug users have hit in other tools (ANCHORS.md,
 * "Bugs users hit"), written here as rules, with a reason that names the fault; and it must
 * prove the correct versions, also written here as data independent of src/rules.
 */
import { describe, expect, it } from 'vitest';
import { AFFINE_OPS } from '../../src/algebra/affine.ts';
import {
  add,
  affineScale,
  affineShift,
  attr,
  div,
  matvec,
  mul,
  num,
  param,
  recip,
  rowNorm,
  scaleIn,
  scaleOut,
  sqrt,
  sub,
  tapAdd,
  tapParam,
  taps,
  tapScaleOut,
  weight,
  type VExpr,
} from '../../src/algebra/expr.ts';
import type { Condition, ReplacementNode, Rule } from '../../src/algebra/rule.ts';
import type { OpKind } from '../../src/ir/graph.ts';
import { formatProof, proveRule } from '../../src/proof/index.ts';

const W = weight('conv.weight');
const s = affineScale('bn');
const t = affineShift('bn');
const inference: Condition = { kind: 'inferenceStatistics', role: 'bn' };

function rule(name: string, pattern: [string, readonly OpKind[]][], replacement: ReplacementNode[], conditions: Condition[] = []): Rule {
  return { name, statement: name, pattern: pattern.map(([role, ops]) => ({ role, ops })), replacement, conditions };
}

function convBn(params: ReplacementNode['params'], ops: readonly OpKind[] = AFFINE_OPS, conditions: Condition[] = [inference]): Rule {
  return rule('conv-bn', [['conv', ['conv2d']], ['bn', ops]], [{ role: 'folded', op: 'conv2d', attrsFrom: 'conv', attrs: { bias: true }, params }], conditions);
}

const correctConvBn = convBn({
  weight: scaleOut(W, s),
  bias: add(mul(param('conv.bias'), s), t),
  tapBias: tapScaleOut(tapParam('conv.tapBias'), s),
});

function bnConv(params: ReplacementNode['params'], conditions: Condition[]): Rule {
  return rule('bn-conv', [['bn', AFFINE_OPS], ['conv', ['conv2d']]], [{ role: 'folded', op: 'conv2d', attrsFrom: 'conv', attrs: { bias: true }, params }], conditions);
}

const naiveBnConvParams = { weight: scaleIn(W, s), bias: add(param('conv.bias'), matvec(W, t)), tapBias: tapParam('conv.tapBias') };

function scaleThrough(act: OpKind, shift: VExpr, conditions: Condition[]): Rule {
  return rule(
    `scale-through-${act}`,
    [['sc', ['scaleShift']], ['act', [act]]],
    [
      { role: 'act', attrsFrom: 'act', params: {} },
      { role: 'sc', op: 'scaleShift', params: { scale: affineScale('sc'), shift } },
    ],
    conditions,
  );
}

const zeroShift: Condition = { kind: 'zero', expr: affineShift('sc'), what: 'shift' };
const nonNegativeScale: Condition = { kind: 'nonNegative', expr: affineScale('sc'), what: 'scale' };

function rejected(r: Rule): string {
  const report = proveRule(r);
  expect(report.ok, formatProof(report)).toBe(false);
  expect(report.reason).toBeDefined();
  return report.reason ?? '';
}

function proved(r: Rule): void {
  const report = proveRule(r);
  expect(report.ok, formatProof(report, { verbose: true })).toBe(true);
}

describe('wild bugs are rejected with a reason', () => {
  it('conv bias not rescaled by the BN scale (ncnn#1339)', () => {
    const reason = rejected(convBn({ weight: scaleOut(W, s), bias: add(param('conv.bias'), t), tapBias: tapScaleOut(tapParam('conv.tapBias'), s) }));
    expect(reason).toMatch(/constant term differs/);
    expect(reason).toMatch(/LHS has [^,]*bn\.gamma\*conv\.bias\/sqrt\(bn\.eps \+ bn\.runningVar\)/);
    expect(reason).toMatch(/RHS has [^,]*\+ conv\.bias$/);
  });

  it('BN bias term dropped (TASO#47)', () => {
    const reason = rejected(convBn({ weight: scaleOut(W, s), bias: mul(param('conv.bias'), s), tapBias: tapScaleOut(tapParam('conv.tapBias'), s) }));
    expect(reason).toMatch(/constant term differs: LHS has .*bn\.beta/);
    expect(reason).not.toMatch(/RHS has [^;]*bn\.beta/);
  });

  it('conv bias dropped', () => {
    const reason = rejected(convBn({ weight: scaleOut(W, s), bias: t, tapBias: tapScaleOut(tapParam('conv.tapBias'), s) }));
    expect(reason).toMatch(/constant term differs: LHS has .*conv\.bias/);
  });

  it('a conv tap bias left unscaled', () => {
    const reason = rejected(convBn({ weight: scaleOut(W, s), bias: add(mul(param('conv.bias'), s), t), tapBias: tapParam('conv.tapBias') }));
    expect(reason).toMatch(/border term tapBias\(conv\.tapBias/);
  });

  it('transposed-conv weights scaled on the input axis (ultralytics PR#25364)', () => {
    const r = rule(
      'convT-bn-wrong-axis',
      [['conv', ['convTranspose2d']], ['bn', AFFINE_OPS]],
      [{ role: 'folded', op: 'convTranspose2d', attrsFrom: 'conv', attrs: { bias: true }, params: { weight: scaleIn(W, s), bias: add(mul(param('conv.bias'), s), t) } }],
      [inference],
    );
    const reason = rejected(r);
    expect(reason).toMatch(/term convTranspose\[conv\.weight; conv\]\(x\) differs: LHS has bn\.gamma/);
  });

  it('BN shift through a zero-padded conv folded as a plain bias without noPadding', () => {
    const reason = rejected(bnConv(naiveBnConvParams, [inference]));
    expect(reason).toMatch(/constant term differs: LHS has conv\.bias, RHS has matvec\(conv\.weight, bn\.beta\)/);
    expect(reason).toMatch(/also differing: border term tapBias\(taps\(conv\.weight, bn\.beta\)/);
    expect(reason).toMatch(/missing condition noPadding\(conv\)/);
  });

  it('BN shift before a transposed conv folded as a per-channel bias (its borders get fewer taps)', () => {
    const r = rule(
      'bn-convT-naive',
      [['bn', ['batchNorm']], ['conv', ['convTranspose2d']]],
      [{ role: 'folded', op: 'convTranspose2d', attrsFrom: 'conv', params: { weight: scaleIn(W, s), bias: add(param('conv.bias'), matvec(W, t)) } }],
      [inference],
    );
    const reason = rejected(r);
    expect(reason).toMatch(/constant term differs: LHS has conv\.bias, RHS has matvec\(conv\.weight, bn\.beta\)/);
    expect(reason).toMatch(/also differing: constant-image term convTranspose\[conv\.weight; conv\]\(/);
  });

  it('missing eps in a hand-written BN scale', () => {
    const noEps = div(param('bn.gamma'), sqrt(param('bn.runningVar')));
    const reason = rejected(
      convBn(
        {
          weight: scaleOut(W, noEps),
          bias: add(mul(param('conv.bias'), noEps), sub(param('bn.beta'), mul(param('bn.runningMean'), noEps))),
          tapBias: tapScaleOut(tapParam('conv.tapBias'), noEps),
        },
        ['batchNorm'],
      ),
    );
    expect(reason).toMatch(/differs: LHS has bn\.gamma\/sqrt\(bn\.eps \+ bn\.runningVar\), RHS has bn\.gamma\/sqrt\(bn\.runningVar\)/);
  });

  it('grouped/depthwise conv slip: the input-side scale written as scaleOut', () => {
    const reason = rejected(
      bnConv({ weight: scaleOut(W, s), bias: add(param('conv.bias'), matvec(W, t)), tapBias: tapParam('conv.tapBias') }, [
        inference,
        { kind: 'noPadding', role: 'conv' },
      ]),
    );
    expect(reason).toMatch(/term conv\[conv\.weight; conv\]\(.*pad0\[conv\]\(x\)\) differs/);
  });

  it('a shift commuted through ReLU', () => {
    const reason = rejected(scaleThrough('relu', affineShift('sc'), [nonNegativeScale]));
    expect(reason).toMatch(/no shift commutes with relu/);
  });

  it('a scale commuted through ReLU without the nonNegative condition', () => {
    const reason = rejected(scaleThrough('relu', num(0), [zeroShift]));
    expect(reason).toMatch(/missing condition nonNegative\(sc\.scale\)/);
  });

  it('a scale commuted through leakyReLU without the nonNegative condition', () => {
    const reason = rejected(scaleThrough('leakyRelu', num(0), [zeroShift]));
    expect(reason).toMatch(/missing condition nonNegative\(sc\.scale\)/);
  });

  for (const act of ['relu6', 'sigmoid', 'tanh'] as const) {
    it(`a scale commuted through ${act}, even a non-negative one`, () => {
      const reason = rejected(scaleThrough(act, num(0), [zeroShift, nonNegativeScale]));
      expect(reason).toMatch(new RegExp(`${act} is not positively homogeneous`));
      expect(reason).not.toMatch(/missing condition/);
    });
  }

  it('the statistics of layerNorm "folded" into a scaleShift', () => {
    const r = rule(
      'layer-norm-as-affine',
      [['ln', ['layerNorm']]],
      [{ role: 'ss', op: 'scaleShift', params: { scale: param('ln.gamma'), shift: param('ln.beta') } }],
    );
    const reason = rejected(r);
    expect(reason).toMatch(/term x differs: LHS has nothing, RHS has ln\.gamma/);
    expect(reason).toMatch(/layerNorm\[ln\] is applied on the LHS only/);
  });

  it('layerNorm statistics dropped while its affine folds into a conv', () => {
    const r = rule(
      'layer-norm-into-conv',
      [['norm', ['layerNorm']], ['next', ['conv2d']]],
      [{ role: 'folded', op: 'conv2d', attrsFrom: 'next', params: { weight: scaleIn(weight('next.weight'), param('norm.gamma')), bias: param('next.bias'), tapBias: tapAdd(tapParam('next.tapBias'), taps(weight('next.weight'), param('norm.beta'))) } }],
    );
    const reason = rejected(r);
    expect(reason).toMatch(/term conv\[next\.weight; next\]\(norm\.gamma ⊙ pad0\[next\]\(x\)\) differs: LHS has nothing, RHS has 1/);
    expect(reason).toMatch(/layerNorm\[norm\] is applied on the LHS only/);
  });

  it('a BN folded without inferenceStatistics (train-mode batch statistics)', () => {
    const reason = rejected(convBn({ weight: scaleOut(W, s), bias: add(mul(param('conv.bias'), s), t), tapBias: tapScaleOut(tapParam('conv.tapBias'), s) }, ['batchNorm'], []));
    expect(reason).toMatch(/term conv\[conv\.weight; conv\]\(pad0\[conv\]\(x\)\) differs: LHS has nothing/);
    expect(reason).toMatch(/also differing: .*batchNorm-batch-statistics\[bn\]/);
    expect(reason).toMatch(/missing condition inferenceStatistics\(bn\)/);
  });

  it('a rule that is correct for one op of a role and not another fails in that case only', () => {
    const bnOnly = div(param('bn.gamma'), sqrt(add(param('bn.runningVar'), attr('bn.eps'))));
    const report = proveRule(
      convBn(
        {
          weight: scaleOut(W, bnOnly),
          bias: add(mul(param('conv.bias'), bnOnly), sub(param('bn.beta'), mul(param('bn.runningMean'), bnOnly))),
          tapBias: tapScaleOut(tapParam('conv.tapBias'), bnOnly),
        },
        ['batchNorm', 'scaleShift'],
      ),
    );
    expect(report.ok).toBe(false);
    expect(report.cases.map((c) => c.ok)).toEqual([true, false]);
    expect(report.reason).toMatch(/case \{conv: conv2d, bn: scaleShift\}/);
  });

  it('a malformed rule is reported, not thrown', () => {
    const report = proveRule(convBn({ weight: param('conv.weight') as never, bias: t }, ['batchNorm']));
    expect(report.ok).toBe(false);
    expect(report.reason).toMatch(/param 'weight' must be a weight expression/);
  });
});

describe('correct folds, written here as data, prove', () => {
  it('conv -> BN (every affine op, tap bias carried)', () => proved(correctConvBn));

  it('conv -> BN with the BN scale written out by hand (independent of affine.ts)', () => {
    const hand = mul(param('bn.gamma'), recip(sqrt(add(attr('bn.eps'), param('bn.runningVar')))));
    proved(
      convBn(
        {
          weight: scaleOut(W, hand),
          bias: add(param('bn.beta'), mul(hand, sub(param('conv.bias'), param('bn.runningMean')))),
          tapBias: tapScaleOut(tapParam('conv.tapBias'), hand),
        },
        ['batchNorm', 'batchRenorm'],
      ),
    );
  });

  it('BN -> conv without padding (plain bias, noPadding stated)', () => proved(bnConv(naiveBnConvParams, [inference, { kind: 'noPadding', role: 'conv' }])));

  it('BN -> zero-padded conv (tap bias)', () =>
    proved(bnConv({ weight: scaleIn(W, s), bias: param('conv.bias'), tapBias: tapAdd(tapParam('conv.tapBias'), taps(W, t)) }, [inference])));

  it('normalize -> conv, padded, mean/std written out', () => {
    const r = rule(
      'normalize-conv',
      [['norm', ['normalize']], ['conv', ['conv2d']]],
      [
        {
          role: 'folded',
          op: 'conv2d',
          attrsFrom: 'conv',
          params: {
            weight: scaleIn(W, recip(param('norm.std'))),
            bias: param('conv.bias'),
            tapBias: tapAdd(tapParam('conv.tapBias'), taps(scaleIn(W, recip(param('norm.std'))), mul(num(-1), param('norm.mean')))),
          },
        },
      ],
    );
    proved(r);
  });

  it('linear -> BN and BN -> linear', () => {
    const fc = weight('fc.weight');
    proved(
      rule('linear-bn', [['fc', ['linear']], ['bn', AFFINE_OPS]], [{ role: 'f', op: 'linear', attrsFrom: 'fc', params: { weight: scaleOut(fc, s), bias: add(mul(s, param('fc.bias')), t) } }], [inference]),
    );
    proved(
      rule('bn-linear', [['bn', AFFINE_OPS], ['fc', ['linear']]], [{ role: 'f', op: 'linear', attrsFrom: 'fc', params: { weight: scaleIn(fc, s), bias: add(matvec(fc, t), param('fc.bias')) } }], [inference]),
    );
  });

  it('BN2d -> flatten -> linear', () => {
    const fc = weight('fc.weight');
    const r = rule(
      'bn-flatten-linear',
      [['bn', AFFINE_OPS], ['flat', ['flatten']], ['fc', ['linear']]],
      [
        { role: 'flat', op: 'flatten', attrsFrom: 'flat', params: {} },
        { role: 'f', op: 'linear', attrsFrom: 'fc', params: { weight: scaleIn(fc, { kind: 'repeat', arg: s, times: 'flat.spatial' }), bias: add(param('fc.bias'), matvec(fc, { kind: 'repeat', arg: t, times: 'flat.spatial' })) } },
      ],
      [inference],
    );
    proved(r);
  });

  it('BN2d -> flatten -> linear with the shift not repeated is rejected', () => {
    const fc = weight('fc.weight');
    const r = rule(
      'bn-flatten-linear-no-repeat',
      [['bn', ['batchNorm']], ['flat', ['flatten']], ['fc', ['linear']]],
      [
        { role: 'flat', op: 'flatten', attrsFrom: 'flat', params: {} },
        { role: 'f', op: 'linear', attrsFrom: 'fc', params: { weight: scaleIn(fc, { kind: 'repeat', arg: s, times: 'flat.spatial' }), bias: add(param('fc.bias'), matvec(fc, t)) } },
      ],
      [inference],
    );
    expect(rejected(r)).toMatch(/constant term differs/);
  });

  it('BN -> BN into one scaleShift', () => {
    const s1 = affineScale('a');
    const s2 = affineScale('b');
    proved(
      rule(
        'bn-bn',
        [['a', AFFINE_OPS], ['b', AFFINE_OPS]],
        [{ role: 'm', op: 'scaleShift', params: { scale: mul(s1, s2), shift: add(mul(s2, affineShift('a')), affineShift('b')) } }],
        [{ kind: 'inferenceStatistics', role: 'a' }, { kind: 'inferenceStatistics', role: 'b' }],
      ),
    );
  });

  it('a scale through relu and leakyRelu with nonNegative and zero shift', () => {
    proved(scaleThrough('relu', num(0), [zeroShift, nonNegativeScale]));
    proved(scaleThrough('leakyRelu', num(0), [zeroShift, nonNegativeScale]));
  });

  it('a BN scale moved back through relu into the conv (nonNegative of the BN scale)', () => {
    proved(
      rule(
        'conv-relu-bn',
        [['conv', ['conv2d']], ['act', ['relu']], ['bn', ['batchNorm']]],
        [
          { role: 'f', op: 'conv2d', attrsFrom: 'conv', params: { weight: scaleOut(W, s), bias: mul(param('conv.bias'), s), tapBias: tapScaleOut(tapParam('conv.tapBias'), s) } },
          { role: 'act', attrsFrom: 'act', params: {} },
          { role: 'shift', op: 'scaleShift', params: { scale: num(1), shift: t } },
        ],
        [inference, { kind: 'nonNegative', expr: s, what: 'scale' }],
      ),
    );
  });

  it('weightNorm removal', () => {
    const v = weight('wn.v');
    const rowsNonZero: Condition = { kind: 'nonZero', expr: rowNorm(v), what: '||v||' };
    proved(rule('wn', [['wn', ['weightNormConv2d']]], [{ role: 'c', op: 'conv2d', attrsFrom: 'wn', params: { weight: scaleOut(v, mul(param('wn.g'), recip(rowNorm(v)))), bias: param('wn.bias') } }], [rowsNonZero]));
    proved(rule('wn', [['wn', ['weightNormLinear']]], [{ role: 'c', op: 'linear', attrsFrom: 'wn', params: { weight: scaleOut(v, div(param('wn.g'), rowNorm(v))), bias: param('wn.bias') } }], [rowsNonZero]));
  });

  it('weightNorm removal without nonZero(||v||) fails and names the missing condition', () => {
    const v = weight('wn.v');
    const reason = rejected(rule('wn', [['wn', ['weightNormLinear']]], [{ role: 'c', op: 'linear', attrsFrom: 'wn', params: { weight: scaleOut(v, div(param('wn.g'), rowNorm(v))), bias: param('wn.bias') } }]));
    expect(reason).toMatch(/reciprocal needs nonZero\(‖wn\.v‖\)/);
    expect(reason).toMatch(/would prove with the missing condition nonZero\(‖wn\.v‖\)/);
  });

  it('weightNorm removal with g/||v|| applied on the input axis is rejected', () => {
    const v = weight('wn.v');
    const reason = rejected(rule('wn', [['wn', ['weightNormLinear']]], [{ role: 'c', op: 'linear', attrsFrom: 'wn', params: { weight: scaleIn(v, div(param('wn.g'), rowNorm(v))), bias: param('wn.bias') } }]));
    expect(reason).toMatch(/term wn\.v·\(x\) differs: LHS has wn\.g\/‖wn\.v‖, RHS has nothing/);
  });

  it('groupNorm affine folded forward into a padded conv; its statistics stay', () => {
    const nw = weight('next.weight');
    const r = (conditions: Condition[]) => rule(
      'gn-affine-conv',
      [['norm', ['groupNorm', 'layerNorm', 'instanceNorm']], ['next', ['conv2d']]],
      [
        { role: 'norm', attrsFrom: 'norm', attrs: { affine: false }, params: {} },
        { role: 'f', op: 'conv2d', attrsFrom: 'next', params: { weight: scaleIn(nw, param('norm.gamma')), bias: param('next.bias'), tapBias: tapAdd(tapParam('next.tapBias'), taps(nw, param('norm.beta'))) } },
      ],
      conditions,
    );
    proved(r([{ kind: 'perChannelAffine', role: 'norm' }]));
    // LayerNorm over C, H, W has element-wise gamma/beta: without the condition its case fails.
    expect(rejected(r([]))).toMatch(/layerNorm-elementwise-affine\[norm\] is applied on the LHS only/);
  });

  it('groupNorm with a changed group count is not the same statistics', () => {
    const nw = weight('next.weight');
    const r = rule(
      'gn-regroup',
      [['norm', ['groupNorm']], ['next', ['conv2d']]],
      [
        { role: 'norm', attrsFrom: 'norm', attrs: { affine: false, groups: 1 }, params: {} },
        { role: 'f', op: 'conv2d', attrsFrom: 'next', params: { weight: scaleIn(nw, param('norm.gamma')), bias: param('next.bias'), tapBias: tapAdd(tapParam('next.tapBias'), taps(nw, param('norm.beta'))) } },
      ],
    );
    const reason = rejected(r);
    expect(reason).toMatch(/groupNorm\[norm\{groups=1\}\] is applied on the RHS only/);
    expect(reason).toMatch(/groupNorm\[norm\] is applied on the LHS only/);
  });
});
