/**
 * The reference interpreter's tensor: a dense, row-major float64 array with its shape.
 *
 * Float64 keeps the oracle's own rounding far below float32's (~1e-7 relative), so a difference
 * between the tfjs executor and this interpreter is the executor's, not ours. Ops never mutate
 * their inputs; every op returns a fresh tensor.
 */
export interface Float64Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/**
 * A parameter read where it is stored: a graph's float32 values (each exactly a float64, so the
 * sums are the same as on a widened copy) or a float64 tensor computed by an op.
 */
export interface ParamValues {
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((product, d) => product * d, 1);
}

export function zeros(shape: readonly number[]): Float64Tensor {
  return { shape: [...shape], data: new Float64Array(sizeOf(shape)) };
}

/** A tensor from row-major values; throws when their count does not fill the shape. */
export function tensor(shape: readonly number[], values: ArrayLike<number>): Float64Tensor {
  const size = sizeOf(shape);
  if (values.length !== size) {
    throw new RangeError(`tensor of shape [${shape.join(', ')}] needs ${size} values, got ${values.length}`);
  }
  return { shape: [...shape], data: Float64Array.from(values) };
}

/** Same shape, values f(x) elementwise. */
export function mapValues(x: Float64Tensor, f: (value: number) => number): Float64Tensor {
  return { shape: [...x.shape], data: x.data.map(f) };
}

export function formatShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * [N, C, S] view of an [N, C, ...] tensor: S is the product of the trailing (spatial) dims, 1 for
 * rank 2. Per-channel ops index element (n, c, s) at (n*C + c)*S + s.
 */
export function channelView(shape: readonly number[]): { readonly n: number; readonly c: number; readonly s: number } {
  return { n: shape[0], c: shape[1], s: sizeOf(shape.slice(2)) };
}

/**
 * `f`, a 2-D window op on [N, C, H, W], applied to a sequence [N, C, L] as the image [N, C, 1, L]
 * (the same row-major data); a rank-4 result loses its height again. Other ranks pass through.
 */
export function onLines(x: Float64Tensor, f: (image: Float64Tensor) => Float64Tensor): Float64Tensor {
  if (x.shape.length !== 3) return f(x);
  const [n, c, l] = x.shape;
  const y = f({ shape: [n, c, 1, l], data: x.data });
  return y.shape.length === 4 ? { shape: [y.shape[0], y.shape[1], y.shape[3]], data: y.data } : y;
}
