/**
 * `Tensor<S>`: a value in a model being built, its shape `S` known to the compiler.
 *
 * S is a tuple of dims: number literals (exact sizes), symbol names and canonical symbolic
 * expressions ('N', 'floor((H+1)/2)'), or the wide `number` for a size known only at run time,
 * which every type-level check lets through and the run-time shape inference checks instead.
 * After a failed check S is `ShapeError<message>`: the tensor hovers as the failure and later
 * calls accept it silently, so one mistake gives one diagnostic.
 * `tensor.shape` holds the run-time shape computed by the same formulas.
 */
import type { Graph, Shape } from '../src/ir/graph.ts';
import { isSymbolName } from '../src/shape/dim.ts';
import type { Applied, Layer, ShapeError, ShapeOrError, ToParameter } from './layer.ts';
import { knownOptions, optionNames } from './runtime.ts';
import { DslError, Scope, type ScopeOptions } from './scope.ts';

export class Tensor<S extends ShapeOrError> {
  /** @internal use `input()` or `layer` application */
  constructor(
    readonly scope: Scope,
    readonly node: string,
  ) {}

  get shape(): S {
    return this.scope.shapeOf(this.node) as S;
  }

  /**
   * Applies a layer; a layer that does not fit this shape is a type error in the layer's words,
   * at the config property at fault when the layer is written in this call, else at the argument.
   */
  to<L extends Layer>(layer: ToParameter<L, S>): Tensor<Applied<L, S>> {
    const applied = layer as unknown as Layer;
    return new Tensor(this.scope, applied.apply(this.scope, [this.node]));
  }
}

/**
 * A declared output of shape S (a generated module's return type): a tensor of that shape, or one
 * poisoned upstream, whose failure was reported where it happened and is not reported again here.
 * A tensor of any other valid shape is an error at the return.
 */
export type Returns<S extends Shape> = Tensor<S> | Poisoned;

/**
 * A tensor poisoned upstream, under a name of its own: TypeScript explains a failed assignment to a
 * union against the member that is the same generic type as the source, the first one it created,
 * which would be `Tensor<ShapeError<string>>` ("Property 'shapeError' is missing in type '["N",
 * 10]'"); as an interface it leaves `Tensor<S>` to be compared ("Type '10' is not assignable to
 * type '11'").
 */
export interface Poisoned extends Tensor<ShapeError<string>> {}

type CheckInputDims<S extends Shape, I extends unknown[] = []> = I['length'] extends S['length']
  ? true
  : S[I['length']] extends infer D
    ? number extends D
      ? CheckInputDims<S, [...I, unknown]>
      : D extends number
        ? `${D}` extends `${bigint}`
          ? `${D}` extends `-${string}` | '0'
            ? `input: dim ${I['length']} is ${D}; sizes must be positive integers`
            : CheckInputDims<S, [...I, unknown]>
          : `input: dim ${I['length']} is ${D}; sizes must be positive integers`
        : D extends string
          ? D extends `${infer Head}${infer _Rest}`
            ? Head extends Digit | '+' | '-' | '*' | '/' | '(' | ')' | ' '
              ? `input: dim ${I['length']} '${D}' is not a symbol name (a name like 'N' or 'H')`
              : CheckSymbolTail<D> extends true
                ? CheckInputDims<S, [...I, unknown]>
                : `input: dim ${I['length']} '${D}' is not a symbol name (a name like 'N' or 'H')`
            : `input: dim ${I['length']} is an empty name`
          : `input: dim ${I['length']} must be a number or a symbol name`
    : never;

type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';
type NameChar = Digit | '_' | Lowercase<Letter> | Letter;
type Letter =
  | 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M'
  | 'N' | 'O' | 'P' | 'Q' | 'R' | 'S' | 'T' | 'U' | 'V' | 'W' | 'X' | 'Y' | 'Z';
type CheckSymbolTail<D extends string> = D extends 'floor'
  ? false
  : D extends `${infer C}${infer Rest}`
    ? C extends NameChar
      ? CheckSymbolTail<Rest>
      : false
    : true;

/** Shapes are plain tuples everywhere; `const` inference would make the input's readonly. */
type Writable<S extends Shape> = { -readonly [K in keyof S]: S[K] };

type ValidInput<S extends Shape> = CheckInputDims<S> extends infer R ? (R extends string ? R : S) : never;

export interface InputOptions {
  readonly name?: string;
  /** Build into this scope (for models with several inputs); default: a new scope. */
  readonly scope?: Scope;
}

const INPUT_OPTIONS = optionNames<InputOptions>()(['name', 'scope']);

/** What is wrong with an input dim, in CheckInputDims' words, or undefined. */
function inputDimProblem(d: unknown): string | undefined {
  if (typeof d === 'number') return Number.isInteger(d) && d > 0 ? undefined : `is ${d}; sizes must be positive integers`;
  if (typeof d !== 'string') return 'must be a number or a symbol name';
  if (d === '') return 'is an empty name';
  return isSymbolName(d) ? undefined : `'${d}' is not a symbol name (a name like 'N' or 'H')`;
}

/**
 * A graph input, e.g. `input(['N', 3, 224, 224])`. Dims are positive integer literals, symbol
 * names, or `number` values (checked at run time).
 */
export function input<const S extends Shape>(shape: ValidInput<S>, options: InputOptions = {}): Tensor<Writable<S>> {
  knownOptions('input', options, INPUT_OPTIONS);
  const dims = shape as unknown as Shape;
  dims.forEach((d, i) => {
    const problem = inputDimProblem(d);
    if (problem !== undefined) throw new DslError(`input: dim ${i} ${problem}`);
  });
  const scope = options.scope ?? new Scope();
  return new Tensor<Writable<S>>(scope, scope.input(dims, options.name));
}

/** A new scope for models with several inputs: `const s = scope(); input([...], { scope: s })`. */
export function scope(options: ScopeOptions = {}): Scope {
  return new Scope(options);
}

export interface Model<Out extends ShapeOrError> {
  readonly graph: Graph;
  /** The output's run-time shape; its type is the one the compiler inferred. */
  readonly outputShape: Out;
}

/** Freezes what the output depends on into an IR graph (validated). */
export function model<S extends ShapeOrError>(output: Tensor<S>): Model<S>;
/** A declared output (a generated module's `network(...)`), possibly poisoned upstream. */
export function model<S extends Shape>(output: Returns<S>): Model<S | ShapeError<string>>;
export function model(outputs: readonly Tensor<ShapeOrError>[]): { readonly graph: Graph; readonly outputShapes: Shape[] };
export function model(outputs: Tensor<ShapeOrError> | readonly Tensor<ShapeOrError>[]): unknown {
  const list = (Array.isArray(outputs) ? outputs : [outputs]) as readonly Tensor<Shape>[];
  if (list.length === 0) throw new DslError('model: needs at least one output tensor');
  const owner = list[0].scope;
  if (list.some((t) => t.scope !== owner)) {
    throw new DslError('model: outputs come from different scopes; build them from inputs sharing one scope()');
  }
  const graph = owner.build(list.map((t) => t.node));
  return Array.isArray(outputs) ? { graph, outputShapes: list.map((t) => t.shape) } : { graph, outputShape: list[0].shape };
}
