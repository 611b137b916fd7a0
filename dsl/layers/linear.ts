/**
 * Fully connected layers on [N, F]: y = x W^T + b, W [out, in]. `flatten` in front of a
 * linear layer produces F = C*H*W, so a wrong `in` is caught where the linear layer is applied.
 */
import type { FirstFailure, Layer, Prefix, ShapeFn } from '../layer.ts';
import { literalChannels, requireInteger, singleUse } from '../runtime.ts';
import { DslError } from '../scope.ts';
import type { CheckCount, CheckRank } from '../shape.ts';
import type { DimToString } from '../types/index.ts';

export interface LinearConfig {
  /** Input features; taken from the input when omitted. */
  readonly in?: number;
  readonly out: number;
  readonly bias?: boolean;
  readonly name?: string;
}

type NameOf<C> = C extends { readonly name: infer N extends string } ? N : undefined;

export type LinearOut<Op extends string, C, S> = CheckRank<S, 2> extends infer R extends string
  ? `${Prefix<Op, NameOf<C>>}${R}`
  : S extends readonly [infer N, infer F]
    ? FirstFailure<
        [
          C extends { readonly in: infer I } ? CheckCount<F, I, 'features'> : true,
          C extends { readonly in: number } ? true : F extends number ? true : `input features ${DimToString<F>} must be a literal size to create weights; pass 'in'`,
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
      attrs: { inFeatures: literalChannels(scope, op, x, config.in), outFeatures, bias: config.bias ?? true },
    }),
  );
}

export function linear<const C extends LinearConfig>(config: C): Layer<LinearFn<C>> {
  return linearLayer('linear', config);
}

/** linear with weight = g * v / ||v||, the norm per output unit. */
export function weightNormLinear<const C extends LinearConfig>(config: C): Layer<WeightNormLinearFn<C>> {
  return linearLayer('weightNormLinear', config);
}
