/**
 * Where a Layers model's `predict` time goes, by layer class: each top-level layer's `call` is
 * timed while the models run in interleaved rounds, as the benchmarks time whole predicts. On
 * wasm and cpu every kernel runs synchronously, so a layer's kernels finish inside its `call` and
 * its time is its kernels' plus its own JavaScript. A class's time in one predict is the sum over
 * its layers; each figure is the median over the rounds. A nested model counts as one layer of
 * its own class. `kernelBreakdowns` does the same by backend kernel, with `tf.profile`.
 */
import * as tf from '@tensorflow/tfjs';
import { performance } from 'node:perf_hooks';
import { median } from './layers-timing.ts';

export interface LayerBreakdown {
  /** Median ms of a whole predict (data read back), timed with the layers wrapped. */
  readonly totalMs: number;
  /** Layer class -> median ms per predict, largest first. */
  readonly byClass: ReadonlyMap<string, number>;
  /** Layer class -> how many layers of it the model has. */
  readonly counts: ReadonlyMap<string, number>;
}

type Call = tf.layers.Layer['call'];

/** Breakdowns of `models` on input `x`; each layer's `call` is restored afterwards. */
export function layerBreakdowns(models: readonly tf.LayersModel[], x: tf.Tensor | tf.Tensor[], runs: number, warmup: number): LayerBreakdown[] {
  const rounds = models.map(() => [] as Map<string, number>[]);
  const totals = models.map(() => [] as number[]);
  let current: Map<string, number> | undefined;
  const restore: (() => void)[] = [];
  for (const model of models) {
    for (const layer of model.layers) {
      const className = layer.getClassName();
      const own = Object.prototype.hasOwnProperty.call(layer, 'call');
      const call: Call = layer.call;
      const timed: Call = function (this: tf.layers.Layer, ...args) {
        const start = performance.now();
        const out = call.apply(this, args);
        current?.set(className, (current.get(className) ?? 0) + performance.now() - start);
        return out;
      };
      layer.call = timed;
      restore.push(() => {
        if (own) layer.call = call;
        else delete (layer as Partial<tf.layers.Layer>).call;
      });
    }
  }
  const predictOnce = (m: number, record: boolean) => {
    current = record ? new Map() : undefined;
    const start = performance.now();
    const y = models[m].predict(x);
    for (const t of Array.isArray(y) ? y : [y]) t.dataSync();
    const ms = performance.now() - start;
    for (const t of Array.isArray(y) ? y : [y]) t.dispose();
    if (record && current !== undefined) {
      rounds[m].push(current);
      totals[m].push(ms);
    }
    current = undefined;
  };
  try {
    for (let i = 0; i < warmup; i++) models.forEach((_, m) => predictOnce(m, false));
    for (let round = 0; round < runs; round++) {
      for (let k = 0; k < models.length; k++) predictOnce((round + k) % models.length, true);
    }
  } finally {
    restore.forEach((r) => r());
  }
  return models.map((model, m) => {
    const counts = new Map<string, number>();
    for (const layer of model.layers) counts.set(layer.getClassName(), (counts.get(layer.getClassName()) ?? 0) + 1);
    const byClass = [...counts.keys()].map((c) => [c, median(rounds[m].map((r) => r.get(c) ?? 0))] as const).sort((a, b) => b[1] - a[1]);
    return { totalMs: median(totals[m]), byClass: new Map(byClass), counts };
  });
}

export interface KernelBreakdown {
  /** Kernel name -> median ms per predict (the backend's kernel time, summed over its calls), largest first. */
  readonly byKernel: ReadonlyMap<string, number>;
  /** Kernel name -> calls per predict. */
  readonly calls: ReadonlyMap<string, number>;
}

/** Breakdowns of `models` on input `x` by kernel: `tf.profile` of `runs` interleaved predicts each. */
export async function kernelBreakdowns(models: readonly tf.LayersModel[], x: tf.Tensor | tf.Tensor[], runs: number): Promise<KernelBreakdown[]> {
  const rounds = models.map(() => [] as Map<string, number>[]);
  const calls = models.map(() => new Map<string, number>());
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < models.length; k++) {
      const m = (round + k) % models.length;
      const info = await tf.profile(() => {
        const y = models[m].predict(x);
        for (const t of Array.isArray(y) ? y : [y]) t.dataSync();
        return y;
      });
      const times = new Map<string, number>();
      const counted = new Map<string, number>();
      // tf.profile also lists an op that wraps kernels (fusedConv2d__op around FusedConv2D): only the backend's kernels count.
      for (const kernel of info.kernels.filter((k) => tf.getKernel(k.name, tf.getBackend()) !== undefined)) {
        const ms = await kernel.kernelTimeMs;
        if (typeof ms !== 'number') throw new Error(`kernelBreakdowns: backend '${tf.getBackend()}' times no kernel ${kernel.name}: ${ms.error}`);
        times.set(kernel.name, (times.get(kernel.name) ?? 0) + ms);
        counted.set(kernel.name, (counted.get(kernel.name) ?? 0) + 1);
      }
      rounds[m].push(times);
      calls[m] = counted;
    }
  }
  return models.map((_, m) => {
    const names = [...new Set(rounds[m].flatMap((r) => [...r.keys()]))];
    const byKernel = names.map((n) => [n, median(rounds[m].map((r) => r.get(n) ?? 0))] as const).sort((a, b) => b[1] - a[1]);
    return { byKernel: new Map(byKernel), calls: calls[m] };
  });
}
