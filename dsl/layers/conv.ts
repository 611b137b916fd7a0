/**
 * Convolutions: conv2d, depthwiseConv2d, convTranspose2d and the weight-normalised conv.
 *
 * Spatial output, per axis (PyTorch floor mode; 'same' is TensorFlow's ceil(X/S)):
 *   conv:      floor((X + 2P - D(K-1) - 1) / S) + 1
 *   transpose: (X - 1)S - 2P + D(K-1) + outputPadding + 1
 * computed at type level by `dsl/types` and at run time by `src/shape/dim.ts`, the same formulas.
 */
import type { Conv2dAttrs, Padding2d } from '../../src/ir/graph.ts';
import type { Built, FirstFailure, Layer, Prefix, ShapeFn } from '../layer.ts';
import { knownOptions, literalChannels, optionNames, pair, type PairOption, requireInteger, singleUse } from '../runtime.ts';
import { DslError, type Scope } from '../scope.ts';
import type { CheckCount, CheckLiteralChannels, CheckRank, PairOf } from '../shape.ts';
import type { Add, ConvOutDim, ConvTransposeOutDim, DimToString, Lt, Mod, Mul, SameOutDim } from '../types/index.ts';
import type { CheckedAtRunTime, Sized } from '../settings.ts';

export type PaddingOption = 'same' | 'valid' | number | [number, number] | readonly [number, number];
/** A conv's padding may also differ per side: [top, bottom, left, right] (Keras ZeroPadding2D). */
export type ConvPaddingOption = PaddingOption | [number, number, number, number] | readonly [number, number, number, number];

export interface Conv2dConfig {
  /** Input channels; taken from the input when omitted. */
  readonly in?: number;
  readonly out: number;
  readonly kernel: PairOption;
  readonly stride?: PairOption;
  /** Zero padding (`n`, `[ph, pw]` or `[top, bottom, left, right]`), or 'same' (output ceil(X/S)) or 'valid' (none). */
  readonly padding?: ConvPaddingOption;
  readonly dilation?: PairOption;
  readonly groups?: number;
  readonly bias?: boolean;
  readonly name?: string;
}
const CONV2D_OPTIONS = optionNames<Conv2dConfig>()(['in', 'out', 'kernel', 'stride', 'padding', 'dilation', 'groups', 'bias', 'name']);

type NameOf<C> = C extends { readonly name: infer N extends string } ? N : undefined;
type InOf<C, Ch> = C extends { readonly in: infer I extends number } ? I : Ch;
type GroupsOf<C> = C extends { readonly groups: infer G extends number } ? G : 1;

/** The zero padding [before, after] along one axis, or 'same'. */
type PadAxis<P, Axis extends 0 | 1> = P extends 'same'
  ? 'same'
  : P extends readonly [infer T extends number, infer B extends number, infer L extends number, infer R extends number]
    ? Axis extends 0
      ? [T, B]
      : [L, R]
    : P extends readonly [number, number]
      ? [P[Axis], P[Axis]]
      : P extends number
        ? [P, P]
        : [0, 0];
type PaddingOf<C> = C extends { readonly padding: infer P } ? P : 0;

type ConvAxis<X, K extends number, S extends number, D extends number, P> = P extends readonly [infer B extends number, infer A extends number]
  ? ConvOutDim<X, K, S, D, Add<B, A>>
  : SameOutDim<X, S>;

/** As the run time spells a padding in messages: `1`, or `0+1` when the sides differ. */
type SpellPads<P> = P extends readonly [infer B extends number, infer A extends number]
  ? B extends A
    ? `${B}`
    : `${B}+${A}`
  : P extends number
    ? `${P}`
    : '0';

/** ` (dilation 2, padding 1)` with only the non-default parts (dilation 1 and padding 0 are left out), as the run time spells it. */
type SpellWindow<D, Pads extends string> = D extends 1
  ? Pads extends '0'
    ? ''
    : ` (padding ${Pads})`
  : Pads extends '0'
    ? ` (dilation ${D & number})`
    : ` (dilation ${D & number}, padding ${Pads})`;

type CheckOutputSize<Out, X, K, D, P, Which extends string> = Out extends number
  ? number extends Out
    ? true
    : Lt<Out, 1> extends true
      ? `input ${Which} ${DimToString<X>} is too small for kernel ${K & number}${SpellWindow<D, SpellPads<P>>}`
      : true
  : true;

type CheckGroups<In, Out, G extends number> = In extends number
  ? number extends In
    ? true
    : Mod<In, G> extends 0
      ? Out extends number
        ? number extends Out
          ? true
          : Mod<Out, G> extends 0
            ? true
            : `${G} groups do not divide ${Out} output channels`
        : true
      : `${G} groups do not divide ${In} input channels`
  : CheckLiteralChannels<In, 'channels', 'weights'>;

