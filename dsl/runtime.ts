/**
 * Run-time helpers shared by the builders: config validation with messages that name the
 * builder and the field, and layers that may be applied only once (their parameters belong to
 * one node: weight sharing would make a later fold silently change two places).
 */
import { rankLabelList } from '../src/ir/labels.ts';
import type { Layer, ShapeFn } from './layer.ts';
import { DslError, messagePrefix, type Scope } from './scope.ts';

/** Mutable and readonly tuples both: inline literals then infer as mutable, which display without `readonly`. */
export type PairOption = number | [number, number] | readonly [number, number];

export function requireInteger(op: string, field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new DslError(`${op}: ${field} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function requirePositive(op: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new DslError(`${op}: ${field} must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function requireFraction(op: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new DslError(`${op}: ${field} must be in [0, 1], got ${JSON.stringify(value)}`);
  }
  return value;
}

export function pair(op: string, field: string, value: PairOption | undefined, fallback: number, min: number): [number, number] {
  if (value === undefined) return [fallback, fallback];
  if (typeof value === 'number') {
    requireInteger(op, field, value, min);
    return [value, value];
  }
  if (!Array.isArray(value) || value.length !== 2) {
    throw new DslError(`${op}: ${field} must be a number or a [height, width] pair, got ${JSON.stringify(value)}`);
  }
  return [requireInteger(op, `${field}[0]`, value[0], min), requireInteger(op, `${field}[1]`, value[1], min)];
}

export interface ChannelSpec {
  readonly op: string;
  readonly name?: string;
  /** The ranks the op accepts, checked first as the shape inference would. */
  readonly rank: 2 | 4 | '2or4' | '2to4';
  /** What the sizes create: 'weights' (conv, linear) or 'parameters' (norms). */
  readonly creates: 'weights' | 'parameters';
}

/**
 * The input's channel count (dim 1), which must be a literal to size parameters; `declared`
 * (a config's `in` or `channels`) wins, and the shape inference then checks it against the input.
 * The words are the type-level checks' (dsl/shape.ts CheckLiteralChannels).
 */
export function literalChannels(scope: Scope, node: string, declared: number | undefined, spec: ChannelSpec): number {
  const shape = scope.shapeOf(node);
  const prefix = messagePrefix(spec.op, spec.name);
  const accepted = spec.rank === '2or4' ? [2, 4] : spec.rank === '2to4' ? [2, 3, 4] : [spec.rank];
  if (!accepted.includes(shape.length)) {
    const expected =
      spec.rank === '2or4'
        ? 'a rank-2 input [N, C] or a rank-4 input [N, C, H, W]'
        : spec.rank === '2to4'
          ? 'a rank-2, rank-3 or rank-4 input'
          : `a rank-${spec.rank} input [${rankLabelList(spec.rank)}]`;
    throw new DslError(`${prefix}expects ${expected}, got rank ${shape.length}`);
  }
  if (declared !== undefined) return declared;
  const c = shape[1];
  if (typeof c !== 'number') {
    const noun = spec.rank === 2 && spec.creates === 'weights' ? 'features' : 'channels';
    throw new DslError(`${prefix}input ${noun} ${c} must be a literal size to create ${spec.creates}`);
  }
  return c;
}

/** A layer whose `apply` may run once; a second application is a named error. */
export function singleUse<F extends ShapeFn>(
  kind: string,
  name: string | undefined,
  apply: (scope: Scope, inputs: readonly string[]) => string,
): Layer<F> {
  let applied = false;
  return {
    kind,
    apply(scope, inputs) {
      if (applied) {
        const label = name === undefined ? kind : `${kind} '${name}'`;
        throw new DslError(`${label} is already applied; layers with parameters are not shared, create a new one`);
      }
      applied = true;
      return apply(scope, inputs);
    },
  };
}

/** A parameter-free layer: each application adds a new node. */
export function reusable<F extends ShapeFn>(kind: string, apply: (scope: Scope, inputs: readonly string[]) => string): Layer<F> {
  return { kind, apply };
}

/**
 * A builder's option names, checked by the compiler against its config interface (each option
 * once, nothing else): `const CONV2D_OPTIONS = optionNames<Conv2dConfig>()(['in', ...])`. The
 * builder rejects any other key, at type level (`Sized`) and at run time (`knownOptions`) in the
 * same words; a misspelt or Keras-spelt option (`strides`) was otherwise ignored without a word.
 */
export function optionNames<Config>() {
  return <const Names extends readonly (keyof Config & string)[]>(names: Names & EveryOption<Config, Names>): Names => names;
}

type EveryOption<Config, Names extends readonly unknown[]> = [Exclude<keyof Config, Names[number]>] extends [never]
  ? unknown
  : { readonly missing: Exclude<keyof Config, Names[number]> };

/** Throws on the first key of `config` that is not one of `options`, in `UnknownOption`'s words (dsl/settings.ts). */
export function knownOptions(op: string, config: unknown, options: readonly string[]): void {
  if (config === null || typeof config !== 'object') return;
  const unknown = Object.keys(config).find((key) => !options.includes(key));
  if (unknown !== undefined) throw new DslError(`${op}: unknown option '${unknown}' (options: ${options.join(', ')})`);
}
