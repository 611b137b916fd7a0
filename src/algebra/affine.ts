/**
 * Nodes that act on each channel as y = s*x + t (at inference), with s and t defined once here:
 *
 *   batchNorm, batchRenorm (eval)  s = gamma / sqrt(runningVar + eps)   t = beta - runningMean * s
 *   scaleShift                     s = scale                            t = shift
 *   normalize                      s = 1 / std                          t = -mean / std
 *
 * Batch Renorm at inference is exactly BatchNorm; a frozen BatchNorm behaves the same in train
 * mode. Rules refer to these through `affineScale(role)` / `affineShift(role)`; the proof checker
 * expands them here and compares with its own, separately written denotation of each op, so a
 * slip in this table (a missing eps, say) fails every proof that uses it.
 */
import type { OpKind } from '../ir/graph.ts';
import { add, attr, div, mul, neg, param, recip, sqrt, sub, type VExpr } from './expr.ts';

export const AFFINE_OPS = ['batchNorm', 'batchRenorm', 'scaleShift', 'normalize'] as const satisfies readonly OpKind[];
export type AffineOp = (typeof AFFINE_OPS)[number];

export function isAffineOp(op: OpKind): op is AffineOp {
  return (AFFINE_OPS as readonly OpKind[]).includes(op);
}

export function affineOf(op: AffineOp, role: string): { readonly scale: VExpr; readonly shift: VExpr } {
  const p = (name: string) => param(`${role}.${name}`);
  switch (op) {
    case 'batchNorm':
    case 'batchRenorm': {
      const scale = div(p('gamma'), sqrt(add(p('runningVar'), attr(`${role}.eps`))));
      return { scale, shift: sub(p('beta'), mul(p('runningMean'), scale)) };
    }
    case 'scaleShift':
      return { scale: p('scale'), shift: p('shift') };
    case 'normalize':
      return { scale: recip(p('std')), shift: neg(div(p('mean'), p('std'))) };
  }
}
