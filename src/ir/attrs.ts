/**
 * Well-formedness of each op's attrs, one declarative schema per op: every field present with a
 * value of its kind (an 'optionalBoolean' may be absent: BatchNorm's switches), no unknown fields. Relations between attrs and the input (channel counts,
 * groups dividing channels, pool padding against the kernel) are shape rules, in `shapes.ts`.
 *
 * Ranges follow what the math needs: eps > 0 keeps 1/sqrt(var + eps) finite; a running-stat
 * decay outside [0, 1] is not an average; BatchRenorm needs rMax >= 1 (the clip interval
 * [1/rMax, rMax] must be non-empty) and dMax >= 0; its warm-up ramps need holdSteps before
 * the step where each ramp ends (a ramp of zero length would divide by zero).
 */
import { isSymbolName } from '../shape/dim.ts';
import { GraphError, nodePrefix } from './errors.ts';
import type { ActivationFn, AttrsByOp, DropoutKind, MergeFn, Node, OpKind, Shape } from './graph.ts';
import { dimLabel } from './labels.ts';

type FieldKind =
  | 'positiveInt'
  | 'positivePair'
  | 'nonNegativePair'
  | 'padding'
  | 'crop'
  | 'boolean'
  | 'frozen'
  | 'eps'
  | 'decay'
  | 'decayOrCumulative'
  | 'optionalBoolean'
  | 'rMax'
  | 'dMax'
  | 'renormSigma'
  | 'renormWarmup'
  | 'finite'
  | 'finiteList'
  | 'positiveList'
  | 'normAxes'
  | 'positiveIntList'
  | 'interpolation'
  | 'permutation'
  | 'targetShape'
  | 'inputShape'
  | 'activationFn'
  | 'mergeFn'
  | 'dropoutKind'
  | 'rate'
  | 'maxValue'
  | 'axis'
  | 'dims'
  | 'className'
  | 'jsonObject'
  | 'weightList'
  | 'kerasShapes'
  | 'kerasShape';

export const ACTIVATION_FNS: readonly ActivationFn[] = ['selu', 'gelu', 'geluTanh', 'hardSigmoid', 'softplus', 'softsign', 'swish', 'mish'];
export const MERGE_FNS: readonly MergeFn[] = ['add', 'subtract', 'multiply', 'average', 'maximum', 'minimum'];
export const DROPOUT_KINDS: readonly DropoutKind[] = ['dropout', 'spatialDropout', 'gaussianDropout', 'gaussianNoise', 'alphaDropout'];

type Schema<K extends OpKind> = { readonly [F in keyof AttrsByOp[K] & string]-?: FieldKind };

const CONV: Schema<'conv2d'> = {
  inChannels: 'positiveInt',
  outChannels: 'positiveInt',
  kernel: 'positivePair',
  stride: 'positivePair',
  padding: 'padding',
  dilation: 'positivePair',
  groups: 'positiveInt',
  bias: 'boolean',
};
const LINEAR: Schema<'linear'> = { inFeatures: 'positiveInt', outFeatures: 'positiveInt', bias: 'boolean' };
const RUNNING_STATS = { decay: 'decay', unbiasedRunningVar: 'boolean' } as const;
const FREEZABLE_NORM = { numFeatures: 'positiveInt', eps: 'eps', frozen: 'frozen', ...RUNNING_STATS } as const;
const BATCH_NORM: Schema<'batchNorm'> = { ...FREEZABLE_NORM, decay: 'decayOrCumulative', affine: 'optionalBoolean', trackRunningStats: 'optionalBoolean' };
const POOL: Schema<'maxPool2d'> = { kernel: 'positivePair', stride: 'positivePair', padding: 'padding' };
const NONE = {} as const;

