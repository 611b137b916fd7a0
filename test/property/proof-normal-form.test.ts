/**
 * The scalar normaliser is sound: for random expressions (sums, products, negations,
 * reciprocals, square roots, BN affine parts, matvec and rowNorm of rescaled weights, repeat),
 * over values of either sign, whenever every side condition the normaliser needed is
 * established, the normal form written back as an expression evaluates (src/algebra/evaluate.ts,
 * float64) to the same vector as the original wherever the original is finite.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { add, affineScale, affineShift, attr, matvec, mul, neg, num, param, recip, repeat, rowNorm, scaleIn, scaleOut, sqrt, weight, type VExpr, type WExpr } from '../../src/algebra/expr.ts';
import { evaluateVector, type EvalEnv } from '../../src/algebra/evaluate.ts';
import { ProofError } from '../../src/proof/errors.ts';
import type { OpKind } from '../../src/ir/graph.ts';
import { domainFacts } from '../../src/proof/domain.ts';
import { normalizeVector, type Atom, type Factor, type Fact, type Monomial, type NormalWeight, type Poly, type ScalarContext } from '../../src/proof/scalar.ts';
import { makeRng, randomTensor } from '../unit/reference-fixtures.ts';

const C = 3;

function polyToExpr(p: Poly): VExpr {
  return add(num(0), ...p.terms.map((t) => mul(num(Number(t.coef.n), Number(t.coef.d)), monomialToExpr(t.mono))));
}

function monomialToExpr(m: Monomial): VExpr {
  return mul(num(1), ...m.factors.map(factorToExpr));
}

const power = (e: VExpr, k: number): VExpr => (k >= 0 ? mul(num(1), ...Array<VExpr>(k).fill(e)) : recip(power(e, -k)));

/** sqrt(p)^e means p^(e/2): even powers are powers of p itself, odd ones keep one sqrt. */
function factorToExpr(f: Factor): VExpr {
  if (f.atom.kind !== 'root') return power(atomToExpr(f.atom), f.exp);
  const base = polyToExpr(f.atom.base);
  if (f.exp % 2 === 0) return power(base, f.exp / 2);
  const sign = Math.sign(f.exp);
  return mul(power(sqrt(base), sign), power(base, (f.exp - sign) / 2));
}

function atomToExpr(a: Atom): VExpr {
  switch (a.kind) {
    case 'param':
      return param(a.ref);
    case 'attr':
      return attr(a.ref);
    case 'root':
      return sqrt(polyToExpr(a.base));
    case 'group':
      return polyToExpr(a.base);
    case 'matvec':
      return matvec(weight(a.weight), monomialToExpr(a.arg));
    case 'rowNorm':
      return rowNorm(weightToExpr(a.weight));
    case 'repeat':
      return repeat(atomToExpr(a.atom), `${a.times}.spatial`);
    case 'tapSum':
      throw new Error('no tap sums in scalar expressions');
  }
}

const weightToExpr = (w: NormalWeight): WExpr => scaleOut(scaleIn(weight(w.ref), polyToExpr(w.in)), polyToExpr(w.out));

const leaf: fc.Arbitrary<VExpr> = fc.oneof(
  fc.constantFrom(param('r.a'), param('r.b'), param('r.c'), attr('r.eps'), affineScale('bn'), affineShift('bn')),
  fc.record({ n: fc.integer({ min: -4, max: 4 }), d: fc.integer({ min: 1, max: 4 }) }).map(({ n, d }) => num(n, d)),
);

const expr = fc.letrec<{ v: VExpr; w: WExpr }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('v'), { minLength: 2, maxLength: 3 }).map((args) => add(...args)),
    fc.array(tie('v'), { minLength: 2, maxLength: 3 }).map((args) => mul(...args)),
    tie('v').map(neg),
    tie('v').map(recip),
    tie('v').map(sqrt),
    fc.tuple(tie('w'), tie('v')).map(([w, v]) => matvec(w, v)),
    tie('w').map(rowNorm),
  ),
  w: fc.oneof(
    fc.constant(weight('fc.weight')),
    fc.tuple(tie('w'), tie('v')).map(([w, v]) => scaleIn(w, v)),
    fc.tuple(tie('w'), tie('v')).map(([w, v]) => scaleOut(w, v)),
  ),
})).v;

const topLevel = fc.oneof(
  expr.map((e) => ({ e, length: C })),
  fc.tuple(expr, expr).map(([x, y]) => ({ e: add(repeat(x, 'flat.spatial'), mul(repeat(y, 'flat.spatial'), attr('r.eps'))), length: 2 * C })),
);

