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
 *
 * and the mobile units (EfficientNet, MobileNetV2/V3), Keras' layer order:
 *
 *   squeezeExcite: x * gate(expand(act(reduce(globalAvgPool(x)))))   1x1 convs C -> squeeze -> C
 *   mbConv:        [1x1 expand -> bn -> act] -> kxk depthwise (stride) -> bn -> act -> [squeezeExcite]
 *                  -> 1x1 project -> bn, plus x when the stride is 1 and the channels are kept
 */
import type { Built, Layer, Prefix, ShapeFn, WithinUnit } from './layer.ts';
import { type ChainFn, type ResidualOut, chain, residualUnit, reworded, withinUnit } from './compose.ts';
import type { Call } from './layer.ts';
import { knownOptions, literalChannels, optionNames, requireInteger, singleUse } from './runtime.ts';
import type { Scope } from './scope.ts';
import type { CheckLiteralChannels, CheckRank } from './shape.ts';
import type { DimEqual, FloorDiv, Mul } from './types/index.ts';
import { type Conv2dFn, type DepthwiseConv2dFn, conv2d, depthwiseConv2d } from './layers/conv.ts';
import { type BatchNormFn, batchNorm } from './layers/norm.ts';
import { type SameShapeFn, hardSigmoid, relu, relu6, sigmoid, swish } from './layers/activation.ts';
import { globalAvgPool } from './layers/pool.ts';
import type { Layer as AnyLayer } from './layer.ts';
import { DslError, messagePrefix } from './scope.ts';
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
const UNIT_OPTIONS = optionNames<UnitConfig>()(['in', 'out', 'stride', 'projection', 'name']);

export interface BottleneckConfig extends Omit<UnitConfig, 'out'> {
  /** Width of the 3x3 conv; the unit outputs 4 * width channels. */
  readonly width: number;
}
const BOTTLENECK_OPTIONS = optionNames<BottleneckConfig>()(['in', 'width', 'stride', 'projection', 'name']);

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
      ? chain(
          conv2d({ in: inChannels, out: plan.out, kernel: 1, stride: plan.stride, bias: false, name: 'proj' }),
          batchNorm({ name: 'proj_bn' }),
        )
      : undefined;
    const reluAfterAdd = plan.reluAfterAdd
      ? (inner: Scope, sum: string) => inner.node({ op: 'relu', inputs: [sum], name: 'relu', attrs: {} })
      : undefined;
    return residualUnit(plan.kind, config.name, chain(...branch), shortcut, reluAfterAdd)(scope, [x]);
  };
}

function plainUnit(kind: string, steps: readonly Step[], reluAfterAdd: boolean, config: UnitConfig): (scope: Scope, inputs: readonly string[]) => string {
  const out = requireInteger(kind, 'out', config.out, 1);
  const stride = requireInteger(kind, 'stride', config.stride ?? 1, 1);
  if (config.in !== undefined) requireInteger(kind, 'in', config.in, 1);
  return unit(config, { kind, steps, out, inner: out, stride, strided: 'conv1', reluAfterAdd });
}

