/**
 * linear -> BN1d: y = s ⊙ (W x + b) + t = (diag(s) W) x + (s ⊙ b + t).
 * Side condition: the BN uses its running statistics.
 */
import { AFFINE_OPS } from '../algebra/affine.ts';
import { add, affineScale, affineShift, mul, param, scaleOut, weight } from '../algebra/expr.ts';
import type { Rule } from '../algebra/rule.ts';

export const linearBn: Rule = {
  name: 'linear-bn',
  statement: 'a(W x + b) = (diag(s) W) x + s*b + t',
  pattern: [
    { role: 'fc', ops: ['linear'] },
    { role: 'bn', ops: AFFINE_OPS },
  ],
  replacement: [
    {
      role: 'folded',
      op: 'linear',
      attrsFrom: 'fc',
      attrs: { bias: true },
      params: {
        weight: scaleOut(weight('fc.weight'), affineScale('bn')),
        bias: add(mul(param('fc.bias'), affineScale('bn')), affineShift('bn')),
      },
    },
  ],
  conditions: [{ kind: 'inferenceStatistics', role: 'bn' }],
};
