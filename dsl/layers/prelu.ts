/**
 * PReLU: x >= 0 ? x : alpha * x, alpha learned. alpha has the input's shape without N, with 1 on
 * every `sharedAxes` axis (Keras' shared_axes, in IR axes: [2, 3] shares over H and W, one alpha
 * per channel). Each axis alpha is not shared along must have a literal size.
 */
import type { Shape } from '../../src/ir/graph.ts';
import { dimLabel, rankLabelList } from '../../src/ir/labels.ts';
import type { Built, Layer, Prefix, ShapeFn } from '../layer.ts';
import { knownOptions, optionNames, requireInteger, singleUse } from '../runtime.ts';
import { DslError, messagePrefix } from '../scope.ts';
import type { CheckAxis, DimLabel } from '../shape.ts';
import type { DimToString } from '../types/index.ts';
import type { Sized } from '../settings.ts';

export interface PreluConfig {
  /** IR axes (>= 1) sharing one alpha; default none (alpha element-wise). */
  readonly sharedAxes?: number[] | readonly number[];
  readonly name?: string;
}
const PRELU_OPTIONS = optionNames<PreluConfig>()(['sharedAxes', 'name']);

type NameOf<C> = C extends { readonly name: infer N extends string } ? N : undefined;
type SharedOf<C> = C extends { readonly sharedAxes: infer A extends readonly number[] } ? A : [];

type CheckShared<Axes extends readonly unknown[], S> = Axes extends readonly [infer A, ...infer Rest]
  ? CheckAxis<A, S> extends infer E extends string
    ? E
    : CheckShared<Rest, S>
  : true;

type CheckAlphaDims<S extends readonly unknown[], Shared, I extends unknown[] = [unknown]> = I['length'] extends S['length']
  ? true
  : I['length'] extends Shared
    ? CheckAlphaDims<S, Shared, [...I, unknown]>
    : S[I['length']] extends number
      ? CheckAlphaDims<S, Shared, [...I, unknown]>
      : `input dim ${I['length']} (${DimLabel<S['length'], I['length']>}) ${DimToString<S[I['length']]>} must be a literal size to create parameters, or a shared axis`;

type PreluOut<C, S> = S extends readonly [unknown, unknown, ...unknown[]]
  ? (number extends SharedOf<C>['length'] ? true : CheckShared<SharedOf<C>, S>) extends infer E extends string
    ? `${Prefix<'prelu', NameOf<C>>}${E}`
    : CheckAlphaDims<S, SharedOf<C>[number]> extends infer E extends string
      ? `${Prefix<'prelu', NameOf<C>>}${E}`
      : S
  : `${Prefix<'prelu', NameOf<C>>}expects a rank-2 or higher input [N, ...], got rank ${S extends readonly unknown[] ? S['length'] : 0}`;

export interface PreluFn<C> extends ShapeFn {
  readonly output: PreluOut<C, this['input']>;
}

function alphaShape(x: Shape, shared: readonly number[], prefix: string): number[] {
  if (x.length < 2) throw new DslError(`${prefix}expects a rank-2 or higher input [N, ...], got rank ${x.length}`);
  for (const axis of shared) {
    if (axis >= x.length) throw new DslError(`${prefix}axis ${axis} is outside a rank-${x.length} input [${rankLabelList(x.length)}]`);
  }
  return x.slice(1).map((d, k) => {
    const axis = k + 1;
    if (shared.includes(axis)) return 1;
    if (typeof d !== 'number') {
      throw new DslError(`${prefix}input dim ${axis} (${dimLabel(x.length, axis)}) ${d} must be a literal size to create parameters, or a shared axis`);
    }
    return d;
  });
}

export interface Prelu<C> extends Layer<PreluFn<C>> {}
/** x >= 0 ? x : alpha * x with a learned alpha (see the file comment). */
export function prelu<const C extends PreluConfig = {}, S = unknown, L = Prelu<{ -readonly [K in keyof C]: C[K] }>>(
  config?: Sized<'prelu', C, [], L, S, typeof PRELU_OPTIONS>,
): Built<L, S, C, [], 'prelu', typeof PRELU_OPTIONS>;
export function prelu(config: PreluConfig = {}): Layer {
  knownOptions('prelu', config, PRELU_OPTIONS);
  const op = 'prelu';
  const shared = (config.sharedAxes ?? []).map((a, i) => requireInteger(op, `sharedAxes[${i}]`, a, 1));
  const prefix = messagePrefix(op, config.name);
  return singleUse(op, config.name, (scope, [x]) =>
    scope.node({ op, inputs: [x], name: config.name, attrs: { alphaShape: alphaShape(scope.shapeOf(x), shared, prefix) } }),
  );
}
