/**
 * Graphs as JSON, in two forms. Version 2 (`graphToSplitJSON`, what files hold, see graph-file.ts)
 * is the topology alone, each parameter only a shape, its values in one float32 buffer in node
 * and parameter order. Version 1 (`graphToJSON`) keeps every value inline. Parameters are written as plain number arrays: a float32 widened to a double
 * prints (JSON.stringify's shortest round-trip form) and parses back to the same double, which
 * narrows to the same float32, so every value survives exactly. The one exception is JSON's own:
 * JSON.stringify writes -0 as 0. Non-finite values never occur in a valid graph.
 *
 * Reading trusts nothing: the structure is checked field by field, then the graph as a whole
 * (`validateGraph`); every error names the source, and the node and field where it can.
 */
import { isOpKind, show } from './attrs.ts';
import { GraphError, ShapefoldError } from './errors.ts';
import type { Graph, Node, OpKind, ParamTensor } from './graph.ts';
import { validateGraph } from './validate.ts';

export const GRAPH_FORMAT = 'shapefold-graph';
export const GRAPH_VERSION = 1;
/** Topology JSON + a float32 weights buffer. */
export const SPLIT_GRAPH_VERSION = 2;

export interface ParamJSON {
  readonly shape: number[];
  readonly data: number[];
}

/** Where a version-2 graph's parameter values are: a file beside it, checked on reading. */
export interface WeightsRef {
  readonly path: string;
  readonly byteLength: number;
  readonly sha256: string;
}

export interface SplitGraphJSON {
  readonly format: typeof GRAPH_FORMAT;
  readonly version: typeof SPLIT_GRAPH_VERSION;
  readonly nodes: (Omit<NodeJSON, 'params'> & { readonly params: Record<string, { readonly shape: number[] }> })[];
  readonly inputs: string[];
  readonly outputs: string[];
}

export interface NodeJSON {
  readonly name: string;
  readonly op: OpKind;
  readonly inputs: string[];
  readonly attrs: Record<string, unknown>;
  readonly params: Record<string, ParamJSON>;
  readonly tiedTo?: string;
}

export interface GraphJSON {
  readonly format: typeof GRAPH_FORMAT;
  readonly version: typeof GRAPH_VERSION;
  readonly nodes: NodeJSON[];
  readonly inputs: string[];
  readonly outputs: string[];
}

function paramEntries(node: Node): [string, ParamTensor][] {
  return Object.entries(node.params as Readonly<Record<string, ParamTensor>>);
}

export function graphToJSON(graph: Graph): GraphJSON {
  return {
    format: GRAPH_FORMAT,
    version: GRAPH_VERSION,
    nodes: graph.nodes.map((node) => ({
      name: node.name,
      op: node.op,
      inputs: [...node.inputs],
      attrs: structuredClone(node.attrs) as Record<string, unknown>,
      params: Object.fromEntries(
        paramEntries(node).map(([name, t]) => [name, { shape: [...t.shape], data: Array.from(t.data) }]),
      ),
      ...(node.tiedTo === undefined ? {} : { tiedTo: node.tiedTo }),
    })),
    inputs: [...graph.inputs],
    outputs: [...graph.outputs],
  };
}

/** The topology as version-2 JSON, and every parameter's values in one buffer, in the order the JSON lists them. */
export function graphToSplitJSON(graph: Graph): { topology: SplitGraphJSON; weights: Float32Array } {
  const total = graph.nodes.reduce((n, node) => n + paramEntries(node).reduce((m, [, t]) => m + t.data.length, 0), 0);
  const weights = new Float32Array(total);
  let offset = 0;
  const nodes = graph.nodes.map((node) => ({
    name: node.name,
    op: node.op,
    inputs: [...node.inputs],
    attrs: structuredClone(node.attrs) as Record<string, unknown>,
    params: Object.fromEntries(
      paramEntries(node).map(([name, t]) => {
        weights.set(t.data, offset);
        offset += t.data.length;
        return [name, { shape: [...t.shape] }];
      }),
    ),
    ...(node.tiedTo === undefined ? {} : { tiedTo: node.tiedTo }),
  }));
  return {
    topology: { format: GRAPH_FORMAT, version: SPLIT_GRAPH_VERSION, nodes, inputs: [...graph.inputs], outputs: [...graph.outputs] },
    weights,
  };
}

/** A deep copy: no attrs, lists or parameter buffers shared with `graph`. */
export function cloneGraph(graph: Graph): Graph {
  return {
    nodes: graph.nodes.map(
      (node) =>
        ({
          name: node.name,
          op: node.op,
          inputs: [...node.inputs],
          attrs: structuredClone(node.attrs),
          params: Object.fromEntries(
            paramEntries(node).map(([name, t]) => [name, { shape: [...t.shape], data: t.data.slice() }]),
          ),
          ...(node.tiedTo === undefined ? {} : { tiedTo: node.tiedTo }),
        }) as Node,
    ),
    inputs: [...graph.inputs],
    outputs: [...graph.outputs],
  };
}

type Fail = (path: string, problem: string, node?: string) => never;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectRecord(value: unknown, path: string, fail: Fail, node?: string): Record<string, unknown> {
  if (!isRecord(value)) fail(path, `must be an object, got ${show(value)}`, node);
  return value as Record<string, unknown>;
}

function expectKeys(record: Record<string, unknown>, allowed: readonly string[], path: string, fail: Fail, node?: string): void {
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) fail(`${path}.${key}`, `is not a known field (known: ${allowed.join(', ')})`, node);
  }
}

