/**
 * Parametric ReLU with a learned slope per position, broadcast over the axes it is shared on:
 *
 *   y[n, i...] = x[n, i...]                 if x[n, i...] >= 0
 *              = alpha[i'...] * x[n, i...]  otherwise,  i'_k = (alpha dim k is 1 ? 0 : i_k)
 *
 * `alpha` has the input's shape without the batch dim, with 1 on the shared axes.
 */
import { ReferenceRunError } from '../errors.ts';
import { formatShape, zeros, type Float64Tensor } from '../tensor.ts';

export function prelu(x: Float64Tensor, params: { readonly alpha?: Float64Tensor }): Float64Tensor {
  const alpha = params.alpha;
  if (alpha === undefined) throw new ReferenceRunError("param 'alpha' is missing");
  const inner = x.shape.slice(1);
  if (alpha.shape.length !== inner.length || alpha.shape.some((d, k) => d !== 1 && d !== inner[k])) {
    throw new ReferenceRunError(`alpha of shape ${formatShape(alpha.shape)} does not broadcast to ${formatShape(inner)}`);
  }
  const y = zeros(x.shape);
  const index = new Array<number>(inner.length).fill(0);
  const per = inner.reduce((p, d) => p * d, 1);
  for (let i = 0; i < per; i++) {
    let at = 0;
    for (let k = 0; k < inner.length; k++) at = at * alpha.shape[k] + (alpha.shape[k] === 1 ? 0 : index[k]);
    const slope = alpha.data[at];
    for (let n = 0; n < x.shape[0]; n++) {
      const v = x.data[n * per + i];
      y.data[n * per + i] = v >= 0 ? v : slope * v;
    }
    for (let k = inner.length - 1; k >= 0; k--) {
      if (++index[k] < inner[k]) break;
      index[k] = 0;
    }
  }
  return y;
}
