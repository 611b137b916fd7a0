/**
 * What a chain computes on its input x, as a term, and the normal form two terms are compared in.
 *
 * Terms (`TensorTerm`): input x, s ⊙ T, const(v), T + T, pad0_P(T), crop_C(T), conv_W,g(T) (no
 * padding, no bias), convT_W,g(T), W T (linear), flatten_n(T), tapBias(T, g, P), act(T) for
 * relu, leakyRelu, relu6, sigmoid, tanh, and opaque statistics ops (a normalisation's
 * standardisation, a pool).
 * Geometry and padding are symbolic labels (the role whose attributes they are), so two nodes
 * share a geometry exactly when one copied the other's attributes.
 *
 * Normal form (`TensorNF`): a sum of terms  c ⊙ L_k(m_k ⊙ ... L_1(m_1 ⊙ B))  where c is a
 * per-channel polynomial, each L_i a bare linear step (conv/convT/linear of a bare weight,
 * pad0, crop, flatten), m_i the monomial its input is scaled by (rationals pulled out into c), and
 * B the base: x, the all-ones image 1, a tapBias atom, or a nonlinear/opaque op applied to a
 * normal form. Weights are reduced to bare refs by the laws in `axioms.ts`:
 *   conv_{scaleOut(scaleIn(W, a), b)}(T) = b ⊙ conv_W(a ⊙ T)
 * scales move out of pad0, crop and flatten, a crop keeps a constant image, constants through a
 * linear step become matvec coefficients, conv_W(pad0(m ⊙ 1)) becomes tapBias(taps(W, m)), and relu/leakyRelu let out the
 * part of their argument's common factor that is known to be >= 0. Nothing else moves.
 */
import type { TapExpr, VExpr, WExpr } from '../algebra/expr.ts';
import type { AxiomName } from './axioms.ts';
import {
  addPoly,
  commonFactor,
  invertMonomial,
  isOnePoly,
  isZeroPoly,
  monomial,
  monoPoly,
  mulPoly,
  negPoly,
  normalizeTaps,
  normalizeVector,
  normalizeWeight,
  ONE_POLY,
  repeatPoly,
  signOfAtom,
  showMonomial,
  showPoly,
  showTapAtom,
  tapKey,
  tapSumPoly,
  UNIT,
  atomPoly,
  type Fact,
  type Monomial,
  type NormalWeight,
  type Poly,
  type ScalarContext,
  type TapAtom,
} from './scalar.ts';
import { invR, isOne } from './rational.ts';

export type Activation = 'relu' | 'leakyRelu' | 'relu6' | 'sigmoid' | 'tanh';

export type TensorTerm =
  | { readonly kind: 'input' }
  | { readonly kind: 'scale'; readonly by: VExpr; readonly arg: TensorTerm }
  | { readonly kind: 'const'; readonly value: VExpr }
  | { readonly kind: 'add'; readonly args: readonly TensorTerm[] }
  | { readonly kind: 'pad'; readonly label: string; readonly arg: TensorTerm }
  | { readonly kind: 'crop'; readonly label: string; readonly arg: TensorTerm }
  | { readonly kind: 'conv' | 'convTranspose'; readonly weight: WExpr; readonly geometry: string; readonly arg: TensorTerm }
  | { readonly kind: 'linear'; readonly weight: WExpr; readonly arg: TensorTerm }
  | { readonly kind: 'flatten'; readonly times: string; readonly arg: TensorTerm }
  | { readonly kind: 'tapBias'; readonly taps: TapExpr; readonly geometry: string; readonly pad: string }
  /** `label` names leakyRelu's alpha (the role it comes from); unused by the others. */
  | { readonly kind: 'activation'; readonly fn: Activation; readonly label: string; readonly arg: TensorTerm }
  | { readonly kind: 'statistics'; readonly op: string; readonly label: string; readonly arg: TensorTerm };

export const input: TensorTerm = { kind: 'input' };

export type LinearStep =
  | { readonly kind: 'conv' | 'convTranspose' | 'linear'; readonly weight: string; readonly geometry: string; readonly input: Monomial }
  | { readonly kind: 'pad' | 'crop'; readonly label: string }
  | { readonly kind: 'flatten'; readonly times: string };

