/**
 * The float64 reference interpreter: the oracle that the rewrite engine's property tests and the
 * tfjs executor are checked against. Independent of tfjs by design.
 */
export { ReferenceRunError } from './errors.ts';
export { resolvePadding2d, resolveSamePadding } from './padding.ts';
export type { ReferenceMode, RunningStats, UpdatedStats } from './ops/runningStats.ts';
export { runReference, toFloat64, type ReferenceOptions, type ReferenceResult } from './run.ts';
export type { OpaqueEvaluator } from './ops/opaque.ts';
export { sizeOf, tensor, zeros, type Float64Tensor } from './tensor.ts';
