/**
 * The float64 reference interpreter: evaluates a shapefold Graph node by node on Float64Array,
 * without tfjs, as the oracle for the rewrite engine's property tests and for the tfjs executor.
 * Each op's math is at the top of its file under ./ops/.
 *
 * Modes: 'eval' uses running statistics everywhere; 'train' normalises BatchNorm-like nodes
 * (batchNorm unless frozen, batchRenorm, ibn unless frozen, switchableNorm) with batch statistics
 * and reports their new running statistics in `updatedStats`. The graph is never mutated.
 *
 * The 2-D window ops (conv2d, weightNormConv2d, the pools) read a sequence [N, C, L] as the image
 * [N, C, 1, L] (`onLines`). Opaque nodes (Keras layers only tfjs-layers computes) are evaluated by
 * the caller's `opaque` evaluator, or refused naming the layer; an opaqueOutput node takes its
 * output of the same evaluation.
 *
 * Inputs are checked against the graph's input shapes: literal dims must match exactly and a
 * symbolic dim ('N', 'H', ...) must take one value across all inputs. Malformed attrs raise the
 * IR's GraphError (from `checkAttrs`); everything else this module cannot evaluate raises a
 * ReferenceRunError naming the node.
 */
import { checkAttrs } from '../ir/attrs.ts';
import type { Graph, Node, NodeOf, ParamTensor } from '../ir/graph.ts';
import { ReferenceRunError } from './errors.ts';
import { leakyRelu, relu, relu6, sigmoid, tanh } from './ops/activations.ts';
import { add } from './ops/add.ts';
import { batchNorm } from './ops/batchNorm.ts';
import { batchRenorm } from './ops/batchRenorm.ts';
import { activation } from './ops/activation.ts';
import { concat, concatAlong } from './ops/concat.ts';
import { dropout } from './ops/dropout.ts';
import { elu } from './ops/elu.ts';
import { generalRelu } from './ops/generalRelu.ts';
import { merge } from './ops/merge.ts';
import { prelu } from './ops/prelu.ts';
import { logSoftmax, softmax } from './ops/softmax.ts';
import { conv2d } from './ops/conv2d.ts';
import { convTranspose2d } from './ops/convTranspose2d.ts';
import { crop2d } from './ops/crop2d.ts';
import { flatten } from './ops/flatten.ts';
import { groupNorm } from './ops/groupNorm.ts';
import { ibn } from './ops/ibn.ts';
import { identity } from './ops/identity.ts';
import { instanceNorm } from './ops/instanceNorm.ts';
import { layerNorm } from './ops/layerNorm.ts';
import { linear } from './ops/linear.ts';
import { normalize } from './ops/normalize.ts';
import { opaque, type OpaqueEvaluator } from './ops/opaque.ts';
import { opaqueOutput } from './ops/opaqueOutput.ts';
import { avgPool2d, globalAvgPool, globalMaxPool, maxPool2d } from './ops/pool.ts';
import { repeatVector } from './ops/repeatVector.ts';
import { reshape } from './ops/reshape.ts';
import { resize2d, upsample2d } from './ops/resize.ts';
import { transpose } from './ops/transpose.ts';
import type { NormResult, ReferenceMode, UpdatedStats } from './ops/runningStats.ts';
import { scaleShift } from './ops/scaleShift.ts';
import { switchableNorm } from './ops/switchableNorm.ts';
import { weightNormConv2d, weightNormLinear } from './ops/weightNorm.ts';
import { formatShape, onLines, sizeOf, type Float64Tensor } from './tensor.ts';

export interface ReferenceOptions {
  mode: ReferenceMode;
  /** Evaluates opaque nodes (Keras layers only tfjs-layers computes); without it they are an error. */
  opaque?: OpaqueEvaluator;
}

export interface ReferenceResult {
  /** By graph output name. */
  outputs: Record<string, Float64Tensor>;
  /** Every node's output, by node name (input nodes included). */
  values: Map<string, Float64Tensor>;
  /** Train mode: the new running statistics per BN-like node (the graph is never mutated). */
  updatedStats: Map<string, UpdatedStats>;
}

/** A float32 parameter widened to float64 (exactly: every float32 is a float64). */
export function toFloat64(p: ParamTensor): Float64Tensor {
  return { shape: [...p.shape], data: new Float64Array(p.data) };
}

type Float64Params<P> = { readonly [K in keyof P]?: Float64Tensor };

function requireFilled(name: string, param: ParamTensor): void {
  if (param.data.length !== sizeOf(param.shape)) {
    throw new ReferenceRunError(`param '${name}' has shape ${formatShape(param.shape)} (${sizeOf(param.shape)} values) but ${param.data.length} values`);
  }
}

/** Params widened to float64, for ops that compute with them as tensors. */
function paramsOf<P extends { readonly [name: string]: ParamTensor | undefined }>(params: P): Float64Params<P> {
  const converted: Record<string, Float64Tensor> = {};
  for (const [name, param] of Object.entries(params)) {
    if (param === undefined) continue;
    requireFilled(name, param);
    converted[name] = toFloat64(param);
  }
  return converted as Float64Params<P>;
}

