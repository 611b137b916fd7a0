/**
 * BN2d -> flatten -> linear: after flatten (NCHW order) channel c owns features c*HW ... c*HW+HW-1,
 * so the per-channel s, t become per-feature vectors with each entry repeated HW times:
 *
 *   W flatten(s ⊙ x + t) + b = (W diag(repeat(s, HW))) flatten(x) + (W repeat(t, HW) + b)
 *
 * HW is the flatten's spatial size, bound from the (literal) shapes when the rule is applied.
 * Side condition: the BN uses its running statistics.
 */
import { AFFINE_OPS } from '../algebra/affine.ts';
import { add, affineScale, affineShift, matvec, param, repeat, scaleIn, weight } from '../algebra/expr.ts';
import type { Rule } from '../algebra/rule.ts';

export const bnFlattenLinear: Rule = {
  name: 'bn-flatten-linear',
  statement: 'W flatten(s*x + t) + b = (W diag(repeat(s,HW))) flatten(x) + W repeat(t,HW) + b',
  pattern: [
    { role: 'bn', ops: AFFINE_OPS },
    { role: 'flat', ops: ['flatten'] },
    { role: 'fc', ops: ['linear'] },
  ],
  replacement: [
    { role: 'flat', op: 'flatten', attrsFrom: 'flat', params: {} },
    {
      role: 'folded',
      op: 'linear',
      attrsFrom: 'fc',
      attrs: { bias: true },
      params: {
        weight: scaleIn(weight('fc.weight'), repeat(affineScale('bn'), 'flat.spatial')),
        bias: add(param('fc.bias'), matvec(weight('fc.weight'), repeat(affineShift('bn'), 'flat.spatial'))),
      },
    },
  ],
  conditions: [{ kind: 'inferenceStatistics', role: 'bn' }],
};
