/**
 * A non-negative per-channel scale commuted through ReLU or leakyReLU, so that it can reach and
 * fold into the conv or linear after the activation:
 *
 *   act(s ⊙ x) = s ⊙ act(x)     for s >= 0, act positively homogeneous (relu, leakyRelu)
 *
 * Never a shift (relu(x + t) != relu(x) + t), never a negative scale, and never through relu6,
 * sigmoid or tanh, which are not homogeneous: the checker has no axiom for those, so a rule that
 * tries fails to prove. Side conditions, on the concrete values: shift exactly 0, scale >= 0.
 */
import { affineScale, affineShift, num } from '../algebra/expr.ts';
import type { Rule } from '../algebra/rule.ts';

export const scaleReluCommute: Rule = {
  name: 'scale-relu-commute',
  statement: 'act(s*x) = s*act(x)   (s >= 0, act in {relu, leakyRelu})',
  pattern: [
    { role: 'sc', ops: ['scaleShift'] },
    { role: 'act', ops: ['relu', 'leakyRelu'] },
  ],
  replacement: [
    { role: 'act', attrsFrom: 'act', params: {} },
    { role: 'sc', op: 'scaleShift', params: { scale: affineScale('sc'), shift: num(0) } },
  ],
  conditions: [
    { kind: 'zero', expr: affineShift('sc'), what: 'shift' },
    { kind: 'nonNegative', expr: affineScale('sc'), what: 'scale' },
  ],
};
