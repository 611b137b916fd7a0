/**
 * Incremental graph construction. Each node's shape is inferred as it is added, so a shape error
 * surfaces at the call that adds the offending layer, not later at build or run time. A failed
 * call leaves the builder as it was.
 *
 * Unnamed nodes are called `${op}_${k}`, k counting from 1 per op and skipping names already
 * taken. Parameters not supplied are initialised from the builder's seed (`init.ts`).
 */
import { GraphError, nodePrefix } from './errors.ts';
import type { AttrsByOp, Graph, Node, OpKind, ParamTensor, ParamsByOp, Shape } from './graph.ts';
import { createRng, initParams } from './init.ts';
import { checkParams } from './params.ts';
import { inferNodeShape } from './shapes.ts';
import { validateGraph } from './validate.ts';

export interface NodeSpec<K extends OpKind> {
  readonly op: K;
  readonly inputs: readonly string[];
  readonly attrs: AttrsByOp[K];
  readonly name?: string;
  readonly params?: Partial<Record<ParamsByOp[K], ParamTensor>>;
}

export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly shapes = new Map<string, Shape>();
  private readonly inputNames: string[] = [];
  private readonly counters = new Map<OpKind, number>();
  private readonly rng: () => number;

  constructor(options: { readonly seed?: number } = {}) {
    this.rng = createRng(options.seed ?? 0);
  }

  /** Adds a graph input; dims are positive integers or symbol names ('N', 'H', ...). */
  addInput(shape: Shape, name?: string): string {
    const [chosen, k] = this.pickName('input', name);
    const node: Node = { name: chosen, op: 'input', inputs: [], attrs: { shape: [...shape] }, params: {} };
    this.commit(node, inferNodeShape(node, []), k);
    this.inputNames.push(chosen);
    return chosen;
  }

  /** Adds a node after its inputs; throws a ShapeError at once if they do not fit it. */
  addNode<K extends OpKind>(spec: NodeSpec<K>): string {
    if (spec.op === 'input') return this.addInput((spec.attrs as AttrsByOp['input']).shape, spec.name);
    const [name, k] = this.pickName(spec.op, spec.name);
    const inputShapes = spec.inputs.map((input) => {
      const shape = this.shapes.get(input);
      if (shape === undefined) {
        throw new GraphError(`${nodePrefix(spec.op, name)}input '${input}' is not a node of this graph`, name);
      }
      return shape;
    });
    const bare = { name, op: spec.op, inputs: [...spec.inputs], attrs: spec.attrs, params: spec.params ?? {} } as Node;
    const shape = inferNodeShape(bare, inputShapes);
    checkParams(bare, { allowMissing: true });
    const params = initParams(spec.op, spec.attrs, inputShapes[0], this.rng, spec.params);
    this.commit({ ...bare, params } as Node, shape, k);
    return name;
  }

  shapeOf(name: string): Shape {
    const shape = this.shapes.get(name);
    if (shape === undefined) throw new GraphError(`no node named '${name}' in this graph`, name);
    return shape;
  }

  /** The graph so far with the given outputs, validated. The builder can keep adding afterwards. */
  build(outputs: readonly string[]): Graph {
    const graph: Graph = { nodes: [...this.nodes], inputs: [...this.inputNames], outputs: [...outputs] };
    validateGraph(graph);
    return graph;
  }

  /** The node's name and, when auto-named, the counter value it used. */
  private pickName(op: OpKind, requested: string | undefined): [string, number | undefined] {
    if (requested !== undefined) {
      if (typeof requested !== 'string' || requested === '') {
        throw new GraphError(`${op}: a node name must be a non-empty string, got ${JSON.stringify(requested)}`);
      }
      if (this.shapes.has(requested)) {
        throw new GraphError(`${nodePrefix(op, requested)}the name is already used by another node`, requested);
      }
      return [requested, undefined];
    }
    let k = this.counters.get(op) ?? 0;
    do k += 1;
    while (this.shapes.has(`${op}_${k}`));
    return [`${op}_${k}`, k];
  }

  private commit(node: Node, shape: Shape, autoNameCounter: number | undefined): void {
    this.nodes.push(node);
    this.shapes.set(node.name, shape);
    if (autoNameCounter !== undefined) this.counters.set(node.op, autoNameCounter);
  }
}
