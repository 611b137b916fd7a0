/**
 * Argument checks shared by the op functions. They throw a ReferenceRunError carrying only the
 * detail; `runReference` adds the node's name and op.
 */
import { dimLabel, rankLabelList } from '../ir/labels.ts';
import { ReferenceRunError } from './errors.ts';
import { formatShape, sameShape, type Float64Tensor, type ParamValues } from './tensor.ts';

export function requireRank(x: Float64Tensor, allowed: readonly number[]): void {
  if (allowed.includes(x.shape.length)) return;
  const expected = allowed.map((r) => `rank ${r} [${rankLabelList(r)}]`).join(' or ');
  throw new ReferenceRunError(`input must have ${expected}, got shape ${formatShape(x.shape)}`);
}

/** The input's dim `axis` must equal `expected`; `source` says where the expectation comes from. */
export function requireDim(x: Float64Tensor, axis: number, expected: number, source: string): void {
  const actual = x.shape[axis];
  if (actual === expected) return;
  const label = dimLabel(x.shape.length, axis);
  throw new ReferenceRunError(
    `input dim ${axis} (${label}) is ${actual}, expected ${expected} (${source}); input shape ${formatShape(x.shape)}`,
  );
}

export function requireDivisible(value: number, what: string, divisor: number, divisorName: string): void {
  if (value % divisor === 0) return;
  throw new ReferenceRunError(`${what} = ${value} is not divisible by ${divisorName} = ${divisor}`);
}

/** A parameter that must be present with exactly `shape`. */
export function requireParam<P extends ParamValues>(param: P | undefined, name: string, shape: readonly number[]): P {
  if (param === undefined) {
    throw new ReferenceRunError(`param '${name}' is missing (expected shape ${formatShape(shape)})`);
  }
  if (!sameShape(param.shape, shape)) {
    throw new ReferenceRunError(
      `param '${name}' has shape ${formatShape(param.shape)}, expected ${formatShape(shape)}`,
    );
  }
  return param;
}

/**
 * A parameter whose presence an attr decides (`bias`, `affine`): present exactly when `flagValue`
 * is true, so a graph that says one thing and carries another is an error, not a silent choice.
 */
export function paramIf<P extends ParamValues>(
  flagValue: boolean,
  flagName: string,
  param: P | undefined,
  name: string,
  shape: readonly number[],
): P | undefined {
  if (flagValue) return requireParam(param, name, shape);
  if (param !== undefined) {
    throw new ReferenceRunError(`param '${name}' is present but attrs.${flagName} is false`);
  }
  return undefined;
}

/** Spatial output sizes must be positive: a window larger than the padded input has no position. */
export function requirePositiveOutput(outH: number, outW: number, detail: string): void {
  if (outH >= 1 && outW >= 1) return;
  throw new ReferenceRunError(`output would be ${outH} x ${outW} (H x W): ${detail}`);
}
