/**
 * The type-level mirror of src/shape/dim.ts: the same dim algebra evaluated by the compiler, so
 * that a conv on a `Tensor<[N, 3, 'H', 'W']>` has the output type `[N, 16, 'floor((H+1)/2)', ...]`
 * spelled exactly as run-time shape inference prints it. Each type here follows its run-time
 * namesake branch by branch (see that file for the math); the two are tested against each other
 * string for string in test/property/dim-mirror.test.ts.
 *
 * Type-level conventions on top of the run-time ones:
 * - a wide `number` (or `string`) dim or argument is a size known only at run time: every
 *   operation on it gives `number`, and `DimEqual` with it is `true` (the run-time check decides);
 * - an argument the run-time function rejects with a DimError (k < 1 for dimScale, a fractional
 *   k, ...) gives `never`;
 * - `ParseAffineFloor` gives an object type `{ symbol, m, a, b, d, c }` of literals, or `undefined`.
 */
import type { Dim } from '../../src/ir/graph.ts';
import type { AffineFloor } from '../../src/shape/dim.ts';
import type { Add, DigitsToNumber, Eq, FloorDiv, Gcd, IsInteger, Lt, Mod, Mul, Sub } from './arith.ts';

export type { AffineFloor, Dim };

type IsWide<X> = number extends X ? true : string extends X ? true : false;

/** The run-time checkInteger for a literal K: an integer >= Min. */
type ValidInteger<K extends number, Min extends number> =
  IsInteger<K> extends true ? (Lt<K, Min> extends true ? false : true) : false;

/** An unknown dim, or an unknown argument, makes an unknown size. */
type AnyWide<X, K> = IsWide<X> extends true ? true : number extends K ? true : false;

type Lower =
  | 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h' | 'i' | 'j' | 'k' | 'l' | 'm'
  | 'n' | 'o' | 'p' | 'q' | 'r' | 's' | 't' | 'u' | 'v' | 'w' | 'x' | 'y' | 'z';
type IdentifierStart = Lower | Uppercase<Lower> | '_';
type DecimalDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';
type IdentifierChar = IdentifierStart | DecimalDigit;

/** [longest prefix of `S` made of `Allowed` characters, the rest] */
type TakeWhile<S extends string, Allowed extends string, Acc extends string = ''> = S extends `${infer H}${infer R}`
  ? H extends Allowed
    ? TakeWhile<R, Allowed, `${Acc}${H}`>
    : [Acc, S]
  : [Acc, ''];

type IsIdentifier<S extends string> = S extends `${IdentifierStart}${string}`
  ? TakeWhile<S, IdentifierChar>[1] extends ''
    ? true
    : false
  : false;

/** An identifier other than `floor`. */
export type IsSymbolName<S extends string> = string extends S
  ? boolean
  : S extends 'floor'
    ? false
    : IsIdentifier<S>;

/**
 * The readers below mirror the two regular expressions of parseAffineFloor piece by piece and
 * return `NoMatch` where the regex fails. (Not `never`: a conditional on `never` takes its true
 * branch with every `infer` widened, so a failure would read as a match.)
 */
type NoMatch = false;

/** Reads `(?:(\d+)\*)?([A-Za-z_][A-Za-z0-9_]*)` at the start of S: [coefficient, symbol, rest]. */
type ReadScaled<S extends string> =
  TakeWhile<S, DecimalDigit> extends [infer Digits extends string, infer Rest extends string]
    ? Digits extends ''
      ? ReadSymbol<1, S>
      : Rest extends `*${infer AfterStar}`
        ? ReadSymbol<DigitsToNumber<Digits>, AfterStar>
        : NoMatch
    : NoMatch;

type ReadSymbol<A extends number, S extends string> =
  TakeWhile<S, IdentifierChar> extends [infer Name extends string, infer Rest extends string]
    ? IsIdentifier<Name> extends true
      ? [A, Name, Rest]
      : NoMatch
    : NoMatch;

