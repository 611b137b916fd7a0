/**
 * Type-level shape checks and the words they fail with. Each mirrors a run-time check in
 * `src/ir/shapes.ts`, with the same message text after the `op 'name': ` prefix.
 */
import type { Shape } from '../src/ir/graph.ts';
import type { DimEqual, DimToString, Lt } from './types/index.ts';

export type { Shape };

type Rank4Labels = ['N', 'C', 'H', 'W'];
type Rank2Labels = ['N', 'C'];

export type DimLabel<Rank extends number, I extends number> = Rank extends 4
  ? Rank4Labels[I]
  : Rank extends 2
    ? Rank2Labels[I]
    : `dim ${I}`;

export type LabelList<Rank extends number> = Rank extends 4 ? 'N, C, H, W' : Rank extends 2 ? 'N, C' : `rank ${Rank}`;

/** `true` when S has rank R, else the message (prefix added by the caller). */
export type CheckRank<S, R extends number> = S extends readonly unknown[]
  ? S['length'] extends R
    ? true
    : number extends S['length']
      ? true
      : `expects a rank-${R} input [${LabelList<R>}], got rank ${S['length']}`
  : `expects a rank-${R} input [${LabelList<R>}], got a non-tuple shape`;

/** `true` when the rank is 2 or 4. */
export type CheckRank2or4<S> = S extends readonly unknown[]
  ? S['length'] extends 2 | 4
    ? true
    : `expects a rank-2 input [N, C] or a rank-4 input [N, C, H, W], got rank ${S['length']}`
  : 'expects a tuple shape';

/** `true` when the rank is 2, 3 or 4 (BatchNorm1d on [N, C] or [N, C, L], BatchNorm2d). */
export type CheckRank2to4<S> = S extends readonly unknown[]
  ? S['length'] extends 2 | 3 | 4
    ? true
    : `expects a rank-2, rank-3 or rank-4 input, got rank ${S['length']}`
  : 'expects a tuple shape';

/**
 * The first dim where A and B differ, as `${what} differ at dim i (L): a vs b`, or `true`.
 * `what` is 'branch shapes' for add and 'inputs' for concat; `Skip` is an axis not compared.
 */
export type CompareShapes<A extends Shape, B extends Shape, What extends string, Skip extends number = -1> =
  A['length'] extends B['length']
    ? CompareFrom<A, B, What, Skip, A['length'], []>
    : `${What} differ in rank: ${A['length']} vs ${B['length']}`;

type CompareFrom<
  A extends Shape,
  B extends Shape,
  What extends string,
  Skip extends number,
  Rank extends number,
  Index extends unknown[],
> = Index['length'] extends Rank
  ? true
  : Index['length'] extends Skip
    ? CompareFrom<A, B, What, Skip, Rank, [...Index, unknown]>
    : DimEqual<A[Index['length']], B[Index['length']]> extends true
      ? CompareFrom<A, B, What, Skip, Rank, [...Index, unknown]>
      : `${What} differ at dim ${Index['length']} (${DimLabel<Rank, Index['length']>}): ${DimToString<A[Index['length']]>} vs ${DimToString<B[Index['length']]>}`;

/** `true` when the input's channel dim C matches what the layer expects. */
export type CheckCount<Got, Expected, Noun extends string> =
  DimEqual<Got, Expected> extends true ? true : `input has ${DimToString<Got>} ${Noun}, layer expects ${DimToString<Expected>}`;

/** A pair option (`3` or `[3, 5]`) as a pair; absent means `Default`. */
export type PairOf<T, Default extends number> = T extends readonly [infer A extends number, infer B extends number]
  ? [A, B]
  : T extends number
    ? [T, T]
    : [Default, Default];

/** `true` when a parameter-sized dim is a literal (or known only at run time), else the message. */
export type CheckLiteralChannels<Ch, Noun extends string, Creates extends string> = Ch extends number
  ? true
  : `input ${Noun} ${DimToString<Ch>} must be a literal size to create ${Creates}`;

/** `true` when IR axis A (>= 1) lies inside S, else the run-time words (`axisWithin` in src/ir/shapes.ts). */
export type CheckAxis<A, S> = S extends readonly unknown[]
  ? A extends number
    ? number extends A
      ? true
      : Lt<A, S['length']> extends true
        ? true
        : `axis ${A} is outside a rank-${S['length']} input [${LabelList<S['length']>}]`
    : true
  : true;

/** A shape as run-time messages spell it: `[N, 64, H, W]`. */
export type SpellShape<S> = S extends readonly unknown[] ? `[${JoinDims<S>}]` : never;
type JoinDims<S extends readonly unknown[]> = S extends readonly [infer H, ...infer R]
  ? R extends readonly []
    ? DimToString<H>
    : `${DimToString<H>}, ${JoinDims<R>}`
  : '';
