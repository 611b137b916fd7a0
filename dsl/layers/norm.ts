/**
 * Normalization layers. All keep the input shape; the checks are the rank, the channel count
 * (dim 1) when the config states it, and the op's own divisibility rules.
 *
 * Running statistics (BatchNorm, Batch Renorm, IBN, SwitchableNorm) follow one of two
 * conventions, recorded in the IR as `decay` (the weight kept on the old value):
 *   'pytorch' (default): momentum m = 0.1, running <- (1-m)*running + m*batch, the running
 *                        variance from the unbiased batch variance;
 *   'keras':             momentum m = 0.99, running <- m*running + (1-m)*batch, the biased one;
 *                        and eps 1e-3 instead of 1e-5, Keras' BatchNormalization default.
 * Normalisation itself always divides by sqrt(biased batch variance + eps).
 */
import type { RenormWarmup, RunningStatsUpdate } from '../../src/ir/graph.ts';
import type { Built, FirstFailure, Layer, Prefix, ShapeFn } from '../layer.ts';
import { knownOptions, literalChannels, optionNames, requireFraction, requireInteger, requirePositive, singleUse } from '../runtime.ts';
import { DslError, messagePrefix, type Scope } from '../scope.ts';
import type { CheckCount, CheckLiteralChannels, CheckRank, CheckRank2or4, CheckRank2to4, SpellShape } from '../shape.ts';
import type { DimEqual, DimToString, Lt, Mod, Sub } from '../types/index.ts';
import type { CheckedAtRunTime, Sized } from '../settings.ts';

export interface RunningStatsConfig {
  /** Default 0.1 with 'pytorch', 0.99 with 'keras' (see the file comment). */
  readonly momentum?: number;
  readonly convention?: 'pytorch' | 'keras';
}

interface ChannelsConfig {
  /** Channel count; taken from the input when omitted. */
  readonly channels?: number;
  readonly eps?: number;
  readonly name?: string;
}

type NameOf<C> = C extends { readonly name: infer N extends string } ? N : undefined;

type ChannelCheck<C, Ch> = C extends { readonly channels: infer E }
  ? CheckCount<Ch, E, 'channels'>
  : CheckLiteralChannels<Ch, 'channels', 'parameters'>;

/** The shape is kept; fails with the first message among rank, channel and extra checks. */
type NormOut<Op extends string, C, S, RankCheck, Extra = true> = RankCheck extends string
  ? `${Prefix<Op, NameOf<C>>}${RankCheck}`
  : S extends readonly [unknown, infer Ch, ...unknown[]]
    ? FirstFailure<[ChannelCheck<C, Ch>, Extra]> extends infer E
      ? E extends string
        ? `${Prefix<Op, NameOf<C>>}${E}`
        : S
      : never
    : never;

type ChannelsOf<C, S> = C extends { readonly channels: infer E } ? E : S extends readonly [unknown, infer Ch, ...unknown[]] ? Ch : never;

/** The ranks each norm accepts (the shape inference's perChannel rule). */
const RANKS = {
  batchNorm: '2to4',
  batchRenorm: '2to4',
  layerNorm: '2or4',
  instanceNorm: 4,
  groupNorm: 4,
  ibn: 4,
  switchableNorm: 4,
  scaleShift: '2or4',
} as const;

function runningStats(op: string, config: RunningStatsConfig): RunningStatsUpdate {
  const convention = config.convention ?? 'pytorch';
  if (convention !== 'pytorch' && convention !== 'keras') {
    throw new DslError(`${op}: convention must be 'pytorch' or 'keras', got ${JSON.stringify(convention)}`);
  }
  return { decay: decayOf(op, convention, 'momentum', config.momentum), unbiasedRunningVar: convention === 'pytorch' };
}

/** A momentum read in the convention's sense (see the file comment) as the weight kept on the old value. */
function decayOf(op: string, convention: 'pytorch' | 'keras', field: string, momentum: number | undefined): number {
  return convention === 'keras' ? requireFraction(op, field, momentum ?? 0.99) : 1 - requireFraction(op, field, momentum ?? 0.1);
}

/** Default 1e-5 (PyTorch), 1e-3 for a running-statistics norm with `convention: 'keras'` (Keras' BatchNormalization). */
function eps(op: string, config: ChannelsConfig & RunningStatsConfig): number {
  return requirePositive(op, 'eps', config.eps ?? (config.convention === 'keras' ? 1e-3 : 1e-5));
}

