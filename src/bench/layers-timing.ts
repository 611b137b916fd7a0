/**
 * What the Layers benchmarks share: seeded weights for a stock tfjs-layers model, saving it to
 * memory as `model.save` writes it, loading an exported model back with `tf.loadLayersModel`,
 * and timing several models on one input in interleaved rounds (src/io/predict-timing.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../ir/init.ts';
import type { ExportedLayersModel, LayersModelJSON } from '../io/index.ts';

/**
 * Random weights: kernels uniform with variance 1/fan-in (so activations stay O(1) through deep
 * nets), gamma and moving variance in [0.5, 1.5], everything else in [-0.5, 0.5].
 */
export function randomizeLayersWeights(model: tf.LayersModel, seed: number): void {
  const rng = createRng(seed);
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const n = shape.reduce((p, d) => p * d, 1);
    const kind = w.originalName.split('/').at(-1) ?? '';
    const isKernel = /kernel$/.test(kind) || /^(embeddings|recurrent_kernel)$/.test(kind);
    const fanIn = kind === 'depthwise_kernel' ? shape[0] * shape[1] : shape.slice(0, -1).reduce((p, d) => p * d, 1);
    const draw =
      kind === 'moving_variance' || kind === 'gamma'
        ? () => 0.5 + rng()
        : isKernel
          ? () => (2 * rng() - 1) * Math.sqrt(3 / Math.max(1, fanIn))
          : () => rng() - 0.5;
    return tf.tensor(Float32Array.from({ length: n }, draw), shape, w.dtype);
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** A model as `model.save` writes it: model.json contents and one weights buffer. */
export async function layersModelToMemory(model: tf.LayersModel): Promise<ExportedLayersModel> {
  let out: ExportedLayersModel | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData as ArrayBuffer | ArrayBuffer[];
      out = {
        modelJson: {
          format: a.format,
          generatedBy: a.generatedBy,
          convertedBy: a.convertedBy ?? null,
          modelTopology: a.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs as LayersModelJSON['weightsManifest'][0]['weights'] }],
        },
        weightData: data instanceof ArrayBuffer ? data : (tf.io.concatenateArrayBuffers(data) as ArrayBuffer),
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return out as ExportedLayersModel;
}

// Timing and loading live with the CLI's `bench <model.json>`, which ships; the benchmarks share them.
export { interleavedMedians, loadLayersFromMemory, median } from '../io/predict-timing.ts';
