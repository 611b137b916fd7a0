import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { GraphError, ShapeError } from '../../src/ir/errors.ts';
import type { AttrsByOp, Graph, Node, OpKind, ParamTensor } from '../../src/ir/graph.ts';
import { validateGraph } from '../../src/ir/validate.ts';
import { convAttrs } from './ir-fixtures.ts';

const CONV = convAttrs();
const BN: AttrsByOp['batchNorm'] = { numFeatures: 4, eps: 1e-5, frozen: false, decay: 0.9, unbiasedRunningVar: true };

/** x -> conv 'c' -> batchNorm 'b' -> relu 'r'. */
function chain(): Graph {
  const g = new GraphBuilder({ seed: 3 });
  g.addInput(['N', 3, 'H', 'W'], 'x');
  g.addNode({ op: 'conv2d', name: 'c', inputs: ['x'], attrs: CONV });
  g.addNode({ op: 'batchNorm', name: 'b', inputs: ['c'], attrs: BN });
  g.addNode({ op: 'relu', name: 'r', inputs: ['b'], attrs: {} });
  return g.build(['r']);
}

function node(graph: Graph, name: string): Node {
  const found = graph.nodes.find((n) => n.name === name);
  if (found === undefined) throw new Error(`no node ${name}`);
  return found;
}

/** `graph` with node `name` replaced by `change(node)`. */
function withNode(graph: Graph, name: string, change: (n: Node) => object): Graph {
  return { ...graph, nodes: graph.nodes.map((n) => (n.name === name ? (change(n) as Node) : n)) };
}

function withParam(graph: Graph, name: string, param: string, tensor: ParamTensor | undefined): Graph {
  return withNode(graph, name, (n) => {
    const params: Record<string, ParamTensor | undefined> = { ...n.params, [param]: tensor };
    if (tensor === undefined) delete params[param];
    return { ...n, params };
  });
}

function tensor(shape: number[], fill = 0.5): ParamTensor {
  return { shape, data: new Float32Array(shape.reduce((p, d) => p * d, 1)).fill(fill) };
}

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

function graphOf(nodes: { op: OpKind; name: string; inputs: string[]; attrs: object; params?: object }[], outputs: string[]): Graph {
  return {
    nodes: nodes.map((n) => ({ params: {}, ...n }) as Node),
    inputs: nodes.filter((n) => n.op === 'input').map((n) => n.name),
    outputs,
  };
}