function optionalFlag(op: string, field: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean') throw new DslError(`${op}: ${field} must be true or false, got ${JSON.stringify(value)}`);
  return value ?? true;
}

function channelsConfig(op: string, config: ChannelsConfig): void {
  if (config === null || typeof config !== 'object') throw new DslError(`${op}: expects a config object`);
  if (config.channels !== undefined) requireInteger(op, 'channels', config.channels, 1);
  eps(op, config);
}

export interface BatchNormConfig extends ChannelsConfig, Omit<RunningStatsConfig, 'momentum'> {
  /** As in RunningStatsConfig; null is PyTorch's momentum=None, a cumulative average of the batches' statistics. */
  readonly momentum?: number | null;
  /** Learned per-channel gamma and beta (default true); false is PyTorch's affine=False, Keras' center=scale=False. */
  readonly affine?: boolean;
  /**
   * Keep running statistics (default true); false normalises with the batch's statistics in
   * eval mode too (PyTorch track_running_stats=False), and such a BN cannot be folded.
   */
  readonly trackRunningStats?: boolean;
  /**
   * true: always use the running statistics and never update them, in train mode too; 'all':
   * gamma and beta are not trained either (torchvision's FrozenBatchNorm2d).
   */
  readonly frozen?: boolean | 'all';
}
const BATCH_NORM_OPTIONS = optionNames<BatchNormConfig>()(['channels', 'eps', 'momentum', 'convention', 'affine', 'trackRunningStats', 'frozen', 'name']);
export interface BatchNormFn<C> extends ShapeFn {
  readonly output: NormOut<'batchNorm', C, this['input'], CheckRank2to4<this['input']>>;
}
export interface BatchNorm<C> extends Layer<BatchNormFn<C>> {}
type BatchNormSizes = ['channels'];
/** BatchNorm over [N, C] or [N, C, L] (1d) or [N, C, H, W] (2d), per channel. */
export function batchNorm<const C extends BatchNormConfig = {}, S = unknown, L = BatchNorm<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config?: Sized<'batchNorm', C, BatchNormSizes, L, S, typeof BATCH_NORM_OPTIONS>,
): Built<L, S, C, BatchNormSizes, 'batchNorm', typeof BATCH_NORM_OPTIONS>;
export function batchNorm(config: BatchNormConfig = {}): Layer {
  knownOptions('batchNorm', config, BATCH_NORM_OPTIONS);
  const op = 'batchNorm';
  channelsConfig(op, config);
  const cumulative = config.momentum === null;
  const conventions: RunningStatsConfig = { convention: config.convention, momentum: config.momentum ?? undefined };
  const stats = runningStats(op, conventions);
  const affine = optionalFlag(op, 'affine', config.affine);
  const trackRunningStats = optionalFlag(op, 'trackRunningStats', config.trackRunningStats);
  if (!trackRunningStats && config.frozen !== undefined && config.frozen !== false) {
    throw new DslError(`${op}: frozen needs running statistics, but trackRunningStats is false`);
  }
  return singleUse(op, config.name, (scope, [x]) =>
    scope.node({
      op,
      inputs: [x],
      name: config.name,
      attrs: { numFeatures: literalChannels(scope, x, config.channels, { op, name: config.name, rank: RANKS[op], creates: 'parameters' }), eps: eps(op, { eps: config.eps, convention: config.convention }), frozen: config.frozen ?? false, ...stats, ...(cumulative ? { decay: null } : {}), ...(affine ? {} : { affine }), ...(trackRunningStats ? {} : { trackRunningStats }) },
    }),
  );
}

