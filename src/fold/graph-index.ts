/**
 * What the matcher and the rewriter look up on a graph (nodes by name, each node's consumers, the
 * graph outputs, every node's inferred shape), kept up to date while folds rewrite the graph, so
 * that one fold costs time near the nodes it touches, not time proportional to the graph.
 *
 * Node order. A fold puts its replacement chain where its last matched node was and removes the
 * other matched nodes; every other node keeps its relative order. So the original positions are
 * fixed slots, each holding a short ordered list of nodes (one at first): a node's place in the
 * graph is (slot, index in the slot's list). Counts of the nodes before a place come from two
 * Fenwick trees over the slots (all nodes, norm-like nodes), in O(log N).
 *
 * Consumers are listed in node order, as a graph scan would list them. Shapes are inferred once:
 * a fold preserves the shape its last matched node produced, so only the new nodes get shapes.
 */
import { opName } from '../ir/labels.ts';
import type { Graph, Node, OpKind, Shape } from '../ir/graph.ts';
import { FoldIndexError } from './errors.ts';

export interface GraphIndex {
  readonly byName: ReadonlyMap<string, Node>;
  readonly consumers: ReadonlyMap<string, readonly Node[]>;
  readonly outputs: ReadonlySet<string>;
  readonly shapes: ReadonlyMap<string, Shape>;
  /** Node -> the other nodes sharing its parameters (`tiedTo`); no fold rewrites either. */
  readonly tiedWith: ReadonlyMap<string, readonly string[]>;
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
  return `${opName(node)} '${node.name}'`;
}

/** Prefix sums over slots with point updates (a Fenwick tree). */
class SlotCounts {
  private readonly tree: Float64Array;

  constructor(values: ArrayLike<number>) {
    const n = values.length;
    this.tree = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) this.tree[i + 1] = values[i];
    for (let i = 1; i <= n; i++) {
      const parent = i + (i & -i);
      if (parent <= n) this.tree[parent] += this.tree[i];
    }
  }

  add(slot: number, delta: number): void {
    for (let i = slot + 1; i < this.tree.length; i += i & -i) this.tree[i] += delta;
  }

  /** The sum over the slots before `slot`. */
  before(slot: number): number {
    let sum = 0;
    for (let i = slot; i > 0; i -= i & -i) sum += this.tree[i];
    return sum;
  }
}

/** A node of the replacement chain with the shape it produces. */
export interface Placed {
  readonly node: Node;
  readonly shape: Shape;
}

/** The graph being folded, with its index, rewritten in place one fold at a time. */
export class LiveGraph implements GraphIndex {
  readonly byName = new Map<string, Node>();
  readonly consumers = new Map<string, Node[]>();
  readonly outputs: ReadonlySet<string>;
  readonly shapes: Map<string, Shape>;
  readonly tiedWith = new Map<string, string[]>();
  private readonly inputs: readonly string[];
  private readonly outputList: readonly string[];
  private readonly slots: Node[][];
  private readonly slotOf = new Map<string, number>();
  private readonly all: SlotCounts;
  private readonly norms: SlotCounts;
  private count: number;

  /** `shapes`: every node's inferred shape (validateGraph returns them). */
  constructor(graph: Graph, shapes: Map<string, Shape>) {
    this.inputs = [...graph.inputs];
    this.outputList = [...graph.outputs];
    this.outputs = new Set(graph.outputs);
    this.shapes = new Map(shapes);
    this.slots = graph.nodes.map((node) => [node]);
    this.count = graph.nodes.length;
    graph.nodes.forEach((node, slot) => {
      this.byName.set(node.name, node);
      this.slotOf.set(node.name, slot);
      this.consumers.set(node.name, []);
    });
    for (const node of graph.nodes) for (const input of new Set(node.inputs)) this.consumers.get(input)?.push(node);
    for (const node of graph.nodes) {
      if (node.tiedTo === undefined) continue;
      const group = [node.tiedTo, ...(this.tiedWith.get(node.tiedTo) ?? [])];
      for (const member of group) this.tiedWith.set(member, [...(this.tiedWith.get(member) ?? []), node.name]);
      this.tiedWith.set(node.name, group);
    }
    this.all = new SlotCounts(graph.nodes.map(() => 1));
    this.norms = new SlotCounts(graph.nodes.map((n) => (NORM_LIKE_OPS.has(n.op) ? 1 : 0)));
  }

  get size(): number {
    return this.count;
  }

  get slotCount(): number {
    return this.slots.length;
  }

  /** The nodes in a slot, in order (a fold may leave a slot empty or put several nodes in it). */
  nodesIn(slot: number): readonly Node[] {
    return this.slots[slot];
  }