const SCHEMAS: { readonly [K in OpKind]: Schema<K> } = {
  input: { shape: 'inputShape' },
  conv2d: CONV,
  convTranspose2d: {
    inChannels: 'positiveInt',
    outChannels: 'positiveInt',
    kernel: 'positivePair',
    stride: 'positivePair',
    padding: 'nonNegativePair',
    outputPadding: 'nonNegativePair',
    dilation: 'positivePair',
    groups: 'positiveInt',
    bias: 'boolean',
  },
  linear: LINEAR,
  weightNormConv2d: CONV,
  weightNormLinear: LINEAR,
  batchNorm: BATCH_NORM,
  batchRenorm: {
    numFeatures: 'positiveInt',
    eps: 'eps',
    rMax: 'rMax',
    dMax: 'dMax',
    sigma: 'renormSigma',
    renormDecay: 'decay',
    warmup: 'renormWarmup',
    ...RUNNING_STATS,
  },
  layerNorm: { normalizedShape: 'positiveIntList', over: 'normAxes', eps: 'eps', affine: 'boolean' },
  instanceNorm: { numFeatures: 'positiveInt', eps: 'eps', affine: 'boolean' },
  groupNorm: { numChannels: 'positiveInt', groups: 'positiveInt', eps: 'eps', affine: 'boolean' },
  ibn: { ...FREEZABLE_NORM, instanceChannels: 'positiveInt' },
  switchableNorm: { numFeatures: 'positiveInt', eps: 'eps', ...RUNNING_STATS },
  scaleShift: { numChannels: 'positiveInt' },
  normalize: { mean: 'finiteList', std: 'positiveList' },
  relu: NONE,
  relu6: NONE,
  leakyRelu: { alpha: 'finite' },
  sigmoid: NONE,
  tanh: NONE,
  activation: { fn: 'activationFn' },
  elu: { alpha: 'finite' },
  generalRelu: { maxValue: 'maxValue', negativeSlope: 'finite', threshold: 'finite' },
  prelu: { alphaShape: 'dims' },
  softmax: { axis: 'axis' },
  logSoftmax: { axis: 'axis' },
  merge: { fn: 'mergeFn' },
  dropout: { kind: 'dropoutKind', rate: 'rate' },
  concatAxis: { axis: 'axis' },
  add: NONE,
  concat: NONE,
  maxPool2d: POOL,
  avgPool2d: { ...POOL, countIncludePad: 'boolean' },
  globalAvgPool: { keepDims: 'boolean' },
  globalMaxPool: { keepDims: 'boolean' },
  upsample2d: { scale: 'positivePair', interpolation: 'interpolation' },
  transpose: { perm: 'permutation' },
  reshape: { shape: 'targetShape' },
  repeatVector: { times: 'positiveInt' },
  resize2d: { size: 'positivePair', interpolation: 'interpolation', alignCorners: 'boolean' },
  flatten: NONE,
  crop2d: { crop: 'crop' },
  identity: NONE,
  opaque: { className: 'className', config: 'jsonObject', weights: 'weightList', inputShapes: 'kerasShapes', outputShape: 'kerasShape' },
  opaqueOutput: { index: 'positiveInt', outputShape: 'kerasShape' },
};

export const OP_KINDS: readonly OpKind[] = Object.keys(SCHEMAS) as OpKind[];

/** The attribute names an op takes (every one required but those of kind optionalBoolean). */
export function attrFieldsOf(op: OpKind): readonly string[] {
  return Object.keys(SCHEMAS[op]);
}

export function isOpKind(op: unknown): op is OpKind {
  return typeof op === 'string' && Object.hasOwn(SCHEMAS, op);
}

/**
 * The largest count an attribute may hold: tfjs's wasm kernels take their arguments as 32-bit
 * integers, and past that they wrap.
 */
export const MAX_ATTR_INT = 2 ** 31 - 1;
/**
 * The largest window size, stride, dilation, padding, crop or scale on one axis. No model has one
 * near it; past 2^24, tfjs's wasm kernels compute garbage or crash (a 'same' max pool of 2^30 rows
 * ran out of wasm memory), so a file with one is refused rather than run.
 */
export const MAX_WINDOW = 2 ** 16;

const isIntIn = (v: unknown, least: number, most: number): boolean => Number.isInteger(v) && (v as number) >= least && (v as number) <= most;
const isPositiveInt = (v: unknown): boolean => isIntIn(v, 1, MAX_ATTR_INT);
const isNonNegativeInt = (v: unknown): boolean => isIntIn(v, 0, MAX_ATTR_INT);
const isWindow = (v: unknown): boolean => isIntIn(v, 1, MAX_WINDOW);
const isWindowPad = (v: unknown): boolean => isIntIn(v, 0, MAX_WINDOW);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A channels-last shape as tfjs states it: a batch axis and at least one more, each a size or null. */
const isKerasShape = (v: unknown): boolean => Array.isArray(v) && v.length >= 2 && v.every((d) => d === null || isPositiveInt(d));
const isWeight = (v: unknown): boolean =>
  isPlainObject(v) && typeof (v as { name?: unknown }).name === 'string' && Array.isArray((v as { shape?: unknown }).shape) && (v as { shape: unknown[] }).shape.every(isNonNegativeInt);

