/**
 * Every unsupported or malformed Layers model is a LayersModelError naming the file, the layer,
 * its class and the field; every IR node with no stock Keras layer is a LayersExportError.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend/index.ts';
import { ShapefoldError } from '../../src/ir/errors.ts';
import type { Graph, Node } from '../../src/ir/graph.ts';
import { LayersExportError, LayersModelError, exportLayersModel, importLayersModel, type LayersModelJSON } from '../../src/io/index.ts';
import { flattenHead, resNetLike, saveToMemory, type SavedModel } from './io-fixtures.ts';

type LayerJSON = { class_name: string; name: string; config: Record<string, unknown>; inbound_nodes: unknown[][] };
const layersOf = (json: LayersModelJSON) => (json.modelTopology as { config: { layers: LayerJSON[] } }).config.layers;

let resnet: SavedModel;
let sequential: SavedModel;

beforeAll(async () => {
  await selectBackend();
  const a = resNetLike();
  resnet = await saveToMemory(a);
  a.dispose();
  const b = flattenHead();
  sequential = await saveToMemory(b);
  b.dispose();
});

/** A deep copy of `saved` with `edit` applied to its model.json. */
function edited(saved: SavedModel, edit: (json: LayersModelJSON) => void): SavedModel {
  const modelJson = structuredClone(saved.modelJson);
  edit(modelJson);
  return { modelJson, weightData: saved.weightData };
}

function layer(json: LayersModelJSON, name: string): LayerJSON {
  return layersOf(json).find((l) => l.name === name || l.config.name === name) as LayerJSON;
}

function expectImportError(saved: SavedModel, site: { layer?: string; className?: string; field?: string }, message: RegExp): void {
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    importLayersModel(saved.modelJson, saved.weightData, 'net/model.json');
  } catch (error) {
    caught = error;
  }
  expect(tf.memory().numTensors).toBe(before);
  expect(caught).toBeInstanceOf(ShapefoldError);
  const error = caught as LayersModelError;
  expect(error.message).toMatch(/^net\/model\.json: /);
  expect(error.message).toMatch(message);
  if (site.layer !== undefined || site.field !== undefined) {
    expect(error).toBeInstanceOf(LayersModelError);
    expect({ layer: error.layer, className: error.className, field: error.field }).toEqual({ layer: site.layer, className: site.className, field: site.field });
  }
}

