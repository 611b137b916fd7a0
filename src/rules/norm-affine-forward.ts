/**
 * The affine part of GroupNorm, LayerNorm and InstanceNorm folded forward into the conv or linear
 * that follows; their statistics never fold (they depend on each input), so the norm stays,
 * with affine: false.
 *
 *   y = gamma ⊙ n(x) + beta,  n = the normalisation without affine
 *   conv_W(y) + b = conv_{scaleIn(W, gamma)}(n(x)) + matvec(W, beta) + b            (no padding)
 *   conv_W(pad0(y)) + b = conv_{scaleIn(W, gamma)}(pad0(n(x))) + tapBias(taps(W, beta)) + b
 *   W y + b = (W diag(gamma)) n(x) + W beta + b                                       (linear)
 *
 * The fold is exact when gamma and beta are per channel: always for GroupNorm and InstanceNorm,
 * for LayerNorm over 'c' or on [N, C]. A LayerNorm over C, H, W has PyTorch's element-wise
 * gamma, beta [C, H, W], which vary with the position: no conv or linear weight takes them.
 * Side conditions: the norm has affine parameters, and they are per channel.
 */
import { add, matvec, param, scaleIn, tapAdd, tapParam, taps, weight, type ParamExpr } from '../algebra/expr.ts';
import type { Rule } from '../algebra/rule.ts';

const NORMS = ['groupNorm', 'layerNorm', 'instanceNorm'] as const;
const gamma = param('norm.gamma');
const beta = param('norm.beta');

function forward(name: string, next: 'conv2d' | 'linear', padded: boolean): Rule {
  const W = weight('next.weight');
  const params: Record<string, ParamExpr> =
    next === 'linear'
      ? { weight: scaleIn(W, gamma), bias: add(param('next.bias'), matvec(W, beta)) }
      : padded
        ? { weight: scaleIn(W, gamma), bias: param('next.bias'), tapBias: tapAdd(tapParam('next.tapBias'), taps(W, beta)) }
        : { weight: scaleIn(W, gamma), bias: add(param('next.bias'), matvec(W, beta)), tapBias: tapParam('next.tapBias') };
  return {
    name,
    statement: padded
      ? 'conv_W(pad0(gamma*n(x) + beta)) + b = conv_{scaleIn(W,gamma)}(pad0(n(x))) + tapBias(taps(W,beta)) + b'
      : `${next === 'linear' ? 'W' : 'conv_W'}(gamma*n(x) + beta) + b = ${next === 'linear' ? '(W diag(gamma))' : 'conv_{scaleIn(W,gamma)}'}(n(x)) + matvec(W,beta) + b`,
    pattern: [
      { role: 'norm', ops: NORMS },
      { role: 'next', ops: [next] },
    ],
    replacement: [
      { role: 'norm', attrsFrom: 'norm', attrs: { affine: false }, params: {} },
      { role: 'folded', op: next, attrsFrom: 'next', attrs: { bias: true }, params },
    ],
    conditions: [
      { kind: 'hasParam', ref: 'norm.gamma' },
      { kind: 'perChannelAffine', role: 'norm' },
      ...(next === 'conv2d' ? [padded ? { kind: 'explicitPadding' as const, role: 'next' } : { kind: 'noPadding' as const, role: 'next' }] : []),
    ],
  };
}

export const normAffineConvValid = forward('norm-affine-conv-valid', 'conv2d', false);
export const normAffineConvPadded = forward('norm-affine-conv-padded', 'conv2d', true);
export const normAffineLinear = forward('norm-affine-linear', 'linear', false);
