/**
 * Numeric evaluation of rule expressions in float64: what the engine runs to compute folded
 * parameters (rounded to float32 once, by the caller). Weight layouts follow the IR:
 *
 *   conv2d           W[o, i, kh, kw]  i indexes input channel g(o)*Cin/G + i, g(o) = floor(o / (Cout/G))
 *   convTranspose2d  W[c, j, kh, kw]  c is the input channel, output unit g(c)*Cout/G + j, g(c) = floor(c / (Cin/G))
 *   linear           W[o, i]
 *
 *   scaleOut(W, s)   multiplies every weight feeding output unit o by s[o]
 *   scaleIn(W, s)    multiplies every weight reading input channel c by s[c]
 *   matvec(W, v)[o]  = sum of W[o, i, taps] * v[channel of i]   (conv2d, linear)
 *   taps(W, v)[o, kh, kw] = sum over i of W[o, i, kh, kw] * v[channel of i]   (conv2d)
 *
 * The proof checker never reads this file: it takes each primitive to mean its law in
 * src/proof/axioms.ts. test/property/evaluate-meaning.test.ts checks every primitive against that
 * meaning with the float64 reference ops on every layout (groups, depthwise, transposed, linear),
 * and shows that known slips here (a transposed conv's scale axis, a group offset, an NHWC repeat,
 * a norm axis) fail it, although every rule would still prove.
 */
import type { AttrsByOp, OpKind } from '../ir/graph.ts';
import { affineOf, isAffineOp } from './affine.ts';
import { nameOf, roleOf, type TapExpr, type VExpr, type WExpr } from './expr.ts';

export class RuleEvaluationError extends Error {
  override readonly name = 'RuleEvaluationError';
}

export interface BoundTensor {
  readonly shape: readonly number[];
  /** Float32 parameters are read in place (exactly); every computed result is float64. */
  readonly data: Float64Array | Float32Array;
  /**
   * A weight's exact value kept as a parameter times float64 factors, each over an equal run of
   * entries (what a folded weight is, see RowScaled): entry k is data[k] * rowFactors[floor(k /
   * run)], run = data.length / rowFactors.length. Absent means 1.
   * Folding the same weight again composes the factors, so it is still rounded only once.
   */
  readonly rowFactors?: Float64Array;
}

/** A matched node as the evaluator sees it: its op, attrs, tensors and numeric attributes. */
export interface BoundRole {
  readonly op: OpKind;
  readonly attrs: AttrsByOp[OpKind];
  /** Params, plus vector attributes (normalize's mean/std); absent biases bound as zeros. */
  readonly tensors: Readonly<Record<string, BoundTensor>>;
  /** Numeric attributes: eps, alpha, ... */
  readonly scalars: Readonly<Record<string, number>>;
}

