/**
 * Composition: residual merges (add), channel concatenation, sequential chains and residual
 * blocks with an optional projection shortcut. Shapes of merged branches must be equal dim for
 * dim (symbolic dims after normalisation, so a stride-2 branch and a stride-2 projection agree
 * for any H); the first differing dim is named in the error.
 */
import type { Shape } from '../src/ir/graph.ts';
import { dimLabel, rankLabelList } from '../src/ir/labels.ts';
import { dimEqual } from '../src/shape/dim.ts';
import type { Apply, Call, FirstPoisoned, KnownInput, Layer, Prefix, Reported, ShapeError, ShapeFn, ShapeFnOf, ShapeOrError, WithinUnit } from './layer.ts';
import { ShapefoldError } from '../src/ir/errors.ts';
import { knownOptions, optionNames, requireInteger, singleUse } from './runtime.ts';
import { DslError, messagePrefix, type Scope } from './scope.ts';
import type { CheckAxis, CheckRank2or4, CompareShapes, DimLabel } from './shape.ts';
import type { HasUnknownOption, UnknownOption } from './settings.ts';
import { Tensor } from './tensor.ts';
import type { Dim, DimEqual, DimSum, DimToString } from './types/index.ts';

function sameScope(op: string, tensors: readonly Tensor<ShapeOrError>[]): Scope {
  const scope = tensors[0].scope;
  if (tensors.some((t) => !(t instanceof Tensor) || t.scope !== scope)) {
    throw new DslError(`${op}: all inputs must be tensors of one model (same scope)`);
  }
  return scope;
}

export interface MergeOptions {
  readonly name?: string;
}

export type MergeArg = Tensor<any> | MergeOptions;

/** The tensors among a merge's arguments: all of them but a trailing options object. */
export type TensorArgs<Args extends readonly unknown[]> = Args extends readonly [...infer Ts, infer Last]
  ? Last extends Tensor<any>
    ? Args
    : Ts
  : Args;

export type ShapesOf<Ts> = { [K in keyof Ts]: Ts[K] extends Tensor<infer S> ? S : never };

/** Where branch `Other` differs from the first branch: `differs at dim i (L): other vs first`, or `true`. */
type DiffersFrom<First extends Shape, Other extends Shape, Skip extends number> = First['length'] extends Other['length']
  ? DiffersAt<First, Other, Skip, []>
  : `differs in rank: ${Other['length']} vs ${First['length']}`;

type DiffersAt<First extends Shape, Other extends Shape, Skip extends number, Index extends unknown[]> = Index['length'] extends First['length']
  ? true
  : Index['length'] extends Skip
    ? DiffersAt<First, Other, Skip, [...Index, unknown]>
    : DimEqual<First[Index['length']], Other[Index['length']]> extends true
      ? DiffersAt<First, Other, Skip, [...Index, unknown]>
      : `differs at dim ${Index['length']} (${DimLabel<First['length'], Index['length']>}): ${DimToString<Other[Index['length']]>} vs ${DimToString<First[Index['length']]>}`;

/** [index of the offending argument, message] for the first branch unlike the first one, or `true`. */
type FirstMismatch<Op extends string, Noun extends string, Shapes extends readonly Shape[], Skip extends number, Index extends unknown[] = [unknown]> =
  Index['length'] extends Shapes['length']
    ? true
    : DiffersFrom<Shapes[0], Shapes[Index['length']], Skip> extends infer R
      ? R extends string
        ? [Index['length'], `${Op}: ${Noun} ${[...Index, unknown]['length']} of ${Shapes['length']} ${R}`]
        : FirstMismatch<Op, Noun, Shapes, Skip, [...Index, unknown]>
      : never;

/** The arguments with the offending one replaced by its message: the error lands on that branch. */
type Blame<Args extends readonly unknown[], At extends number, Message extends string> = {
  [K in keyof Args]: K extends `${At}` ? Message : Args[K];
};

/**
 * A merge's verdict: the poisoned shape of an input that already failed, `[index, message]` for
 * the first argument at fault, or `true`. `Extra` is an op-specific check blamed on argument 0.
 */
