/**
 * Normal form of per-channel vector expressions (VExpr): Laurent polynomials with exact rational
 * coefficients over atoms
 *
 *   param(ref) | attr(ref) | sqrt(p) | (p) | matvec(W, m) | rowNorm(W) | tapSum(T) | repeat(atom, n)
 *
 * where p is a normalised polynomial, W a bare weight (matvec) or a normalised weight (rowNorm),
 * and m a monomial with coefficient 1.
 *
 *   sqrt(p)  the real square root, formed only where p >= 0 is established (law sqrt-square);
 *            sqrt(p)^2 = p, and sqrt(p)^-1 only where p > 0.
 *   (p)      a sum kept whole as one factor so that p·(1/p) cancels by adding exponents; a
 *            negative power only where p != 0 is established (law reciprocal). A positive power
 *            is expanded, so no atom is ever a polynomial in disguise.
 *
 * "Established" means: by the IR's validation of the ops' attributes and parameters (domain.ts),
 * by the rule's own nonNegative / nonZero conditions, or by the sign of the expression built from
 * those. A law whose side condition is not established is still applied, so the normal form can be
 * shown, but the case fails and names the condition it would need (`ScalarContext.unmet`).
 *
 * Every structure carries a `key`: a canonical string built from sorted parts, so two
 * normalised expressions are equal exactly when their keys are. Weights normalise to
 * (ref, out-scale, in-scale) and per-tap constants to sums of coefficient ⊙ tap atom.
 */
import { affineOf, isAffineOp } from '../algebra/affine.ts';
import type { TapExpr, VExpr, WExpr } from '../algebra/expr.ts';
import type { OpKind } from '../ir/graph.ts';
import type { AxiomName } from './axioms.ts';
import { ProofError } from './errors.ts';
import { addR, contentR, invR, isOne, isZero, keyR, mulR, negR, ONE, rational, sqrtR, type Rational } from './rational.ts';

export type Atom =
  | { readonly kind: 'param'; readonly ref: string }
  | { readonly kind: 'attr'; readonly ref: string }
  | { readonly kind: 'root'; readonly base: Poly }
  | { readonly kind: 'group'; readonly base: Poly }
  | { readonly kind: 'matvec'; readonly weight: string; readonly arg: Monomial }
  | { readonly kind: 'rowNorm'; readonly weight: NormalWeight }
  | { readonly kind: 'tapSum'; readonly ref: string }
  | { readonly kind: 'repeat'; readonly atom: Atom; readonly times: string };

export interface Factor {
  readonly atom: Atom;
  readonly key: string;
  readonly exp: number;
}

export interface Monomial {
  readonly factors: readonly Factor[];
  readonly key: string;
}

export interface PolyTerm {
  readonly coef: Rational;
  readonly mono: Monomial;
}

export interface Poly {
  readonly terms: readonly PolyTerm[];
  readonly key: string;
}

/** W scaled on its output units by `out` and on its input channels by `in` (these commute). */
export interface NormalWeight {
  readonly ref: string;
  readonly out: Poly;
  readonly in: Poly;
  readonly key: string;
}

export type TapAtom =
  | { readonly kind: 'tapParam'; readonly ref: string }
  | { readonly kind: 'taps'; readonly weight: string; readonly arg: Monomial };

/** Σ coef ⊙_out atom: per-tap constants [Cout, kH, kW]. */
export interface TapPoly {
  readonly terms: readonly { readonly atom: TapAtom; readonly key: string; readonly coef: Poly }[];
}

/** A fact about every element of a vector. */
export type Fact = 'nonNegative' | 'nonZero';

/** What is known of the sign of every element of a vector (all false: nothing is known). */
export interface Sign {
  readonly nonNegative: boolean;
  readonly nonPositive: boolean;
  readonly nonZero: boolean;
}