export interface ResA<C> extends Layer<ResAFn<C>> {}
type UnitSizes = ['in', 'out', 'stride'];
export function resA<const C extends UnitConfig, S = unknown, L = ResA<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'resA', C, UnitSizes, L, S, typeof UNIT_OPTIONS>,
): Built<L, S, C, UnitSizes, 'resA', typeof UNIT_OPTIONS>;
export function resA(config: UnitConfig): Layer {
  knownOptions('resA', config, UNIT_OPTIONS);
  return singleUse('resA', config.name, plainUnit('resA', ['conv1', 'bn1', 'relu', 'conv2', 'bn2', 'relu'], false, config));
}
export interface ResB<C> extends Layer<ResBFn<C>> {}
export function resB<const C extends UnitConfig, S = unknown, L = ResB<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'resB', C, UnitSizes, L, S, typeof UNIT_OPTIONS>,
): Built<L, S, C, UnitSizes, 'resB', typeof UNIT_OPTIONS>;
export function resB(config: UnitConfig): Layer {
  knownOptions('resB', config, UNIT_OPTIONS);
  return singleUse('resB', config.name, plainUnit('resB', ['conv1', 'relu', 'bn1', 'conv2', 'relu', 'bn2'], false, config));
}
export interface ResC<C> extends Layer<ResCFn<C>> {}
export function resC<const C extends UnitConfig, S = unknown, L = ResC<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'resC', C, UnitSizes, L, S, typeof UNIT_OPTIONS>,
): Built<L, S, C, UnitSizes, 'resC', typeof UNIT_OPTIONS>;
export function resC(config: UnitConfig): Layer {
  knownOptions('resC', config, UNIT_OPTIONS);
  return singleUse('resC', config.name, plainUnit('resC', ['conv1', 'bn1', 'relu', 'bn2', 'conv2', 'bn3', 'relu', 'bn4'], false, config));
}
export interface BasicBlock<C> extends Layer<BasicBlockFn<C>> {}
export function basicBlock<const C extends UnitConfig, S = unknown, L = BasicBlock<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'basicBlock', C, UnitSizes, L, S, typeof UNIT_OPTIONS>,
): Built<L, S, C, UnitSizes, 'basicBlock', typeof UNIT_OPTIONS>;
export function basicBlock(config: UnitConfig): Layer {
  knownOptions('basicBlock', config, UNIT_OPTIONS);
  return singleUse('basicBlock', config.name, plainUnit('basicBlock', ['conv1', 'bn1', 'relu', 'conv2', 'bn2'], true, config));
}
export interface Bottleneck<C> extends Layer<BottleneckFn<C>> {}
type BottleneckSizes = ['in', 'width', 'stride'];
export function bottleneck<const C extends BottleneckConfig, S = unknown, L = Bottleneck<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'bottleneck', C, BottleneckSizes, L, S, typeof BOTTLENECK_OPTIONS>,
): Built<L, S, C, BottleneckSizes, 'bottleneck', typeof BOTTLENECK_OPTIONS>;
export function bottleneck(config: BottleneckConfig): Layer {
  knownOptions('bottleneck', config, BOTTLENECK_OPTIONS);
  const kind = 'bottleneck';
  const width = requireInteger(kind, 'width', config.width, 1);
  const stride = requireInteger(kind, 'stride', config.stride ?? 1, 1);
  if (config.in !== undefined) requireInteger(kind, 'in', config.in, 1);
  const steps: Step[] = ['conv1', 'bn1', 'relu', 'conv2', 'bn2', 'relu', 'conv3', 'bn3'];
  return singleUse(kind, config.name, unit(config, { kind, steps, out: 4 * width, inner: width, stride, strided: 'conv2', reluAfterAdd: true }));
}

export interface SqueezeExciteConfig {
  /** Channels of the bottleneck between the two 1x1 convs (EfficientNet: input channels * 0.25). */
  readonly squeeze: number;
  /** After the reducing conv (default 'relu'). */
  readonly activation?: MobileActivation;
  /** The gate (default 'sigmoid'; MobileNetV3: 'hardSigmoid'). */
  readonly gate?: 'sigmoid' | 'hardSigmoid';
  readonly name?: string;
}
const SQUEEZE_EXCITE_OPTIONS = optionNames<SqueezeExciteConfig>()(['squeeze', 'activation', 'gate', 'name']);

export type MobileActivation = 'relu' | 'relu6' | 'swish';

/** The shape is kept; the channels size the 1x1 convs, so they must be literal. */
type KeepsShapeWithWeights<Op extends string, C, S> = S extends readonly [unknown, infer Ch, unknown, unknown]
  ? CheckLiteralChannels<Ch, 'channels', 'weights'> extends infer E extends string
    ? `${Prefix<Op, NameOf<C>>}${E}`
    : S
  : `${Prefix<Op, NameOf<C>>}${CheckRank<S, 4> & string}`;

export interface SqueezeExciteFn<C> extends ShapeFn {
  readonly output: KeepsShapeWithWeights<'squeezeExcite', C, this['input']>;
}

function activationLayer(kind: string, activation: MobileActivation, name: string): AnyLayer {
  if (activation === 'swish') return swish({ name });
  if (activation === 'relu6') return relu6({ name });
  if (activation === 'relu') return relu({ name });
  throw new DslError(`${kind}: activation must be 'relu', 'relu6' or 'swish', got ${JSON.stringify(activation)}`);
}

/** Adds the squeeze-excite nodes after `x` inside the current unit; returns the rescaled output. */
function squeezeExciteNodes(scope: Scope, x: string, channels: number, config: SqueezeExciteConfig): string {
  const activation = config.activation ?? 'relu';
  const gate = config.gate === 'hardSigmoid' ? hardSigmoid({ name: 'gate' }) : sigmoid({ name: 'gate' });
  const squeezed = chain(
    globalAvgPool({ keepDims: true, name: 'squeeze' }),
    conv2d({ in: channels, out: config.squeeze, kernel: 1, name: 'reduce' }),
    activationLayer('squeezeExcite', activation, 'act'),
    conv2d({ in: config.squeeze, out: channels, kernel: 1, name: 'expand' }),
    gate,
  ).apply(scope, [x]);
  return scope.node({ op: 'merge', inputs: [x, squeezed], name: 'excite', attrs: { fn: 'multiply' } });
}