export type Base =
  | { readonly kind: 'input' }
  | { readonly kind: 'one' }
  | { readonly kind: 'tapBias'; readonly atom: TapAtom; readonly geometry: string; readonly pad: string }
  | { readonly kind: 'apply'; readonly fn: string; readonly arg: TensorNF };

export interface NFTerm {
  readonly coef: Poly;
  /** Innermost step first. */
  readonly steps: readonly LinearStep[];
  readonly base: Base;
  /** Identifies steps and base (not the coefficient): terms with equal keys add up. */
  readonly key: string;
}

export interface TensorNF {
  readonly terms: readonly NFTerm[];
  readonly key: string;
}

/** A conditional law that could not be used, and the rule condition that would allow it. */
export type Blocked =
  | { readonly kind: 'noPadding'; readonly role: string }
  | { readonly kind: 'inferenceStatistics'; readonly role: string }
  | { readonly kind: 'nonNegative'; readonly atoms: readonly string[]; readonly shown: string }
  /** A law's side condition on a value (sqrt of p >= 0, 1/p for p != 0) that nothing establishes. */
  | { readonly kind: 'requires'; readonly fact: Fact; readonly key: string; readonly shown: string; readonly law: AxiomName };

export interface TensorContext extends ScalarContext {
  /** A noPadding condition holds for this padding label. */
  unpadded(label: string): boolean;
  /** Sets of atom keys whose product is known >= 0 (from nonNegative conditions). */
  readonly nonNegativeProducts: readonly ReadonlySet<string>[];
  block(b: Blocked): void;
  note(text: string): void;
}

// ---------------------------------------------------------------- keys and construction

function stepKey(s: LinearStep): string {
  switch (s.kind) {
    case 'pad':
    case 'crop':
      return `${s.kind}[${s.label}]`;
    case 'flatten':
      return `flatten[${s.times}]`;
    default:
      return `${s.kind}[${s.weight}@${s.geometry}](${s.input.key})`;
  }
}

function baseKey(b: Base): string {
  switch (b.kind) {
    case 'input':
      return 'x';
    case 'one':
      return '1';
    case 'tapBias':
      return `tapBias[${tapKey(b.atom)}@${b.geometry};${b.pad}]`;
    case 'apply':
      return `${b.fn}(${b.arg.key})`;
  }
}

function term(coef: Poly, steps: readonly LinearStep[], base: Base): NFTerm {
  return { coef, steps, base, key: [...steps].reverse().map(stepKey).concat(baseKey(base)).join(' . ') };
}

