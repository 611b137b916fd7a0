/**
 * shapefold IR graph -> stock tfjs Layers model (functional topology), the same function in NHWC.
 *
 *   IR                              Keras layer(s)
 *   input ['N', C, H, W]            InputLayer [null, H, W, C]
 *   conv2d, groups 1                Conv2D
 *   conv2d, groups = Cin            DepthwiseConv2D, depth_multiplier Cout/Cin
 *   depthwise conv2d (no bias)      SeparableConv2D, when the 1x1 conv is the depthwise conv's
 *   -> 1x1 conv2d                   only reader
 *   layer -> relu/sigmoid/tanh      the layer with that `activation`, when the activation is its
 *                                   only reader (Conv2D, DepthwiseConv2D, SeparableConv2D,
 *                                   Conv2DTranspose, Dense; see IN_LAYER_ACTIVATIONS); any other
 *                                   activation but relu6 too, where it came from that layer's field
 *   explicit padding                'valid'/'same' when it is exactly that, else ZeroPadding2D + 'valid'
 *   depthwise 1x1 conv, weight 1,   ZeroPadding2D (the importer's form of a ZeroPadding2D that no
 *   no bias, explicit padding       conv absorbs)
 *   convTranspose2d, groups 1       Conv2DTranspose 'valid' or 'same', with a crop2d that is its
 *   [-> crop2d]                     only reader absorbed: one layer where exact (TF 'same' with
 *                                   K - S odd), else + Cropping2D of the rest (conv-transpose.ts)
 *   crop2d                          Cropping2D
 *   batchNorm                       BatchNormalization (axis -1); affine false as center = scale = false;
 *                                   trackRunningStats false and momentum null have no Keras form (an error)
 *   scaleShift                      BatchNormalization with mean 0, variance 1, epsilon 0: then
 *                                   (x - 0) * rsqrt(1) * scale + shift = x * scale + shift exactly
 *   relu6                           ReLU { max_value: 6 }: tfjs-layers runs Relu then ClipByValue,
 *                                   where Activation('relu6') runs Relu then Minimum against a
 *                                   scalar it makes on each call, several times slower on wasm
 *                                   (npm run bench:shapes, 'relu6 layer')
 *   relu, sigmoid, tanh,            Activation(identifier) where no layer holds it and one
 *   activation, elu, softmax,       computes it (activations.ts), else ELU { alpha }, Softmax { axis }
 *   logSoftmax
 *   leakyRelu                       LeakyReLU
 *   generalRelu                     ThresholdedReLU (no bound, slope 0), else ReLU with its options
 *   prelu                           PReLU, alpha back to channels-last, shared_axes where it is 1
 *   add, concat, concatAxis         Add, Concatenate (the Keras axis)
 *   merge                           Add, Subtract, Multiply, Average, Maximum, Minimum
 *   dropout                         Dropout, SpatialDropout1D/2D, GaussianDropout, GaussianNoise, AlphaDropout
 *   maxPool2d, avgPool2d            MaxPooling2D, AveragePooling2D
 *   conv2d, pools on [N, C, L]      Conv1D, MaxPooling1D, AveragePooling1D ('valid' or 'same' only)
 *   globalAvgPool, globalMaxPool    GlobalAverage/MaxPooling2D or 1D (+ a Reshape with keepDims)
 *   upsample2d, resize2d            UpSampling2D, Resizing (crop_to_aspect_ratio = !alignCorners:
 *                                   what tfjs-layers 4.22 does with it)
 *   normalize                       Rescaling(1/std, -mean/std) when uniform over channels, else
 *                                   BatchNormalization(mean, std^2, epsilon 0, no gamma/beta)
 *   flatten -> linear               Flatten -> Dense with its kernel rows reordered CHW -> HWC;
 *                                   a flatten read by anything else: Permute [3, 1, 2] -> Flatten
 *   identity                        no layer
 *   transpose, reshape              Permute; Permute to channels-first + Reshape + Permute back,
 *                                   adjacent Permutes merged and cancelling ones dropped, so an
 *                                   imported Keras Reshape comes back as one Reshape
 *   repeatVector, layerNorm 'c'     RepeatVector, LayerNormalization (axis -1)
 *   layerNorm 'chw'                 LayerNormalization over every non-batch axis ([1, 2, 3]),
 *                                   gamma and beta in channels-last order
 *   opaque                          the Keras layer it was read from: class, config and weights
 *                                   (names and order) unchanged
 *   opaqueOutput                    no layer: tensor `index` of that layer's call
 * A conv2d tapBias (a bias that differs on the border frame) has no stock Keras layer and is a
 * LayersExportError, as are other groups, other transposed convs and the remaining norms.
 */
import { channelsFirstAxis, channelsLastAxis } from '../ir/axes.ts';
import type { Graph, MergeFn, Node, NodeOf, Padding2d, Pair, ParamTensor, Shape } from '../ir/graph.ts';
import { validateGraph } from '../ir/validate.ts';
import { resolvePadding2d } from '../reference/padding.ts';
import { kerasActivationOf } from './activations.ts';
import { kerasTransposeOf } from './conv-transpose.ts';
import { LayersExportError } from './errors.ts';
import type { KerasLayerJSON, LayersModelJSON, WeightSpec } from './layers-format.ts';
import { channelsFirstPerm, channelsLastPerm, composePerms, isIdentityPerm } from '../ir/axes.ts';
import { IR_CONV_TO_KERAS, TRANSPOSE_2D, chwFeatureOfHwcRow, permute, reorderRows, sampleToChannelsLast } from './layout.ts';

export interface ExportedLayersModel {
  readonly modelJson: LayersModelJSON;
  readonly weightData: ArrayBuffer;
}

type Pads = readonly [number, number, number, number];

/** One output of one call of a Keras layer: [layer, node index, tensor index (0 when absent)]. */
type KerasRef = readonly [layer: string, nodeIndex: number, tensorIndex?: number];