  slotOfNode(node: Node): number {
    const slot = this.slotOf.get(node.name);
    if (slot === undefined) throw new FoldIndexError(`'${node.name}' is not in the graph`);
    return slot;
  }

  /** Every node, in graph order. */
  nodes(): Node[] {
    return this.slots.flat();
  }

  graph(): Graph {
    return { nodes: this.nodes(), inputs: [...this.inputs], outputs: [...this.outputList] };
  }

  /** How many nodes, and how many norm-like nodes, come before `node`. */
  before(node: Node): { readonly nodes: number; readonly norms: number } {
    const slot = this.slotOfNode(node);
    const list = this.slots[slot];
    let nodes = this.all.before(slot);
    let norms = this.norms.before(slot);
    for (const other of list) {
      if (other === node) return { nodes, norms };
      nodes++;
      if (NORM_LIKE_OPS.has(other.op)) norms++;
    }
    throw new FoldIndexError(`'${node.name}' is not in its slot`);
  }

  private static indexIn(list: readonly Node[], node: Node, where: string): number {
    const at = list.indexOf(node);
    if (at < 0) throw new FoldIndexError(`'${node.name}' is missing from ${where}`);
    return at;
  }

  private precedes(a: Node, b: Node): boolean {
    const sa = this.slotOfNode(a);
    const sb = this.slotOfNode(b);
    if (sa !== sb) return sa < sb;
    const list = this.slots[sa];
    return list.indexOf(a) < list.indexOf(b);
  }

  private insertConsumer(input: string, node: Node): void {
    const list = this.consumers.get(input);
    if (list === undefined) throw new FoldIndexError(`input '${input}' of '${node.name}' is not in the graph`);
    let at = list.length;
    while (at > 0 && this.precedes(node, list[at - 1])) at--;
    list.splice(at, 0, node);
  }

  private tally(slot: number, node: Node, sign: 1 | -1): void {
    this.all.add(slot, sign);
    if (NORM_LIKE_OPS.has(node.op)) this.norms.add(slot, sign);
    this.count += sign;
  }

  /**
   * Replaces the matched chain by `replacement` at the last matched node's place; the last matched
   * node's consumers read the last replacement node instead (it keeps the name when it is a graph
   * output, so outputs keep their names). Returns the nodes that are new objects: the replacement
   * and the rewired consumers.
   */
  replace(matched: readonly Node[], replacement: readonly Placed[]): Node[] {
    const last = matched[matched.length - 1];
    const newLast = replacement[replacement.length - 1].node.name;
    const outside = this.consumers.get(last.name) ?? [];
    const slot = this.slotOfNode(last);
    for (const node of matched) {
      for (const input of new Set(node.inputs)) {
        // an inner node's input is the matched node before it, already gone
        const list = this.consumers.get(input);
        if (list !== undefined) list.splice(LiveGraph.indexIn(list, node, `the consumers of '${input}'`), 1);
      }
      const from = this.slotOfNode(node);
      if (node !== last) this.slots[from].splice(LiveGraph.indexIn(this.slots[from], node, 'its slot'), 1);
      this.tally(from, node, -1);
      this.byName.delete(node.name);
      this.slotOf.delete(node.name);
      this.shapes.delete(node.name);
      this.consumers.delete(node.name);
    }
    const list = this.slots[slot];
    list.splice(LiveGraph.indexIn(list, last, 'its slot'), 1, ...replacement.map((p) => p.node));
    for (const { node, shape } of replacement) {
      this.byName.set(node.name, node);
      this.slotOf.set(node.name, slot);
      this.shapes.set(node.name, shape);
      this.consumers.set(node.name, []);
      this.tally(slot, node, 1);
    }
    for (const { node } of replacement) for (const input of new Set(node.inputs)) this.insertConsumer(input, node);

    const rewired = outside.map((node) => ({ ...node, inputs: node.inputs.map((x) => (x === last.name ? newLast : x)) }) as Node);
    rewired.forEach((node, k) => {
      const old = outside[k];
      const at = this.slots[this.slotOfNode(old)];
      at[LiveGraph.indexIn(at, old, 'its slot')] = node;
      this.byName.set(node.name, node);
      for (const input of new Set(node.inputs)) {
        const consumers = this.consumers.get(input);
        if (consumers === undefined) throw new FoldIndexError(`input '${input}' of '${node.name}' is not in the graph`);
        if (input === newLast) consumers.push(node);
        else consumers[LiveGraph.indexIn(consumers, old, `the consumers of '${input}'`)] = node;
      }
    });
    return [...replacement.map((p) => p.node), ...rewired];
  }
}
