/**
 * Pooling and flatten. Max and average pooling use the conv output formula with dilation 1
 * (PyTorch floor mode; 'same' is ceil(X/S)); the stride defaults to the kernel.
 */
import type { Padding2d } from '../../src/ir/graph.ts';
import type { Built, Layer, Prefix, ShapeFn } from '../layer.ts';
import { knownOptions, optionNames, pair, type PairOption, reusable } from '../runtime.ts';
import { DslError } from '../scope.ts';
import type { CheckRank } from '../shape.ts';
import type { DimProduct } from '../types/index.ts';
import type { Conv2dOut, PaddingOption } from './conv.ts';
import type { CheckedAtRunTime, Sized } from '../settings.ts';

export interface PoolConfig {
  readonly kernel: PairOption;
  /** Default: the kernel. */
  readonly stride?: PairOption;
  readonly padding?: PaddingOption;
  readonly name?: string;
}
const POOL_OPTIONS = optionNames<PoolConfig>()(['kernel', 'stride', 'padding', 'name']);

export interface AvgPoolConfig extends PoolConfig {
  /** Divide by the kernel area even where it overlaps padding (default false: real elements only). */
  readonly countIncludePad?: boolean;
}
const AVG_POOL_OPTIONS = optionNames<AvgPoolConfig>()(['kernel', 'stride', 'padding', 'countIncludePad', 'name']);

/** A pool is a conv with the channel count kept, the stride defaulting to the kernel. */
type AsConv<C, Ch> = Omit<C, 'stride'> & {
  readonly pool: true;
  readonly out: Ch;
  readonly stride: C extends { readonly stride: infer S } ? S : C extends { readonly kernel: infer K } ? K : 1;
};

type PoolOut<Op extends string, C, S> = S extends readonly [unknown, infer Ch, unknown, unknown]
  ? Conv2dOut<Op, AsConv<C, Ch>, S>
  : `${Prefix<Op, C extends { readonly name: infer N extends string } ? N : undefined>}${CheckRank<S, 4> & string}`;

export interface MaxPoolFn<C> extends ShapeFn {
  readonly output: PoolOut<'maxPool2d', C, this['input']>;
}
export interface AvgPoolFn<C> extends ShapeFn {
  readonly output: PoolOut<'avgPool2d', C, this['input']>;
}

function poolAttrs(op: string, config: PoolConfig): { kernel: [number, number]; stride: [number, number]; padding: Padding2d } {
  if (config === null || typeof config !== 'object') throw new DslError(`${op}: expects a config object`);
  const kernel = pair(op, 'kernel', config.kernel, 1, 1);
  const stride = config.stride === undefined ? kernel : pair(op, 'stride', config.stride, 1, 1);
  let padding: Padding2d;
  if (config.padding === 'same' || config.padding === 'valid') padding = config.padding;
  else {
    const [ph, pw] = pair(op, 'padding', config.padding, 0, 0);
    if (2 * ph > kernel[0] || 2 * pw > kernel[1]) {
      throw new DslError(`${op}: padding [${ph}, ${pw}] must be at most half the kernel [${kernel[0]}, ${kernel[1]}]`);
    }
    padding = [ph, ph, pw, pw];
  }
  return { kernel, stride, padding };
}

export interface MaxPool<C> extends Layer<MaxPoolFn<C>> {}
type MaxPoolSizes = ['kernel', 'stride', 'padding'];
export function maxPool<const C extends PoolConfig, S = unknown, L = MaxPool<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'maxPool2d', C, MaxPoolSizes, L, S, typeof POOL_OPTIONS>,
): Built<L, S, C, MaxPoolSizes, 'maxPool2d', typeof POOL_OPTIONS>;
export function maxPool(config: PoolConfig): Layer {
  knownOptions('maxPool2d', config, POOL_OPTIONS);
  const attrs = poolAttrs('maxPool2d', config);
  return reusable('maxPool2d', (scope, [x]) => scope.node({ op: 'maxPool2d', inputs: [x], name: config.name, attrs }));
}

export interface AvgPool<C> extends Layer<AvgPoolFn<C>> {}
export function avgPool<const C extends AvgPoolConfig, S = unknown, L = AvgPool<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'avgPool2d', C, MaxPoolSizes, L, S, typeof AVG_POOL_OPTIONS>,
): Built<L, S, C, MaxPoolSizes, 'avgPool2d', typeof AVG_POOL_OPTIONS>;
export function avgPool(config: AvgPoolConfig): Layer {
  knownOptions('avgPool2d', config, AVG_POOL_OPTIONS);
  const attrs = { ...poolAttrs('avgPool2d', config), countIncludePad: config.countIncludePad ?? false };
  return reusable('avgPool2d', (scope, [x]) => scope.node({ op: 'avgPool2d', inputs: [x], name: config.name, attrs }));
}

