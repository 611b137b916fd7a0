/**
 * BN -> zero-padded conv, exact at the borders (and normalize(mean, std) -> first conv):
 *
 *   conv_W(pad0(s ⊙ x + t)) + b = conv_{scaleIn(W, s)}(pad0(x)) + conv_W(pad0(const t)) + b
 *
 * The padded zeros are not normalised, so the shift's contribution is not a per-channel constant:
 * it is full in the interior and partial on a border frame. It is kept exactly as a tap bias,
 * taps(W, t)[o, kh, kw] = sum_i W[o, i, kh, kw] t[c(i)], which the conv adds over the taps that
 * read inside the unpadded input: fixed-size data, correct for every H and W. Every other tool
 * either refuses this fold or adds a per-channel constant, wrong at the borders; the checker
 * rejects that naive rule, since conv_W(pad0(const t)) = const(matvec(W, t)) needs noPadding.
 * Side conditions: explicit padding (a 'same' padding is resolved from literal sizes first);
 * running statistics.
 */
import { AFFINE_OPS } from '../algebra/affine.ts';
import { affineScale, affineShift, param, scaleIn, tapAdd, tapParam, taps, weight } from '../algebra/expr.ts';
import type { Rule } from '../algebra/rule.ts';

export const bnConvPadded: Rule = {
  name: 'bn-conv-padded',
  statement: 'conv_W(pad0(s*x + t)) + b = conv_{scaleIn(W,s)}(pad0(x)) + tapBias(taps(W,t)) + b',
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
        bias: param('conv.bias'),
        tapBias: tapAdd(tapParam('conv.tapBias'), taps(weight('conv.weight'), affineShift('bn'))),
      },
    },
  ],
  conditions: [
    { kind: 'explicitPadding', role: 'conv' },
    { kind: 'inferenceStatistics', role: 'bn' },
  ],
};