function nf(terms: Iterable<NFTerm>): TensorNF {
  const acc = new Map<string, NFTerm>();
  for (const t of terms) {
    const prev = acc.get(t.key);
    acc.set(t.key, prev === undefined ? t : { ...prev, coef: addPoly(prev.coef, t.coef) });
  }
  const sorted = [...acc.values()].filter((t) => !isZeroPoly(t.coef)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { terms: sorted, key: sorted.map((t) => `${t.coef.key} ⊙ ${t.key}`).join(' + ') };
}

const addNF = (...parts: readonly TensorNF[]): TensorNF => nf(parts.flatMap((p) => p.terms));
const scaleNF = (a: TensorNF, by: Poly, ctx: TensorContext): TensorNF => nf(a.terms.map((t) => ({ ...t, coef: mulPoly(t.coef, by, ctx) })));

// ---------------------------------------------------------------- normalisation

export function normalizeTensor(t: TensorTerm, ctx: TensorContext): TensorNF {
  switch (t.kind) {
    case 'input':
      return nf([term(ONE_POLY, [], { kind: 'input' })]);
    case 'scale':
      return scaleNF(normalizeTensor(t.arg, ctx), normalizeVector(t.by, ctx), ctx);
    case 'const':
      return nf([term(normalizeVector(t.value, ctx), [], { kind: 'one' })]);
    case 'add':
      return addNF(...t.args.map((a) => normalizeTensor(a, ctx)));
    case 'pad':
      return pad(t.label, normalizeTensor(t.arg, ctx), ctx);
    case 'crop':
      return crop(t.label, normalizeTensor(t.arg, ctx), ctx);
    case 'conv':
    case 'convTranspose':
      return applyWeight(t.kind, normalizeWeight(t.weight, ctx), t.geometry, normalizeTensor(t.arg, ctx), ctx);
    case 'linear':
      return applyWeight('linear', normalizeWeight(t.weight, ctx), '', normalizeTensor(t.arg, ctx), ctx);
    case 'flatten':
      return flatten(t.times, normalizeTensor(t.arg, ctx), ctx);
    case 'tapBias':
      return tapBias(normalizeTaps(t.taps, ctx).terms, t.geometry, t.pad, ctx);
    case 'activation':
      return activation(t.fn, t.label, normalizeTensor(t.arg, ctx), ctx);
    case 'statistics':
      return nf([term(ONE_POLY, [], { kind: 'apply', fn: `${t.op}[${t.label}]`, arg: normalizeTensor(t.arg, ctx) })]);
  }
}

function useScaling(a: TensorNF, ctx: TensorContext, additive: AxiomName, scale: AxiomName): void {
  if (a.terms.length > 1) ctx.use(additive);
  if (a.terms.some((t) => !isOnePoly(t.coef))) ctx.use(scale);
}

function pad(label: string, a: TensorNF, ctx: TensorContext): TensorNF {
  useScaling(a, ctx, 'pad-additive', 'pad-scale');
  return nf(a.terms.map((t) => term(t.coef, [...t.steps, { kind: 'pad', label }], t.base)));
}

/** A crop drops border pixels: a constant image stays the same constant, anything else keeps the step. */
function crop(label: string, a: TensorNF, ctx: TensorContext): TensorNF {
  useScaling(a, ctx, 'crop-additive', 'crop-scale');
  return nf(
    a.terms.map((t) => {
      if (t.steps.length === 0 && t.base.kind === 'one') {
        ctx.use('crop-const');
        return t;
      }
      return term(t.coef, [...t.steps, { kind: 'crop', label }], t.base);
    }),
  );
}

function flatten(times: string, a: TensorNF, ctx: TensorContext): TensorNF {
  return nf(
    a.terms.map((t) => {
      const coef = repeatPoly(t.coef, times, ctx);
      if (t.steps.length === 0 && t.base.kind === 'one') {
        ctx.use('flatten-const');
        return term(coef, [], t.base);
      }
      if (!isOnePoly(t.coef)) ctx.use('flatten-scale');
      return term(coef, [...t.steps, { kind: 'flatten', times }], t.base);
    }),
  );
}

const AXIOMS_OF = {
  conv: { additive: 'conv-additive', in: 'conv-scale-in', out: 'conv-scale-out' },
  convTranspose: { additive: 'conv-transpose-additive', in: 'conv-transpose-scale-in', out: 'conv-transpose-scale-out' },
  linear: { additive: 'linear-additive', in: 'linear-scale-in', out: 'linear-scale-out' },
} as const satisfies Record<string, Record<string, AxiomName>>;

/** out ⊙ step_W(in ⊙ A): each monomial of in ⊙ coef becomes the scale of one step's input. */
function applyWeight(kind: 'conv' | 'convTranspose' | 'linear', w: NormalWeight, geometry: string, a: TensorNF, ctx: TensorContext): TensorNF {
  const laws = AXIOMS_OF[kind];
  if (a.terms.length > 1) ctx.use(laws.additive);
  if (!isOnePoly(w.out)) ctx.use(laws.out);
  const out: NFTerm[] = [];
  for (const t of a.terms) {
    const scaled = mulPoly(w.in, t.coef, ctx);
    if (scaled.terms.some((s) => s.mono.factors.length > 0)) ctx.use(laws.in);
    for (const s of scaled.terms) {
      for (const stepped of step(kind, w.ref, geometry, s.mono, t, ctx)) {
        out.push({ ...stepped, coef: mulPoly(mulPoly(stepped.coef, monoPoly(UNIT, s.coef), ctx), w.out, ctx) });
      }
    }
  }
  return nf(out);
}

/** One bare step applied to m ⊙ (the steps and base of t), with coefficient 1. */
function step(kind: 'conv' | 'convTranspose' | 'linear', weight: string, geometry: string, m: Monomial, t: NFTerm, ctx: TensorContext): readonly NFTerm[] {
  const matvec = atomPoly({ kind: 'matvec', weight, arg: m });
  if (kind === 'linear' && t.steps.length === 0 && t.base.kind === 'one') {
    ctx.use('linear-const');
    return [term(matvec, [], t.base)];
  }
  const [only] = t.steps;
  if (kind === 'conv' && t.steps.length === 1 && only.kind === 'pad' && t.base.kind === 'one') {
    ctx.use('conv-pad-const');
    return tapBias([{ atom: { kind: 'taps', weight, arg: m }, coef: ONE_POLY }], geometry, only.label, ctx).terms;
  }
  return [term(ONE_POLY, [...t.steps, { kind, weight, geometry, input: m }], t.base)];
}

function tapBias(parts: readonly { readonly atom: TapAtom; readonly coef: Poly }[], geometry: string, padLabel: string, ctx: TensorContext): TensorNF {
  if (parts.length === 0) return nf([]);
  if (ctx.unpadded(padLabel)) {
    ctx.use('conv-const');
    return nf(parts.map((p) => term(mulPoly(p.coef, tapSumPoly(p.atom), ctx), [], { kind: 'one' })));
  }
  if (!padLabel.includes('{')) ctx.block({ kind: 'noPadding', role: padLabel });
  return nf(parts.map((p) => term(p.coef, [], { kind: 'tapBias', atom: p.atom, geometry, pad: padLabel })));
}

const HOMOGENEOUS: Partial<Record<Activation, AxiomName>> = { relu: 'relu-homogeneous', leakyRelu: 'leaky-relu-homogeneous' };

/**
 * act(A). For relu and leakyRelu, A's common factor r·g (r a positive rational, g a monomial)
 * leaves the activation as far as it is known to be >= 0: atoms with an even exponent, square
 * roots and norms always; the other atoms only in products a nonNegative condition covers.
 */
function activation(fn: Activation, label: string, a: TensorNF, ctx: TensorContext): TensorNF {
  const name = fn === 'leakyRelu' ? `leakyRelu[${label}]` : fn;
  const common = commonFactor(a.terms.map((t) => t.coef));
  const constantPart = a.terms.filter((t) => t.base.kind === 'tapBias' || (t.base.kind === 'one' && t.steps.length === 0));
  if (constantPart.length > 0 && constantPart.length < a.terms.length) {
    ctx.note(`${fn} of a sum with a constant part (${constantPart.map((t) => showPoly(t.coef)).join(', ')}): no shift commutes with ${fn}`);
  }
  const law = HOMOGENEOUS[fn];
  if (law === undefined) {
    if (common.mono.factors.length > 0 || !isOne(common.coef)) {
      const shown = showPoly(monoPoly(common.mono, common.coef));
      ctx.note(`${fn} is not positively homogeneous: the factor ${shown} cannot move out of it`);
    }
    return nf([term(ONE_POLY, [], { kind: 'apply', fn: name, arg: a })]);
  }
  const signed = new Set(common.mono.factors.filter((f) => f.exp % 2 !== 0 && !signOfAtom(f.atom, ctx).nonNegative).map((f) => f.key));
  for (const product of ctx.nonNegativeProducts) {
    if ([...product].every((k) => signed.has(k))) for (const k of product) signed.delete(k);
  }
  if (signed.size > 0) {
    const unknown = common.mono.factors.filter((f) => signed.has(f.key));
    ctx.block({ kind: 'nonNegative', atoms: unknown.map((f) => f.key), shown: showMonomial(monomial(unknown.map((f) => ({ ...f, exp: 1 })))) });
  }
  const out = monomial(common.mono.factors.map((f) => (signed.has(f.key) ? { ...f, exp: f.exp - Math.sign(f.exp) } : f)));
  const pulled = monoPoly(out, common.coef);
  if (isOnePoly(pulled)) return nf([term(ONE_POLY, [], { kind: 'apply', fn: name, arg: a })]);
  ctx.use(law);
  const inner = scaleNF(a, monoPoly(invertMonomial(out), invR(common.coef)), ctx);
  return nf([term(pulled, [], { kind: 'apply', fn: name, arg: inner })]);
}

// ---------------------------------------------------------------- display and comparison

function showBase(b: Base): string {
  switch (b.kind) {
    case 'input':
      return 'x';
    case 'one':
      return '1';
    case 'tapBias':
      return `tapBias(${showTapAtom(b.atom)}; geometry ${b.geometry}, padding ${b.pad})`;
    case 'apply':
      return `${b.fn}(${showTensor(b.arg)})`;
  }
}

function showScaled(m: Monomial, inner: string): string {
  return m.factors.length === 0 ? inner : `${showMonomial(m)} ⊙ ${inner}`;
}

function showChain(t: Pick<NFTerm, 'steps' | 'base'>): string {
  return t.steps.reduce((inner, s) => {
    switch (s.kind) {
      case 'pad':
        return `pad0[${s.label}](${inner})`;
      case 'crop':
        return `crop[${s.label}](${inner})`;
      case 'flatten':
        return `flatten[${s.times}](${inner})`;
      case 'linear':
        return `${s.weight}·(${showScaled(s.input, inner)})`;
      default:
        return `${s.kind}[${s.weight}; ${s.geometry}](${showScaled(s.input, inner)})`;
    }
  }, showBase(t.base));
}

function showNFTerm(t: NFTerm): string {
  const chain = showChain(t);
  if (chain === '1') return showPoly(t.coef);
  if (isOnePoly(t.coef)) return chain;
  return `${t.coef.terms.length > 1 ? `(${showPoly(t.coef)})` : showPoly(t.coef)} ⊙ ${chain}`;
}

const byRank = (a: NFTerm, b: NFTerm): number => RANK[a.base.kind] - RANK[b.base.kind] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** x terms first, then constants, border terms and nonlinear terms; a negated term as a subtraction. */
export function showTensor(a: TensorNF): string {
  if (a.terms.length === 0) return '0';
  return [...a.terms].sort(byRank).reduce((text, t, i) => {
    const [only] = t.coef.terms;
    const negated = t.coef.terms.length === 1 && only.coef.n < 0n;
    const shown = showNFTerm(negated ? { ...t, coef: negPoly(t.coef) } : t);
    if (i === 0) return negated ? `-${shown}` : shown;
    return `${text} ${negated ? '-' : '+'} ${shown}`;
  }, '');
}

/** What kind of term this is, in words, for reports. */
function describeTerm(t: Pick<NFTerm, 'steps' | 'base'>): string {
  if (t.steps.length === 0 && t.base.kind === 'one') return 'constant term';
  const chain = showChain(t);
  switch (t.base.kind) {
    case 'input':
      return `term ${chain}`;
    case 'one':
      return `constant-image term ${chain}`;
    case 'tapBias':
      return `border term ${chain}`;
    case 'apply':
      return `nonlinear term ${chain}`;
  }
}

/** The nonlinear and opaque ops applied anywhere in a normal form, nested ones included. */
export function appliedOps(a: TensorNF, into: Set<string> = new Set()): Set<string> {
  for (const t of a.terms) {
    if (t.base.kind !== 'apply') continue;
    into.add(t.base.fn);
    appliedOps(t.base.arg, into);
  }
  return into;
}

const RANK: Record<Base['kind'], number> = { input: 0, one: 1, tapBias: 2, apply: 3 };

export interface TermDifference {
  readonly where: string;
  readonly lhs?: Poly;
  readonly rhs?: Poly;
}

/** The terms whose coefficients differ, x terms first, then constants, borders, nonlinear terms. */
export function differences(lhs: TensorNF, rhs: TensorNF): readonly TermDifference[] {
  const byKey = new Map<string, { t: NFTerm; lhs?: Poly; rhs?: Poly }>();
  for (const t of lhs.terms) byKey.set(t.key, { t, lhs: t.coef });
  for (const t of rhs.terms) byKey.set(t.key, { ...(byKey.get(t.key) ?? { t }), rhs: t.coef });
  return [...byKey.values()]
    .filter((d) => d.lhs?.key !== d.rhs?.key)
    .sort((a, b) => byRank(a.t, b.t))
    .map((d) => ({ where: describeTerm(d.t), lhs: d.lhs, rhs: d.rhs }));
}
