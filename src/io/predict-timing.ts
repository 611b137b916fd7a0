/**
 * Layers models timed under stock `model.predict` (what a tfjs user runs), side by side:
 * `warmup` rounds, then `runs` rounds in which the models rotate which goes first, each run
 * ending in `dataSync()` so the time includes the backend's work; medians, so that machine load
 * hits every model alike. `timeSideBySide` adds, for a model and its folded form, their ratio,
 * how much that ratio varies from round to round (the quartiles of the per-round ratios: a tiny
 * model's speedup can be smaller than its noise), and the largest output difference on the same
 * input. Nothing here needs Node: `npm run bench:zoo --
 * --browser` bundles this module into its page, so that a browser times the same way.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import type { LayersModelJSON, WeightData } from './layers-format.ts';

export interface SideBySide {
  readonly runs: number;
  readonly warmup: number;
  readonly originalMs: number;
  readonly foldedMs: number;
  /** originalMs / foldedMs: above 1, the folded model is faster. */
  readonly speedup: number;
  /**
   * The lower and upper quartiles of the per-round ratios original / folded (a round times both
   * models back to back): the middle half of what one round measured.
   */
  readonly speedupQuartiles: readonly [number, number];
  readonly maxAbsDiff: number;
}

/** Loads model.json contents and weights with stock tfjs-layers, without the file system. */
export function loadLayersFromMemory(saved: { readonly modelJson: LayersModelJSON; readonly weightData: WeightData }): Promise<LayersModel> {
  const weightSpecs = saved.modelJson.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[];
  const weightData = saved.weightData instanceof ArrayBuffer ? saved.weightData : tf.io.concatenateArrayBuffers([...saved.weightData]);
  return loadLayersModel(tf.io.fromMemory({ modelTopology: saved.modelJson.modelTopology as object, weightSpecs, weightData }));
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The `q` quantile of ascending `sorted`, by linear interpolation between the closest ranks. */
export function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

/** Median ms of `model.predict(x)` (with its data read back) for each model, in interleaved, rotating rounds. */
export function interleavedMedians(models: readonly LayersModel[], x: tf.Tensor | tf.Tensor[], runs: number, warmup: number): number[] {
  return interleavedTimes(models, x, runs, warmup).map(median);
}

/** The ms of every round for each model (`[model][round]`), as interleavedMedians times them. */
export function interleavedTimes(models: readonly LayersModel[], x: tf.Tensor | tf.Tensor[], runs: number, warmup: number): number[][] {
  const timeOnce = (model: LayersModel): number => {
    const start = performance.now();
    const y = model.predict(x) as tf.Tensor | tf.Tensor[];
    for (const t of Array.isArray(y) ? y : [y]) t.dataSync();
    const ms = performance.now() - start;
    tf.dispose(y);
    return ms;
  };
  for (let i = 0; i < warmup; i++) models.forEach(timeOnce);
  const times = models.map(() => [] as number[]);
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < models.length; k++) {
      const m = (round + k) % models.length;
      times[m].push(timeOnce(models[m]));
    }
  }
  return times;
}

/** The largest |original - folded| over the models' outputs on `x`, over the original's largest |output| (or over 1, if that is smaller). */
export function maxRelativeDifference(original: LayersModel, folded: LayersModel, x: tf.Tensor | tf.Tensor[]): number {
  return tf.tidy(() => {
    const outputs = (m: LayersModel) => [m.predict(x)].flat() as tf.Tensor[];
    const b = outputs(folded);
    const a = outputs(original);
    const largest = (ts: tf.Tensor[]) => Math.max(...ts.map((t) => tf.max(tf.abs(t)).dataSync()[0]));
    return largest(a.map((y, k) => tf.sub(y, b[k]))) / Math.max(1, largest(a));
  });
}

/** See the file comment; `inputs` are the models' inputs in order (the caller owns them). */
export function timeSideBySide(original: LayersModel, folded: LayersModel, inputs: tf.Tensor[], opts: { readonly runs: number; readonly warmup: number }): SideBySide {
  const x = inputs.length === 1 ? inputs[0] : inputs;
  const [originalTimes, foldedTimes] = interleavedTimes([original, folded], x, opts.runs, opts.warmup);
  const [originalMs, foldedMs] = [median(originalTimes), median(foldedTimes)];
  const ratios = originalTimes.map((ms, round) => ms / foldedTimes[round]).sort((a, b) => a - b);
  const speedupQuartiles = [quantile(ratios, 0.25), quantile(ratios, 0.75)] as const;
  const maxAbsDiff = tf.tidy(() => {
    const outputs = (m: LayersModel) => [m.predict(x)].flat() as tf.Tensor[];
    const b = outputs(folded);
    return Math.max(...outputs(original).map((y, k) => tf.max(tf.abs(tf.sub(y, b[k]))).dataSync()[0]));
  });
  return { runs: opts.runs, warmup: opts.warmup, originalMs, foldedMs, speedup: originalMs / foldedMs, speedupQuartiles, maxAbsDiff };
}
