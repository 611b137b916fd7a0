/**
 * How far a folded graph may be from the original, both run in the float64 reference: a bound
 * DERIVED from the float32 rounding of the folded parameters on the actual values, no tolerance.
 *
 * Let u = 2^-24 (float32 unit roundoff) and eta = 2^-150 (half the smallest subnormal step). The
 * engine computes each folded parameter p* in float64 and rounds it once: p' = fl32(p*), so
 *     |p' - p*| <= u |p*| + eta <= rho |p'| + eta,   rho = u / (1 - u).
 * With the exact p* the folded graph equals the original in real arithmetic (that is what the
 * rule's proof says). So with x' a node input as the folded graph computes it and e >= |x' - x|
 * its error against the exact value, a sum of products y = sum_i w_i x_i + b (conv, transposed
 * conv, linear; tap-bias terms are sums of parameters and count like a bias) satisfies
 *     |y' - y| <= sum |w*_i| e_i + sum |w'_i - w*_i| |x'_i| + |b' - b*|
 *              <= (1/(1-u)) sum |w'_i| e_i  +  sum (rho |w'_i| + eta) |x'_i| + rho |b'| + eta.
 * The first term carries the error of earlier folds through the layer, the second is the layer's
 * own rounding: exactly c * eps32 * (sum over the accumulation of |w'_i| |x'_i| + |b'|), with
 * c = 1 (eps32 = 2^-23 = 2u, so c = 1/2 in those units). Both are evaluated here, node by node, on
 * the values the float64 reference computed, with the reference's own ops (applied to |w'| and to
 * the error tensors), so the bound follows the graph's real data flow through residual adds,
 * concats, pools and norms:
 *   per-channel affines  (1/(1-u)) |s'| e + rho (|s'| |x'| + |t'|) + eta (|x'| + 1)
 *   ReLU, leakyReLU(a)   e * max(1, |a|) (Lipschitz); relu6, sigmoid, tanh, identity: e
 *   max pool             maxPool(e) (|max a - max b| <= max |a - b|); avg pools: their average of e
 *   add, concat, flatten sum / concatenation / reshape of e
 *   normalisations with statistics over a group G (GroupNorm, LayerNorm, InstanceNorm, BatchNorm
 *   on batch statistics): with E = max_G e, mean_G e = e_bar, sigma' = sqrt(var'_G + eps) from the
 *   computed values and c'_i = x'_i - mu'_G, the standard deviation is 1-Lipschitz in the max norm,
 *   so |sigma - sigma'| <= E, and
 *     |n_i' - n_i| <= (e_i + e_bar) / (sigma' - E) + |c'_i| E / (sigma' (sigma' - E))   (sigma' > E)
 *   times |gamma|, plus the rounding of gamma and beta as for an affine. Batch Renorm in train mode
 *   adds |r - r'| <= E / sigma_run and |d - d'| <= e_bar / sigma_run (clip is 1-Lipschitz).
 * Where sigma' <= E nothing is claimed (the bound is Infinity): the case is too ill-conditioned for
 * float32 parameters to be compared at all, and callers skip it (fc.pre).
 *
 * The float64 evaluation of either graph also rounds: each node adds gamma64_K times the same
 * magnitudes (K terms accumulated, u64 = 2^-53), and the original graph, evaluated with rho = 0,
 * contributes its own float64 error. The bound at an output is E_folded + E_original. The one
 * thing not modelled is the float64 rounding inside the engine's evaluation of p* itself; it is
 * 2^-29 times smaller than the float32 rounding unless the expression cancels catastrophically,
 * which float32-exact random inputs do not produce.
 */
import type { AttrsByOp, Graph, Node, ParamTensor } from '../../src/ir/graph.ts';
import { conv2d } from '../../src/reference/ops/conv2d.ts';
import { convTranspose2d } from '../../src/reference/ops/convTranspose2d.ts';
import { crop2d } from '../../src/reference/ops/crop2d.ts';
import { linear } from '../../src/reference/ops/linear.ts';
import { avgPool2d, globalAvgPool, maxPool2d } from '../../src/reference/ops/pool.ts';
import { weightNormWeight } from '../../src/reference/ops/weightNorm.ts';
import { runReference, toFloat64 } from '../../src/reference/run.ts';
import type { Float64Tensor } from '../../src/reference/tensor.ts';

export const U32 = 2 ** -24;
const ETA = 2 ** -150;
const U64 = 2 ** -53;
const gamma64 = (k: number) => (k * U64) / (1 - k * U64);
/** The engine's own float64 evaluation of p* before rounding: products and quotients, relative. */
const ENGINE_FLOAT64 = 2 * gamma64(32);

