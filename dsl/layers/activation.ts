/**
 * Elementwise activations and identity: the shape passes through unchanged. ReLU and
 * leakyReLU are positively homogeneous (f(a*x) = a*f(x) for a >= 0), which the fold engine uses;
 * the others are not. The formulas are the IR's (`ActivationFn`, `elu`, `generalRelu` in
 * src/ir/graph.ts), as tfjs-layers computes them.
 */
import type { Built, FirstFailure, Layer, Prefix, ShapeFn } from '../layer.ts';
import type { ActivationFn, DropoutKind } from '../../src/ir/graph.ts';
import { knownOptions, optionNames, reusable } from '../runtime.ts';
import { DslError } from '../scope.ts';
import type { Sized } from '../settings.ts';

export interface ActivationConfig {
  readonly name?: string;
}

export interface SameShapeFn extends ShapeFn {
  readonly output: this['input'];
}

type UnaryOp = 'relu' | 'relu6' | 'sigmoid' | 'tanh' | 'identity';

function unary(op: UnaryOp, config: ActivationConfig): Layer<SameShapeFn> {
  return reusable<SameShapeFn>(op, (scope, [x]) => scope.node({ op, inputs: [x], name: config.name, attrs: {} }));
}

export interface Relu extends Layer<SameShapeFn> {}
export interface Relu6 extends Layer<SameShapeFn> {}
export interface Sigmoid extends Layer<SameShapeFn> {}
export interface Tanh extends Layer<SameShapeFn> {}
export interface Identity extends Layer<SameShapeFn> {}
export interface LeakyRelu extends Layer<SameShapeFn> {}

export const relu = (config: ActivationConfig = {}): Relu => unary('relu', config);
/** min(max(x, 0), 6) */
export const relu6 = (config: ActivationConfig = {}): Relu6 => unary('relu6', config);
export const sigmoid = (config: ActivationConfig = {}): Sigmoid => unary('sigmoid', config);
export const tanh = (config: ActivationConfig = {}): Tanh => unary('tanh', config);
export const identity = (config: ActivationConfig = {}): Identity => unary('identity', config);

export interface LeakyReluConfig extends ActivationConfig {
  /** Slope for x < 0 (default 0.01). */
  readonly alpha?: number;
}
const LEAKY_RELU_OPTIONS = optionNames<LeakyReluConfig>()(['alpha', 'name']);

export function leakyRelu(config: LeakyReluConfig = {}): LeakyRelu {
  knownOptions('leakyRelu', config, LEAKY_RELU_OPTIONS);
  const alpha = config.alpha ?? 0.01;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) {
    throw new DslError(`leakyRelu: alpha must be a finite number, got ${JSON.stringify(alpha)}`);
  }
  return reusable<SameShapeFn>('leakyRelu', (scope, [x]) =>
    scope.node({ op: 'leakyRelu', inputs: [x], name: config.name, attrs: { alpha } }),
  );
}

export interface DropoutConfig extends ActivationConfig {
  /** Drop probability in [0, 1) (gaussianNoise: the noise's standard deviation, >= 0). */
  readonly rate: number;
  /** Default 'dropout'; see the IR's `dropout` op for what each kind draws in train mode. */
  readonly kind?: DropoutKind;
}
const DROPOUT_OPTIONS = optionNames<DropoutConfig>()(['rate', 'kind', 'name']);

type KindOf<C> = C extends { readonly kind: infer K extends string } ? K : 'dropout';
type RateOf<C> = C extends { readonly rate: infer R extends number } ? R : 0;
/** Below 1, read from the literal's spelling (`0.5`, `1e-7`); a rate typed `number` is checked at run time. */
type BelowOne<R extends number> = number extends R ? true : `${R}` extends `0${string}` | `-${string}` | `${number}e-${number}` ? true : false;

/** The run-time rule's checks (src/ir/shapes.ts dropout), in its words. */
type DropoutOut<C, S> = S extends readonly unknown[]
  ? FirstFailure<[
      KindOf<C> extends 'gaussianNoise' ? true : BelowOne<RateOf<C>> extends true ? true : `${KindOf<C>} rate ${RateOf<C>} must be below 1`,
      KindOf<C> extends 'spatialDropout'
        ? S['length'] extends 0 | 1 | 2
          ? `spatialDropout expects a rank-3 or rank-4 input, got rank ${S['length']}`
          : true
        : true,
    ]> extends infer E extends string
    ? `${Prefix<'dropout', C extends { readonly name: infer N extends string } ? N : undefined>}${E}`
    : S
  : S;

export interface DropoutFn<C> extends ShapeFn {
  readonly output: DropoutOut<C, this['input']>;
}
export interface Dropout<C> extends Layer<DropoutFn<C>> {}

/** The identity at inference; Keras' dropout noise in train mode. */
export function dropout<const C extends DropoutConfig, S = unknown, L = Dropout<{ -readonly [K in keyof C]: C[K] }>>(
  config: Sized<'dropout', C, [], L, S, typeof DROPOUT_OPTIONS>,
): Built<L, S, C, [], 'dropout', typeof DROPOUT_OPTIONS>;
export function dropout(config: DropoutConfig): Layer {
  knownOptions('dropout', config, DROPOUT_OPTIONS);
  const { rate, kind = 'dropout' } = config;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) {
    throw new DslError(`dropout: rate must be a finite number >= 0, got ${JSON.stringify(rate)}`);
  }
  return reusable('dropout', (scope, [x]) => scope.node({ op: 'dropout', inputs: [x], name: config.name, attrs: { kind, rate } }));
}

