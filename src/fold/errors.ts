/**
 * Errors of the fold engine. A refusal (a fold that does not apply to these nodes, with its
 * reason) is not an error: it goes into the report. These are for what must not happen: a rule
 * that cannot be applied as written, or rules that never reach a fixpoint.
 */
import { ShapefoldError } from '../ir/errors.ts';

/** A rule that is malformed for the nodes it matched (a missing param definition, a bad attr...). */
export class FoldRuleError extends ShapefoldError {
  override readonly name: string = 'FoldRuleError';
  readonly rule: string;

  constructor(rule: string, message: string, options?: { cause?: unknown }) {
    super(`rule '${rule}': ${message}`, options);
    this.rule = rule;
  }
}

/** The rules kept rewriting without progress: an application that did not decrease the measure. */
export class FoldCycleError extends ShapefoldError {
  override readonly name: string = 'FoldCycleError';
}

/** The engine's graph index lost track of a node: a bug in the engine, never the input's fault. */
export class FoldIndexError extends ShapefoldError {
  override readonly name: string = 'FoldIndexError';
}

/** A probe that cannot run within its limits (the full probe on a graph too large for it). */
export class FoldProbeError extends ShapefoldError {
  override readonly name: string = 'FoldProbeError';
}