export type Mode = 'eval' | 'train';

type Vec = Float64Array;

const absT = (t: Float64Tensor): Float64Tensor => ({ shape: t.shape, data: t.data.map(Math.abs) });
const scaledAbs = (p: ParamTensor | undefined, factor: number, plus: number): Float64Tensor | undefined =>
  p === undefined ? undefined : { shape: [...p.shape], data: Float64Array.from(p.data, (v) => factor * Math.abs(v) + plus) };
const withData = (t: Float64Tensor, data: Vec): Float64Tensor => ({ shape: t.shape, data });

function addInto(target: Vec, source: Vec, factor = 1): Vec {
  for (let i = 0; i < target.length; i++) target[i] += factor * source[i];
  return target;
}

/** [N, C, S] indexing of an [N, C, ...] tensor. */
function view(shape: readonly number[]) {
  const s = shape.slice(2).reduce((p, d) => p * d, 1);
  return { n: shape[0], c: shape[1], s };
}

type GroupOf = (n: number, c: number, s: number) => number;

/** Bound for a normalisation with statistics over groups (see the file comment). */
function standardizeError(
  x: Float64Tensor,
  e: Vec,
  groupOf: GroupOf,
  groups: number,
  eps: number,
): { readonly n: Vec; readonly normalized: Vec; readonly ebar: Vec; readonly emax: Vec } {
  const v = view(x.shape);
  const sum = new Float64Array(groups);
  const count = new Float64Array(groups);
  const esum = new Float64Array(groups);
  const emax = new Float64Array(groups);
  const maxAbs = new Float64Array(groups);
  const index = (n: number, c: number, s: number) => (n * v.c + c) * v.s + s;
  const each = (visit: (i: number, k: number) => void) => {
    for (let n = 0; n < v.n; n++) for (let c = 0; c < v.c; c++) for (let s = 0; s < v.s; s++) visit(index(n, c, s), groupOf(n, c, s));
  };
  each((i, k) => {
    sum[k] += x.data[i];
    count[k] += 1;
    esum[k] += e[i];
    emax[k] = Math.max(emax[k], e[i]);
    maxAbs[k] = Math.max(maxAbs[k], Math.abs(x.data[i]));
  });
  const mean = sum.map((s, k) => s / count[k]);
  const squares = new Float64Array(groups);
  each((i, k) => (squares[k] += (x.data[i] - mean[k]) ** 2));
  const sigma = squares.map((q, k) => Math.sqrt(q / count[k] + eps));
  const out = new Float64Array(x.data.length);
  const normalized = new Float64Array(x.data.length);
  const ebarOf = new Float64Array(x.data.length);
  const emaxOf = new Float64Array(x.data.length);
  each((i, k) => {
    const centred = Math.abs(x.data[i] - mean[k]);
    const big = emax[k];
    const ebar = esum[k] / count[k];
    const s = sigma[k];
    // float64 evaluation of mean, variance, sqrt and the quotient (both graphs): generous first order
    const rounding64 = gamma64(4 * count[k] + 20) * (maxAbs[k] / s) * (1 + centred / s);
    out[i] = s > big ? (e[i] + ebar) / (s - big) + (centred * big) / (s * (s - big)) + rounding64 : Infinity;
    normalized[i] = centred / s;
    ebarOf[i] = ebar;
    emaxOf[i] = big;
  });
  return { n: out, normalized, ebar: ebarOf, emax: emaxOf };
}

/** Affine gamma/beta applied to a normalised value's error bound. */
function affineAfterNorm(x: Float64Tensor, dn: Vec, normalized: Vec, params: Node['params'], rho: number): Vec {
  const p = params as Readonly<Record<string, ParamTensor | undefined>>;
  const gamma = p.gamma;
  const beta = p.beta;
  if (gamma === undefined || beta === undefined) return dn;
  const v = view(x.shape);
  // gamma/beta per channel, or element-wise over a whole sample (LayerNorm over C, H, W).
  const elementwise = gamma.data.length === v.c * v.s && v.s > 1;
  return dn.map((d, i) => {
    const a = elementwise ? i % (v.c * v.s) : Math.floor(i / v.s) % v.c;
    const g = Math.abs(gamma.data[a]);
    const y = g * normalized[i];
    return (g * d) / (1 - rho) + (rho + gamma64(3)) * (y + Math.abs(beta.data[a]) + d * g) + ETA * (normalized[i] + 1);
  });
}

