/**
 * The scalar normal form: expressions equal by the laws compare equal by key, and expressions
 * that are not equal (or equal only under a sign assumption the checker does not have) do not.
 */
import { describe, expect, it } from 'vitest';
import { add, affineScale, affineShift, attr, div, matvec, mul, neg, num, param, recip, repeat, rowNorm, scaleIn, scaleOut, sqrt, sub, taps, tapAdd, tapScaleOut, weight, type VExpr } from '../../src/algebra/expr.ts';
import type { OpKind } from '../../src/ir/graph.ts';
import type { AxiomName } from '../../src/proof/axioms.ts';
import { domainFacts } from '../../src/proof/domain.ts';
import { ProofError } from '../../src/proof/errors.ts';
import { normalizeTaps, normalizeVector, showPoly, type ScalarContext } from '../../src/proof/scalar.ts';

/** A context with the IR's guarantees for the given roles' ops and no rule conditions; unmet side conditions are collected. */
function context(ops: Record<string, OpKind> = {}): ScalarContext & { used: Set<AxiomName>; unmetFacts: string[] } {
  const used = new Set<AxiomName>();
  const unmetFacts: string[] = [];
  return {
    used,
    unmetFacts,
    opOf: (role) => ops[role],
    substitute: () => undefined,
    use: (a) => used.add(a),
    stated: (k) => {
      const ref = /^[pa]:([^.]+)\.(.+)$/.exec(k);
      return ref === null ? undefined : new Set(domainFacts(ops[ref[1]], ref[2]));
    },
    unmet: (fact, p, law) => unmetFacts.push(`${law}: ${fact}(${showPoly(p)})`),
  };
}

const key = (e: VExpr, ops?: Record<string, OpKind>) => normalizeVector(e, context(ops)).key;
const text = (e: VExpr, ops?: Record<string, OpKind>) => showPoly(normalizeVector(e, context(ops)));
const a = param('r.a');
const b = param('r.b');
const c = param('r.c');
const W = weight('conv.weight');

