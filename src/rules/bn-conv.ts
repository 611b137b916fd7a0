/**
 * BN -> conv (and input preprocessing normalize(mean, std) -> first conv, and any per-channel
 * affine before a conv). Two rules, by the conv's padding.
 *
 * bn-conv-valid, no zero padding:
 *
 *   conv_W(s ⊙ x + t) + b = conv_{scaleIn(W, s)}(x) + (matvec(W, t) + b)
 *
 * matvec(W, t)[o] sums W[o, i, kh, kw] * t[c(i)] over o's group's input channels and all taps: with
 * no padding every tap always reads the shifted input, so the shift is a per-channel constant.
 *
 * bn-conv-padded, zero padding, exact at the borders:
 *
 *   conv_W(pad0(s ⊙ x + t)) + b = conv_{scaleIn(W, s)}(pad0(x)) + conv_W(pad0(const t)) + b
 *
 * The padded zeros are not normalised, so the shift's contribution is not a per-channel constant:
 * it is full in the interior and partial on a border frame. It is kept exactly as a tap bias,
 * taps(W, t)[o, kh, kw] = sum_i W[o, i, kh, kw] t[c(i)], which the conv adds over the taps that
 * read inside the unpadded input: fixed-size data, correct for every H and W. Every other tool
 * either refuses this fold or adds a per-channel constant, wrong at the borders; the checker
 * rejects that naive rule, since conv_W(pad0(const t)) = const(matvec(W, t)) needs noPadding.
 *
 * Side conditions: no padding, or explicit padding (a 'same' padding is resolved from literal
 * sizes first); running statistics. Where both apply the engine tries bn-conv-valid first: a plain
 * bias is cheaper to run than a tap bias.
 */
import { AFFINE_OPS } from '../algebra/affine.ts';
import { add, affineScale, affineShift, matvec, param, scaleIn, tapAdd, tapParam, taps, weight } from '../algebra/expr.ts';
import type { Rule } from '../algebra/rule.ts';

function foldIntoConv(padded: boolean): Rule {
  const W = weight('conv.weight');
  const t = affineShift('bn');
  return {
    name: padded ? 'bn-conv-padded' : 'bn-conv-valid',
    statement: padded
      ? 'conv_W(pad0(s*x + t)) + b = conv_{scaleIn(W,s)}(pad0(x)) + tapBias(taps(W,t)) + b'
      : 'conv_W(s*x + t) + b = conv_{scaleIn(W,s)}(x) + matvec(W,t) + b   (no padding)',
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
        params: padded
          ? { weight: scaleIn(W, affineScale('bn')), bias: param('conv.bias'), tapBias: tapAdd(tapParam('conv.tapBias'), taps(W, t)) }
          : { weight: scaleIn(W, affineScale('bn')), bias: add(param('conv.bias'), matvec(W, t)), tapBias: tapParam('conv.tapBias') },
      },
    ],
    conditions: [
      padded ? { kind: 'explicitPadding', role: 'conv' } : { kind: 'noPadding', role: 'conv' },
      { kind: 'inferenceStatistics', role: 'bn' },
    ],
  };
}

export const bnConvValid = foldIntoConv(false);
export const bnConvPadded = foldIntoConv(true);