/**
 * The error bound of every node of `graph` against exact arithmetic with exact parameters, given
 * that each parameter may be off by rho |p| + eta (rho = 0: the parameters are exact).
 */
export function propagateError(graph: Graph, inputs: Record<string, Float64Tensor>, mode: Mode, rhoOf: (node: Node) => number): Map<string, Vec> {
  const values = runReference(graph, inputs, { mode }).values;
  const errors = new Map<string, Vec>();
  const valueOf = (name: string): Float64Tensor => {
    const v = values.get(name);
    if (v === undefined) throw new Error(`no value for node '${name}'`);
    return v;
  };
  const errorOf = (name: string): Vec => {
    const e = errors.get(name);
    if (e === undefined) throw new Error(`no error bound for node '${name}'`);
    return e;
  };
  for (const node of graph.nodes) {
    const x = node.inputs.length > 0 ? valueOf(node.inputs[0]) : undefined;
    const e = node.inputs.length > 0 ? errorOf(node.inputs[0]) : undefined;
    errors.set(node.name, nodeError(node, x, e, valueOf(node.name), rhoOf(node), mode, node.inputs.map((n) => [valueOf(n), errorOf(n)] as const)));
  }
  return errors;
}

function nodeError(
  node: Node,
  x: Float64Tensor | undefined,
  e: Vec | undefined,
  y: Float64Tensor,
  rho: number,
  mode: Mode,
  all: readonly (readonly [Float64Tensor, Vec])[],
): Vec {
  if (node.op === 'input') return new Float64Array(y.data.length);
  if (x === undefined || e === undefined) throw new Error(`node '${node.name}' has no input`);
  const eT = withData(x, e);
  const p = node.params as Readonly<Record<string, ParamTensor | undefined>>;
  switch (node.op) {
    case 'conv2d':
    case 'weightNormConv2d':
    case 'convTranspose2d':
    case 'linear':
    case 'weightNormLinear':
      return sumOfProductsError(node, x, eT, rho);
    case 'batchNorm':
    case 'batchRenorm': {
      const frozen = node.op === 'batchNorm' && node.attrs.frozen;
      if (mode === 'train' && !frozen) return batchStatisticsError(node, x, e, rho);
      const v = view(x.shape);
      const { gamma, beta, runningMean, runningVar } = p as Record<string, ParamTensor>;
      return e.map((ei, i) => {
        const c = Math.floor(i / v.s) % v.c;
        const s = Math.abs(gamma.data[c]) / Math.sqrt(runningVar.data[c] + node.attrs.eps);
        const local = s * (Math.abs(x.data[i]) + Math.abs(runningMean.data[c])) + Math.abs(beta.data[c]);
        return (s * ei) / (1 - rho) + (2 * rho + gamma64(6)) * local + ETA * (Math.abs(x.data[i]) + 1);
      });
    }
    case 'scaleShift': {
      const v = view(x.shape);
      const { scale, shift } = p as Record<string, ParamTensor>;
      return e.map((ei, i) => {
        const c = Math.floor(i / v.s) % v.c;
        const s = Math.abs(scale.data[c]);
        return (s * ei) / (1 - rho) + (rho + gamma64(2)) * (s * Math.abs(x.data[i]) + Math.abs(shift.data[c])) + ETA * (Math.abs(x.data[i]) + 1);
      });
    }
    case 'normalize': {
      const v = view(x.shape);
      const { mean, std } = node.attrs;
      return e.map((ei, i) => {
        const c = Math.floor(i / v.s) % v.c;
        return ei / std[c] + (gamma64(2) * (Math.abs(x.data[i]) + Math.abs(mean[c]))) / std[c];
      });
    }
    case 'groupNorm':
    case 'layerNorm':
    case 'instanceNorm': {
      const v = view(x.shape);
      const [groups, groupOf]: [number, GroupOf] =
        node.op === 'instanceNorm'
          ? [v.n * v.c, (n, c) => n * v.c + c]
          : node.op === 'groupNorm'
            ? [v.n * node.attrs.groups, (n, c) => n * node.attrs.groups + Math.floor(c / (v.c / node.attrs.groups))]
            : node.attrs.over === 'chw'
              ? [v.n, (n) => n]
              : [v.n * v.s, (n, _c, s) => n * v.s + s];
      const stats = standardizeError(x, e, groupOf, groups, node.attrs.eps);
      return affineAfterNorm(x, stats.n, stats.normalized, node.params, rho);
    }
    case 'relu':
    case 'relu6':
    case 'sigmoid':
    case 'tanh':
    case 'identity':
      return Float64Array.from(e);
    case 'leakyRelu': {
      const a = Math.abs(node.attrs.alpha);
      return e.map((ei, i) => ei * Math.max(1, a) + gamma64(1) * Math.abs(y.data[i]));
    }
    case 'maxPool2d':
      return maxPool2d(eT, node.attrs).data;
    case 'avgPool2d': {
      const k = node.attrs.kernel[0] * node.attrs.kernel[1] + 2;
      return addInto(avgPool2d(eT, node.attrs).data, avgPool2d(absT(x), node.attrs).data, gamma64(k));
    }
    case 'globalAvgPool': {
      const k = x.shape.slice(2).reduce((a, b) => a * b, 1) + 1;
      return addInto(globalAvgPool(eT, node.attrs).data, globalAvgPool(absT(x), node.attrs).data, gamma64(k));
    }
    case 'add': {
      const out = new Float64Array(y.data.length);
      for (const [value, err] of all) {
        addInto(out, err);
        addInto(out, value.data.map(Math.abs), gamma64(all.length));
      }
      return out;
    }
    case 'concat': {
      // channel blocks of each input, interleaved per sample
      const v = view(y.shape);
      const out = new Float64Array(y.data.length);
      let offset = 0;
      for (const [value, err] of all) {
        const c = value.shape[1];
        for (let n = 0; n < v.n; n++) out.set(err.subarray(n * c * v.s, (n + 1) * c * v.s), (n * v.c + offset) * v.s);
        offset += c;
      }
      return out;
    }
    case 'flatten':
      return Float64Array.from(e);
    case 'crop2d':
      // a crop only selects elements: each keeps its error
      return crop2d(eT, node.attrs).data;
    default:
      throw new Error(`no error bound for op '${node.op}' (node '${node.name}')`);
  }
}

