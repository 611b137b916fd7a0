/**
 * The independent proof checker for folding rules: `proveRule(rule)` normalises both sides of a
 * rule under the laws in `axioms.ts` and compares them. It reads `src/algebra` (the rule data and
 * the affine table it checks) and `src/ir` / the reference op definitions, never `src/fold` or
 * `src/rules`.
 */
export { AXIOMS, AXIOM_NAMES, type Axiom, type AxiomName } from './axioms.ts';
export { ProofError } from './errors.ts';
export { formatProof, proveAll, proveRule, showCondition, type ProofCase, type ProofReport } from './prove.ts';
