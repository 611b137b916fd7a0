/**
 * A rule the checker cannot read: an expression of the wrong sort for a parameter, a reference
 * to a role the pattern does not have, an op no denotation covers. `proveRule` reports it as a
 * failed proof with this message rather than throwing.
 */
export class ProofError extends Error {
  override readonly name = 'ProofError';
}
