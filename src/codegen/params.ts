/**
 * Parameters moved between two graphs of the same network, node by node: what a generated DSL
 * module's `load()` uses to give its freshly built graph the weights of the model it came from.
 */
import { ShapefoldError } from '../ir/errors.ts';
import type { Graph, Node, ParamTensor } from '../ir/graph.ts';

export class ParamsMismatchError extends ShapefoldError {
  override readonly name = 'ParamsMismatchError';
}

/**
 * `graph` with every node's parameters replaced by those of the node of the same name in
 * `source`. Both must hold the node with the same op and parameters of the same shapes; anything
 * else is a named error (a renamed layer, an edited width), never a silent partial copy.
 */
export function copyParams(graph: Graph, source: Graph): Graph {
  const from = new Map(source.nodes.map((n) => [n.name, n]));
  const nodes = graph.nodes.map((node): Node => {
    const names = Object.keys(node.params);
    if (names.length === 0) return node;
    const other = from.get(node.name);
    const fail = (detail: string): never => {
      throw new ParamsMismatchError(`copyParams: ${node.op} '${node.name}' ${detail}`);
    };
    if (other === undefined) return fail('is not in the source model');
    if (other.op !== node.op) return fail(`is a ${other.op} in the source model`);
    const params: Record<string, ParamTensor> = {};
    for (const name of names) {
      const mine = (node.params as Record<string, ParamTensor>)[name];
      const theirs = (other.params as Record<string, ParamTensor | undefined>)[name];
      if (theirs === undefined) return fail(`has no ${name} in the source model`);
      if (theirs.shape.length !== mine.shape.length || theirs.shape.some((d, i) => d !== mine.shape[i])) {
        return fail(`${name} is [${theirs.shape.join(', ')}] in the source model, [${mine.shape.join(', ')}] here`);
      }
      params[name] = { shape: [...theirs.shape], data: theirs.data.slice() };
    }
    return { ...node, params } as Node;
  });
  return { ...graph, nodes };
}