/** Reads `\d+` at the start of S: [value, rest]. */
type ReadNat<S extends string> =
  TakeWhile<S, DecimalDigit> extends [infer Digits extends string, infer Rest extends string]
    ? Digits extends ''
      ? NoMatch
      : [DigitsToNumber<Digits>, Rest]
    : NoMatch;

/** Reads the whole of `(?:([+-])(\d+))?$`: [the signed constant]. */
type ReadConstant<S extends string> = S extends ''
  ? [0]
  : S extends `+${infer Digits}`
    ? ReadNat<Digits> extends [infer C extends number, '']
      ? [C]
      : NoMatch
    : S extends `-${infer Digits}`
      ? ReadNat<Digits> extends [infer C extends number, '']
        ? [Sub<0, C>]
        : NoMatch
      : NoMatch;

type AffineForm<X extends string, A extends number, C extends number> = {
  symbol: X;
  m: 1;
  a: A;
  b: 0;
  d: 1;
  c: C;
};

/** AFFINE_RE: `SCALED CONST`; a match in the symbol `floor` reads as no affine-floor form. */
type ParseAffine<S extends string> =
  ReadScaled<S> extends [infer A extends number, infer X extends string, infer Rest extends string]
    ? ReadConstant<Rest> extends [infer C extends number]
      ? X extends 'floor'
        ? undefined
        : AffineForm<X, A, C>
      : NoMatch
    : NoMatch;

/** FLOOR_RE after `m*floor(`: `SCALED/d)CONST` or `(SCALED+b)/d)CONST`. */
type ParseFloorBody<M extends number, S extends string> = S extends `(${infer Inner}`
  ? ReadScaled<Inner> extends [infer A extends number, infer X extends string, `+${infer AfterPlus}`]
    ? ReadNat<AfterPlus> extends [infer B extends number, `)/${infer AfterSlash}`]
      ? FinishFloor<M, A, X, B, AfterSlash>
      : NoMatch
    : NoMatch
  : ReadScaled<S> extends [infer A extends number, infer X extends string, `/${infer AfterSlash}`]
    ? FinishFloor<M, A, X, 0, AfterSlash>
    : NoMatch;

type FinishFloor<M extends number, A extends number, X extends string, B extends number, S extends string> =
  ReadNat<S> extends [infer D extends number, `)${infer AfterParen}`]
    ? ReadConstant<AfterParen> extends [infer C extends number]
      ? X extends 'floor'
        ? undefined
        : { symbol: X; m: M; a: A; b: B; d: D; c: C }
      : NoMatch
    : NoMatch;

type ParseFloor<S extends string> =
  TakeWhile<S, DecimalDigit> extends [infer Digits extends string, infer Rest extends string]
    ? Digits extends ''
      ? S extends `floor(${infer Body}`
        ? ParseFloorBody<1, Body>
        : NoMatch
      : Rest extends `*floor(${infer Body}`
        ? ParseFloorBody<DigitsToNumber<Digits>, Body>
        : NoMatch
    : NoMatch;

/** Reads a canonical affine-floor spelling; `undefined` for a literal or an opaque expression. */
export type ParseAffineFloor<S extends Dim> = S extends string
  ? string extends S
    ? AffineFloor | undefined
    : ParseAffine<S> extends infer Affine
      ? Affine extends NoMatch
        ? ParseFloor<S> extends infer Floor
          ? Floor extends NoMatch
            ? undefined
            : Floor
          : never
        : Affine
      : never
  : undefined;

export type NormalizeAffineFloor<E extends AffineFloor> = E['d'] extends 1
  ? AffineForm<E['symbol'], Mul<E['m'], E['a']>, Add<Mul<E['m'], E['b']>, E['c']>>
  : ReduceByGcd<E['symbol'], E['m'], E['a'], Mod<E['b'], E['d']>, E['d'], Add<E['c'], Mul<E['m'], FloorDiv<E['b'], E['d']>>>>;

