/**
 * What the matcher and the rewriter look up on a graph, computed once per rewrite step: nodes by
 * name and position, each node's consumers, the graph outputs and every node's inferred shape.
 */
import type { Graph, Node, OpKind, Shape } from '../ir/graph.ts';
import { inferShapes } from '../ir/shapes.ts';

export interface GraphIndex {
  readonly graph: Graph;
  readonly byName: ReadonlyMap<string, Node>;
  readonly position: ReadonlyMap<string, number>;
  readonly consumers: ReadonlyMap<string, readonly Node[]>;
  readonly outputs: ReadonlySet<string>;
  readonly shapes: ReadonlyMap<string, Shape>;
}

export function indexGraph(graph: Graph): GraphIndex {
  const byName = new Map<string, Node>();
  const position = new Map<string, number>();
  const consumers = new Map<string, Node[]>();
  graph.nodes.forEach((node, i) => {
    byName.set(node.name, node);
    position.set(node.name, i);
    for (const input of new Set(node.inputs)) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  });
  return { graph, byName, position, consumers, outputs: new Set(graph.outputs), shapes: inferShapes(graph) };
}

/** Nodes that normalise or rescale, which the report accounts for when they are left in the graph. */
export const NORM_LIKE_OPS: ReadonlySet<OpKind> = new Set<OpKind>([
  'batchNorm',
  'batchRenorm',
  'scaleShift',
  'normalize',
  'layerNorm',
  'instanceNorm',
  'groupNorm',
  'ibn',
  'switchableNorm',
  'weightNormConv2d',
  'weightNormLinear',
]);

/** Ops a per-channel affine can be folded into. */
export const FOLD_TARGET_OPS: ReadonlySet<OpKind> = new Set<OpKind>(['conv2d', 'convTranspose2d', 'linear', 'weightNormConv2d', 'weightNormLinear']);

export function label(node: Pick<Node, 'op' | 'name'>): string {
  return `${node.op} '${node.name}'`;
}
