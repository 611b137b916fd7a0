/**
 * Named residual units. Children are named inside the unit ('layer1.0.conv1'), so fold reports
 * and errors say which BN of which block. All convs are bias-free (a BN follows each), 3x3 with
 * padding 1 unless stated. The shortcut is a 1x1 conv + BN projection when `projection` is true,
 * or by default whenever the stride is not 1 or the channel count changes.
 *
 *   resA:        x + (conv1 -> bn1 -> relu -> conv2 -> bn2 -> relu)
 *   resB:        x + (conv1 -> relu -> bn1 -> conv2 -> relu -> bn2)          (BN after ReLU)
 *   resC:        x + (conv1 -> bn1 -> relu -> bn2 -> conv2 -> bn3 -> relu -> bn4)  (BN both sides)
 *   basicBlock:  relu(x + (conv1 -> bn1 -> relu -> conv2 -> bn2))           (ResNet-18/34)
 *   bottleneck:  relu(x + (1x1 conv1 -> bn1 -> relu -> 3x3 conv2 (stride) -> bn2 -> relu
 *                          -> 1x1 conv3 -> bn3)), out = 4 * width          (ResNet-50)
 */
import type { Layer, Prefix, ShapeFn } from './layer.ts';
import { type ChainFn, type ResidualOut, residualUnit, sequential } from './compose.ts';
import { literalChannels, requireInteger, singleUse } from './runtime.ts';
import type { Scope } from './scope.ts';
import type { CheckLiteralChannels, CheckRank } from './shape.ts';
import type { DimEqual, Mul } from './types/index.ts';
import { type Conv2dFn, conv2d } from './layers/conv.ts';
import { type BatchNormFn, batchNorm } from './layers/norm.ts';
import { type SameShapeFn, relu } from './layers/activation.ts';
import type { CheckedAtRunTime, Sized } from './settings.ts';

export interface UnitConfig {
  /** Input channels; taken from the input when omitted. */
  readonly in?: number;
  readonly out: number;
  readonly stride?: number;
  /** Force (true) or forbid (false) the 1x1 projection shortcut; default: when needed. */
  readonly projection?: boolean;
  readonly name?: string;
}

export interface BottleneckConfig extends Omit<UnitConfig, 'out'> {
  /** Width of the 3x3 conv; the unit outputs 4 * width channels. */
  readonly width: number;
}

type NameOf<C> = C extends { readonly name: infer N extends string } ? N : undefined;
type InOf<C, Ch> = C extends { readonly in: infer I extends number } ? I : Ch;
type StrideOf<C> = C extends { readonly stride: infer S extends number } ? S : 1;

type Conv<In, Out, K extends number, S, Name extends string> = Conv2dFn<{
  readonly in: In;
  readonly out: Out;
  readonly kernel: K;
  readonly stride: S;
  readonly padding: K extends 3 ? 1 : 0;
  readonly bias: false;
  readonly name: Name;
}>;
type Bn<Name extends string> = BatchNormFn<{ readonly name: Name }>;

type NeedsProjection<C, In, Out> = C extends { readonly projection: infer P extends boolean }
  ? P
  : StrideOf<C> extends 1
    ? DimEqual<In, Out> extends true
      ? false
      : true
    : true;

type Shortcut<C, In, Out> = NeedsProjection<C, In, Out> extends true
  ? ChainFn<[Conv<In, Out, 1, StrideOf<C>, 'proj'>, Bn<'proj_bn'>]>
  : undefined;

type UnitOut<Op extends string, C, S, Out, Branch extends ShapeFn, After extends readonly ShapeFn[] = []> =
  S extends readonly [unknown, infer Ch, unknown, unknown]
    ? (C extends { readonly in: number } ? true : CheckLiteralChannels<Ch, 'channels', 'weights'>) extends infer E extends string
      ? `${Prefix<Op, NameOf<C>>}${E}`
      : ChainFn<[UnitResidualFn<Op, C, Out, Branch, S>, ...After]> extends infer F extends ShapeFn
        ? (F & { readonly input: S })['output']
        : never
    : `${Prefix<Op, NameOf<C>>}${CheckRank<S, 4> & string}`;

