/** The fold engine: rules from src/rules applied to a fixpoint, with a report of what was done and why not. */
export { foldGraph, type FoldOptions, type FoldResult } from './engine.ts';
export { formatFoldReport, type FoldReport, type LeftNode } from './report.ts';
export type { FoldRecord } from './apply.ts';
export type { FoldMode, Refusal } from './match.ts';
export type { ProbeReport } from './probe.ts';
export { FoldCycleError, FoldIndexError, FoldRuleError } from './errors.ts';
