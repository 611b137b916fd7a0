/**
 * BN1d -> linear (and any per-channel affine before a linear layer):
 *
 *   W (s ⊙ x + t) + b = (W diag(s)) x + (W t + b)
 *
 * Side condition: the BN uses its running statistics.
 */
import { AFFINE_OPS } from '../algebra/affine.ts';
import { add, affineScale, affineShift, matvec, param, scaleIn, weight } from '../algebra/expr.ts';
import type { Rule } from '../algebra/rule.ts';

export const bnLinear: Rule = {
  name: 'bn-linear',
  statement: 'W(s*x + t) + b = (W diag(s)) x + (W t + b)',
  pattern: [
    { role: 'bn', ops: AFFINE_OPS },
    { role: 'fc', ops: ['linear'] },
  ],
  replacement: [
    {
      role: 'folded',
      op: 'linear',
      attrsFrom: 'fc',
      attrs: { bias: true },
      params: {
        weight: scaleIn(weight('fc.weight'), affineScale('bn')),
        bias: add(param('fc.bias'), matvec(weight('fc.weight'), affineShift('bn'))),
      },
    },
  ],
  conditions: [{ kind: 'inferenceStatistics', role: 'bn' }],
};
