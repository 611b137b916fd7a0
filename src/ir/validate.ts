/**
 * Whole-graph validation: everything a consumer of a `Graph` may then take for granted.
 *
 *   names      unique, non-empty
 *   order      every input of a node names an earlier node; a reference forward is either a
 *              cycle (the referenced node depends on this one) or just out of order, and the
 *              message says which
 *   interface  graph.inputs are exactly the input nodes; outputs exist
 *   attrs      per-op schema (attrs.ts) and shape rules (shapes.ts)
 *   params     exactly the op's parameters (optional ones if present), right shapes, finite
 *              values (params.ts)
 *   ties       a node `tiedTo` another names an earlier, untied node of the same op with the
 *              same attrs and the same parameter values: one set of weights used twice
 *   outputs    an opaqueOutput node reads an opaque node: the layer whose other output it is
 */
import { isOpKind } from './attrs.ts';
import { GraphError, nodePrefix } from './errors.ts';
import type { Graph, Node, ParamTensor, Shape } from './graph.ts';
import { checkParams } from './params.ts';
import { inferShapes } from './shapes.ts';

function checkNames(nodes: readonly Node[]): Map<string, number> {
  const position = new Map<string, number>();
  nodes.forEach((node, i) => {
    if (typeof node.name !== 'string' || node.name === '') {
      throw new GraphError(`node #${i} has no name (got ${JSON.stringify(node.name)})`);
    }
    if (!isOpKind(node.op)) throw new GraphError(`node '${node.name}': unknown op '${String(node.op)}'`, node.name);
    const earlier = position.get(node.name);
    if (earlier !== undefined) {
      throw new GraphError(`two nodes are named '${node.name}' (nodes #${earlier} and #${i})`, node.name);
    }
    position.set(node.name, i);
  });
  return position;
}

/**
 * The chain by which `from` reaches `target` through inputs, as ['from', ..., 'target'], or
 * undefined when it does not.
 */
function dependencyPath(nodes: readonly Node[], position: ReadonlyMap<string, number>, from: string, target: string): string[] | undefined {
  const cameFrom = new Map<string, string | undefined>([[from, undefined]]);
  const stack = [from];
  while (stack.length > 0) {
    const current = stack.pop() as string;
    if (current === target) {
      const path: string[] = [];
      for (let at: string | undefined = current; at !== undefined; at = cameFrom.get(at)) path.unshift(at);
      return path;
    }
    const index = position.get(current);
    if (index === undefined) continue;
    for (const input of nodes[index].inputs) {
      if (!cameFrom.has(input)) {
        cameFrom.set(input, current);
        stack.push(input);
      }
    }
  }
  return undefined;
}

function checkOrder(nodes: readonly Node[], position: ReadonlyMap<string, number>): void {
  nodes.forEach((node, i) => {
    const prefix = nodePrefix(node.op, node.name);
    if (!Array.isArray(node.inputs) || !node.inputs.every((x) => typeof x === 'string')) {
      throw new GraphError(`${prefix}inputs must be a list of node names`, node.name);
    }
    for (const input of node.inputs) {
      const j = position.get(input);
      if (j === undefined) throw new GraphError(`${prefix}input '${input}' is not a node of the graph`, node.name);
      if (j < i) continue;
      const path = dependencyPath(nodes, position, input, node.name);
      if (path !== undefined) {
        const cycle = [node.name, ...path];
        const reads = cycle.slice(0, -1).map((name, k) => `'${name}' reads '${cycle[k + 1]}'`);
        throw new GraphError(`${prefix}input '${input}' closes a cycle: ${reads.join(', ')}`, node.name);
      }
      throw new GraphError(
        `${prefix}input '${input}' is node #${j}, after this node (#${i}); ` +
          'nodes must be listed so that every input comes before the node reading it',
        node.name,
      );
    }
  });
}