function env(seed: number): EvalEnv {
  const rng = makeRng(seed);
  const vec = (low: number, high: number) => randomTensor([C], rng, low, high);
  return {
    roles: {
      r: { op: 'scaleShift', attrs: { numChannels: C }, tensors: { a: vec(-2, 2), b: vec(0.5, 2), c: vec(-1, 1) }, scalars: { eps: 0.25 + rng() } },
      bn: {
        op: 'batchNorm',
        attrs: { numFeatures: C, eps: 1e-3, frozen: false, decay: 0.9, unbiasedRunningVar: true },
        tensors: { gamma: vec(-1, 1), beta: vec(-1, 1), runningMean: vec(-1, 1), runningVar: vec(0.5, 2) },
        scalars: { eps: 1e-3 },
      },
      fc: { op: 'linear', attrs: { inFeatures: C, outFeatures: C, bias: false }, tensors: { weight: randomTensor([C, C], rng) }, scalars: {} },
    },
    counts: { 'flat.spatial': 2 },
  };
}

/** Whether some reciprocal in e divides by an exact 0 (IEEE may still give a finite result: 1/(1/0) = 0). */
function dividesByZero(e: VExpr | WExpr, bound: EvalEnv, length: number): boolean {
  const inner = (child: VExpr | WExpr, n = C) => dividesByZero(child, bound, n);
  switch (e.kind) {
    case 'add':
    case 'mul':
      return e.args.some((a) => inner(a, length));
    case 'recip':
      return evaluateVector(e.arg, bound, length).some((v) => v === 0) || inner(e.arg, length);
    case 'neg':
    case 'sqrt':
      return inner(e.arg, length);
    case 'repeat':
      return inner(e.arg);
    case 'matvec':
      return inner(e.weight) || inner(e.arg);
    case 'rowNorm':
      return inner(e.weight);
    case 'scaleIn':
    case 'scaleOut':
      return inner(e.weight) || inner(e.by);
    default:
      return false;
  }
}

const OPS: Record<string, OpKind> = { bn: 'batchNorm', flat: 'flatten' };

/**
 * The case the normaliser works in: bn's IR guarantees (eps > 0, runningVar >= 0), plus r.b > 0
 * and r.eps > 0 stated as a rule's conditions would; r.a, r.c, gamma, beta and the means have
 * any sign. Side conditions nothing establishes are collected in `unmet`.
 */
function context(): ScalarContext & { failures: string[] } {
  const failures: string[] = [];
  const positive = new Set<Fact>(['nonNegative', 'nonZero']);
  return {
    failures,
    opOf: (role: string) => OPS[role],
    substitute: () => undefined,
    use: () => undefined,
    stated: (key: string) => {
      if (key === 'p:r.b' || key === 'a:r.eps') return positive;
      const ref = /^[pa]:([^.]+)\.(.+)$/.exec(key);
      return ref === null ? undefined : new Set(domainFacts(OPS[ref[1]], ref[2]));
    },
    unmet: (fact: Fact, p: Poly) => void failures.push(`${fact}(${p.key})`),
  };
}

describe('scalar normal form soundness', () => {
  it('normalize(e) evaluates to e wherever e is finite', () => {
    let compared = 0;
    fc.assert(
      fc.property(topLevel, fc.integer(), ({ e, length }, seed) => {
        const bound = env(seed);
        const original = evaluateVector(e, bound, length);
        const finite = original.every((v) => Number.isFinite(v) && Math.abs(v) < 1e6);
        let normal: Poly;
        const ctx = context();
        try {
          normal = normalizeVector(e, ctx);
        } catch (error) {
          if (!(error instanceof ProofError)) throw error;
          expect(!finite || dividesByZero(e, bound, length), `normaliser refused ${JSON.stringify(e)}: ${String(error)}`).toBe(true);
          return;
        }
        // A law applied without its side condition established: the checker fails such a case.
        if (ctx.failures.length > 0 || !finite) return;
        const back = evaluateVector(polyToExpr(normal), bound, length);
        for (let i = 0; i < length; i++) expect(Math.abs(back[i] - original[i])).toBeLessThan(1e-7 * Math.max(1, Math.abs(original[i])));
        compared++;
      }),
      { numRuns: 600 },
    );
    // About half the random expressions need a sign nothing establishes; the rest must be many.
    expect(compared).toBeGreaterThan(200);
  });
});
