/**
 * Statistics shared by the normalization ops, on the [N, C, S] view of an [N, C, ...] tensor
 * (S = product of the spatial dims, 1 for rank 2).
 *
 * Each op names its statistics by a map `groupOf(n, c, s)` from an element to the index of the
 * statistic that covers it (BatchNorm: c; InstanceNorm: n*C + c; LayerNorm 'chw': n; ...). Then
 *   mean[k]     = (1/|k|) * sum_{e in k} x[e]
 *   variance[k] = (1/|k|) * sum_{e in k} (x[e] - mean[k])^2      (biased; two passes for accuracy)
 *   y[n, c, s]  = (x[n, c, s] - mean[k]) / sqrt(variance[k] + eps) * gamma[a] + beta[a],  k = groupOf(n, c, s)
 * where the affine index a is c (per-channel gamma/beta), or c*S + s for LayerNorm's element-wise
 * gamma/beta over [C, H, W].
 */
import { channelView, zeros, type Float64Tensor } from '../tensor.ts';

export type GroupOf = (n: number, c: number, s: number) => number;
/** The index into gamma/beta of element (c, s) of a sample. */
export type AffineIndex = (c: number, s: number) => number;
const perChannel: AffineIndex = (c) => c;

export interface Moments {
  readonly mean: Float64Array;
  readonly variance: Float64Array;
  /** Elements per statistic. */
  readonly count: Float64Array;
}

export interface Affine {
  readonly gamma: Float64Array;
  readonly beta: Float64Array;
}

function forEachElement(x: Float64Tensor, visit: (index: number, n: number, c: number, s: number) => void): void {
  const view = channelView(x.shape);
  let index = 0;
  for (let n = 0; n < view.n; n++) {
    for (let c = 0; c < view.c; c++) {
      for (let s = 0; s < view.s; s++) visit(index++, n, c, s);
    }
  }
}

export function momentsBy(x: Float64Tensor, groups: number, groupOf: GroupOf): Moments {
  const mean = new Float64Array(groups);
  const variance = new Float64Array(groups);
  const count = new Float64Array(groups);
  forEachElement(x, (i, n, c, s) => {
    const k = groupOf(n, c, s);
    mean[k] += x.data[i];
    count[k] += 1;
  });
  for (let k = 0; k < groups; k++) mean[k] /= count[k];
  forEachElement(x, (i, n, c, s) => {
    const k = groupOf(n, c, s);
    const deviation = x.data[i] - mean[k];
    variance[k] += deviation * deviation;
  });
  for (let k = 0; k < groups; k++) variance[k] /= count[k];
  return { mean, variance, count };
}

export function standardize(
  x: Float64Tensor,
  groupOf: GroupOf,
  mean: Float64Array,
  variance: Float64Array,
  eps: number,
  affine: Affine | undefined,
  affineIndex: AffineIndex = perChannel,
): Float64Tensor {
  const y = zeros(x.shape);
  forEachElement(x, (i, n, c, s) => {
    const k = groupOf(n, c, s);
    const normalized = (x.data[i] - mean[k]) / Math.sqrt(variance[k] + eps);
    const a = affineIndex(c, s);
    y.data[i] = affine === undefined ? normalized : normalized * affine.gamma[a] + affine.beta[a];
  });
  return y;
}
