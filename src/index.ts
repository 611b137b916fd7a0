/**
 * shapefold's machinery, for code that consumes models: the IR, run-time shapes, the tfjs
 * executor and training, the float64 reference, tfjs Layers model import and export (also
 * `shapefold/io`). Models are written with `shapefold/dsl`.
 */
export * from './ir/index.ts';
export { convOutDim, convTransposeOutDim, dimEqual, evalDim, sameOutDim, type Dim } from './shape/dim.ts';
export * from './backend/index.ts';
export { runReference, toFloat64, ReferenceRunError, type Float64Tensor, type ReferenceOptions, type ReferenceResult } from './reference/index.ts';
export { formatShapeTable, countParams } from './report/summary.ts';
export { readGraphFile, writeGraphFile, weightsFileFor } from './ir/graph-file.ts';
export * from './fold/index.ts';
export { ALL_RULES } from './rules/index.ts';
export type { Rule, Condition, PatternNode, ReplacementNode } from './algebra/rule.ts';
export { proveRule, proveAll, formatProof, type ProofReport } from './proof/index.ts';
export { copyParams, ParamsMismatchError } from './codegen/params.ts';
export { dslModuleSource, CodegenError, type CodegenOptions } from './codegen/dsl-module.ts';
export * from './io/index.ts';
