/**
 * The fold rules whose results a stock tfjs Layers model can express. A shift folded through a
 * zero-padded conv becomes a tapBias, a bias that differs on the border frame, which no stock
 * Keras layer adds; without those two rules such a BN stays a BatchNormalization layer. The exact
 * Layers rewrites all cost at least the BN's own pass (measured on wasm, see the README's Layers
 * section): a per-channel shift layer before the conv with the scale folded in (about 1.0x, the
 * BN's pass kept), the bias map as a second conv of the constant shift plus an Add (0.56-0.70x),
 * a 'valid' conv of the interior plus border strips and Concatenates (0.28-0.74x).
 */
import type { Rule } from '../algebra/rule.ts';
import type { FoldOptions } from '../fold/engine.ts';
import { ALL_RULES, bnConvPadded, normAffineConvPadded } from '../rules/index.ts';

export const LAYERS_EXPORTABLE_RULES: readonly Rule[] = ALL_RULES.filter((rule) => rule !== bnConvPadded && rule !== normAffineConvPadded);

/**
 * foldGraph options for a Layers output: the exportable rules, and the two tap-bias rules
 * withheld with the reason the report gives where they would have folded (e.g. a Rescaling or BN
 * before a zero-padded conv, which then stays a layer of its own).
 */
export const LAYERS_FOLD_OPTIONS: Pick<FoldOptions, 'rules' | 'withheld'> = {
  rules: LAYERS_EXPORTABLE_RULES,
  withheld: [bnConvPadded, normAffineConvPadded].map((rule) => ({
    rule,
    why:
      'its border-exact tap bias has no stock tfjs Layers form as fast as the BN: the padded zeros are not normalized, so the folded bias differs on the border frame; no Layers layer adds a per-position bias, and each exact Layers rewrite (a shift layer before the conv, the bias map as a second conv plus an Add, border strips plus Concatenate) keeps a pass as costly as the BN’s or adds more; it folds exactly in shapefold’s own format',
  })),
};
