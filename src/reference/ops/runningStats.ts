/**
 * Running statistics of the BatchNorm-like ops (batchNorm, batchRenorm, ibn, switchableNorm).
 *
 * In train mode, after normalising with the batch statistics over n elements per channel:
 *   runningMean' = decay * runningMean + (1 - decay) * batchMean
 *   runningVar'  = decay * runningVar  + (1 - decay) * batchVar * (unbiasedRunningVar ? n/(n-1) : 1)
 * batchVar is the biased variance (the one used to normalise); PyTorch stores the unbiased one,
 * Keras the biased one. decay null is PyTorch's momentum=None, the cumulative average over the
 * batches seen: decay = 1 - 1/(t + 1) after t earlier batches (the first batch replaces the initial values). The graph's params are never mutated: the new values are returned.
 */
import type { RunningStatsUpdate } from '../../ir/graph.ts';
import { ReferenceRunError } from '../errors.ts';
import type { Float64Tensor } from '../tensor.ts';

export type ReferenceMode = 'eval' | 'train';

export interface RunningStats {
  readonly runningMean: Float64Array;
  readonly runningVar: Float64Array;
}

/** A train-mode step's new state: the running statistics, and those of Batch Renorm's other params it keeps. */
export interface UpdatedStats extends RunningStats {
  readonly renormMean?: Float64Array;
  readonly renormStd?: Float64Array;
  readonly batchesTracked?: Float64Array;
}

/** A normalization's output and, for a train-mode BatchNorm-like op, its new running statistics. */
export interface NormResult {
  readonly output: Float64Tensor;
  readonly updatedStats?: UpdatedStats;
}

/**
 * `count[k]` is the number of elements behind batch statistic k. The unbiased correction needs
 * at least two (PyTorch refuses to train BatchNorm on one value per channel for the same reason).
 */
export function updateRunningStats(
  running: RunningStats,
  batchMean: ArrayLike<number>,
  batchVar: ArrayLike<number>,
  count: ArrayLike<number>,
  update: Omit<RunningStatsUpdate, 'decay'> & { readonly decay: number | null },
  batchesSeen = 0,
): RunningStats {
  const { unbiasedRunningVar } = update;
  const decay = update.decay ?? 1 - 1 / (batchesSeen + 1);
  const channels = running.runningMean.length;
  const runningMean = new Float64Array(channels);
  const runningVar = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    if (unbiasedRunningVar && count[c] < 2) {
      throw new ReferenceRunError(
        `train mode with unbiasedRunningVar needs more than one value per channel, channel ${c} has ${count[c]}`,
      );
    }
    const correction = unbiasedRunningVar ? count[c] / (count[c] - 1) : 1;
    runningMean[c] = decay * running.runningMean[c] + (1 - decay) * batchMean[c];
    runningVar[c] = decay * running.runningVar[c] + (1 - decay) * batchVar[c] * correction;
  }
  return { runningMean, runningVar };
}
