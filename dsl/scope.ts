/**
 * The graph a DSL program is building. Tensors carry their scope; applying a layer adds nodes to
 * it through `src/ir/builder.ts`, which infers each node's shape at once, so a run-time shape
 * error is raised at the same call as the type error would have been.
 *
 * Names: a layer keeps the name it was given; an unnamed one gets `${op}_${k}`. Inside a named
 * unit (a residual block called 'layer1.0') children are prefixed ('layer1.0.conv1'), as
 * PyTorch's module paths are, so reports point at a recognisable place.
 *
 * Messages name a layer as the type level can: by the name it was given ('conv2d 'conv1': ...'),
 * or by its op alone when it has none, never by the counter of its graph name ('conv2d_2'), which
 * the compiler cannot know; units and sequentials then add their part (dsl/compose.ts).
 */
import { GraphBuilder, type NodeSpec } from '../src/ir/builder.ts';
import { ShapeError, ShapefoldError } from '../src/ir/errors.ts';
import type { Graph, OpKind, Shape } from '../src/ir/graph.ts';

export interface ScopeOptions {
  /** Seed for deterministic parameter initialisation (default 0). */
  readonly seed?: number;
}

export class DslError extends ShapefoldError {
  override readonly name = 'DslError';
}

/** `${op}: ` or `${op} '${name}': `, the run-time twin of the type level's `Prefix`. */
export function messagePrefix(op: string, name: string | undefined): string {
  return name === undefined ? `${op}: ` : `${op} '${name}': `;
}

export class Scope {
  private readonly builder: GraphBuilder;
  private readonly counters = new Map<string, number>();
  private readonly used = new Set<string>();
  private prefix = '';

  constructor(options: ScopeOptions = {}) {
    this.builder = new GraphBuilder({ seed: options.seed ?? 0 });
  }

  input(shape: Shape, name?: string): string {
    const chosen = this.claim(name ?? this.autoName('input'));
    return this.builder.addInput(shape, chosen);
  }

  /** Adds a node; a shape error names it `${label} '${spec.name}': ` or `${label}: `, as the type level does. */
  node<K extends OpKind>(spec: NodeSpec<K>, label: string = spec.op): string {
    const name = this.claim(spec.name === undefined ? this.autoName(spec.op) : this.prefix + spec.name);
    try {
      return this.builder.addNode({ ...spec, name });
    } catch (e) {
      if (e instanceof ShapeError) throw new DslError(`${messagePrefix(label, spec.name)}${e.detail}`, { cause: e });
      throw e;
    }
  }

  shapeOf(node: string): Shape {
    return this.builder.shapeOf(node);
  }

  /** Runs `body` with children named under `unitName` ('unit.child'). */
  within<T>(unitName: string, body: () => T): T {
    const saved = this.prefix;
    this.prefix = `${unitName}.`;
    try {
      return body();
    } finally {
      this.prefix = saved;
    }
  }

  /** A fresh name for a unit with no name of its own, e.g. 'resA_2' (prefix included). */
  unitName(kind: string, name: string | undefined): string {
    return name === undefined ? this.autoName(kind) : this.prefix + name;
  }

  build(outputs: readonly string[]): Graph {
    return this.builder.build(outputs);
  }

  private autoName(op: string): string {
    let k = this.counters.get(this.prefix + op) ?? 0;
    let candidate: string;
    do {
      k += 1;
      candidate = `${this.prefix}${op}_${k}`;
    } while (this.used.has(candidate));
    this.counters.set(this.prefix + op, k);
    return candidate;
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new DslError(`the name '${name}' is used by two layers in one model`);
    this.used.add(name);
    return name;
  }
}
