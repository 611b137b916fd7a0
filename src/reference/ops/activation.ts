/**
 * Parameterless pointwise activations, as tfjs-layers 4.22 defines them:
 *
 *   selu(x)         = scale * (x > 0 ? x : alpha * (exp(x) - 1))
 *                     alpha = 1.6732632423543772848, scale = 1.0507009873554804934
 *   gelu(x)         = x * (1 + erf(x / sqrt 2)) / 2
 *   geluTanh(x)     = x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) / 2     (Keras 'gelu_new')
 *   hardSigmoid(x)  = clip(0.2 x + 0.5, 0, 1)                                 (not Keras 3's relu6(x+3)/6)
 *   softplus(x)     = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))
 *   softsign(x)     = x / (1 + |x|)
 *   swish(x)        = x * sigmoid(x)
 *   mish(x)         = x * tanh(softplus(x))
 *
 * erf has no Math function: its Maclaurin series for |x| < 1.5 (terms to 1e-17 of the sum; it
 * loses digits to cancellation beyond that, 2e-14 at 2.9), and for |x| >= 1.5 the continued
 * fraction erfc(x) = exp(-x^2) / (sqrt(pi) (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))) to 100
 * terms, which matches tabulated values to the last bit from 1.5 on.
 */
import type { ActivationFn } from '../../ir/graph.ts';
import { mapValues, type Float64Tensor } from '../tensor.ts';

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

export function erf(x: number): number {
  const a = Math.abs(x);
  if (a >= 1.5) {
    let fraction = a;
    for (let k = 100; k >= 1; k--) fraction = a + k / 2 / fraction;
    const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / fraction;
    return Math.sign(x) * (1 - erfc);
  }
  // sum_n (-1)^n x^(2n+1) / (n! (2n+1)), the power-over-factorial part updated term by term.
  let power = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    power *= (-x * x) / n;
    const term = power / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const softplus = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
const sigmoid = (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));

const FUNCTIONS: { readonly [F in ActivationFn]: (v: number) => number } = {
  selu: (v) => SELU_SCALE * (v > 0 ? v : SELU_ALPHA * Math.expm1(v)),
  gelu: (v) => (v * (1 + erf(v / Math.SQRT2))) / 2,
  geluTanh: (v) => (v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))) / 2,
  hardSigmoid: (v) => Math.min(Math.max(0.2 * v + 0.5, 0), 1),
  softplus,
  softsign: (v) => v / (1 + Math.abs(v)),
  swish: (v) => v * sigmoid(v),
  mish: (v) => v * Math.tanh(softplus(v)),
};

export const activation = (x: Float64Tensor, fn: ActivationFn): Float64Tensor => mapValues(x, FUNCTIONS[fn]);