/** The output shape of a conv2d-like op, or its message. */
export type Conv2dOut<Op extends string, C, S> = S extends readonly [infer N, infer Ch, infer H, infer W]
  ? ConvSpatial<C, H, W> extends [infer HO, infer WO]
    ? FirstFailure<
        [
          C extends { readonly in: number } ? CheckCount<Ch, InOf<C, Ch>, 'channels'> : true,
          C extends { readonly pool: true } ? true : CheckGroups<InOf<C, Ch>, C extends { readonly out: infer O } ? O : never, GroupsOf<C>>,
          ConvCheckAxis<C, H, HO, 0, 'height'>,
          ConvCheckAxis<C, W, WO, 1, 'width'>,
        ]
      > extends infer E
      ? E extends string
        ? `${Prefix<Op, NameOf<C>>}${E}`
        : [N, C extends { readonly out: infer O } ? O : never, HO, WO]
      : never
    : never
  : `${Prefix<Op, NameOf<C>>}${CheckRank<S, 4> & string}`;

type ConvSpatial<C, H, W> = [
  ConvAxis<H, PairOf<KernelOf<C>, 1>[0], PairOf<StrideOf<C>, 1>[0], PairOf<DilationOf<C>, 1>[0], PadAxis<PaddingOf<C>, 0>>,
  ConvAxis<W, PairOf<KernelOf<C>, 1>[1], PairOf<StrideOf<C>, 1>[1], PairOf<DilationOf<C>, 1>[1], PadAxis<PaddingOf<C>, 1>>,
];
type ConvCheckAxis<C, X, Out, Axis extends 0 | 1, Which extends string> = CheckOutputSize<
  Out,
  X,
  PairOf<KernelOf<C>, 1>[Axis],
  PairOf<DilationOf<C>, 1>[Axis],
  PadAxis<PaddingOf<C>, Axis>,
  Which
>;
type KernelOf<C> = C extends { readonly kernel: infer K } ? K : 1;
type StrideOf<C> = C extends { readonly stride: infer S } ? S : 1;
type DilationOf<C> = C extends { readonly dilation: infer D } ? D : 1;

export interface Conv2dFn<C> extends ShapeFn {
  readonly output: Conv2dOut<'conv2d', C, this['input']>;
}
export interface WeightNormConv2dFn<C> extends ShapeFn {
  readonly output: Conv2dOut<'weightNormConv2d', C, this['input']>;
}

function irPadding(op: string, padding: ConvPaddingOption | undefined): Padding2d {
  if (padding === 'same' || padding === 'valid') return padding;
  if (Array.isArray(padding) && padding.length === 4) {
    return [0, 1, 2, 3].map((i) => requireInteger(op, `padding[${i}]`, padding[i], 0)) as unknown as Padding2d;
  }
  const [ph, pw] = pair(op, 'padding', padding as PairOption | undefined, 0, 0);
  return [ph, ph, pw, pw];
}

function convAttrs(op: string, config: Conv2dConfig, inChannels: number): Conv2dAttrs {
  const groups = requireInteger(op, 'groups', config.groups ?? 1, 1);
  const outChannels = requireInteger(op, 'out', config.out, 1);
  return {
    inChannels: requireInteger(op, 'in', inChannels, 1),
    outChannels,
    kernel: pair(op, 'kernel', config.kernel, 1, 1),
    stride: pair(op, 'stride', config.stride, 1, 1),
    padding: irPadding(op, config.padding),
    dilation: pair(op, 'dilation', config.dilation, 1, 1),
    groups,
    bias: config.bias ?? true,
  };
}

function checkConfig(op: string, config: Conv2dConfig): void {
  if (config === null || typeof config !== 'object') throw new DslError(`${op}: expects a config object`);
  convAttrs(op, config, config.in ?? 1);
}

function convLayer<F extends ShapeFn>(op: 'conv2d' | 'weightNormConv2d', config: Conv2dConfig): Layer<F> {
  checkConfig(op, config);
  return singleUse<F>(op, config.name, (scope: Scope, [x]) =>
    scope.node({ op, inputs: [x], name: config.name, attrs: convAttrs(op, config, literalChannels(scope, x, config.in, { op, name: config.name, rank: 4, creates: 'weights' })) }),
  );
}

export interface Conv2d<C> extends Layer<Conv2dFn<C>> {}
type Conv2dSizes = ['in', 'out', 'kernel', 'stride', 'padding', 'dilation', 'groups'];
/** A 2-D convolution on [N, C, H, W], weight [out, in/groups, kH, kW]. */
export function conv2d<const C extends Conv2dConfig, S = unknown, L = Conv2d<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'conv2d', C, Conv2dSizes, L, S, typeof CONV2D_OPTIONS>,
): Built<L, S, C, Conv2dSizes, 'conv2d', typeof CONV2D_OPTIONS>;
export function conv2d(config: Conv2dConfig): Layer {
  knownOptions('conv2d', config, CONV2D_OPTIONS);
  return convLayer('conv2d', config);
}

