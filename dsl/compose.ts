/**
 * Composition: residual merges (add), channel concatenation, sequential chains and residual
 * blocks with an optional projection shortcut. Shapes of merged branches must be equal dim for
 * dim (symbolic dims after normalisation, so a stride-2 branch and a stride-2 projection agree
 * for any H); the first differing dim is named in the error.
 */
import type { Shape } from '../src/ir/graph.ts';
import type { Apply, Call, Layer, Prefix, ShapeFn } from './layer.ts';
import { singleUse } from './runtime.ts';
import { DslError, type Scope } from './scope.ts';
import type { CompareShapes } from './shape.ts';
import { Tensor } from './tensor.ts';
import type { Dim, DimSum } from './types/index.ts';

function sameScope(op: string, tensors: readonly Tensor<Shape>[]): Scope {
  const scope = tensors[0].scope;
  if (tensors.some((t) => !(t instanceof Tensor) || t.scope !== scope)) {
    throw new DslError(`${op}: all inputs must be tensors of one model (same scope)`);
  }
  return scope;
}

type AddCheck<A extends Shape, B extends Shape> =
  CompareShapes<A, B, 'branch shapes'> extends infer R ? (R extends string ? `add: ${R}` : Tensor<B>) : never;

/** Elementwise sum of two branches of equal shape (the residual merge). */
export function add<A extends Shape, B extends Shape>(a: Tensor<A>, b: AddCheck<A, B>, options: { readonly name?: string } = {}): Tensor<A> {
  const tb = b as unknown as Tensor<B>;
  const scope = sameScope('add', [a, tb]);
  return new Tensor<A>(scope, scope.node({ op: 'add', inputs: [a.node, tb.node], name: options.name, attrs: {} }));
}

type ShapesOf<Ts> = { [K in keyof Ts]: Ts[K] extends Tensor<infer S> ? S : never };

type ConcatCheck<Shapes extends readonly Shape[], I extends unknown[] = [unknown]> = I['length'] extends Shapes['length']
  ? true
  : CompareShapes<Shapes[0], Shapes[I['length']], 'inputs', 1> extends infer R
    ? R extends string
      ? `concat: input ${I['length']}: ${R}`
      : ConcatCheck<Shapes, [...I, unknown]>
    : never;

type ChannelsOf<Shapes> = { [K in keyof Shapes]: Shapes[K] extends readonly [unknown, infer C, ...unknown[]] ? C : never };

type ConcatOut<Shapes extends readonly unknown[]> = Shapes[0] extends readonly [infer N, unknown, ...infer Rest]
  ? ChannelsOf<Shapes> extends infer Channels extends readonly Dim[]
    ? [N, DimSum<Channels>, ...Rest]
    : never
  : never;

type ConcatShape<Ts extends readonly Tensor<any>[]> = ConcatOut<ShapesOf<Ts>> extends infer S extends Shape ? S : never;

type ConcatArgs<Ts extends readonly Tensor<any>[]> = Ts['length'] extends 0 | 1
  ? 'concat: needs at least two tensors'
  : ConcatCheck<ShapesOf<Ts> & readonly Shape[]> extends infer R
    ? R extends string
      ? R
      : Ts
    : never;

/** Concatenation on the channel axis; all other dims must agree. */
export function concat<const Ts extends readonly Tensor<any>[]>(
  tensors: ConcatArgs<Ts>,
  options: { readonly name?: string } = {},
): Tensor<ConcatShape<Ts>> {
  const list = tensors as unknown as readonly Tensor<Shape>[];
  if (!Array.isArray(list) || list.length < 2) throw new DslError('concat: needs at least two tensors');
  const scope = sameScope('concat', list);
  return new Tensor(scope, scope.node({ op: 'concat', inputs: list.map((t) => t.node), name: options.name, attrs: {} }));
}

