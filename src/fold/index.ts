/** The fold engine: rules from src/rules applied to a fixpoint, with a report of what was done and why not. */
export { foldGraph, type FoldOptions, type FoldProgress, type FoldResult, type WithheldRule } from './engine.ts';
export { formatFoldReport, formatProbe, type FoldReport, type LeftNode, type OpaqueLayer } from './report.ts';
export type { FoldRecord } from './apply.ts';
export type { FoldMode, Refusal } from './match.ts';
export type { FoldCheck, FoldSample, NetworkCheck, NetworkSkipped, ProbeLevel, ProbeReport } from './probe.ts';
export { FoldCycleError, FoldIndexError, FoldProbeError, FoldRuleError } from './errors.ts';
