/**
 * WeightNorm removal (Salimans & Kingma 2016): the reparameterised weight w = g ⊙ v / ||v||, the
 * norm per output unit, becomes an ordinary weight, after which every conv/linear rule applies.
 *
 *   conv_{g v/||v||}(x) + b = conv_{scaleOut(v, g / rowNorm(v))}(x) + b      (likewise linear)
 *
 * Side condition: no output unit has v = 0 (its direction is undefined; the IR rejects it too).
 * One rule per op, since the replacement op differs.
 */
import { div, param, rowNorm, scaleOut, weight } from '../algebra/expr.ts';
import type { Rule } from '../algebra/rule.ts';

function removeWeightNorm(op: 'weightNormConv2d' | 'weightNormLinear', plain: 'conv2d' | 'linear'): Rule {
  const v = weight('wn.v');
  return {
    name: `${plain === 'conv2d' ? 'conv' : 'linear'}-weight-norm`,
    statement: `${plain}_{g*v/||v||}(x) + b = ${plain}_{scaleOut(v, g/||v||)}(x) + b`,
    pattern: [{ role: 'wn', ops: [op] }],
    replacement: [
      {
        role: 'plain',
        op: plain,
        attrsFrom: 'wn',
        attrs: { bias: true },
        params: { weight: scaleOut(v, div(param('wn.g'), rowNorm(v))), bias: param('wn.bias') },
      },
    ],
    conditions: [{ kind: 'nonZero', expr: rowNorm(v), what: '||v|| per output unit' }],
  };
}

export const convWeightNorm = removeWeightNorm('weightNormConv2d', 'conv2d');
export const linearWeightNorm = removeWeightNorm('weightNormLinear', 'linear');