type ReduceByGcd<X extends string, M extends number, A extends number, B extends number, D extends number, C extends number> =
  Gcd<A, D> extends infer G extends number
    ? Reduced<X, M, FloorDiv<A, G>, FloorDiv<B, G>, FloorDiv<D, G>, C>
    : never;

type Reduced<X extends string, M extends number, A extends number, B extends number, D extends number, C extends number> =
  D extends 1 ? AffineForm<X, Mul<M, A>, Add<Mul<M, B>, C>> : { symbol: X; m: M; a: A; b: B; d: D; c: C };

type FormatConstant<C extends number> = C extends 0 ? '' : `${C}` extends `-${string}` ? `${C}` : `+${C}`;

type FormatScaled<K extends number, X extends string> = K extends 1 ? X : `${K}*${X}`;

type Numerator<E extends AffineFloor> = E['b'] extends 0
  ? FormatScaled<E['a'], E['symbol']>
  : `(${FormatScaled<E['a'], E['symbol']>}+${E['b']})`;

export type FormatAffineFloor<E extends AffineFloor> = E['d'] extends 1
  ? `${FormatScaled<E['a'], E['symbol']>}${FormatConstant<E['c']>}`
  : `${FormatScaled<E['m'], `floor(${Numerator<E>}/${E['d']})`>}${FormatConstant<E['c']>}`;

type FromAffineFloor<E extends AffineFloor> = FormatAffineFloor<NormalizeAffineFloor<E>>;

type AsAffineFloor<S extends string> = IsSymbolName<S> extends true ? AffineForm<S, 1, 0> : ParseAffineFloor<S>;

/** A + or - outside every parenthesis: S is a sum at its top level. */
type HasTopLevelSign<S extends string, Depth extends unknown[] = []> = S extends `${infer H}${infer R}`
  ? H extends '('
    ? HasTopLevelSign<R, [...Depth, unknown]>
    : H extends ')'
      ? HasTopLevelSign<R, Depth extends [unknown, ...infer Outer] ? Outer : []>
      : H extends '+' | '-'
        ? Depth extends []
          ? true
          : HasTopLevelSign<R, Depth>
        : HasTopLevelSign<R, Depth>
  : false;

/**
 * Parenthesises an opaque operand containing + or - unless it ends in `)` and has no + or - at
 * its top level.
 */
export type WrapOperand<S extends string> = S extends `${string}${'+' | '-'}${string}`
  ? S extends `${string})`
    ? HasTopLevelSign<S> extends true
      ? `(${S})`
      : S
    : `(${S})`
  : S;

/** x + k */
export type DimAdd<X, K extends number> =
  AnyWide<X, K> extends true
    ? number
    : ValidInteger<K, -9007199254740991> extends false
      ? never
      : X extends number
        ? Add<X, K>
        : K extends 0
          ? X
          : AsAffineFloor<X & string> extends infer E extends AffineFloor
            ? FromAffineFloor<{ symbol: E['symbol']; m: E['m']; a: E['a']; b: E['b']; d: E['d']; c: Add<E['c'], K> }>
            : `${WrapOperand<X & string>}${FormatConstant<K>}`;

/** k * x, k >= 1 */
export type DimScale<X, K extends number> =
  AnyWide<X, K> extends true
    ? number
    : ValidInteger<K, 1> extends false
      ? never
      : X extends number
        ? Mul<X, K>
        : K extends 1
          ? X
          : AsAffineFloor<X & string> extends infer E extends AffineFloor
            ? E['d'] extends 1
              ? FromAffineFloor<{ symbol: E['symbol']; m: E['m']; a: Mul<E['a'], K>; b: E['b']; d: E['d']; c: Mul<E['c'], K> }>
              : FromAffineFloor<{ symbol: E['symbol']; m: Mul<E['m'], K>; a: E['a']; b: E['b']; d: E['d']; c: Mul<E['c'], K> }>
            : `${K}*${WrapOperand<X & string>}`;

