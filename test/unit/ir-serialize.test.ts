import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { GraphError, ShapeError } from '../../src/ir/errors.ts';
import type { Graph, ParamTensor } from '../../src/ir/graph.ts';
import { cloneGraph, graphFromJSON, graphToJSON } from '../../src/ir/serialize.ts';

/** Float32 values that stress printing: extremes, subnormals, values with long decimal forms. */
const AWKWARD = [
  0.1, -1 / 3, Math.PI, 3.4028234663852886e38, -3.4028234663852886e38, 1.1754943508222875e-38, 1.401298464324817e-45,
  -1.401298464324817e-45, 16777217, 0.30000001192092896, 1e-7, 65504,
];

function sample(): Graph {
  const g = new GraphBuilder({ seed: 9 });
  const x = g.addInput(['N', 3, 'H', 'W'], 'image');
  const bias = { shape: [4], data: new Float32Array([AWKWARD[0], AWKWARD[1], AWKWARD[2], AWKWARD[3]]) };
  const c = g.addNode({
    op: 'conv2d',
    name: 'stem',
    inputs: [x],
    attrs: { inChannels: 3, outChannels: 4, kernel: [3, 3], stride: [2, 2], padding: 'same', dilation: [1, 1], groups: 1, bias: true },
    params: { bias },
  });
  const n = g.addNode({ op: 'normalize', inputs: [c], attrs: { mean: [1, 2, 3, 4], std: [0.5, 0.25, 1, 2] } });
  const b = g.addNode({
    op: 'batchRenorm',
    name: 'bn',
    inputs: [n],
    attrs: { numFeatures: 4, eps: 1e-3, rMax: 3, dMax: 5, sigma: 'movingStddev', renormDecay: 0.9, warmup: { holdSteps: 2, rMaxSteps: 9, dMaxSteps: 5 }, decay: 0.99, unbiasedRunningVar: false },
    params: { runningVar: { shape: [4], data: new Float32Array(AWKWARD.slice(4, 8).map(Math.abs)) } },
  });
  const p = g.addNode({ op: 'avgPool2d', inputs: [b], attrs: { kernel: [2, 2], stride: [2, 2], padding: [1, 1, 0, 0], countIncludePad: false } });
  const f = g.addNode({ op: 'flatten', inputs: [p], attrs: {} });
  return g.build([f, c]);
}

function bits(t: ParamTensor): number[] {
  return Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length));
}

/** Every parameter of a graph, by 'node.param', as raw float32 bit patterns. */
function paramBits(graph: Graph): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const node of graph.nodes) {
    for (const [name, t] of Object.entries(node.params as Record<string, ParamTensor>)) out[`${node.name}.${name}`] = bits(t);
  }
  return out;
}

function param(graph: Graph, index: number, name: string): ParamTensor {
  return (graph.nodes[index].params as Record<string, ParamTensor>)[name];
}

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('graphToJSON / graphFromJSON', () => {
  it('round-trips through JSON text bit for bit', () => {
    const graph = sample();
    const text = JSON.stringify(graphToJSON(graph));
    const back = graphFromJSON(JSON.parse(text), 'model.json');
    expect(paramBits(back)).toEqual(paramBits(graph));
    expect(back.nodes.map((n) => [n.name, n.op, n.inputs, n.attrs])).toEqual(graph.nodes.map((n) => [n.name, n.op, n.inputs, n.attrs]));
    expect([back.inputs, back.outputs]).toEqual([graph.inputs, graph.outputs]);
    // Writing the read graph again gives the same text.
    expect(JSON.stringify(graphToJSON(back))).toBe(text);
  });

  it('keeps awkward float32 values exact, and -0 when not passed through JSON text', () => {
    const graph = sample();
    const json = graphToJSON(graph);
    const stem = json.nodes[1];
    stem.params.weight.data.splice(0, AWKWARD.length + 1, ...AWKWARD.map((v) => Math.fround(v)), -0);
    const expected = Float32Array.from(stem.params.weight.data);
    const direct = graphFromJSON(json);
    expect(bits(param(direct, 1, 'weight'))).toEqual(Array.from(new Uint32Array(expected.buffer)));
    const viaText = graphFromJSON(JSON.parse(JSON.stringify(json)));
    const textBits = bits(param(viaText, 1, 'weight'));
    expect(textBits.slice(0, AWKWARD.length)).toEqual(Array.from(new Uint32Array(expected.buffer)).slice(0, AWKWARD.length));
    // JSON.stringify writes -0 as 0: the one value JSON text cannot carry.
    expect(textBits[AWKWARD.length]).toBe(0);
  });

  it('writes format and version, with plain arrays', () => {
    const json = graphToJSON(sample());
    expect(json.format).toBe('shapefold-graph');
    expect(json.version).toBe(1);
    expect(Array.isArray(json.nodes[1].params.weight.data)).toBe(true);
    expect(json.nodes[1].params.weight.shape).toEqual([4, 3, 3, 3]);
  });

  it('does not share state with the JSON it read', () => {
    const json = graphToJSON(sample());
    const graph = graphFromJSON(json);
    (json.nodes[2].attrs.mean as number[])[0] = 99;
    json.nodes[1].params.bias.data[0] = 99;
    expect(graph.nodes.find((n) => n.name === 'normalize_1')?.attrs).toEqual({ mean: [1, 2, 3, 4], std: [0.5, 0.25, 1, 2] });
    expect(param(graph, 1, 'bias').data[0]).toBe(Math.fround(0.1));
  });
});