export interface WeightNormConv2d<C> extends Layer<WeightNormConv2dFn<C>> {}
/** conv2d with weight = g * v / ||v|| (Salimans & Kingma 2016), the norm per output channel. */
export function weightNormConv2d<const C extends Conv2dConfig, S = unknown, L = WeightNormConv2d<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'weightNormConv2d', C, Conv2dSizes, L, S, typeof CONV2D_OPTIONS>,
): Built<L, S, C, Conv2dSizes, 'weightNormConv2d', typeof CONV2D_OPTIONS>;
export function weightNormConv2d(config: Conv2dConfig): Layer {
  knownOptions('weightNormConv2d', config, CONV2D_OPTIONS);
  return convLayer('weightNormConv2d', config);
}

export interface DepthwiseConv2dConfig extends Omit<Conv2dConfig, 'out' | 'groups'> {
  /** Output channels per input channel (default 1). */
  readonly multiplier?: number;
}
const DEPTHWISE_CONV2D_OPTIONS = optionNames<DepthwiseConv2dConfig>()(['in', 'kernel', 'multiplier', 'stride', 'padding', 'dilation', 'bias', 'name']);

type MultiplierOf<C> = C extends { readonly multiplier: infer M extends number } ? M : 1;

/**
 * A literal `in` is checked against the input's channels, as conv2d's is, and sizes the groups as
 * the run time does; without one (or with one typed `number`) the input's channels do.
 */
export interface DepthwiseConv2dFn<C> extends ShapeFn {
  readonly output: this['input'] extends readonly [unknown, infer Ch, unknown, unknown]
    ? C extends { readonly in: infer I extends number }
      ? number extends I
        ? DepthwiseOnChannels<C, Ch, this['input']>
        : Conv2dOut<'depthwiseConv2d', C & { readonly out: Mul<I, MultiplierOf<C>>; readonly groups: I }, this['input']>
      : DepthwiseOnChannels<C, Ch, this['input']>
    : `${Prefix<'depthwiseConv2d', NameOf<C>>}${CheckRank<this['input'], 4> & string}`;
}
type DepthwiseOnChannels<C, Ch, S> = Ch extends number
  ? Conv2dOut<'depthwiseConv2d', C & { readonly in: Ch; readonly out: Mul<Ch, MultiplierOf<C>>; readonly groups: Ch }, S>
  : `${Prefix<'depthwiseConv2d', NameOf<C>>}${CheckLiteralChannels<Ch, 'channels', 'weights'> & string}`;

export interface DepthwiseConv2d<C> extends Layer<DepthwiseConv2dFn<C>> {}
type DepthwiseConv2dSizes = ['in', 'kernel', 'stride', 'padding', 'dilation', 'multiplier'];
/** A depthwise conv: groups = in channels, out = in * multiplier. Recorded as a grouped conv2d. */
export function depthwiseConv2d<const C extends DepthwiseConv2dConfig, S = unknown, L = DepthwiseConv2d<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'depthwiseConv2d', C, DepthwiseConv2dSizes, L, S, typeof DEPTHWISE_CONV2D_OPTIONS>,
): Built<L, S, C, DepthwiseConv2dSizes, 'depthwiseConv2d', typeof DEPTHWISE_CONV2D_OPTIONS>;
export function depthwiseConv2d(config: DepthwiseConv2dConfig): Layer {
  knownOptions('depthwiseConv2d', config, DEPTHWISE_CONV2D_OPTIONS);
  const op = 'depthwiseConv2d';
  const multiplier = requireInteger(op, 'multiplier', config.multiplier ?? 1, 1);
  checkConfig(op, { ...config, out: multiplier });
  return singleUse(op, config.name, (scope, [x]) => {
    const channels = literalChannels(scope, x, config.in, { op, name: config.name, rank: 4, creates: 'weights' });
    const attrs = convAttrs(op, { ...config, in: channels, out: channels * multiplier, groups: channels }, channels);
    return scope.node({ op: 'conv2d', inputs: [x], name: config.name, attrs }, op);
  });
}

export interface ConvTranspose2dConfig {
  readonly in?: number;
  readonly out: number;
  readonly kernel: PairOption;
  readonly stride?: PairOption;
  /** Symmetric padding removed from each side of the full output (PyTorch). */
  readonly padding?: PairOption;
  readonly outputPadding?: PairOption;
  readonly dilation?: PairOption;
  readonly groups?: number;
  readonly bias?: boolean;
  readonly name?: string;
}
const CONV_TRANSPOSE2D_OPTIONS = optionNames<ConvTranspose2dConfig>()(['in', 'out', 'kernel', 'stride', 'padding', 'outputPadding', 'dilation', 'groups', 'bias', 'name']);

