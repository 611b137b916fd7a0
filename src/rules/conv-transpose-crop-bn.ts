/**
 * convTranspose -> crop -> BN: a Keras Conv2DTranspose('same') with odd K - S is imported as a
 * transposed conv followed by a crop, so the BN that follows it meets the crop first. A crop only
 * drops border pixels: it is linear, commutes with a per-channel scale and keeps a constant image,
 * so the BN moves inside it and folds as in convtranspose-bn:
 *
 *   s ⊙ crop(convT_W(x) + b) + t = crop(s ⊙ convT_W(x) + s ⊙ b + t)
 *                                = crop(convT_{scaleOut(W, s)}(x) + s ⊙ b + t)
 */
import { AFFINE_OPS } from '../algebra/affine.ts';
import { add, affineScale, affineShift, mul, param, scaleOut, weight } from '../algebra/expr.ts';
import type { Rule } from '../algebra/rule.ts';

export const convTransposeCropBn: Rule = {
  name: 'convtranspose-crop-bn',
  statement: 'a(crop(convT_W(x) + b)) = crop(convT_{scaleOut(W,s)}(x) + s*b + t)',
  pattern: [
    { role: 'conv', ops: ['convTranspose2d'] },
    { role: 'crop', ops: ['crop2d'] },
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
    { role: 'cropped', op: 'crop2d', attrsFrom: 'crop', params: {} },
  ],
  conditions: [{ kind: 'inferenceStatistics', role: 'bn' }],
};