interface UnitResidualFn<Op extends string, C, Out, Branch extends ShapeFn, S> extends ShapeFn {
  readonly output: S extends readonly [unknown, infer Ch, ...unknown[]]
    ? ResidualOut<Op, NameOf<C>, Branch, Shortcut<C, InOf<C, Ch>, Out>, this['input']>
    : never;
}

type OutOf<C> = C extends { readonly out: infer O } ? O : never;
type ChannelsIn<C, S> = S extends readonly [unknown, infer Ch, ...unknown[]] ? InOf<C, Ch> : never;

type Relu = SameShapeFn;

export interface ResAFn<C> extends ShapeFn {
  readonly output: UnitOut<'resA', C, this['input'], OutOf<C>,
    ChainFn<[Conv<ChannelsIn<C, this['input']>, OutOf<C>, 3, StrideOf<C>, 'conv1'>, Bn<'bn1'>, Relu, Conv<OutOf<C>, OutOf<C>, 3, 1, 'conv2'>, Bn<'bn2'>, Relu]>>;
}
export interface ResBFn<C> extends ShapeFn {
  readonly output: UnitOut<'resB', C, this['input'], OutOf<C>,
    ChainFn<[Conv<ChannelsIn<C, this['input']>, OutOf<C>, 3, StrideOf<C>, 'conv1'>, Relu, Bn<'bn1'>, Conv<OutOf<C>, OutOf<C>, 3, 1, 'conv2'>, Relu, Bn<'bn2'>]>>;
}
export interface ResCFn<C> extends ShapeFn {
  readonly output: UnitOut<'resC', C, this['input'], OutOf<C>,
    ChainFn<[Conv<ChannelsIn<C, this['input']>, OutOf<C>, 3, StrideOf<C>, 'conv1'>, Bn<'bn1'>, Relu, Bn<'bn2'>, Conv<OutOf<C>, OutOf<C>, 3, 1, 'conv2'>, Bn<'bn3'>, Relu, Bn<'bn4'>]>>;
}
export interface BasicBlockFn<C> extends ShapeFn {
  readonly output: UnitOut<'basicBlock', C, this['input'], OutOf<C>,
    ChainFn<[Conv<ChannelsIn<C, this['input']>, OutOf<C>, 3, StrideOf<C>, 'conv1'>, Bn<'bn1'>, Relu, Conv<OutOf<C>, OutOf<C>, 3, 1, 'conv2'>, Bn<'bn2'>]>, [Relu]>;
}
type WidthOf<C> = C extends { readonly width: infer W extends number } ? W : never;
export interface BottleneckFn<C> extends ShapeFn {
  readonly output: UnitOut<'bottleneck', C, this['input'], Mul<WidthOf<C>, 4>,
    ChainFn<[
      Conv<ChannelsIn<C, this['input']>, WidthOf<C>, 1, 1, 'conv1'>, Bn<'bn1'>, Relu,
      Conv<WidthOf<C>, WidthOf<C>, 3, StrideOf<C>, 'conv2'>, Bn<'bn2'>, Relu,
      Conv<WidthOf<C>, Mul<WidthOf<C>, 4>, 1, 1, 'conv3'>, Bn<'bn3'>,
    ]>, [Relu]>;
}

type Step = 'conv1' | 'conv2' | 'conv3' | 'bn1' | 'bn2' | 'bn3' | 'bn4' | 'relu';

interface UnitPlan {
  readonly kind: string;
  readonly steps: readonly Step[];
  /** The 1x1 conv3 of a bottleneck expands to this many channels. */
  readonly out: number;
  /** conv1/conv2 widths (bottleneck: the inner width). */
  readonly inner: number;
  readonly stride: number;
  /** Which conv carries the stride. */
  readonly strided: 'conv1' | 'conv2';
  readonly reluAfterAdd: boolean;
}

