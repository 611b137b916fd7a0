/**
 * The parameter tensors each node must carry, with their shapes (PyTorch layouts):
 *   conv2d            weight [Cout, Cin/groups, kH, kW]       bias [Cout]
 *   convTranspose2d   weight [Cin, Cout/groups, kH, kW]       bias [Cout]
 *   linear            weight [out, in]                        bias [out]
 *   weightNorm*       v like the weight, g [Cout]             bias [Cout]
 *   per-channel norms gamma, beta, runningMean, runningVar [C]; IBN's running stats [C - instanceChannels]
 *   batchNorm         gamma, beta only when affine, running stats only when trackRunningStats,
 *                     batchesTracked [1] with decay null (cumulative average)
 *   batchRenorm       also renormMean, renormStd [C] (sigma 'movingStddev'), batchesTracked [1] (with a warmup)
 *   layerNorm         gamma, beta [...normalizedShape]: [C, H, W] element-wise over 'chw', [C] over 'c'
 *   switchableNorm    meanWeights, varWeights [3]             (IN, LN, BN logits)
 *   prelu             alpha [attrs.alphaShape]                (input shape without N, 1 where shared)
 *   opaque            each of attrs.weights by its name, with its shape (Keras layout)
 * Biases exist only when `attrs.bias`; norm gamma/beta only when `attrs.affine`.
 * Optional parameters (absent means zero, never initialised):
 *   conv2d            tapBias [Cout, kH, kW]   (see ParamsByOp in graph.ts)
 */
import { GraphError, nodePrefix } from './errors.ts';
import type { AttrsByOp, Node, OpKind, ParamTensor } from './graph.ts';

/** An op together with its attrs, correlated (so a switch on `op` narrows `attrs`). */
export type OpWithAttrs = { [K in OpKind]: { readonly op: K; readonly attrs: AttrsByOp[K] } }[OpKind];

type ShapeTable = Readonly<Record<string, readonly number[]>>;

function withBias(weights: ShapeTable, bias: boolean, channels: number): ShapeTable {
  return bias ? { ...weights, bias: [channels] } : weights;
}

function batchStats(channels: number, statChannels: number): ShapeTable {
  return { gamma: [channels], beta: [channels], runningMean: [statChannels], runningVar: [statChannels] };
}

function affine(enabled: boolean, shape: readonly number[]): ShapeTable {
  return enabled ? { gamma: shape, beta: shape } : {};
}

/** Every parameter the node must have, by name, with its shape. */
export function paramShapes(node: OpWithAttrs): ShapeTable {
  switch (node.op) {
    case 'conv2d':
    case 'weightNormConv2d': {
      const a = node.attrs;
      const weight = [a.outChannels, a.inChannels / a.groups, a.kernel[0], a.kernel[1]];
      const weights: ShapeTable = node.op === 'conv2d' ? { weight } : { v: weight, g: [a.outChannels] };
      return withBias(weights, a.bias, a.outChannels);
    }
    case 'convTranspose2d': {
      const a = node.attrs;
      const weight = [a.inChannels, a.outChannels / a.groups, a.kernel[0], a.kernel[1]];
      return withBias({ weight }, a.bias, a.outChannels);
    }
    case 'linear':
    case 'weightNormLinear': {
      const a = node.attrs;
      const weight = [a.outFeatures, a.inFeatures];
      const weights: ShapeTable = node.op === 'linear' ? { weight } : { v: weight, g: [a.outFeatures] };
      return withBias(weights, a.bias, a.outFeatures);
    }
    case 'batchNorm': {
      const a = node.attrs;
      const { gamma, beta, runningMean, runningVar } = batchStats(a.numFeatures, a.numFeatures);
      return {
        ...(a.affine === false ? {} : { gamma, beta }),
        ...(a.trackRunningStats === false ? {} : { runningMean, runningVar }),
        ...(a.decay === null && a.trackRunningStats !== false ? { batchesTracked: [1] } : {}),
      };
    }
    case 'batchRenorm': {
      const a = node.attrs;
      const moving: ShapeTable = a.sigma === 'movingStddev' ? { renormMean: [a.numFeatures], renormStd: [a.numFeatures] } : {};
      return { ...batchStats(a.numFeatures, a.numFeatures), ...moving, ...(a.warmup === null ? {} : { batchesTracked: [1] }) };
    }
    case 'ibn':
      return batchStats(node.attrs.numFeatures, node.attrs.numFeatures - node.attrs.instanceChannels);
    case 'switchableNorm':
      return { ...batchStats(node.attrs.numFeatures, node.attrs.numFeatures), meanWeights: [3], varWeights: [3] };
    case 'layerNorm':
      return affine(node.attrs.affine, node.attrs.normalizedShape);
    case 'groupNorm':
      return affine(node.attrs.affine, [node.attrs.numChannels]);
    case 'instanceNorm':
      return affine(node.attrs.affine, [node.attrs.numFeatures]);
    case 'scaleShift':
      return { scale: [node.attrs.numChannels], shift: [node.attrs.numChannels] };
    case 'prelu':
      return { alpha: [...node.attrs.alphaShape] };
    case 'opaque':
      return Object.fromEntries(node.attrs.weights.map((w) => [w.name, w.shape]));
    default:
      return {};
  }
}

