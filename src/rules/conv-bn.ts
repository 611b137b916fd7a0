/**
 * conv -> BN (and any per-channel affine after a conv): fold the scale into the weights' output
 * axis and the whole affine into the bias, for any groups, stride, dilation and padding.
 *
 *   a(conv_W(x) + b + T) = s ⊙ (conv_W(x) + b + T) + t
 *                        = conv_{scaleOut(W, s)}(x) + (s ⊙ b + t) + scaleOut(T, s)
 *   where s, t are the affine's scale and shift (BN: s = gamma/sqrt(var + eps), t = beta - mean*s)
 *   and T is the conv's tap bias from an earlier padded fold (zero if none).
 *
 * The bias is rescaled too (ncnn#1339 forgot it) and the BN's beta kept (TASO#47 dropped it).
 * Side condition: the BN normalises with its running statistics (eval mode or frozen).
 */
import { AFFINE_OPS } from '../algebra/affine.ts';
import { add, affineScale, affineShift, mul, param, scaleOut, tapParam, tapScaleOut, weight } from '../algebra/expr.ts';
import type { Rule } from '../algebra/rule.ts';

export const convBn: Rule = {
  name: 'conv-bn',
  statement: 'a(conv_W(x) + b) = conv_{scaleOut(W,s)}(x) + s*b + t',
  pattern: [
    { role: 'conv', ops: ['conv2d'] },
    { role: 'bn', ops: AFFINE_OPS },
  ],
  replacement: [
    {
      role: 'folded',
      op: 'conv2d',
      attrsFrom: 'conv',
      attrs: { bias: true },
      params: {
        weight: scaleOut(weight('conv.weight'), affineScale('bn')),
        bias: add(mul(param('conv.bias'), affineScale('bn')), affineShift('bn')),
        tapBias: tapScaleOut(tapParam('conv.tapBias'), affineScale('bn')),
      },
    },
  ],
  conditions: [{ kind: 'inferenceStatistics', role: 'bn' }],
};