/** conv2d, transposed conv, linear and their weight-normalised forms. */
function sumOfProductsError(node: Node, x: Float64Tensor, e: Float64Tensor, rho: number): Vec {
  const p = node.params as Readonly<Record<string, ParamTensor | undefined>>;
  let weight = p.weight;
  let extraTerms = 0;
  if (node.op === 'weightNormConv2d' || node.op === 'weightNormLinear') {
    const v = p.v as ParamTensor;
    const w = weightNormWeight(toFloat64(v), toFloat64(p.g as ParamTensor));
    weight = { shape: w.shape, data: Float32Array.from(w.data) };
    // computed in float64 from v and g: the norm sums the row, then a division and a product
    extraTerms = w.data.length / w.shape[0] + 4;
  }
  if (weight === undefined) throw new Error(`node '${node.name}' has no weight`);
  // terms accumulated per output: at most every weight, every tap of the tap bias, the bias
  const kernelTaps = weight.shape.slice(2).reduce((a, b) => a * b, 1);
  const k = weight.data.length + kernelTaps + 2 + extraTerms;
  const c = rho + gamma64(k) * (1 + rho);
  const exactWeight = scaledAbs(weight, 1 / (1 - rho), 0);
  const roundedWeight = scaledAbs(weight, c, rho === 0 ? 0 : ETA);
  const bias = scaledAbs(p.bias, c, rho === 0 ? 0 : ETA);
  const tapBias = scaledAbs(p.tapBias, c, rho === 0 ? 0 : ETA);
  const apply = (input: Float64Tensor, w: Float64Tensor | undefined, withBias: boolean): Float64Tensor => {
    const params = { weight: w, ...(withBias ? { bias, tapBias } : {}) };
    switch (node.op) {
      case 'conv2d':
      case 'weightNormConv2d':
        return conv2d(input, params, { ...(node.attrs as AttrsByOp['conv2d']), bias: withBias && bias !== undefined });
      case 'convTranspose2d':
        return convTranspose2d(input, params, { ...node.attrs, bias: withBias && bias !== undefined });
      default:
        return linear(input, params, { ...(node.attrs as AttrsByOp['linear']), bias: withBias && bias !== undefined });
    }
  };
  const carried = apply(e, exactWeight, false).data;
  return addInto(carried, apply(absT(x), roundedWeight, true).data);
}

