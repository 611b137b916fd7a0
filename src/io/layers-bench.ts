/**
 * `shapefold bench <model.json>`: a Layers model as tfjs loads it, against the same model folded
 * by shapefold (the Layers-exportable rules) and written back as a stock Layers model, both timed
 * under stock `model.predict` on the current backend (predict-timing.ts). The input is seeded
 * uniform [-1, 1) at batch 1; a model whose input sizes are not all known says so by name.
 */
import * as tf from '@tensorflow/tfjs-core';
import { foldGraph } from '../fold/index.ts';
import { createRng } from '../ir/init.ts';
import { LayersModelError } from './errors.ts';
import { LAYERS_EXPORTABLE_RULES } from './fold-rules.ts';
import { exportLayersModel } from './layers-export.ts';
import type { LayersModelJSON } from './layers-format.ts';
import { importLayersModel } from './layers-import.ts';
import { readLayersFiles } from './layers-model.ts';
import { loadLayersFromMemory, timeSideBySide, type SideBySide } from './predict-timing.ts';

export interface LayersBenchResult extends SideBySide {
  readonly backend: string;
  /** Input shapes as run (channels-last, as tfjs takes them). */
  readonly inputs: readonly (readonly number[])[];
  readonly folds: number;
  readonly batchNorms: { readonly original: number; readonly folded: number };
}

/** BatchNormalization layers in a topology saved by tfjs (config.layers) or converted from Keras (model_config). */
function batchNormCount(json: LayersModelJSON): number {
  type Topology = { config?: { layers?: { class_name?: string }[] }; model_config?: Topology };
  const topology = json.modelTopology as Topology;
  const layers = (topology.model_config ?? topology).config?.layers ?? [];
  return layers.filter((l) => l.class_name === 'BatchNormalization').length;
}

export async function benchLayersFile(path: string, opts: { readonly runs: number; readonly warmup: number; readonly seed?: number }): Promise<LayersBenchResult> {
  const { json, weightData } = await readLayersFiles(path);
  const graph = importLayersModel(json, weightData, path);
  const { graph: folded, report } = foldGraph(graph, { rules: LAYERS_EXPORTABLE_RULES, probe: 'off' });
  const exported = exportLayersModel(folded, 'shapefold_folded');
  const original = await loadLayersFromMemory({ modelJson: json, weightData });
  const foldedModel = await loadLayersFromMemory(exported);
  const rng = createRng(opts.seed ?? 0);
  const inputs: tf.Tensor[] = [];
  try {
    for (const [k, symbolic] of original.inputs.entries()) {
      const shape = symbolic.shape.map((d, axis) => {
        if (d !== null) return d;
        if (axis === 0) return 1;
        throw new LayersModelError({ source: path, layer: original.inputLayers[k]?.name ?? `input ${k}` }, `input dim ${axis} has no size; the benchmark needs every size but the batch`);
      });
      inputs.push(tf.tensor(Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => 2 * rng() - 1), shape));
    }
    const timing = timeSideBySide(original, foldedModel, inputs, opts);
    return {
      backend: tf.getBackend(),
      inputs: inputs.map((t) => t.shape),
      folds: report.folds.length,
      batchNorms: { original: batchNormCount(json), folded: batchNormCount(exported.modelJson) },
      ...timing,
    };
  } finally {
    tf.dispose(inputs);
    original.dispose();
    foldedModel.dispose();
  }
}

/**
 * '1.45x'; with the middle half of the per-round ratios when that spread is as wide as the
 * speedup's distance from 1, so that a tiny model's noise is not read as a speedup.
 */
function speedupText(r: LayersBenchResult): string {
  const [q1, q3] = r.speedupQuartiles;
  const speedup = `${r.speedup.toFixed(2)}x`;
  if (q3 - q1 < Math.abs(r.speedup - 1)) return speedup;
  const verdict = q1 <= 1 && q3 >= 1 ? ': no clear difference' : '';
  return `${speedup} (per-round ratios ${q1.toFixed(2)}x-${q3.toFixed(2)}x, the middle half of ${r.runs} rounds${verdict})`;
}

export function formatLayersBench(path: string, r: LayersBenchResult): string {
  return [
    `bench ${path}: stock model.predict on ${r.backend}, input ${r.inputs.map((s) => `[${s.join(', ')}]`).join(', ')}, ` +
      `${r.runs} interleaved runs after ${r.warmup} warm-up`,
    `  BatchNormalization layers  ${r.batchNorms.original} -> ${r.batchNorms.folded} (${r.folds} folds)`,
    `  original                   ${r.originalMs.toFixed(2)} ms (median)`,
    `  folded                     ${r.foldedMs.toFixed(2)} ms (median)`,
    `  speedup                    ${speedupText(r)}`,
    `  max |folded - original|    ${r.maxAbsDiff.toExponential(2)}`,
  ].join('\n');
}
