/**
 * The layer protocol shared by every builder.
 *
 * A layer is two things kept side by side: a type-level function from input shape to output
 * shape (an interface extending `ShapeFn`, evaluated by `Call`), and a run-time `apply` that adds
 * IR nodes to a graph scope. The type-level function returns either the output shape or a
 * message string; `Tensor.to` turns a message into the type of its parameter, so a bad layer is
 * reported at the call that applies it, in words.
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

/** `L` itself when it applies to `S`; otherwise the message, which becomes the parameter's type. */
export type Applicable<L, S> = Apply<L, S> extends infer R ? (R extends string ? R : L) : never;

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