class Exporter {
  readonly layers: KerasLayerJSON[] = [];
  readonly specs: WeightSpec[] = [];
  readonly buffers: Float32Array[] = [];
  /** IR node -> the Keras layer call holding its value. */
  readonly kerasOf = new Map<string, KerasRef>();
  readonly names = new Set<string>();
  /** ZeroPadding2D layers written, by input and amount. */
  readonly padded = new Map<string, KerasRef>();
  /** The IR node being written: a node `tiedTo` another calls that node's weighted layer again. */
  current: Node | undefined;
  /** IR node -> the Keras layer holding its weights. */
  private readonly weightedLayerOf = new Map<string, KerasLayerJSON>();

  unique(base: string): string {
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  /** Permute layers this exporter wrote: their input and their permutation [0, ...dims]. */
  readonly permutes = new Map<string, { readonly input: KerasRef; readonly perm: readonly number[] }>();

  /**
   * `input` permuted by `perm` ([0, ...Keras dims]). When `input` is a Permute read by nothing
   * else (`sole`), the two are written as one, and as none when they cancel.
   */
  permute(base: string, input: KerasRef, perm: readonly number[], sole: boolean): KerasRef {
    const prior = sole ? this.permutes.get(input[0]) : undefined;
    if (prior !== undefined) {
      this.layers.splice(this.layers.findIndex((l) => l.name === input[0]), 1);
      this.names.delete(input[0]);
      this.permutes.delete(input[0]);
    }
    const from = prior?.input ?? input;
    const composed = prior === undefined ? perm : composePerms(prior.perm, perm);
    if (isIdentityPerm(composed)) return from;
    const ref = this.layer(base, 'Permute', { dims: composed.slice(1) }, [from]);
    this.permutes.set(ref[0], { input: from, perm: composed });
    return ref;
  }

  /**
   * A new Keras layer called on `inputs`; for the weighted layer of a node tied to another, one
   * more call of the layer written for that node (its config must be the same).
   */
  layer(base: string, className: string, config: Record<string, unknown>, inputs: readonly KerasRef[], weights: Record<string, ParamTensor> = {}): KerasRef {
    const call = callOf(inputs);
    const node = this.current;
    const weighted = Object.keys(weights).length > 0 && node !== undefined;
    const again = weighted ? this.callAgain(className, config, call) : undefined;
    if (again !== undefined) return again;
    const name = this.unique(base);
    const layer: KerasLayerJSON = {
      name,
      class_name: className,
      config: className === 'InputLayer' ? { name, ...config } : { name, trainable: true, ...config },
      inbound_nodes: inputs.length === 0 ? [] : [call],
    };
    this.layers.push(layer);
    if (weighted) this.weightedLayerOf.set(node.name, layer);
    for (const [suffix, tensor] of Object.entries(weights)) {
      this.specs.push({ name: `${name}/${suffix}`, shape: [...tensor.shape], dtype: 'float32' });
      this.buffers.push(tensor.data);
    }
    return [name, 0];
  }

  /** For the weighted layer of a node tied to another: one more call of the layer written for that node. */
  private callAgain(className: string, config: Readonly<Record<string, unknown>>, call: unknown[]): KerasRef | undefined {
    const node = this.current;
    if (node?.tiedTo === undefined) return undefined;
    const shared = this.weightedLayerOf.get(node.tiedTo);
    const same = shared !== undefined && shared.class_name === className && JSON.stringify(shared.config) === JSON.stringify({ ...shared.config, ...config });
    if (!same) throw new LayersExportError(node.name, node.op, `is tied to '${node.tiedTo}', but is written as a different layer; Keras shares weights only between calls of one layer`);
    shared.inbound_nodes?.push(call);
    return [shared.config.name as string, (shared.inbound_nodes?.length ?? 1) - 1];
  }

  /** An opaque node's Keras layer as it was read: class, config and weights (names, order) unchanged. */
  opaque(node: NodeOf<'opaque'>, inputs: readonly KerasRef[]): KerasRef {
    const { className, config, weights } = node.attrs;
    const call = callOf(inputs);
    const again = this.callAgain(className, config, call);
    if (again !== undefined) return again;
    const name = typeof config.name === 'string' ? config.name : node.name;
    // Its weights are named after the layer: another name would not load them.
    if (this.names.has(name)) throw new LayersExportError(node.name, node.op, `its layer name '${name}' is already the name of another layer of the export`);
    this.names.add(name);
    const layer: KerasLayerJSON = { name, class_name: className, config: { ...config }, inbound_nodes: [call] };
    this.layers.push(layer);
    this.weightedLayerOf.set(node.name, layer);
    for (const { name: weight, shape } of weights) {
      this.specs.push({ name: weight, shape: [...shape], dtype: 'float32' });
      this.buffers.push((node.params[weight] as ParamTensor).data);
    }
    return [name, 0];
  }
}

const callOf = (inputs: readonly KerasRef[]): unknown[] => inputs.map(([layer, nodeIndex, tensorIndex = 0]) => [layer, nodeIndex, tensorIndex, {}]);

function literal(shape: Shape, node: Node, what: string): number[] {
  if (!shape.every((d): d is number => typeof d === 'number')) {
    throw new LayersExportError(node.name, node.op, `${what} [${shape.join(', ')}] must be known numbers`);
  }
  return shape as number[];
}

const isZero = (p: Pads) => p.every((v) => v === 0);

/**
 * A Keras padding for an IR padding on an input of `shape` (NCHW): 'same'/'valid' where exact,
 * otherwise the zero padding to put in front and 'valid'.
 */
function kerasPadding(padding: Padding2d, shape: Shape, kernel: Pair, stride: Pair, dilation: Pair): { padding: 'same' | 'valid'; pads?: Pads } {
  if (padding === 'same' || padding === 'valid') return { padding };
  if (isZero(padding)) return { padding: 'valid' };
  const [, , h, w] = shape;
  if (typeof h === 'number' && typeof w === 'number' && wasmSameIsExact(kernel, stride)) {
    const same = resolvePadding2d('same', h, w, kernel, stride, dilation);
    if (same.every((v, i) => v === padding[i])) return { padding: 'same' };
  }
  return { padding: 'valid', pads: padding };
}

/**
 * Stock tfjs-backend-wasm 4.22 computes some 'same' convs wrongly (all zeros or shifted rows),
 * so an explicit padding is written as 'same' only where it measured exact. Against the cpu
 * backend, on deterministic inputs: conv2d, stride 1: 0 wrong of 480 (dilation 1 and 2);
 * strided with both kernel dims odd and >= 3: 0 of 288; strided with a kernel dim of 1 or
 * even: 106 of 672 wrong. depthwiseConv2d inside this rule: 0 of 780; outside it: 194 of 720.
 * Elsewhere the exporter writes ZeroPadding2D + 'valid', which is always exact.
 */
function wasmSameIsExact(kernel: Pair, stride: Pair): boolean {
  const oddAtLeast3 = (k: number) => k >= 3 && k % 2 === 1;
  return (stride[0] === 1 && stride[1] === 1) || (oddAtLeast3(kernel[0]) && oddAtLeast3(kernel[1]));
}

/** `input` zero-padded: one ZeroPadding2D layer per input and amount, however many layers read it. */
function zeroPad(ex: Exporter, name: string, input: KerasRef, pads: Pads | undefined): KerasRef {
  if (pads === undefined) return input;
  const key = JSON.stringify([input, pads]);
  const done = ex.padded.get(key);
  if (done !== undefined) return done;
  const [t, b, l, r] = pads;
  const padded = ex.layer(name, 'ZeroPadding2D', { padding: [[t, b], [l, r]], data_format: 'channels_last' }, [input]);
  ex.padded.set(key, padded);
  return padded;
}

function convLayer(ex: Exporter, node: Conv2dNode, input: KerasRef, inShape: Shape, activation: string): KerasRef {
  const a = node.attrs;
  if (node.params.tapBias !== undefined) {
    throw new LayersExportError(node.name, node.op, 'has a tapBias (a border-exact bias from folding a shift through zero padding); no stock Keras layer adds one');
  }
  const depthwise = isDepthwise(a);
  if (a.groups !== 1 && !depthwise) {
    throw new LayersExportError(node.name, node.op, `has groups ${a.groups}; stock Keras layers cover groups 1 (Conv2D) and groups = input channels (DepthwiseConv2D)`);
  }
  const { padding, pads } = kerasPadding(a.padding, inShape, a.kernel, a.stride, a.dilation);
  const from = zeroPad(ex, `${node.name}_pad`, input, pads);
  const weight = node.params.weight as ParamTensor;
  const common = {
    kernel_size: [...a.kernel],
    strides: [...a.stride],
    dilation_rate: [...a.dilation],
    padding,
    data_format: 'channels_last',
    activation,
    use_bias: a.bias,
  };
  const bias: Record<string, ParamTensor> = a.bias ? { bias: node.params.bias as ParamTensor } : {};
  if (depthwise) {
    if (a.dilation[0] !== 1 || a.dilation[1] !== 1) {
      throw new LayersExportError(node.name, node.op, `is depthwise with dilation [${a.dilation.join(', ')}]; tfjs-layers 4.22's DepthwiseConv2D ignores dilation_rate`);
    }
    const mult = a.outChannels / a.inChannels;
    const kernel = permute(weight.data, [a.inChannels, mult, a.kernel[0], a.kernel[1]], [2, 3, 0, 1]);
    return ex.layer(node.name, 'DepthwiseConv2D', { ...common, depth_multiplier: mult }, [from], { depthwise_kernel: kernel, ...bias });
  }
  return ex.layer(node.name, 'Conv2D', { ...common, filters: a.outChannels }, [from], { kernel: permute(weight.data, weight.shape, IR_CONV_TO_KERAS), ...bias });
}

/** One SeparableConv2D computing depthwise conv `dw` then pointwise conv `pw` (a `separablePairs` pair). */
function separableLayer(ex: Exporter, dw: Conv2dNode, pw: Conv2dNode, input: KerasRef, inShape: Shape, activation: string): KerasRef {
  const a = dw.attrs;
  const { padding, pads } = kerasPadding(a.padding, inShape, a.kernel, a.stride, a.dilation);
  const from = zeroPad(ex, `${dw.name}_pad`, input, pads);
  const mult = a.outChannels / a.inChannels;
  const depthwiseKernel = permute((dw.params.weight as ParamTensor).data, [a.inChannels, mult, a.kernel[0], a.kernel[1]], [2, 3, 0, 1]);
  const pointwise = pw.params.weight as ParamTensor;
  const config = {
    filters: pw.attrs.outChannels,
    kernel_size: [...a.kernel],
    strides: [...a.stride],
    dilation_rate: [...a.dilation],
    padding,
    data_format: 'channels_last',
    depth_multiplier: mult,
    activation,
    use_bias: pw.attrs.bias,
  };
  const weights: Record<string, ParamTensor> = { depthwise_kernel: depthwiseKernel, pointwise_kernel: permute(pointwise.data, pointwise.shape, IR_CONV_TO_KERAS) };
  if (pw.attrs.bias) weights.bias = pw.params.bias as ParamTensor;
  return ex.layer(pw.name, 'SeparableConv2D', config, [from], weights);
}

/** Keras Cropping2D of [top, bottom, left, right] after `input`, or `input` itself when nothing is cropped. */
function cropping(ex: Exporter, name: string, input: KerasRef, crop: Pads): KerasRef {
  if (isZero(crop)) return input;
  const [t, b, l, r] = crop;
  return ex.layer(name, 'Cropping2D', { cropping: [[t, b], [l, r]], data_format: 'channels_last' }, [input]);
}

/**
 * A Conv2DTranspose (+ Cropping2D) computing `node` followed by `then`, a crop2d it absorbs
 * ([0, 0, 0, 0] when none): TF 'same' with K - S odd is one layer again.
 */
function convTransposeLayer(ex: Exporter, node: Extract<Node, { op: 'convTranspose2d' }>, input: KerasRef, then: Pads, activation: string): KerasRef {
  const a = node.attrs;
  const fail = (problem: string): never => {
    throw new LayersExportError(node.name, node.op, problem);
  };
  if (a.groups !== 1) fail(`has groups ${a.groups}; Keras' Conv2DTranspose has only 1`);
  if (a.dilation[0] !== 1 || a.dilation[1] !== 1) fail(`has dilation [${a.dilation.join(', ')}]; tfjs-layers' Conv2DTranspose has only 1`);
  const irCrop = [0, 1].map((axis) => ({
    start: a.padding[axis] + then[2 * axis],
    end: a.padding[axis] - a.outputPadding[axis] + then[2 * axis + 1],
  })) as [{ start: number; end: number }, { start: number; end: number }];
  const keras = kerasTransposeOf(a.kernel, a.stride, irCrop);
  if (keras === undefined) {
    return fail(
      `padding [${a.padding.join(', ')}] with outputPadding [${a.outputPadding.join(', ')}] (kernel [${a.kernel.join(', ')}], stride [${a.stride.join(', ')}]) ` +
        "appends more bias-only rows than Keras 'valid' or 'same' does; no Conv2DTranspose + Cropping2D computes it",
    );
  }
  const weight = node.params.weight as ParamTensor;
  const bias: Record<string, ParamTensor> = a.bias ? { bias: node.params.bias as ParamTensor } : {};
  const config = {
    filters: a.outChannels,
    kernel_size: [...a.kernel],
    strides: [...a.stride],
    padding: keras.padding,
    data_format: 'channels_last',
    activation,
    use_bias: a.bias,
  };
  const conv = ex.layer(node.name, 'Conv2DTranspose', config, [input], { kernel: permute(weight.data, weight.shape, IR_CONV_TO_KERAS), ...bias });
  return cropping(ex, `${node.name}_crop`, conv, keras.crop);
}

/**
 * Activations a Conv2D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose or Dense writes in its
 * own `activation` when the activation is the layer's only reader, as Keras users write them.
 * Chosen by measurement (npm run bench:shapes, stock model.predict, README): tfjs-layers runs a
 * Conv2D's relu inside its fused conv kernel, and any activation in the layer saves a layer's
 * overhead. relu6 is not here: tfjs-layers' 'relu6' activation runs Relu then Minimum against a
 * new scalar tensor, where a separate ReLU(max_value 6) layer runs Relu then ClipByValue, two
 * unary kernels, and measured faster.
 */
export const IN_LAYER_ACTIVATIONS: Readonly<Record<string, string>> = { relu: 'relu', sigmoid: 'sigmoid', tanh: 'tanh' };

/**
 * The activation node the Keras layer `layer`, computing `node`, takes into its config, and its
 * identifier: one of IN_LAYER_ACTIVATIONS, or any other the importer read from that layer's own
 * `activation` field (node `${layer}_${identifier}`), which goes back where the model had it.
 * A field's relu6 stays a ReLU layer, for the speed measured above.
 */
function activationReading(node: Node, layer: string, consumers: ReadonlyMap<string, readonly Node[]>, outputs: ReadonlySet<string>): { readonly node: Node; readonly identifier: string } | undefined {
  if (outputs.has(node.name)) return undefined;
  const readers = consumers.get(node.name) ?? [];
  if (readers.length !== 1) return undefined;
  const reader = readers[0];
  if (Object.hasOwn(IN_LAYER_ACTIVATIONS, reader.op)) return { node: reader, identifier: IN_LAYER_ACTIVATIONS[reader.op] };
  const identifier = kerasActivationOf(reader);
  return identifier !== undefined && identifier !== 'relu6' && reader.name === `${layer}_${identifier}` ? { node: reader, identifier } : undefined;
}

type Conv2dNode = Extract<Node, { op: 'conv2d' }>;

/** A depthwise 1x1 conv of weight 1 and no bias: zero padding alone (how a ZeroPadding2D no conv absorbs is imported). */
function isZeroPaddingOnly(node: Conv2dNode): boolean {
  const a = node.attrs;
  const unit = [...a.kernel, ...a.stride, ...a.dilation].every((v) => v === 1);
  return unit && a.groups === a.inChannels && a.outChannels === a.inChannels && !a.bias && node.params.tapBias === undefined && (node.params.weight?.data.every((w) => w === 1) ?? false);
}

const isDepthwise = (a: Conv2dNode['attrs']) => a.groups > 1 && a.groups === a.inChannels && a.outChannels % a.inChannels === 0;

/**
 * Depthwise convs that are the depthwise half of a SeparableConv2D: no bias, read only by a 1x1
 * stride-1 unpadded conv, both tied or both untied. Mapped to that pointwise conv.
 */
function separablePairs(graph: Graph, consumers: ReadonlyMap<string, readonly Node[]>, outputs: ReadonlySet<string>): Map<string, Conv2dNode> {
  const pairs = new Map<string, Conv2dNode>();
  for (const node of graph.nodes) {
    if (node.op !== 'conv2d' || !isDepthwise(node.attrs) || node.attrs.bias || node.params.tapBias !== undefined || outputs.has(node.name)) continue;
    const readers = consumers.get(node.name) ?? [];
    const pw = readers[0];
    if (readers.length !== 1 || pw.op !== 'conv2d' || pw.params.tapBias !== undefined || (pw.tiedTo === undefined) !== (node.tiedTo === undefined)) continue;
    const a = pw.attrs;
    const unpadded = a.padding === 'valid' || (Array.isArray(a.padding) && isZero(a.padding as Pads));
    if (a.groups === 1 && unpadded && [...a.kernel, ...a.stride, ...a.dilation].every((v) => v === 1)) pairs.set(node.name, pw);
  }
  return pairs;
}

const MERGE_CLASSES: { readonly [F in MergeFn]: string } = {
  add: 'Add',
  subtract: 'Subtract',
  multiply: 'Multiply',
  average: 'Average',
  maximum: 'Maximum',
  minimum: 'Minimum',
};

type NodeOfOp<K extends Node['op']> = Extract<Node, { op: K }>;

/**
 * An activation as Activation(identifier) when one computes it (softmax over the channel axis,
 * ELU with alpha 1, ...); otherwise its own layer class: ELU { alpha }, Softmax { axis }.
 */
function activationLayer(ex: Exporter, node: NodeOfOp<'relu' | 'sigmoid' | 'tanh' | 'activation' | 'elu' | 'softmax' | 'logSoftmax'>, inputs: readonly KerasRef[], rank: number): KerasRef {
  const identifier = kerasActivationOf(node);
  if (identifier !== undefined) return ex.layer(node.name, 'Activation', { activation: identifier }, inputs);
  switch (node.op) {
    case 'elu':
      return ex.layer(node.name, 'ELU', { alpha: node.attrs.alpha }, inputs);
    case 'softmax':
      return ex.layer(node.name, 'Softmax', { axis: channelsLastAxis(node.attrs.axis, rank) }, inputs);
    default:
      throw new LayersExportError(node.name, node.op, `has no stock Keras layer (${JSON.stringify(node.attrs)}); log_softmax exists only over the last Keras axis`);
  }
}

/** ThresholdedReLU where it is one, else Keras' ReLU with the options in use. */
function generalReluLayer(ex: Exporter, node: NodeOfOp<'generalRelu'>, inputs: readonly KerasRef[]): KerasRef {
  const { maxValue, negativeSlope, threshold } = node.attrs;
  if (maxValue === null && negativeSlope === 0) return ex.layer(node.name, 'ThresholdedReLU', { theta: threshold }, inputs);
  // tfjs-layers 4.22's ReLU reads max_value only; the other two are written for Keras, as Keras wrote them.
  const extra = { ...(negativeSlope === 0 ? {} : { negative_slope: negativeSlope }), ...(threshold === 0 ? {} : { threshold }) };
  return ex.layer(node.name, 'ReLU', { max_value: maxValue, ...extra }, inputs);
}

/** PReLU: alpha back to channels-last, shared_axes where it is 1 on a longer input axis. */
function preluLayer(ex: Exporter, node: NodeOfOp<'prelu'>, inputs: readonly KerasRef[], inShape: Shape): KerasRef {
  const irShape = node.attrs.alphaShape;
  const rank = irShape.length + 1;
  const alpha = sampleToChannelsLast((node.params.alpha as ParamTensor).data, irShape);
  const shared = alpha.shape.map((d, i) => i + 1).filter((axis) => alpha.shape[axis - 1] === 1 && inShape[channelsFirstAxis(axis, rank)] !== 1);
  return ex.layer(node.name, 'PReLU', { shared_axes: shared.length === 0 ? null : shared }, inputs, { alpha });
}

function dropoutLayer(ex: Exporter, node: NodeOfOp<'dropout'>, inputs: readonly KerasRef[], rank: number): KerasRef {
  const { kind, rate } = node.attrs;
  switch (kind) {
    case 'dropout':
      return ex.layer(node.name, 'Dropout', { rate }, inputs);
    case 'spatialDropout':
      return ex.layer(node.name, rank === 3 ? 'SpatialDropout1D' : 'SpatialDropout2D', { rate }, inputs);
    case 'gaussianDropout':
      return ex.layer(node.name, 'GaussianDropout', { rate }, inputs);
    case 'gaussianNoise':
      return ex.layer(node.name, 'GaussianNoise', { stddev: rate }, inputs);
    case 'alphaDropout':
      return ex.layer(node.name, 'AlphaDropout', { rate }, inputs);
  }
}

/**
 * A Conv1D computing a conv2d with kernel [1, k] on a sequence [N, C, L]. tfjs-layers 4.22 has no
 * ZeroPadding1D and no causal Conv1D, so the padding must be none or TF's 'same'. 'same' is
 * written even where tfjs-backend-wasm computes it wrongly (see wasmSameIsExact): a Keras model
 * read in had that same 'same' layer, so both run alike on every backend.
 */
function conv1dLayer(ex: Exporter, node: Conv2dNode, input: KerasRef, inShape: Shape, activation: string): KerasRef {
  const a = node.attrs;
  const fail = (problem: string): never => {
    throw new LayersExportError(node.name, node.op, problem);
  };
  if (node.params.tapBias !== undefined) fail('has a tapBias (a border-exact bias from folding a shift through zero padding); no stock Keras layer adds one');
  if (a.groups !== 1) fail(`has groups ${a.groups} on a sequence; tfjs-layers has no grouped or depthwise Conv1D`);
  const padding = sequencePadding(a.padding, inShape, a.kernel, a.stride, a.dilation);
  if (padding === undefined) fail(`has padding ${JSON.stringify(a.padding)} on a sequence; tfjs-layers 4.22 has no ZeroPadding1D, only 'valid' and 'same'`);
  const weight = node.params.weight as ParamTensor;
  const kernel = permute(weight.data, weight.shape, IR_CONV_TO_KERAS);
  const config = {
    filters: a.outChannels,
    kernel_size: [a.kernel[1]],
    strides: [a.stride[1]],
    dilation_rate: [a.dilation[1]],
    padding,
    data_format: 'channels_last',
    activation,
    use_bias: a.bias,
  };
  const bias: Record<string, ParamTensor> = a.bias ? { bias: node.params.bias as ParamTensor } : {};
  return ex.layer(node.name, 'Conv1D', config, [input], { kernel: { shape: kernel.shape.slice(1), data: kernel.data }, ...bias });
}

/** 'valid' or 'same' for the padding of a window op on a sequence, or undefined when it is neither. */
function sequencePadding(padding: Padding2d, inShape: Shape, kernel: Pair, stride: Pair, dilation: Pair): 'valid' | 'same' | undefined {
  if (padding === 'same' || padding === 'valid') return padding;
  if (isZero(padding)) return 'valid';
  const length = inShape[2];
  if (typeof length !== 'number') return undefined;
  const same = resolvePadding2d('same', 1, length, kernel, stride, dilation);
  return same.every((v, i) => v === padding[i]) ? 'same' : undefined;
}

/** MaxPooling1D / AveragePooling1D for a pool with window [1, k] on a sequence. */
function pool1dLayer(ex: Exporter, node: Extract<Node, { op: 'maxPool2d' | 'avgPool2d' }>, input: KerasRef, inShape: Shape): KerasRef {
  const a = node.attrs;
  const padding = sequencePadding(a.padding, inShape, a.kernel, a.stride, [1, 1]);
  const countsPad = node.op === 'avgPool2d' && node.attrs.countIncludePad && padding === 'same';
  if (padding === undefined || countsPad) {
    throw new LayersExportError(node.name, node.op, `has padding ${JSON.stringify(a.padding)} on a sequence; a Keras 1-D pool pads only as TF 'same', never counting the padding`);
  }
  const className = node.op === 'maxPool2d' ? 'MaxPooling1D' : 'AveragePooling1D';
  return ex.layer(node.name, className, { pool_size: [a.kernel[1]], strides: [a.stride[1]], padding, data_format: 'channels_last' }, [input]);
}

function consumersOf(graph: Graph): Map<string, Node[]> {
  const consumers = new Map<string, Node[]>();
  for (const node of graph.nodes) for (const input of node.inputs) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  return consumers;
}

/** Writes `graph` as a stock tfjs Layers model: model.json contents and one weights buffer. */
export function exportLayersModel(graph: Graph, modelName = 'shapefold'): ExportedLayersModel {
  const shapes = validateGraph(graph);
  const ex = new Exporter();
  const consumers = consumersOf(graph);
  const outputs = new Set(graph.outputs);
  /** Flattens of a [C, H, W] map whose readers all are linears: they reorder their weights instead. */
  const hwcFlatten = new Map<string, readonly [number, number, number]>();
  /** crop2d nodes a Conv2DTranspose (+ Cropping2D) before them already computes. */
  const absorbedCrops = new Set<string>();
  /** Depthwise halves of SeparableConv2Ds, written with their pointwise conv. */
  const separable = separablePairs(graph, consumers, outputs);
  const pointwiseOf = new Map([...separable].map(([dw, pw]) => [pw.name, graph.nodes.find((n) => n.name === dw) as Conv2dNode]));
  /** Activation nodes a layer before them holds in its config: their value is that layer's. */
  const absorbedActivations = new Set<string>();
  /** The `activation` of the layer written for `node`; the activation node it takes, if any, is then skipped. */
  const activationOf = (node: Node, layer = node.name): string => {
    const act = activationReading(node, layer, consumers, outputs);
    if (act === undefined) return 'linear';
    absorbedActivations.add(act.node.name);
    return act.identifier;
  };

  /** Whether `name`'s value has no other reader (and is not an output): its Keras layer may be merged into the next. */
  const soleReader = (name: string) => !outputs.has(name) && (consumers.get(name)?.length ?? 0) === 1;

  for (const node of graph.nodes) {
    if (separable.has(node.name)) continue;
    ex.current = node;
    const inputs = node.inputs.map((i) => ex.kerasOf.get(i) as KerasRef);
    const inShape = node.inputs.length > 0 ? (shapes.get(node.inputs[0]) as Shape) : [];
    if (absorbedActivations.has(node.name)) {
      ex.kerasOf.set(node.name, inputs[0]);
      continue;
    }
    const set = (keras: KerasRef) => ex.kerasOf.set(node.name, keras);
    const fail = (problem: string): never => {
      throw new LayersExportError(node.name, node.op, problem);
    };
    switch (node.op) {
      case 'input': {
        const shape = node.attrs.shape;
        const dims = (d: unknown) => (typeof d === 'number' ? d : null);
        if (shape.length < 2 || shape.length > 5) fail(`has rank ${shape.length}; Keras inputs here are [N, C, D, H, W], [N, C, H, W], [N, C, L] or [N, F]`);
        const nhwc = shape.length > 2 ? [shape[0], ...shape.slice(2), shape[1]] : shape;
        if (typeof shape[1] !== 'number') fail('needs a known channel count');
        set(ex.layer(node.name, 'InputLayer', { batch_input_shape: nhwc.map(dims), dtype: 'float32', sparse: false }, []));
        break;
      }
      case 'conv2d': {
        const dw = pointwiseOf.get(node.name);
        const dwInput = dw === undefined ? undefined : (ex.kerasOf.get(dw.inputs[0]) as KerasRef);
        if (inShape.length === 3) set(conv1dLayer(ex, node, inputs[0], inShape, activationOf(node)));
        else if (dw !== undefined) set(separableLayer(ex, dw, node, dwInput as KerasRef, shapes.get(dw.inputs[0]) as Shape, activationOf(node)));
        else if (isZeroPaddingOnly(node)) {
          const p = node.attrs.padding;
          set(typeof p === 'string' ? inputs[0] : zeroPad(ex, node.name, inputs[0], p as Pads));
        } else set(convLayer(ex, node, inputs[0], inShape, activationOf(node)));
        break;
      }
      case 'convTranspose2d': {
        const readers = consumers.get(node.name) ?? [];
        const [reader] = readers;
        const absorbed = !outputs.has(node.name) && readers.length === 1 && reader.op === 'crop2d' ? reader : undefined;
        if (absorbed !== undefined) absorbedCrops.add(absorbed.name);
        // With a crop absorbed, the layer holds the crop's value; the crop is this node's only reader.
        // An activation is elementwise: in the layer, before its Cropping2D, it is the same function.
        set(convTransposeLayer(ex, node, inputs[0], absorbed?.attrs.crop ?? [0, 0, 0, 0], activationOf(absorbed ?? node, node.name)));
        break;
      }
      case 'crop2d':
        set(absorbedCrops.has(node.name) ? inputs[0] : cropping(ex, node.name, inputs[0], node.attrs.crop));
        break;
      case 'batchNorm': {
        const p = node.params;
        const a = node.attrs;
        if (a.trackRunningStats === false) {
          throw new LayersExportError(node.name, node.op, "has trackRunningStats false (batch statistics at inference); Keras' BatchNormalization always keeps moving statistics");
        }
        if (a.decay === null) {
          throw new LayersExportError(node.name, node.op, "has a cumulative running average (momentum null); Keras' BatchNormalization has only a momentum");
        }
        const affine = a.affine !== false;
        const gammaBeta: Record<string, ParamTensor> = affine ? { gamma: p.gamma as ParamTensor, beta: p.beta as ParamTensor } : {};
        set(
          ex.layer(node.name, 'BatchNormalization', { axis: -1, momentum: a.decay, epsilon: a.eps, center: affine, scale: affine }, inputs, {
            ...gammaBeta,
            moving_mean: p.runningMean as ParamTensor,
            moving_variance: p.runningVar as ParamTensor,
          }),
        );
        break;
      }
      case 'scaleShift': {
        const c = node.attrs.numChannels;
        set(
          ex.layer(node.name, 'BatchNormalization', { axis: -1, momentum: 0.99, epsilon: 0, center: true, scale: true }, inputs, {
            gamma: node.params.scale as ParamTensor,
            beta: node.params.shift as ParamTensor,
            moving_mean: { shape: [c], data: new Float32Array(c) },
            moving_variance: { shape: [c], data: new Float32Array(c).fill(1) },
          }),
        );
        break;
      }
      case 'relu6':
        set(ex.layer(node.name, 'ReLU', { max_value: 6 }, inputs));
        break;
      case 'relu':
      case 'sigmoid':
      case 'tanh':
      case 'activation':
      case 'elu':
      case 'softmax':
      case 'logSoftmax':
        set(activationLayer(ex, node, inputs, inShape.length));
        break;
      case 'generalRelu':
        set(generalReluLayer(ex, node, inputs));
        break;
      case 'prelu':
        set(preluLayer(ex, node, inputs, inShape));
        break;
      case 'merge':
        set(ex.layer(node.name, MERGE_CLASSES[node.attrs.fn], {}, inputs));
        break;
      case 'concatAxis':
        set(ex.layer(node.name, 'Concatenate', { axis: channelsLastAxis(node.attrs.axis, inShape.length) }, inputs));
        break;
      case 'dropout':
        set(dropoutLayer(ex, node, inputs, inShape.length));
        break;
      case 'leakyRelu':
        set(ex.layer(node.name, 'LeakyReLU', { alpha: node.attrs.alpha }, inputs));
        break;
      case 'add':
        set(ex.layer(node.name, 'Add', {}, inputs));
        break;
      case 'concat':
        set(ex.layer(node.name, 'Concatenate', { axis: -1 }, inputs));
        break;
      case 'maxPool2d':
      case 'avgPool2d': {
        const a = node.attrs;
        if (inShape.length === 3) {
          set(pool1dLayer(ex, node, inputs[0], inShape));
          break;
        }
        const className = node.op === 'maxPool2d' ? 'MaxPooling2D' : 'AveragePooling2D';
        const countsPad = node.op === 'avgPool2d' && node.attrs.countIncludePad;
        let { padding, pads } = kerasPadding(a.padding, inShape, a.kernel, a.stride, [1, 1]);
        // TF's 'same' never counts padding: right for a max pool, and for an average that does not count it.
        if (padding === 'same' && countsPad) {
          const [, , h, w] = literal(inShape, node, 'an average pool counting its padding needs input sizes');
          pads = resolvePadding2d('same', h, w, a.kernel, a.stride, [1, 1]);
          padding = 'valid';
        }
        if (pads !== undefined && !countsPad) fail('has explicit padding that is not TF "same"; Keras pads a pool only that way');
        const from = zeroPad(ex, `${node.name}_pad`, inputs[0], pads);
        set(ex.layer(node.name, className, { pool_size: [...a.kernel], strides: [...a.stride], padding, data_format: 'channels_last' }, [from]));
        break;
      }
      case 'globalAvgPool':
      case 'globalMaxPool': {
        const dims = inShape.length === 3 ? '1D' : '2D';
        const className = `${node.op === 'globalAvgPool' ? 'GlobalAveragePooling' : 'GlobalMaxPooling'}${dims}`;
        const pooled = ex.layer(node.name, className, dims === '2D' ? { data_format: 'channels_last' } : {}, inputs);
        const c = inShape[1];
        // tfjs-layers 4.22's global pools have no keepdims: a Reshape puts the 1s back.
        const kept = dims === '2D' ? [1, 1, c] : [1, c];
        set(node.attrs.keepDims ? ex.layer(`${node.name}_keepdims`, 'Reshape', { target_shape: kept }, [pooled]) : pooled);
        break;
      }
      case 'upsample2d':
        set(ex.layer(node.name, 'UpSampling2D', { size: [...node.attrs.scale], interpolation: node.attrs.interpolation, data_format: 'channels_last' }, inputs));
        break;
      case 'resize2d': {
        const [height, width] = node.attrs.size;
        const config = { height, width, interpolation: node.attrs.interpolation, crop_to_aspect_ratio: !node.attrs.alignCorners };
        set(ex.layer(node.name, 'Resizing', config, inputs));
        break;
      }
      case 'normalize': {
        const { mean, std } = node.attrs;
        if (mean.every((m) => m === mean[0]) && std.every((d) => d === std[0])) {
          set(ex.layer(node.name, 'Rescaling', { scale: 1 / std[0], offset: -mean[0] / std[0] }, inputs));
          break;
        }
        const c = mean.length;
        set(
          ex.layer(node.name, 'BatchNormalization', { axis: -1, momentum: 0.99, epsilon: 0, center: false, scale: false }, inputs, {
            moving_mean: { shape: [c], data: Float32Array.from(mean) },
            moving_variance: { shape: [c], data: Float32Array.from(std, (d) => d * d) },
          }),
        );
        break;
      }
      case 'flatten': {
        if (inShape.length === 2) {
          set(inputs[0]);
          break;
        }
        if (inShape.slice(2).every((d) => d === 1)) {
          set(ex.layer(node.name, 'Flatten', {}, inputs));
          break;
        }
        const readers = consumers.get(node.name) ?? [];
        if (inShape.length <= 4 && !outputs.has(node.name) && readers.length > 0 && readers.every((r) => r.op === 'linear')) {
          // A sequence [C, L] flattens as the map [C, 1, L].
          const chw = inShape.length === 3 ? [inShape[1], 1, inShape[2]] : inShape.slice(1);
          const [c, h, w] = literal(chw, node, 'flattened sizes');
          hwcFlatten.set(node.name, [c, h, w]);
          set(ex.layer(node.name, 'Flatten', {}, inputs));
        } else {
          const channelsFirst = ex.permute(`${node.name}_chw`, inputs[0], channelsFirstPerm(inShape.length), soleReader(node.inputs[0]));
          set(ex.layer(node.name, 'Flatten', {}, [channelsFirst]));
        }
        break;
      }
      case 'linear': {
        const a = node.attrs;
        const weight = node.params.weight as ParamTensor;
        const transposed = permute(weight.data, weight.shape, TRANSPOSE_2D);
        const hwc = hwcFlatten.get(node.inputs[0]);
        const kernel = hwc === undefined ? transposed : { shape: transposed.shape, data: reorderRows(transposed.data, a.inFeatures, a.outFeatures, (r) => chwFeatureOfHwcRow(r, ...hwc)) };
        const bias: Record<string, ParamTensor> = a.bias ? { bias: node.params.bias as ParamTensor } : {};
        set(ex.layer(node.name, 'Dense', { units: a.outFeatures, activation: activationOf(node), use_bias: a.bias }, inputs, { kernel, ...bias }));
        break;
      }
      case 'identity':
        set(inputs[0]);
        break;
      case 'transpose': {
        // On the Keras (channels-last) tensors: to channels-first, the IR permutation, back.
        const rank = inShape.length;
        const perm = composePerms(composePerms(channelsFirstPerm(rank), node.attrs.perm), channelsLastPerm(rank));
        set(ex.permute(node.name, inputs[0], perm, soleReader(node.inputs[0])));
        break;
      }
      case 'reshape': {
        // Keras reshapes in its channels-last order; the IR's is channels-first.
        const channelsFirst = ex.permute(`${node.name}_chw`, inputs[0], channelsFirstPerm(inShape.length), soleReader(node.inputs[0]));
        const reshaped = ex.layer(node.name, 'Reshape', { target_shape: [...node.attrs.shape] }, [channelsFirst]);
        set(ex.permute(`${node.name}_hwc`, reshaped, channelsLastPerm(node.attrs.shape.length + 1), false));
        break;
      }
      case 'repeatVector':
        set(ex.layer(node.name, 'RepeatVector', { n: node.attrs.times }, inputs));
        break;
      case 'layerNorm': {
        const { affine, over, eps } = node.attrs;
        // Over 'chw': every non-batch Keras axis, gamma and beta element-wise in Keras's [H, W, C] order.
        const axis = over === 'c' ? -1 : Array.from({ length: inShape.length - 1 }, (_, i) => i + 1);
        const keras = (p: ParamTensor | undefined) => (over === 'c' ? (p as ParamTensor) : sampleToChannelsLast((p as ParamTensor).data, node.attrs.normalizedShape));
        const weights: Record<string, ParamTensor> = affine ? { gamma: keras(node.params.gamma), beta: keras(node.params.beta) } : {};
        set(ex.layer(node.name, 'LayerNormalization', { axis, epsilon: eps, center: affine, scale: affine }, inputs, weights));
        break;
      }
      case 'opaque':
        set(ex.opaque(node, inputs));
        break;
      case 'opaqueOutput': {
        // Another output of the opaque layer's call: the same Keras call, another tensor index.
        const [layer, call] = inputs[0];
        set([layer, call, node.attrs.index]);
        break;
      }
      default:
        fail(
          'has no exact stock Keras layer (supported: input, conv2d, convTranspose2d, batchNorm, scaleShift, normalize, layerNorm over c, relu, relu6, leakyRelu, sigmoid, tanh, activation, elu, generalRelu, prelu, softmax, logSoftmax, add, merge, concat, concatAxis, dropout, maxPool2d, avgPool2d, globalAvgPool, globalMaxPool, upsample2d, resize2d, transpose, reshape, repeatVector, flatten, crop2d, linear, identity, opaque, opaqueOutput)',
        );
    }
  }

  const ends = (names: readonly string[]) => [...new Set(names.map((n) => JSON.stringify(callOf([ex.kerasOf.get(n) as KerasRef])[0])))].map((key) => (JSON.parse(key) as unknown[]).slice(0, 3));
  const total = ex.buffers.reduce((n, b) => n + b.length, 0);
  const data = new Float32Array(total);
  let at = 0;
  for (const b of ex.buffers) {
    data.set(b, at);
    at += b.length;
  }
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: 'shapefold',
      convertedBy: null,
      modelTopology: {
        class_name: 'Model',
        config: { name: modelName, layers: ex.layers, input_layers: ends(graph.inputs), output_layers: ends(graph.outputs) },
        keras_version: 'tfjs-layers 4.22.0',
        backend: 'tensor_flow.js',
      },
      // The weights are float32 here; layers-model.ts stores them (quantized, sharded) and names the files.
      weightsManifest: [{ paths: [], weights: ex.specs }],
    },
    weightData: data.buffer,
  };
}
