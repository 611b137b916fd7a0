/**
 * BN -> BN, and any chain of per-channel affines, merged into one scaleShift:
 *
 *   s2 ⊙ (s1 ⊙ x + t1) + t2 = (s2 s1) ⊙ x + (s2 t1 + t2)
 *
 * Applied to a fixpoint this collapses a chain of any length (BN, Batch Renorm, scaleShift,
 * normalize); the result then folds into a neighbouring conv or linear like any affine.
 * Side condition: both use running statistics.
 */
import { AFFINE_OPS } from '../algebra/affine.ts';
import { add, affineScale, affineShift, mul } from '../algebra/expr.ts';
import type { Rule } from '../algebra/rule.ts';

export const affineAffine: Rule = {
  name: 'affine-affine',
  statement: 's2*(s1*x + t1) + t2 = (s2*s1)*x + (s2*t1 + t2)',
  pattern: [
    { role: 'first', ops: AFFINE_OPS },
    { role: 'second', ops: AFFINE_OPS },
  ],
  replacement: [
    {
      role: 'merged',
      op: 'scaleShift',
      params: {
        scale: mul(affineScale('second'), affineScale('first')),
        shift: add(mul(affineScale('second'), affineShift('first')), affineShift('second')),
      },
    },
  ],
  conditions: [
    { kind: 'inferenceStatistics', role: 'first' },
    { kind: 'inferenceStatistics', role: 'second' },
  ],
};