function checkSqueezeExcite(kind: string, config: SqueezeExciteConfig): void {
  if (config === null || typeof config !== 'object') throw new DslError(`${kind}: expects a config object`);
  requireInteger(kind, 'squeeze', config.squeeze, 1);
  activationLayer(kind, config.activation ?? 'relu', 'check');
  if (config.gate !== undefined && config.gate !== 'sigmoid' && config.gate !== 'hardSigmoid') {
    throw new DslError(`${kind}: gate must be 'sigmoid' or 'hardSigmoid', got ${JSON.stringify(config.gate)}`);
  }
}

export interface SqueezeExcite<C> extends Layer<SqueezeExciteFn<C>> {}
type SqueezeExciteSizes = ['squeeze'];
/** Squeeze-and-excitation (Hu et al. 2018): each channel rescaled by a gate computed from all channels' means. */
export function squeezeExcite<const C extends SqueezeExciteConfig, S = unknown, L = SqueezeExcite<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'squeezeExcite', C, SqueezeExciteSizes, L, S, typeof SQUEEZE_EXCITE_OPTIONS>,
): Built<L, S, C, SqueezeExciteSizes, 'squeezeExcite', typeof SQUEEZE_EXCITE_OPTIONS>;
export function squeezeExcite(config: SqueezeExciteConfig): Layer {
  knownOptions('squeezeExcite', config, SQUEEZE_EXCITE_OPTIONS);
  const kind = 'squeezeExcite';
  checkSqueezeExcite(kind, config);
  return singleUse(kind, config.name, (scope, [x]) => {
    const channels = literalChannels(scope, x, undefined, { op: kind, name: config.name, rank: 4, creates: 'weights' });
    return scope.within(scope.unitName(kind, config.name), () =>
      reworded(() => squeezeExciteNodes(scope, x, channels, config), (message) => withinUnit(config.name, message, `${messagePrefix(kind, config.name)}${message}`)),
    );
  });
}

export interface MbConvConfig {
  /** Input channels; taken from the input when omitted. */
  readonly in?: number;
  readonly out: number;
  /** Expansion ratio of the first 1x1 conv (default 6; 1 leaves it out). */
  readonly expand?: number;
  /** Depthwise kernel, odd (default 3), padded by kernel/2 on each side. */
  readonly kernel?: number;
  readonly stride?: number;
  /** Squeeze-excite bottleneck channels (EfficientNet: in * 0.25); absent: no squeeze-excite. */
  readonly squeeze?: number;
  /** Default 'swish' (EfficientNet); MobileNetV2: 'relu6'. */
  readonly activation?: MobileActivation;
  readonly name?: string;
}
const MB_CONV_OPTIONS = optionNames<MbConvConfig>()(['in', 'out', 'expand', 'kernel', 'stride', 'squeeze', 'activation', 'name']);

type ExpandOf<C> = C extends { readonly expand: infer E extends number } ? E : 6;
type DepthKernelOf<C> = C extends { readonly kernel: infer K extends number } ? K : 3;

/** mbConv's squeeze-excite: its reducing 1x1 conv is sized for the expanded channels (`Mid`); the shape is kept. */
interface MbConvExciteFn<Mid, Squeeze> extends ShapeFn {
  readonly output: this['input'] extends readonly [infer N, infer Ch, unknown, unknown]
    ? Call<Conv<Mid, Squeeze, 1, 1, 'se.reduce'>, [N, Ch, 1, 1]> extends infer R extends string
      ? R
      : this['input']
    : this['input'];
}

type MbConvBranch<C, In, Mid> = ChainFn<[
  ...(ExpandOf<C> extends 1 ? [] : [Conv<In, Mid, 1, 1, 'expand'>, Bn<'expand_bn'>, Relu]),
  DepthwiseConv2dFn<{ kernel: DepthKernelOf<C>; stride: StrideOf<C>; padding: FloorDiv<DepthKernelOf<C>, 2>; bias: false; name: 'dw' }>,
  Bn<'dw_bn'>,
  Relu,
  ...(C extends { readonly squeeze: infer Q } ? [MbConvExciteFn<Mid, Q>] : []),
  Conv<Mid, OutOf<C>, 1, 1, 'project'>,
  Bn<'project_bn'>,
]>;

