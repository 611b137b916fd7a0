/**
 * conv -> ReLU -> BN (BN after the activation, ResB's bn1/bn2), for conv2d and for transposed
 * convs (decoders, U-Nets): the BN's scale moves back through the activation into the conv; only
 * its shift stays after the activation, as a pure shift that later folds forward into the next
 * conv or linear (bn-conv-*) or, if it meets an add with an unscaled branch, is reported as
 * unfoldable.
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

function actBnFold(conv: 'conv2d' | 'convTranspose2d'): Rule {
  const W = weight('conv.weight');
  const s = affineScale('bn');
  const op = conv === 'conv2d' ? 'conv' : 'convT';
  return {
    name: conv === 'conv2d' ? 'conv-act-bn' : 'convtranspose-act-bn',
    statement: `s*act(${op}_W(x) + b) + t = act(${op}_{scaleOut(W,s)}(x) + s*b) + t   (s >= 0, act in {relu, leakyRelu})`,
    pattern: [
      { role: 'conv', ops: [conv] },
      { role: 'act', ops: ['relu', 'leakyRelu'] },
      { role: 'bn', ops: ['batchNorm', 'batchRenorm'] },
    ],
    replacement: [
      {
        role: 'folded',
        op: conv,
        attrsFrom: 'conv',
        attrs: { bias: true },
        params: {
          weight: scaleOut(W, s),
          bias: mul(param('conv.bias'), s),
          // Only a conv2d carries a tap bias (from an earlier padded fold); it scales with its output.
          ...(conv === 'conv2d' ? { tapBias: tapScaleOut(tapParam('conv.tapBias'), s) } : {}),
        },
      },
      { role: 'act', attrsFrom: 'act', params: {} },
      { role: 'shift', op: 'scaleShift', params: { scale: num(1), shift: affineShift('bn') } },
    ],
    conditions: [
      { kind: 'nonNegative', expr: s, what: 'scale' },
      { kind: 'inferenceStatistics', role: 'bn' },
    ],
  };
}

export const convActBn = actBnFold('conv2d');
export const convTransposeActBn = actBnFold('convTranspose2d');