export interface Selu extends Layer<SameShapeFn> {}
export interface Gelu extends Layer<SameShapeFn> {}
export interface HardSigmoid extends Layer<SameShapeFn> {}
export interface Softplus extends Layer<SameShapeFn> {}
export interface Softsign extends Layer<SameShapeFn> {}
export interface Swish extends Layer<SameShapeFn> {}
export interface Mish extends Layer<SameShapeFn> {}
export interface Elu extends Layer<SameShapeFn> {}
export interface GeneralRelu extends Layer<SameShapeFn> {}

function activation(fn: ActivationFn, config: ActivationConfig): Layer<SameShapeFn> {
  return reusable<SameShapeFn>(fn, (scope, [x]) => scope.node({ op: 'activation', inputs: [x], name: config.name, attrs: { fn } }));
}

/** scale * (x > 0 ? x : alpha * (exp(x) - 1)), Klambauer et al.'s constants. */
export const selu = (config: ActivationConfig = {}): Selu => activation('selu', config);
/** clip(0.2 x + 0.5, 0, 1), as Keras. */
export const hardSigmoid = (config: ActivationConfig = {}): HardSigmoid => activation('hardSigmoid', config);
/** log(1 + exp(x)) */
export const softplus = (config: ActivationConfig = {}): Softplus => activation('softplus', config);
/** x / (1 + |x|) */
export const softsign = (config: ActivationConfig = {}): Softsign => activation('softsign', config);
/** x * sigmoid(x) (SiLU) */
export const swish = (config: ActivationConfig = {}): Swish => activation('swish', config);
/** x * tanh(softplus(x)) */
export const mish = (config: ActivationConfig = {}): Mish => activation('mish', config);

export interface GeluConfig extends ActivationConfig {
  /** 'tanh': the tanh approximation (Keras 'gelu_new'); default the exact erf form. */
  readonly approximate?: 'tanh';
}
const GELU_OPTIONS = optionNames<GeluConfig>()(['approximate', 'name']);
/** x * (1 + erf(x / sqrt 2)) / 2, or its tanh approximation. */
export function gelu(config: GeluConfig = {}): Gelu {
  knownOptions('gelu', config, GELU_OPTIONS);
  if (config.approximate !== undefined && config.approximate !== 'tanh') {
    throw new DslError(`gelu: approximate must be 'tanh' or absent, got ${JSON.stringify(config.approximate)}`);
  }
  return activation(config.approximate === 'tanh' ? 'geluTanh' : 'gelu', config);
}

function finite(op: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new DslError(`${op}: ${field} must be a finite number, got ${JSON.stringify(value)}`);
  return value;
}

export interface EluConfig extends ActivationConfig {
  /** Default 1. */
  readonly alpha?: number;
}
const ELU_OPTIONS = optionNames<EluConfig>()(['alpha', 'name']);
/** x if x > 0, else alpha * (exp(x) - 1). */
export function elu(config: EluConfig = {}): Elu {
  knownOptions('elu', config, ELU_OPTIONS);
  const alpha = finite('elu', 'alpha', config.alpha ?? 1);
  return reusable<SameShapeFn>('elu', (scope, [x]) => scope.node({ op: 'elu', inputs: [x], name: config.name, attrs: { alpha } }));
}

export interface GeneralReluConfig extends ActivationConfig {
  /** Upper bound (default none). */
  readonly maxValue?: number | null;
  /** Slope below the threshold (default 0). */
  readonly negativeSlope?: number;
  /** Default 0. */
  readonly threshold?: number;
}
const GENERAL_RELU_OPTIONS = optionNames<GeneralReluConfig>()(['maxValue', 'negativeSlope', 'threshold', 'name']);
/** Keras' ReLU layer in full: x > threshold ? min(x, maxValue) : negativeSlope * (x - threshold). */
export function generalRelu(config: GeneralReluConfig = {}): GeneralRelu {
  knownOptions('generalRelu', config, GENERAL_RELU_OPTIONS);
  const op = 'generalRelu';
  const maxValue = config.maxValue ?? null;
  if (maxValue !== null && !(finite(op, 'maxValue', maxValue) >= 0)) throw new DslError(`${op}: maxValue must be >= 0, got ${maxValue}`);
  const attrs = { maxValue, negativeSlope: finite(op, 'negativeSlope', config.negativeSlope ?? 0), threshold: finite(op, 'threshold', config.threshold ?? 0) };
  return reusable<SameShapeFn>(op, (scope, [x]) => scope.node({ op, inputs: [x], name: config.name, attrs }));
}

export interface ThresholdedReluConfig extends ActivationConfig {
  /** Default 1, as Keras. */
  readonly theta?: number;
}
const THRESHOLDED_RELU_OPTIONS = optionNames<ThresholdedReluConfig>()(['theta', 'name']);
/** x > theta ? x : 0 (Keras ThresholdedReLU), a generalRelu. */
export function thresholdedRelu(config: ThresholdedReluConfig = {}): GeneralRelu {
  knownOptions('thresholdedRelu', config, THRESHOLDED_RELU_OPTIONS);
  return generalRelu({ threshold: config.theta ?? 1, ...(config.name === undefined ? {} : { name: config.name }) });
}