type MergeVerdict<Op extends string, Noun extends string, Ts extends readonly unknown[], Skip extends number, Extra> =
  Ts['length'] extends 0 | 1
    ? [0, `${Op}: needs at least two tensors`]
    : FirstPoisoned<ShapesOf<Ts>> extends infer P
      ? P extends false
        ? Extra extends string
          ? [0, `${Op}: ${Extra}`]
          : FirstMismatch<Op, Noun, ShapesOf<Ts> & readonly Shape[], Skip>
        : P
      : never;

/** The merge's parameter list: `Args`, or `Args` with the argument at fault replaced by the message. */
export type MergeArgs<Args extends readonly unknown[], Verdict> = Verdict extends [infer At extends number, infer Message extends string]
  ? Blame<Args extends readonly [] ? [unknown] : Args, At, Message>
  : Args;

/** The merge's output: `Out`, or the failure (new or inherited) it carries forward. */
export type MergeOut<Verdict, Out> = Verdict extends [unknown, infer Message extends string]
  ? ShapeError<Message>
  : Verdict extends ShapeError<string>
    ? Verdict
    : Out extends ShapeOrError
      ? Out
      : never;

export const MERGE_OPTIONS = optionNames<MergeOptions>()(['name']);

/**
 * `[index, message]` when a merge's trailing options object has a key that is none of `Options`
 * (checked first, as `mergeInputs` does at run time); otherwise `Verdict`.
 */
export type WithKnownOptions<Op extends string, Args extends readonly unknown[], Options extends readonly string[], Verdict> =
  Args extends readonly [...infer Ts, infer Last]
    ? Last extends Tensor<any>
      ? Verdict
      : HasUnknownOption<Last, Options> extends true
        ? [Ts['length'], UnknownOption<Op, Exclude<keyof Last, Options[number]>, Options>]
        : Verdict
    : Verdict;

type AddVerdict<Args extends readonly unknown[]> = WithKnownOptions<'add', Args, typeof MERGE_OPTIONS, MergeVerdict<'add', 'branch', TensorArgs<Args>, -1, true>>;

/**
 * Elementwise sum of two or more branches of equal shape (the residual merge): `add(a, b, c)`,
 * `add(a, b, { name })`. A branch unlike the first is the error, named by its position:
 * `add: branch 3 of 3 differs at dim 1 (C): 64 vs 32` (that branch's size first).
 */
export function add<const Args extends readonly MergeArg[]>(
  ...args: MergeArgs<Args, AddVerdict<Args>>
): Tensor<MergeOut<AddVerdict<Args>, ShapesOf<TensorArgs<Args>>[0]>> {
  return merge('add', 'branch', args as unknown as readonly MergeArg[]);
}

/** A concat's options: `axis` is the IR axis joined (default 1, the channels; Keras' axis -1). */
export interface ConcatOptions extends MergeOptions {
  readonly axis?: number;
}

type OptionsOf<Args extends readonly unknown[]> = Args extends readonly [...unknown[], infer Last] ? (Last extends Tensor<any> ? {} : Last) : {};
type ConcatAxisOf<Args extends readonly unknown[]> = OptionsOf<Args> extends { readonly axis: infer A extends number } ? A : 1;

type DimsAt<Shapes extends readonly unknown[], A extends number> = { [K in keyof Shapes]: Shapes[K] extends readonly unknown[] ? Shapes[K][A] : never };
type ReplaceAt<T extends readonly unknown[], A extends number, V> = { -readonly [K in keyof T]: K extends `${A}` ? V : T[K] };

type ConcatOut<Shapes, A extends number> = Shapes extends readonly unknown[]
  ? Shapes[0] extends infer First extends readonly unknown[]
    ? DimsAt<Shapes, A> extends infer Joined extends readonly Dim[]
      ? ReplaceAt<First, A, DimSum<Joined>>
      : never
    : never
  : never;

/** On the channels the rank must be 2 or 4 (the channel concat); on another axis, inside the input. */
type ConcatCheck<Ts extends readonly unknown[], A extends number> = Ts extends readonly [Tensor<infer S>, ...unknown[]]
  ? A extends 1
    ? CheckRank2or4<S>
    : A extends 0
      ? 'axis must be an integer >= 1, got 0'
      : CheckAxis<A, S>
  : true;

const CONCAT_OPTIONS = optionNames<ConcatOptions>()(['axis', 'name']);

type ConcatVerdict<Args extends readonly unknown[]> = WithKnownOptions<
  'concat',
  Args,
  typeof CONCAT_OPTIONS,
  MergeVerdict<'concat', 'input', TensorArgs<Args>, ConcatAxisOf<Args>, ConcatCheck<TensorArgs<Args>, ConcatAxisOf<Args>>>
