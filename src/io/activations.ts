/**
 * Keras activation identifiers (tfjs-layers 4.22's list, in the snake_case a saved model.json
 * holds, and the camelCase tfjs also accepts) <-> IR activation nodes.
 *
 *   linear                                    no node
 *   relu, relu6, sigmoid, tanh                the ops of those names
 *   elu                                       elu { alpha: 1 }
 *   selu, gelu, softplus, softsign, swish, mish   activation { fn: same name }
 *   gelu_new                                  activation { fn: 'geluTanh' }
 *   hard_sigmoid                              activation { fn: 'hardSigmoid' }   clip(0.2x + 0.5, 0, 1)
 *   softmax, log_softmax                      softmax / logSoftmax { axis: 1 }: Keras' last axis
 *                                             is the IR's channel axis at every rank
 *
 * tfjs-layers 4.22 itself cannot load 'gelu_new' (its loader camel-cases it to 'geluNew', which
 * it does not register); a model holding it is read here all the same and written back as it was.
 */
import type { AttrsByOp, Node, OpKind } from '../ir/graph.ts';

/** An IR activation node without its name and input. */
export type ActivationSpec = { [K in OpKind]: { readonly op: K; readonly attrs: AttrsByOp[K] } }[OpKind];

const BY_IDENTIFIER: Readonly<Record<string, ActivationSpec>> = {
  relu: { op: 'relu', attrs: {} },
  relu6: { op: 'relu6', attrs: {} },
  sigmoid: { op: 'sigmoid', attrs: {} },
  tanh: { op: 'tanh', attrs: {} },
  elu: { op: 'elu', attrs: { alpha: 1 } },
  selu: { op: 'activation', attrs: { fn: 'selu' } },
  gelu: { op: 'activation', attrs: { fn: 'gelu' } },
  gelu_new: { op: 'activation', attrs: { fn: 'geluTanh' } },
  hard_sigmoid: { op: 'activation', attrs: { fn: 'hardSigmoid' } },
  softplus: { op: 'activation', attrs: { fn: 'softplus' } },
  softsign: { op: 'activation', attrs: { fn: 'softsign' } },
  swish: { op: 'activation', attrs: { fn: 'swish' } },
  mish: { op: 'activation', attrs: { fn: 'mish' } },
  softmax: { op: 'softmax', attrs: { axis: 1 } },
  log_softmax: { op: 'logSoftmax', attrs: { axis: 1 } },
};

const CAMEL_CASE: Readonly<Record<string, string>> = { hardSigmoid: 'hard_sigmoid', logSoftmax: 'log_softmax', geluNew: 'gelu_new' };

/** Every identifier read, 'linear' included, for messages. */
export const KERAS_ACTIVATIONS: readonly string[] = ['linear', ...Object.keys(BY_IDENTIFIER)];

/** The IR node computing Keras activation `identifier`; null for 'linear'; undefined when unknown. */
export function irActivationOf(identifier: string): ActivationSpec | null | undefined {
  if (identifier === 'linear') return null;
  const name = Object.hasOwn(CAMEL_CASE, identifier) ? CAMEL_CASE[identifier] : identifier;
  return Object.hasOwn(BY_IDENTIFIER, name) ? BY_IDENTIFIER[name] : undefined;
}

/** The Keras activation identifier computing `node` exactly, or undefined when none does. */
export function kerasActivationOf(node: Node): string | undefined {
  for (const [identifier, spec] of Object.entries(BY_IDENTIFIER)) {
    if (spec.op !== node.op) continue;
    const attrs = node.attrs as Readonly<Record<string, unknown>>;
    if (Object.entries(spec.attrs).every(([k, v]) => attrs[k] === v)) return identifier;
  }
  return undefined;
}
