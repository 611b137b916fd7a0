/**
 * Keras' elementwise merges with broadcasting: multiply, subtract, maximum, minimum, average and
 * broadcastAdd (the IR's `merge` op). The shapes combine as `broadcastShapes` in src/ir/shapes.ts does, mirrored
 * here at type level: every rank raised to the largest by 1s after the channel axis, then per dim
 * the common size, a 1 stretching to the other size (never the batch dim). The input at fault is
 * the error, in the run-time words:
 *
 *   multiply: inputs do not broadcast at dim 1 (C): 32 vs 64
 *
 * (the input at fault is the diagnostic's argument, its shape printed there)
 */
import type { MergeFn, Shape } from '../src/ir/graph.ts';
import { broadcastShapes } from '../src/ir/shapes.ts';
import type { MergeArg, MergeArgs, MergeOut, ShapesOf, TensorArgs, WithKnownOptions } from './compose.ts';
import { MERGE_OPTIONS, mergeInputs } from './compose.ts';
import type { FirstPoisoned, ShapeOrError } from './layer.ts';
import { DslError } from './scope.ts';
import type { DimLabel } from './shape.ts';
import { Tensor } from './tensor.ts';
import type { DimEqual, DimToString, Lt } from './types/index.ts';

type MaxRank<Shapes extends readonly unknown[], R extends number = 0> = Shapes extends readonly [infer S extends Shape, ...infer Rest]
  ? MaxRank<Rest, Lt<R, S['length']> extends true ? S['length'] : R>
  : R;

/** 1s inserted after the channel axis up to `Rank` (src/ir/axes.ts padForBroadcast). */
type PadTo<S, Rank extends number> = S extends readonly [infer N, infer C, ...infer Rest]
  ? S['length'] extends Rank
    ? S
    : PadTo<[N, C, 1, ...Rest], Rank>
  : S;
type PadAll<Shapes extends readonly unknown[], Rank extends number> = { [K in keyof Shapes]: PadTo<Shapes[K], Rank> };

/** The index of the first shape of rank below 2, or -1. */
type FirstLowRank<Shapes extends readonly unknown[], I extends unknown[] = []> = Shapes extends readonly [infer S extends Shape, ...infer Rest]
  ? Lt<S['length'], 2> extends true
    ? I['length']
    : FirstLowRank<Rest, [...I, unknown]>
  : -1;
type AllOfRank<Shapes extends readonly unknown[], Rank extends number> = Shapes[number] extends { readonly length: Rank } ? true : false;

/** One dim after the shapes so far (`Out`) meet `D`: ['ok', dim] or ['fail']. */
type MeetDim<Out, D, I extends number> = DimEqual<Out, D> extends true
  ? ['ok', Out]
  : I extends 0
    ? ['fail']
    : [D] extends [1]
      ? ['ok', Out]
      : [Out] extends [1]
        ? ['ok', D]
        : ['fail'];

type BroadcastDim<Padded extends readonly unknown[], I extends number, Out, K extends unknown[] = [unknown]> = K['length'] extends Padded['length']
  ? ['ok', Out]
  : Padded[K['length']] extends infer S extends Shape
    ? MeetDim<Out, S[I], I> extends ['ok', infer Next]
      ? BroadcastDim<Padded, I, Next, [...K, unknown]>
      : ['fail', K['length'], Out, S[I]]
    : never;

/** ['ok', shape] or [index of the input at fault, message]. */
type BroadcastDims<Padded extends readonly unknown[], Rank extends number, I extends unknown[] = [], Acc extends unknown[] = []> =
  I['length'] extends Rank
    ? ['ok', Acc]
    : Padded[0] extends infer First extends Shape
      ? BroadcastDim<Padded, I['length'], First[I['length']]> extends infer R
        ? R extends ['ok', infer D]
          ? BroadcastDims<Padded, Rank, [...I, unknown], [...Acc, D]>
          : R extends ['fail', infer K, infer Out, infer D]
            ? [K, `inputs do not broadcast at dim ${I['length']} (${DimLabel<Rank, I['length']>}): ${DimToString<Out>} vs ${DimToString<D>}`]
            : never
        : never
      : never;

type Broadcast<Shapes extends readonly unknown[]> = MaxRank<Shapes> extends infer Rank extends number
  ? FirstLowRank<Shapes> extends infer Low extends number
    ? Low extends -1
      ? BroadcastDims<PadAll<Shapes, Rank>, Rank>
      : AllOfRank<Shapes, Rank> extends true
        ? BroadcastDims<Shapes, Rank>
        : [Low, `inputs of rank 1 cannot broadcast against rank ${Rank}`]
    : never
  : never;

