/**
 * Dimension algebra shared by runtime shape inference; `dsl/types/dim.ts` mirrors it at type level
 * and the two are tested against each other, string for string.
 *
 * A symbolic dim is kept in one small form in a single symbol X (a positive integer):
 *
 *     m * floor((a*X + b) / d) + c        m, a, d >= 1,  0 <= b < d,  gcd(a, d) = 1
 *
 * Every conv/pool output map x -> floor((x + P - D(K-1) - 1)/S) + 1 sends this form to itself
 * (m = 1), because for integer k and positive d, S:
 *
 *     floor((floor(y/d) + k) / S) = floor((y + k*d) / (d*S))
 *
 * and a transposed conv multiplies by S, which only changes m. Normalising (b into [0, d), the
 * common factor of a and d divided out, d = 1 written as the affine a*X + c) makes equal sizes
 * print equal: two stride-2 3x3 pad-1 convs and one stride-4 1x1 conv both give floor((H+3)/4).
 *
 * Canonical spelling (what `formatDim` prints and `parseDim` reads back):
 *   affine, d = 1:   X   3*X   X+2   2*X-1
 *   floor form:      floor(X/4)   floor((X+3)/4)   floor(3*X/4)   2*floor((X+1)/2)+1
 * Anything outside the form (products of two symbolic dims from flatten, sums of different
 * symbols from concat, a floor of m*F with m and S coprime) becomes an opaque expression string
 * built by fixed rules below; opaque dims compare by spelling only, which is sound (equal
 * spellings are equal sizes) but may call two equal sizes different.
 */
import type { Dim } from '../ir/graph.ts';

export type { Dim };

/** value = m * floor((a*X + b) / d) + c, normalised. d = 1 means the affine a*X + c (m = 1, b = 0). */
export interface AffineFloor {
  readonly symbol: string;
  readonly m: number;
  readonly a: number;
  readonly b: number;
  readonly d: number;
  readonly c: number;
}