function isPairOf(v: unknown, element: (x: unknown) => boolean): boolean {
  return Array.isArray(v) && v.length === 2 && v.every(element);
}

function isWarmup(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const w = v as Record<string, unknown>;
  const keys = Object.keys(w).sort().join(',');
  return (
    keys === 'dMaxSteps,holdSteps,rMaxSteps' &&
    isNonNegativeInt(w.holdSteps) &&
    isNonNegativeInt(w.rMaxSteps) &&
    isNonNegativeInt(w.dMaxSteps) &&
    (w.holdSteps as number) < (w.rMaxSteps as number) &&
    (w.holdSteps as number) < (w.dMaxSteps as number)
  );
}

function oneOf(value: unknown, allowed: readonly string[]): string | undefined {
  return allowed.includes(value as string) ? undefined : `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`;
}

const WINDOW_KINDS: ReadonlySet<FieldKind> = new Set(['positivePair', 'nonNegativePair', 'padding', 'crop']);
/** Whether `v` (a number or a nested list) holds an integer past `most`. */
export const holdsIntPast = (v: unknown, most: number): boolean => (Array.isArray(v) ? v.some((e) => holdsIntPast(e, most)) : Number.isInteger(v) && (v as number) > most);

/** Why `value` is not of `kind`, or undefined when it is. */
function fieldProblem(kind: FieldKind, value: unknown): string | undefined {
  if (kind === 'positiveInt' && holdsIntPast(value, MAX_ATTR_INT)) return `is past ${MAX_ATTR_INT}, the most tfjs's kernels take`;
  if (WINDOW_KINDS.has(kind) && holdsIntPast(value, MAX_WINDOW)) return `holds a size past ${MAX_WINDOW}, the most shapefold runs on one axis`;
  switch (kind) {
    case 'positiveInt':
      return isPositiveInt(value) ? undefined : 'must be a positive integer';
    case 'positivePair':
      return isPairOf(value, isWindow) ? undefined : 'must be a pair of positive integers';
    case 'nonNegativePair':
      return isPairOf(value, isWindowPad) ? undefined : 'must be a pair of non-negative integers';
    case 'padding':
      return value === 'same' ||
        value === 'valid' ||
        (Array.isArray(value) && value.length === 4 && value.every(isWindowPad))
        ? undefined
        : "must be 'same', 'valid' or [top, bottom, left, right] of non-negative integers";
    case 'crop':
      return Array.isArray(value) && value.length === 4 && value.every(isWindowPad)
        ? undefined
        : 'must be [top, bottom, left, right] of non-negative integers';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'frozen':
      return typeof value === 'boolean' || value === 'all' ? undefined : "must be true, false or 'all'";
    case 'eps':
      return isFiniteNumber(value) && value > 0 ? undefined : 'must be a finite number > 0';
    case 'decay':
      return isFiniteNumber(value) && value >= 0 && value <= 1 ? undefined : 'must be a number in [0, 1]';
    case 'decayOrCumulative':
      return value === null || (isFiniteNumber(value) && value >= 0 && value <= 1) ? undefined : 'must be a number in [0, 1], or null (a cumulative average)';
    case 'optionalBoolean':
      return value === undefined || typeof value === 'boolean' ? undefined : 'must be true or false (absent means true)';
    case 'rMax':
      return isFiniteNumber(value) && value >= 1 ? undefined : 'must be a finite number >= 1';
    case 'dMax':
      return isFiniteNumber(value) && value >= 0 ? undefined : 'must be a finite number >= 0';
    case 'renormSigma':
      return oneOf(value, ['movingStddev', 'runningVar']);
    case 'renormWarmup':
      return value === null || isWarmup(value)
        ? undefined
        : 'must be null or { holdSteps, rMaxSteps, dMaxSteps } of non-negative integers with holdSteps < rMaxSteps and holdSteps < dMaxSteps';
    case 'finite':
      return isFiniteNumber(value) ? undefined : 'must be a finite number';
    case 'finiteList':
      return Array.isArray(value) && value.length > 0 && value.every(isFiniteNumber)
        ? undefined
        : 'must be a non-empty list of finite numbers';
    case 'positiveList':
      return Array.isArray(value) && value.length > 0 && value.every((v) => isFiniteNumber(v) && v > 0)
        ? undefined
        : 'must be a non-empty list of finite numbers > 0';
    case 'positiveIntList':
      return Array.isArray(value) && value.length > 0 && value.every(isPositiveInt)
        ? undefined
        : 'must be a non-empty list of positive integers';
    case 'normAxes':
      return value === 'chw' || value === 'c' ? undefined : "must be 'chw' or 'c'";
    case 'interpolation':
      return value === 'nearest' || value === 'bilinear' ? undefined : "must be 'nearest' or 'bilinear'";
    case 'permutation':
      return Array.isArray(value) && value[0] === 0 && value.every(isNonNegativeInt) && [...value].sort((a, b) => a - b).every((v, i) => v === i)
        ? undefined
        : 'must be a permutation [0, ...] of the axes that keeps the batch axis 0 first';
    case 'targetShape':
      return Array.isArray(value) && value.length > 0 && value.every(isPositiveInt) ? undefined : 'must be a non-empty list of positive integers';
    case 'inputShape':
      return Array.isArray(value) && value.length > 0 ? undefined : 'must be a non-empty list of dims';
    case 'activationFn':
      return oneOf(value, ACTIVATION_FNS);
    case 'mergeFn':
      return oneOf(value, MERGE_FNS);
    case 'dropoutKind':
      return oneOf(value, DROPOUT_KINDS);
    case 'rate':
      return isFiniteNumber(value) && value >= 0 ? undefined : 'must be a finite number >= 0';
    case 'maxValue':
      return value === null || (isFiniteNumber(value) && value >= 0) ? undefined : 'must be null (no bound) or a finite number >= 0';
    case 'axis':
      return isPositiveInt(value) ? undefined : 'must be an axis >= 1 (axis 0 is the batch)';
    case 'dims':
      return Array.isArray(value) && value.length > 0 && value.every(isPositiveInt) ? undefined : 'must be a non-empty list of positive integers';
    case 'className':
      return typeof value === 'string' && value !== '' ? undefined : 'must be a non-empty class name';
    case 'jsonObject':
      return isPlainObject(value) ? undefined : 'must be an object (the Keras config)';
    case 'weightList':
      return Array.isArray(value) && value.every(isWeight) && new Set(value.map((w: { name: string }) => w.name)).size === value.length
        ? undefined
        : 'must be a list of { name, shape } with distinct names';
    case 'kerasShapes':
      return Array.isArray(value) && value.length > 0 && value.every(isKerasShape) ? undefined : 'must be a non-empty list of shapes [batch, ...] of sizes or null';
    case 'kerasShape':
      return isKerasShape(value) ? undefined : 'must be a shape [batch, ...] of sizes or null';
  }
}