/**
 * Params read where they are stored, for the ops that only read them (conv2d, convTranspose2d,
 * linear: nearly all of a network's weights), so a run allocates no float64 copy of them.
 */
function storedParams<P extends { readonly [name: string]: ParamTensor | undefined }>(params: P): P {
  for (const [name, param] of Object.entries(params)) if (param !== undefined) requireFilled(name, param);
  return params;
}

function requireArity(inputs: readonly Float64Tensor[], count: number): void {
  if (inputs.length !== count) {
    throw new ReferenceRunError(`takes ${count} input${count === 1 ? '' : 's'}, got ${inputs.length}`);
  }
}

/** Checks each provided input against its graph input's dims, binding symbolic dims on first use. */
function checkInputs(graph: Graph, byName: ReadonlyMap<string, Node>, inputs: Record<string, Float64Tensor>): void {
  for (const name of Object.keys(inputs)) {
    if (!graph.inputs.includes(name)) {
      throw new ReferenceRunError(`inputs has '${name}', which is not a graph input (graph inputs: ${graph.inputs.join(', ')})`);
    }
  }
  const bindings = new Map<string, { value: number; input: string }>();
  for (const name of graph.inputs) {
    const node = byName.get(name);
    if (node === undefined || node.op !== 'input') {
      throw new ReferenceRunError(`graph input '${name}' is not an input node of the graph`);
    }
    const where = { node: name, op: 'input' };
    const value = inputs[name];
    if (value === undefined) throw new ReferenceRunError('no value given for this graph input', where);
    const declared = node.attrs.shape;
    if (value.data.length !== sizeOf(value.shape)) {
      throw new ReferenceRunError(
        `value has shape ${formatShape(value.shape)} (${sizeOf(value.shape)} values) but ${value.data.length} values`,
        where,
      );
    }
    if (value.shape.length !== declared.length) {
      throw new ReferenceRunError(
        `value has shape ${formatShape(value.shape)}, expected rank ${declared.length} ${formatShape(declared)}`,
        where,
      );
    }
    declared.forEach((dim, axis) => {
      const actual = value.shape[axis];
      if (typeof dim === 'number') {
        if (actual !== dim) {
          throw new ReferenceRunError(
            `value has shape ${formatShape(value.shape)}: dim ${axis} is ${actual}, expected ${dim} (declared ${formatShape(declared)})`,
            where,
          );
        }
        return;
      }
      const bound = bindings.get(dim);
      if (bound === undefined) bindings.set(dim, { value: actual, input: name });
      else if (bound.value !== actual) {
        throw new ReferenceRunError(
          `value has shape ${formatShape(value.shape)}: dim ${axis} ('${dim}') is ${actual}, but '${dim}' is ` +
            `${bound.value} in input '${bound.input}'`,
          where,
        );
      }
    });
  }
}

/** The opaqueOutput nodes reading each opaque node, and their values once the layer is evaluated. */
interface LayerOutputs {
  readonly readers: ReadonlyMap<string, readonly NodeOf<'opaqueOutput'>[]>;
  readonly values: Map<string, Float64Tensor>;
}