function unit(config: UnitConfig | BottleneckConfig, plan: UnitPlan): (scope: Scope, inputs: readonly string[]) => string {
  return (scope, [x]) => {
    const inChannels = literalChannels(scope, x, config.in, { op: plan.kind, name: config.name, rank: 4, creates: 'weights' });
    const projection = config.projection ?? (plan.stride !== 1 || inChannels !== plan.out);
    let channels = inChannels;
    let reluCount = 0;
    const branch = plan.steps.map((step) => {
      if (step === 'relu') return relu({ name: `relu${++reluCount}` });
      if (step.startsWith('bn')) return batchNorm({ name: step });
      const isLast = step === 'conv3' || (step === 'conv2' && !plan.steps.includes('conv3'));
      const out = isLast ? plan.out : plan.inner;
      const kernel = plan.steps.includes('conv3') && step !== 'conv2' ? 1 : 3;
      const layer = conv2d({
        in: channels,
        out,
        kernel,
        stride: step === plan.strided ? plan.stride : 1,
        padding: kernel === 3 ? 1 : 0,
        bias: false,
        name: step,
      });
      channels = out;
      return layer;
    });
    const shortcut = projection
      ? sequential(
          conv2d({ in: inChannels, out: plan.out, kernel: 1, stride: plan.stride, bias: false, name: 'proj' }),
          batchNorm({ name: 'proj_bn' }),
        )
      : undefined;
    const reluAfterAdd = plan.reluAfterAdd
      ? (inner: Scope, sum: string) => inner.node({ op: 'relu', inputs: [sum], name: 'relu', attrs: {} })
      : undefined;
    return residualUnit(plan.kind, config.name, sequential(...branch), shortcut, reluAfterAdd)(scope, [x]);
  };
}

function plainUnit(kind: string, steps: readonly Step[], reluAfterAdd: boolean, config: UnitConfig): (scope: Scope, inputs: readonly string[]) => string {
  const out = requireInteger(kind, 'out', config.out, 1);
  const stride = requireInteger(kind, 'stride', config.stride ?? 1, 1);
  if (config.in !== undefined) requireInteger(kind, 'in', config.in, 1);
  return unit(config, { kind, steps, out, inner: out, stride, strided: 'conv1', reluAfterAdd });
}

export interface ResA<C> extends Layer<ResAFn<C>> {}
export function resA<const C extends UnitConfig>(sizedConfig: Sized<'resA', C, ['in', 'out', 'stride']>): ResA<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }> {
  const config = sizedConfig as C;
  return singleUse('resA', config.name, plainUnit('resA', ['conv1', 'bn1', 'relu', 'conv2', 'bn2', 'relu'], false, config));
}
export interface ResB<C> extends Layer<ResBFn<C>> {}
export function resB<const C extends UnitConfig>(sizedConfig: Sized<'resB', C, ['in', 'out', 'stride']>): ResB<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }> {
  const config = sizedConfig as C;
  return singleUse('resB', config.name, plainUnit('resB', ['conv1', 'relu', 'bn1', 'conv2', 'relu', 'bn2'], false, config));
}
export interface ResC<C> extends Layer<ResCFn<C>> {}
export function resC<const C extends UnitConfig>(sizedConfig: Sized<'resC', C, ['in', 'out', 'stride']>): ResC<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }> {
  const config = sizedConfig as C;
  return singleUse('resC', config.name, plainUnit('resC', ['conv1', 'bn1', 'relu', 'bn2', 'conv2', 'bn3', 'relu', 'bn4'], false, config));
}
export interface BasicBlock<C> extends Layer<BasicBlockFn<C>> {}
export function basicBlock<const C extends UnitConfig>(sizedConfig: Sized<'basicBlock', C, ['in', 'out', 'stride']>): BasicBlock<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }> {
  const config = sizedConfig as C;
  return singleUse('basicBlock', config.name, plainUnit('basicBlock', ['conv1', 'bn1', 'relu', 'conv2', 'bn2'], true, config));
}
export interface Bottleneck<C> extends Layer<BottleneckFn<C>> {}
export function bottleneck<const C extends BottleneckConfig>(sizedConfig: Sized<'bottleneck', C, ['in', 'width', 'stride']>): Bottleneck<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }> {
  const config = sizedConfig as C;
  const kind = 'bottleneck';
  const width = requireInteger(kind, 'width', config.width, 1);
  const stride = requireInteger(kind, 'stride', config.stride ?? 1, 1);
  if (config.in !== undefined) requireInteger(kind, 'in', config.in, 1);
  const steps: Step[] = ['conv1', 'bn1', 'relu', 'conv2', 'bn2', 'relu', 'conv3', 'bn3'];
  return singleUse(kind, config.name, unit(config, { kind, steps, out: 4 * width, inner: width, stride, strided: 'conv2', reluAfterAdd: true }));
}
