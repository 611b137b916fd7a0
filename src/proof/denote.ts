/**
 * What each IR op computes, as a tensor term (`tensor.ts`), written from the op definitions in
 * src/ir/graph.ts and src/reference/ops — deliberately not from src/algebra/affine.ts, whose
 * table the proofs check against these:
 *
 *   conv2d            conv_W,g(pad0_P(x)) + const(bias) + tapBias(tapBias, g, P)
 *   weightNormConv2d  the same with W = scaleOut(v, g / rowNorm(v)), no tap bias
 *   convTranspose2d   convT_W,g(x) + const(bias)
 *   linear            W x + const(bias);  weightNormLinear with W = scaleOut(v, g / rowNorm(v))
 *   batchNorm,        running statistics: gamma ⊙ (x - runningMean) / sqrt(runningVar + eps) + beta
 *   batchRenorm       batch statistics:   gamma ⊙ stat(x) + beta, stat opaque
 *   scaleShift        scale ⊙ x + shift
 *   normalize         (x - mean) / std
 *   layerNorm, instanceNorm, groupNorm   gamma ⊙ stat(x) + beta (affine), stat(x) (affine: false);
 *                     a layerNorm's affine is per channel only under a perChannelAffine condition,
 *                     otherwise (element-wise over C, H, W) it is an opaque op after stat(x)
 *   relu, relu6, leakyRelu, sigmoid, tanh   themselves;  flatten_n(x);  crop_C(x);  identity x
 *   ibn, switchableNorm, pools            opaque
 * A matched node's parameters are the references `param('role.name')` (a missing bias or tap bias
 * is bound as zeros by the engine, so it is present here); a replacement node's are the rule's
 * expressions, and a parameter it does not define is absent (zero).
 */
import { add, attr, div, mul, neg, num, param, recip, rowNorm, scaleOut, sqrt, tapParam, weight, type ParamExpr, type TapExpr, type VExpr, type WExpr } from '../algebra/expr.ts';
import { isTapExpr, isVectorExpr, isWeightExpr } from '../algebra/expr.ts';
import type { OpKind } from '../ir/graph.ts';
import { ProofError } from './errors.ts';
import { input, type TensorTerm } from './tensor.ts';

/** A node as the denotations see it, matched or replacement alike. */
export interface NodeSource {
  readonly role: string;
  readonly op: OpKind;
  /** Names the node's geometry, padding, statistics and alpha: equal labels, equal attributes. */
  readonly label: string;
  vector(name: string): VExpr | undefined;
  weight(name: string): WExpr | undefined;
  taps(name: string): TapExpr | undefined;
  /** A numeric attribute (eps, alpha). */
  number(name: string): VExpr;
  /** Normalize's mean/std: attributes of the op, vectors to the algebra. */
  attrVector(name: string): VExpr;
  /** For layer/instance/group norm: whether gamma and beta apply. */
  readonly affine: boolean;
  /** For batchNorm/batchRenorm: whether it normalises with its running statistics. */
  readonly inferenceStatistics: boolean;
  /**
   * A replacement's parameters that its denotation never read: parameters its op (with the
   * rule's attrs) does not take, which the engine refuses to build. Empty for matched nodes.
   */
  unreadParams(): readonly string[];
  /** For layerNorm: whether gamma and beta are per channel (else element-wise over C, H, W). */
  readonly perChannelAffine: boolean;
}

export function patternSource(role: string, op: OpKind, inferenceStatistics: boolean, perChannelAffine: boolean): NodeSource {
  return {
    role,
    op,
    label: role,
    vector: (name) => param(`${role}.${name}`),
    weight: (name) => weight(`${role}.${name}`),
    taps: (name) => tapParam(`${role}.${name}`),
    number: (name) => attr(`${role}.${name}`),
    attrVector: (name) => param(`${role}.${name}`),
    affine: true,
    inferenceStatistics,
    unreadParams: () => [],
    perChannelAffine,
  };
}

/** Attribute overrides that change neither geometry, padding, statistics nor alpha. */
const LABEL_NEUTRAL = new Set(['bias', 'affine']);

export function replacementSource(
  role: string,
  op: OpKind,
  attrsFrom: string | undefined,
  attrs: Readonly<Record<string, unknown>>,
  params: Readonly<Record<string, ParamExpr>>,
  inferenceStatistics: boolean,
  perChannelAffine: boolean,
): NodeSource {
  const relevant = Object.keys(attrs).filter((k) => !LABEL_NEUTRAL.has(k)).sort();
  const from = attrsFrom ?? `new:${role}`;
  const label = relevant.length === 0 ? from : `${from}{${relevant.map((k) => `${k}=${JSON.stringify(attrs[k])}`).join(',')}}`;
  const read = new Set<string>();
  const sorted = <T extends ParamExpr>(name: string, is: (e: ParamExpr) => e is T, sort: string): T | undefined => {
    read.add(name);
    const e = params[name];
    if (e === undefined) return undefined;
    if (!is(e)) throw new ProofError(`replacement node '${role}' (${op}): param '${name}' must be a ${sort} expression, got ${e.kind}`);
    return e;
  };
  const overridden = (name: string): VExpr | undefined => {
    const v = attrs[name];
    if (v === undefined) return undefined;
    return typeof v === 'number' && Number.isSafeInteger(v) ? num(v) : attr(`${from}.${name}=${JSON.stringify(v)}`);
  };
  return {
    role,
    op,
    label,
    // An explicit bias: false means the node has no bias; a bias param then stays unread.
    vector: (name) => (name === 'bias' && attrs.bias === false ? undefined : sorted(name, isVectorExpr, 'vector')),
    weight: (name) => sorted(name, isWeightExpr, 'weight'),
    taps: (name) => sorted(name, isTapExpr, 'tap'),
    number: (name) => overridden(name) ?? attr(`${from}.${name}`),
    attrVector: (name) => sorted(name, isVectorExpr, 'vector') ?? overridden(name) ?? param(`${from}.${name}`),
    affine: attrs.affine !== false,
    inferenceStatistics,
    unreadParams: () => Object.keys(params).filter((name) => !read.has(name)),
    perChannelAffine,
  };
}

