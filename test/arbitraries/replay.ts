/**
 * Shared settings of the fold property tests: how many runs (SHAPEFOLD_FOLD_RUNS), how to replay
 * a failure (SHAPEFOLD_FOLD_SEED and SHAPEFOLD_FOLD_PATH, both printed by fast-check when a
 * property fails), and the graph input a case is checked on.
 */
import type fc from 'fast-check';
import { createRng } from '../../src/ir/init.ts';
import type { Float64Tensor } from '../../src/reference/tensor.ts';

/** Runs per property: `fallback` unless SHAPEFOLD_FOLD_RUNS says more (or fewer). */
export function foldRuns(fallback: number): number {
  const configured = process.env.SHAPEFOLD_FOLD_RUNS;
  return configured === undefined ? fallback : Number(configured);
}

/** fast-check parameters, replayable from the environment. */
export function replayParameters<T>(runs: number): fc.Parameters<T> {
  const seed = process.env.SHAPEFOLD_FOLD_SEED;
  const path = process.env.SHAPEFOLD_FOLD_PATH;
  return { numRuns: runs, ...(seed === undefined ? {} : { seed: Number(seed) }), ...(path === undefined ? {} : { path }) };
}

/** Float32-exact input values in [-1, 1) from a seed. */
export function inputFor(shape: readonly number[], seed: number): Float64Tensor {
  const rng = createRng(seed);
  const size = shape.reduce((p, d) => p * d, 1);
  return { shape: [...shape], data: Float64Array.from({ length: size }, () => Math.fround(2 * rng() - 1)) };
}
