/**
 * Resampling of NCHW maps, TensorFlow's resize (Keras UpSampling2D and Resizing):
 *
 *   upsample2d   [N, C, H, W] -> [N, C, H*sH, W*sW]
 *   resize2d     [N, C, H, W] -> [N, C, height, width]
 */
import type { Interpolation } from '../../src/ir/graph.ts';
import type { Built, Layer, Prefix, ShapeFn } from '../layer.ts';
import { knownOptions, optionNames, pair, type PairOption, reusable } from '../runtime.ts';
import { DslError } from '../scope.ts';
import type { CheckRank, PairOf } from '../shape.ts';
import type { DimScale } from '../types/index.ts';
import type { CheckedAtRunTime, Sized } from '../settings.ts';

type NameOf<C> = C extends { readonly name: infer N extends string } ? N : undefined;

function interpolation(op: string, value: unknown): Interpolation {
  if (value === undefined) return 'nearest';
  if (value !== 'nearest' && value !== 'bilinear') throw new DslError(`${op}: interpolation must be 'nearest' or 'bilinear', got ${JSON.stringify(value)}`);
  return value;
}

export interface Upsample2dConfig {
  /** Factor per axis, `2` or `[2, 3]`; default 2 (Keras' size (2, 2)). */
  readonly scale?: PairOption;
  /** Default 'nearest'. */
  readonly interpolation?: Interpolation;
  readonly name?: string;
}
const UPSAMPLE2D_OPTIONS = optionNames<Upsample2dConfig>()(['scale', 'interpolation', 'name']);

type ScaleOf<C> = PairOf<C extends { readonly scale: infer F } ? F : 2, 2>;

export interface Upsample2dFn<C> extends ShapeFn {
  readonly output: this['input'] extends readonly [infer N, infer Ch, infer H, infer W]
    ? [N, Ch, DimScale<H, ScaleOf<C>[0]>, DimScale<W, ScaleOf<C>[1]>]
    : `${Prefix<'upsample2d', NameOf<C>>}${CheckRank<this['input'], 4> & string}`;
}

export interface Upsample2d<C> extends Layer<Upsample2dFn<C>> {}
type Upsample2dSizes = ['scale'];
/** Scales H and W by whole factors, sampling the nearest pixel or bilinearly. */
export function upsample2d<const C extends Upsample2dConfig = {}, S = unknown, L = Upsample2d<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config?: Sized<'upsample2d', C, Upsample2dSizes, L, S, typeof UPSAMPLE2D_OPTIONS>,
): Built<L, S, C, Upsample2dSizes, 'upsample2d', typeof UPSAMPLE2D_OPTIONS>;
export function upsample2d(config: Upsample2dConfig = {}): Layer {
  knownOptions('upsample2d', config, UPSAMPLE2D_OPTIONS);
  const op = 'upsample2d';
  const attrs = { scale: pair(op, 'scale', config.scale, 2, 1), interpolation: interpolation(op, config.interpolation) };
  return reusable(op, (scope, [x]) => scope.node({ op, inputs: [x], name: config.name, attrs }));
}

export interface Resize2dConfig {
  /** The output [height, width], or one number for both. */
  readonly size: PairOption;
  /** Default 'nearest'. */
  readonly interpolation?: Interpolation;
  /** TensorFlow's align_corners (default false). */
  readonly alignCorners?: boolean;
  readonly name?: string;
}
const RESIZE2D_OPTIONS = optionNames<Resize2dConfig>()(['size', 'interpolation', 'alignCorners', 'name']);

type SizeOf<C> = PairOf<C extends { readonly size: infer S } ? S : never, never>;

export interface Resize2dFn<C> extends ShapeFn {
  readonly output: this['input'] extends readonly [infer N, infer Ch, unknown, unknown]
    ? [N, Ch, SizeOf<C>[0], SizeOf<C>[1]]
    : `${Prefix<'resize2d', NameOf<C>>}${CheckRank<this['input'], 4> & string}`;
}

export interface Resize2d<C> extends Layer<Resize2dFn<C>> {}
type Resize2dSizes = ['size'];
/** Resamples H and W to a fixed size. */
export function resize2d<const C extends Resize2dConfig, S = unknown, L = Resize2d<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'resize2d', C, Resize2dSizes, L, S, typeof RESIZE2D_OPTIONS>,
): Built<L, S, C, Resize2dSizes, 'resize2d', typeof RESIZE2D_OPTIONS>;
export function resize2d(config: Resize2dConfig): Layer {
  knownOptions('resize2d', config, RESIZE2D_OPTIONS);
  const op = 'resize2d';
  if (config === null || typeof config !== 'object') throw new DslError(`${op}: expects a config object`);
  const attrs = { size: pair(op, 'size', config.size, 1, 1), interpolation: interpolation(op, config.interpolation), alignCorners: config.alignCorners ?? false };
  return reusable(op, (scope, [x]) => scope.node({ op, inputs: [x], name: config.name, attrs }));
}