export interface BatchRenormConfig extends ChannelsConfig, RunningStatsConfig {
  /** Clip for r = sigma_B / sigma to [1/rMax, rMax] (default 3). */
  readonly rMax?: number;
  /** Clip for d = (mu_B - mu) / sigma to [-dMax, dMax] (default 5). */
  readonly dMax?: number;
  /**
   * Where r and d take mu and sigma from: 'movingStddev' (default; the paper's Algorithm 1 and
   * Keras' renorm=True) keeps moving averages of mu_B and sigma_B = sqrt(var_B + eps);
   * 'runningVar' uses the running mean and sqrt(runningVar + eps) instead.
   */
  readonly sigma?: 'movingStddev' | 'runningVar';
  /**
   * Momentum of the moving mu and sigma behind r and d (Keras' renorm_momentum), read in the
   * convention's sense like `momentum`; default the convention's default momentum. The inference
   * statistics keep `momentum`.
   */
  readonly renormMomentum?: number;
  /**
   * The paper's warm-up: r = 1, d = 0 for holdSteps train steps, then rMax and dMax reached
   * linearly by steps rMaxSteps and dMaxSteps. 'paper' is 5000, 40000, 25000. Default none.
   */
  readonly warmup?: RenormWarmup | 'paper';
}
const BATCH_RENORM_OPTIONS = optionNames<BatchRenormConfig>()(['channels', 'eps', 'momentum', 'convention', 'rMax', 'dMax', 'sigma', 'renormMomentum', 'warmup', 'name']);
/** The paper's schedule (Ioffe 2017, section 4). */
const PAPER_WARMUP: RenormWarmup = { holdSteps: 5000, rMaxSteps: 40000, dMaxSteps: 25000 };

function renormWarmup(op: string, warmup: RenormWarmup | 'paper' | undefined): RenormWarmup | null {
  if (warmup === undefined) return null;
  if (warmup === 'paper') return PAPER_WARMUP;
  if (warmup === null || typeof warmup !== 'object') throw new DslError(`${op}: warmup must be 'paper' or { holdSteps, rMaxSteps, dMaxSteps }`);
  const holdSteps = requireInteger(op, 'warmup.holdSteps', warmup.holdSteps, 0);
  const rMaxSteps = requireInteger(op, 'warmup.rMaxSteps', warmup.rMaxSteps, 0);
  const dMaxSteps = requireInteger(op, 'warmup.dMaxSteps', warmup.dMaxSteps, 0);
  if (!(rMaxSteps > holdSteps && dMaxSteps > holdSteps)) {
    throw new DslError(`${op}: warmup.rMaxSteps (${rMaxSteps}) and warmup.dMaxSteps (${dMaxSteps}) must be later than warmup.holdSteps (${holdSteps})`);
  }
  return { holdSteps, rMaxSteps, dMaxSteps };
}

export interface BatchRenormFn<C> extends ShapeFn {
  readonly output: NormOut<'batchRenorm', C, this['input'], CheckRank2to4<this['input']>>;
}
export interface BatchRenorm<C> extends Layer<BatchRenormFn<C>> {}
/** Batch Renormalization (Ioffe 2017); at inference it is a BatchNorm. */
export function batchRenorm<const C extends BatchRenormConfig = {}, S = unknown, L = BatchRenorm<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config?: Sized<'batchRenorm', C, BatchNormSizes, L, S, typeof BATCH_RENORM_OPTIONS>,
): Built<L, S, C, BatchNormSizes, 'batchRenorm', typeof BATCH_RENORM_OPTIONS>;
export function batchRenorm(config: BatchRenormConfig = {}): Layer {
  knownOptions('batchRenorm', config, BATCH_RENORM_OPTIONS);
  const op = 'batchRenorm';
  channelsConfig(op, config);
  const stats = runningStats(op, config);
  const rMax = config.rMax ?? 3;
  const dMax = config.dMax ?? 5;
  if (!(rMax >= 1)) throw new DslError(`${op}: rMax must be >= 1, got ${rMax}`);
  if (!(dMax >= 0)) throw new DslError(`${op}: dMax must be >= 0, got ${dMax}`);
  const sigma = config.sigma ?? 'movingStddev';
  if (sigma !== 'movingStddev' && sigma !== 'runningVar') {
    throw new DslError(`${op}: sigma must be 'movingStddev' or 'runningVar', got ${JSON.stringify(sigma)}`);
  }
  const renormDecay = decayOf(op, config.convention ?? 'pytorch', 'renormMomentum', config.renormMomentum);
  const warmup = renormWarmup(op, config.warmup);
  return singleUse(op, config.name, (scope, [x]) =>
    scope.node({
      op,
      inputs: [x],
      name: config.name,
      attrs: { numFeatures: literalChannels(scope, x, config.channels, { op, name: config.name, rank: RANKS[op], creates: 'parameters' }), eps: eps(op, config), rMax, dMax, sigma, renormDecay, warmup, ...stats },
    }),
  );
}

