/**
 * Layout ops that move values without computing:
 *
 *   reshape       [N, ...] -> [N, ...shape], the non-batch sizes multiplying to the same count;
 *                 one entry may be -1, inferred when the count is a literal size
 *   permute       [N, d_1, ..., d_k] -> [N, d_dims[0], ..., d_dims[k-1]] (Keras Permute, IR axes)
 *   repeatVector  [N, C] -> [N, C, times]
 */
import type { Dim } from '../../src/ir/graph.ts';
import { dimProduct } from '../../src/shape/dim.ts';
import type { Built, Layer, Prefix, ShapeFn } from '../layer.ts';
import { knownOptions, optionNames, requireInteger, reusable } from '../runtime.ts';
import { DslError, messagePrefix } from '../scope.ts';
import type { CheckRank, SpellShape } from '../shape.ts';
import type { DimEqual, DimProduct, DimToString, FloorDiv, Mod, Mul, Sub } from '../types/index.ts';
import type { CheckedAtRunTime, Sized } from '../settings.ts';

type NameOf<C> = C extends { readonly name: infer N extends string } ? N : undefined;

export interface ReshapeConfig {
  /** The sizes after N; one may be -1 (inferred). */
  readonly shape: number[] | readonly number[];
  readonly name?: string;
}
const RESHAPE_OPTIONS = optionNames<ReshapeConfig>()(['shape', 'name']);

type TargetOf<C> = C extends { readonly shape: infer T extends readonly number[] } ? T : [];
type CountInferred<T extends readonly unknown[], Acc extends unknown[] = []> = T extends readonly [infer H, ...infer R]
  ? CountInferred<R, H extends -1 ? [...Acc, unknown] : Acc>
  : Acc['length'];
type KnownProduct<T extends readonly unknown[], P extends number = 1> = T extends readonly [infer H extends number, ...infer R]
  ? KnownProduct<R, H extends -1 ? P : Mul<P, H>>
  : P;
type Fill<T extends readonly unknown[], V> = { -readonly [K in keyof T]: T[K] extends -1 ? V : T[K] };

type ReshapeTo<N, From, T extends readonly number[]> =
  CountInferred<T> extends 0
    ? DimEqual<From, KnownProduct<T>> extends true
      ? [N, ...Fill<T, never>]
      : `cannot reshape ${DimToString<From>} values per sample into ${SpellShape<T>} (${DimToString<KnownProduct<T>>})`
    : CountInferred<T> extends 1
      ? From extends number
        ? number extends From | KnownProduct<T>
          ? [N, ...Fill<T, CheckedAtRunTime>]
          : Mod<From, KnownProduct<T>> extends 0
            ? [N, ...Fill<T, FloorDiv<From, KnownProduct<T>>>]
            : `cannot reshape ${From} values per sample into ${SpellShape<T>}: ${KnownProduct<T>} does not divide ${From}`
        : `cannot reshape ${DimToString<From>} values per sample into ${SpellShape<T>}: -1 needs a literal size`
      : `shape ${SpellShape<T>} may hold one -1`;

type ReshapeOut<C, S> = S extends readonly [infer N, ...infer Rest extends readonly Dim[]]
  ? Rest extends readonly []
    ? `${Prefix<'reshape', NameOf<C>>}expects a rank-2 or higher input [N, ...], got rank 1`
    : ReshapeTo<N, DimProduct<Rest>, TargetOf<C>> extends infer R
      ? R extends string
        ? `${Prefix<'reshape', NameOf<C>>}${R}`
        : R
      : never
  : `${Prefix<'reshape', NameOf<C>>}expects a rank-2 or higher input [N, ...]`;

export interface ReshapeFn<C> extends ShapeFn {
  readonly output: ReshapeOut<C, this['input']>;
}

/** The target with its -1 filled in, or the reason it cannot be (the type-level checks' words). */
function inferredTarget(from: Dim, shape: readonly number[], prefix: string): readonly number[] {
  const spelled = `[${shape.join(', ')}]`;
  const inferred = shape.filter((d) => d === -1).length;
  if (inferred === 0) return shape;
  if (inferred > 1) throw new DslError(`${prefix}shape ${spelled} may hold one -1`);
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
  if (typeof from !== 'number') throw new DslError(`${prefix}cannot reshape ${from} values per sample into ${spelled}: -1 needs a literal size`);
  if (from % known !== 0) throw new DslError(`${prefix}cannot reshape ${from} values per sample into ${spelled}: ${known} does not divide ${from}`);
  return shape.map((d) => (d === -1 ? from / known : d));
}