/** What evaluation computes: always float64. */
export interface Evaluated {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export interface EvalEnv {
  readonly roles: Readonly<Record<string, BoundRole>>;
  /** Named counts used by `repeat`, e.g. the H*W a flatten folds into each channel. */
  readonly counts: Readonly<Record<string, number>>;
}

export type WeightLayout = 'conv2d' | 'convTranspose2d' | 'linear';

export interface BoundWeight extends BoundTensor {
  readonly layout: WeightLayout;
  readonly groups: number;
}

type Value = number | Float64Array | Float32Array;

function role(env: EvalEnv, ref: string): BoundRole {
  const bound = env.roles[roleOf(ref)];
  if (bound === undefined) throw new RuleEvaluationError(`no matched node for role '${roleOf(ref)}' (in '${ref}')`);
  return bound;
}

function tensorOf(env: EvalEnv, ref: string): BoundTensor {
  const t = role(env, ref).tensors[nameOf(ref)];
  if (t === undefined) throw new RuleEvaluationError(`node bound to '${roleOf(ref)}' has no tensor '${nameOf(ref)}'`);
  return t;
}

/** A tensor's values as they are, its row factors applied. */
export function valuesOf(t: BoundTensor): Float64Array | Float32Array {
  const factors = t.rowFactors;
  if (factors === undefined) return t.data;
  const perRow = t.data.length / factors.length;
  const out = new Float64Array(t.data.length);
  for (let row = 0, k = 0; row < factors.length; row++) {
    const f = factors[row];
    for (let end = k + perRow; k < end; k++) out[k] = t.data[k] * f;
  }
  return out;
}

function layoutOf(op: OpKind): WeightLayout {
  switch (op) {
    case 'conv2d':
    case 'weightNormConv2d':
      return 'conv2d';
    case 'convTranspose2d':
      return 'convTranspose2d';
    case 'linear':
    case 'weightNormLinear':
      return 'linear';
    default:
      throw new RuleEvaluationError(`op '${op}' has no weight`);
  }
}

function elementwise(a: Value, b: Value, f: (x: number, y: number) => number, what: string): Value {
  if (typeof a === 'number' && typeof b === 'number') return f(a, b);
  const length = typeof a === 'number' ? (b as Float64Array).length : a.length;
  if (typeof a !== 'number' && typeof b !== 'number' && a.length !== b.length) {
    throw new RuleEvaluationError(`${what}: vectors of length ${a.length} and ${b.length}`);
  }
  const out = new Float64Array(length);
  for (let k = 0; k < length; k++) out[k] = f(typeof a === 'number' ? a : a[k], typeof b === 'number' ? b : b[k]);
  return out;
}

function map(a: Value, f: (x: number) => number): Value {
  if (typeof a === 'number') return f(a);
  const out = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = f(a[k]);
  return out;
}

function value(e: VExpr, env: EvalEnv): Value {
  switch (e.kind) {
    case 'param':
      return valuesOf(tensorOf(env, e.ref));
    case 'attr': {
      const v = role(env, e.ref).scalars[nameOf(e.ref)];
      if (v === undefined) throw new RuleEvaluationError(`node bound to '${roleOf(e.ref)}' has no numeric attribute '${nameOf(e.ref)}'`);
      return v;
    }
    case 'num':
      return e.n / e.d;
    case 'add':
      return e.args.map((a) => value(a, env)).reduce((x, y) => elementwise(x, y, (p, q) => p + q, 'add'), 0);
    case 'mul':
      return e.args.map((a) => value(a, env)).reduce((x, y) => elementwise(x, y, (p, q) => p * q, 'mul'), 1);
    case 'neg':
      return map(value(e.arg, env), (x) => -x);
    case 'recip':
      return map(value(e.arg, env), (x) => 1 / x);
    case 'sqrt':
      return map(value(e.arg, env), Math.sqrt);
    case 'affine': {
      const bound = env.roles[e.role];
      if (bound === undefined) throw new RuleEvaluationError(`no matched node for role '${e.role}'`);
      if (!isAffineOp(bound.op)) throw new RuleEvaluationError(`role '${e.role}' is a ${bound.op}, not an affine-per-channel op`);
      const parts = affineOf(bound.op, e.role);
      return value(e.part === 'scale' ? parts.scale : parts.shift, env);
    }
    case 'repeat': {
      const times = env.counts[e.times];
      if (times === undefined) throw new RuleEvaluationError(`no count '${e.times}' bound`);
      const v = value(e.arg, env);
      if (typeof v === 'number') return v;
      const out = new Float64Array(v.length * times);
      for (let c = 0; c < v.length; c++) out.fill(v[c], c * times, (c + 1) * times);
      return out;
    }
    case 'matvec':
      return matvecOf(weightRows(e.weight, env), value(e.arg, env));
    case 'rowNorm':
      return rowNormOf(weightRows(e.weight, env));
  }
}

/** Evaluates a vector expression to `length` entries (scalars broadcast). */
export function evaluateVector(e: VExpr, env: EvalEnv, length: number): Float64Array {
  const v = value(e, env);
  if (typeof v === 'number') return new Float64Array(length).fill(v);
  if (v.length !== length) throw new RuleEvaluationError(`expected a vector of length ${length}, got ${v.length}`);
  return v instanceof Float64Array ? v : new Float64Array(v);
}

interface Geometry {
  readonly outUnits: number;
  readonly inChannels: number;
  /** Product of the kernel dims (1 for linear). */
  readonly taps: number;
}

function geometry(w: BoundWeight): Geometry {
  const [a, b, ...kernel] = w.shape;
  const taps = kernel.reduce((p, k) => p * k, 1);
  if (w.layout === 'convTranspose2d') return { outUnits: b * w.groups, inChannels: a, taps };
  return { outUnits: a, inChannels: b * w.groups, taps };
}

/**
 * A weight expression's value, kept as its parameter times one factor per (p, q) row of taps:
 * scaleOut and scaleIn both multiply whole rows, so any composition of them is a per-row factor.
 * Factors constant over a run of rows are stored once per run: 1 (a scalar), a (one per p, as a
 * conv's scaleOut is) or a * b of them, so a 1x1 conv's BN fold allocates a factors, not a * b.
 * Folded weights are then written in one pass, straight to float32 when that is the final use.
 */
interface RowScaled {
  readonly weight: BoundWeight;
  /** One factor per run of rows (1, a or a * b of them); absent means 1. */
  readonly factors: Float64Array | undefined;
}

/** Visits every weight entry with its output unit, input channel, tap and row factor. */
function forEachEntry(
  w: RowScaled,
  visit: (index: number, out: number, input: number, tap: number, value: number) => void,
): void {
  const { weight, factors } = w;
  const [a, b] = weight.shape;
  const g = geometry(weight);
  const perGroupA = a / weight.groups;
  const rowsPerFactor = factors === undefined ? 1 : (a * b) / factors.length;
  for (let p = 0; p < a; p++) {
    const group = Math.floor(p / perGroupA);
    for (let q = 0; q < b; q++) {
      const out = weight.layout === 'convTranspose2d' ? group * b + q : p;
      const input = weight.layout === 'convTranspose2d' ? p : group * b + q;
      const row = p * b + q;
      const factor = factors === undefined ? 1 : factors[Math.floor(row / rowsPerFactor)];
      for (let t = 0; t < g.taps; t++) visit(row * g.taps + t, out, input, t, weight.data[row * g.taps + t] * factor);
    }
  }
}

function vectorFor(v: Value, length: number, what: string): (k: number) => number {
  if (typeof v === 'number') return () => v;
  if (v.length !== length) throw new RuleEvaluationError(`${what}: expected ${length} entries, got ${v.length}`);
  return (k) => v[k];
}

/**
 * Row factors of scaleOut(W, s) or scaleIn(W, s), by the index map of forEachEntry: row (p, q)
 * takes s[p] when the scaled axis is the weight's first (output units of a conv or linear, input
 * channels of a transposed conv), else s[group(p) * b + q]. Stored coarsely where they can be
 * (RowScaled): a scalar once, s[p] once per p; else written a row or a group at a time.
 */
function rowFactors(w: BoundWeight, by: Value, axis: 'out' | 'in'): Float64Array {
  const g = geometry(w);
  const length = axis === 'out' ? g.outUnits : g.inChannels;
  if (typeof by !== 'number' && by.length !== length) {
    throw new RuleEvaluationError(`${axis === 'out' ? 'scaleOut' : 'scaleIn'}: expected ${length} entries, got ${by.length}`);
  }
  if (typeof by === 'number') return new Float64Array([by]);
  const byFirstAxis = (axis === 'out') === (w.layout !== 'convTranspose2d');
  if (byFirstAxis) return Float64Array.from(by);
  const [a, b] = w.shape;
  const factors = new Float64Array(a * b);
  const perGroupA = a / w.groups;
  for (let p = 0; p < a; p++) {
    const from = Math.floor(p / perGroupA) * b;
    factors.set(by.subarray(from, from + b), p * b);
  }
  return factors;
}

/**
 * outer * inner, entry by entry at the finer of their two granularities (lengths 1, a or a * b,
 * each dividing the next); `outer` is fresh and reused when it is the finer.
 */
function composeFactors(outer: Float64Array, inner: Float64Array): Float64Array {
  const length = Math.max(outer.length, inner.length);
  const outerRun = length / outer.length;
  const innerRun = length / inner.length;
  const out = outer.length === length ? outer : new Float64Array(length);
  for (let r = 0; r < length; r++) out[r] = outer[Math.floor(r / outerRun)] * inner[Math.floor(r / innerRun)];
  return out;
}

function weightRows(e: WExpr, env: EvalEnv): RowScaled {
  switch (e.kind) {
    case 'weight': {
      const bound = role(env, e.ref);
      const t = tensorOf(env, e.ref);
      const groups = 'groups' in bound.attrs ? (bound.attrs.groups as number) : 1;
      return { weight: { shape: t.shape, data: t.data, layout: layoutOf(bound.op), groups }, factors: t.rowFactors };
    }
    case 'scaleOut':
    case 'scaleIn': {
      const inner = weightRows(e.weight, env);
      const factors = rowFactors(inner.weight, value(e.by, env), e.kind === 'scaleOut' ? 'out' : 'in');
      return { weight: inner.weight, factors: inner.factors === undefined ? factors : composeFactors(factors, inner.factors) };
    }
  }
}

// Separate loops per array type, so that each stays monomorphic: these run over every weight of a
// model, each factor over its run of entries (RowScaled).
function applyRows32(src: Float32Array, factors: Float64Array, run: number, out: Float64Array): void {
  for (let row = 0, k = 0; row < factors.length; row++) {
    const f = factors[row];
    for (let end = k + run; k < end; k++) out[k] = src[k] * f;
  }
}

function applyRows64(src: Float64Array, factors: Float64Array, run: number, out: Float64Array): void {
  for (let row = 0, k = 0; row < factors.length; row++) {
    const f = factors[row];
    for (let end = k + run; k < end; k++) out[k] = src[k] * f;
  }
}

/** float32 values from 2^128 - 2^103 up round to Infinity. */
const ROUNDS_TO_INFINITY = 2 ** 128 - 2 ** 103;

/**
 * The float64 products rounded to float32 as they are stored; returns the index of the first one
 * that is not finite in float32, or -1. Runs of one entry (factors per row of a 1x1 conv or
 * linear) get their own loop.
 */
function roundRows32(src: Float32Array, factors: Float64Array, run: number, out: Float32Array): number {
  let nonFinite = -1;
  if (run === 1) {
    for (let k = 0; k < factors.length; k++) {
      const v = src[k] * factors[k];
      out[k] = v;
      if (!(Math.abs(v) < ROUNDS_TO_INFINITY) && nonFinite < 0) nonFinite = k;
    }
    return nonFinite;
  }
  for (let row = 0, k = 0; row < factors.length; row++) {
    const f = factors[row];
    for (let end = k + run; k < end; k++) {
      const v = src[k] * f;
      out[k] = v;
      if (!(Math.abs(v) < ROUNDS_TO_INFINITY) && nonFinite < 0) nonFinite = k;
    }
  }
  return nonFinite;
}

function roundRows64(src: Float64Array, factors: Float64Array, run: number, out: Float32Array): number {
  let nonFinite = -1;
  for (let row = 0, k = 0; row < factors.length; row++) {
    const f = factors[row];
    for (let end = k + run; k < end; k++) {
      const v = src[k] * f;
      out[k] = v;
      if (!(Math.abs(v) < ROUNDS_TO_INFINITY) && nonFinite < 0) nonFinite = k;
    }
  }
  return nonFinite;
}

function materialize(w: RowScaled): Float64Array {
  const { weight, factors } = w;
  const out = new Float64Array(weight.data.length);
  if (factors === undefined) out.set(weight.data);
  else if (weight.data instanceof Float32Array) applyRows32(weight.data, factors, weight.data.length / factors.length, out);
  else applyRows64(weight.data, factors, weight.data.length / factors.length, out);
  return out;
}

/** The weight's float64 value rounded to float32 as each entry is stored, and its first non-finite entry (or -1). */
function materializeFloat32(w: RowScaled): { readonly data: Float32Array; readonly nonFinite: number } {
  const { weight, factors } = w;
  const data = new Float32Array(weight.data.length);
  if (factors === undefined) {
    data.set(weight.data);
    return { data, nonFinite: data.findIndex((v) => v - v !== 0) };
  }
  const run = weight.data.length / factors.length;
  const nonFinite = weight.data instanceof Float32Array ? roundRows32(weight.data, factors, run, data) : roundRows64(weight.data, factors, run, data);
  return { data, nonFinite };
}

function matvecOf(w: RowScaled, v: Value): Float64Array {
  if (w.weight.layout === 'convTranspose2d') throw new RuleEvaluationError('matvec of a transposed conv is not a per-channel constant (its borders differ)');
  const g = geometry(w.weight);
  const at = vectorFor(v, g.inChannels, 'matvec');
  const out = new Float64Array(g.outUnits);
  forEachEntry(w, (_index, o, input, _tap, value) => {
    out[o] += value * at(input);
  });
  return out;
}

function rowNormOf(w: RowScaled): Float64Array {
  const out = new Float64Array(geometry(w.weight).outUnits);
  forEachEntry(w, (_index, o, _input, _tap, value) => {
    out[o] += value * value;
  });
  return out.map(Math.sqrt);
}

/** A weight expression's value in float64. */
export function evaluateWeight(e: WExpr, env: EvalEnv): BoundWeight & Evaluated {
  const rows = weightRows(e, env);
  return { ...rows.weight, data: materialize(rows) };
}

/** What evaluateWeightFloat32 computes: the float32 weight and the exact value it rounds. */
export interface Float32Weight {
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** The index of the first entry that is not finite, or -1. */
  readonly nonFinite: number;
  /** The exact (float64) value: the base parameter with its composed row factors. */
  readonly exact: BoundTensor;
}

/**
 * A weight expression's value computed in float64 and rounded once to float32, in one pass (each
 * entry is its parameter times a float64 row factor, rounded as it is stored).
 */
export function evaluateWeightFloat32(e: WExpr, env: EvalEnv): Float32Weight {
  const rows = weightRows(e, env);
  const { data, nonFinite } = materializeFloat32(rows);
  const { shape } = rows.weight;
  const exact: BoundTensor = rows.factors === undefined ? { shape, data: rows.weight.data } : { shape, data: rows.weight.data, rowFactors: rows.factors };
  return { shape, data, nonFinite, exact };
}

/** Per-tap constants [Cout, kH, kW]. */
export function evaluateTaps(e: TapExpr, env: EvalEnv): Evaluated {
  switch (e.kind) {
    case 'tapParam': {
      const t = tensorOf(env, e.ref);
      const data = valuesOf(t);
      return { shape: t.shape, data: data instanceof Float64Array ? data : new Float64Array(data) };
    }
    case 'taps': {
      const rows = weightRows(e.weight, env);
      const w = rows.weight;
      if (w.layout !== 'conv2d') throw new RuleEvaluationError(`taps are defined for conv2d weights, not ${w.layout}`);
      const g = geometry(w);
      const at = vectorFor(value(e.arg, env), g.inChannels, 'taps');
      const data = new Float64Array(g.outUnits * g.taps);
      forEachEntry(rows, (_index, o, input, tap, value) => {
        data[o * g.taps + tap] += value * at(input);
      });
      return { shape: [g.outUnits, w.shape[2], w.shape[3]], data };
    }
    case 'tapScaleOut': {
      const t = evaluateTaps(e.taps, env);
      const [outUnits] = t.shape;
      const perUnit = t.data.length / outUnits;
      const s = vectorFor(value(e.by, env), outUnits, 'tapScaleOut');
      const data = new Float64Array(t.data.length);
      for (let o = 0, k = 0; o < outUnits; o++) {
        const so = s(o);
        for (let end = k + perUnit; k < end; k++) data[k] = t.data[k] * so;
      }
      return { shape: t.shape, data };
    }
    case 'tapAdd': {
      const parts = e.args.map((a) => evaluateTaps(a, env));
      const [first] = parts;
      if (first === undefined) throw new RuleEvaluationError('tapAdd of nothing');
      const data = new Float64Array(first.data.length);
      for (const p of parts) {
        if (p.data.length !== data.length) throw new RuleEvaluationError('tapAdd: tap tensors of different sizes');
        for (let k = 0; k < data.length; k++) data[k] += p.data[k];
      }
      return { shape: first.shape, data };
    }
  }
}