export interface AffineNormConfig extends ChannelsConfig {
  /** Learned per-channel gamma and beta (default true). */
  readonly affine?: boolean;
}
const AFFINE_NORM_OPTIONS = optionNames<AffineNormConfig>()(['channels', 'eps', 'affine', 'name']);

export interface LayerNormConfig extends AffineNormConfig {
  /**
   * 'chw' (default): each sample over C, H, W, with PyTorch's element-wise gamma and beta over
   * [C, H, W] (so H and W must be literal sizes); 'c': each position over the channels, gamma
   * and beta per channel.
   */
  readonly over?: 'chw' | 'c';
  /**
   * The shape gamma and beta take, stated to be checked against the input: the input shape
   * without N over 'chw' ([C, H, W], or [C] on [N, C]), [C] over 'c'. Default: read from the input.
   */
  readonly normalizedShape?: number[] | readonly number[];
}
const LAYER_NORM_OPTIONS = optionNames<LayerNormConfig>()(['channels', 'over', 'normalizedShape', 'eps', 'affine', 'name']);

type OverOf<C> = C extends { readonly over: 'c' } ? 'c' : 'chw';
type SideOf<I extends number> = I extends 2 ? 'height' : 'width';

/** Over 'chw' without a stated shape: H and W size gamma and beta, so they must be literal (the builder's words). */
type CheckLiteralSpatial<S, I extends unknown[] = [unknown, unknown]> = S extends readonly unknown[]
  ? I['length'] extends S['length']
    ? true
    : S[I['length']] extends number
      ? CheckLiteralSpatial<S, [...I, unknown]>
      : `input ${SideOf<I['length']>} ${DimToString<S[I['length']]>} must be a literal size to create gamma and beta over [C, H, W]`
  : true;

/** A stated normalizedShape against the input, in the order and words of the run-time rule. */
type CheckNormalizedShape<Over, NS extends readonly number[], S> = S extends readonly [unknown, infer Ch, ...infer Rest]
  ? Over extends 'c'
    ? NS['length'] extends 1
      ? CheckCount<Ch, NS[0], 'channels'>
      : `normalizedShape must be [C] when over is 'c', got ${SpellShape<NS>}`
    : FirstFailure<[
        CheckCount<Ch, NS[0], 'channels'>,
        NS['length'] extends Sub<S['length'], 1> ? CheckSpatial<S, NS> : `normalizedShape ${SpellShape<NS>} must be the input shape without N, ${SpellShape<[Ch, ...Rest]>}`,
      ]>
  : true;
type CheckSpatial<S extends readonly unknown[], NS extends readonly number[], I extends unknown[] = [unknown, unknown]> = I['length'] extends S['length']
  ? true
  : DimEqual<S[I['length']], NS[Sub<I['length'], 1>]> extends true
    ? CheckSpatial<S, NS, [...I, unknown]>
    : `input ${SideOf<I['length']>} is ${DimToString<S[I['length']]>}, normalized shape expects ${NS[Sub<I['length'], 1>]}`;

type LayerNormOut<C, S> = C extends { readonly normalizedShape: infer NS extends readonly number[] }
  ? CheckRank2or4<S> extends infer R extends string
    ? `${Prefix<'layerNorm', NameOf<C>>}${R}`
    : CheckNormalizedShape<OverOf<C>, NS, S> extends infer E extends string
      ? `${Prefix<'layerNorm', NameOf<C>>}${E}`
      : S
  : NormOut<'layerNorm', C, S, CheckRank2or4<S>, OverOf<C> extends 'c' ? true : CheckLiteralSpatial<S>>;