type RunLayers<Ls, S, I extends unknown[]> = Ls extends readonly [infer L, ...infer Rest]
  ? Apply<L, S> extends infer R
    ? R extends string
      ? `sequential[${I['length']}] ${R}`
      : RunLayers<Rest, R, [...I, unknown]>
    : never
  : S;

export interface SequentialFn<Ls> extends ShapeFn {
  readonly output: RunLayers<Ls, this['input'], []>;
}

type RunFns<Fs, S> = Fs extends readonly [infer F extends ShapeFn, ...infer Rest]
  ? Call<F, S> extends infer R
    ? R extends string
      ? R
      : RunFns<Rest, R>
    : never
  : S;

/** Shape functions applied in order; used to state a unit's branch at type level. */
export interface ChainFn<Fs extends readonly ShapeFn[]> extends ShapeFn {
  readonly output: RunFns<Fs, this['input']>;
}

/** Layers applied one after another; an error names the step (`sequential[2] conv2d: ...`). */
export function sequential<const Ls extends readonly Layer[]>(...layers: Ls): Layer<SequentialFn<Ls>> {
  layers.forEach((l, i) => {
    if (l === null || typeof l !== 'object' || typeof l.apply !== 'function') {
      throw new DslError(`sequential: step ${i} is not a layer`);
    }
  });
  return {
    kind: 'sequential',
    apply: (scope, inputs) => layers.reduce((node, layer) => layer.apply(scope, [node]), inputs[0]),
  };
}

/**
 * out = branch(x) + shortcut(x), shortcut the identity when absent. Shape functions rather than
 * layers so that named units (resA, ...) can build theirs from configs at type level.
 */
export type ResidualOut<Op extends string, Name, Branch extends ShapeFn, Shortcut extends ShapeFn | undefined, S> =
  Call<Branch, S> extends infer BO
    ? BO extends string
      ? `${Prefix<Op, Name>}${BO}`
      : (Shortcut extends ShapeFn ? Call<Shortcut, S> : S) extends infer SO
        ? SO extends string
          ? `${Prefix<Op, Name>}shortcut: ${SO}`
          : CompareShapes<BO & Shape, SO & Shape, 'branch shapes'> extends infer R
            ? R extends string
              ? `${Prefix<Op, Name>}add: ${R}`
              : BO
            : never
        : never
    : never;

export interface ResidualFn<Name, Branch extends ShapeFn, Shortcut extends ShapeFn | undefined> extends ShapeFn {
  readonly output: ResidualOut<'residual', Name, Branch, Shortcut, this['input']>;
}

export interface ResidualOptions<Sc extends Layer | undefined> {
  readonly shortcut?: Sc;
  readonly name?: string;
}

type FnOrUndefined<L> = L extends Layer<infer F> ? F : undefined;

/** Applies `branch` and `shortcut` (children named '<unit>.<child>') and adds their outputs. */
export function residualUnit(
  kind: string,
  name: string | undefined,
  branch: Layer,
  shortcut: Layer | undefined,
  after?: (scope: Scope, sum: string) => string,
): (scope: Scope, inputs: readonly string[]) => string {
  return (scope, [x]) => {
    const unit = scope.unitName(kind, name);
    return scope.within(unit, () => {
      const b = branch.apply(scope, [x]);
      const s = shortcut === undefined ? x : shortcut.apply(scope, [x]);
      const sum = scope.node({ op: 'add', inputs: [b, s], name: 'add', attrs: {} });
      return after === undefined ? sum : after(scope, sum);
    });
  };
}

/** A residual block: branch(x) + x, or branch(x) + shortcut(x) with a projection. */
export function residual<B extends Layer, const O extends ResidualOptions<Layer | undefined> = {}>(
  branch: B,
  options: O = {} as O,
): Layer<ResidualFn<O['name'], B extends Layer<infer F> ? F : never, FnOrUndefined<O['shortcut']>>> {
  return singleUse('residual', options.name, residualUnit('residual', options.name, branch, options.shortcut));
}