>;

/**
 * Concatenation of two or more tensors on the channel axis (`concat(a, b, c)`, `concat(a, b, { name })`)
 * or on another IR axis (`concat(a, b, { axis: 3 })`); all other dims must agree:
 * `concat: input 2 of 2 differs at dim 2 (H): 27 vs 28`.
 */
export function concat<const Args extends readonly (Tensor<any> | ConcatOptions)[]>(
  ...args: MergeArgs<Args, ConcatVerdict<Args>>
): Tensor<MergeOut<ConcatVerdict<Args>, ConcatOut<ShapesOf<TensorArgs<Args>>, ConcatAxisOf<Args>>>> {
  return merge('concat', 'input', args as unknown as readonly MergeArg[]);
}

/** A merge's tensors (at least two, of one scope) and its trailing options object. */
export function mergeInputs(op: string, args: readonly MergeArg[]): { tensors: readonly Tensor<Shape>[]; options: MergeOptions; scope: Scope } {
  const last = args[args.length - 1];
  const hasOptions = last !== undefined && !(last instanceof Tensor);
  const tensors = (hasOptions ? args.slice(0, -1) : args) as readonly Tensor<Shape>[];
  const options = (hasOptions ? last : {}) as MergeOptions;
  knownOptions(op, options, op === 'concat' ? CONCAT_OPTIONS : MERGE_OPTIONS);
  if (tensors.length < 2) throw new DslError(`${op}: needs at least two tensors`);
  return { tensors, options, scope: sameScope(op, tensors) };
}

/** The run-time twin of MergeArgs: the same checks, in the same order, with the same words. */
function merge<S extends ShapeOrError>(op: 'add' | 'concat', noun: string, args: readonly MergeArg[]): Tensor<S> {
  const { tensors, options, scope } = mergeInputs(op, args);
  const axis = op === 'concat' ? requireInteger(op, 'axis', (options as ConcatOptions).axis ?? 1, 1) : -1;
  const shapes = tensors.map((t) => t.shape);
  const [first] = shapes;
  if (axis === 1 && first.length !== 2 && first.length !== 4) {
    throw new DslError(`concat: expects a rank-2 input [N, C] or a rank-4 input [N, C, H, W], got rank ${first.length}`);
  }
  if (axis > 1 && axis >= first.length) {
    throw new DslError(`concat: axis ${axis} is outside a rank-${first.length} input [${rankLabelList(first.length)}]`);
  }
  shapes.forEach((other, k) => {
    const blame = `${op}: ${noun} ${k + 1} of ${shapes.length}`;
    if (other.length !== first.length) throw new DslError(`${blame} differs in rank: ${other.length} vs ${first.length}`);
    other.forEach((dim, i) => {
      if (i !== axis && !dimEqual(dim, first[i])) {
        throw new DslError(`${blame} differs at dim ${i} (${dimLabel(first.length, i)}): ${dim} vs ${first[i]}`);
      }
    });
  });
  const inputs = tensors.map((t) => t.node);
  const node = axis > 1 ? scope.node({ op: 'concatAxis', inputs, name: options.name, attrs: { axis } }) : scope.node({ op, inputs, name: options.name, attrs: {} });
  return new Tensor<S>(scope, node);
}

type RunLayers<Ls, S, I extends unknown[]> = Ls extends readonly [infer L, ...infer Rest]
  ? Apply<L, S> extends infer R
    ? R extends string
      ? `sequential[${I['length']}] ${R}`
      : RunLayers<Rest, R, [...I, unknown]>
    : never
  : S;

export interface SequentialFn<Ls> extends ShapeFn {
  readonly output: RunLayers<Ls, this['input'], []>;
}

type RunFns<Fs, S> = Fs extends readonly [infer F extends ShapeFn, ...infer Rest]
  ? Call<F, S> extends infer R
    ? R extends string
      ? R
      : RunFns<Rest, R>
    : never
  : S;

/** Shape functions applied in order; used to state a unit's branch at type level. */
export interface ChainFn<Fs extends readonly ShapeFn[]> extends ShapeFn {
  readonly output: RunFns<Fs, this['input']>;
}