export interface GlobalAvgPoolConfig {
  /** Keep H and W as 1 ([N, C, 1, 1]); default false ([N, C]). */
  readonly keepDims?: boolean;
  readonly name?: string;
}
const GLOBAL_AVG_POOL_OPTIONS = optionNames<GlobalAvgPoolConfig>()(['keepDims', 'name']);

/** Over H and W of [N, C, H, W], or over L of [N, C, L] (read as [N, C, 1, L], as the run time does). */
type GlobalPoolOut<Op extends string, C, S> = S extends readonly [infer N, infer Ch, unknown, unknown]
  ? C extends { readonly keepDims: true }
    ? [N, Ch, 1, 1]
    : [N, Ch]
  : S extends readonly [infer N, infer Ch, unknown]
    ? C extends { readonly keepDims: true }
      ? [N, Ch, 1]
      : [N, Ch]
    : `${Prefix<Op, C extends { readonly name: infer N extends string } ? N : undefined>}${CheckRank<S, 4> & string}`;

export interface GlobalAvgPoolFn<C> extends ShapeFn {
  readonly output: GlobalPoolOut<'globalAvgPool', C, this['input']>;
}
export interface GlobalMaxPoolFn<C> extends ShapeFn {
  readonly output: GlobalPoolOut<'globalMaxPool', C, this['input']>;
}

export interface GlobalAvgPool<C> extends Layer<GlobalAvgPoolFn<C>> {}
/** Mean over H and W. */
export function globalAvgPool<const C extends GlobalAvgPoolConfig = {}, S = unknown, L = GlobalAvgPool<{ -readonly [K in keyof C]: C[K] }>>(
  config?: Sized<'globalAvgPool', C, [], L, S, typeof GLOBAL_AVG_POOL_OPTIONS>,
): Built<L, S, C, [], 'globalAvgPool', typeof GLOBAL_AVG_POOL_OPTIONS>;
export function globalAvgPool(config: GlobalAvgPoolConfig = {}): Layer {
  knownOptions('globalAvgPool', config, GLOBAL_AVG_POOL_OPTIONS);
  return globalPool('globalAvgPool', config);
}

export interface GlobalMaxPool<C> extends Layer<GlobalMaxPoolFn<C>> {}
/** Max over H and W. */
export function globalMaxPool<const C extends GlobalAvgPoolConfig = {}, S = unknown, L = GlobalMaxPool<{ -readonly [K in keyof C]: C[K] }>>(
  config?: Sized<'globalMaxPool', C, [], L, S, typeof GLOBAL_AVG_POOL_OPTIONS>,
): Built<L, S, C, [], 'globalMaxPool', typeof GLOBAL_AVG_POOL_OPTIONS>;
export function globalMaxPool(config: GlobalAvgPoolConfig = {}): Layer {
  knownOptions('globalMaxPool', config, GLOBAL_AVG_POOL_OPTIONS);
  return globalPool('globalMaxPool', config);
}

function globalPool<F extends ShapeFn>(op: 'globalAvgPool' | 'globalMaxPool', config: GlobalAvgPoolConfig): Layer<F> {
  const keepDims = config.keepDims ?? false;
  return reusable<F>(op, (scope, [x]) => scope.node({ op, inputs: [x], name: config.name, attrs: { keepDims } }));
}

export interface FlattenFn extends ShapeFn {
  readonly output: this['input'] extends readonly [infer N, ...infer Rest extends readonly (number | string)[]]
    ? Rest extends readonly []
      ? 'flatten: expects a rank-2 or higher input [N, ...], got rank 1'
      : [N, DimProduct<Rest>]
    : 'flatten: expects a rank-2 or higher input [N, ...]';
}

export interface Flatten extends Layer<FlattenFn> {}
/** [N, C, H, W] -> [N, C*H*W], in NCHW order. */
const FLATTEN_OPTIONS = optionNames<{ readonly name?: string }>()(['name']);
export function flatten(config: { readonly name?: string } = {}): Flatten {
  knownOptions('flatten', config, FLATTEN_OPTIONS);
  return reusable<FlattenFn>('flatten', (scope, [x]) => scope.node({ op: 'flatten', inputs: [x], name: config.name, attrs: {} }));
}
