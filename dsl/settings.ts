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
export type Sized<Op extends string, C, Fields extends readonly string[], L = never, S = unknown, Options extends readonly string[] = readonly string[]> =
  (Settings extends { readonly strictSizes: true } ? FirstWideSize<Op, C, Fields> : true) extends infer M extends string
    ? M
    : HasUnknownOption<C, Options> extends false
      ? BlamedConfig<C, ConfigVerdict<L, S, C, Fields>>
      : { [K in keyof C]: K extends Options[number] ? C[K] : UnknownOption<Op, K, Options> };

/** Whether the config has a key that is none of the options (never for `any` or an index signature). */
export type HasUnknownOption<C, Options extends readonly string[]> = string extends keyof C ? false : keyof C extends Options[number] ? false : true;

type Join<Names> = Names extends readonly [infer First extends string, ...infer Rest] ? (Rest extends readonly [] ? First : `${First}, ${Join<Rest>}`) : '';

/** What a builder says of a key that is none of its options, as `knownOptions` (dsl/runtime.ts) does at run time. */
export type UnknownOption<Op extends string, Key, Options extends readonly string[]> = `${Op}: unknown option '${Key & string}' (options: ${Join<Options>})`;
