import { describe, expect, it } from 'vitest';
import { GraphError } from '../../src/ir/errors.ts';
import type { Graph, Node, ParamTensor } from '../../src/ir/graph.ts';
import { ReferenceRunError } from '../../src/reference/errors.ts';
import { conv2d } from '../../src/reference/ops/conv2d.ts';
import { linear } from '../../src/reference/ops/linear.ts';
import { runReference, toFloat64 } from '../../src/reference/run.ts';
import { inputNode, makeRng, maxAbsDiff, p32, randomTensor, singleOpGraph } from './reference-fixtures.ts';

const rng = makeRng(42);
const randomParam = (shape: number[], low = -1, high = 1): ParamTensor => {
  const t = randomTensor(shape, rng, low, high);
  return p32(shape, t.data);
};

const convWeight = randomParam([4, 3, 3, 3]);
const convBias = randomParam([4]);
const linearParams = { weight: randomParam([2, 4]), bias: randomParam([2]) };
const bnParams = { gamma: randomParam([4], 0.5, 2), beta: randomParam([4]), runningMean: randomParam([4]), runningVar: randomParam([4], 0.5, 2) };

/** x [N, 3, 8, 8] -> conv 3x3 'same' -> batchNorm -> relu -> maxPool 2x2 -> globalAvgPool -> linear -> logits */
function smallNet(): Graph {
  const nodes: Node[] = [
    inputNode('x', ['N', 3, 8, 8]),
    { name: 'conv', op: 'conv2d', inputs: ['x'], params: { weight: convWeight, bias: convBias },
      attrs: { inChannels: 3, outChannels: 4, kernel: [3, 3], stride: [1, 1], padding: 'same', dilation: [1, 1], groups: 1, bias: true } },
    { name: 'bn', op: 'batchNorm', inputs: ['conv'], params: bnParams,
      attrs: { numFeatures: 4, eps: 1e-3, frozen: false, decay: 0.99, unbiasedRunningVar: false } },
    { name: 'act', op: 'relu', inputs: ['bn'], attrs: {}, params: {} },
    { name: 'pool', op: 'maxPool2d', inputs: ['act'], attrs: { kernel: [2, 2], stride: [2, 2], padding: 'valid' }, params: {} },
    { name: 'gap', op: 'globalAvgPool', inputs: ['pool'], attrs: { keepDims: false }, params: {} },
    { name: 'logits', op: 'linear', inputs: ['gap'], params: linearParams,
      attrs: { inFeatures: 4, outFeatures: 2, bias: true } },
  ];
  return { nodes, inputs: ['x'], outputs: ['logits'] };
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('toFloat64', () => {
  it('widens float32 params exactly into a fresh array', () => {
    const p = p32([2, 2], [0.1, -3, 1e-8, 65504]);
    const t = toFloat64(p);
    expect(t.shape).toEqual([2, 2]);
    expect(Array.from(t.data)).toEqual(Array.from(p.data));
    expect(t.data).toBeInstanceOf(Float64Array);
  });
});

describe('runReference', () => {
  const x = randomTensor([2, 3, 8, 8], rng);

  it('reads conv and linear weights as stored in float32: the same values as on widened copies, bit for bit', () => {
    const graph = smallNet();
    const { values } = runReference(graph, { x });
    const [, conv, , , , , logits] = graph.nodes as [Node, Extract<Node, { op: 'conv2d' }>, Node, Node, Node, Node, Extract<Node, { op: 'linear' }>];
    const widened = (params: Record<string, ParamTensor>) => Object.fromEntries(Object.entries(params).map(([k, p]) => [k, toFloat64(p)]));
    expect(Array.from(values.get('conv')!.data)).toEqual(Array.from(conv2d(x, widened(conv.params), conv.attrs).data));
    expect(Array.from(values.get('logits')!.data)).toEqual(Array.from(linear(values.get('gap')!, widened(logits.params), logits.attrs).data));
  });

  it('records every node, returns the outputs by name, and binds the symbolic batch', () => {
    const result = runReference(smallNet(), { x });
    expect([...result.values.keys()]).toEqual(['x', 'conv', 'bn', 'act', 'pool', 'gap', 'logits']);
    expect(result.values.get('conv')?.shape).toEqual([2, 4, 8, 8]);
    expect(result.values.get('pool')?.shape).toEqual([2, 4, 4, 4]);
    expect(result.outputs.logits.shape).toEqual([2, 2]);
    expect(result.outputs.logits).toBe(result.values.get('logits'));
    expect(result.updatedStats.size).toBe(0);
    const single = runReference(smallNet(), { x: { shape: [1, 3, 8, 8], data: x.data.slice(0, 192) } });
    expect(maxAbsDiff(single.outputs.logits.data, result.outputs.logits.data.slice(0, 2))).toBeLessThan(1e-15);
  });

  it('in eval mode, conv -> batchNorm equals the conv with BatchNorm folded into its weight and bias', () => {
    const graph = smallNet();
    const reference = runReference(graph, { x }).values.get('bn');
    const folded = new Float64Array(convWeight.data.length);
    const foldedBias = new Float64Array(4);
    for (let c = 0; c < 4; c++) {
      const scale = bnParams.gamma.data[c] / Math.sqrt(bnParams.runningVar.data[c] + 1e-3);
      for (let i = 0; i < 27; i++) folded[c * 27 + i] = convWeight.data[c * 27 + i] * scale;
      foldedBias[c] = (convBias.data[c] - bnParams.runningMean.data[c]) * scale + bnParams.beta.data[c];
    }
    const conv = graph.nodes[1];
    const foldedGraph: Graph = {
      nodes: [graph.nodes[0], { ...conv, params: { weight: p32([4, 3, 3, 3], folded), bias: p32([4], foldedBias) } } as Node],
      inputs: ['x'],
      outputs: ['conv'],
    };
    const viaFold = runReference(foldedGraph, { x }).outputs.conv;
    // The folded params are stored in float32, so agreement is to float32 precision.
    expect(maxAbsDiff(viaFold.data, reference?.data ?? [])).toBeLessThan(1e-5);
  });

  it('in train mode reports new running statistics and leaves the graph untouched', () => {
    const graph = smallNet();
    const before = JSON.stringify(graph, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v));
    const train = runReference(graph, { x }, { mode: 'train' });
    expect([...train.updatedStats.keys()]).toEqual(['bn']);
    const conv = train.values.get('conv');
    const stats = train.updatedStats.get('bn');
    for (let c = 0; c < 4; c++) {
      let sum = 0;
      for (let n = 0; n < 2; n++) for (let i = 0; i < 64; i++) sum += conv?.data[(n * 4 + c) * 64 + i] ?? NaN;
      expect(stats?.runningMean[c]).toBeCloseTo(0.99 * bnParams.runningMean.data[c] + 0.01 * (sum / 128), 12);
    }
    const after = JSON.stringify(graph, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v));
    expect(after).toBe(before);
    expect(maxAbsDiff(train.outputs.logits.data, runReference(graph, { x }).outputs.logits.data)).toBeGreaterThan(1e-6);
  });

  it('evaluates multi-input nodes (add, concat) in argument order', () => {
    const a = inputNode('a', [1, 2, 1, 1]);
    const b = inputNode('b', [1, 1, 1, 1]);
    const graph: Graph = {
      nodes: [
        a, b,
        { name: 'cat', op: 'concat', inputs: ['b', 'a'], attrs: {}, params: {} },
        { name: 'sum', op: 'add', inputs: ['cat', 'cat', 'cat'], attrs: {}, params: {} },
      ],
      inputs: ['a', 'b'],
      outputs: ['sum', 'cat'],
    };
    const result = runReference(graph, { a: { shape: [1, 2, 1, 1], data: Float64Array.of(1, 2) }, b: { shape: [1, 1, 1, 1], data: Float64Array.of(7) } });
    expect(Array.from(result.outputs.cat.data)).toEqual([7, 1, 2]);
    expect(Array.from(result.outputs.sum.data)).toEqual([21, 3, 6]);
  });
});