export interface Reshape<C> extends Layer<ReshapeFn<C>> {}
type ReshapeSizes = ['shape'];
/** Reinterprets each sample's values in a new shape, in IR (NCHW row-major) order. */
export function reshape<const C extends ReshapeConfig, S = unknown, L = Reshape<{ -readonly [K in keyof C]: C[K] }>>(
  config: Sized<'reshape', C, ReshapeSizes, L, S, typeof RESHAPE_OPTIONS>,
): Built<L, S, C, ReshapeSizes, 'reshape', typeof RESHAPE_OPTIONS>;
export function reshape(config: ReshapeConfig): Layer {
  knownOptions('reshape', config, RESHAPE_OPTIONS);
  const op = 'reshape';
  if (config === null || typeof config !== 'object' || !Array.isArray(config.shape) || config.shape.length === 0) {
    throw new DslError(`${op}: shape must be a non-empty list of sizes`);
  }
  const shape = config.shape.map((d, i) => (d === -1 ? -1 : requireInteger(op, `shape[${i}]`, d, 1)));
  const prefix = messagePrefix(op, config.name);
  return reusable(op, (scope, [x]) => {
    const dims = scope.shapeOf(x);
    if (dims.length < 2) throw new DslError(`${prefix}expects a rank-2 or higher input [N, ...], got rank ${dims.length}`);
    const target = inferredTarget(dimProduct(dims.slice(1)), shape, prefix);
    return scope.node({ op, inputs: [x], name: config.name, attrs: { shape: target } });
  });
}

export interface PermuteConfig {
  /** The input axes (IR, >= 1) in their new order, e.g. [2, 3, 1] takes NCHW to NHWC. */
  readonly dims: number[] | readonly number[];
  readonly name?: string;
}
const PERMUTE_OPTIONS = optionNames<PermuteConfig>()(['dims', 'name']);

type DimsOf<C> = C extends { readonly dims: infer D extends readonly number[] } ? D : [];
type CoversAxes<D extends readonly unknown[], Rank extends number, I extends unknown[] = [unknown]> = I['length'] extends Rank
  ? true
  : I['length'] extends D[number]
    ? CoversAxes<D, Rank, [...I, unknown]>
    : false;
type IsPermutation<D extends readonly unknown[], Rank extends number> = D['length'] extends Sub<Rank, 1> ? CoversAxes<D, Rank> : false;

type PickAxes<S extends readonly unknown[], D extends readonly unknown[]> = { -readonly [K in keyof D]: S[D[K] & number] };

type PermuteOut<C, S> = S extends readonly [infer N, ...unknown[]]
  ? IsPermutation<DimsOf<C>, S['length']> extends true
    ? [N, ...PickAxes<S, DimsOf<C>>]
    : `${Prefix<'permute', NameOf<C>>}dims ${SpellShape<DimsOf<C>>} must be a permutation of 1..${Sub<S['length'], 1>} for a rank-${S['length']} input`
  : never;

export interface PermuteFn<C> extends ShapeFn {
  readonly output: PermuteOut<C, this['input']>;
}

export interface Permute<C> extends Layer<PermuteFn<C>> {}
/** Reorders the non-batch axes: axis i+1 of the output is axis dims[i] of the input. */
export function permute<const C extends PermuteConfig, S = unknown, L = Permute<{ -readonly [K in keyof C]: C[K] }>>(
  config: Sized<'permute', C, [], L, S, typeof PERMUTE_OPTIONS>,
): Built<L, S, C, [], 'permute', typeof PERMUTE_OPTIONS>;
export function permute(config: PermuteConfig): Layer {
  knownOptions('permute', config, PERMUTE_OPTIONS);
  const op = 'permute';
  if (config === null || typeof config !== 'object' || !Array.isArray(config.dims)) throw new DslError(`${op}: dims must be a list of axes`);
  const dims = config.dims.map((a, i) => requireInteger(op, `dims[${i}]`, a, 1));
  const prefix = messagePrefix(op, config.name);
  return reusable(op, (scope, [x]) => {
    const rank = scope.shapeOf(x).length;
    const sorted = [...dims].sort((a, b) => a - b);
    if (dims.length !== rank - 1 || sorted.some((a, i) => a !== i + 1)) {
      throw new DslError(`${prefix}dims [${dims.join(', ')}] must be a permutation of 1..${rank - 1} for a rank-${rank} input`);
    }
    return scope.node({ op: 'transpose', inputs: [x], name: config.name, attrs: { perm: [0, ...dims] } }, op);
  });
}

export interface RepeatVectorConfig {
  readonly times: number;
  readonly name?: string;
}
const REPEAT_VECTOR_OPTIONS = optionNames<RepeatVectorConfig>()(['times', 'name']);

export interface RepeatVectorFn<C> extends ShapeFn {
  readonly output: this['input'] extends readonly [infer N, infer Ch]
    ? [N, Ch, C extends { readonly times: infer T } ? T : never]
    : `${Prefix<'repeatVector', NameOf<C>>}${CheckRank<this['input'], 2> & string}`;
}

export interface RepeatVector<C> extends Layer<RepeatVectorFn<C>> {}
type RepeatVectorSizes = ['times'];
/** [N, C] -> [N, C, times]: each vector repeated along a new sequence axis. */
export function repeatVector<const C extends RepeatVectorConfig, S = unknown, L = RepeatVector<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'repeatVector', C, RepeatVectorSizes, L, S, typeof REPEAT_VECTOR_OPTIONS>,
): Built<L, S, C, RepeatVectorSizes, 'repeatVector', typeof REPEAT_VECTOR_OPTIONS>;
export function repeatVector(config: RepeatVectorConfig): Layer {
  knownOptions('repeatVector', config, REPEAT_VECTOR_OPTIONS);
  const op = 'repeatVector';
  const times = requireInteger(op, 'times', config?.times, 1);
  return reusable(op, (scope, [x]) => scope.node({ op, inputs: [x], name: config.name, attrs: { times } }));
}

