/**
 * Every folding rule, in the order the engine tries them. Order matters only for efficiency:
 * weight normalisation goes first so its convs take part in the rest; affine chains merge before
 * they fold; the unpadded BN -> conv fold (a plain bias) is preferred to the padded one (a tap
 * bias) where both apply.
 */
import type { Rule } from '../algebra/rule.ts';
import { affineAffine } from './affine-affine.ts';
import { bnConvPadded, bnConvValid } from './bn-conv.ts';
import { bnFlattenLinear } from './bn-flatten-linear.ts';
import { bnLinear } from './bn-linear.ts';
import { convActBn, convTransposeActBn } from './conv-act-bn.ts';
import { convBn } from './conv-bn.ts';
import { convTransposeBn, convTransposeCropBn } from './conv-transpose-bn.ts';
import { linearBn } from './linear-bn.ts';
import { normAffineConvPadded, normAffineConvValid, normAffineLinear } from './norm-affine-forward.ts';
import { scaleReluCommute } from './scale-relu-commute.ts';
import { convWeightNorm, linearWeightNorm } from './weight-norm.ts';

export const ALL_RULES: readonly Rule[] = [
  convWeightNorm,
  linearWeightNorm,
  affineAffine,
  convBn,
  convTransposeBn,
  convTransposeCropBn,
  linearBn,
  convActBn,
  convTransposeActBn,
  bnConvValid,
  bnConvPadded,
  bnLinear,
  bnFlattenLinear,
  normAffineConvValid,
  normAffineConvPadded,
  normAffineLinear,
  scaleReluCommute,
];

export {
  affineAffine,
  bnConvPadded,
  bnConvValid,
  bnFlattenLinear,
  bnLinear,
  convActBn,
  convBn,
  convTransposeActBn,
  convTransposeBn,
  convTransposeCropBn,
  convWeightNorm,
  linearBn,
  linearWeightNorm,
  normAffineConvPadded,
  normAffineConvValid,
  normAffineLinear,
  scaleReluCommute,
};