/**
 * Runs `body`; a failure inside it (a shapefold error) is thrown again in `reword`'s words, as the
 * type level rewords a child's message in the enclosing sequential or unit.
 */
export function reworded<T>(body: () => T, reword: (message: string) => string): T {
  try {
    return body();
  } catch (e) {
    if (e instanceof ShapefoldError) throw new DslError(reword(e.message), { cause: e });
    throw e;
  }
}

/**
 * The run-time twin of the type level's `WithinUnit` (dsl/layer.ts), the same template match: a
 * child's `op 'child': rest` inside the unit named `unit` reads `op 'unit.child': rest`; any other
 * message, or any message inside an unnamed unit, reads `otherwise`.
 */
export function withinUnit(unit: string | undefined, message: string, otherwise: string): string {
  if (unit === undefined) return otherwise;
  const nameStart = message.indexOf(" '");
  const nameEnd = nameStart < 0 ? -1 : message.indexOf("': ", nameStart + 2);
  if (nameEnd < 0) return otherwise;
  const op = message.slice(0, nameStart);
  if (op.includes(' ') || op.includes(':')) return otherwise;
  return `${op} '${unit}.${message.slice(nameStart + 2, nameEnd)}': ${message.slice(nameEnd + 3)}`;
}

function checkLayers(op: string, layers: readonly Layer[]): void {
  layers.forEach((l, i) => {
    if (l === null || typeof l !== 'object' || typeof l.apply !== 'function') {
      throw new DslError(`${op}: step ${i} is not a layer`);
    }
  });
}

/** `[step, message]` when the steps fail on an input S learned from `.to()` (see `Takes`), else `true`. */
type SequentialVerdict<Ls, S> = KnownInput<S> extends true
  ? RunLayers<Ls, S, []> extends infer M extends string
    ? M extends `sequential[${infer Step extends number}] ${string}`
      ? [Step, M]
      : true
    : true
  : true;

/** Layers applied one after another; an error names the step (`sequential[2] conv2d: ...`), at type level and at run time alike, and is shown on that step. */
export interface Sequential<Ls> extends Layer<SequentialFn<Ls>> {}
// Steps, a defaulted type parameter, is the one instantiation of the steps that the check here and
// the result's shape function share, so the chain is run once per call (see `Built`).
export function sequential<const Ls extends readonly Layer[], S = unknown, Steps = { -readonly [K in keyof Ls]: Ls[K] }>(
  ...layers: MergeArgs<Ls, SequentialVerdict<Steps, S>>
): SequentialVerdict<Steps, S> extends [unknown, infer M extends string] ? Reported<M, S> : [Sequential<Steps>] extends [infer Plain] ? Plain : never;
export function sequential(...layers: readonly Layer[]): Layer {
  checkLayers('sequential', layers);
  return {
    kind: 'sequential',
    apply: (scope, inputs) =>
      layers.reduce((node, layer, i) => reworded(() => layer.apply(scope, [node]), (message) => `sequential[${i}] ${message}`), inputs[0]),
  };
}

/** A unit's steps one after another, their failures unprefixed (the type level's `ChainFn`). */
export function chain(...layers: readonly Layer[]): Layer {
  checkLayers('chain', layers);
  return {
    kind: 'chain',
    apply: (scope, inputs) => layers.reduce((node, layer) => layer.apply(scope, [node]), inputs[0]),
  };
}

/**
 * out = branch(x) + shortcut(x), shortcut the identity when absent. Shape functions rather than
 * layers so that named units (resA, ...) can build theirs from configs at type level. A failure
 * inside a named unit names the node as the run time does (`add 'block.add': ...`).
 */
export type ResidualOut<Op extends string, Name, Branch extends ShapeFn, Shortcut extends ShapeFn | undefined, S> =
  Call<Branch, S> extends infer BO
    ? BO extends string
      ? WithinUnit<Name, BO, `${Prefix<Op, Name>}${BO}`>
      : (Shortcut extends ShapeFn ? Call<Shortcut, S> : S) extends infer SO
        ? SO extends string
          ? WithinUnit<Name, SO, `${Prefix<Op, Name>}shortcut: ${SO}`>
          : CompareShapes<BO & Shape, SO & Shape, 'branch shapes'> extends infer R
            ? R extends string
              ? WithinUnit<Name, `add 'add': ${R}`, `${Prefix<Op, Name>}add: ${R}`>
              : BO
            : never
        : never
    : never;

