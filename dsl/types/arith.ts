/**
 * Exact integer arithmetic on number literal types, done on decimal digits.
 *
 * A literal N is read through its text `${N}` as a sign and a natural number, the natural a string
 * of digits, most significant first, with no leading zeros (zero is the empty string); the
 * right-to-left algorithms walk it reversed. The schoolbook algorithms run digit by digit with
 * lookup tables, so the cost grows with the number of digits, not with the size of the value:
 *
 *     a + b          add column by column from the right, carrying 1
 *     a - b (a >= b) subtract column by column, a - b = a + (10 - b) mod 10 with a borrow when a < b
 *     a * b          Horner: acc = 10*acc + a*digit for each digit of b, a*digit from the table
 *     a / b          long division: bring down a digit, subtract b while it fits (at most 9 times)
 *     gcd(a, b)      Euclid: gcd(a, b) = gcd(b, a mod b), gcd(a, 0) = a
 *
 * Signed results: floor division and floor mod follow Python (the quotient rounds down, the
 * remainder takes the divisor's sign), which is what `Math.floor(a / b)` gives in
 * src/shape/dim.ts. A result whose digits are not exactly the text of a double (most integers
 * beyond 2^53) widens to `number`, as does any wide `number` argument, since the value is then
 * unknown; predicates widen to `boolean`.
 *
 * Every loop is a tail-recursive conditional type, so TypeScript evaluates it iteratively and
 * no chain of operations reaches the "excessively deep" limit.
 */

type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';
type Sign = '+' | '-';
/**
 * A signed integer: sign and magnitude, the magnitude a digit string, most significant first,
 * without leading zeros (zero is '' with sign '+').
 */
type Int = [Sign, string];
type Order = 'lt' | 'eq' | 'gt';

/** UNITS[a][b] = (a + b) mod 10 */
type Units = [
  ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'],
  ['2', '3', '4', '5', '6', '7', '8', '9', '0', '1'],
  ['3', '4', '5', '6', '7', '8', '9', '0', '1', '2'],
  ['4', '5', '6', '7', '8', '9', '0', '1', '2', '3'],
  ['5', '6', '7', '8', '9', '0', '1', '2', '3', '4'],
  ['6', '7', '8', '9', '0', '1', '2', '3', '4', '5'],
  ['7', '8', '9', '0', '1', '2', '3', '4', '5', '6'],
  ['8', '9', '0', '1', '2', '3', '4', '5', '6', '7'],
  ['9', '0', '1', '2', '3', '4', '5', '6', '7', '8'],
];

/** CARRIES[a][b] = 1 when a + b >= 10 */
type Carries = [
  ['0', '0', '0', '0', '0', '0', '0', '0', '0', '0'],
  ['0', '0', '0', '0', '0', '0', '0', '0', '0', '1'],
  ['0', '0', '0', '0', '0', '0', '0', '0', '1', '1'],
  ['0', '0', '0', '0', '0', '0', '0', '1', '1', '1'],
  ['0', '0', '0', '0', '0', '0', '1', '1', '1', '1'],
  ['0', '0', '0', '0', '0', '1', '1', '1', '1', '1'],
  ['0', '0', '0', '0', '1', '1', '1', '1', '1', '1'],
  ['0', '0', '0', '1', '1', '1', '1', '1', '1', '1'],
  ['0', '0', '1', '1', '1', '1', '1', '1', '1', '1'],
  ['0', '1', '1', '1', '1', '1', '1', '1', '1', '1'],
];

/** BORROWS[a][b] = 1 when a < b (a - b needs a borrow) */
type Borrows = [
  ['0', '1', '1', '1', '1', '1', '1', '1', '1', '1'],
  ['0', '0', '1', '1', '1', '1', '1', '1', '1', '1'],
  ['0', '0', '0', '1', '1', '1', '1', '1', '1', '1'],
  ['0', '0', '0', '0', '1', '1', '1', '1', '1', '1'],
  ['0', '0', '0', '0', '0', '1', '1', '1', '1', '1'],
  ['0', '0', '0', '0', '0', '0', '1', '1', '1', '1'],
  ['0', '0', '0', '0', '0', '0', '0', '1', '1', '1'],
  ['0', '0', '0', '0', '0', '0', '0', '0', '1', '1'],
  ['0', '0', '0', '0', '0', '0', '0', '0', '0', '1'],
  ['0', '0', '0', '0', '0', '0', '0', '0', '0', '0'],
];