type MbConvOut<C, S> = S extends readonly [unknown, infer Ch, unknown, unknown]
  ? (C extends { readonly in: number } ? true : CheckLiteralChannels<Ch, 'channels', 'weights'>) extends infer E extends string
    ? `${Prefix<'mbConv', NameOf<C>>}${E}`
    : MbConvBranch<C, InOf<C, Ch>, Mul<InOf<C, Ch> & number, ExpandOf<C>>> extends infer Branch extends ShapeFn
      ? [StrideOf<C>, DimEqual<InOf<C, Ch>, OutOf<C>>] extends [1, true]
        ? ResidualOut<'mbConv', NameOf<C>, Branch, undefined, S>
        : Call<Branch, S> extends infer R
          ? R extends string
            ? WithinUnit<NameOf<C>, R, `${Prefix<'mbConv', NameOf<C>>}${R}`>
            : R
          : never
      : never
  : `${Prefix<'mbConv', NameOf<C>>}${CheckRank<S, 4> & string}`;

export interface MbConvFn<C> extends ShapeFn {
  readonly output: MbConvOut<C, this['input']>;
}

export interface MbConv<C> extends Layer<MbConvFn<C>> {}
type MbConvSizes = ['in', 'out', 'expand', 'kernel', 'stride', 'squeeze'];
/**
 * The inverted residual of MobileNetV2 and EfficientNet (see the file comment). Every conv is
 * bias-free and followed by a BatchNorm, which the fold engine folds into it.
 */
export function mbConv<const C extends MbConvConfig, S = unknown, L = MbConv<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'mbConv', C, MbConvSizes, L, S, typeof MB_CONV_OPTIONS>,
): Built<L, S, C, MbConvSizes, 'mbConv', typeof MB_CONV_OPTIONS>;
export function mbConv(config: MbConvConfig): Layer {
  knownOptions('mbConv', config, MB_CONV_OPTIONS);
  const kind = 'mbConv';
  if (config === null || typeof config !== 'object') throw new DslError(`${kind}: expects a config object`);
  const out = requireInteger(kind, 'out', config.out, 1);
  const expand = requireInteger(kind, 'expand', config.expand ?? 6, 1);
  const kernel = requireInteger(kind, 'kernel', config.kernel ?? 3, 1);
  if (kernel % 2 !== 1) throw new DslError(`${kind}: kernel must be odd, got ${kernel}`);
  const stride = requireInteger(kind, 'stride', config.stride ?? 1, 1);
  if (config.in !== undefined) requireInteger(kind, 'in', config.in, 1);
  const activation = config.activation ?? 'swish';
  activationLayer(kind, activation, 'check');
  const squeeze = config.squeeze;
  if (squeeze !== undefined) checkSqueezeExcite(kind, { squeeze, activation });
  return singleUse(kind, config.name, (scope, [x]) => {
    const inChannels = literalChannels(scope, x, config.in, { op: kind, name: config.name, rank: 4, creates: 'weights' });
    const mid = inChannels * expand;
    const steps: AnyLayer[] = [];
    if (expand !== 1) {
      steps.push(conv2d({ in: inChannels, out: mid, kernel: 1, bias: false, name: 'expand' }), batchNorm({ name: 'expand_bn' }), activationLayer(kind, activation, 'expand_act'));
    }
    steps.push(
      depthwiseConv2d({ kernel, stride, padding: (kernel - 1) / 2, bias: false, name: 'dw' }),
      batchNorm({ name: 'dw_bn' }),
      activationLayer(kind, activation, 'dw_act'),
    );
    const seAndProject: AnyLayer = {
      kind: 'project',
      apply: (inner, [h]) => {
        const excited =
          squeeze === undefined
            ? h
            : inner.within(inner.unitName('squeezeExcite', 'se'), () =>
                reworded(() => squeezeExciteNodes(inner, h, mid, { squeeze, activation }), (message) => withinUnit('se', message, message)),
              );
        return chain(conv2d({ in: mid, out, kernel: 1, bias: false, name: 'project' }), batchNorm({ name: 'project_bn' })).apply(inner, [excited]);
      },
    };
    const branch = chain(...steps, seAndProject);
    if (stride === 1 && inChannels === out) return residualUnit(kind, config.name, branch, undefined)(scope, [x]);
    return scope.within(scope.unitName(kind, config.name), () =>
      reworded(() => branch.apply(scope, [x]), (message) => withinUnit(config.name, message, `${messagePrefix(kind, config.name)}${message}`)),
    );
  });
}
