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
 * A layer written inside its `.to()` call learns the input shape from there and is checked where
 * it is written (see `Takes`): the message becomes the type of the config property at fault (or of
 * the failing step of a sequential, the shortcut of a residual), so the diagnostic reads `Type
 * 'number' is not assignable to type '"<message>"'` under that property. A layer built apart is
 * checked by `.to()`, and the diagnostic names it: each builder returns a named layer type
 * (`Conv2d<{ out: 64; kernel: 3 }>`, `Relu`, `Sequential<[...]>`) holding its config without
 * `readonly`, so that `Argument of type '<layer>'` stays short and the message follows on the
 * same line.
 *
 * Type-level functions use the interface-with-`this` encoding: `Call<F, S>` intersects `F` with
 * `{ input: S }` and reads `output`, which TypeScript evaluates lazily and caches per (F, S).
 */
import type { Shape } from '../src/ir/graph.ts';
import type { Scope } from './scope.ts';
import type { HasUnknownOption, UnknownOption } from './settings.ts';

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
      : R extends Shape | ShapeError<string>
        ? R
        : never
    : never;

/**
 * Checking a layer where it is written. `x.to(d.conv2d({ in: 64, ... }))`: the builder is a
 * generic call inside `.to()`'s argument, so TypeScript infers the builder's `S` from `.to()`'s
 * parameter type (return-type inference), which is `Takes<S>` while `.to()`'s own type parameter
 * is still unknown. A builder that knows S checks its config against it and, on a failure, makes
 * the message the type of the config property at fault: the diagnostic reads `Type 'number' is
 * not assignable to type '"conv2d: input has 32 channels, layer expects 64"'`, under that
 * property, with no layer type spelled out. It then returns a layer already `Reported`, which
 * `.to()` passes on as the poisoned shape without a second diagnostic. A layer built apart from
 * its call (S unknown) is checked by `.to()` itself (`Applicable`).
 */
export interface Takes<S> {
  /** Phantom: carries the input shape learned from the context; never set at run time. */
  readonly takes?: (input: S) => void;
}

/** A layer whose failure was reported at its config: applying it yields the failure, silently. */
export interface ReportedFn<Message extends string> extends ShapeFn {
  readonly output: ShapeError<Message>;
}

/** True when S is a shape a builder can check against now (learned from `.to()`), not unknown, never or poisoned. */
export type KnownInput<S> = unknown extends S ? false : [S] extends [never] ? false : [S] extends [Shape] ? true : false;

/**
 * Which config property shows a failure: the first rule whose words occur in the message and whose
 * key the config has; then the first of `Fallback` the config has. Words are the run-time
 * message's own (`layer expects` -> `in`), so a kernel too large is shown on `kernel`.
 */
type BlameRules = [
  ['branch shapes', 'projection'],
  ['branch shapes', 'stride'],
  ['layer expects', 'in'],
  ['layer expects', 'channels'],
  ['layer expects', 'mean'],
  ['standard deviations', 'std'],
  ['groups', 'groups'],
  ['outputPadding', 'outputPadding'],
  ['dilation', 'dilation'],
  ['padding', 'padding'],
  ['crop', 'crop'],
  ['kernel', 'kernel'],
  ['normalized', 'normalizedShape'],
  ['reshape', 'shape'],
  ['dims', 'dims'],
  ['squeeze', 'squeeze'],
  ['spatialDropout', 'kind'],
  ['rate', 'rate'],
  ['axis', 'axis'],
  ['axis', 'sharedAxes'],
];

type RuleKey<C, Message extends string, Rules> = Rules extends [[infer Words extends string, infer Key extends string], ...infer Rest]
  ? Key extends keyof C
    ? Message extends `${string}${Words}${string}`
      ? Key
      : RuleKey<C, Message, Rest>
    : RuleKey<C, Message, Rest>
  : never;

type FirstKey<C, Keys> = Keys extends readonly [infer Key, ...infer Rest] ? (Key extends keyof C ? Key : FirstKey<C, Rest>) : never;

type BlameKey<C, Message extends string, Fallback extends readonly string[]> = [RuleKey<C, Message, BlameRules>] extends [never]
  ? FirstKey<C, [...Fallback, 'name']>
  : RuleKey<C, Message, BlameRules>;

/** `[key, message]` when L fails on a known input S and the config has a property to show it on; otherwise `true`. */
export type ConfigVerdict<L, S, C, Fallback extends readonly string[]> =
  KnownInput<S> extends true
    ? Apply<L, S> extends infer M extends string
      ? BlameKey<C, M, Fallback> extends infer K
        ? [K] extends [never]
          ? true
          : [K, M]
        : never
      : true
    : true;

/** The builder's config parameter: the config, or the config with the property at fault typed as the message. */
export type BlamedConfig<C, Verdict> = Verdict extends [infer K, infer M] ? { [P in keyof C]: P extends K ? M : C[P] } : C;

/**
 * The builder's result: the layer, or, when its config took the blame (a shape failure, or an
 * option it does not have), a layer reporting that failure. The latter mentions S, which is what lets TypeScript infer S from `.to()`'s context.
 *
 * Builders pass their layer type as a defaulted type parameter L, so that the check in the config
 * parameter and this result share one instantiation of it (the shape is computed once per call),
 * and L appears here only as a conditional's check type, where no inference reaches it (it would
 * otherwise be inferred from the context as `Takes<S>`).
 */
export type Built<L, S, C, Fallback extends readonly string[], Op extends string = string, Options extends readonly string[] = readonly string[]> =
  HasUnknownOption<C, Options> extends false
    ? ConfigVerdict<L, S, C, Fallback> extends [unknown, infer M extends string]
      ? Reported<M, S>
      : [L] extends [infer Plain]
        ? Plain
        : never
    : Reported<UnknownOption<Op, Exclude<keyof C, Options[number]>, Options>, S>;

/** A layer whose failure on S was reported where it was written (see `Takes`). */
export type Reported<Message extends string, S> = Layer<ReportedFn<Message>> & Takes<S>;

/**
 * `.to()`'s parameter. While `.to()`'s L is being inferred it is `never` here and the parameter is
 * `Takes<S>`, which hands S to a builder called inline; then it is `Applicable<L, S>`.
 */
export type ToParameter<L, S> = [L] extends [never] ? Takes<S> : Applicable<L, S>;

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
