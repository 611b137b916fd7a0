/**
 * conv -> ReLU -> BN (BN after the activation, ResB's bn1/bn2): the BN's scale moves back through
 * the activation into the conv; only its shift stays after the activation, as a pure shift that
 * later folds forward into the next conv or linear (bn-conv-*) or, if it meets an add with an
 * unscaled branch, is reported as unfoldable.
 *
 *   s ⊙ act(conv_W(x) + b + T) + t = act(conv_{scaleOut(W,s)}(x) + s ⊙ b + scaleOut(T, s)) + t
 *       for s >= 0 and act positively homogeneous (relu, leakyRelu)
 *
 * Side conditions: scale >= 0 on the concrete values (a negative gamma makes the scale negative:
 * then nothing moves, lc0 PR#779's case); running statistics; the BN is not already a pure shift
 * (progress guard: it is a batchNorm or batchRenorm, and the result is a scaleShift).
 */
import { affineScale, affineShift, mul, num, param, scaleOut, tapParam, tapScaleOut, weight } from '../algebra/expr.ts';
import type { Rule } from '../algebra/rule.ts';

export const convActBn: Rule = {
  name: 'conv-act-bn',
  statement: 's*act(conv_W(x) + b) + t = act(conv_{scaleOut(W,s)}(x) + s*b) + t   (s >= 0, act in {relu, leakyRelu})',
  pattern: [
    { role: 'conv', ops: ['conv2d'] },
    { role: 'act', ops: ['relu', 'leakyRelu'] },
    { role: 'bn', ops: ['batchNorm', 'batchRenorm'] },
  ],
  replacement: [
    {
      role: 'folded',
      op: 'conv2d',
      attrsFrom: 'conv',
      attrs: { bias: true },
      params: {
        weight: scaleOut(weight('conv.weight'), affineScale('bn')),
        bias: mul(param('conv.bias'), affineScale('bn')),
        tapBias: tapScaleOut(tapParam('conv.tapBias'), affineScale('bn')),
      },
    },
    { role: 'act', attrsFrom: 'act', params: {} },
    { role: 'shift', op: 'scaleShift', params: { scale: num(1), shift: affineShift('bn') } },
  ],
  conditions: [
    { kind: 'nonNegative', expr: affineScale('bn'), what: 'scale' },
    { kind: 'inferenceStatistics', role: 'bn' },
  ],
};