type OutputPaddingOf<C> = C extends { readonly outputPadding: infer P } ? P : 0;

type CheckOutputPadding<OP extends number, S extends number, D extends number, Which extends string> =
  Lt<OP, S> extends true ? true : Lt<OP, D> extends true ? true : `outputPadding ${OP} (${Which}) must be smaller than stride ${S}${D extends 1 ? '' : ` or dilation ${D}`}`;

type TransposeAxis<C, X, Axis extends 0 | 1> = ConvTransposeOutDim<
  X,
  PairOf<KernelOf<C>, 1>[Axis],
  PairOf<StrideOf<C>, 1>[Axis],
  PairOf<DilationOf<C>, 1>[Axis],
  PairOf<PaddingOf<C>, 0>[Axis],
  PairOf<OutputPaddingOf<C>, 0>[Axis]
>;

type CheckTransposeAxis<C, X, Out, Axis extends 0 | 1, Which extends string> = FirstFailure<
  [
    CheckOutputPadding<PairOf<OutputPaddingOf<C>, 0>[Axis], PairOf<StrideOf<C>, 1>[Axis], PairOf<DilationOf<C>, 1>[Axis], Which>,
    CheckOutputSize<Out, X, PairOf<KernelOf<C>, 1>[Axis], PairOf<DilationOf<C>, 1>[Axis], PairOf<PaddingOf<C>, 0>[Axis], Which>,
  ]
>;

export type ConvTranspose2dOut<C, S> = S extends readonly [infer N, infer Ch, infer H, infer W]
  ? [TransposeAxis<C, H, 0>, TransposeAxis<C, W, 1>] extends [infer HO, infer WO]
    ? FirstFailure<
        [
          C extends { readonly in: number } ? CheckCount<Ch, InOf<C, Ch>, 'channels'> : true,
          CheckGroups<InOf<C, Ch>, C extends { readonly out: infer O } ? O : never, GroupsOf<C>>,
          CheckTransposeAxis<C, H, HO, 0, 'height'>,
          CheckTransposeAxis<C, W, WO, 1, 'width'>,
        ]
      > extends infer E
      ? E extends string
        ? `${Prefix<'convTranspose2d', NameOf<C>>}${E}`
        : [N, C extends { readonly out: infer O } ? O : never, HO, WO]
      : never
    : never
  : `${Prefix<'convTranspose2d', NameOf<C>>}${CheckRank<S, 4> & string}`;

export interface ConvTranspose2dFn<C> extends ShapeFn {
  readonly output: ConvTranspose2dOut<C, this['input']>;
}

export interface ConvTranspose2d<C> extends Layer<ConvTranspose2dFn<C>> {}
type ConvTranspose2dSizes = ['in', 'out', 'kernel', 'stride', 'padding', 'outputPadding', 'dilation', 'groups'];
/** A transposed conv, weight [in, out/groups, kH, kW] (PyTorch layout). */
export function convTranspose2d<const C extends ConvTranspose2dConfig, S = unknown, L = ConvTranspose2d<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'convTranspose2d', C, ConvTranspose2dSizes, L, S, typeof CONV_TRANSPOSE2D_OPTIONS>,
): Built<L, S, C, ConvTranspose2dSizes, 'convTranspose2d', typeof CONV_TRANSPOSE2D_OPTIONS>;
export function convTranspose2d(config: ConvTranspose2dConfig): Layer {
  knownOptions('convTranspose2d', config, CONV_TRANSPOSE2D_OPTIONS);
  const op = 'convTranspose2d';
  if (config === null || typeof config !== 'object') throw new DslError(`${op}: expects a config object`);
  const attrsFor = (inChannels: number) => {
    const stride = pair(op, 'stride', config.stride, 1, 1);
    const dilation = pair(op, 'dilation', config.dilation, 1, 1);
    // Its bound by stride and dilation is the shape inference's check, at the application, as the type level checks it.
    const outputPadding = pair(op, 'outputPadding', config.outputPadding, 0, 0);
    return {
      inChannels: requireInteger(op, 'in', inChannels, 1),
      outChannels: requireInteger(op, 'out', config.out, 1),
      kernel: pair(op, 'kernel', config.kernel, 1, 1),
      stride,
      padding: pair(op, 'padding', config.padding, 0, 0),
      outputPadding,
      dilation,
      groups: requireInteger(op, 'groups', config.groups ?? 1, 1),
      bias: config.bias ?? true,
    };
  };
  attrsFor(config.in ?? 1);
  return singleUse(op, config.name, (scope, [x]) =>
    scope.node({ op, inputs: [x], name: config.name, attrs: attrsFor(literalChannels(scope, x, config.in, { op, name: config.name, rank: 4, creates: 'weights' })) }),
  );
}
