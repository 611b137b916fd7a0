/**
 * The layer protocol shared by every builder.
 *
 * A layer is two things kept side by side: a type-level function from input shape to output
 * shape (an interface extending `ShapeFn`, evaluated by `Call`), and a run-time `apply` that adds
 * IR nodes to a graph scope. The type-level function returns either the output shape or a
 * message string; `Tensor.to` turns a message into the type of its parameter, so a bad layer is
 * reported at the call that applies it, in words, and returns a poisoned `Tensor<ShapeError<M>>`
 * that every later call accepts without a word: one mistake, one diagnostic.
 *
 * Each builder returns a named layer type (`Conv2d<{ out: 64; kernel: 3 }>`, `Relu`,
 * `Sequential<[...]>`) holding its config without `readonly`, so that an error's first words,
 * `Argument of type '<layer>'`, stay short and the message follows on the same line.
 *
 * Type-level functions use the interface-with-`this` encoding: `Call<F, S>` intersects `F` with
 * `{ input: S }` and reads `output`, which TypeScript evaluates lazily and caches per (F, S).
 */
import type { Shape } from '../src/ir/graph.ts';
import type { Scope } from './scope.ts';

export interface ShapeFn {
  readonly input: unknown;
  readonly output: unknown;
}

export type Call<F extends ShapeFn, S> = (F & { readonly input: S })['output'];

export interface Layer<F extends ShapeFn = ShapeFn> {
  /** Phantom: carries the type-level shape function; never set at run time. */
  readonly shapeFn?: F;
  /** The op or unit name, as it appears in messages ('conv2d', 'sequential', 'resA', ...). */
  readonly kind: string;
  /** Adds this layer's nodes to `scope` after the nodes named `inputs`; returns the output node's name. */
  apply(scope: Scope, inputs: readonly string[]): string;
}

export type ShapeFnOf<L> = L extends Layer<infer F> ? F : never;

/** The output shape of `L` on input `S`, or the message saying why it does not apply. */
export type Apply<L, S> = Call<ShapeFnOf<L>, S>;

/**
 * The type of a tensor whose shape check failed upstream. It hovers as the failure and every
 * later call passes it through unchecked, so the mistake is reported once, where it was made.
 */
export interface ShapeError<Message extends string> {
  readonly shapeError: Message;
}

/** What a tensor's type parameter may hold: a shape, or the failure that poisoned it. */
export type ShapeOrError = Shape | ShapeError<string>;

/** `L` itself when it applies to `S` (or S is already poisoned); otherwise the message, which becomes the parameter's type. */
export type Applicable<L, S> = [S] extends [ShapeError<string>]
  ? L
  : Apply<L, S> extends infer R
    ? R extends string
      ? R
      : L
    : never;

/** The shape after applying `L` to `S`: the output shape, the new failure, or the old one. */
export type Applied<L, S> = [S] extends [ShapeError<string>]
  ? S
  : Apply<L, S> extends infer R
    ? R extends string
      ? ShapeError<R>
      : R extends Shape
        ? R
        : never
    : never;

/** The first poisoned shape among `Shapes`, or `false`. */
export type FirstPoisoned<Shapes extends readonly unknown[]> = Shapes extends readonly [infer S, ...infer Rest]
  ? [S] extends [ShapeError<string>]
    ? S
    : FirstPoisoned<Rest>
  : false;

/** The first message among a list of checks (`true` = passed), or `true`. */
export type FirstFailure<Checks extends readonly unknown[]> = Checks extends readonly [infer C, ...infer Rest]
  ? C extends string
    ? C
    : FirstFailure<Rest>
  : true;

/** `${op}: ` or `${op} 'name': `, the same prefix run-time shape errors use. */
export type Prefix<Op extends string, Name> = Name extends string
  ? string extends Name
    ? `${Op}: `
    : `${Op} '${Name}': `
  : `${Op}: `;

/**
 * A child's failure inside a unit: a named unit's children are graph nodes named
 * '<unit>.<child>', so `conv2d 'expand': ...` inside mbConv 'b3' reads `conv2d 'b3.expand': ...`.
 * An unnamed unit or child gets a counter in its graph name ('mbConv_2') that the compiler cannot
 * know; then `Otherwise` (the unit's kind first) stands. The run time words it the same way
 * (`withinUnit` in compose.ts).
 */
export type WithinUnit<Unit, Message extends string, Otherwise extends string> = Unit extends string
  ? string extends Unit
    ? Otherwise
    : Message extends `${infer Op} '${infer Child}': ${infer Rest}`
      ? Op extends `${string} ${string}` | `${string}:${string}`
        ? Otherwise
        : `${Op} '${Unit}.${Child}': ${Rest}`
      : Otherwise
  : Otherwise;
