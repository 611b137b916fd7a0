/**
 * Compile-time switches, set by module augmentation in the user's program:
 *
 *   declare module 'shapefold/dsl' {
 *     interface Settings { strictSizes: true }
 *   }
 *
 * strictSizes: a config size typed `number` rather than a literal (`in: 16 * 5 * 5`, a field of a
 * plain `const` object) is a type error at the builder, saying so. By default such a size is
 * accepted, displayed as `CheckedAtRunTime` in the layer's and the output's type, and checked by
 * the run-time shape inference instead.
 */
import type { BlamedConfig, ConfigVerdict } from './layer.ts';

export interface Settings {}

/** A size the compiler cannot see (typed `number`): the run-time shape inference checks it. */
export type CheckedAtRunTime = number & {};

type IsWideSize<V> = V extends readonly unknown[]
  ? number extends V['length']
    ? true
    : number extends V[number]
      ? true
      : false
  : number extends V
    ? true
    : false;

type FirstWideSize<Op extends string, C, Fields extends readonly string[]> = Fields extends readonly [
  infer F extends string,
  ...infer Rest extends readonly string[],
]
  ? F extends keyof C
    ? IsWideSize<C[F]> extends true
      ? C[F] extends readonly unknown[]
        ? number extends C[F]['length']
          ? `${Op}: ${F} is a number[] of unknown length, so the compiler cannot check it; write it inline or as const`
          : `${Op}: ${F} is typed number, so the compiler cannot check it; write it as a number literal`
        : `${Op}: ${F} is typed number, so the compiler cannot check it; write it as a number literal`
      : FirstWideSize<Op, C, Rest>
    : FirstWideSize<Op, C, Rest>
  : true;

/**
 * The builder's parameter type: with strictSizes on, the message for its first size typed
 * `number`; else the config, its property at fault typed as the message when the layer `L` fails
 * on the input S learned from `.to()` (`ConfigVerdict`, dsl/layer.ts).
 */
export type Sized<Op extends string, C, Fields extends readonly string[], L = never, S = unknown> =
  (Settings extends { readonly strictSizes: true } ? FirstWideSize<Op, C, Fields> : true) extends infer M extends string
    ? M
    : BlamedConfig<C, ConfigVerdict<L, S, C, Fields>>;
