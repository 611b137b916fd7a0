/**
 * convTranspose -> BN: the same fold on a transposed conv, whose weight is laid out
 * [Cin, Cout/groups, kH, kW]: output channel o = g*(Cout/G) + j lives on axis 1 within group g.
 *
 *   s ⊙ (convT_W(x) + b) + t = convT_{scaleOut(W, s)}(x) + s ⊙ b + t
 *
 * `scaleOut` is defined once, by the weight's op, in src/algebra/evaluate.ts; scaling axis 0 (the
 * input channels) here is the silent wrong-axis bug of ultralytics PR#25364, and the checker
 * rejects a rule written that way.
 */
import { AFFINE_OPS } from '../algebra/affine.ts';
import { add, affineScale, affineShift, mul, param, scaleOut, weight } from '../algebra/expr.ts';
import type { Rule } from '../algebra/rule.ts';

export const convTransposeBn: Rule = {
  name: 'convtranspose-bn',
  statement: 'a(convT_W(x) + b) = convT_{scaleOut(W,s)}(x) + s*b + t',
  pattern: [
    { role: 'conv', ops: ['convTranspose2d'] },
    { role: 'bn', ops: AFFINE_OPS },
  ],
  replacement: [
    {
      role: 'folded',
      op: 'convTranspose2d',
      attrsFrom: 'conv',
      attrs: { bias: true },
      params: {
        weight: scaleOut(weight('conv.weight'), affineScale('bn')),
        bias: add(mul(param('conv.bias'), affineScale('bn')), affineShift('bn')),
      },
    },
  ],
  conditions: [{ kind: 'inferenceStatistics', role: 'bn' }],
};