/** BatchNorm / Batch Renorm normalising with batch statistics (train mode, not frozen). */
function batchStatisticsError(node: Extract<Node, { op: 'batchNorm' | 'batchRenorm' }>, x: Float64Tensor, e: Vec, rho: number): Vec {
  const v = view(x.shape);
  const stats = standardizeError(x, e, (_n, c) => c, v.c, node.attrs.eps);
  if (node.op === 'batchNorm') return affineAfterNorm(x, stats.n, stats.normalized, node.params, rho);
  const { runningVar } = node.params as Record<string, ParamTensor>;
  const { rMax } = node.attrs;
  const dn = stats.n.map((d, i) => {
    const c = Math.floor(i / v.s) % v.c;
    const sigmaRun = Math.sqrt(runningVar.data[c] + node.attrs.eps);
    // r n + d: r <= rMax, |dr| <= E / sigma_run, |dd| <= e_bar / sigma_run
    return rMax * d + (stats.emax[i] / sigmaRun) * stats.normalized[i] + stats.ebar[i] / sigmaRun + gamma64(4) * (rMax * stats.normalized[i] + 1);
  });
  // |r n + d| <= rMax |n| + dMax stands in for |n| in the affine's rounding term
  const magnitude = stats.normalized.map((n) => rMax * n + node.attrs.dMax);
  return affineAfterNorm(x, dn, magnitude, node.params, rho);
}

export interface BoundCheck {
  readonly ok: boolean;
  /** Largest |folded - original| / bound over every output element (<= 1 passes). */
  readonly worstRatio: number;
  readonly detail: string;
  /** Some element has no finite bound (ill-conditioned norm): nothing was checked. */
  readonly unbounded: boolean;
}

/**
 * How many times each node's parameters went through a float32 rounding, from the report: a
 * node produced by a fold is rounded once more than the most-rounded node it was made from. The
 * ideal is 1 (fold in float64, round once); the engine rounds once per applied fold, so a conv
 * that takes a BN on each side is rounded twice, and the bound then uses
 * rho_k = k u / (1 - k u) >= (1 + u)^k - 1 on the final values. (A bias whose earlier rounded value
 * cancels in a later fold is the one case where final values understate an earlier rounding.)
 */
export function roundingsFromReport(folds: readonly { readonly matched: readonly { readonly name: string }[]; readonly produced: readonly { readonly name: string }[] }[]): Map<string, number> {
  const roundings = new Map<string, number>();
  for (const fold of folds) {
    const base = Math.max(0, ...fold.matched.map((m) => roundings.get(m.name) ?? 0));
    for (const m of fold.matched) roundings.delete(m.name);
    for (const p of fold.produced) roundings.set(p.name, base + 1);
  }
  return roundings;
}

/**
 * Runs both graphs in the float64 reference on `inputs` and checks every output (by position)
 * against E_folded + E_original. `roundings`: per folded node, how many float32 roundings its
 * parameters went through (absent: 1 for every node, the conservative single-rounding bound).
 */
export function checkFoldBound(
  original: Graph,
  folded: Graph,
  inputs: Record<string, Float64Tensor>,
  mode: Mode,
  roundings?: ReadonlyMap<string, number>,
): BoundCheck {
  const expected = runReference(original, inputs, { mode }).outputs;
  const got = runReference(folded, inputs, { mode }).outputs;
  const rhoOf = (node: Node) => {
    const k = Math.max(1, roundings?.get(node.name) ?? 1);
    return (k * U32) / (1 - k * U32) + ENGINE_FLOAT64;
  };
  const foldedError = propagateError(folded, inputs, mode, rhoOf);
  const originalError = propagateError(original, inputs, mode, () => 0);
  let worstRatio = 0;
  let detail = 'all outputs within bound';
  let unbounded = false;
  original.outputs.forEach((name, k) => {
    const foldedName = folded.outputs[k];
    const a = got[foldedName];
    const b = expected[name];
    if (a.shape.join() !== b.shape.join()) {
      worstRatio = Infinity;
      detail = `output ${k} ('${name}'): shape [${a.shape}] after folding, [${b.shape}] before`;
      return;
    }
    const ef = foldedError.get(foldedName) as Vec;
    const eo = originalError.get(name) as Vec;
    for (let i = 0; i < b.data.length; i++) {
      const bound = ef[i] + eo[i];
      if (!Number.isFinite(bound)) {
        unbounded = true;
        continue;
      }
      const diff = Math.abs(a.data[i] - b.data[i]);
      const ratio = diff === 0 ? 0 : Number.isNaN(diff) ? Infinity : diff / bound;
      if (ratio > worstRatio) {
        worstRatio = ratio;
        detail = `output ${k} ('${name}') element ${i}: folded ${a.data[i]}, original ${b.data[i]}, |diff| ${diff}, bound ${bound}`;
      }
    }
  });
  return { ok: worstRatio <= 1, worstRatio, detail, unbounded };
}