/** [C] over 'c'; the input shape without N over 'chw', every size literal. */
function normalizedShape(scope: Scope, x: string, over: 'chw' | 'c', channels: number, name: string | undefined): number[] {
  if (over === 'c') return [channels];
  const prefix = messagePrefix('layerNorm', name);
  const spatial = scope.shapeOf(x).slice(2);
  return [
    channels,
    ...spatial.map((d, i) => {
      if (typeof d === 'number') return d;
      throw new DslError(`${prefix}input ${i === 0 ? 'height' : 'width'} ${d} must be a literal size to create gamma and beta over [C, H, W]`);
    }),
  ];
}
export interface LayerNormFn<C> extends ShapeFn {
  readonly output: LayerNormOut<C, this['input']>;
}
export interface LayerNorm<C> extends Layer<LayerNormFn<C>> {}
type LayerNormSizes = ['channels', 'normalizedShape'];
export function layerNorm<const C extends LayerNormConfig = {}, S = unknown, L = LayerNorm<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config?: Sized<'layerNorm', C, LayerNormSizes, L, S, typeof LAYER_NORM_OPTIONS>,
): Built<L, S, C, LayerNormSizes, 'layerNorm', typeof LAYER_NORM_OPTIONS>;
export function layerNorm(config: LayerNormConfig = {}): Layer {
  knownOptions('layerNorm', config, LAYER_NORM_OPTIONS);
  const op = 'layerNorm';
  channelsConfig(op, config);
  const over = config.over ?? 'chw';
  if (over !== 'chw' && over !== 'c') throw new DslError(`${op}: over must be 'chw' or 'c', got ${JSON.stringify(over)}`);
  const stated = config.normalizedShape;
  if (stated !== undefined && (!Array.isArray(stated) || stated.length === 0)) throw new DslError(`${op}: normalizedShape must be a non-empty list of sizes`);
  stated?.forEach((d, i) => requireInteger(op, `normalizedShape[${i}]`, d, 1));
  return singleUse(op, config.name, (scope, [x]) => {
    const channels = literalChannels(scope, x, stated?.[0] ?? config.channels, { op, name: config.name, rank: RANKS[op], creates: 'parameters' });
    return scope.node({
      op,
      inputs: [x],
      name: config.name,
      attrs: {
        normalizedShape: stated === undefined ? normalizedShape(scope, x, over, channels, config.name) : [...stated],
        over,
        eps: eps(op, config),
        affine: config.affine ?? true,
      },
    });
  });
}

export interface InstanceNormFn<C> extends ShapeFn {
  readonly output: NormOut<'instanceNorm', C, this['input'], CheckRank<this['input'], 4>>;
}
export interface InstanceNorm<C> extends Layer<InstanceNormFn<C>> {}
/**
 * Per sample and channel over H, W. Without gamma/beta by default, as PyTorch's InstanceNorm2d
 * (`affine: true` adds them).
 */
export function instanceNorm<const C extends AffineNormConfig = {}, S = unknown, L = InstanceNorm<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config?: Sized<'instanceNorm', C, BatchNormSizes, L, S, typeof AFFINE_NORM_OPTIONS>,
): Built<L, S, C, BatchNormSizes, 'instanceNorm', typeof AFFINE_NORM_OPTIONS>;
export function instanceNorm(config: AffineNormConfig = {}): Layer {
  knownOptions('instanceNorm', config, AFFINE_NORM_OPTIONS);
  const op = 'instanceNorm';
  channelsConfig(op, config);
  return singleUse(op, config.name, (scope, [x]) =>
    scope.node({
      op,
      inputs: [x],
      name: config.name,
      attrs: { numFeatures: literalChannels(scope, x, config.channels, { op, name: config.name, rank: RANKS[op], creates: 'parameters' }), eps: eps(op, config), affine: config.affine ?? false },
    }),
  );
}

export interface GroupNormConfig extends AffineNormConfig {
  readonly groups: number;
}
const GROUP_NORM_OPTIONS = optionNames<GroupNormConfig>()(['groups', 'channels', 'eps', 'affine', 'name']);
type GroupsDivide<G, Ch> = Ch extends number
  ? number extends Ch
    ? true
    : G extends number
      ? Mod<Ch, G> extends 0
        ? true
        : `${G} groups do not divide ${Ch} channels`
      : true
  : true;