/** What the normaliser needs from the proof case it works in. */
export interface ScalarContext {
  /** The op a pattern role has in this case (affine(role) expands through it). */
  opOf(role: string): OpKind | undefined;
  /** A parameter's value forced by a stated zero condition, if any. */
  substitute(ref: string): Poly | undefined;
  use(axiom: AxiomName): void;
  /** The facts the domain or a condition states of an atom or polynomial, by its key. */
  stated(key: string): ReadonlySet<Fact> | undefined;
  /** A law needed `fact` of `p` and nothing establishes it: the case must fail, naming it. */
  unmet(fact: Fact, p: Poly, law: AxiomName): void;
}

// ---------------------------------------------------------------- keys and construction

export function atomKey(a: Atom): string {
  switch (a.kind) {
    case 'param':
      return `p:${a.ref}`;
    case 'attr':
      return `a:${a.ref}`;
    case 'root':
      return `sqrt(${a.base.key})`;
    case 'group':
      return `(${a.base.key})`;
    case 'matvec':
      return `mv(${a.weight};${a.arg.key})`;
    case 'rowNorm':
      return `rn(${a.weight.key})`;
    case 'tapSum':
      return `ts(${a.ref})`;
    case 'repeat':
      return `rep(${atomKey(a.atom)};${a.times})`;
  }
}

export function monomial(factors: Iterable<Factor>): Monomial {
  const sorted = [...factors].filter((f) => f.exp !== 0).sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return { factors: sorted, key: sorted.map((f) => `${f.key}^${f.exp}`).join('*') };
}

export const UNIT: Monomial = monomial([]);

function poly(terms: Iterable<PolyTerm>): Poly {
  const sorted = [...terms].filter((t) => !isZero(t.coef)).sort((x, y) => (x.mono.key < y.mono.key ? -1 : x.mono.key > y.mono.key ? 1 : 0));
  return { terms: sorted, key: sorted.map((t) => `${keyR(t.coef)}:${t.mono.key}`).join(' + ') };
}

const constPoly = (r: Rational): Poly => poly([{ coef: r, mono: UNIT }]);
const ZERO_POLY: Poly = poly([]);
export const ONE_POLY: Poly = constPoly(ONE);
export const atomPoly = (atom: Atom, exp = 1): Poly => poly([{ coef: ONE, mono: monomial([{ atom, key: atomKey(atom), exp }]) }]);
export const monoPoly = (mono: Monomial, coef: Rational = ONE): Poly => poly([{ coef, mono }]);
export const isZeroPoly = (p: Poly): boolean => p.terms.length === 0;
export const isOnePoly = (p: Poly): boolean => p.key === ONE_POLY.key;

/** Sums polynomials, merging equal monomials. */
export function addPoly(...ps: readonly Poly[]): Poly {
  const acc = new Map<string, PolyTerm>();
  for (const p of ps) {
    for (const t of p.terms) {
      const prev = acc.get(t.mono.key);
      acc.set(t.mono.key, prev === undefined ? t : { coef: addR(prev.coef, t.coef), mono: t.mono });
    }
  }
  return poly(acc.values());
}

export const scalePoly = (p: Poly, r: Rational): Poly => poly(p.terms.map((t) => ({ coef: mulR(t.coef, r), mono: t.mono })));
export const negPoly = (p: Poly): Poly => scalePoly(p, negR(ONE));

/**
 * The product of factors given with raw exponents: equal atoms add up; sqrt(p)^k with |k| >= 2
 * gives up p^trunc(k/2) (law sqrt-square, sqrt(p) being formed only for p >= 0), as the factor
 * (p) so that it still cancels against a 1/p; then every positive power of a (p) is expanded.
 */
