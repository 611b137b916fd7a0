/**
 * softmax and logSoftmax along one IR axis (default 1, the channels: Keras' axis -1 on
 * channels-last data). The shape is kept; the axis must lie inside the input, with the words of
 * the run-time rule (`axisWithin` in src/ir/shapes.ts).
 */
import type { Built, Layer, Prefix, ShapeFn } from '../layer.ts';
import { knownOptions, optionNames, requireInteger, reusable } from '../runtime.ts';
import type { CheckAxis } from '../shape.ts';
import type { Sized } from '../settings.ts';

export interface SoftmaxConfig {
  /** The IR axis (>= 1; 1 is the channels); default 1. */
  readonly axis?: number;
  readonly name?: string;
}
const SOFTMAX_OPTIONS = optionNames<SoftmaxConfig>()(['axis', 'name']);

type NameOf<C> = C extends { readonly name: infer N extends string } ? N : undefined;
type AxisOf<C> = C extends { readonly axis: infer A extends number } ? A : 1;

type SoftmaxOut<Op extends string, C, S> = CheckAxis<AxisOf<C>, S> extends infer E extends string ? `${Prefix<Op, NameOf<C>>}${E}` : S;

export interface SoftmaxFn<C> extends ShapeFn {
  readonly output: SoftmaxOut<'softmax', C, this['input']>;
}
export interface LogSoftmaxFn<C> extends ShapeFn {
  readonly output: SoftmaxOut<'logSoftmax', C, this['input']>;
}

function along<F extends ShapeFn>(op: 'softmax' | 'logSoftmax', config: SoftmaxConfig): Layer<F> {
  const axis = requireInteger(op, 'axis', config.axis ?? 1, 1);
  return reusable<F>(op, (scope, [x]) => scope.node({ op, inputs: [x], name: config.name, attrs: { axis } }));
}

export interface Softmax<C> extends Layer<SoftmaxFn<C>> {}
/** exp(x_i) / sum_j exp(x_j) along `axis`. */
export function softmax<const C extends SoftmaxConfig = {}, S = unknown, L = Softmax<{ -readonly [K in keyof C]: C[K] }>>(
  config?: Sized<'softmax', C, [], L, S, typeof SOFTMAX_OPTIONS>,
): Built<L, S, C, [], 'softmax', typeof SOFTMAX_OPTIONS>;
export function softmax(config: SoftmaxConfig = {}): Layer {
  knownOptions('softmax', config, SOFTMAX_OPTIONS);
  return along('softmax', config);
}

export interface LogSoftmax<C> extends Layer<LogSoftmaxFn<C>> {}
/** x_i - log(sum_j exp(x_j)) along `axis`. */
export function logSoftmax<const C extends SoftmaxConfig = {}, S = unknown, L = LogSoftmax<{ -readonly [K in keyof C]: C[K] }>>(
  config?: Sized<'logSoftmax', C, [], L, S, typeof SOFTMAX_OPTIONS>,
): Built<L, S, C, [], 'logSoftmax', typeof SOFTMAX_OPTIONS>;
export function logSoftmax(config: SoftmaxConfig = {}): Layer {
  knownOptions('logSoftmax', config, SOFTMAX_OPTIONS);
  return along('logSoftmax', config);
}