function evaluateNode(
  node: Node,
  inputs: readonly Float64Tensor[],
  provided: Record<string, Float64Tensor>,
  { mode, opaque: evaluateOpaque }: ReferenceOptions,
  selectors: LayerOutputs,
): NormResult {
  const single = (): Float64Tensor => {
    requireArity(inputs, 1);
    return inputs[0];
  };
  const plain = (output: Float64Tensor): NormResult => ({ output });
  switch (node.op) {
    case 'input':
      requireArity(inputs, 0);
      return plain(identity(provided[node.name]));
    case 'conv2d':
      return plain(onLines(single(), (x) => conv2d(x, storedParams(node.params), node.attrs)));
    case 'convTranspose2d':
      return plain(convTranspose2d(single(), storedParams(node.params), node.attrs));
    case 'linear':
      return plain(linear(single(), storedParams(node.params), node.attrs));
    case 'weightNormConv2d':
      return plain(onLines(single(), (x) => weightNormConv2d(x, paramsOf(node.params), node.attrs)));
    case 'weightNormLinear':
      return plain(weightNormLinear(single(), paramsOf(node.params), node.attrs));
    case 'batchNorm':
      return batchNorm(single(), paramsOf(node.params), node.attrs, mode);
    case 'batchRenorm':
      return batchRenorm(single(), paramsOf(node.params), node.attrs, mode);
    case 'layerNorm':
      return plain(layerNorm(single(), paramsOf(node.params), node.attrs));
    case 'instanceNorm':
      return plain(instanceNorm(single(), paramsOf(node.params), node.attrs));
    case 'groupNorm':
      return plain(groupNorm(single(), paramsOf(node.params), node.attrs));
    case 'ibn':
      return ibn(single(), paramsOf(node.params), node.attrs, mode);
    case 'switchableNorm':
      return switchableNorm(single(), paramsOf(node.params), node.attrs, mode);
    case 'scaleShift':
      return plain(scaleShift(single(), paramsOf(node.params), node.attrs));
    case 'normalize':
      return plain(normalize(single(), node.attrs));
    case 'relu':
      return plain(relu(single()));
    case 'relu6':
      return plain(relu6(single()));
    case 'leakyRelu':
      return plain(leakyRelu(single(), node.attrs.alpha));
    case 'sigmoid':
      return plain(sigmoid(single()));
    case 'tanh':
      return plain(tanh(single()));
    case 'activation':
      return plain(activation(single(), node.attrs.fn));
    case 'elu':
      return plain(elu(single(), node.attrs.alpha));
    case 'generalRelu':
      return plain(generalRelu(single(), node.attrs));
    case 'prelu':
      return plain(prelu(single(), paramsOf(node.params)));
    case 'softmax':
      return plain(softmax(single(), node.attrs.axis));
    case 'logSoftmax':
      return plain(logSoftmax(single(), node.attrs.axis));
    case 'merge':
      return plain(merge(inputs, node.attrs.fn));
    case 'dropout':
      return plain(dropout(single(), mode));
    case 'concatAxis':
      return plain(concatAlong(inputs, node.attrs.axis));
    case 'add':
      return plain(add(inputs));
    case 'concat':
      return plain(concat(inputs));
    case 'maxPool2d':
      return plain(onLines(single(), (x) => maxPool2d(x, node.attrs)));
    case 'avgPool2d':
      return plain(onLines(single(), (x) => avgPool2d(x, node.attrs)));
    case 'globalAvgPool':
      return plain(onLines(single(), (x) => globalAvgPool(x, node.attrs)));
    case 'globalMaxPool':
      return plain(onLines(single(), (x) => globalMaxPool(x, node.attrs)));
    case 'upsample2d':
      return plain(upsample2d(single(), node.attrs));
    case 'resize2d':
      return plain(resize2d(single(), node.attrs));
    case 'transpose':
      return plain(transpose(single(), node.attrs));
    case 'reshape':
      return plain(reshape(single(), node.attrs));
    case 'repeatVector':
      return plain(repeatVector(single(), node.attrs));
    case 'flatten':
      return plain(flatten(single()));
    case 'crop2d':
      return plain(crop2d(single(), node.attrs));
    case 'identity':
      return plain(identity(single()));
    case 'opaque': {
      const readers = selectors.readers.get(node.name) ?? [];
      const [output, ...more] = opaque(node, inputs, readers, evaluateOpaque);
      readers.forEach((reader, i) => selectors.values.set(reader.name, more[i]));
      return plain(output);
    }
    case 'opaqueOutput':
      single();
      return plain(opaqueOutput(node, selectors.values.get(node.name)));
  }
}

export function runReference(
  graph: Graph,
  inputs: Record<string, Float64Tensor>,
  options: ReferenceOptions = { mode: 'eval' },
): ReferenceResult {
  const byName = new Map<string, Node>();
  for (const node of graph.nodes) {
    if (byName.has(node.name)) {
      throw new ReferenceRunError('a second node has this name', { node: node.name, op: node.op });
    }
    byName.set(node.name, node);
    checkAttrs(node);
  }
  checkInputs(graph, byName, inputs);

  const values = new Map<string, Float64Tensor>();
  const updatedStats = new Map<string, UpdatedStats>();
  const readers = new Map<string, NodeOf<'opaqueOutput'>[]>();
  for (const node of graph.nodes) if (node.op === 'opaqueOutput') readers.set(node.inputs[0], [...(readers.get(node.inputs[0]) ?? []), node]);
  const layerOutputs: LayerOutputs = { readers, values: new Map() };
  for (const node of graph.nodes) {
    const where = { node: node.name, op: node.op };
    if (node.op === 'input' && !graph.inputs.includes(node.name)) {
      throw new ReferenceRunError('input node is not listed in graph.inputs', where);
    }
    const args = node.inputs.map((name) => {
      const value = values.get(name);
      if (value !== undefined) return value;
      const reason = byName.has(name) ? 'comes later in graph.nodes (not topologically ordered)' : 'is not a node';
      throw new ReferenceRunError(`input '${name}' ${reason}`, where);
    });
    let result: NormResult;
    try {
      result = evaluateNode(node, args, inputs, options, layerOutputs);
    } catch (error) {
      if (error instanceof ReferenceRunError && error.node === undefined) {
        throw new ReferenceRunError(error.detail, where);
      }
      throw error;
    }
    values.set(node.name, result.output);
    if (result.updatedStats !== undefined) updatedStats.set(node.name, result.updatedStats);
  }

  const outputs: Record<string, Float64Tensor> = {};
  for (const name of graph.outputs) {
    const value = values.get(name);
    if (value === undefined) throw new ReferenceRunError(`graph output '${name}' is not a node`);
    outputs[name] = value;
  }
  return { outputs, values, updatedStats };
}
