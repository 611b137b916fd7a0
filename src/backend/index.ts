export { compileGraph } from './executor.ts';
export type { CompileOptions, CompiledGraph, Fusion, GraphInputs, Mode, RunOptions } from './executor.ts';
export { BACKEND_ENV_VAR, BACKEND_NAMES, selectBackend } from './select.ts';
export type { BackendInfo, BackendName } from './select.ts';
export { fit } from './train.ts';
export type { FitData, FitOptions, FitProgress, LossHistory, LossName, OptimizerName } from './train.ts';
export { BackendUnavailableError, ExecutionError, InputError } from './errors.ts';
export type { RunningStats } from './ops/types.ts';
