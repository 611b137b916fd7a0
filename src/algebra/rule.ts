/**
 * A folding rule as data: the chain of nodes it matches, the chain it puts in their place with
 * every new parameter defined as an expression (`expr.ts`), and the conditions under which the
 * two are equal. The engine (`src/fold`) applies rules; the checker (`src/proof`) proves them;
 * neither imports the other, both read this.
 */
import type { OpKind } from '../ir/graph.ts';
import type { ParamExpr, VExpr } from './expr.ts';

/** One node of a matched chain; `ops` lists the ops it may be (each is proved separately). */
export interface PatternNode {
  readonly role: string;
  readonly ops: readonly OpKind[];
}

/** One node of the replacement chain. */
export interface ReplacementNode {
  readonly role: string;
  /** The new node's op; omitted, the op of the `attrsFrom` role (an activation or norm kept as it was). */
  readonly op?: OpKind;
  /**
   * The matched role whose attributes are copied (geometry, padding, channel counts). Omitted for
   * ops whose attributes follow from the input shape alone: scaleShift (numChannels = C) and the
   * parameter-free activations relu, relu6, sigmoid, tanh.
   */
  readonly attrsFrom?: string;
  /** Attribute overrides, e.g. `{ bias: true }`. */
  readonly attrs?: Readonly<Record<string, unknown>>;
  readonly params: Readonly<Record<string, ParamExpr>>;
}

/**
 * What must hold for the rewrite to be exact. Structural conditions are checked on attributes
 * and graph shape; value conditions on the concrete parameter values (in float64). The checker
 * may use a conditional axiom only if the rule states the condition it needs.
 */
export type Condition =
  /** The role's conv applies no zero padding. */
  | { readonly kind: 'noPadding'; readonly role: string }
  /** The role's padding is explicit or 'valid' (a 'same' padding is resolved before matching). */
  | { readonly kind: 'explicitPadding'; readonly role: string }
  /** The matched node has this parameter (e.g. a groupNorm built with affine: true has gamma). */
  | { readonly kind: 'hasParam'; readonly ref: string }
  /**
   * The role's gamma and beta are one value per channel. A LayerNorm over C, H, W has element-wise
   * ones over [C, H, W], which vary with the position and so move into no conv weight.
   */
  | { readonly kind: 'perChannelAffine'; readonly role: string }
  /** The role's normalisation uses its running statistics (eval mode, or a frozen BN). */
  | { readonly kind: 'inferenceStatistics'; readonly role: string }
  /** Every element of the vector is >= 0 (e.g. a scale commuted through ReLU). */
  | { readonly kind: 'nonNegative'; readonly expr: VExpr; readonly what: string }
  /** Every element is exactly 0 (e.g. a shift that must vanish). */
  | { readonly kind: 'zero'; readonly expr: VExpr; readonly what: string }
  /** Every element is finite and non-zero (e.g. a scale that is divided by). */
  | { readonly kind: 'nonZero'; readonly expr: VExpr; readonly what: string }
  /**
   * Some element differs from 1: a progress guard so that a rule never rewrites a node into
   * itself. It does not affect exactness; the checker ignores it.
   */
  | { readonly kind: 'notAllOne'; readonly expr: VExpr; readonly what: string };

export interface Rule {
  /** Stable identifier, e.g. 'conv-bn'. */
  readonly name: string;
  /** The identity in one line of math, for reports and `shapefold prove`. */
  readonly statement: string;
  /** A producer-to-consumer chain; inner nodes must have exactly one consumer and not be outputs. */
  readonly pattern: readonly PatternNode[];
  readonly replacement: readonly ReplacementNode[];
  readonly conditions: readonly Condition[];
}