function reduceFactors(factors: readonly Factor[], ctx: ScalarContext): Poly {
  const merged = new Map<string, Factor>();
  const put = (f: Factor) => {
    const prev = merged.get(f.key);
    merged.set(f.key, prev === undefined ? f : { ...prev, exp: prev.exp + f.exp });
  };
  for (const f of factors) put(f);
  let coef = ONE;
  for (const [key, f] of [...merged]) {
    if (f.atom.kind !== 'root' || Math.abs(f.exp) < 2) continue;
    const k = Math.trunc(f.exp / 2);
    merged.set(key, { ...f, exp: f.exp - 2 * k });
    ctx.use('sqrt-square');
    const base = f.atom.base;
    if (base.terms.length === 1) {
      // sqrt(c·m)^(2k) = c^k·m^k; for k < 0 the root was established non-zero, so c and m are.
      const [t] = base.terms;
      for (let i = 0; i < Math.abs(k); i++) coef = k > 0 ? mulR(coef, t.coef) : mulR(coef, invR(t.coef));
      for (const g of t.mono.factors) put({ ...g, exp: g.exp * k });
    } else {
      const group: Atom = { kind: 'group', base };
      put({ atom: group, key: atomKey(group), exp: k });
    }
  }
  const expansions: Poly[] = [];
  for (const [key, f] of merged) {
    if (f.atom.kind === 'group' && f.exp > 0) {
      merged.delete(key);
      expansions.push(powPoly(f.atom.base, f.exp, ctx));
    }
  }
  return scalePoly(expansions.reduce((a, b) => mulPoly(a, b, ctx), monoPoly(monomial(merged.values()))), coef);
}

const mulMonomials = (a: Monomial, b: Monomial, ctx: ScalarContext): Poly => reduceFactors([...a.factors, ...b.factors], ctx);

/**
 * The product of several polynomials. A factor with several terms enters whole, as (p), and all
 * exponents are added before anything expands, so p * (1/p) cancels wherever the two meet in one
 * product.
 */
function productPoly(factors: readonly Poly[], ctx: ScalarContext): Poly {
  if (factors.some(isZeroPoly)) return ZERO_POLY;
  let coef = ONE;
  const raw: Factor[] = [];
  for (const p of factors) {
    if (p.terms.length === 1) {
      coef = mulR(coef, p.terms[0].coef);
      raw.push(...p.terms[0].mono.factors);
    } else {
      const atom: Atom = { kind: 'group', base: p };
      raw.push({ atom, key: atomKey(atom), exp: 1 });
    }
  }
  return scalePoly(reduceFactors(raw, ctx), coef);
}

export function mulPoly(p: Poly, q: Poly, ctx: ScalarContext): Poly {
  const parts: Poly[] = [];
  for (const s of p.terms) {
    for (const t of q.terms) parts.push(scalePoly(mulMonomials(s.mono, t.mono, ctx), mulR(s.coef, t.coef)));
  }
  return addPoly(...parts);
}

function powPoly(p: Poly, k: number, ctx: ScalarContext): Poly {
  let result = ONE_POLY;
  for (let i = 0; i < k; i++) result = mulPoly(result, p, ctx);
  return result;
}

export const invertMonomial = (m: Monomial): Monomial => monomial(m.factors.map((f) => ({ ...f, exp: -f.exp })));

/** Records `law`'s side condition `fact` of `p` as unmet unless the signs establish it. */
function require(fact: Fact, p: Poly, law: AxiomName, ctx: ScalarContext): void {
  const sign = signOfPoly(p, ctx);
  if (!(fact === 'nonZero' ? sign.nonZero : sign.nonNegative)) ctx.unmet(fact, p, law);
}

/** 1/p, for p != 0 (law reciprocal): a monomial's negated exponents, or the factor (p)^-1. */
function recipPoly(p: Poly, ctx: ScalarContext): Poly {
  if (isZeroPoly(p)) throw new ProofError('division by an expression that is exactly 0');
  require('nonZero', p, 'reciprocal', ctx);
  ctx.use('reciprocal');
  if (p.terms.length === 1) {
    const [t] = p.terms;
    return scalePoly(reduceFactors(invertMonomial(t.mono).factors, ctx), invR(t.coef));
  }
  return atomPoly({ kind: 'group', base: p }, -1);
}

