/**
 * The fold rules whose results a stock tfjs Layers model can express. A shift folded through a
 * zero-padded conv becomes a tapBias, a bias that differs on the border frame, which no stock
 * Keras layer adds; without those two rules such a BN stays a BatchNormalization layer.
 */
import type { Rule } from '../algebra/rule.ts';
import { ALL_RULES, bnConvPadded, normAffineConvPadded } from '../rules/index.ts';

export const LAYERS_EXPORTABLE_RULES: readonly Rule[] = ALL_RULES.filter((rule) => rule !== bnConvPadded && rule !== normAffineConvPadded);
