/**
 * Elementwise activations and identity: the shape passes through unchanged. ReLU and
 * leakyReLU are positively homogeneous (f(a*x) = a*f(x) for a >= 0), which the fold engine uses;
 * relu6, sigmoid and tanh are not.
 */
import type { Layer, ShapeFn } from '../layer.ts';
import type { DropoutKind } from '../../src/ir/graph.ts';
import { reusable } from '../runtime.ts';
import { DslError } from '../scope.ts';

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

export function leakyRelu(config: LeakyReluConfig = {}): LeakyRelu {
  const alpha = config.alpha ?? 0.01;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) {
    throw new DslError(`leakyRelu: alpha must be a finite number, got ${JSON.stringify(alpha)}`);
  }
  return reusable<SameShapeFn>('leakyRelu', (scope, [x]) =>
    scope.node({ op: 'leakyRelu', inputs: [x], name: config.name, attrs: { alpha } }),
  );
}

export interface Dropout extends Layer<SameShapeFn> {}

export interface DropoutConfig extends ActivationConfig {
  /** Drop probability in [0, 1) (gaussianNoise: the noise's standard deviation, >= 0). */
  readonly rate: number;
  /** Default 'dropout'; see the IR's `dropout` op for what each kind draws in train mode. */
  readonly kind?: DropoutKind;
}

/** The identity at inference; Keras' dropout noise in train mode. */
export function dropout(config: DropoutConfig): Dropout {
  const { rate, kind = 'dropout' } = config;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) {
    throw new DslError(`dropout: rate must be a finite number >= 0, got ${JSON.stringify(rate)}`);
  }
  return reusable<SameShapeFn>('dropout', (scope, [x]) => scope.node({ op: 'dropout', inputs: [x], name: config.name, attrs: { kind, rate } }));
}
