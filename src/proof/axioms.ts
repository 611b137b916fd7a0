/**
 * The rewrite laws the normaliser (`scalar.ts`, `tensor.ts`) uses, each with the condition it
 * needs. Nothing else may rewrite a term: field arithmetic on exact rationals aside, every step
 * of a proof is one of these, and the trace of a proof lists the ones it used.
 *
 * Notation: ⊙ multiplies per channel (axis 1); pad0 is zero padding; conv_W is the conv without
 * padding or bias, convT_W the transposed conv without bias; crop drops border rows and
 * columns; const(v) the image whose channel c is v[c] everywhere; tapBias(T) the image sum over
 * in-bounds taps (kh, kw) of T[o, kh, kw].
 *
 * A law's condition is established from the IR's validation of attributes and parameters
 * (`domain.ts`: eps > 0, runningVar >= 0, std > 0), from the rule's own conditions, or from the
 * signs of the expressions built from those (`signOfPoly` in scalar.ts); otherwise the case fails.
 *
 * Each law is checked numerically on random small instances in
 * test/property/proof-axioms.test.ts (float64 reference ops against src/algebra/evaluate.ts), and
 * each conditional law is shown to break when its condition does not hold.
 */
import type { Condition } from '../algebra/rule.ts';

export interface Axiom {
  readonly name: AxiomName;
  readonly statement: string;
  /** The rule condition the law needs; absent for unconditional laws. */
  readonly needs?: Condition['kind'];
}

export const AXIOM_NAMES = [
  'conv-additive',
  'conv-scale-in',
  'conv-scale-out',
  'pad-additive',
  'pad-scale',
  'crop-additive',
  'crop-scale',
  'crop-const',
  'conv-pad-const',
  'conv-const',
  'conv-transpose-additive',
  'conv-transpose-scale-in',
  'conv-transpose-scale-out',
  'linear-additive',
  'linear-scale-in',
  'linear-scale-out',
  'linear-const',
  'flatten-scale',
  'flatten-const',
  'matvec-linear',
  'matvec-scale-in',
  'matvec-scale-out',
  'taps-linear',
  'taps-scale-in',
  'taps-scale-out',
  'repeat-distributes',
  'sqrt-square',
  'sqrt-of-square',
  'reciprocal',
  'relu-homogeneous',
  'leaky-relu-homogeneous',
  'batch-norm-inference',
  'zero-substitution',
] as const;

export type AxiomName = (typeof AXIOM_NAMES)[number];

export const AXIOMS: readonly Axiom[] = [
  { name: 'conv-additive', statement: 'conv_W(A + B) = conv_W(A) + conv_W(B), conv_W(r A) = r conv_W(A) for rational r' },
  { name: 'conv-scale-in', statement: 'conv_W(s ⊙ A) = conv_{scaleIn(W, s)}(A), s indexed by input channel (group-aware)' },
  { name: 'conv-scale-out', statement: 's ⊙ conv_W(A) = conv_{scaleOut(W, s)}(A), s indexed by output channel' },
  { name: 'pad-additive', statement: 'pad0(A + B) = pad0(A) + pad0(B)' },
  { name: 'pad-scale', statement: 'pad0(s ⊙ A) = s ⊙ pad0(A)' },
  { name: 'crop-additive', statement: 'crop(A + B) = crop(A) + crop(B)' },
  { name: 'crop-scale', statement: 'crop(s ⊙ A) = s ⊙ crop(A)' },
  { name: 'crop-const', statement: 'crop(const v) = const v (on the cropped shape)' },
  {
    name: 'conv-pad-const',
    statement: 'conv_W(pad0(const v)) = tapBias(taps(W, v)), taps(W, v)[o, kh, kw] = Σ_i W[o, i, kh, kw] v[c(i)]',
  },
  {
    name: 'conv-const',
    statement: 'with zero padding absent, conv_W(pad0(const v)) = const(matvec(W, v)) and tapBias(T) = const(Σ_taps T)',
    needs: 'noPadding',
  },
  { name: 'conv-transpose-additive', statement: 'convT_W(A + B) = convT_W(A) + convT_W(B)' },
  { name: 'conv-transpose-scale-in', statement: 'convT_W(s ⊙ A) = convT_{scaleIn(W, s)}(A), s on weight axis 0' },
  { name: 'conv-transpose-scale-out', statement: 's ⊙ convT_W(A) = convT_{scaleOut(W, s)}(A), s on weight axis 1 (group-aware)' },
  { name: 'linear-additive', statement: 'W (A + B) = W A + W B' },
  { name: 'linear-scale-in', statement: 'W (s ⊙ A) = (W diag(s)) A' },
  { name: 'linear-scale-out', statement: 's ⊙ (W A) = (diag(s) W) A' },
  { name: 'linear-const', statement: 'W const(v) = const(matvec(W, v))' },
  { name: 'flatten-scale', statement: 'flatten(s ⊙ A) = repeat(s, HW) ⊙ flatten(A), flatten(A + B) = flatten(A) + flatten(B)' },
  { name: 'flatten-const', statement: 'flatten(const v) = const(repeat(v, HW))' },
  { name: 'matvec-linear', statement: 'matvec(W, u + v) = matvec(W, u) + matvec(W, v), matvec(W, r v) = r matvec(W, v)' },
  { name: 'matvec-scale-in', statement: 'matvec(scaleIn(W, s), v) = matvec(W, s v)' },
  { name: 'matvec-scale-out', statement: 'matvec(scaleOut(W, s), v) = s matvec(W, v)' },
  { name: 'taps-linear', statement: 'taps(W, u + v) = taps(W, u) + taps(W, v), taps(W, r v) = r taps(W, v)' },
  { name: 'taps-scale-in', statement: 'taps(scaleIn(W, s), v) = taps(W, s v)' },
  { name: 'taps-scale-out', statement: 'taps(scaleOut(W, s), v) = tapScaleOut(taps(W, v), s) = s ⊙_out taps(W, v)' },
  { name: 'repeat-distributes', statement: 'repeat(u + v, n) = repeat(u, n) + repeat(v, n), likewise *, 1/·, sqrt; repeat(scalar) = scalar' },
  { name: 'sqrt-square', statement: 'sqrt(p) is real and sqrt(p)^2 = p for p >= 0', needs: 'nonNegative' },
  { name: 'sqrt-of-square', statement: 'sqrt(a^2) = a and sqrt(a*b) = sqrt(a)*sqrt(b) for a, b >= 0 (sqrt(a^2) is |a| otherwise)', needs: 'nonNegative' },
  { name: 'reciprocal', statement: 'p * (1/p) = 1 for p != 0', needs: 'nonZero' },
  { name: 'relu-homogeneous', statement: 'relu(s ⊙ A) = s ⊙ relu(A)', needs: 'nonNegative' },
  { name: 'leaky-relu-homogeneous', statement: 'leakyRelu_a(s ⊙ A) = s ⊙ leakyRelu_a(A)', needs: 'nonNegative' },
  {
    name: 'batch-norm-inference',
    statement: 'batchNorm(A) = gamma ⊙ (A - runningMean) / sqrt(runningVar + eps) + beta (likewise batchRenorm)',
    needs: 'inferenceStatistics',
  },
  { name: 'zero-substitution', statement: 'if p = 0 and p = c a + q with a not in q, then a = -q / c everywhere', needs: 'zero' },
];