function required<T>(value: T | undefined, node: NodeSource, name: string): T {
  if (value === undefined) throw new ProofError(`${node.op} '${node.role}' needs param '${name}'`);
  return value;
}

const plus = (...parts: readonly (TensorTerm | undefined)[]): TensorTerm => {
  const present = parts.filter((p): p is TensorTerm => p !== undefined);
  return present.length === 1 ? present[0] : { kind: 'add', args: present };
};

const constant = (v: VExpr | undefined): TensorTerm | undefined => (v === undefined ? undefined : { kind: 'const', value: v });

function weightNormed(node: NodeSource): WExpr {
  const v = required(node.weight('v'), node, 'v');
  return scaleOut(v, div(required(node.vector('g'), node, 'g'), rowNorm(v)));
}

/** The node's output as a term in its input `x`. */
export function denote(node: NodeSource, x: TensorTerm = input): TensorTerm {
  const vec = (name: string) => required(node.vector(name), node, name);
  const label = node.label;
  switch (node.op) {
    case 'conv2d':
    case 'weightNormConv2d': {
      const w = node.op === 'conv2d' ? required(node.weight('weight'), node, 'weight') : weightNormed(node);
      const taps = node.op === 'conv2d' ? node.taps('tapBias') : undefined;
      return plus(
        { kind: 'conv', weight: w, geometry: label, arg: { kind: 'pad', label, arg: x } },
        constant(node.vector('bias')),
        taps === undefined ? undefined : { kind: 'tapBias', taps, geometry: label, pad: label },
      );
    }
    case 'convTranspose2d':
      return plus({ kind: 'convTranspose', weight: required(node.weight('weight'), node, 'weight'), geometry: label, arg: x }, constant(node.vector('bias')));
    case 'linear':
    case 'weightNormLinear': {
      const w = node.op === 'linear' ? required(node.weight('weight'), node, 'weight') : weightNormed(node);
      return plus({ kind: 'linear', weight: w, arg: x }, constant(node.vector('bias')));
    }
    case 'batchNorm':
    case 'batchRenorm': {
      if (!node.inferenceStatistics) {
        return plus({ kind: 'scale', by: vec('gamma'), arg: { kind: 'statistics', op: `${node.op}-batch-statistics`, label, arg: x } }, constant(vec('beta')));
      }
      const invStd = recip(sqrt(add(vec('runningVar'), node.number('eps'))));
      const centred = plus(x, constant(neg(vec('runningMean'))));
      return plus({ kind: 'scale', by: mul(vec('gamma'), invStd), arg: centred }, constant(vec('beta')));
    }
    case 'scaleShift':
      return plus({ kind: 'scale', by: vec('scale'), arg: x }, constant(vec('shift')));
    case 'normalize':
      return { kind: 'scale', by: recip(node.attrVector('std')), arg: plus(x, constant(neg(node.attrVector('mean')))) };
    case 'layerNorm':
    case 'instanceNorm':
    case 'groupNorm': {
      const standardized: TensorTerm = { kind: 'statistics', op: node.op, label, arg: x };
      if (node.op === 'layerNorm' && node.affine && !node.perChannelAffine) {
        return { kind: 'statistics', op: 'layerNorm-elementwise-affine', label, arg: standardized };
      }
      return node.affine ? plus({ kind: 'scale', by: vec('gamma'), arg: standardized }, constant(vec('beta'))) : standardized;
    }
    case 'relu':
    case 'relu6':
    case 'leakyRelu':
    case 'sigmoid':
    case 'tanh':
      return { kind: 'activation', fn: node.op, label, arg: x };
    case 'flatten':
      return { kind: 'flatten', times: label, arg: x };
    case 'identity':
      return x;
    case 'activation':
    case 'elu':
    case 'generalRelu':
    case 'prelu':
    case 'softmax':
    case 'logSoftmax':
    case 'dropout':
    case 'opaque':
    case 'opaqueOutput':
      // No law moves a scale or shift through these: to the checker they are opaque functions.
    case 'ibn':
    case 'switchableNorm':
    case 'maxPool2d':
    case 'avgPool2d':
    case 'globalAvgPool':
    case 'globalMaxPool':
    case 'upsample2d':
    case 'resize2d':
    case 'transpose':
    case 'reshape':
    case 'repeatVector':
      return { kind: 'statistics', op: node.op, label, arg: x };
    case 'crop2d':
      return { kind: 'crop', label, arg: x };
    case 'input':
    case 'add':
    case 'concat':
    case 'merge':
    case 'concatAxis':
      throw new ProofError(`${node.op} '${node.role}' is not a single-input op; a rule's chain cannot contain it`);
  }
}