describe('equal expressions normalise to equal keys', () => {
  it('commutativity, associativity, distributivity, exact rationals', () => {
    expect(key(mul(a, add(b, c)))).toBe(key(add(mul(c, a), mul(b, a))));
    expect(key(add(num(1, 3), num(1, 3), num(1, 3)))).toBe(key(num(1)));
    expect(key(sub(a, a))).toBe(key(num(0)));
    expect(key(mul(num(3, 10), a))).toBe(key(div(mul(num(3), a), num(10))));
  });

  it('sqrt(p)^2 = p and 1/sqrt(p) * sqrt(p) = 1 for a polynomial p >= 0', () => {
    const key = (e: VExpr) => normalizeVector(e, context({ bn: 'batchNorm' })).key;
    const p = add(param('bn.runningVar'), attr('bn.eps'));
    expect(key(mul(sqrt(p), sqrt(p)))).toBe(key(p));
    expect(key(mul(recip(sqrt(p)), sqrt(p), a))).toBe(key(a));
    expect(key(mul(sqrt(p), sqrt(p), sqrt(p)))).toBe(key(mul(p, sqrt(p))));
    expect(key(recip(mul(sqrt(p), sqrt(p))))).toBe(key(recip(p)));
    expect(key(sqrt(recip(p)))).toBe(key(recip(sqrt(p))));
  });

  it('p * (1/p) = 1 in one product, and 1/monomial is negative powers', () => {
    expect(key(mul(add(a, b), recip(add(b, a))))).toBe(key(num(1)));
    expect(key(recip(mul(a, num(2), b)))).toBe(key(mul(recip(a), recip(b), num(1, 2))));
    expect(text(recip(mul(a, b)))).toBe('1/(r.a*r.b)');
  });

  it('exact square roots of rational constants', () => {
    expect(key(sqrt(num(9, 4)))).toBe(key(num(3, 2)));
    expect(text(sqrt(num(2)))).toBe('sqrt(2)');
  });

  it('matvec is linear in its vector and pulls weight scales out or in', () => {
    const s = param('bn.s');
    expect(key(matvec(scaleIn(W, s), add(a, mul(num(2), b))))).toBe(key(add(matvec(W, mul(s, a)), mul(num(2), matvec(W, mul(b, s))))));
    expect(key(matvec(scaleOut(W, s), a))).toBe(key(mul(s, matvec(W, a))));
    expect(key(matvec(W, num(0)))).toBe(key(num(0)));
  });

  it('scaleOut and scaleIn commute and compose inside a weight', () => {
    const s = param('bn.s');
    expect(key(rowNorm(scaleOut(scaleIn(W, a), s)))).toBe(key(rowNorm(scaleIn(scaleOut(W, s), a))));
    expect(key(rowNorm(scaleOut(scaleOut(W, a), b)))).toBe(key(rowNorm(scaleOut(W, mul(b, a)))));
  });

  it('repeat distributes over +, *, 1/· and sqrt; a scalar attribute repeats to itself', () => {
    const e = attr('bn.eps');
    const ops: Record<string, OpKind> = { flat: 'flatten', bn: 'batchNorm' };
    const rep = (v: VExpr) => repeat(v, 'flat.spatial');
    expect(key(rep(mul(a, add(b, e))), ops)).toBe(key(add(mul(rep(a), rep(b)), mul(rep(a), e)), ops));
    expect(key(rep(recip(sqrt(add(a, e)))), ops)).toBe(key(recip(sqrt(add(rep(a), e))), ops));
  });

  it('a repeat count is ROLE.spatial of a flatten role: the only count the engine binds', () => {
    expect(() => key(repeat(a, 'flat.x'), { flat: 'flatten' })).toThrow(/repeat count 'flat.x' is not ROLE.spatial/);
    expect(() => key(repeat(a, 'flat'), { flat: 'flatten' })).toThrow(ProofError);
    expect(() => key(repeat(a, 'bn.spatial'), { bn: 'batchNorm' })).toThrow(ProofError);
  });

  it('affine(role) expands through the op the role has in the case', () => {
    expect(key(affineScale('bn'), { bn: 'scaleShift' })).toBe(key(param('bn.scale')));
    expect(key(affineShift('n'), { n: 'normalize' })).toBe(key(neg(div(param('n.mean'), param('n.std')))));
    expect(key(affineScale('bn'), { bn: 'batchNorm' })).toBe(key(div(param('bn.gamma'), sqrt(add(attr('bn.eps'), param('bn.runningVar'))))));
  });

  it('tap constants are linear and pull the weight scales out', () => {
    const ctx = context();
    const s = param('bn.s');
    const lhs = normalizeTaps(tapAdd(taps(scaleOut(W, s), add(a, b))), ctx);
    const rhs = normalizeTaps(tapScaleOut(tapAdd(taps(W, b), taps(W, a)), s), ctx);
    expect(lhs.terms.map((t) => `${t.key}=${t.coef.key}`)).toEqual(rhs.terms.map((t) => `${t.key}=${t.coef.key}`));
  });
});

describe('unequal expressions stay apart', () => {
  it('different parameters, signs or eps', () => {
    expect(key(add(a, b))).not.toBe(key(add(a, c)));
    expect(key(sub(a, b))).not.toBe(key(sub(b, a)));
    expect(key(div(a, sqrt(add(b, attr('bn.eps')))))).not.toBe(key(div(a, sqrt(b))));
  });

  it('sqrt(a^2) is not a (its sign is unknown) and rowNorm(scaleOut(W, s)) is not s·rowNorm(W)', () => {
    expect(key(sqrt(mul(a, a)))).not.toBe(key(a));
    expect(key(rowNorm(scaleOut(W, a)))).not.toBe(key(mul(a, rowNorm(W))));
  });

  it('repeat over two different flattens is two atoms', () => {
    const ops: Record<string, OpKind> = { f1: 'flatten', f2: 'flatten' };
    expect(key(repeat(a, 'f1.spatial'), ops)).not.toBe(key(repeat(a, 'f2.spatial'), ops));
  });
});

describe('errors name the fault', () => {
  it('division by an exact 0', () => {
    expect(() => normalizeVector(recip(sub(a, a)), context())).toThrow(ProofError);
  });

  it('affine of a role that is not an affine op, or not matched', () => {
    expect(() => normalizeVector(affineScale('conv'), context({ conv: 'conv2d' }))).toThrow(/role 'conv' is a conv2d here/);
    expect(() => normalizeVector(affineScale('bn'), context())).toThrow(/does not match/);
  });
});