function checkInterface(graph: Graph, position: ReadonlyMap<string, number>): void {
  const listed = new Set<string>();
  for (const name of graph.inputs) {
    const i = position.get(name);
    if (i === undefined) throw new GraphError(`graph input '${name}' is not a node of the graph`, name);
    const op = graph.nodes[i].op;
    if (op !== 'input') throw new GraphError(`graph input '${name}' is a ${op} node, not an input node`, name);
    if (listed.has(name)) throw new GraphError(`graph input '${name}' is listed twice`, name);
    listed.add(name);
  }
  for (const node of graph.nodes) {
    if (node.op === 'input' && !listed.has(node.name)) {
      throw new GraphError(`input node '${node.name}' is missing from the graph's inputs`, node.name);
    }
  }
  if (graph.outputs.length === 0) throw new GraphError('the graph has no outputs');
  const outputs = new Set<string>();
  for (const name of graph.outputs) {
    if (!position.has(name)) throw new GraphError(`output '${name}' is not a node of the graph`, name);
    if (outputs.has(name)) throw new GraphError(`output '${name}' is listed twice`, name);
    outputs.add(name);
  }
}

function sameParams(a: Node, b: Node): string | undefined {
  const pa = a.params as Readonly<Record<string, ParamTensor | undefined>>;
  const pb = b.params as Readonly<Record<string, ParamTensor | undefined>>;
  for (const name of new Set([...Object.keys(pa), ...Object.keys(pb)])) {
    const x = pa[name];
    const y = pb[name];
    if (x === undefined || y === undefined) return `param '${name}' is on only one of them`;
    if (x.data === y.data) continue;
    if (x.shape.length !== y.shape.length || x.shape.some((d, i) => d !== y.shape[i])) return `param '${name}' differs in shape`;
    const at = x.data.findIndex((v, i) => !Object.is(v, y.data[i]));
    if (at >= 0) return `param '${name}' differs at element ${at}`;
  }
  return undefined;
}

function checkTies(nodes: readonly Node[], position: ReadonlyMap<string, number>): void {
  nodes.forEach((node, i) => {
    if (node.tiedTo === undefined) return;
    const prefix = nodePrefix(node.op, node.name);
    const j = position.get(node.tiedTo);
    if (typeof node.tiedTo !== 'string' || j === undefined || j >= i) {
      throw new GraphError(`${prefix}tiedTo ${JSON.stringify(node.tiedTo)} must name an earlier node`, node.name);
    }
    const owner = nodes[j];
    if (owner.tiedTo !== undefined) throw new GraphError(`${prefix}tiedTo '${owner.name}', which is itself tied to '${owner.tiedTo}'; tie to '${owner.tiedTo}'`, node.name);
    if (owner.op !== node.op) throw new GraphError(`${prefix}tiedTo '${owner.name}', a ${owner.op} node; tied nodes share one op`, node.name);
    if (JSON.stringify(owner.attrs) !== JSON.stringify(node.attrs)) throw new GraphError(`${prefix}tiedTo '${owner.name}', whose attrs differ`, node.name);
    const problem = sameParams(owner, node);
    if (problem !== undefined) throw new GraphError(`${prefix}tiedTo '${owner.name}': ${problem}; tied nodes hold the same parameters`, node.name);
  });
}

function checkOpaqueOutputs(nodes: readonly Node[], position: ReadonlyMap<string, number>): void {
  for (const node of nodes) {
    if (node.op !== 'opaqueOutput' || node.inputs.length !== 1) continue;
    const layer = nodes[position.get(node.inputs[0]) ?? -1];
    if (layer?.op !== 'opaque') {
      throw new GraphError(`${nodePrefix(node.op, node.name)}reads '${node.inputs[0]}', ${layer === undefined ? 'no node' : `a ${layer.op} node`}; it selects an output of an opaque node`, node.name);
    }
  }
}

/** Checks the whole graph (see the file comment); returns every node's inferred shape. */
export function validateGraph(graph: Graph, options: ValidateOptions = {}): Map<string, Shape> {
  const position = checkNames(graph.nodes);
  checkOrder(graph.nodes, position);
  checkInterface(graph, position);
  checkTies(graph.nodes, position);
  checkOpaqueOutputs(graph.nodes, position);
  const shapes = inferShapes(graph);
  const recheck = options.checkValuesOf;
  for (const node of graph.nodes) checkParams(node, { values: recheck === undefined || recheck.has(node.name) });
  return shapes;
}

export interface ValidateOptions {
  /**
   * Check parameter values (finite) only for these nodes; shapes and presence are checked for
   * all. For a caller that already checked the values of every other node, e.g. the fold engine
   * re-validating a graph it changed in a few places: scanning every weight again is the
   * dominant cost of folding a large model.
   */
  readonly checkValuesOf?: ReadonlySet<string>;
}
