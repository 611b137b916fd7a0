/**
 * BN -> conv without padding (and input preprocessing normalize(mean, std) -> first conv, and any
 * per-channel affine before an unpadded conv):
 *
 *   conv_W(s ⊙ x + t) + b = conv_{scaleIn(W, s)}(x) + (matvec(W, t) + b)
 *
 * matvec(W, t)[o] sums W[o, i, kh, kw] * t[c(i)] over o's group's input channels and all taps: with
 * no padding every tap always reads the shifted input, so the shift is a per-channel constant.
 * Side conditions: no zero padding (with padding see bn-conv-padded); running statistics.
 */
import { AFFINE_OPS } from '../algebra/affine.ts';
import { add, affineScale, affineShift, matvec, param, scaleIn, tapParam, weight } from '../algebra/expr.ts';
import type { Rule } from '../algebra/rule.ts';

export const bnConvValid: Rule = {
  name: 'bn-conv-valid',
  statement: 'conv_W(s*x + t) + b = conv_{scaleIn(W,s)}(x) + matvec(W,t) + b   (no padding)',
  pattern: [
    { role: 'bn', ops: AFFINE_OPS },
    { role: 'conv', ops: ['conv2d'] },
  ],
  replacement: [
    {
      role: 'folded',
      op: 'conv2d',
      attrsFrom: 'conv',
      attrs: { bias: true },
      params: {
        weight: scaleIn(weight('conv.weight'), affineScale('bn')),
        bias: add(param('conv.bias'), matvec(weight('conv.weight'), affineShift('bn'))),
        tapBias: tapParam('conv.tapBias'),
      },
    },
  ],
  conditions: [
    { kind: 'noPadding', role: 'conv' },
    { kind: 'inferenceStatistics', role: 'bn' },
  ],
};
