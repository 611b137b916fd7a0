/**
 * opaqueOutput: y = output `index` of the opaque layer that is its input (an LSTM's returned
 * state), from the same evaluation as the layer's output 0. As the layer itself, it has no
 * float64 math here: the caller's opaque evaluator computes it with the layer (see opaque.ts).
 */
import type { NodeOf } from '../../ir/graph.ts';
import { ReferenceRunError } from '../errors.ts';
import type { Float64Tensor } from '../tensor.ts';
import { identity } from './identity.ts';

export function opaqueOutput(node: NodeOf<'opaqueOutput'>, evaluated: Float64Tensor | undefined): Float64Tensor {
  if (evaluated === undefined) throw new ReferenceRunError(`output ${node.attrs.index} of '${node.inputs[0]}' was not evaluated with the layer`);
  return identity(evaluated);
}
