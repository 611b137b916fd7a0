/**
 * convTranspose -> BN: the same fold on a transposed conv, whose weight is laid out
 * [Cin, Cout/groups, kH, kW]: output channel o = g*(Cout/G) + j lives on axis 1 within group g.
 *
 *   s ⊙ (convT_W(x) + b) + t = convT_{scaleOut(W, s)}(x) + s ⊙ b + t
 *
 * `scaleOut` is defined once, by the weight's op, in src/algebra/evaluate.ts; scaling axis 0 (the
 * input channels) here is the silent wrong-axis bug of ultralytics PR#25364, and the checker
 * rejects a rule written that way.
 *
 * convTranspose -> crop -> BN: a Keras Conv2DTranspose('same') with odd K - S is imported as a
 * transposed conv followed by a crop, so the BN that follows meets the crop first. A crop only
 * drops border pixels: it is linear, commutes with a per-channel scale and keeps a constant image,
 * so the BN moves inside it and folds the same way:
 *
 *   s ⊙ crop(convT_W(x) + b) + t = crop(convT_{scaleOut(W, s)}(x) + s ⊙ b + t)
 *
 * Side condition for both: the BN uses its running statistics.
 */
import { AFFINE_OPS } from '../algebra/affine.ts';
import { add, affineScale, affineShift, mul, param, scaleOut, weight } from '../algebra/expr.ts';
import type { ReplacementNode, Rule } from '../algebra/rule.ts';

function foldIntoTranspose(throughCrop: boolean): Rule {
  const folded: ReplacementNode = {
    role: 'folded',
    op: 'convTranspose2d',
    attrsFrom: 'conv',
    attrs: { bias: true },
    params: {
      weight: scaleOut(weight('conv.weight'), affineScale('bn')),
      bias: add(mul(param('conv.bias'), affineScale('bn')), affineShift('bn')),
    },
  };
  return {
    name: throughCrop ? 'convtranspose-crop-bn' : 'convtranspose-bn',
    statement: throughCrop
      ? 'a(crop(convT_W(x) + b)) = crop(convT_{scaleOut(W,s)}(x) + s*b + t)'
      : 'a(convT_W(x) + b) = convT_{scaleOut(W,s)}(x) + s*b + t',
    pattern: [
      { role: 'conv', ops: ['convTranspose2d'] },
      ...(throughCrop ? [{ role: 'crop', ops: ['crop2d'] } as const] : []),
      { role: 'bn', ops: AFFINE_OPS },
    ],
    replacement: throughCrop ? [folded, { role: 'cropped', op: 'crop2d', attrsFrom: 'crop', params: {} }] : [folded],
    conditions: [{ kind: 'inferenceStatistics', role: 'bn' }],
  };
}

export const convTransposeBn = foldIntoTranspose(false);
export const convTransposeCropBn = foldIntoTranspose(true);