/** floor(x / s), s >= 1 */
export type DimFloorDiv<X, S extends number> =
  AnyWide<X, S> extends true
    ? number
    : ValidInteger<S, 1> extends false
      ? never
      : X extends number
        ? FloorDiv<X, S>
        : S extends 1
          ? X
          : AsAffineFloor<X & string> extends infer E extends AffineFloor
            ? E['d'] extends 1
              ? FromAffineFloor<{ symbol: E['symbol']; m: 1; a: E['a']; b: E['c']; d: S; c: 0 }>
              : FloorDivOfFloor<X & string, S, E, Gcd<E['m'], S>>
            : OpaqueFloorDiv<X & string, S>;

type OpaqueFloorDiv<X extends string, S extends number> = `floor(${WrapOperand<X>}/${S})`;

/** m*F + c = g*(m/g)*F + c, so floor((m*F + c)/s) = floor(((m/g)*F + floor(c/g)) / (s/g)). */
type FloorDivOfFloor<X extends string, S extends number, E extends AffineFloor, G extends number> =
  FloorDiv<E['m'], G> extends infer M extends number
    ? FloorDiv<E['c'], G> extends infer C extends number
      ? FloorDiv<S, G> extends 1
        ? FromAffineFloor<{ symbol: E['symbol']; m: M; a: E['a']; b: E['b']; d: E['d']; c: C }>
        : M extends 1
          ? FromAffineFloor<{
              symbol: E['symbol'];
              m: 1;
              a: E['a'];
              b: Add<E['b'], Mul<C, E['d']>>;
              d: Mul<E['d'], FloorDiv<S, G>>;
              c: 0;
            }>
          : OpaqueFloorDiv<X, S>
      : never
    : never;

/** Some operand is `never`: a dim the run-time functions would have thrown on before this one. */
type HasNever<Dims extends readonly unknown[]> = Dims extends readonly [infer H, ...infer R]
  ? [H] extends [never]
    ? true
    : HasNever<R>
  : false;

/** A tuple of dims with no wide member (otherwise the combined size is unknown). */
type AllKnown<Dims extends readonly Dim[]> = number extends Dims['length']
  ? false
  : IsWide<Dims[number]> extends true
    ? false
    : true;

/** [product of the literal dims, the symbolic dims in order] */
type SplitProduct<Dims extends readonly Dim[], Coefficient extends number = 1, Symbolic extends string[] = []> =
  Dims extends readonly [infer H extends Dim, ...infer R extends readonly Dim[]]
    ? H extends number
      ? SplitProduct<R, Mul<Coefficient, H>, Symbolic>
      : SplitProduct<R, Coefficient, [...Symbolic, H & string]>
    : [Coefficient, Symbolic];

/** [sum of the literal dims, the symbolic dims in order] */
type SplitSum<Dims extends readonly Dim[], Constant extends number = 0, Symbolic extends string[] = []> =
  Dims extends readonly [infer H extends Dim, ...infer R extends readonly Dim[]]
    ? H extends number
      ? SplitSum<R, Add<Constant, H>, Symbolic>
      : SplitSum<R, Constant, [...Symbolic, H & string]>
    : [Constant, Symbolic];

type JoinOperands<Parts extends string[], Separator extends string, Wrap extends boolean, Acc extends string = ''> =
  Parts extends [infer H extends string, ...infer R extends string[]]
    ? JoinOperands<
        R,
        Separator,
        Wrap,
        `${Acc}${Acc extends '' ? '' : Separator}${Wrap extends true ? WrapOperand<H> : H}`
      >
    : Acc;

/**
 * The product of several dims (flatten): literal factors multiply into one coefficient, a single
 * symbolic factor stays canonical, two or more give the opaque `coef*F1*F2...` in order.
 */
export type DimProduct<Dims extends readonly Dim[]> =
  HasNever<Dims> extends true ? never : AllKnown<Dims> extends true ? ProductOfKnown<Dims> : number;

