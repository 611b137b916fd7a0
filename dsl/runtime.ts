/**
 * Run-time helpers shared by the builders: config validation with messages that name the
 * builder and the field, and layers that may be applied only once (their parameters belong to
 * one node: weight sharing would make a later fold silently change two places).
 */
import type { Layer, ShapeFn } from './layer.ts';
import { DslError, type Scope } from './scope.ts';

export type PairOption = number | readonly [number, number];

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

/** The input's channel count (dim 1), which must be a literal to size parameters. */
export function literalChannels(scope: Scope, op: string, node: string, declared: number | undefined): number {
  const shape = scope.shapeOf(node);
  if (shape.length < 2) {
    throw new DslError(`${op}: expects an input with a channel dim, got rank ${shape.length}`);
  }
  if (declared !== undefined) return declared;
  const c = shape[1];
  if (typeof c !== 'number') {
    throw new DslError(`${op}: the input's channel dim is '${c}', a literal size is needed to create parameters; pass it explicitly`);
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