/**
 * sqrt(p), for p >= 0 (law sqrt-square). A single product splits, sqrt(c·Π a^e) = sqrt(c)·Π
 * sqrt(a)^e, where every a with an odd e is >= 0, and an even power leaves its root, a^(e/2),
 * where e/2 is even or a >= 0 (law sqrt-of-square: sqrt(a^2) = a needs a >= 0; otherwise it is
 * |a|, which stays the atom sqrt(a^2)).
 */
function sqrtPoly(p: Poly, ctx: ScalarContext): Poly {
  if (isZeroPoly(p)) return p;
  require('nonNegative', p, 'sqrt-square', ctx);
  if (p.terms.length === 1) {
    const [t] = p.terms;
    const c = sqrtR(t.coef);
    const splits = t.mono.factors.every((f) => (f.exp % 4 === 0 ? true : signOfAtom(f.atom, ctx).nonNegative));
    if (c !== undefined && splits) {
      ctx.use('sqrt-of-square');
      const parts = t.mono.factors.map((f) => {
        if (f.exp % 2 === 0) return monoPoly(monomial([{ ...f, exp: f.exp / 2 }]));
        const root: Atom = { kind: 'root', base: f.atom.kind === 'group' ? f.atom.base : atomPoly(f.atom) };
        return atomPoly(root, f.exp);
      });
      return scalePoly(productPoly(parts, ctx), c);
    }
  }
  return atomPoly({ kind: 'root', base: p });
}

function powSigned(p: Poly, exp: number, ctx: ScalarContext): Poly {
  return exp >= 0 ? powPoly(p, exp, ctx) : powPoly(recipPoly(p, ctx), -exp, ctx);
}

function repeatAtom(a: Atom, times: string, ctx: ScalarContext): Poly {
  switch (a.kind) {
    case 'attr':
      return atomPoly(a);
    case 'root':
      return sqrtPoly(repeatPoly(a.base, times, ctx), ctx);
    case 'group':
      return repeatPoly(a.base, times, ctx);
    default:
      return atomPoly({ kind: 'repeat', atom: a, times });
  }
}

/** repeat(·, n) distributes over +, *, powers and sqrt; a scalar repeats to itself. */
export function repeatPoly(p: Poly, times: string, ctx: ScalarContext): Poly {
  return addPoly(
    ...p.terms.map((t) =>
      scalePoly(
        t.mono.factors.reduce((acc, f) => productPoly([acc, powSigned(repeatAtom(f.atom, times, ctx), f.exp, ctx)], ctx), ONE_POLY),
        t.coef,
      ),
    ),
  );
}

/**
 * The flatten role a repeat count belongs to. The engine binds exactly one count per flatten
 * role, `ROLE.spatial` (its H*W), so any other spelling is a rule the engine could not apply.
 */
function repeatLabel(times: string, ctx: ScalarContext): string {
  const match = /^([^.]+)\.spatial$/.exec(times);
  const role = match?.[1];
  if (role === undefined || ctx.opOf(role) !== 'flatten') {
    throw new ProofError(`repeat count '${times}' is not ROLE.spatial of a flatten role in the pattern, the only count the engine binds`);
  }
  return role;
}

function weightKey(ref: string, out: Poly, inScale: Poly): string {
  return `${ref}|out(${out.key})|in(${inScale.key})`;
}

/** matvec(W, v) = out ⊙ Σ_j c_j matvec(W_ref, m_j) over the terms of in ⊙ v. */
function matvecPoly(w: NormalWeight, v: Poly, ctx: ScalarContext): Poly {
  ctx.use('matvec-linear');
  if (!isOnePoly(w.in)) ctx.use('matvec-scale-in');
  if (!isOnePoly(w.out)) ctx.use('matvec-scale-out');
  const inner = addPoly(...mulPoly(w.in, v, ctx).terms.map((t) => monoPoly(atomMonomial({ kind: 'matvec', weight: w.ref, arg: t.mono }), t.coef)));
  return mulPoly(w.out, inner, ctx);
}