type ProductOfKnown<Dims extends readonly Dim[]> =
  SplitProduct<Dims> extends [infer Coefficient extends number, infer Symbolic extends string[]]
    ? Symbolic extends []
      ? Coefficient
      : Coefficient extends 0
        ? 0
        : Symbolic extends [infer Only extends string]
          ? DimScale<Only, Coefficient>
          : Coefficient extends 1
            ? JoinOperands<Symbolic, '*', true>
            : `${Coefficient}*${JoinOperands<Symbolic, '*', true>}`
    : never;

/** [sum of a, sum of c] when every part is affine (d = 1) in the symbol X; otherwise undefined. */
type SumAffineParts<Parts extends string[], X extends string, A extends number = 0, C extends number = 0> =
  Parts extends [infer H extends string, ...infer R extends string[]]
    ? AsAffineFloor<H> extends { symbol: X; d: 1; a: infer PA extends number; c: infer PC extends number }
      ? SumAffineParts<R, X, Add<A, PA>, Add<C, PC>>
      : undefined
    : [A, C];

/**
 * The sum of several dims (concat): literals add up, affine parts in one symbol combine,
 * otherwise the opaque `F1+F2+...+k` in order.
 */
export type DimSum<Dims extends readonly Dim[]> =
  HasNever<Dims> extends true ? never : AllKnown<Dims> extends true ? SumOfKnown<Dims> : number;

type SumOfKnown<Dims extends readonly Dim[]> =
  SplitSum<Dims> extends [infer Constant extends number, infer Symbolic extends string[]]
    ? Symbolic extends []
      ? Constant
      : Symbolic extends [infer Only extends string]
        ? DimAdd<Only, Constant>
        : SumOfSymbolic<Symbolic, Constant>
    : never;

type SumOfSymbolic<Symbolic extends string[], Constant extends number> =
  AsAffineFloor<Symbolic[0]> extends infer First extends AffineFloor
    ? SumAffineParts<Symbolic, First['symbol']> extends [infer A extends number, infer C extends number]
      ? FromAffineFloor<AffineForm<First['symbol'], A, Add<C, Constant>>>
      : `${JoinOperands<Symbolic, '+', false>}${FormatConstant<Constant>}`
    : `${JoinOperands<Symbolic, '+', false>}${FormatConstant<Constant>}`;

/**
 * Equal sizes for every value of the symbols: literals by value, symbolic dims by spelling, a
 * literal never equals a symbolic dim; `true` when either side is wide (checked at run time).
 */
export type DimEqual<A, B> =
  IsWide<A> extends true
    ? true
    : IsWide<B> extends true
      ? true
      : [A, B] extends [number, number]
        ? Eq<A & number, B & number>
        : [A, B] extends [string, string]
          ? [A] extends [B]
            ? [B] extends [A]
              ? true
              : false
            : false
          : false;

/** floor((x + P - D(K-1) - 1) / S) + 1: conv and pooling (floor mode). */
export type ConvOutDim<
  X,
  Kernel extends number,
  Stride extends number,
  Dilation extends number,
  PadTotal extends number,
> = DimAdd<DimFloorDiv<DimAdd<X, Sub<PadTotal, Add<Mul<Dilation, Sub<Kernel, 1>>, 1>>>, Stride>, 1>;

/** ceil(x / S) = floor((x + S - 1) / S): TensorFlow's 'same' padding. */
export type SameOutDim<X, Stride extends number> = DimFloorDiv<DimAdd<X, Sub<Stride, 1>>, Stride>;

/** (x - 1)*S - 2P + D(K-1) + outputPadding + 1 */
export type ConvTransposeOutDim<
  X,
  Kernel extends number,
  Stride extends number,
  Dilation extends number,
  Padding extends number,
  OutputPadding extends number,
> = DimAdd<
  DimScale<X, Stride>,
  Add<Sub<Sub<Add<Mul<Dilation, Sub<Kernel, 1>>, OutputPadding>, Stride>, Mul<2, Padding>>, 1>
>;

/** How a dim reads in a message: a literal's digits, a symbolic dim's spelling, 'number' if unknown. */
export type DimToString<D> = D extends number ? (number extends D ? 'number' : `${D}`) : D extends string ? D : never;