/** (10 - b) mod 10, so that (a - b) mod 10 = Units[a][Complement[b]]. */
type Complement = ['0', '9', '8', '7', '6', '5', '4', '3', '2', '1'];

/** PRODUCTS[a][b] = a * b as two digits */
type Products = [
  ['00', '00', '00', '00', '00', '00', '00', '00', '00', '00'],
  ['00', '01', '02', '03', '04', '05', '06', '07', '08', '09'],
  ['00', '02', '04', '06', '08', '10', '12', '14', '16', '18'],
  ['00', '03', '06', '09', '12', '15', '18', '21', '24', '27'],
  ['00', '04', '08', '12', '16', '20', '24', '28', '32', '36'],
  ['00', '05', '10', '15', '20', '25', '30', '35', '40', '45'],
  ['00', '06', '12', '18', '24', '30', '36', '42', '48', '54'],
  ['00', '07', '14', '21', '28', '35', '42', '49', '56', '63'],
  ['00', '08', '16', '24', '32', '40', '48', '56', '64', '72'],
  ['00', '09', '18', '27', '36', '45', '54', '63', '72', '81'],
];

type NextDigit = ['1', '2', '3', '4', '5', '6', '7', '8', '9', never];

type Or<X extends Digit, Y extends Digit> = X extends '1' ? '1' : Y;

/** The digits of S in reverse order (least significant first), for the right-to-left algorithms. */
type Reverse<S extends string, Acc extends string = ''> = S extends `${infer H}${infer R}` ? Reverse<R, `${H}${Acc}`> : Acc;

type StripZeros<S extends string> = S extends `0${infer R}` ? StripZeros<R> : S;

/** a + b; A and B reversed, the result most significant first. */
type AddReversed<A extends string, B extends string, C extends Digit = '0', Acc extends string = ''> =
  A extends `${infer AH extends Digit}${infer AR}`
    ? B extends `${infer BH extends Digit}${infer BR}`
      ? AddReversed<AR, BR, Or<Carries[AH][BH], Carries[Units[AH][BH]][C]>, `${Units[Units[AH][BH]][C]}${Acc}`>
      : AddReversed<AR, '', Carries[AH][C], `${Units[AH][C]}${Acc}`>
    : B extends ''
      ? C extends '1'
        ? `1${Acc}`
        : Acc
      : AddReversed<B, '', C, Acc>;

type AddNat<A extends string, B extends string> = AddReversed<Reverse<A>, Reverse<B>>;

/** a - b for a >= b; A and B reversed, the result most significant first. */
type SubReversed<A extends string, B extends string, Borrow extends Digit = '0', Acc extends string = ''> =
  A extends `${infer AH extends Digit}${infer AR}`
    ? B extends `${infer BH extends Digit}${infer BR}`
      ? SubDigit<AH, BH, Borrow> extends [infer U extends Digit, infer Next extends Digit]
        ? SubReversed<AR, BR, Next, `${U}${Acc}`>
        : never
      : SubDigit<AH, '0', Borrow> extends [infer U extends Digit, infer Next extends Digit]
        ? SubReversed<AR, '', Next, `${U}${Acc}`>
        : never
    : StripZeros<Acc>;

/** a - b - borrow -> [units digit, borrow out] */
type SubDigit<A extends Digit, B extends Digit, Borrow extends Digit> = [
  Units[Units[A][Complement[B]]][Complement[Borrow]],
  Or<Borrows[A][B], Borrows[Units[A][Complement[B]]][Borrow]>,
];

type SubNat<A extends string, B extends string> = SubReversed<Reverse<A>, Reverse<B>>;

