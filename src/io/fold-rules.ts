/**
 * The fold rules whose results a stock tfjs Layers model can express. A shift folded through a
 * zero-padded conv becomes a tapBias, a bias that differs on the border frame, which no stock
 * Keras layer adds; without those two rules such a BN stays a BatchNormalization layer.
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
    why: 'its border-exact tap bias has no stock tfjs Layers form (it folds in shapefold’s own format)',
  })),
};