const atomMonomial = (atom: Atom): Monomial => monomial([{ atom, key: atomKey(atom), exp: 1 }]);

// ---------------------------------------------------------------- normalising expressions

export function normalizeVector(e: VExpr, ctx: ScalarContext): Poly {
  switch (e.kind) {
    case 'param':
      return ctx.substitute(e.ref) ?? atomPoly({ kind: 'param', ref: e.ref });
    case 'attr':
      return atomPoly({ kind: 'attr', ref: e.ref });
    case 'num':
      return constPoly(rational(BigInt(e.n), BigInt(e.d)));
    case 'add':
      return addPoly(...e.args.map((a) => normalizeVector(a, ctx)));
    case 'mul':
      return productPoly(e.args.map((a) => normalizeVector(a, ctx)), ctx);
    case 'neg':
      return negPoly(normalizeVector(e.arg, ctx));
    case 'recip':
      return recipPoly(normalizeVector(e.arg, ctx), ctx);
    case 'sqrt':
      return sqrtPoly(normalizeVector(e.arg, ctx), ctx);
    case 'affine': {
      const op = ctx.opOf(e.role);
      if (op === undefined) throw new ProofError(`${e.part}(${e.role}) refers to role '${e.role}', which the pattern does not match`);
      if (!isAffineOp(op)) throw new ProofError(`${e.part}(${e.role}): role '${e.role}' is a ${op} here, not an affine-per-channel op`);
      const parts = affineOf(op, e.role);
      return normalizeVector(e.part === 'scale' ? parts.scale : parts.shift, ctx);
    }
    case 'repeat':
      ctx.use('repeat-distributes');
      return repeatPoly(normalizeVector(e.arg, ctx), repeatLabel(e.times, ctx), ctx);
    case 'matvec':
      return matvecPoly(normalizeWeight(e.weight, ctx), normalizeVector(e.arg, ctx), ctx);
    case 'rowNorm':
      return atomPoly({ kind: 'rowNorm', weight: normalizeWeight(e.weight, ctx) });
  }
}

export function normalizeWeight(e: WExpr, ctx: ScalarContext): NormalWeight {
  switch (e.kind) {
    case 'weight':
      return { ref: e.ref, out: ONE_POLY, in: ONE_POLY, key: weightKey(e.ref, ONE_POLY, ONE_POLY) };
    case 'scaleOut':
    case 'scaleIn': {
      const w = normalizeWeight(e.weight, ctx);
      const by = normalizeVector(e.by, ctx);
      const out = e.kind === 'scaleOut' ? mulPoly(w.out, by, ctx) : w.out;
      const inScale = e.kind === 'scaleIn' ? mulPoly(w.in, by, ctx) : w.in;
      return { ref: w.ref, out, in: inScale, key: weightKey(w.ref, out, inScale) };
    }
  }
}

export function tapKey(a: TapAtom): string {
  return a.kind === 'tapParam' ? `tp(${a.ref})` : `taps(${a.weight};${a.arg.key})`;
}

function addTaps(...ts: readonly TapPoly[]): TapPoly {
  const acc = new Map<string, { atom: TapAtom; key: string; coef: Poly }>();
  for (const t of ts) {
    for (const term of t.terms) {
      const prev = acc.get(term.key);
      acc.set(term.key, prev === undefined ? term : { ...prev, coef: addPoly(prev.coef, term.coef) });
    }
  }
  const terms = [...acc.values()].filter((t) => !isZeroPoly(t.coef)).sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return { terms };
}

const scaleTaps = (t: TapPoly, by: Poly, ctx: ScalarContext): TapPoly =>
  addTaps({ terms: t.terms.map((term) => ({ ...term, coef: mulPoly(term.coef, by, ctx) })) });