export interface GroupNormFn<C> extends ShapeFn {
  readonly output: NormOut<
    'groupNorm',
    C,
    this['input'],
    CheckRank<this['input'], 4>,
    GroupsDivide<C extends { readonly groups: infer G } ? G : never, ChannelsOf<C, this['input']>>
  >;
}
export interface GroupNorm<C> extends Layer<GroupNormFn<C>> {}
type GroupNormSizes = ['channels', 'groups'];
/** Per sample over each group of C/G channels and H, W; `groups` must divide the channels. */
export function groupNorm<const C extends GroupNormConfig, S = unknown, L = GroupNorm<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'groupNorm', C, GroupNormSizes, L, S, typeof GROUP_NORM_OPTIONS>,
): Built<L, S, C, GroupNormSizes, 'groupNorm', typeof GROUP_NORM_OPTIONS>;
export function groupNorm(config: GroupNormConfig): Layer {
  knownOptions('groupNorm', config, GROUP_NORM_OPTIONS);
  const op = 'groupNorm';
  channelsConfig(op, config);
  const groups = requireInteger(op, 'groups', config.groups, 1);
  return singleUse(op, config.name, (scope, [x]) => {
    const numChannels = literalChannels(scope, x, config.channels, { op, name: config.name, rank: RANKS[op], creates: 'parameters' });
    return scope.node({ op, inputs: [x], name: config.name, attrs: { numChannels, groups, eps: eps(op, config), affine: config.affine ?? true } });
  });
}

export interface IbnConfig extends ChannelsConfig, RunningStatsConfig {
  /** Channels given to InstanceNorm, the first ones (default half, rounded down). */
  readonly instanceChannels?: number;
}
const IBN_OPTIONS = optionNames<IbnConfig>()(['channels', 'instanceChannels', 'eps', 'momentum', 'convention', 'name']);
type IbnSplit<C, Ch> = C extends { readonly instanceChannels: infer I extends number }
  ? Ch extends number
    ? number extends Ch
      ? true
      : Lt<0, I> extends true
        ? Lt<I, Ch> extends true
          ? true
          : `instanceChannels ${I} must be between 1 and ${Ch} - 1`
        : `instanceChannels ${I} must be between 1 and ${Ch} - 1`
    : true
  : true;
export interface IbnFn<C> extends ShapeFn {
  readonly output: NormOut<'ibn', C, this['input'], CheckRank<this['input'], 4>, IbnSplit<C, ChannelsOf<C, this['input']>>>;
}
export interface Ibn<C> extends Layer<IbnFn<C>> {}
type IbnSizes = ['channels', 'instanceChannels'];
/** IBN-a (Pan et al. 2018): InstanceNorm on the first channels, BatchNorm on the rest. */
export function ibn<const C extends IbnConfig = {}, S = unknown, L = Ibn<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config?: Sized<'ibn', C, IbnSizes, L, S, typeof IBN_OPTIONS>,
): Built<L, S, C, IbnSizes, 'ibn', typeof IBN_OPTIONS>;
export function ibn(config: IbnConfig = {}): Layer {
  knownOptions('ibn', config, IBN_OPTIONS);
  const op = 'ibn';
  channelsConfig(op, config);
  const stats = runningStats(op, config);
  return singleUse(op, config.name, (scope, [x]) => {
    const numFeatures = literalChannels(scope, x, config.channels, { op, name: config.name, rank: RANKS[op], creates: 'parameters' });
    const instanceChannels = config.instanceChannels ?? Math.floor(numFeatures / 2);
    if (!Number.isInteger(instanceChannels) || instanceChannels < 1 || instanceChannels >= numFeatures) {
      throw new DslError(`${op}: instanceChannels ${instanceChannels} must be between 1 and ${numFeatures} - 1`);
    }
    return scope.node({
      op,
      inputs: [x],
      name: config.name,
      attrs: { numFeatures, instanceChannels, eps: eps(op, config), frozen: false, ...stats },
    });
  });
}

export interface SwitchableNormConfig extends ChannelsConfig, RunningStatsConfig {}
const SWITCHABLE_NORM_OPTIONS = optionNames<SwitchableNormConfig>()(['channels', 'eps', 'momentum', 'convention', 'name']);
export interface SwitchableNormFn<C> extends ShapeFn {
  readonly output: NormOut<'switchableNorm', C, this['input'], CheckRank<this['input'], 4>>;
}
export interface SwitchableNorm<C> extends Layer<SwitchableNormFn<C>> {}
/** Switchable Normalization (Luo et al. 2018): a learned softmax mix of IN, LN and BN statistics. */
export function switchableNorm<const C extends SwitchableNormConfig = {}, S = unknown, L = SwitchableNorm<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config?: Sized<'switchableNorm', C, BatchNormSizes, L, S, typeof SWITCHABLE_NORM_OPTIONS>,
): Built<L, S, C, BatchNormSizes, 'switchableNorm', typeof SWITCHABLE_NORM_OPTIONS>;
export function switchableNorm(config: SwitchableNormConfig = {}): Layer {
  knownOptions('switchableNorm', config, SWITCHABLE_NORM_OPTIONS);
  const op = 'switchableNorm';
  channelsConfig(op, config);
  const stats = runningStats(op, config);
  return singleUse(op, config.name, (scope, [x]) =>
    scope.node({ op, inputs: [x], name: config.name, attrs: { numFeatures: literalChannels(scope, x, config.channels, { op, name: config.name, rank: RANKS[op], creates: 'parameters' }), eps: eps(op, config), ...stats } }),
  );
}

