import { describe, expect, it } from 'vitest';
import { conv2d, input, model } from '../../dsl/index.ts';
import { exportLayersModel } from '../../src/io/index.ts';

interface LayerJson {
  readonly class_name: string;
  readonly config: { readonly name: string; readonly padding?: string };
}

/** The Keras layers an exported single-conv model consists of, by class and padding. */
function exportedLayers(kernel: [number, number], stride: [number, number], padding: [number, number]): string[] {
  const { graph } = model(input([1, 2, 8, 8], { name: 'x' }).to(conv2d({ out: 3, kernel, stride, padding, name: 'c' })));
  const { modelJson } = exportLayersModel(graph);
  const topology = (modelJson as { modelTopology: { config: { layers: LayerJson[] } } }).modelTopology;
  return topology.config.layers.map((l) => (l.class_name.startsWith('Conv') ? `${l.class_name}:${l.config.padding}` : l.class_name));
}

describe("explicit padding exported as Keras 'same' only where stock tfjs-wasm computes it exactly", () => {
  it("keeps a conv built with 'same' as 'same'", () => {
    const { graph } = model(input([1, 2, 8, 8], { name: 'x' }).to(conv2d({ out: 3, kernel: 3, stride: 2, padding: 'same', name: 'c' })));
    const { modelJson } = exportLayersModel(graph);
    const layers = (modelJson as { modelTopology: { config: { layers: LayerJson[] } } }).modelTopology.config.layers;
    expect(layers.map((l) => l.class_name)).toEqual(['InputLayer', 'Conv2D']);
    expect(layers[1].config.padding).toBe('same');
  });

  it("writes 'same' for a stride-1 conv padded by (K-1)/2", () => {
    expect(exportedLayers([3, 5], [1, 1], [1, 2])).toEqual(['InputLayer', 'Conv2D:same']);
  });

  it("writes ZeroPadding2D + 'valid' for a strided 1x3 kernel, where wasm's 'same' is wrong", () => {
    // TF 'same' here: rows pad 0 (K=1, S=2 on 8), columns pad 1 and 1 (K=3, S=1 on 8).
    expect(exportedLayers([1, 3], [2, 1], [0, 1])).toEqual(['InputLayer', 'ZeroPadding2D', 'Conv2D:valid']);
  });
});