export function normalizeTaps(e: TapExpr, ctx: ScalarContext): TapPoly {
  switch (e.kind) {
    case 'tapParam': {
      const atom: TapAtom = { kind: 'tapParam', ref: e.ref };
      return { terms: [{ atom, key: tapKey(atom), coef: ONE_POLY }] };
    }
    case 'taps': {
      const w = normalizeWeight(e.weight, ctx);
      ctx.use('taps-linear');
      if (!isOnePoly(w.in)) ctx.use('taps-scale-in');
      if (!isOnePoly(w.out)) ctx.use('taps-scale-out');
      const inner = mulPoly(w.in, normalizeVector(e.arg, ctx), ctx).terms.map((t) => {
        const atom: TapAtom = { kind: 'taps', weight: w.ref, arg: t.mono };
        return { atom, key: tapKey(atom), coef: mulPoly(constPoly(t.coef), w.out, ctx) };
      });
      return addTaps({ terms: inner });
    }
    case 'tapScaleOut':
      ctx.use('taps-scale-out');
      return scaleTaps(normalizeTaps(e.taps, ctx), normalizeVector(e.by, ctx), ctx);
    case 'tapAdd':
      return addTaps(...e.args.map((a) => normalizeTaps(a, ctx)));
  }
}

/** A tap atom summed over all its taps: what a conv adds everywhere when nothing is padded. */
export function tapSumPoly(atom: TapAtom): Poly {
  return atom.kind === 'taps' ? atomPoly({ kind: 'matvec', weight: atom.weight, arg: atom.arg }) : atomPoly({ kind: 'tapSum', ref: atom.ref });
}

// ---------------------------------------------------------------- signs and common factors

const NOTHING_KNOWN: Sign = { nonNegative: false, nonPositive: false, nonZero: false };

function withStated(own: Sign, key: string, ctx: ScalarContext): Sign {
  const facts = ctx.stated(key);
  if (facts === undefined) return own;
  return { ...own, nonNegative: own.nonNegative || facts.has('nonNegative'), nonZero: own.nonZero || facts.has('nonZero') };
}

/** What is known of an atom's sign: square roots and norms are >= 0, (p) has p's sign. */
export function signOfAtom(a: Atom, ctx: ScalarContext): Sign {
  switch (a.kind) {
    case 'root':
      return withStated({ nonNegative: true, nonPositive: false, nonZero: signOfPoly(a.base, ctx).nonZero }, atomKey(a), ctx);
    case 'group':
      return signOfPoly(a.base, ctx);
    case 'rowNorm':
      return withStated({ nonNegative: true, nonPositive: false, nonZero: false }, atomKey(a), ctx);
    case 'repeat':
      return signOfAtom(a.atom, ctx);
    default:
      return withStated(NOTHING_KNOWN, atomKey(a), ctx);
  }
}

function signOfTerm(t: PolyTerm, ctx: ScalarContext): Sign {
  let unsigned = true;
  let nonZero = true;
  for (const f of t.mono.factors) {
    const s = signOfAtom(f.atom, ctx);
    if (f.exp % 2 !== 0 && !s.nonNegative) unsigned = false;
    if (!s.nonZero) nonZero = false;
  }
  const positiveCoef = t.coef.n > 0n;
  return { nonNegative: unsigned && positiveCoef, nonPositive: unsigned && !positiveCoef, nonZero };
}

/** What is known of a polynomial's sign, from its terms' signs and from what is stated of it. */
export function signOfPoly(p: Poly, ctx: ScalarContext): Sign {
  if (p.terms.length === 0) return { nonNegative: true, nonPositive: true, nonZero: false };
  const terms = p.terms.map((t) => signOfTerm(t, ctx));
  const nonNegative = terms.every((s) => s.nonNegative);
  const nonPositive = terms.every((s) => s.nonPositive);
  const nonZero = p.terms.length === 1 ? terms[0].nonZero : (nonNegative || nonPositive) && terms.some((s) => s.nonZero);
  return withStated({ nonNegative, nonPositive, nonZero }, p.key, ctx);
}