export class DimError extends Error {
  override readonly name = 'DimError';
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A name users may give a symbolic input dim: an identifier other than `floor`. */
export function isSymbolName(s: string): boolean {
  return IDENTIFIER.test(s) && s !== 'floor';
}

export function isLiteral(d: Dim): d is number {
  return typeof d === 'number';
}

function floorDiv(x: number, y: number): number {
  return Math.floor(x / y);
}

function gcd(x: number, y: number): number {
  x = Math.abs(x);
  y = Math.abs(y);
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

export function normalize(e: AffineFloor): AffineFloor {
  const { symbol } = e;
  let { m, a, b, d, c } = e;
  if (d === 1) return { symbol, m: 1, a: m * a, b: 0, d: 1, c: m * b + c };
  const q = floorDiv(b, d);
  b -= q * d;
  c += m * q;
  const g = gcd(a, d);
  a /= g;
  d /= g;
  b = floorDiv(b, g);
  if (d === 1) return { symbol, m: 1, a: m * a, b: 0, d: 1, c: m * b + c };
  return { symbol, m, a, b, d, c };
}

function formatConstant(c: number): string {
  if (c === 0) return '';
  return c > 0 ? `+${c}` : `-${-c}`;
}

function formatScaled(k: number, x: string): string {
  return k === 1 ? x : `${k}*${x}`;
}

export function formatAffineFloor(e: AffineFloor): string {
  if (e.d === 1) return formatScaled(e.a, e.symbol) + formatConstant(e.c);
  const numerator = e.b === 0 ? formatScaled(e.a, e.symbol) : `(${formatScaled(e.a, e.symbol)}+${e.b})`;
  return formatScaled(e.m, `floor(${numerator}/${e.d})`) + formatConstant(e.c);
}

const NAT = '(\\d+)';
const SCALED = `(?:${NAT}\\*)?([A-Za-z_][A-Za-z0-9_]*)`;
const CONST = '(?:([+-])(\\d+))?';
const AFFINE_RE = new RegExp(`^${SCALED}${CONST}$`);
const FLOOR_RE = new RegExp(`^(?:${NAT}\\*)?floor\\((?:${SCALED}|\\(${SCALED}\\+${NAT}\\))\\/${NAT}\\)${CONST}$`);

function signed(sign: string | undefined, digits: string | undefined): number {
  if (digits === undefined) return 0;
  return sign === '-' ? -Number(digits) : Number(digits);
}

/** Reads a canonical affine-floor spelling; undefined for a literal or an opaque expression. */
export function parseAffineFloor(s: Dim): AffineFloor | undefined {
  if (typeof s === 'number') return undefined;
  const affine = AFFINE_RE.exec(s);
  if (affine) {
    const [, a, symbol, sign, c] = affine;
    if (symbol === 'floor') return undefined;
    return { symbol, m: 1, a: a === undefined ? 1 : Number(a), b: 0, d: 1, c: signed(sign, c) };
  }
  const fl = FLOOR_RE.exec(s);
  if (!fl) return undefined;
  const [, m, a1, x1, a2, x2, b, d, sign, c] = fl;
  const symbol = x1 ?? x2;
  if (symbol === 'floor') return undefined;
  const a = a1 ?? a2;
  return {
    symbol,
    m: m === undefined ? 1 : Number(m),
    a: a === undefined ? 1 : Number(a),
    b: b === undefined ? 0 : Number(b),
    d: Number(d),
    c: signed(sign, c),
  };
}

function fromAffineFloor(e: AffineFloor): Dim {
  return formatAffineFloor(normalize(e));
}

function symbolOnly(s: string): AffineFloor {
  return { symbol: s, m: 1, a: 1, b: 0, d: 1, c: 0 };
}

function asAffineFloor(s: string): AffineFloor | undefined {
  return isSymbolName(s) ? symbolOnly(s) : parseAffineFloor(s);
}

/** True when s has a + or - outside every parenthesis, i.e. s is a sum at its top level. */
function hasTopLevelSign(s: string): boolean {
  let depth = 0;
  for (const ch of s) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if ((ch === '+' || ch === '-') && depth === 0) return true;
  }
  return false;
}

/**
 * Parenthesises an opaque operand that contains + or - unless it already ends in a closing
 * parenthesis (floor(...) and m*floor(...) need none) and has no + or - at its top level
 * ('H+floor(3*H/4)' ends in one but is still a sum).
 */
export function wrapOperand(s: string): string {
  return /[+-]/.test(s) && (!s.endsWith(')') || hasTopLevelSign(s)) ? `(${s})` : s;
}

function checkInteger(name: string, k: number, min: number): void {
  if (!Number.isSafeInteger(k) || k < min) throw new DimError(`${name} must be an integer >= ${min}, got ${k}`);
}

/** x + k */
export function dimAdd(x: Dim, k: number): Dim {
  checkInteger('dimAdd: k', k, Number.MIN_SAFE_INTEGER);
  if (typeof x === 'number') return x + k;
  if (k === 0) return x;
  const e = asAffineFloor(x);
  if (e) return fromAffineFloor({ ...e, c: e.c + k });
  return `${wrapOperand(x)}${formatConstant(k)}`;
}

/** k * x, k >= 1 */
export function dimScale(x: Dim, k: number): Dim {
  checkInteger('dimScale: k', k, 1);
  if (typeof x === 'number') return x * k;
  if (k === 1) return x;
  const e = asAffineFloor(x);
  if (e) {
    return e.d === 1
      ? fromAffineFloor({ ...e, a: e.a * k, c: e.c * k })
      : fromAffineFloor({ ...e, m: e.m * k, c: e.c * k });
  }
  return `${k}*${wrapOperand(x)}`;
}

/** floor(x / s), s >= 1 */
export function dimFloorDiv(x: Dim, s: number): Dim {
  checkInteger('dimFloorDiv: s', s, 1);
  if (typeof x === 'number') return floorDiv(x, s);
  if (s === 1) return x;
  const e = asAffineFloor(x);
  if (e) {
    if (e.d === 1) return fromAffineFloor({ symbol: e.symbol, m: 1, a: e.a, b: e.c, d: s, c: 0 });
    // m*F + c = g*(m/g)*F + c, so floor((m*F + c)/s) = floor(((m/g)*F + floor(c/g)) / (s/g)).
    const g = gcd(e.m, s);
    const m = e.m / g;
    const rest = s / g;
    const c = floorDiv(e.c, g);
    if (rest === 1) return fromAffineFloor({ ...e, m, c });
    if (m === 1) return fromAffineFloor({ symbol: e.symbol, m: 1, a: e.a, b: e.b + c * e.d, d: e.d * rest, c: 0 });
  }
  return `floor(${wrapOperand(x)}/${s})`;
}

/**
 * The product of several dims (flatten). Literal factors multiply into one coefficient; a single
 * symbolic factor stays in canonical form; two or more give the opaque `coef*F1*F2...` in the
 * order given.
 */
export function dimProduct(dims: readonly Dim[]): Dim {
  let coefficient = 1;
  const symbolic: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') coefficient *= d;
    else symbolic.push(d);
  }
  if (symbolic.length === 0) return coefficient;
  if (coefficient === 0) return 0;
  if (symbolic.length === 1) return dimScale(symbolic[0], coefficient);
  const factors = symbolic.map(wrapOperand).join('*');
  return coefficient === 1 ? factors : `${coefficient}*${factors}`;
}

