/**
 * The expression language of folding rules.
 *
 * A rule defines each parameter of the nodes it creates ONCE, as an expression over the matched
 * nodes' parameters and attributes. The engine evaluates that expression (`evaluate.ts`, float64,
 * rounded to float32 once at the end); the proof checker (`src/proof`) normalises the very same
 * expression. So a proof speaks about the code that runs, not about a second copy of the math.
 *
 * Three sorts, all plain JSON-like data:
 *   VExpr    a per-channel vector (or a scalar broadcast over channels): BN's gamma, eps, 1/std...
 *   WExpr    a conv / transposed conv / linear weight, possibly rescaled along its input or
 *            output channels (group-aware: the layout comes from the op that owns the weight)
 *   TapExpr  per-tap constants [Cout, kH, kW]: the part of a conv applied to a constant image
 *            that each kernel tap contributes; a conv adds sum over in-bounds taps, which is how
 *            a shift folded through zero padding stays exact at the borders for any H and W
 * References name a pattern role and a parameter: `param('bn.gamma')`, `attr('bn.eps')`.
 */

export type VExpr =
  /** A per-channel parameter (or vector attribute such as normalize's mean) of a matched node. */
  | { readonly kind: 'param'; readonly ref: string }
  /** A numeric attribute of a matched node (eps, alpha), broadcast over channels. */
  | { readonly kind: 'attr'; readonly ref: string }
  /** An exact rational constant n/d. */
  | { readonly kind: 'num'; readonly n: number; readonly d: number }
  | { readonly kind: 'add'; readonly args: readonly VExpr[] }
  | { readonly kind: 'mul'; readonly args: readonly VExpr[] }
  | { readonly kind: 'neg'; readonly arg: VExpr }
  | { readonly kind: 'recip'; readonly arg: VExpr }
  | { readonly kind: 'sqrt'; readonly arg: VExpr }
  /**
   * The per-channel scale s or shift t of an affine-per-channel node (y = s*x + t), defined by its
   * op in `affine.ts`: BatchNorm s = gamma/sqrt(var+eps), t = beta - mean*s, and so on.
   */
  | { readonly kind: 'affine'; readonly role: string; readonly part: 'scale' | 'shift' }
  /** Each element repeated `times` times in a row: a per-channel vector as per-feature after flatten. */
  | { readonly kind: 'repeat'; readonly arg: VExpr; readonly times: string }
  /** out[o] = sum over o's input channels i and all taps of W[o, i, taps] * v[i]: W applied to a constant. */
  | { readonly kind: 'matvec'; readonly weight: WExpr; readonly arg: VExpr }
  /** out[o] = sqrt(sum of W[o, ...]^2): the per-output-unit norm used by weight normalisation. */
  | { readonly kind: 'rowNorm'; readonly weight: WExpr };

export type WExpr =
  /** The weight parameter of a matched node; its layout is that node's op. */
  | { readonly kind: 'weight'; readonly ref: string }
  /** W with output unit o multiplied by s[o]. */
  | { readonly kind: 'scaleOut'; readonly weight: WExpr; readonly by: VExpr }
  /** W with input channel c multiplied by s[c] (group-aware). */
  | { readonly kind: 'scaleIn'; readonly weight: WExpr; readonly by: VExpr };

export type TapExpr =
  /** A matched conv's tapBias parameter (zeros when it has none). */
  | { readonly kind: 'tapParam'; readonly ref: string }
  /** taps[o, kh, kw] = sum over o's input channels i of W[o, i, kh, kw] * v[i]. */
  | { readonly kind: 'taps'; readonly weight: WExpr; readonly arg: VExpr }
  /** taps[o, kh, kw] * s[o]: a conv's tap bias when its output is rescaled (conv -> BN after a padded fold). */
  | { readonly kind: 'tapScaleOut'; readonly taps: TapExpr; readonly by: VExpr }
  | { readonly kind: 'tapAdd'; readonly args: readonly TapExpr[] };

export type ParamExpr = VExpr | WExpr | TapExpr;

const WEIGHT_KINDS = new Set(['weight', 'scaleOut', 'scaleIn']);
const TAP_KINDS = new Set(['tapParam', 'taps', 'tapScaleOut', 'tapAdd']);

export function isWeightExpr(e: ParamExpr): e is WExpr {
  return WEIGHT_KINDS.has(e.kind);
}

export function isTapExpr(e: ParamExpr): e is TapExpr {
  return TAP_KINDS.has(e.kind);
}