describe('graphFromJSON errors name the source, node and field', () => {
  const good = () => JSON.parse(JSON.stringify(graphToJSON(sample())));

  it('checks the top level', () => {
    expect(() => graphFromJSON(3, 'model.json')).toThrow('model.json: the top level must be an object, got 3');
    expect(() => graphFromJSON({ ...good(), format: 'onnx' }, 'model.json')).toThrow(
      `model.json: format must be 'shapefold-graph', got "onnx"`,
    );
    expect(() => graphFromJSON({ ...good(), version: 3 }, 'model.json')).toThrow('model.json: version must be 1 or 2, got 3');
    expect(() => graphFromJSON({ ...good(), version: 2 }, 'model.json')).toThrow(
      'model.json: weights are in a separate file: read a version-2 graph with readGraphFile',
    );
    expect(() => graphFromJSON({ ...good(), nodes: {} }, 'model.json')).toThrow('model.json: nodes must be a list, got {}');
    expect(() => graphFromJSON({ ...good(), outputs: 'flatten_1' }, 'model.json')).toThrow(
      'model.json: outputs must be a list of node names, got "flatten_1"',
    );
    expect(() => graphFromJSON({ ...good(), extra: 1 })).toThrow(
      'graph JSON: the top level.extra is not a known field (known: format, version, nodes, inputs, outputs)',
    );
  });

  it('checks each node', () => {
    const json = good();
    json.nodes[1].op = 'conv3d';
    const e = errorOf(() => graphFromJSON(json, 'model.json'));
    expect(e).toBeInstanceOf(GraphError);
    expect(e.message).toBe(`model.json: nodes[1] ('stem').op is not a known op, got "conv3d"`);
    expect((e as GraphError).node).toBe('stem');

    const unnamed = good();
    unnamed.nodes[2].name = 7;
    expect(() => graphFromJSON(unnamed, 'model.json')).toThrow('model.json: nodes[2].name must be a non-empty string, got 7');

    const badInputs = good();
    badInputs.nodes[2].inputs = ['stem', 3];
    expect(() => graphFromJSON(badInputs, 'model.json')).toThrow(
      "model.json: nodes[2] ('normalize_1').inputs[1] must be a node name, got 3",
    );
  });

  it('checks each parameter tensor', () => {
    const nan = good();
    nan.nodes[1].params.weight.data[4] = null; // what JSON.stringify makes of NaN
    expect(() => graphFromJSON(nan, 'model.json')).toThrow(
      "model.json: nodes[1] ('stem').params.weight.data[4] must be a number, got null",
    );
    const badShape = good();
    badShape.nodes[1].params.weight.shape = [4, 3, -3, 3];
    expect(() => graphFromJSON(badShape, 'model.json')).toThrow(
      "model.json: nodes[1] ('stem').params.weight.shape must be a list of non-negative integers, got [4, 3, -3, 3]",
    );
    const extraField = good();
    extraField.nodes[1].params.bias.dtype = 'float32';
    expect(() => graphFromJSON(extraField, 'model.json')).toThrow(
      "model.json: nodes[1] ('stem').params.bias.dtype is not a known field (known: shape, data)",
    );
  });

  it('runs full validation, keeping the error class', () => {
    const wrongShape = good();
    wrongShape.nodes[1].params.weight.shape = [4, 3, 9];
    wrongShape.nodes[1].params.weight.data = wrongShape.nodes[1].params.weight.data.slice(0, 108);
    expect(() => graphFromJSON(wrongShape, 'model.json')).toThrow(
      "model.json: conv2d 'stem': param 'weight' has shape [4, 3, 9], expected [4, 3, 3, 3]",
    );
    const channels = good();
    channels.nodes[0].attrs.shape = ['N', 4, 'H', 'W'];
    const e = errorOf(() => graphFromJSON(channels, 'model.json'));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toBe("model.json: conv2d 'stem': input has 4 channels, layer expects 3");
    const badAttr = good();
    badAttr.nodes[3].attrs.decay = 2;
    expect(() => graphFromJSON(badAttr, 'model.json')).toThrow("model.json: batchRenorm 'bn': attrs.decay must be a number in [0, 1], got 2");
    const dangling = good();
    dangling.outputs = ['head'];
    expect(() => graphFromJSON(dangling, 'model.json')).toThrow("model.json: output 'head' is not a node of the graph");
  });
});

describe('cloneGraph', () => {
  it('copies deeply: changing the copy leaves the original alone', () => {
    const graph = sample();
    const copy = cloneGraph(graph);
    expect(paramBits(copy)).toEqual(paramBits(graph));
    expect(copy).toEqual(graph);
    const stemCopy = param(copy, 1, 'weight');
    (stemCopy.data as Float32Array)[0] = 123;
    (copy.nodes[2].attrs as unknown as { mean: number[] }).mean[0] = 123;
    (copy.nodes[1].inputs as string[])[0] = 'other';
    expect(param(graph, 1, 'weight').data[0]).not.toBe(123);
    expect((graph.nodes[2].attrs as unknown as { mean: number[] }).mean[0]).toBe(1);
    expect(graph.nodes[1].inputs[0]).toBe('image');
  });
});