describe('validateGraph', () => {
  it('returns the inferred shape of every node', () => {
    const shapes = validateGraph(chain());
    expect([...shapes.keys()]).toEqual(['x', 'c', 'b', 'r']);
    expect(shapes.get('r')).toEqual(['N', 4, 'H', 'W']);
  });

  it('rejects duplicate and missing names', () => {
    const g = chain();
    expect(() => validateGraph(withNode(g, 'b', (n) => ({ ...n, name: 'c' })))).toThrow(
      "two nodes are named 'c' (nodes #1 and #2)",
    );
    expect(() => validateGraph(withNode(g, 'b', (n) => ({ ...n, name: '' })))).toThrow('node #2 has no name (got "")');
    expect(() => validateGraph(withNode(g, 'b', (n) => ({ ...n, op: 'batchNorm3d' })))).toThrow(
      "node 'b': unknown op 'batchNorm3d'",
    );
  });

  it('tells a dangling input from an out-of-order one and from a cycle', () => {
    const g = chain();
    const dangling = errorOf(() => validateGraph(withNode(g, 'r', (n) => ({ ...n, inputs: ['bn'] }))));
    expect(dangling).toBeInstanceOf(GraphError);
    expect(dangling.message).toBe("relu 'r': input 'bn' is not a node of the graph");
    expect((dangling as GraphError).node).toBe('r');

    const swapped: Graph = { ...g, nodes: [g.nodes[0], g.nodes[1], g.nodes[3], g.nodes[2]] };
    expect(() => validateGraph(swapped)).toThrow(
      "relu 'r': input 'b' is node #3, after this node (#2); nodes must be listed so that every input comes before the node reading it",
    );

    const cycle = withNode(g, 'c', (n) => ({ ...n, inputs: ['r'] }));
    expect(() => validateGraph(cycle)).toThrow("conv2d 'c': input 'r' closes a cycle: 'c' reads 'r', 'r' reads 'b', 'b' reads 'c'");

    const selfLoop = withNode(g, 'r', (n) => ({ ...n, inputs: ['r'] }));
    expect(() => validateGraph(selfLoop)).toThrow("relu 'r': input 'r' closes a cycle: 'r' reads 'r'");
  });

  it('finds a cycle through a branch, and an out-of-order node beside it', () => {
    const a = { op: 'input' as const, name: 'a', inputs: [], attrs: { shape: [2, 3] } };
    const relu = (name: string, input: string) => ({ op: 'relu' as const, name, inputs: [input], attrs: {} });
    const add = { op: 'add' as const, name: 's', inputs: ['a', 'q'], attrs: {} };
    // s reads q, q reads p, p reads s: a cycle through the second input of an add.
    expect(() => validateGraph(graphOf([a, add, relu('p', 's'), relu('q', 'p')], ['q']))).toThrow(
      "add 's': input 'q' closes a cycle: 's' reads 'q', 'q' reads 'p', 'p' reads 's'",
    );
    // s reads q, q reads p, p reads a: only out of order.
    expect(() => validateGraph(graphOf([a, add, relu('p', 'a'), relu('q', 'p')], ['s']))).toThrow(
      "add 's': input 'q' is node #3, after this node (#1)",
    );
  });

  it('requires graph.inputs to be exactly the input nodes', () => {
    const g = chain();
    expect(() => validateGraph({ ...g, inputs: [] })).toThrow("input node 'x' is missing from the graph's inputs");
    expect(() => validateGraph({ ...g, inputs: ['x', 'c'] })).toThrow("graph input 'c' is a conv2d node, not an input node");
    expect(() => validateGraph({ ...g, inputs: ['x', 'y'] })).toThrow("graph input 'y' is not a node of the graph");
    expect(() => validateGraph({ ...g, inputs: ['x', 'x'] })).toThrow("graph input 'x' is listed twice");
  });

  it('requires existing, distinct outputs', () => {
    const g = chain();
    expect(() => validateGraph({ ...g, outputs: [] })).toThrow('the graph has no outputs');
    expect(() => validateGraph({ ...g, outputs: ['out'] })).toThrow("output 'out' is not a node of the graph");
    expect(() => validateGraph({ ...g, outputs: ['r', 'r'] })).toThrow("output 'r' is listed twice");
    expect(validateGraph({ ...g, outputs: ['c', 'r'] }).size).toBe(4);
  });

  it('checks attrs and shapes of every node', () => {
    const g = chain();
    expect(() => validateGraph(withNode(g, 'b', (n) => ({ ...n, attrs: { ...BN, eps: -1 } })))).toThrow(
      "batchNorm 'b': attrs.eps must be a finite number > 0, got -1",
    );
    const e = errorOf(() => validateGraph(withNode(g, 'b', (n) => ({ ...n, attrs: { ...BN, numFeatures: 8 } }))));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toBe("batchNorm 'b': input has 4 channels, layer expects 8");
  });

  it('rejects missing, unexpected and wrongly shaped params', () => {
    const g = chain();
    expect(() => validateGraph(withParam(g, 'c', 'bias', undefined))).toThrow("conv2d 'c': param 'bias' is missing");
    expect(() => validateGraph(withParam(g, 'c', 'weight', tensor([4, 3, 3, 2])))).toThrow(
      "conv2d 'c': param 'weight' has shape [4, 3, 3, 2], expected [4, 3, 3, 3]",
    );
    expect(() => validateGraph(withParam(g, 'c', 'scale', tensor([4])))).toThrow(
      "conv2d 'c': unexpected param 'scale' (this node takes: weight, bias)",
    );
    expect(() => validateGraph(withParam(g, 'r', 'weight', tensor([4])))).toThrow(
      "relu 'r': unexpected param 'weight' (this node takes no params)",
    );
    const noBias = withNode(g, 'c', (n) => ({ ...n, attrs: { ...CONV, bias: false } }));
    expect(() => validateGraph(noBias)).toThrow("conv2d 'c': unexpected param 'bias' (this node takes: weight)");
    expect(() => validateGraph(withParam(g, 'b', 'runningMean', tensor([3])))).toThrow(
      "batchNorm 'b': param 'runningMean' has shape [3], expected [4]",
    );
  });

  it('rejects malformed tensors, non-finite values and negative variances', () => {
    const g = chain();
    const nan = tensor([4, 3, 3, 3]);
    (nan.data as Float32Array)[5] = Number.NaN;
    const nanError = errorOf(() => validateGraph(withParam(g, 'c', 'weight', nan)));
    expect(nanError).toBeInstanceOf(GraphError);
    expect(nanError.message).toBe("conv2d 'c': param 'weight' has a non-finite value NaN at index 5");
    expect((nanError as GraphError).node).toBe('c');
    const inf = tensor([4], Number.NEGATIVE_INFINITY);
    expect(() => validateGraph(withParam(g, 'b', 'gamma', inf))).toThrow(
      "batchNorm 'b': param 'gamma' has a non-finite value -Infinity at index 0",
    );
    const short = { shape: [4], data: new Float32Array(3) };
    expect(() => validateGraph(withParam(g, 'c', 'bias', short))).toThrow(
      "conv2d 'c': param 'bias' has 3 values, its shape [4] needs 4",
    );
    const plain = { shape: [4], data: [0, 0, 0, 0] } as unknown as ParamTensor;
    expect(() => validateGraph(withParam(g, 'c', 'bias', plain))).toThrow(
      "conv2d 'c': param 'bias' must be a { shape, data: Float32Array } tensor",
    );
    expect(() => validateGraph(withNode(g, 'r', (n) => ({ ...n, params: undefined })))).toThrow(
      "relu 'r': params must be an object of named tensors",
    );
    const negative = tensor([4], 1);
    (negative.data as Float32Array)[2] = -0.5;
    expect(() => validateGraph(withParam(g, 'b', 'runningVar', negative))).toThrow(
      "batchNorm 'b': param 'runningVar' is a variance but has -0.5 at index 2",
    );
  });

  it('checks the layout of every op with params', () => {
    const x = (shape: (number | string)[]) => ({ op: 'input' as const, name: 'x', inputs: [], attrs: { shape } });
    const cases: { input: (number | string)[]; op: OpKind; attrs: object; params: Record<string, ParamTensor>; message: string }[] = [
      {
        input: [1, 4, 5, 5],
        op: 'convTranspose2d',
        attrs: { inChannels: 4, outChannels: 6, kernel: [3, 2], stride: [1, 1], padding: [0, 0], outputPadding: [0, 0], dilation: [1, 1], groups: 2, bias: false },
        params: { weight: tensor([6, 2, 3, 2]) },
        message: "convTranspose2d 'n': param 'weight' has shape [6, 2, 3, 2], expected [4, 3, 3, 2]",
      },
      {
        input: [1, 5],
        op: 'linear',
        attrs: { inFeatures: 5, outFeatures: 2, bias: false },
        params: { weight: tensor([5, 2]) },
        message: "linear 'n': param 'weight' has shape [5, 2], expected [2, 5]",
      },
      {
        input: [1, 5],
        op: 'weightNormLinear',
        attrs: { inFeatures: 5, outFeatures: 2, bias: true },
        params: { v: tensor([2, 5]), g: tensor([5]), bias: tensor([2]) },
        message: "weightNormLinear 'n': param 'g' has shape [5], expected [2]",
      },
      {
        input: [1, 8, 2, 2],
        op: 'ibn',
        attrs: { ...BN, numFeatures: 8, instanceChannels: 2 },
        params: { gamma: tensor([8]), beta: tensor([8]), runningMean: tensor([8]), runningVar: tensor([6]) },
        message: "ibn 'n': param 'runningMean' has shape [8], expected [6]",
      },
      {
        input: [1, 4, 2, 2],
        op: 'switchableNorm',
        attrs: { numFeatures: 4, eps: 1e-5, decay: 0.9, unbiasedRunningVar: true },
        params: {
          gamma: tensor([4]),
          beta: tensor([4]),
          runningMean: tensor([4]),
          runningVar: tensor([4]),
          meanWeights: tensor([3]),
          varWeights: tensor([4]),
        },
        message: "switchableNorm 'n': param 'varWeights' has shape [4], expected [3]",
      },
      {
        input: [1, 4, 2, 2],
        op: 'groupNorm',
        attrs: { numChannels: 4, groups: 2, eps: 1e-5, affine: false },
        params: { gamma: tensor([4]) },
        message: "groupNorm 'n': unexpected param 'gamma' (this node takes no params)",
      },
      {
        input: [1, 4, 2, 2],
        op: 'layerNorm',
        attrs: { normalizedShape: [4], over: 'c', eps: 1e-5, affine: true },
        params: { gamma: tensor([4]) },
        message: "layerNorm 'n': param 'beta' is missing",
      },
      {
        input: [1, 4],
        op: 'scaleShift',
        attrs: { numChannels: 4 },
        params: { scale: tensor([4]), shift: tensor([1]) },
        message: "scaleShift 'n': param 'shift' has shape [1], expected [4]",
      },
      {
        input: [1, 2, 3, 3],
        op: 'weightNormConv2d',
        attrs: { ...CONV, inChannels: 2, outChannels: 2, bias: false },
        params: { v: { shape: [2, 2, 3, 3], data: new Float32Array(36).fill(1, 0, 18) }, g: tensor([2]) },
        message: "weightNormConv2d 'n': param 'v' is all zeros for output unit 1",
      },
    ];
    for (const c of cases) {
      const graph = graphOf([x(c.input), { op: c.op, name: 'n', inputs: ['x'], attrs: c.attrs, params: c.params }], ['n']);
      expect(() => validateGraph(graph), c.op).toThrow(c.message);
    }
  });
});