describe('runReference errors', () => {
  const x = randomTensor([2, 3, 8, 8], rng);

  it('names a missing, unknown or misshapen input', () => {
    expect(() => runReference(smallNet(), {})).toThrow(/^input 'x': no value given for this graph input$/);
    expect(() => runReference(smallNet(), { x, y: x })).toThrow(/inputs has 'y', which is not a graph input/);
    const error = thrown(() => runReference(smallNet(), { x: randomTensor([2, 4, 8, 8], rng) }));
    expect(error).toBeInstanceOf(ReferenceRunError);
    expect((error as ReferenceRunError).name).toBe('ReferenceRunError');
    expect((error as ReferenceRunError).node).toBe('x');
    expect((error as Error).message).toMatch(/dim 1 is 4, expected 3 \(declared \[N, 3, 8, 8\]\)/);
    expect(() => runReference(smallNet(), { x: randomTensor([2, 3, 8], rng) })).toThrow(/expected rank 4/);
    expect(() => runReference(smallNet(), { x: { shape: [2, 3, 8, 8], data: new Float64Array(5) } })).toThrow(/but 5 values/);
  });

  it('binds a symbolic dim to one value across inputs', () => {
    const graph: Graph = {
      nodes: [inputNode('a', ['N', 2]), inputNode('b', ['N', 2]), { name: 's', op: 'add', inputs: ['a', 'b'], attrs: {}, params: {} }],
      inputs: ['a', 'b'],
      outputs: ['s'],
    };
    expect(() => runReference(graph, { a: randomTensor([3, 2], rng), b: randomTensor([4, 2], rng) }))
      .toThrow(/input 'b': .*dim 0 \('N'\) is 4, but 'N' is 3 in input 'a'/);
  });

  it('names the node and the param for a wrong or missing param', () => {
    const graph = smallNet();
    const badConv = { ...graph.nodes[1], params: { weight: p32([4, 3, 3, 1], new Float32Array(36)), bias: convBias } } as Node;
    const error = thrown(() => runReference({ ...graph, nodes: graph.nodes.map((n) => (n.name === 'conv' ? badConv : n)) }, { x }));
    expect(error).toBeInstanceOf(ReferenceRunError);
    expect((error as Error).message).toBe("conv2d 'conv': param 'weight' has shape [4, 3, 3, 1], expected [4, 3, 3, 3]");
    expect((error as ReferenceRunError).node).toBe('conv');

    const noVar = { ...graph.nodes[2], params: { ...bnParams, runningVar: undefined } } as Node;
    expect(() => runReference({ ...graph, nodes: graph.nodes.map((n) => (n.name === 'bn' ? noVar : n)) }, { x }))
      .toThrow(/^batchNorm 'bn': param 'runningVar' is missing \(expected shape \[4\]\)$/);

    const torn = { ...graph.nodes[1], params: { weight: { shape: [4, 3, 3, 3], data: new Float32Array(3) }, bias: convBias } } as Node;
    expect(() => runReference({ ...graph, nodes: graph.nodes.map((n) => (n.name === 'conv' ? torn : n)) }, { x }))
      .toThrow(/conv2d 'conv': param 'weight' has shape \[4, 3, 3, 3\] \(108 values\) but 3 values/);
  });

  it('names the node whose input does not fit it', () => {
    const graph = singleOpGraph('linear', { inFeatures: 5, outFeatures: 2, bias: false }, { weight: p32([2, 5], new Float32Array(10)) }, ['N', 4]);
    expect(() => runReference(graph, { x: randomTensor([1, 4], rng) })).toThrow(/^linear 'y': input dim 1 \(C\) is 4, expected 5 \(attrs.inFeatures\)/);
  });

  it('rejects malformed attrs with the IR GraphError', () => {
    const graph = singleOpGraph('leakyRelu', { alpha: Number.NaN }, {}, [1, 2]);
    expect(() => runReference(graph, { x: randomTensor([1, 2], rng) })).toThrow(GraphError);
  });

  it('rejects structural problems: unknown or later inputs, unknown outputs, duplicate names', () => {
    const relu = (name: string, from: string): Node => ({ name, op: 'relu', inputs: [from], attrs: {}, params: {} });
    const value = { x: randomTensor([1, 2], rng) };
    const base = inputNode('x', [1, 2]);
    expect(() => runReference({ nodes: [base, relu('r', 'q')], inputs: ['x'], outputs: ['r'] }, value)).toThrow(/relu 'r': input 'q' is not a node/);
    expect(() => runReference({ nodes: [base, relu('r', 's'), relu('s', 'x')], inputs: ['x'], outputs: ['r'] }, value))
      .toThrow(/relu 'r': input 's' comes later in graph.nodes/);
    expect(() => runReference({ nodes: [base, relu('r', 'x')], inputs: ['x'], outputs: ['z'] }, value)).toThrow(/graph output 'z' is not a node/);
    expect(() => runReference({ nodes: [base, relu('r', 'x'), relu('r', 'x')], inputs: ['x'], outputs: ['r'] }, value)).toThrow(/relu 'r': a second node has this name/);
    expect(() => runReference({ nodes: [base, relu('r', 'x'), relu('r2', 'x')].map((n) => (n.name === 'r2' ? { ...n, inputs: ['x', 'r'] } : n)) as Node[], inputs: ['x'], outputs: ['r2'] }, value))
      .toThrow(/relu 'r2': takes 1 input, got 2/);
  });
});