/**
 * The sum of several dims (concat on channels). Literals add up; affine parts in one symbol
 * combine; otherwise the opaque `F1+F2+...+k` in the order given.
 */
export function dimSum(dims: readonly Dim[]): Dim {
  let constant = 0;
  const symbolic: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') constant += d;
    else symbolic.push(d);
  }
  if (symbolic.length === 0) return constant;
  if (symbolic.length === 1) return dimAdd(symbolic[0], constant);
  const parts = symbolic.map(asAffineFloor);
  const first = parts[0];
  if (first && parts.every((p) => p !== undefined && p.d === 1 && p.symbol === first.symbol)) {
    const a = parts.reduce((acc, p) => acc + p!.a, 0);
    const c = parts.reduce((acc, p) => acc + p!.c, 0);
    return fromAffineFloor({ symbol: first.symbol, m: 1, a, b: 0, d: 1, c: c + constant });
  }
  return symbolic.join('+') + formatConstant(constant);
}

/** Equal sizes for every value of the symbols (sound; opaque forms compare by spelling). */
export function dimEqual(x: Dim, y: Dim): boolean {
  return x === y;
}

export interface ConvDimSpec {
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  /** Padding added on both sides together. */
  readonly padTotal: number;
}

/** floor((x + P - D(K-1) - 1) / S) + 1: conv and pooling (floor mode). */
export function convOutDim(x: Dim, spec: ConvDimSpec): Dim {
  const reach = spec.dilation * (spec.kernel - 1) + 1;
  return dimAdd(dimFloorDiv(dimAdd(x, spec.padTotal - reach), spec.stride), 1);
}

/** ceil(x / S) = floor((x + S - 1) / S): TensorFlow's 'same' padding. */
export function sameOutDim(x: Dim, stride: number): Dim {
  return dimFloorDiv(dimAdd(x, stride - 1), stride);
}

export interface ConvTransposeDimSpec {
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  /** Symmetric padding on each side. */
  readonly padding: number;
  readonly outputPadding: number;
}

/** (x - 1)*S - 2P + D(K-1) + outputPadding + 1 */
export function convTransposeOutDim(x: Dim, spec: ConvTransposeDimSpec): Dim {
  const { stride: s, padding: p, dilation: d, kernel: k, outputPadding: op } = spec;
  return dimAdd(dimScale(x, s), -s - 2 * p + d * (k - 1) + op + 1);
}

/** The value of a dim once its symbols are bound; throws a DimError naming a missing symbol. */
export function evalDim(x: Dim, env: Readonly<Record<string, number>>): number {
  if (typeof x === 'number') return x;
  return evaluate(x, env);
}

/**
 * Evaluates any expression this module prints: integers, symbols, + - *, parentheses and
 * floor(p/q). A small recursive-descent parser, so opaque dims evaluate too.
 */
function evaluate(source: string, env: Readonly<Record<string, number>>): number {
  let pos = 0;
  const peek = (): string => source[pos] ?? '';
  const expect = (ch: string): void => {
    if (source[pos] !== ch) throw new DimError(`cannot read dim '${source}': expected '${ch}' at ${pos}`);
    pos++;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === '+' || peek() === '-') {
      const op = source[pos++];
      const r = product();
      v = op === '+' ? v + r : v - r;
    }
    return v;
  };
  const product = (): number => {
    let v = atom();
    while (peek() === '*') {
      pos++;
      v *= atom();
    }
    return v;
  };
  const atom = (): number => {
    const rest = source.slice(pos);
    const num = /^\d+/.exec(rest);
    if (num) {
      pos += num[0].length;
      return Number(num[0]);
    }
    if (rest.startsWith('floor(')) {
      pos += 'floor('.length;
      const p = sum();
      expect('/');
      const q = atom();
      expect(')');
      return floorDiv(p, q);
    }
    if (peek() === '(') {
      pos++;
      const v = sum();
      expect(')');
      return v;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (!id) throw new DimError(`cannot read dim '${source}' at ${pos}`);
    pos += id[0].length;
    const value = env[id[0]];
    if (value === undefined) throw new DimError(`dim '${source}' needs a value for symbol '${id[0]}'`);
    return value;
  };
  const v = sum();
  if (pos !== source.length) throw new DimError(`cannot read dim '${source}' at ${pos}`);
  return v;
}

/** The symbols a dim mentions, in order of first appearance. */
export function dimSymbols(x: Dim): string[] {
  if (typeof x === 'number') return [];
  const out: string[] = [];
  for (const m of x.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) {
    if (m[0] !== 'floor' && !out.includes(m[0])) out.push(m[0]);
  }
  return out;
}