export interface ScaleShiftConfig {
  readonly channels?: number;
  readonly name?: string;
}
const SCALE_SHIFT_OPTIONS = optionNames<ScaleShiftConfig>()(['channels', 'name']);
export interface ScaleShiftFn<C> extends ShapeFn {
  readonly output: NormOut<'scaleShift', C, this['input'], CheckRank2or4<this['input']>>;
}
export interface ScaleShift<C> extends Layer<ScaleShiftFn<C>> {}
/** y = x * scale[c] + shift[c], learned per channel (starts as the identity). */
export function scaleShift<const C extends ScaleShiftConfig = {}, S = unknown, L = ScaleShift<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config?: Sized<'scaleShift', C, BatchNormSizes, L, S, typeof SCALE_SHIFT_OPTIONS>,
): Built<L, S, C, BatchNormSizes, 'scaleShift', typeof SCALE_SHIFT_OPTIONS>;
export function scaleShift(config: ScaleShiftConfig = {}): Layer {
  knownOptions('scaleShift', config, SCALE_SHIFT_OPTIONS);
  const op = 'scaleShift';
  if (config.channels !== undefined) requireInteger(op, 'channels', config.channels, 1);
  return singleUse(op, config.name, (scope, [x]) =>
    scope.node({ op, inputs: [x], name: config.name, attrs: { numChannels: literalChannels(scope, x, config.channels, { op, name: config.name, rank: RANKS[op], creates: 'parameters' }) } }),
  );
}

export interface NormalizeConfig {
  readonly mean: number[] | readonly number[];
  readonly std: number[] | readonly number[];
  readonly name?: string;
}
const NORMALIZE_OPTIONS = optionNames<NormalizeConfig>()(['mean', 'std', 'name']);
export interface NormalizeFn<C> extends ShapeFn {
  readonly output: C extends { readonly mean: infer M extends readonly number[]; readonly std: infer D extends readonly number[] }
    ? M['length'] extends D['length']
      ? NormOut<'normalize', { channels: M['length']; name: NameOf<C> }, this['input'], CheckRank2or4<this['input']>>
      : `${Prefix<'normalize', NameOf<C>>}${M['length']} means but ${D['length']} standard deviations`
    : never;
}
export interface Normalize<C> extends Layer<NormalizeFn<C>> {}
type NormalizeSizes = ['mean', 'std'];
/** Input preprocessing (x - mean[c]) / std[c], e.g. ImageNet's mean (0.485, 0.456, 0.406). */
export function normalize<const C extends NormalizeConfig, S = unknown, L = Normalize<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'normalize', C, NormalizeSizes, L, S, typeof NORMALIZE_OPTIONS>,
): Built<L, S, C, NormalizeSizes, 'normalize', typeof NORMALIZE_OPTIONS>;
export function normalize(config: NormalizeConfig): Layer {
  knownOptions('normalize', config, NORMALIZE_OPTIONS);
  const op = 'normalize';
  if (!Array.isArray(config.mean) || !Array.isArray(config.std)) throw new DslError(`${op}: mean and std must be arrays`);
  if (config.mean.length !== config.std.length) {
    throw new DslError(`${op}: ${config.mean.length} means but ${config.std.length} standard deviations`);
  }
  config.mean.forEach((m, c) => {
    if (!Number.isFinite(m)) throw new DslError(`${op}: mean[${c}] must be finite, got ${m}`);
  });
  config.std.forEach((s, c) => requirePositive(op, `std[${c}]`, s));
  const attrs = { mean: [...config.mean], std: [...config.std] };
  return singleUse(op, config.name, (scope, [x]) => scope.node({ op, inputs: [x], name: config.name, attrs }));
}