/**
 * The greatest common monomial factor of the given polynomials with its positive rational
 * content: each atom at its least exponent over every monomial (absent counts as 0).
 */
export function commonFactor(ps: readonly Poly[]): { readonly coef: Rational; readonly mono: Monomial } {
  const terms = ps.flatMap((p) => p.terms);
  if (terms.length === 0) return { coef: ONE, mono: UNIT };
  const least = new Map<string, Factor>();
  for (const f of terms[0].mono.factors) least.set(f.key, f);
  for (const t of terms) {
    const here = new Map(t.mono.factors.map((f) => [f.key, f]));
    for (const [key, f] of [...least]) least.set(key, { ...f, exp: Math.min(f.exp, here.get(key)?.exp ?? 0) });
    for (const [key, f] of here) if (!least.has(key)) least.set(key, { ...f, exp: Math.min(f.exp, 0) });
  }
  return { coef: contentR(terms.map((t) => t.coef)), mono: monomial(least.values()) };
}

// ---------------------------------------------------------------- display

function showAtom(a: Atom): string {
  switch (a.kind) {
    case 'param':
    case 'attr':
    case 'tapSum':
      return a.kind === 'tapSum' ? `Σtaps(${a.ref})` : a.ref;
    case 'root':
      return `sqrt(${showPoly(a.base)})`;
    case 'group':
      return `(${showPoly(a.base)})`;
    case 'matvec':
      return `matvec(${a.weight}, ${showMonomial(a.arg)})`;
    case 'rowNorm':
      return `‖${showWeight(a.weight)}‖`;
    case 'repeat':
      return `repeat(${showAtom(a.atom)}, ${a.times})`;
  }
}

function showPower(f: Factor, exp: number): string {
  if (f.atom.kind === 'root' && exp % 2 === 0) {
    const inner = showPoly(f.atom.base);
    const base = f.atom.base.terms.length > 1 ? `(${inner})` : inner;
    return exp === 2 ? base : `${base}^${exp / 2}`;
  }
  return exp === 1 ? showAtom(f.atom) : `${showAtom(f.atom)}^${exp}`;
}

export function showMonomial(m: Monomial): string {
  const up = m.factors.filter((f) => f.exp > 0).map((f) => showPower(f, f.exp));
  const down = m.factors.filter((f) => f.exp < 0).map((f) => showPower(f, -f.exp));
  const num = up.length === 0 ? '1' : up.join('*');
  if (down.length === 0) return num;
  return `${num}/${down.length === 1 ? down[0] : `(${down.join('*')})`}`;
}

function showTerm(t: PolyTerm): string {
  const c = t.coef.n < 0n ? negR(t.coef) : t.coef;
  if (t.mono.factors.length === 0) return keyR(c);
  return isOne(c) ? showMonomial(t.mono) : `${keyR(c)}*${showMonomial(t.mono)}`;
}

export function showPoly(p: Poly): string {
  if (p.terms.length === 0) return '0';
  return p.terms
    .map((t, i) => {
      const sign = t.coef.n < 0n ? '-' : '+';
      return i === 0 ? (sign === '-' ? `-${showTerm(t)}` : showTerm(t)) : ` ${sign} ${showTerm(t)}`;
    })
    .join('');
}

function showWeight(w: NormalWeight): string {
  let s = w.ref;
  if (!isOnePoly(w.in)) s = `scaleIn(${s}, ${showPoly(w.in)})`;
  if (!isOnePoly(w.out)) s = `scaleOut(${s}, ${showPoly(w.out)})`;
  return s;
}

export function showTapAtom(a: TapAtom): string {
  return a.kind === 'tapParam' ? a.ref : `taps(${a.weight}, ${showMonomial(a.arg)})`;
}