/** The merge's verdict: ['ok', shape], the inherited failure, or [index, message] for the input at fault. */
type BroadcastVerdict<Op extends string, Ts extends readonly unknown[]> = Ts['length'] extends 0 | 1
  ? [0, `${Op}: needs at least two tensors`]
  : FirstPoisoned<ShapesOf<Ts>> extends infer P
    ? P extends false
      ? Op extends 'subtract'
        ? Ts['length'] extends 2
          ? Prefixed<Op, Broadcast<ShapesOf<Ts>>>
          : [2, `subtract: takes exactly 2 inputs, got ${Ts['length']}`]
        : Prefixed<Op, Broadcast<ShapesOf<Ts>>>
      : P
    : never;
type Prefixed<Op extends string, V> = V extends [infer K, infer M extends string] ? [K, `${Op}: ${M}`] : V;

type VerdictOf<Op extends string, Args extends readonly unknown[]> = WithKnownOptions<Op, Args, typeof MERGE_OPTIONS, BroadcastVerdict<Op, TensorArgs<Args>>>;
type BroadcastOut<V> = V extends ['ok', infer S] ? (S extends ShapeOrError ? S : never) : MergeOut<V, never>;

/** `op` is the builder's name in messages: the IR's `fn`, or 'broadcastAdd' for its 'add'. */
function broadcastMerge<S extends ShapeOrError>(op: string, fn: MergeFn, args: readonly MergeArg[]): Tensor<S> {
  const { tensors, options, scope } = mergeInputs(op, args);
  if (fn === 'subtract' && tensors.length !== 2) throw new DslError(`subtract: takes exactly 2 inputs, got ${tensors.length}`);
  broadcastShapes(
    tensors.map((t) => t.shape),
    (detail) => {
      throw new DslError(`${op}: ${detail}`);
    },
  );
  return new Tensor<S>(scope, scope.node({ op: 'merge', inputs: tensors.map((t) => t.node), name: options.name, attrs: { fn } }, op));
}

/** Elementwise product with broadcasting (squeeze-excite's channel gate): `multiply(x, gate, { name })`. */
export function multiply<const Args extends readonly MergeArg[]>(...args: MergeArgs<Args, VerdictOf<'multiply', Args>>): Tensor<BroadcastOut<VerdictOf<'multiply', Args>>> {
  return broadcastMerge('multiply', 'multiply', args as unknown as readonly MergeArg[]);
}
/** a - b with broadcasting; exactly two inputs. */
export function subtract<const Args extends readonly MergeArg[]>(...args: MergeArgs<Args, VerdictOf<'subtract', Args>>): Tensor<BroadcastOut<VerdictOf<'subtract', Args>>> {
  return broadcastMerge('subtract', 'subtract', args as unknown as readonly MergeArg[]);
}
/** Elementwise maximum with broadcasting. */
export function maximum<const Args extends readonly MergeArg[]>(...args: MergeArgs<Args, VerdictOf<'maximum', Args>>): Tensor<BroadcastOut<VerdictOf<'maximum', Args>>> {
  return broadcastMerge('maximum', 'maximum', args as unknown as readonly MergeArg[]);
}
/** Elementwise minimum with broadcasting. */
export function minimum<const Args extends readonly MergeArg[]>(...args: MergeArgs<Args, VerdictOf<'minimum', Args>>): Tensor<BroadcastOut<VerdictOf<'minimum', Args>>> {
  return broadcastMerge('minimum', 'minimum', args as unknown as readonly MergeArg[]);
}
/** Elementwise mean with broadcasting. */
export function average<const Args extends readonly MergeArg[]>(...args: MergeArgs<Args, VerdictOf<'average', Args>>): Tensor<BroadcastOut<VerdictOf<'average', Args>>> {
  return broadcastMerge('average', 'average', args as unknown as readonly MergeArg[]);
}
/**
 * Elementwise sum with broadcasting (Keras `Add` on a [N, C, H, W] and a [N, C, 1, 1] input, the
 * IR's merge 'add'); `add` is the residual sum of equal shapes, which names the branch at fault.
 */
export function broadcastAdd<const Args extends readonly MergeArg[]>(...args: MergeArgs<Args, VerdictOf<'broadcastAdd', Args>>): Tensor<BroadcastOut<VerdictOf<'broadcastAdd', Args>>> {
  return broadcastMerge('broadcastAdd', 'add', args as unknown as readonly MergeArg[]);
}
