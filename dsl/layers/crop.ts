/**
 * crop2d: drop rows and columns at the borders of an NCHW map, crop = [top, bottom, left, right]:
 *
 *   [N, C, H, W] -> [N, C, H - top - bottom, W - left - right]
 *
 * `crop: n` crops n everywhere, `crop: [ch, cw]` ch at the top and bottom and cw at the left and
 * right (Keras Cropping2D's spellings). A literal output size below 1 is a type error with the
 * words of the run-time shape rule.
 */
import type { Built, FirstFailure, Layer, Prefix, ShapeFn } from '../layer.ts';
import { knownOptions, optionNames, requireInteger, reusable } from '../runtime.ts';
import { DslError } from '../scope.ts';
import type { CheckRank } from '../shape.ts';
import type { Add, DimAdd, DimToString, Lt, Sub } from '../types/index.ts';
import type { CheckedAtRunTime, Sized } from '../settings.ts';

export type CropOption = number | [number, number] | readonly [number, number] | [number, number, number, number] | readonly [number, number, number, number];

export interface Crop2dConfig {
  readonly crop: CropOption;
  readonly name?: string;
}
const CROP2D_OPTIONS = optionNames<Crop2dConfig>()(['crop', 'name']);

/** The crop as [top, bottom, left, right]. */
type CropSides<P> = P extends readonly [infer T, infer B, infer L, infer R]
  ? [T, B, L, R]
  : P extends readonly [infer CH, infer CW]
    ? [CH, CH, CW, CW]
    : [P, P, P, P];

type CropAxis<X, Before, After> = DimAdd<X, Sub<0, Add<Before & number, After & number>>>;

type CheckCropped<Out, X, Before, After, Which extends string> = Out extends number
  ? number extends Out
    ? true
    : Lt<Out, 1> extends true
      ? `input ${Which} ${DimToString<X>} is too small for the crop ${Before & number}+${After & number}`
      : true
  : true;

type NameOf<C> = C extends { readonly name: infer N extends string } ? N : undefined;

type Crop2dOut<C, S> = S extends readonly [infer N, infer Ch, infer H, infer W]
  ? CropSides<C extends { readonly crop: infer P } ? P : 0> extends [infer T, infer B, infer L, infer R]
    ? [CropAxis<H, T, B>, CropAxis<W, L, R>] extends [infer HO, infer WO]
      ? FirstFailure<[CheckCropped<HO, H, T, B, 'height'>, CheckCropped<WO, W, L, R, 'width'>]> extends infer E extends string
        ? `${Prefix<'crop2d', NameOf<C>>}${E}`
        : [N, Ch, HO, WO]
      : never
    : never
  : `${Prefix<'crop2d', NameOf<C>>}${CheckRank<S, 4> & string}`;

export interface Crop2dFn<C> extends ShapeFn {
  readonly output: Crop2dOut<C, this['input']>;
}

function cropSides(crop: unknown): [number, number, number, number] {
  const side = (field: string, value: unknown): number => requireInteger('crop2d', field, value, 0);
  if (typeof crop === 'number') {
    const n = side('crop', crop);
    return [n, n, n, n];
  }
  if (Array.isArray(crop) && crop.length === 2) {
    const [ch, cw] = [side('crop[0]', crop[0]), side('crop[1]', crop[1])];
    return [ch, ch, cw, cw];
  }
  if (Array.isArray(crop) && crop.length === 4) {
    return [side('crop[0]', crop[0]), side('crop[1]', crop[1]), side('crop[2]', crop[2]), side('crop[3]', crop[3])];
  }
  throw new DslError(`crop2d: crop must be a number, [height, width] or [top, bottom, left, right], got ${JSON.stringify(crop)}`);
}

export interface Crop2d<C> extends Layer<Crop2dFn<C>> {}
type Crop2dSizes = ['crop'];
/** Drops `crop` rows and columns at the borders: [N, C, H, W] -> [N, C, H - top - bottom, W - left - right]. */
export function crop2d<const C extends Crop2dConfig, S = unknown, L = Crop2d<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'crop2d', C, Crop2dSizes, L, S, typeof CROP2D_OPTIONS>,
): Built<L, S, C, Crop2dSizes, 'crop2d', typeof CROP2D_OPTIONS>;
export function crop2d(config: Crop2dConfig): Layer {
  knownOptions('crop2d', config, CROP2D_OPTIONS);
  if (config === null || typeof config !== 'object') throw new DslError('crop2d: expects a config object');
  const crop = cropSides(config.crop);
  return reusable('crop2d', (scope, [x]) => scope.node({ op: 'crop2d', inputs: [x], name: config.name, attrs: { crop } }));
}
