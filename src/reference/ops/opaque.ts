/**
 * opaque: a Keras layer only tfjs-layers computes (LSTM, Embedding, Conv3D, a custom class). It
 * has no float64 math here: the caller evaluates it, and says at which precision (the fold probe
 * runs it through tfjs-layers in float32 and reports so). Without an evaluator the reference
 * stops at it, naming the layer.
 */
import type { NodeOf } from '../../ir/graph.ts';
import { ReferenceRunError } from '../errors.ts';
import type { Float64Tensor } from '../tensor.ts';

/**
 * Evaluates an opaque node on its inputs (IR layout), e.g. through tfjs-layers: its value (the
 * layer's output 0), then the value of each of `outputs`, the opaqueOutput nodes reading the
 * layer's other outputs, in their order.
 */
export type OpaqueEvaluator = (node: NodeOf<'opaque'>, inputs: readonly Float64Tensor[], outputs: readonly NodeOf<'opaqueOutput'>[]) => readonly Float64Tensor[];

export function opaque(
  node: NodeOf<'opaque'>,
  inputs: readonly Float64Tensor[],
  outputs: readonly NodeOf<'opaqueOutput'>[],
  evaluate: OpaqueEvaluator | undefined,
): readonly Float64Tensor[] {
  if (evaluate === undefined) {
    throw new ReferenceRunError(`the ${node.attrs.className} layer has no float64 reference (only tfjs-layers computes it); pass ReferenceOptions.opaque to evaluate it`);
  }
  const values = evaluate(node, inputs, outputs);
  if (values.length !== outputs.length + 1) throw new ReferenceRunError(`the opaque evaluator gave ${values.length} value(s) for output 0 and ${outputs.length} more`);
  return values;
}