describe('importLayersModel refuses, naming file, layer, class and field', () => {
  it('a config tfjs-layers cannot make its (opaque) layer from, in tfjs’s words', () => {
    const bad = edited(resnet, (j) => {
      layer(j, 'gap').class_name = 'Conv3D';
    });
    expectImportError(bad, { layer: 'gap', className: 'Conv3D' }, /: layer 'gap' \(Conv3D\): tfjs-layers cannot make the layer from its config: required key 'kernelSize' not in config$/);
  });

  it('a layer class tfjs itself does not know (an unregistered custom layer)', () => {
    const bad = edited(resnet, (j) => {
      layer(j, 'gap').class_name = 'MyCustomPool';
    });
    expectImportError(
      bad,
      { layer: 'gap', className: 'MyCustomPool' },
      /: layer 'gap' \(MyCustomPool\): unknown layer class; register it with tf\.serialization\.registerClass before importing \(tf\.loadLayersModel rejects it too\)$/,
    );
  });

  it('an activation the IR has no op for', () => {
    const bad = edited(resnet, (j) => {
      layer(j, 'logits').config.activation = 'exponential';
    });
    expectImportError(bad, { layer: 'logits', className: 'Dense', field: 'config.activation' }, /is "exponential"; supported: linear, relu, relu6, sigmoid, tanh, elu, selu, gelu, gelu_new, hard_sigmoid, softplus, softsign, swish, mish, softmax, log_softmax$/);
  });

  it('a missing weight', () => {
    const bad = edited(resnet, (j) => {
      const specs = j.weightsManifest[0].weights;
      const at = specs.findIndex((w) => w.name === 'a_bn1/moving_variance');
      specs[at] = { ...specs[at], name: 'elsewhere/moving_variance' };
    });
    expectImportError(bad, { layer: 'a_bn1', className: 'BatchNormalization', field: "weight 'a_bn1/moving_variance'" }, /is missing from the weights manifest/);
  });

  it('a weight of the wrong shape', () => {
    const bad = edited(resnet, (j) => {
      layer(j, 'a_conv1').config.kernel_size = [1, 1];
    });
    expectImportError(bad, { layer: 'a_conv1', className: 'Conv2D', field: "weight 'a_conv1/kernel'" }, /has shape \[3, 3, 8, 8\], expected \[1, 1, 8, 8\]/);
  });

  it('weight data shorter than the manifest says', () => {
    const bad = { modelJson: resnet.modelJson, weightData: resnet.weightData.slice(0, resnet.weightData.byteLength - 4) };
    const last = resnet.modelJson.weightsManifest[0].weights.length - 1;
    const message = new RegExp(`weightData holds \\d+ bytes, .* \\(short by 4\\); weightsManifest\\[0\\]\\.weights\\[${last}\\] \\('${resnet.modelJson.weightsManifest[0].weights[last].name}'\\) runs past the end`);
    expectImportError(bad, { field: 'weightData' }, message);
  });

  it('a BatchNormalization over the batch axis', () => {
    const bad = edited(resnet, (j) => {
      layer(j, 'stem_bn').config.axis = 0;
    });
    expectImportError(bad, { layer: 'stem_bn', className: 'BatchNormalization', field: 'config.axis' }, /is 0; it must name one non-batch axis of a rank-4 tensor/);
  });

  it('channels_first data on a channels-last map: carried opaquely, tfjs builds the kernel for other channels, so the stored one is named', () => {
    const bad = edited(resnet, (j) => {
      layer(j, 'b_conv1').config.data_format = 'channels_first';
    });
    expectImportError(bad, { layer: 'b_conv1', className: 'Conv2D', field: "weight 'b_conv1/kernel'" }, /has shape \[3, 3, 8, 16\], expected \[3, 3, 12, 16\]$/);
  });

  it('a read of a call the layer does not have', () => {
    const bad = edited(resnet, (j) => {
      (layer(j, 'logits').inbound_nodes[0][0] as unknown[])[1] = 1;
    });
    expectImportError(bad, { layer: 'logits', className: undefined, field: 'inbound_nodes' }, /reads call 1 of layer 'fc1', which has calls 0\.\.0/);
  });

  it('an inbound layer the model does not define', () => {
    const bad = edited(resnet, (j) => {
      layer(j, 'a_add').inbound_nodes = [[['stem_relu', 0, 0, {}], ['ghost', 0, 0, {}]]];
    });
    expectImportError(bad, { layer: 'a_add', className: undefined, field: 'inbound_nodes' }, /names layer 'ghost', which the model does not define/);
  });

  it('a ReLU with a negative max_value', () => {
    const bad = edited(resnet, (j) => {
      layer(j, 'a_relu1').config.max_value = -4;
    });
    expectImportError(bad, { layer: 'a_relu1', className: 'ReLU', field: 'config.max_value' }, /must be null or a number >= 0, got -4/);
  });

  it('a stride, dilation or pool window past 2^16 (the fuzzer found 2^40 strides and 1e9 pools that tfjs wasm runs as garbage or crashes on)', () => {
    const past = "holds a size past 65536, the most shapefold runs on one axis";
    const stride = edited(resnet, (j) => {
      layer(j, 'b_conv1').config.strides = [2 ** 40, 2];
    });
    expectImportError(stride, { layer: 'b_conv1', className: 'Conv2D', field: 'config.strides' }, new RegExp(`config\\.strides ${past}, got \\[1099511627776,2\\]`));
    const dilation = edited(resnet, (j) => {
      layer(j, 'b_conv2').config.dilation_rate = [2, 65537];
    });
    expectImportError(dilation, { layer: 'b_conv2', className: 'Conv2D', field: 'config.dilation_rate' }, new RegExp(`${past}, got \\[2,65537\\]`));
    const pool = edited(resnet, (j) => {
      layer(j, 'maxpool').config.pool_size = [1e9, 3];
    });
    expectImportError(pool, { layer: 'maxpool', className: 'MaxPooling2D', field: 'config.pool_size' }, new RegExp(`${past}, got \\[1000000000,3\\]`));
  });

  it('a branch shape mismatch, as the IR shape checker words it', () => {
    const bad = edited(resnet, (j) => {
      layer(j, 'a_add').inbound_nodes = [[['stem_relu', 0, 0, {}], ['image', 0, 0, {}]]];
    });
    expectImportError(bad, {}, /add 'a_add': branch shapes differ/);
  });

  it('something that is not a Layers model', () => {
    expectImportError({ modelJson: { nodes: [] } as unknown as LayersModelJSON, weightData: new ArrayBuffer(0) }, {}, /is not a tfjs Layers model/);
  });
});

describe('exportLayersModel refuses what stock Keras layers cannot compute exactly', () => {
  const input: Node = { name: 'x', op: 'input', inputs: [], attrs: { shape: ['N', 4, 6, 6] }, params: {} };
  const conv = (extra: Partial<Extract<Node, { op: 'conv2d' }>['attrs']>, params: Record<string, unknown> = {}): Graph => {
    const attrs = { inChannels: 4, outChannels: 4, kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1, bias: false, ...extra } as const;
    const weight = { shape: [4, 4 / attrs.groups, 3, 3], data: new Float32Array((16 / attrs.groups) * 9) };
    return { nodes: [input, { name: 'c', op: 'conv2d', inputs: ['x'], attrs, params: { weight, ...params } } as Node], inputs: ['x'], outputs: ['c'] };
  };

  it('a grouped conv that is neither plain nor depthwise', () => {
    expect(() => exportLayersModel(conv({ groups: 2 }))).toThrow(LayersExportError);
    expect(() => exportLayersModel(conv({ groups: 2 }))).toThrow(/conv2d 'c': .*groups 2/);
  });

  it('a conv with a tapBias', () => {
    const tapBias = { shape: [4, 3, 3], data: new Float32Array(36).fill(0.5) };
    expect(() => exportLayersModel(conv({}, { tapBias }))).toThrow(/conv2d 'c': .*has a tapBias/);
  });

  it('an op with no Keras layer', () => {
    const graph: Graph = {
      nodes: [input, { name: 'norm', op: 'instanceNorm', inputs: ['x'], attrs: { numFeatures: 4, eps: 1e-5, affine: false }, params: {} }],
      inputs: ['x'],
      outputs: ['norm'],
    };
    expect(() => exportLayersModel(graph)).toThrow(/instanceNorm 'norm': cannot be written as a tfjs Layers model/);
  });

  it('a max pool with explicit padding that is not TF "same"', () => {
    const graph: Graph = {
      nodes: [input, { name: 'p', op: 'maxPool2d', inputs: ['x'], attrs: { kernel: [3, 3], stride: [1, 1], padding: [1, 0, 1, 0] }, params: {} }],
      inputs: ['x'],
      outputs: ['p'],
    };
    expect(() => exportLayersModel(graph)).toThrow(/maxPool2d 'p': .*not TF "same"/);
  });
});