/** A value as a message shows it: like JSON, but NaN and infinities spelled out. */
export function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  return JSON.stringify(value) ?? String(value);
}

/** Checks one input dim: a positive integer or a symbol name (an identifier other than 'floor'). */
export function checkInputDims(name: string, shape: Shape): void {
  shape.forEach((d, i) => {
    const ok = typeof d === 'number' ? isPositiveInt(d) : typeof d === 'string' && isSymbolName(d);
    if (!ok) {
      throw new GraphError(
        `${nodePrefix('input', name)}dim ${i} (${dimLabel(shape.length, i)}) must be a positive integer or a ` +
          `symbol name (an identifier other than 'floor'), got ${show(d)}`,
        name,
      );
    }
  });
}

/** Throws a GraphError naming the node and the field when the attrs do not fit the op's schema. */
export function checkAttrs(node: Pick<Node, 'name' | 'op' | 'attrs'>): void {
  const prefix = nodePrefix(node.op, node.name);
  const attrs: unknown = node.attrs;
  if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) {
    throw new GraphError(`${prefix}attrs must be an object, got ${show(attrs)}`, node.name);
  }
  const schema: Readonly<Record<string, FieldKind>> = SCHEMAS[node.op];
  const record = attrs as Record<string, unknown>;
  for (const field of Object.keys(record)) {
    if (!Object.hasOwn(schema, field)) {
      const known = Object.keys(schema);
      const expected = known.length === 0 ? 'this op takes no attrs' : `known: ${known.join(', ')}`;
      throw new GraphError(`${prefix}unknown attr '${field}' (${expected})`, node.name);
    }
  }
  for (const [field, kind] of Object.entries(schema)) {
    const value = record[field];
    const problem = fieldProblem(kind, value);
    if (problem === undefined) continue;
    const message = value === undefined ? `is missing (it ${problem})` : `${problem}, got ${show(value)}`;
    throw new GraphError(`${prefix}attrs.${field} ${message}`, node.name);
  }
  if (node.op === 'input') checkInputDims(node.name, (node.attrs as AttrsByOp['input']).shape);
}