export function isVectorExpr(e: ParamExpr): e is VExpr {
  return !isWeightExpr(e) && !isTapExpr(e);
}

// Constructors: what rule files write.

export const param = (ref: string): VExpr => ({ kind: 'param', ref });
export const attr = (ref: string): VExpr => ({ kind: 'attr', ref });
export const num = (n: number, d = 1): VExpr => {
  if (!Number.isInteger(n) || !Number.isInteger(d) || d <= 0) throw new Error(`num(${n}, ${d}): an exact rational needs integers and d > 0`);
  return { kind: 'num', n, d };
};
export const add = (...args: VExpr[]): VExpr => ({ kind: 'add', args });
export const mul = (...args: VExpr[]): VExpr => ({ kind: 'mul', args });
export const neg = (arg: VExpr): VExpr => ({ kind: 'neg', arg });
export const sub = (a: VExpr, b: VExpr): VExpr => add(a, neg(b));
export const recip = (arg: VExpr): VExpr => ({ kind: 'recip', arg });
export const div = (a: VExpr, b: VExpr): VExpr => mul(a, recip(b));
export const sqrt = (arg: VExpr): VExpr => ({ kind: 'sqrt', arg });
export const affineScale = (role: string): VExpr => ({ kind: 'affine', role, part: 'scale' });
export const affineShift = (role: string): VExpr => ({ kind: 'affine', role, part: 'shift' });
export const repeat = (arg: VExpr, times: string): VExpr => ({ kind: 'repeat', arg, times });
export const matvec = (weight: WExpr, arg: VExpr): VExpr => ({ kind: 'matvec', weight, arg });
export const rowNorm = (weight: WExpr): VExpr => ({ kind: 'rowNorm', weight });

export const weight = (ref: string): WExpr => ({ kind: 'weight', ref });
export const scaleOut = (w: WExpr, by: VExpr): WExpr => ({ kind: 'scaleOut', weight: w, by });
export const scaleIn = (w: WExpr, by: VExpr): WExpr => ({ kind: 'scaleIn', weight: w, by });

export const tapParam = (ref: string): TapExpr => ({ kind: 'tapParam', ref });
export const taps = (w: WExpr, arg: VExpr): TapExpr => ({ kind: 'taps', weight: w, arg });
export const tapScaleOut = (t: TapExpr, by: VExpr): TapExpr => ({ kind: 'tapScaleOut', taps: t, by });
export const tapAdd = (...args: TapExpr[]): TapExpr => ({ kind: 'tapAdd', args });

/** The role part of a reference: 'bn' for 'bn.gamma'. */
export function roleOf(ref: string): string {
  const dot = ref.indexOf('.');
  if (dot <= 0) throw new Error(`reference '${ref}' must be 'role.name'`);
  return ref.slice(0, dot);
}

/** The name part of a reference: 'gamma' for 'bn.gamma'. */
export function nameOf(ref: string): string {
  return ref.slice(ref.indexOf('.') + 1);
}

/** A readable one-line rendering, for reports and proof traces. */
export function show(e: ParamExpr): string {
  switch (e.kind) {
    case 'param':
    case 'attr':
      return e.ref;
    case 'num':
      return e.d === 1 ? `${e.n}` : `${e.n}/${e.d}`;
    case 'add':
      return `(${e.args.map(show).join(' + ')})`;
    case 'mul':
      return e.args.map(show).join('*');
    case 'neg':
      return `-${show(e.arg)}`;
    case 'recip':
      return `1/${show(e.arg)}`;
    case 'sqrt':
      return `sqrt(${show(e.arg)})`;
    case 'affine':
      return `${e.part}(${e.role})`;
    case 'repeat':
      return `repeat(${show(e.arg)}, ${e.times})`;
    case 'matvec':
      return `${show(e.weight)}·${show(e.arg)}`;
    case 'rowNorm':
      return `‖${show(e.weight)}‖`;
    case 'weight':
      return e.ref;
    case 'scaleOut':
      return `scaleOut(${show(e.weight)}, ${show(e.by)})`;
    case 'scaleIn':
      return `scaleIn(${show(e.weight)}, ${show(e.by)})`;
    case 'tapParam':
      return e.ref;
    case 'taps':
      return `taps(${show(e.weight)}, ${show(e.arg)})`;
    case 'tapScaleOut':
      return `scaleOut(${show(e.taps)}, ${show(e.by)})`;
    case 'tapAdd':
      return `(${e.args.map(show).join(' + ')})`;
  }
}