export interface ResidualFn<Name, Branch extends ShapeFn, Shortcut extends ShapeFn | undefined> extends ShapeFn {
  readonly output: ResidualOut<'residual', Name, Branch, Shortcut, this['input']>;
}

export interface ResidualOptions<Sc extends Layer | undefined> {
  readonly shortcut?: Sc;
  readonly name?: string;
}

type FnOrUndefined<L> = L extends Layer<infer F> ? F : undefined;

/**
 * Applies `branch` and `shortcut` (children named '<unit>.<child>') and adds their outputs; a
 * failure reads as `ResidualOut` words it at type level.
 */
export function residualUnit(
  kind: string,
  name: string | undefined,
  branch: Layer,
  shortcut: Layer | undefined,
  after?: (scope: Scope, sum: string) => string,
): (scope: Scope, inputs: readonly string[]) => string {
  const prefix = messagePrefix(kind, name);
  return (scope, [x]) =>
    scope.within(scope.unitName(kind, name), () => {
      const b = reworded(() => branch.apply(scope, [x]), (message) => withinUnit(name, message, `${prefix}${message}`));
      const s = shortcut === undefined ? x : reworded(() => shortcut.apply(scope, [x]), (message) => withinUnit(name, message, `${prefix}shortcut: ${message}`));
      const sum = reworded(
        () => scope.node({ op: 'add', inputs: [b, s], name: 'add', attrs: {} }),
        (message) => withinUnit(name, message, `${prefix}add: ${message.slice(messagePrefix('add', 'add').length)}`),
      );
      return after === undefined ? sum : after(scope, sum);
    });
}

/** A residual block: branch(x) + x, or branch(x) + shortcut(x) with a projection. */
export interface Residual<Branch, Options> extends Layer<ResidualFn<NameOf<Options>, ShapeFnOf<Branch>, FnOrUndefined<ShortcutOf<Options>>>> {}
type NameOf<O> = O extends { readonly name: infer N extends string } ? N : undefined;
type ShortcutOf<O> = O extends { readonly shortcut: infer S } ? S : undefined;
/**
 * `['branch' | 'shortcut', message]` when the block fails on an input S learned from `.to()` (see
 * `Takes`), else `true`: a failure of the branch is shown on the branch; one of the shortcut or of
 * the sum on the shortcut when there is one, else on the branch.
 */
type ResidualVerdict<B, O, S> = KnownInput<S> extends true
  ? ResidualOut<'residual', NameOf<O>, ShapeFnOf<B>, FnOrUndefined<ShortcutOf<O>>, S> extends infer M extends string
    ? Call<ShapeFnOf<B>, S> extends string
      ? ['branch', M]
      : O extends { readonly shortcut: Layer }
        ? ['shortcut', M]
        : ['branch', M]
    : true
  : true;

const RESIDUAL_OPTIONS = optionNames<ResidualOptions<Layer | undefined>>()(['shortcut', 'name']);

export function residual<B extends Layer, const O extends ResidualOptions<Layer | undefined> = {}, S = unknown>(
  branch: ResidualVerdict<B, O, S> extends ['branch', infer M] ? M : B,
  options?: HasUnknownOption<O, typeof RESIDUAL_OPTIONS> extends true
    ? { [K in keyof O]: K extends (typeof RESIDUAL_OPTIONS)[number] ? O[K] : UnknownOption<'residual', K, typeof RESIDUAL_OPTIONS> }
    : ResidualVerdict<B, O, S> extends ['shortcut', infer M]
      ? { [K in keyof O]: K extends 'shortcut' ? M : O[K] }
      : O,
): HasUnknownOption<O, typeof RESIDUAL_OPTIONS> extends true
  ? Reported<UnknownOption<'residual', Exclude<keyof O, (typeof RESIDUAL_OPTIONS)[number]>, typeof RESIDUAL_OPTIONS>, S>
  : ResidualVerdict<B, O, S> extends [unknown, infer M extends string]
    ? Reported<M, S>
    : Residual<B, { -readonly [K in keyof O]: O[K] }>;
export function residual(branch: Layer, options: ResidualOptions<Layer | undefined> = {}): Layer {
  knownOptions('residual', options, RESIDUAL_OPTIONS);
  return singleUse('residual', options.name, residualUnit('residual', options.name, branch, options.shortcut));
}