/** Parameters the node may carry but need not (absent means zero), with their shapes. */
export function optionalParamShapes(node: OpWithAttrs): ShapeTable {
  if (node.op !== 'conv2d') return {};
  const a = node.attrs;
  return { tapBias: [a.outChannels, a.kernel[0], a.kernel[1]] };
}

/** Parameters whose values must be non-negative, with what they are. */
const NON_NEGATIVE: ReadonlyMap<string, string> = new Map([
  ['runningVar', 'a variance'],
  ['renormStd', 'a standard deviation'],
  ['batchesTracked', 'a count of batches'],
]);

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function spell(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The L2 norm of each row of a row-major tensor whose first axis has `rows` entries. */
export function rowNorms(data: Float32Array, rows: number): Float64Array {
  const perRow = data.length / rows;
  const norms = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let k = r * perRow; k < (r + 1) * perRow; k++) sum += data[k] * data[k];
    norms[r] = Math.sqrt(sum);
  }
  return norms;
}

/** Checks one parameter tensor against its expected shape; `label` names it in messages. */
function checkTensor(prefix: string, node: string, label: string, tensor: ParamTensor, expected: readonly number[], values = true): void {
  const fail = (detail: string): never => {
    throw new GraphError(`${prefix}${label} ${detail}`, node);
  };
  if (typeof tensor !== 'object' || tensor === null || !(tensor.data instanceof Float32Array)) {
    fail('must be a { shape, data: Float32Array } tensor');
  }
  if (!Array.isArray(tensor.shape) || !sameShape(tensor.shape, expected)) {
    fail(`has shape ${Array.isArray(tensor.shape) ? spell(tensor.shape) : String(tensor.shape)}, expected ${spell(expected)}`);
  }
  const size = expected.reduce((p, d) => p * d, 1);
  if (tensor.data.length !== size) fail(`has ${tensor.data.length} values, its shape ${spell(expected)} needs ${size}`);
  if (!values) return;
  const at = firstNonFinite(tensor.data);
  if (at >= 0) fail(`has a non-finite value ${tensor.data[at]} at index ${at}`);
}

/**
 * The index of the first NaN or ±Infinity in `data`, or -1. x * 0 is NaN exactly for those and
 * 0 otherwise, and a NaN survives any sum: two running sums with no branch (the whole pass over
 * a large model's weights), and a search only when one of them came out NaN.
 */
function firstNonFinite(data: Float32Array): number {
  let even = 0;
  let odd = 0;
  let k = 0;
  for (; k + 1 < data.length; k += 2) {
    even += data[k] * 0;
    odd += data[k + 1] * 0;
  }
  if (k < data.length) even += data[k] * 0;
  if (even + odd === 0) return -1;
  for (let i = 0; i < data.length; i++) if (data[i] - data[i] !== 0) return i;
  return -1;
}

/**
 * Throws a GraphError naming the node and the parameter unless the node carries exactly the
 * parameters its op and attrs call for, each with the right shape and finite values.
 * `allowMissing` checks only the parameters present (the builder's user-supplied ones).
 */
export function checkParams(node: Node, options: { readonly allowMissing?: boolean; readonly values?: boolean } = {}): void {
  const prefix = nodePrefix(node.op, node.name);
  const expected = paramShapes(node);
  const optional = optionalParamShapes(node);
  const given: Readonly<Record<string, ParamTensor | undefined>> = node.params;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new GraphError(`${prefix}params must be an object of named tensors`, node.name);
  }
  for (const name of Object.keys(given)) {
    if (Object.hasOwn(optional, name)) {
      const tensor = given[name];
      if (tensor !== undefined) checkTensor(prefix, node.name, `param '${name}'`, tensor, optional[name], options.values ?? true);
      continue;
    }
    if (!Object.hasOwn(expected, name)) {
      const takes = Object.keys(expected);
      const hint = takes.length === 0 ? 'this node takes no params' : `this node takes: ${takes.join(', ')}`;
      const optionalNames = Object.keys(optional);
      const also = optionalNames.length === 0 ? '' : `; it may also carry ${optionalNames.join(', ')}`;
      throw new GraphError(`${prefix}unexpected param '${name}' (${hint})${also}`, node.name);
    }
  }
  for (const [name, shape] of Object.entries(expected)) {
    const tensor = given[name];
    if (tensor === undefined) {
      if (options.allowMissing === true) continue;
      throw new GraphError(`${prefix}param '${name}' is missing`, node.name);
    }
    checkTensor(prefix, node.name, `param '${name}'`, tensor, shape, options.values ?? true);
    const kind = NON_NEGATIVE.get(name);
    if (kind !== undefined) {
      const negative = tensor.data.findIndex((v) => v < 0);
      if (negative >= 0) {
        throw new GraphError(
          `${prefix}param '${name}' is ${kind} but has ${tensor.data[negative]} at index ${negative}`,
          node.name,
        );
      }
    }
  }
  const v = given.v;
  if ((node.op === 'weightNormConv2d' || node.op === 'weightNormLinear') && v !== undefined) {
    const zero = rowNorms(v.data, v.shape[0]).findIndex((n) => n === 0);
    // weight = g * v / ||v|| is undefined for that output unit.
    if (zero >= 0) throw new GraphError(`${prefix}param 'v' is all zeros for output unit ${zero}`, node.name);
  }
}