function expectNames(value: unknown, path: string, fail: Fail, node?: string): string[] {
  if (!Array.isArray(value)) fail(path, `must be a list of node names, got ${show(value)}`, node);
  const list = value as unknown[];
  list.forEach((v, i) => {
    if (typeof v !== 'string') fail(`${path}[${i}]`, `must be a node name, got ${show(v)}`, node);
  });
  return list as string[];
}

/** A version-2 graph's parameter values, consumed in order. */
interface WeightsCursor {
  readonly values: Float32Array;
  offset: number;
}

function readParam(value: unknown, path: string, fail: Fail, node: string, weights: WeightsCursor | undefined): ParamTensor {
  const record = expectRecord(value, path, fail, node);
  expectKeys(record, weights === undefined ? ['shape', 'data'] : ['shape'], path, fail, node);
  const { shape, data } = record;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`${path}.shape`, `must be a list of non-negative integers, got ${show(shape)}`, node);
  }
  if (weights !== undefined) {
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    const end = weights.offset + size;
    if (end > weights.values.length) {
      fail(`${path}`, `needs ${size} values at offset ${weights.offset} of the weights file, which holds ${weights.values.length}`, node);
    }
    const tensor = { shape: [...(shape as number[])], data: weights.values.slice(weights.offset, end) };
    weights.offset = end;
    return tensor;
  }
  if (!Array.isArray(data)) fail(`${path}.data`, `must be a list of numbers, got ${show(data)}`, node);
  const values = data as unknown[];
  const bad = values.findIndex((v) => typeof v !== 'number');
  if (bad >= 0) fail(`${path}.data[${bad}]`, `must be a number, got ${show(values[bad])}`, node);
  return { shape: [...(shape as number[])], data: Float32Array.from(values as number[]) };
}

function readNode(value: unknown, index: number, fail: Fail, weights: WeightsCursor | undefined): Node {
  const path = `nodes[${index}]`;
  const record = expectRecord(value, path, fail);
  expectKeys(record, ['name', 'op', 'inputs', 'attrs', 'params', 'tiedTo'], path, fail);
  const { name, op } = record;
  if (typeof name !== 'string' || name === '') fail(`${path}.name`, `must be a non-empty string, got ${show(name)}`);
  const nodeName = name as string;
  const at = `${path} ('${nodeName}')`;
  if (!isOpKind(op)) fail(`${at}.op`, `is not a known op, got ${show(op)}`, nodeName);
  const inputs = expectNames(record.inputs, `${at}.inputs`, fail, nodeName);
  const attrs = expectRecord(record.attrs, `${at}.attrs`, fail, nodeName);
  const params = expectRecord(record.params ?? {}, `${at}.params`, fail, nodeName);
  return {
    name: nodeName,
    op,
    inputs,
    attrs: structuredClone(attrs),
    params: Object.fromEntries(
      Object.entries(params).map(([p, t]) => [p, readParam(t, `${at}.params.${p}`, fail, nodeName, weights)]),
    ),
    ...(record.tiedTo === undefined ? {} : { tiedTo: record.tiedTo }),
  } as unknown as Node;
}

/**
 * Reads and fully validates a graph written by `graphToJSON` (version 1), or by
 * `graphToSplitJSON` (version 2) with its `weights` buffer. `source` (a file name, say) starts
 * every error message; structural errors give the JSON path, the rest come from `validateGraph`.
 */
export function graphFromJSON(json: unknown, source = 'graph JSON', weights?: Float32Array): Graph {
  const fail: Fail = (path, problem, node) => {
    throw new GraphError(`${source}: ${path} ${problem}`, node);
  };
  const root = expectRecord(json, 'the top level', fail);
  if (root.format !== GRAPH_FORMAT) fail('format', `must be '${GRAPH_FORMAT}', got ${show(root.format)}`);
  if (root.version !== GRAPH_VERSION && root.version !== SPLIT_GRAPH_VERSION) {
    fail('version', `must be ${GRAPH_VERSION} or ${SPLIT_GRAPH_VERSION}, got ${show(root.version)}`);
  }
  const split = root.version === SPLIT_GRAPH_VERSION;
  expectKeys(root, ['format', 'version', 'nodes', 'inputs', 'outputs', ...(split ? ['weights'] : [])], 'the top level', fail);
  if (split && weights === undefined) fail('weights', 'are in a separate file: read a version-2 graph with readGraphFile');
  const cursor = split ? { values: weights as Float32Array, offset: 0 } : undefined;
  if (!Array.isArray(root.nodes)) fail('nodes', `must be a list, got ${show(root.nodes)}`);
  const graph: Graph = {
    nodes: (root.nodes as unknown[]).map((node, i) => readNode(node, i, fail, cursor)),
    inputs: expectNames(root.inputs, 'inputs', fail),
    outputs: expectNames(root.outputs, 'outputs', fail),
  };
  if (cursor !== undefined && cursor.offset !== cursor.values.length) {
    fail('weights', `file holds ${cursor.values.length} values, the parameters use ${cursor.offset}`);
  }
  try {
    validateGraph(graph);
  } catch (error) {
    // Keep the error's class and fields (a ShapeError stays one); only say where it came from.
    if (error instanceof ShapefoldError) error.message = `${source}: ${error.message}`;
    throw error;
  }
  return graph;
}
