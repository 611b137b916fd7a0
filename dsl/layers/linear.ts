/**
 * Fully connected layers on [N, F]: y = x W^T + b, W [out, in]. `flatten` in front of a
 * linear layer produces F = C*H*W, so a wrong `in` is caught where the linear layer is applied.
 */
import type { Built, FirstFailure, Layer, Prefix, ShapeFn } from '../layer.ts';
import { knownOptions, literalChannels, optionNames, requireInteger, singleUse } from '../runtime.ts';
import { DslError } from '../scope.ts';
import type { CheckCount, CheckLiteralChannels, CheckRank } from '../shape.ts';
import type { CheckedAtRunTime, Sized } from '../settings.ts';

export interface LinearConfig {
  /** Input features; taken from the input when omitted. */
  readonly in?: number;
  readonly out: number;
  readonly bias?: boolean;
  readonly name?: string;
}
const LINEAR_OPTIONS = optionNames<LinearConfig>()(['in', 'out', 'bias', 'name']);

type NameOf<C> = C extends { readonly name: infer N extends string } ? N : undefined;

export type LinearOut<Op extends string, C, S> = CheckRank<S, 2> extends infer R extends string
  ? `${Prefix<Op, NameOf<C>>}${R}`
  : S extends readonly [infer N, infer F]
    ? FirstFailure<
        [
          C extends { readonly in: infer I } ? CheckCount<F, I, 'features'> : true,
          C extends { readonly in: number } ? true : CheckLiteralChannels<F, 'features', 'weights'>,
        ]
      > extends infer E
      ? E extends string
        ? `${Prefix<Op, NameOf<C>>}${E}`
        : [N, C extends { readonly out: infer O } ? O : never]
      : never
    : never;

export interface LinearFn<C> extends ShapeFn {
  readonly output: LinearOut<'linear', C, this['input']>;
}
export interface WeightNormLinearFn<C> extends ShapeFn {
  readonly output: LinearOut<'weightNormLinear', C, this['input']>;
}

function linearLayer<F extends ShapeFn>(op: 'linear' | 'weightNormLinear', config: LinearConfig): Layer<F> {
  if (config === null || typeof config !== 'object') throw new DslError(`${op}: expects a config object`);
  const outFeatures = requireInteger(op, 'out', config.out, 1);
  if (config.in !== undefined) requireInteger(op, 'in', config.in, 1);
  return singleUse<F>(op, config.name, (scope, [x]) =>
    scope.node({
      op,
      inputs: [x],
      name: config.name,
      attrs: { inFeatures: literalChannels(scope, x, config.in, { op, name: config.name, rank: 2, creates: 'weights' }), outFeatures, bias: config.bias ?? true },
    }),
  );
}

export interface Linear<C> extends Layer<LinearFn<C>> {}
type LinearSizes = ['in', 'out'];
export function linear<const C extends LinearConfig, S = unknown, L = Linear<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'linear', C, LinearSizes, L, S, typeof LINEAR_OPTIONS>,
): Built<L, S, C, LinearSizes, 'linear', typeof LINEAR_OPTIONS>;
export function linear(config: LinearConfig): Layer {
  knownOptions('linear', config, LINEAR_OPTIONS);
  return linearLayer('linear', config);
}

export interface WeightNormLinear<C> extends Layer<WeightNormLinearFn<C>> {}
/** linear with weight = g * v / ||v||, the norm per output unit. */
export function weightNormLinear<const C extends LinearConfig, S = unknown, L = WeightNormLinear<{ -readonly [K in keyof C]: number extends C[K] ? CheckedAtRunTime : C[K] }>>(
  config: Sized<'weightNormLinear', C, LinearSizes, L, S, typeof LINEAR_OPTIONS>,
): Built<L, S, C, LinearSizes, 'weightNormLinear', typeof LINEAR_OPTIONS>;
export function weightNormLinear(config: LinearConfig): Layer {
  knownOptions('weightNormLinear', config, LINEAR_OPTIONS);
  return linearLayer('weightNormLinear', config);
}