/** One left-to-right pass: the first differing digit decides unless one number is longer. */
type CompareNat<A extends string, B extends string, First extends Order = 'eq'> =
  A extends `${infer AH extends Digit}${infer AR}`
    ? B extends `${infer BH extends Digit}${infer BR}`
      ? CompareNat<AR, BR, First extends 'eq' ? (AH extends BH ? 'eq' : Borrows[AH][BH] extends '1' ? 'lt' : 'gt') : First>
      : 'gt'
    : B extends ''
      ? First
      : 'lt';

/** a * digit; A reversed, the result most significant first (the carry is at most 8). */
type MulByDigit<A extends string, D extends Digit, C extends Digit = '0', Acc extends string = ''> =
  A extends `${infer AH extends Digit}${infer AR}`
    ? Products[AH][D] extends `${infer T extends Digit}${infer U extends Digit}`
      ? MulByDigit<AR, D, Units[T][Carries[U][C]], `${Units[U][C]}${Acc}`>
      : never
    : StripZeros<`${C}${Acc}`>;

type Times10<N extends string> = N extends '' ? '' : `${N}0`;

/** Horner over the digits of b: acc = 10*acc + a*digit. */
type MulNat<ReversedA extends string, B extends string, Acc extends string = ''> =
  B extends `${infer BH extends Digit}${infer BR}`
    ? MulNat<ReversedA, BR, AddNat<Times10<Acc>, MulByDigit<ReversedA, BH>>>
    : Acc;

/** The largest q with q*b <= r (at most 9 when r < 10*b), and r - q*b. */
type QuotientDigit<R extends string, B extends string, Q extends Digit = '0'> =
  CompareNat<R, B> extends 'lt' ? [Q, R] : QuotientDigit<SubNat<R, B>, B, NextDigit[Q]>;

/** [floor(a / b), a mod b] for b > 0, by long division. */
type DivModNat<A extends string, B extends string, Q extends string = '', R extends string = ''> =
  A extends `${infer H extends Digit}${infer T}`
    ? QuotientDigit<StripZeros<`${R}${H}`>, B> extends [infer QD extends Digit, infer R2 extends string]
      ? DivModNat<T, B, StripZeros<`${Q}${QD}`>, R2>
      : never
    : [Q, R];

type GcdNat<A extends string, B extends string> = B extends ''
  ? A
  : DivModNat<A, B> extends [string, infer R extends string]
    ? GcdNat<B, R>
    : never;

/** The sign and digits of an integer literal; `never` for anything else (wide, fractional, exponent). */
type ToInt<N extends number> = number extends N
  ? never
  : `${N}` extends `${bigint}`
    ? `${N}` extends `-${infer Abs}`
      ? ['-', Abs]
      : ['+', StripZeros<`${N}`>]
    : never;

type ParseNumber<S extends string> = S extends `${infer N extends number}` ? N : number;

type FromInt<I extends Int> = I[1] extends '' ? 0 : ParseNumber<I[0] extends '-' ? `-${I[1]}` : I[1]>;

/** A digit string (leading zeros allowed) as a number literal; `number` if it does not fit exactly. */
export type DigitsToNumber<S extends string> = S extends `${Digit}${string}`
  ? StripZeros<S> extends infer Significant extends string
    ? Significant extends `${bigint}` | ''
      ? FromInt<['+', Significant]>
      : number
    : never
  : number;

type Negate<I extends Int> = I[1] extends '' ? I : [I[0] extends '-' ? '+' : '-', I[1]];
type Signed<S extends Sign, N extends string> = N extends '' ? ['+', ''] : [S, N];

type AddInt<A extends Int, B extends Int> = A[0] extends B[0]
  ? [A[0], AddNat<A[1], B[1]>]
  : CompareNat<A[1], B[1]> extends 'lt'
    ? Signed<B[0], SubNat<B[1], A[1]>>
    : Signed<A[0], SubNat<A[1], B[1]>>;

type MulInt<A extends Int, B extends Int> = Signed<A[0] extends B[0] ? '+' : '-', MulNat<Reverse<A[1]>, B[1]>>;

/** [floor(a / b), a - b*floor(a / b)] for b != 0. */
type FloorDivModInt<A extends Int, B extends Int> =
  DivModNat<A[1], B[1]> extends [infer Q extends string, infer R extends string]
    ? A[0] extends B[0]
      ? [Signed<'+', Q>, Signed<B[0], R>]
      : R extends ''
        ? [Signed<'-', Q>, Signed<'+', ''>]
        : [Signed<'-', AddNat<Q, '1'>>, Signed<B[0], SubNat<B[1], R>>]
    : never;

type CompareInt<A extends Int, B extends Int> = A[0] extends B[0]
  ? A[0] extends '+'
    ? CompareNat<A[1], B[1]>
    : CompareNat<B[1], A[1]>
  : A[0] extends '+'
    ? 'gt'
    : 'lt';

/** True when either argument is wide or not an integer literal: the result is then `number`. */
type WidensEither<A extends number, B extends number> = [ToInt<A>] extends [never]
  ? true
  : [ToInt<B>] extends [never]
    ? true
    : false;

export type Add<A extends number, B extends number> =
  WidensEither<A, B> extends true ? number : FromInt<AddInt<ToInt<A>, ToInt<B>>>;

export type Sub<A extends number, B extends number> =
  WidensEither<A, B> extends true ? number : FromInt<AddInt<ToInt<A>, Negate<ToInt<B>>>>;

export type Mul<A extends number, B extends number> =
  WidensEither<A, B> extends true ? number : FromInt<MulInt<ToInt<A>, ToInt<B>>>;

/** floor(a / b); `never` for b = 0. */
export type FloorDiv<A extends number, B extends number> =
  WidensEither<A, B> extends true
    ? number
    : ToInt<B>[1] extends ''
      ? never
      : FromInt<FloorDivModInt<ToInt<A>, ToInt<B>>[0]>;

/** a - b*floor(a / b): in [0, b) for b > 0; `never` for b = 0. */
export type Mod<A extends number, B extends number> =
  WidensEither<A, B> extends true
    ? number
    : ToInt<B>[1] extends ''
      ? never
      : FromInt<FloorDivModInt<ToInt<A>, ToInt<B>>[1]>;

/** The greatest common divisor of |a| and |b| (gcd(0, 0) = 0). */
export type Gcd<A extends number, B extends number> =
  WidensEither<A, B> extends true ? number : GcdOfInts<ToInt<A>, ToInt<B>>;
type GcdOfInts<A extends Int, B extends Int> = FromInt<['+', GcdNat<A[1], B[1]>]>;

type Compare<A extends number, B extends number, Yes extends Order> =
  WidensEither<A, B> extends true ? boolean : CompareInt<ToInt<A>, ToInt<B>> extends Yes ? true : false;

export type Lt<A extends number, B extends number> = Compare<A, B, 'lt'>;
export type Lte<A extends number, B extends number> = Compare<A, B, 'lt' | 'eq'>;
export type Gt<A extends number, B extends number> = Compare<A, B, 'gt'>;

/** Equality of two literals (fractional ones too); `boolean` when either is wide. */
export type Eq<A extends number, B extends number> = number extends A
  ? boolean
  : number extends B
    ? boolean
    : [A] extends [B]
      ? [B] extends [A]
        ? true
        : false
      : false;

export type Max<A extends number, B extends number> =
  WidensEither<A, B> extends true ? number : Lt<A, B> extends true ? B : A;
export type Min<A extends number, B extends number> =
  WidensEither<A, B> extends true ? number : Lt<A, B> extends true ? A : B;

/** Integer-valued literal: plain digits, or a large float printed with a positive exponent. */
export type IsInteger<A extends number> = number extends A
  ? boolean
  : [ToInt<A>] extends [never]
    ? `${A}` extends `${string}e+${string}`
      ? true
      : false
    : true;

export type IsNonNegativeInteger<A extends number> = number extends A
  ? boolean
  : IsInteger<A> extends true
    ? `${A}` extends `-${string}`
      ? false
      : true
    : false;
