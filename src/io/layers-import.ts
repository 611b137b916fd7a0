/**
 * tfjs Layers (Keras) model -> shapefold IR graph, computing the same function in NCHW.
 *
 *   Keras (channels_last)            IR (channels-first, PyTorch layouts; see layout.ts)
 *   InputLayer [null, H, W, C]       input ['N', C, H, W]   (unknown H, W: symbols 'H', 'W')
 *   Conv2D / DepthwiseConv2D         conv2d (+ its activation as a separate node)
 *   SeparableConv2D                  depthwise conv2d -> 1x1 conv2d
 *   Conv2DTranspose                  convTranspose2d (+ activation); 'valid'/'same' become
 *                                    padding and outputPadding, and a 'same' with K - S odd a
 *                                    crop2d of the trailing row/column (conv-transpose.ts)
 *   Cropping2D                       crop2d
 *   ZeroPadding2D -> conv            the conv's explicit padding (no node)
 *   BatchNormalization (last axis)   batchNorm; center/scale false give beta 0 / gamma 1, both false affine: false
 *   Dense                            linear; after a Flatten of [H, W, C] its input rows are
 *                                    reordered from HWC to the IR's CHW flatten order
 *   activation fields, Activation    the op of each Keras identifier (activations.ts; 'linear': no node)
 *   ReLU                             relu, relu6, leakyRelu, or generalRelu (other max_value, threshold)
 *   LeakyReLU, ELU, ThresholdedReLU  leakyRelu, elu, generalRelu (threshold theta)
 *   PReLU                            prelu, alpha [H, W, C] -> [C, H, W] with 1 on shared axes
 *   Softmax                          softmax on the IR axis of the Keras axis (src/ir/axes.ts)
 *   Add                              add for equal shapes, merge { fn: 'add' } when broadcasting
 *   Subtract, Multiply, Average,     merge (Keras broadcasting)
 *   Maximum, Minimum
 *   Concatenate                      concat (channel axis) or concatAxis (any other)
 *   Dropout, SpatialDropout1D/2D,    dropout { kind, rate } (GaussianNoise's stddev is its rate)
 *   GaussianNoise/Dropout, AlphaDropout
 *   Max/AveragePooling2D             maxPool2d, avgPool2d (TF rule: padding never counted)
 *   GlobalAveragePooling2D, Flatten  globalAvgPool, flatten
 *   trivial Reshape                  no node / flatten / globalAvgPool with keepDims
 *                                    reordered from HWC to the IR's CHW flatten order (any other
 *                                    reader of such a Flatten gets reshape -> transpose -> flatten)
 *   InputLayer [null, L, C]          input ['N', C, L]: a sequence, which the IR's window ops
 *                                    read as the image [N, C, 1, L]
 *   Conv1D, Max/AveragePooling1D     conv2d, maxPool2d, avgPool2d with kernel [1, k] on [N, C, L]
 *   GlobalAverage/MaxPooling1D       globalAvgPool, globalMaxPool on [N, C, L]
 *   Dense on [N, ..., F]             linear on the IR's axis 1 at every position
 *   GlobalAveragePooling2D, Flatten  globalAvgPool, flatten;  GlobalMaxPooling2D  globalMaxPool
 *   UpSampling2D, Resizing           upsample2d, resize2d (tfjs: align_corners = !crop_to_aspect_ratio)
 *   CenterCrop                       crop2d (tfjs's nearest crop-and-resize samples exactly the
 *                                    crop), or resize2d where tfjs resizes a smaller map
 *   Rescaling(scale > 0, offset)     normalize(mean -offset/scale, std 1/scale) per channel
 *   Reshape                          transpose to Keras's channels-last order, reshape, transpose
 *                                    back (a [1, 1, C] or [C] head reshape: globalAvgPool keepDims
 *                                    / flatten / no node)
 *   Permute, RepeatVector            transpose (conjugated by the layouts), repeatVector
 *   BatchNormalization (any axis)    batchNorm, between two transposes swapping that axis and C
 *                                    (opaque on a rank-5 input, after a Conv3D)
 *   LayerNormalization (last axis)   layerNorm over 'c'; over every non-batch axis (Keras axis
 *                                    [1, 2, 3]): layerNorm over 'chw', gamma and beta [C, H, W];
 *                                    over any other axes: opaque
 *   any other registered class       opaque: tfjs-layers makes, builds and runs it (LSTM,
 *                                    Embedding, Conv3D, TimeDistributed, a registered custom
 *                                    layer); its config and weights are kept as they are
 * An unregistered class, and anything tfjs would reject, is a LayersModelError naming the file,
 * layer, class and field.
 */
// tfjs-layers registers its layer classes in tfjs-core's serialization registry when loaded;
// opaqueLayer (through keras-layer.ts) reads that registry.
import type * as tfl from '@tensorflow/tfjs-layers';
import { ShapefoldError } from '../ir/errors.ts';
import { channelsFirstAxis } from '../ir/axes.ts';
import type { DropoutKind, Graph, KerasDim, MergeFn, Node, Padding2d, Pair, ParamTensor, Shape } from '../ir/graph.ts';
import { broadcastShapes, inferNodeShape } from '../ir/shapes.ts';
import { validateGraph } from '../ir/validate.ts';
import { resolvePadding2d } from '../reference/padding.ts';
import { irActivationOf, KERAS_ACTIVATIONS } from './activations.ts';
import { LayersModelError } from './errors.ts';
import { transposeAxisOf } from './conv-transpose.ts';
import {
  MAX_PARAMETERS,
  checkLayersModelJSON,
  decodeWeights,
  readManifest,
  splitWeightData,
  type KerasLayerJSON,
  type WeightData,
} from './layers-format.ts';
import { channelsFirstPerm, channelsLastPerm, composePerms, inChannelsLastOrder, isIdentityPerm } from '../ir/axes.ts';
import { MAX_ATTR_INT, MAX_WINDOW, holdsIntPast } from '../ir/attrs.ts';
import { buildKerasLayer, createKerasLayer, disposeKerasLayer, isRegisteredClass } from '../backend/keras-layer.ts';
import { KERAS_CONV_TO_IR, TRANSPOSE_2D, filled, hwcRowOfChwFeature, permute, reorderRows, sampleToChannelsFirst } from './layout.ts';

/** A config count or window size shapefold runs (see MAX_ATTR_INT and MAX_WINDOW). */
function isIntIn(v: unknown, least: number, most: number): v is number {
  return Number.isInteger(v) && (v as number) >= least && (v as number) <= most;
}

type Pads = readonly [number, number, number, number];

/**
 * A Keras tensor as the IR holds it. `pads`: a ZeroPadding2D (the last of them: `padLayer`) still
 * to be folded into the consuming conv. `hwc`: the IR value is a flatten in CHW order where Keras
 * has HWC order.
 */
interface Value {
  readonly node: string;
  readonly pads?: Pads;
  readonly padLayer?: string;
  readonly hwc?: { readonly channels: number; readonly height: number; readonly width: number };
}

/** The most values one tensor of a sample may hold (2^28, 1 GiB as float32): a file's sizes never drive a larger allocation. */
const MAX_TENSOR_VALUES = 2 ** 28;

export interface ImportOptions {
  /** Called with each warning (a one-line message naming file, layer and field); default: console.warn. */
  readonly onWarning?: (message: string) => void;
  /**
   * Called as the import goes: `step` 'weight files' after each file read (readLayersModel from a
   * path), 'layers' after each layer of the outer model is imported; done and total of that step.
   */
  readonly onProgress?: (step: string, done: number, total: number) => void;
}

class Importer {
  readonly nodes: Node[] = [];
  readonly shapes = new Map<string, Shape>();
  /** Manifest weight -> the layer that reads it: each weight belongs to exactly one layer. */
  readonly usedWeights = new Map<string, string>();
  /** The first node made for each parameterized part of a layer (`${scope}${layer}#${k}`): later calls tie to it. */
  readonly paramOwners = new Map<string, string>();
  /** Graph inputs, in order. */
  readonly inputs: string[] = [];
  /** Pending ZeroPadding2D values already made into nodes of their own. */
  readonly padNodes = new WeakMap<Value, Value>();
  /** Layers of the outer model imported so far, for progress. */
  readonly outerLayersDone = new Set<string>();
  /** int32 graph inputs (token indices), by node, with the InputLayer's context: see checkTokenInputs. */
  readonly tokenInputs = new Map<string, LayerContext>();
  /** How to take back each change since the import began, newest last (see `rollback`). */
  private readonly undo: (() => void)[] = [];

  constructor(
    readonly source: string,
    readonly weights: ReadonlyMap<string, ParamTensor>,
    readonly onWarning: (message: string) => void,
  ) {}

  /** Called when a layer of the outer model has been imported (a shared layer: at each call). */
  onOuterLayer: (name: string) => void = () => {};

  add(node: Node): Value {
    let name = node.name;
    for (let k = 1; this.shapes.has(name); k++) name = `${node.name}_${k}`;
    const named = { ...node, name } as Node;
    let shape: Shape;
    try {
      shape = inferNodeShape(named, named.inputs.map((i) => this.shapes.get(i) as Shape));
    } catch (error) {
      if (error instanceof ShapefoldError) error.message = `${this.source}: ${error.message}`;
      throw error;
    }
    const values = shape.slice(1).reduce<number>((n, d) => (typeof d === 'number' ? n * d : n), 1);
    if (values > MAX_TENSOR_VALUES) {
      throw new LayersModelError({ source: this.source }, `'${name}' (${node.op}) would output [${shape.join(', ')}], ${values} values per sample; shapefold reads models whose tensors hold at most ${MAX_TENSOR_VALUES}`);
    }
    this.shapes.set(name, shape);
    this.nodes.push(named);
    this.record(() => {
      this.nodes.pop();
      this.shapes.delete(name);
    });
    return { node: name };
  }

  /** Notes how to take back a change (a node, a weight's reader, a tie, a padding node). */
  record(undo: () => void): void {
    this.undo.push(undo);
  }

  /** A point `rollback` can return to. */
  mark(): number {
    return this.undo.length;
  }

  /** Takes back every change since `mark`, newest first: a layer read partly is read again as opaque. */
  rollback(mark: number): void {
    while (this.undo.length > mark) (this.undo.pop() as () => void)();
  }
}

/**
 * A config shapefold's ops do not express though tfjs runs it (channels_first, groups, a causal
 * Conv1D, sizes the IR needs literal...): the layer is read again as an opaque layer.
 */
class UnsupportedConfig extends LayersModelError {}

class LayerContext {
  /** Parameterized nodes this call has made so far: the k in its parts' tie keys. */
  private parts = 0;

  /** `scope`: the nested models the layer is inside, as 'outer/inner/' ('' at the top). */
  constructor(
    readonly importer: Importer,
    readonly layer: KerasLayerJSON,
    readonly name: string,
    readonly scope = '',
  ) {}

  fail(field: string | undefined, problem: string): never {
    throw new LayersModelError({ source: this.importer.source, layer: `${this.scope}${this.name}`, className: this.layer.class_name, field }, problem);
  }

  /** A config tfjs runs but shapefold's ops cannot express: the layer is carried opaquely instead (callLayer). */
  unsupported(field: string | undefined, problem: string): never {
    throw new UnsupportedConfig({ source: this.importer.source, layer: `${this.scope}${this.name}`, className: this.layer.class_name, field }, problem);
  }

  /** A one-line warning in the same shape as an error: the model imports, but the user must know. */
  warn(field: string | undefined, problem: string): void {
    this.importer.onWarning(new LayersModelError({ source: this.importer.source, layer: `${this.scope}${this.name}`, className: this.layer.class_name, field }, problem).message);
  }

  /** A parameter the file implies but does not store (beta 0 when center is false), bounded like stored ones. */
  filled(count: number, value: number): ParamTensor {
    if (!Number.isSafeInteger(count) || count < 0 || count > MAX_PARAMETERS) {
      this.fail(undefined, `would need a parameter of ${count} values; shapefold reads at most ${MAX_PARAMETERS}`);
    }
    return filled(count, value);
  }

  get config(): Record<string, unknown> {
    return this.layer.config ?? {};
  }

  number(field: string, fallback?: number): number {
    const v = this.config[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`config.${field}`, `must be a number, got ${JSON.stringify(v)}`);
    return v as number;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.config[field] ?? fallback;
    if (typeof v !== 'boolean') this.fail(`config.${field}`, `must be true or false, got ${JSON.stringify(v)}`);
    return v as boolean;
  }

  pair(field: string, fallback?: Pair): Pair {
    const v = this.config[field] ?? fallback;
    const list = typeof v === 'number' ? [v, v] : v;
    if (!Array.isArray(list) || list.length !== 2 || !list.every((d) => isIntIn(d, 1, MAX_WINDOW))) {
      this.fail(`config.${field}`, this.sizeProblem('must be a positive integer or a pair of them', v));
    }
    return [list[0], list[1]] as Pair;
  }

  /** What is wrong with a size field's value `v`, given what it must be and the most it may hold. */
  private sizeProblem(expected: string, v: unknown, most = MAX_WINDOW): string {
    const past = most === MAX_WINDOW ? `holds a size past ${MAX_WINDOW}, the most shapefold runs on one axis` : `is past ${MAX_ATTR_INT}, the most tfjs's kernels take`;
    return `${holdsIntPast(v, most) ? past : expected}, got ${JSON.stringify(v)}`;
  }

  positiveInt(field: string): number {
    const v = this.config[field];
    if (!isIntIn(v, 1, MAX_ATTR_INT)) this.fail(`config.${field}`, this.sizeProblem('must be a positive integer', v, MAX_ATTR_INT));
    return v as number;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[], fallback: T): T {
    const v = this.config[field] ?? fallback;
    if (!allowed.includes(v as T)) this.unsupported(`config.${field}`, `is ${JSON.stringify(v)}; supported: ${allowed.join(', ')}`);
    return v as T;
  }

  /** A ZeroPadding2D/Cropping2D amount, n, [rows, cols] or [[top, bottom], [left, right]], as [top, bottom, left, right]. */
  sides(field: string, fallback: number): Pads {
    const p = this.config[field] ?? fallback;
    const side = (v: unknown): readonly [number, number] | undefined =>
      typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' ? [v[0], v[1] as number] : undefined;
    const rows = typeof p === 'number' ? [p, p] : side(Array.isArray(p) && p.length === 2 ? p[0] : undefined);
    const cols = typeof p === 'number' ? [p, p] : side(Array.isArray(p) ? p[1] : undefined);
    const all = [rows?.[0], rows?.[1], cols?.[0], cols?.[1]];
    if (!all.every((v) => isIntIn(v, 0, MAX_WINDOW))) {
      this.fail(`config.${field}`, this.sizeProblem('must be n, [rows, cols] or [[top, bottom], [left, right]] of non-negative integers', p));
    }
    return all as unknown as Pads;
  }

  channelsLast(): void {
    this.oneOf('data_format', ['channels_last'], 'channels_last');
  }

  /** The weight `${layer}/${suffix}` (also under an outer scope, or with TF's ':0'), by its manifest name. */
  find(suffix: string): [name: string, weight: ParamTensor] {
    const full = `${this.name}/${suffix}`;
    let found = this.importer.weights.has(full) ? full : undefined;
    if (found === undefined) {
      const scoped = [...this.importer.weights.keys()].filter((k) => k.endsWith(`/${full}`) || k === `${full}:0`);
      if (scoped.length > 1) this.fail(`weight '${full}'`, `is ambiguous: the manifest has ${scoped.map((k) => `'${k}'`).join(' and ')}`);
      found = scoped[0];
    }
    if (found === undefined) this.fail(`weight '${full}'`, 'is missing from the weights manifest');
    return [found as string, this.importer.weights.get(found as string) as ParamTensor];
  }

  weight(suffix: string, shape: readonly number[]): ParamTensor {
    const [found, w] = this.find(suffix);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      this.fail(`weight '${found}'`, `has shape [${w.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    const reader = this.importer.usedWeights.get(found);
    const self = `${this.scope}${this.name}`;
    if (reader !== undefined && reader !== self) this.fail(`weight '${found}'`, `is already the weight of layer '${reader}'; a weight belongs to one layer`);
    if (reader === undefined) {
      this.importer.usedWeights.set(found, self);
      this.importer.record(() => this.importer.usedWeights.delete(found));
    }
    return w;
  }

  shapeOf(value: Value): Shape {
    return this.importer.shapes.get(value.node) as Shape;
  }

  /** The input, with no pending zero padding or Keras flatten order unless the caller `takes` it. */
  plain(value: Value, takes: 'pads' | 'hwc' | 'nothing' = 'nothing'): Value {
    if (value.pads !== undefined && takes !== 'pads') return this.zeroPadded(value);
    if (value.hwc !== undefined && takes !== 'hwc') {
      // Anything but a Dense reads the values themselves in Keras's order: put them in it.
      const { channels, height, width } = value.hwc;
      const map = this.add({ name: `${value.node}_chw`, op: 'reshape', inputs: [value.node], attrs: { shape: [channels, height, width] }, params: {} });
      const keras = this.add({ name: `${value.node}_hwc`, op: 'transpose', inputs: [map.node], attrs: { perm: channelsLastPerm(4) }, params: {} });
      return this.add({ name: `${value.node}_keras_order`, op: 'flatten', inputs: [keras.node], attrs: {}, params: {} });
    }
    return value;
  }

  /**
   * A pending ZeroPadding2D read by a layer that cannot absorb it (a pool, an Add, ...) as a node
   * of its own: a depthwise 1x1 conv with weight 1, no bias and that explicit padding, which is
   * zero padding exactly (x * 1 inside, 0 on the border); the exporter writes it back as the
   * ZeroPadding2D it was. Made once per padded value, however many layers read it.
   */
  private zeroPadded(value: Value): Value {
    const done = this.importer.padNodes.get(value);
    if (done !== undefined) return done;
    const c = this.channels(value);
    const node = this.importer.add({
      name: value.padLayer ?? `${this.name}_pad`,
      op: 'conv2d',
      inputs: [value.node],
      attrs: { inChannels: c, outChannels: c, kernel: [1, 1], stride: [1, 1], dilation: [1, 1], groups: c, bias: false, padding: value.pads as Pads },
      params: { weight: { shape: [c, 1, 1, 1], data: new Float32Array(c).fill(1) } },
    });
    this.importer.padNodes.set(value, node);
    this.importer.record(() => this.importer.padNodes.delete(value));
    return node;
  }

  /** `value` permuted by `perm` (no node for the identity). */
  transposed(value: Value, perm: readonly number[], name: string): Value {
    if (isIdentityPerm(perm)) return value;
    return this.add({ name, op: 'transpose', inputs: [value.node], attrs: { perm }, params: {} });
  }

  /** The IR axis of Keras axis `field` (a number or a list of one) of a rank-`rank` tensor: last -> 1, k -> k + 1. */
  axis(field: string, rank: number, fallback: number): number {
    const v = this.config[field] ?? fallback;
    const a = Array.isArray(v) && v.length === 1 ? v[0] : v;
    if (!Number.isSafeInteger(a) || a < -rank || a >= rank || a === 0 || a === -rank) {
      this.fail(`config.${field}`, `is ${JSON.stringify(v)}; it must name one non-batch axis of a rank-${rank} tensor`);
    }
    const keras = a < 0 ? a + rank : a;
    return keras === rank - 1 ? 1 : keras + 1;
  }

  /** The channel count of a Keras [N, L, C] sequence (IR [N, C, L]). */
  sequenceChannels(value: Value): number {
    const rank = this.shapeOf(value).length;
    if (rank !== 3) this.fail(undefined, `needs a [N, L, C] input, got rank ${rank}`);
    return this.channels(value, false);
  }

  /** A 1-D size, `n` or `[n]`, as the pair [1, n] of the [N, C, 1, L] image the IR's window ops read. */
  linePair(field: string, fallback?: number): Pair {
    const v = this.config[field] ?? fallback;
    const n = Array.isArray(v) && v.length === 1 ? v[0] : v;
    if (!isIntIn(n, 1, MAX_WINDOW)) this.fail(`config.${field}`, this.sizeProblem('must be a positive integer or a list of one', v));
    return [1, n as number];
  }

  channels(value: Value, rank4Only = true): number {
    const shape = this.shapeOf(value);
    if (rank4Only && shape.length !== 4) this.fail(undefined, `needs a [N, H, W, C] input, got rank ${shape.length}`);
    const c = shape[1];
    if (typeof c !== 'number') this.fail(undefined, `input channels must be a known number, got ${String(c)}`);
    return c as number;
  }

  /**
   * Adds a node of this layer. A layer called several times (a shared layer, or any layer of a
   * nested model called several times) makes its nodes again on each call; each parameterized
   * one is tied to the node the first call made, so the copies share one set of weights.
   */
  add(node: Node, from?: Value): Value {
    const key = Object.keys(node.params).length > 0 ? `${this.scope}${this.name}#${this.parts++}` : undefined;
    const owner = key === undefined ? undefined : this.importer.paramOwners.get(key);
    const value = this.importer.add(owner === undefined ? node : ({ ...node, tiedTo: owner } as Node));
    if (key !== undefined && owner === undefined) {
      this.importer.paramOwners.set(key, value.node);
      this.importer.record(() => this.importer.paramOwners.delete(key));
    }
    return from?.hwc === undefined ? value : { ...value, hwc: from.hwc };
  }

  /** The node of config[field]'s activation (a Keras identifier) on `value`: named `name`, by default `${layer}_${identifier}`. */
  activation(value: Value, field = 'activation', name?: string): Value {
    const act = this.config[field] ?? 'linear';
    const spec = typeof act === 'string' ? irActivationOf(act) : act === null ? null : undefined;
    if (spec === undefined) this.fail(`config.${field}`, `is ${JSON.stringify(act)}; supported: ${KERAS_ACTIVATIONS.join(', ')}`);
    if (spec === null) return value;
    return this.add({ name: name ?? `${this.name}_${act as string}`, inputs: [value.node], params: {}, ...spec } as Node, value);
  }
}

/** Explicit padding of a conv reading `value`: its pending ZeroPadding2D plus the conv's own. */
function convPadding(ctx: LayerContext, value: Value, kernel: Pair, stride: Pair, dilation: Pair): Padding2d {
  const padding = ctx.oneOf('padding', ['valid', 'same'], 'valid');
  if (value.pads === undefined) return padding;
  const [t, b, l, r] = value.pads;
  if (padding === 'valid') return [t, b, l, r];
  const shape = ctx.shapeOf(value);
  const [h, w] = shape.length === 3 ? [1, shape[2]] : [shape[2], shape[3]];
  if (typeof h !== 'number' || typeof w !== 'number') {
    ctx.unsupported('config.padding', "is 'same' after a ZeroPadding2D on a map of unknown size; the total padding depends on it");
  }
  const same = resolvePadding2d('same', (h as number) + t + b, (w as number) + l + r, kernel, stride, dilation);
  return [t + same[0], b + same[1], l + same[2], r + same[3]];
}

function convCommon(ctx: LayerContext) {
  ctx.channelsLast();
  const kernel = ctx.pair('kernel_size');
  const stride = ctx.pair('strides', [1, 1]);
  const dilation = ctx.pair('dilation_rate', [1, 1]);
  if ((ctx.config.groups ?? 1) !== 1) ctx.unsupported('config.groups', `is ${JSON.stringify(ctx.config.groups)}; only 1 is supported`);
  return { kernel, stride, dilation, bias: ctx.bool('use_bias', true) };
}

/**
 * A depthwise conv. tfjs-layers 4.22's DepthwiseConv2D passes no dilation to its kernel (nor to
 * its output shape), so a dilated one runs undilated in tfjs: it is imported as tfjs runs it,
 * with a warning. SeparableConv2D does honour its dilation.
 */
function depthwise(ctx: LayerContext, x: Value, name: string, bias: boolean, dilationRan: 'honoured' | 'ignored'): Value {
  const common = convCommon(ctx);
  const { kernel, stride } = common;
  let dilation = common.dilation;
  if (dilationRan === 'ignored' && (dilation[0] !== 1 || dilation[1] !== 1)) {
    ctx.warn(
      'config.dilation_rate',
      `is [${dilation.join(', ')}], which tfjs-layers 4.22's DepthwiseConv2D ignores (it runs dilation 1): imported as tfjs computes it, undilated`,
    );
    dilation = [1, 1];
  }
  const cin = ctx.channels(x);
  // tfjs-layers 4.22 leaves depth_multiplier out of a SeparableConv2D's saved config: the kernel says it.
  // A DepthwiseConv2D saves it, and tfjs reads a missing one as 1.
  const separable = ctx.layer.class_name === 'SeparableConv2D';
  const mult = separable && ctx.config.depth_multiplier === undefined ? (ctx.find('depthwise_kernel')[1].shape[3] ?? 1) : ctx.number('depth_multiplier', 1);
  const k = ctx.weight('depthwise_kernel', [kernel[0], kernel[1], cin, mult]);
  return ctx.add({
    name,
    op: 'conv2d',
    inputs: [x.node],
    attrs: { inChannels: cin, outChannels: cin * mult, kernel, stride, dilation, groups: cin, bias, padding: convPadding(ctx, x, kernel, stride, dilation) },
    params: { weight: permute(k.data, [kernel[0], kernel[1], 1, cin * mult], KERAS_CONV_TO_IR), ...withBias(ctx, bias, cin * mult) },
  });
}

type Handler = (ctx: LayerContext, inputs: readonly Value[]) => Value;

const one = (ctx: LayerContext, inputs: readonly Value[]): Value => {
  if (inputs.length !== 1) ctx.fail('inbound_nodes', `must name exactly one input, got ${inputs.length}`);
  return inputs[0];
};

function withBias(ctx: LayerContext, use: boolean, count: number): { bias?: ParamTensor } {
  return use ? { bias: ctx.weight('bias', [count]) } : {};
}

const HANDLERS: Record<string, Handler> = {
  Conv2D: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs), 'pads');
    const { kernel, stride, dilation, bias } = convCommon(ctx);
    const cin = ctx.channels(x);
    const filters = ctx.number('filters');
    const k = ctx.weight('kernel', [kernel[0], kernel[1], cin, filters]);
    const conv = ctx.add({
      name: ctx.name,
      op: 'conv2d',
      inputs: [x.node],
      attrs: { inChannels: cin, outChannels: filters, kernel, stride, dilation, groups: 1, bias, padding: convPadding(ctx, x, kernel, stride, dilation) },
      params: { weight: permute(k.data, k.shape, KERAS_CONV_TO_IR), ...withBias(ctx, bias, filters) },
    });
    return ctx.activation(conv);
  },
  Conv2DTranspose: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs));
    const { kernel, stride, dilation, bias } = convCommon(ctx);
    if (dilation[0] !== 1 || dilation[1] !== 1) ctx.unsupported('config.dilation_rate', `is [${dilation.join(', ')}]; tfjs-layers' Conv2DTranspose has only 1`);
    const outputPadding = ctx.config.output_padding ?? null;
    if (outputPadding !== null) ctx.unsupported('config.output_padding', `is ${JSON.stringify(outputPadding)}; tfjs-layers' Conv2DTranspose ignores it, so only null is read`);
    const mode = ctx.oneOf('padding', ['valid', 'same'], 'valid');
    const axes = [0, 1].map((axis) => transposeAxisOf(mode, kernel[axis], stride[axis]));
    const cin = ctx.channels(x);
    const filters = ctx.number('filters');
    const k = ctx.weight('kernel', [kernel[0], kernel[1], filters, cin]);
    const conv = ctx.add({
      name: ctx.name,
      op: 'convTranspose2d',
      inputs: [x.node],
      attrs: {
        inChannels: cin,
        outChannels: filters,
        kernel,
        stride,
        dilation,
        groups: 1,
        bias,
        padding: [axes[0].padding, axes[1].padding],
        outputPadding: [axes[0].outputPadding, axes[1].outputPadding],
      },
      // [kH, kW, Cout, Cin] -> [Cin, Cout, kH, kW] is the Conv2D permutation: in and out swap on both sides.
      params: { weight: permute(k.data, k.shape, KERAS_CONV_TO_IR), ...withBias(ctx, bias, filters) },
    });
    if (axes.every((a) => a.cropEnd === 0)) return ctx.activation(conv);
    const crop = [0, axes[0].cropEnd, 0, axes[1].cropEnd] as const;
    return ctx.activation(ctx.add({ name: `${ctx.name}_crop`, op: 'crop2d', inputs: [conv.node], attrs: { crop }, params: {} }));
  },
  DepthwiseConv2D: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs), 'pads');
    return ctx.activation(depthwise(ctx, x, ctx.name, ctx.bool('use_bias', true), 'ignored'));
  },
  SeparableConv2D: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs), 'pads');
    const dw = depthwise(ctx, x, `${ctx.name}_depthwise`, false, 'honoured');
    const mid = ctx.channels(dw);
    const filters = ctx.number('filters');
    const bias = ctx.bool('use_bias', true);
    const k = ctx.weight('pointwise_kernel', [1, 1, mid, filters]);
    const pw = ctx.add({
      name: ctx.name,
      op: 'conv2d',
      inputs: [dw.node],
      attrs: { inChannels: mid, outChannels: filters, kernel: [1, 1], stride: [1, 1], dilation: [1, 1], groups: 1, bias, padding: 'valid' },
      params: { weight: permute(k.data, k.shape, KERAS_CONV_TO_IR), ...withBias(ctx, bias, filters) },
    });
    return ctx.activation(pw);
  },
  Conv1D: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs));
    ctx.oneOf('data_format', ['channels_last'], 'channels_last');
    const cin = ctx.sequenceChannels(x);
    const [kernel, stride, dilation] = [ctx.linePair('kernel_size'), ctx.linePair('strides', 1), ctx.linePair('dilation_rate', 1)];
    if ((ctx.config.groups ?? 1) !== 1) ctx.unsupported('config.groups', `is ${JSON.stringify(ctx.config.groups)}; only 1 is supported`);
    // tfjs-layers 4.22 throws NotImplementedError for 'causal' when the layer runs.
    const padding = ctx.oneOf('padding', ['valid', 'same'], 'valid');
    const filters = ctx.number('filters');
    const bias = ctx.bool('use_bias', true);
    const k = ctx.weight('kernel', [kernel[1], cin, filters]);
    const conv = ctx.add({
      name: ctx.name,
      op: 'conv2d',
      inputs: [x.node],
      attrs: { inChannels: cin, outChannels: filters, kernel, stride, dilation, groups: 1, bias, padding },
      // [k, Cin, Cout] is the Conv2D kernel [1, k, Cin, Cout] without its height.
      params: { weight: permute(k.data, [1, ...k.shape], KERAS_CONV_TO_IR), ...withBias(ctx, bias, filters) },
    });
    return ctx.activation(conv);
  },
  MaxPooling1D: (ctx, inputs) => pool1d(ctx, inputs, 'maxPool2d'),
  AveragePooling1D: (ctx, inputs) => pool1d(ctx, inputs, 'avgPool2d'),
  GlobalAveragePooling1D: (ctx, inputs) => globalPool1d(ctx, inputs, 'globalAvgPool'),
  GlobalMaxPooling1D: (ctx, inputs) => globalPool1d(ctx, inputs, 'globalMaxPool'),
  ZeroPadding2D: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs), 'pads');
    ctx.channelsLast();
    const all = ctx.sides('padding', 1);
    const before = x.pads ?? [0, 0, 0, 0];
    return { node: x.node, pads: all.map((v, i) => v + before[i]) as unknown as Pads, padLayer: ctx.name };
  },
  Cropping2D: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs));
    ctx.channelsLast();
    ctx.channels(x);
    return ctx.add({ name: ctx.name, op: 'crop2d', inputs: [x.node], attrs: { crop: ctx.sides('cropping', 0) }, params: {} });
  },
  BatchNormalization: (ctx, inputs) => {
    const input = ctx.plain(one(ctx, inputs));
    const rank = ctx.shapeOf(input).length;
    // The IR's batchNorm is on [N, C], [N, C, L] and [N, C, H, W]; after a Conv3D, tfjs runs it.
    if (rank > 4) return opaqueLayer(ctx, inputs)[0];
    // Another axis is moved to the IR's channel axis 1 and back: a swap is its own inverse.
    const axis = ctx.axis('axis', rank, -1);
    const swap = Array.from({ length: rank }, (_, i) => (i === 1 ? axis : i === axis ? 1 : i));
    const x = ctx.transposed(input, swap, `${ctx.name}_axis_in`);
    const c = ctx.channels(x, false);
    const zeroOrOne = (field: string, weight: string, value: number) => (ctx.bool(field, true) ? ctx.weight(weight, [c]) : ctx.filled(c, value));
    // center = scale = false is PyTorch's affine=False: no gamma and beta at all.
    const affine = ctx.bool('center', true) || ctx.bool('scale', true);
    const bn = ctx.add({
      name: ctx.name,
      op: 'batchNorm',
      inputs: [x.node],
      attrs: {
        numFeatures: c,
        eps: ctx.number('epsilon', 1e-3),
        decay: ctx.number('momentum', 0.99),
        unbiasedRunningVar: false,
        frozen: ctx.config.trainable === false ? 'all' : false,
        ...(affine ? {} : { affine: false }),
      },
      params: {
        ...(affine ? { gamma: zeroOrOne('scale', 'gamma', 1), beta: zeroOrOne('center', 'beta', 0) } : {}),
        runningMean: ctx.weight('moving_mean', [c]),
        runningVar: ctx.weight('moving_variance', [c]),
      },
    });
    return ctx.transposed(bn, swap, `${ctx.name}_axis_out`);
  },
  LayerNormalization: (ctx, inputs) => {
    const input = one(ctx, inputs);
    const rank = ctx.shapeOf(input).length;
    const axes = normalizationAxes(ctx, rank);
    const [center, scale] = [ctx.bool('center', true), ctx.bool('scale', true)];
    const affine = center || scale;
    const eps = ctx.number('epsilon', 1e-3);
    if (axes.length === 1 && axes[0] === rank - 1) {
      // Over the last Keras axis alone: the IR's per-position normalization over channels.
      const x = ctx.plain(input, 'hwc');
      const c = ctx.channels(x, false);
      const params = affine ? { gamma: scale ? ctx.weight('gamma', [c]) : filled(c, 1), beta: center ? ctx.weight('beta', [c]) : filled(c, 0) } : {};
      return ctx.add({ name: ctx.name, op: 'layerNorm', inputs: [x.node], attrs: { normalizedShape: [c], over: 'c', eps, affine }, params }, x);
    }
    // Over every non-batch axis: the IR's per-sample normalization over C, H and W.
    if (axes.length !== rank - 1 || rank > 4) return opaqueLayer(ctx, inputs)[0];
    const x = ctx.plain(input);
    const shape = ctx.shapeOf(x).slice(1);
    if (!shape.every((d): d is number => typeof d === 'number')) ctx.unsupported('config.axis', `normalizes over sizes [${shape.join(', ')}] (IR order) that are not all known; gamma and beta need them`);
    const irShape = shape as number[];
    const kerasShape = inChannelsLastOrder([0, ...irShape]).slice(1);
    // tfjs stores gamma and beta with the axes in config order, and reshapes (not transposes) them to the input's order.
    const stored = axes.map((axis) => kerasShape[axis - 1]);
    const size = irShape.reduce((p, d) => p * d, 1);
    const param = (on: boolean, weight: string, value: number) =>
      on ? sampleToChannelsFirst(ctx.weight(weight, stored).data, kerasShape) : { shape: irShape, data: ctx.filled(size, value).data };
    const params = affine ? { gamma: param(scale, 'gamma', 1), beta: param(center, 'beta', 0) } : {};
    return ctx.add({ name: ctx.name, op: 'layerNorm', inputs: [x.node], attrs: { normalizedShape: irShape, over: 'chw', eps, affine }, params });
  },
  Permute: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs));
    const rank = ctx.shapeOf(x).length;
    const dims = ctx.config.dims;
    if (!Array.isArray(dims) || dims.length !== rank - 1 || ![...dims].sort((a, b) => a - b).every((d, i) => d === i + 1)) {
      ctx.fail('config.dims', `must be a permutation of 1..${rank - 1}, got ${JSON.stringify(dims)}`);
    }
    // Keras permutes its channels-last tensor: to channels-last, permute, back to channels-first.
    const keras = [0, ...(dims as number[])];
    const perm = composePerms(composePerms(channelsLastPerm(rank), keras), channelsFirstPerm(rank));
    return ctx.transposed(x, perm, ctx.name);
  },
  RepeatVector: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs));
    return ctx.add({ name: ctx.name, op: 'repeatVector', inputs: [x.node], attrs: { times: ctx.positiveInt('n') }, params: {} });
  },
  Dense: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs), 'hwc');
    // On [N, ..., features] Keras's Dense maps the last axis at every position: the IR's axis 1.
    const features = ctx.channels(x, false);
    const units = ctx.number('units');
    const bias = ctx.bool('use_bias', true);
    const k = ctx.weight('kernel', [features, units]);
    const hwc = x.hwc;
    const rows = hwc === undefined ? k.data : reorderRows(k.data, features, units, (f) => hwcRowOfChwFeature(f, hwc.channels, hwc.height, hwc.width));
    const dense = ctx.add({
      name: ctx.name,
      op: 'linear',
      inputs: [x.node],
      attrs: { inFeatures: features, outFeatures: units, bias },
      params: { weight: permute(rows, k.shape, TRANSPOSE_2D), ...withBias(ctx, bias, units) },
    });
    return ctx.activation(dense);
  },
  Activation: (ctx, inputs) => ctx.activation(ctx.plain(one(ctx, inputs), 'hwc'), 'activation', ctx.name),
  ReLU: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs), 'hwc');
    const max = ctx.config.max_value ?? null;
    if (max !== null && (typeof max !== 'number' || !Number.isFinite(max) || max < 0)) {
      ctx.fail('config.max_value', `must be null or a number >= 0, got ${JSON.stringify(max)}`);
    }
    const slope = ctx.number('negative_slope', 0);
    const threshold = ctx.number('threshold', 0);
    if (slope < 0) ctx.fail('config.negative_slope', `must be >= 0, got ${slope}`);
    if (threshold < 0) ctx.fail('config.threshold', `must be >= 0, got ${threshold}`);
    const maxValue = max as number | null;
    const node =
      threshold !== 0 || (maxValue !== null && (maxValue !== 6 || slope !== 0))
        ? { op: 'generalRelu', attrs: { maxValue, negativeSlope: slope, threshold } }
        : maxValue === 6
          ? { op: 'relu6', attrs: {} }
          : slope === 0
            ? { op: 'relu', attrs: {} }
            : { op: 'leakyRelu', attrs: { alpha: slope } };
    return ctx.add({ name: ctx.name, inputs: [x.node], params: {}, ...node } as Node, x);
  },
  LeakyReLU: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs), 'hwc');
    const alpha = ctx.number('alpha', ctx.config.negative_slope === undefined ? 0.3 : ctx.number('negative_slope'));
    return ctx.add({ name: ctx.name, op: 'leakyRelu', inputs: [x.node], attrs: { alpha }, params: {} }, x);
  },
  ELU: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs), 'hwc');
    return ctx.add({ name: ctx.name, op: 'elu', inputs: [x.node], attrs: { alpha: ctx.number('alpha', 1) }, params: {} }, x);
  },
  ThresholdedReLU: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs), 'hwc');
    const attrs = { maxValue: null, negativeSlope: 0, threshold: ctx.number('theta', 1) };
    return ctx.add({ name: ctx.name, op: 'generalRelu', inputs: [x.node], attrs, params: {} }, x);
  },
  PReLU: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs));
    const shape = ctx.shapeOf(x);
    const rank = shape.length;
    const shared = ctx.config.shared_axes ?? null;
    const sharedAxes = shared === null ? [] : typeof shared === 'number' ? [shared] : shared;
    if (!Array.isArray(sharedAxes) || !sharedAxes.every((a) => Number.isSafeInteger(a) && a >= 1 && a < rank)) {
      ctx.fail('config.shared_axes', `must be null or axes in 1..${rank - 1}, got ${JSON.stringify(shared)}`);
    }
    // Keras' alpha is input_shape[1:] (channels-last) with 1 on the shared axes.
    const kerasShape = Array.from({ length: rank - 1 }, (_, i) => {
      const axis = i + 1;
      if ((sharedAxes as number[]).includes(axis)) return 1;
      const d = shape[channelsFirstAxis(axis, rank)];
      if (typeof d !== 'number') ctx.fail('config.shared_axes', `does not share axis ${axis}, whose size is unknown (${String(d)})`);
      return d as number;
    });
    const irAlpha = sampleToChannelsFirst(ctx.weight('alpha', kerasShape).data, kerasShape);
    return ctx.add({ name: ctx.name, op: 'prelu', inputs: [x.node], attrs: { alphaShape: irAlpha.shape }, params: { alpha: irAlpha } });
  },
  Softmax: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs), 'hwc');
    const listed = ctx.config.axis;
    if (Array.isArray(listed) && listed.length !== 1) ctx.unsupported('config.axis', `is ${JSON.stringify(listed)}; a softmax over several axes is not supported`);
    // Keras' default is -1; tfjs-layers writes its own default (1) explicitly.
    const axis = kerasAxis(ctx, x, 'axis', -1, Array.isArray(listed) ? listed[0] : undefined);
    return ctx.add({ name: ctx.name, op: 'softmax', inputs: [x.node], attrs: { axis }, params: {} }, x);
  },
  Add: (ctx, inputs) => {
    const xs = atLeastTwo(ctx, inputs);
    const shapes = xs.map((v) => ctx.shapeOf(v));
    const equal = shapes.every((s) => s.length === shapes[0].length && s.every((d, i) => d === shapes[0][i]));
    // Equal shapes are the residual add the fold engine knows; shapes that do not broadcast get add's own message.
    if (equal || !broadcasts(shapes)) return ctx.add({ name: ctx.name, op: 'add', inputs: xs.map((v) => v.node), attrs: {}, params: {} });
    return ctx.add({ name: ctx.name, op: 'merge', inputs: xs.map((v) => v.node), attrs: { fn: 'add' }, params: {} });
  },
  Subtract: (ctx, inputs) => mergeLayer(ctx, inputs, 'subtract'),
  Multiply: (ctx, inputs) => mergeLayer(ctx, inputs, 'multiply'),
  Average: (ctx, inputs) => mergeLayer(ctx, inputs, 'average'),
  Maximum: (ctx, inputs) => mergeLayer(ctx, inputs, 'maximum'),
  Minimum: (ctx, inputs) => mergeLayer(ctx, inputs, 'minimum'),
  Concatenate: (ctx, inputs) => {
    const xs = atLeastTwo(ctx, inputs);
    const axis = kerasAxis(ctx, xs[0], 'axis', -1);
    const node = axis === 1 ? { op: 'concat', attrs: {} } : { op: 'concatAxis', attrs: { axis } };
    return ctx.add({ name: ctx.name, inputs: xs.map((v) => v.node), params: {}, ...node } as Node);
  },
  MaxPooling2D: (ctx, inputs) => pool(ctx, inputs, 'maxPool2d'),
  AveragePooling2D: (ctx, inputs) => pool(ctx, inputs, 'avgPool2d'),
  GlobalAveragePooling2D: (ctx, inputs) => globalPool(ctx, inputs, 'globalAvgPool'),
  GlobalMaxPooling2D: (ctx, inputs) => globalPool(ctx, inputs, 'globalMaxPool'),
  UpSampling2D: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs));
    ctx.channelsLast();
    ctx.channels(x);
    const attrs = { scale: ctx.pair('size', [2, 2]), interpolation: ctx.oneOf('interpolation', INTERPOLATIONS, 'nearest') };
    return ctx.add({ name: ctx.name, op: 'upsample2d', inputs: [x.node], attrs, params: {} });
  },
  Resizing: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs));
    ctx.channels(x);
    // tfjs-layers 4.22 resizes with align_corners = !crop_to_aspect_ratio and never crops.
    const attrs = {
      size: [ctx.positiveInt('height'), ctx.positiveInt('width')] as const,
      interpolation: ctx.oneOf('interpolation', INTERPOLATIONS, 'bilinear'),
      alignCorners: !ctx.bool('crop_to_aspect_ratio', false),
    };
    return ctx.add({ name: ctx.name, op: 'resize2d', inputs: [x.node], attrs, params: {} });
  },
  CenterCrop: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs));
    ctx.channels(x);
    const [, , height, width] = ctx.shapeOf(x);
    if (typeof height !== 'number' || typeof width !== 'number') {
      return ctx.unsupported(undefined, `crops a map of unknown size [${height}, ${width}]; the crop offsets depend on it`);
    }
    const [h, w] = [ctx.positiveInt('height'), ctx.positiveInt('width')];
    const crop = centerCropOf(height, width, h, w);
    if (crop === undefined) {
      // tfjs-layers 4.22 resizes the whole map (bilinear, align_corners false) when it is smaller on either side.
      const attrs = { size: [h, w] as const, interpolation: 'bilinear' as const, alignCorners: false };
      return ctx.add({ name: ctx.name, op: 'resize2d', inputs: [x.node], attrs, params: {} });
    }
    return ctx.add({ name: ctx.name, op: 'crop2d', inputs: [x.node], attrs: { crop }, params: {} });
  },
  Rescaling: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs), 'hwc');
    const scale = ctx.number('scale');
    const offset = ctx.number('offset', 0);
    if (!(scale > 0)) ctx.unsupported('config.scale', `is ${scale}; only a positive scale is read (as normalize with std 1/scale)`);
    const c = ctx.channels(x, false);
    // y = x*scale + offset = (x - mean) / std with std = 1/scale, mean = -offset/scale.
    const attrs = { mean: new Array<number>(c).fill(-offset / scale), std: new Array<number>(c).fill(1 / scale) };
    return ctx.add({ name: ctx.name, op: 'normalize', inputs: [x.node], attrs, params: {} }, x);
  },
  Flatten: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs));
    const shape = ctx.shapeOf(x);
    if (shape.length === 2) return x;
    if (shape.length > 4) {
      const keras = ctx.transposed(x, channelsLastPerm(shape.length), `${ctx.name}_keras_order`);
      return ctx.add({ name: ctx.name, op: 'flatten', inputs: [keras.node], attrs: {}, params: {} });
    }
    const flat = ctx.add({ name: ctx.name, op: 'flatten', inputs: [x.node], attrs: {}, params: {} });
    // Keras flattens a sequence [L, C] as the map [1, L, C].
    const [channels, height, width] = shape.length === 3 ? [shape[1], 1, shape[2]] : [shape[1], shape[2], shape[3]];
    if (height === 1 && width === 1) return flat;
    if (typeof channels !== 'number' || typeof height !== 'number' || typeof width !== 'number') {
      ctx.unsupported(undefined, `flattens a map of unknown size [${shape.slice(1).join(', ')}]`);
    }
    return { ...flat, hwc: { channels: channels as number, height: height as number, width: width as number } };
  },
  Dropout: (ctx, inputs) => {
    const noiseShape = ctx.config.noise_shape ?? null;
    if (noiseShape !== null) ctx.unsupported('config.noise_shape', `is ${JSON.stringify(noiseShape)}; only null (independent values) is read`);
    return dropoutLayer(ctx, inputs, 'dropout', 'rate');
  },
  SpatialDropout1D: (ctx, inputs) => dropoutLayer(ctx, inputs, 'spatialDropout', 'rate', 3),
  SpatialDropout2D: (ctx, inputs) => dropoutLayer(ctx, inputs, 'spatialDropout', 'rate', 4),
  GaussianDropout: (ctx, inputs) => dropoutLayer(ctx, inputs, 'gaussianDropout', 'rate'),
  GaussianNoise: (ctx, inputs) => dropoutLayer(ctx, inputs, 'gaussianNoise', 'stddev'),
  AlphaDropout: (ctx, inputs) => dropoutLayer(ctx, inputs, 'alphaDropout', 'rate'),
  Reshape: (ctx, inputs) => {
    const x = ctx.plain(one(ctx, inputs));
    const target = ctx.config.target_shape;
    const shape = ctx.shapeOf(x);
    const c = shape[1];
    const is = (want: readonly unknown[]) => Array.isArray(target) && target.length === want.length && target.every((d, i) => d === want[i]);
    if (shape.length === 4 && shape[2] === 1 && shape[3] === 1 && is([c])) {
      return ctx.add({ name: ctx.name, op: 'flatten', inputs: [x.node], attrs: {}, params: {} });
    }
    const producer = ctx.importer.nodes.find((n) => n.name === x.node);
    if (shape.length === 2 && is([1, 1, c]) && producer?.op === 'globalAvgPool' && !producer.attrs.keepDims) {
      return ctx.add({ name: ctx.name, op: 'globalAvgPool', inputs: [...producer.inputs], attrs: { keepDims: true }, params: {} });
    }
    if ((shape.length === 2 && is([c])) || (shape.length === 4 && is([shape[2], shape[3], c]))) return x;
    // Keras reshapes its channels-last tensor: to channels-last, reshape, back to channels-first.
    const sizes = shape.slice(1);
    if (!sizes.every((d): d is number => typeof d === 'number')) {
      return ctx.unsupported(undefined, `reshapes a tensor of unknown size [${sizes.join(', ')}] (IR order); the IR reshapes literal sizes`);
    }
    const resolved = reshapeTarget(ctx, target, sizes.reduce((p, d) => p * d, 1));
    const keras = ctx.transposed(x, channelsLastPerm(shape.length), `${ctx.name}_keras_order`);
    const reshaped = ctx.add({ name: ctx.name, op: 'reshape', inputs: [keras.node], attrs: { shape: resolved }, params: {} });
    return ctx.transposed(reshaped, channelsFirstPerm(resolved.length + 1), `${ctx.name}_channels_first`);
  },
};

function broadcasts(shapes: readonly Shape[]): boolean {
  try {
    broadcastShapes(shapes, (detail) => {
      throw new Error(detail);
    });
    return true;
  } catch {
    return false;
  }
}

function atLeastTwo(ctx: LayerContext, inputs: readonly Value[]): Value[] {
  if (inputs.length < 2) ctx.fail('inbound_nodes', `must name at least two inputs, got ${inputs.length}`);
  return inputs.map((v) => ctx.plain(v));
}

function mergeLayer(ctx: LayerContext, inputs: readonly Value[], fn: MergeFn): Value {
  const xs = atLeastTwo(ctx, inputs);
  if (fn === 'subtract' && xs.length !== 2) ctx.fail('inbound_nodes', `must name exactly two inputs, got ${xs.length}`);
  return ctx.add({ name: ctx.name, op: 'merge', inputs: xs.map((v) => v.node), attrs: { fn }, params: {} });
}

/**
 * The layer as its handler reads it, or, where shapefold's ops cannot express its config (an
 * UnsupportedConfig), everything the handler made taken back and the layer read as opaque, with a
 * warning naming the field.
 */
function handledOrOpaque(ctx: LayerContext, handler: Handler, inputs: readonly Value[]): Value[] {
  const mark = ctx.importer.mark();
  try {
    return [handler(ctx, inputs)];
  } catch (error) {
    if (!(error instanceof UnsupportedConfig)) throw error;
    ctx.importer.rollback(mark);
    const again = new LayerContext(ctx.importer, ctx.layer, ctx.name, ctx.scope);
    again.warn(error.field, `${error.problem}; shapefold carries the layer as an opaque one that tfjs-layers runs (nothing folds across it)`);
    return opaqueLayer(again, inputs);
  }
}

/** A LayerNormalization's axis (a number or a list) as distinct channels-last axes >= 1, as tfjs resolves them. */
function normalizationAxes(ctx: LayerContext, rank: number): number[] {
  const v = ctx.config.axis ?? -1;
  const list = Array.isArray(v) ? v : [v];
  const axes = list.map((a) => (Number.isSafeInteger(a) && a < 0 ? a + rank : a));
  if (axes.length === 0 || !axes.every((a) => Number.isSafeInteger(a) && a >= 1 && a < rank) || new Set(axes).size !== axes.length) {
    ctx.fail('config.axis', `is ${JSON.stringify(v)}; it must name distinct non-batch axes of a rank-${rank} input`);
  }
  return axes as number[];
}

/** A Keras (channels-last) axis field as the IR axis; the batch axis is refused. */
function kerasAxis(ctx: LayerContext, value: Value, field: string, fallback: number, given?: unknown): number {
  const rank = ctx.shapeOf(value).length;
  const axis = given === undefined ? ctx.number(field, fallback) : (given as number);
  const normalized = axis < 0 ? axis + rank : axis;
  if (!Number.isSafeInteger(axis) || normalized < 1 || normalized >= rank) {
    ctx.fail(`config.${field}`, `is ${axis}; a rank-${rank} input has axes 1..${rank - 1} (or -${rank - 1}..-1), the batch axis 0 excluded`);
  }
  return channelsFirstAxis(normalized, rank);
}

function dropoutLayer(ctx: LayerContext, inputs: readonly Value[], kind: DropoutKind, field: 'rate' | 'stddev', rank?: number): Value {
  const x = ctx.plain(one(ctx, inputs), 'hwc');
  const actual = ctx.shapeOf(x).length;
  if (rank !== undefined && actual !== rank) ctx.fail(undefined, `needs a rank-${rank} input, got rank ${actual}`);
  const rate = ctx.number(field);
  if (rate < 0 || (field === 'rate' && rate >= 1)) ctx.fail(`config.${field}`, `must be ${field === 'rate' ? 'in [0, 1)' : '>= 0'}, got ${rate}`);
  return ctx.add({ name: ctx.name, op: 'dropout', inputs: [x.node], attrs: { kind, rate }, params: {} }, x);
}

/** A Keras target_shape with its one unknown size (-1 or null) resolved against `total` values per sample. */
function reshapeTarget(ctx: LayerContext, target: unknown, total: number): number[] {
  const unknown = (d: unknown) => d === -1 || d === null;
  if (!Array.isArray(target) || target.length === 0 || !target.every((d) => unknown(d) || (Number.isSafeInteger(d) && d > 0)) || target.filter(unknown).length > 1) {
    return ctx.fail('config.target_shape', `must be a list of positive sizes with at most one -1, got ${JSON.stringify(target)}`);
  }
  const known = target.filter((d) => !unknown(d)).reduce((p: number, d: number) => p * d, 1);
  const resolved = target.map((d) => (unknown(d) ? total / known : d)) as number[];
  if (!resolved.every((d) => Number.isSafeInteger(d)) || resolved.reduce((p, d) => p * d, 1) !== total) {
    return ctx.fail('config.target_shape', `${JSON.stringify(target)} does not hold the ${total} values of each sample`);
  }
  return resolved;
}

const INTERPOLATIONS = ['nearest', 'bilinear'] as const;

function pool1d(ctx: LayerContext, inputs: readonly Value[], op: 'maxPool2d' | 'avgPool2d'): Value {
  const x = ctx.plain(one(ctx, inputs));
  ctx.oneOf('data_format', ['channels_last'], 'channels_last');
  ctx.sequenceChannels(x);
  const kernel = ctx.linePair('pool_size', 2);
  const stride = ctx.config.strides === null ? kernel : ctx.linePair('strides', kernel[1]);
  const padding = ctx.oneOf('padding', ['valid', 'same'], 'valid');
  const attrs = op === 'avgPool2d' ? { kernel, stride, padding, countIncludePad: false } : { kernel, stride, padding };
  return ctx.add({ name: ctx.name, op, inputs: [x.node], attrs, params: {} } as Node);
}

function globalPool1d(ctx: LayerContext, inputs: readonly Value[], op: 'globalAvgPool' | 'globalMaxPool'): Value {
  const x = ctx.plain(one(ctx, inputs));
  ctx.oneOf('data_format', ['channels_last'], 'channels_last');
  ctx.sequenceChannels(x);
  return ctx.add({ name: ctx.name, op, inputs: [x.node], attrs: { keepDims: ctx.bool('keepdims', false) }, params: {} });
}

function globalPool(ctx: LayerContext, inputs: readonly Value[], op: 'globalAvgPool' | 'globalMaxPool'): Value {
  const x = ctx.plain(one(ctx, inputs));
  ctx.channelsLast();
  ctx.channels(x);
  return ctx.add({ name: ctx.name, op, inputs: [x.node], attrs: { keepDims: ctx.bool('keepdims', false) }, params: {} });
}

/**
 * tfjs-layers 4.22's CenterCrop of an H x W map to h x w as [top, bottom, left, right], or
 * undefined where it resizes instead (h > H or w > W). Its offsets are floor((H - h) / 2), but a
 * width offset that would be 0 while W != w is 1. It samples with cropAndResize('nearest') on
 * the box [top/H, left/W, (top+h)/H, (left+w)/W]: row i reads top + i + (i(H-h)/(h-1) - top)/H,
 * within 1/2 of top + i for every i, so the nearest row is top + i: the crop is exact.
 */
export function centerCropOf(height: number, width: number, h: number, w: number): readonly [number, number, number, number] | undefined {
  const top = height === h ? 0 : Math.floor((height - h) / 2);
  const floorLeft = width === w ? 0 : Math.floor((width - w) / 2);
  const left = width !== w && floorLeft === 0 ? 1 : floorLeft;
  if (top < 0 || left < 0) return undefined;
  return [top, height - h - top, left, width - w - left];
}

function pool(ctx: LayerContext, inputs: readonly Value[], op: 'maxPool2d' | 'avgPool2d'): Value {
  const x = ctx.plain(one(ctx, inputs));
  ctx.channelsLast();
  ctx.channels(x);
  const kernel = ctx.pair('pool_size', [2, 2]);
  const stride = ctx.config.strides === null ? kernel : ctx.pair('strides', kernel);
  const padding = ctx.oneOf('padding', ['valid', 'same'], 'valid');
  const attrs = op === 'avgPool2d' ? { kernel, stride, padding, countIncludePad: false } : { kernel, stride, padding };
  return ctx.add({ name: ctx.name, op, inputs: [x.node], attrs, params: {} } as Node);
}

/**
 * The nodes some output reads, plus every input. A Reshape to [1, 1, C] re-reads the pool before
 * it with keepDims, which can leave that pool unread.
 */
function withoutDeadNodes(nodes: readonly Node[], outputs: readonly string[]): Node[] {
  const live = new Set(outputs);
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (live.has(nodes[i].name)) for (const input of nodes[i].inputs) live.add(input);
  }
  return nodes.filter((node) => node.op === 'input' || live.has(node.name));
}

/** A reference to one output of one call of a layer: Keras' [layer, node index, tensor index]. */
type Ref = readonly [layer: string, nodeIndex: number, tensorIndex: number];

/** A Sequential or functional model config: the whole file's, or a nested model's. */
interface Topology {
  readonly className: 'Sequential' | 'Functional';
  readonly layers: readonly KerasLayerJSON[];
  readonly inputs: readonly Ref[];
  readonly outputs: readonly Ref[];
}

const MODEL_CLASSES = ['Sequential', 'Model', 'Functional'];

const layerName = (l: KerasLayerJSON, i: number) => (typeof l.config?.name === 'string' ? l.config.name : (l.name ?? `layer_${i}`));

// tfjs-layers reads the node and tensor indices without defaults: both must be there.
const isRef = (e: unknown): e is unknown[] =>
  Array.isArray(e) && typeof e[0] === 'string' && [e[1], e[2]].every((k) => Number.isSafeInteger(k) && (k as number) >= 0);

const toRef = (e: unknown[]): Ref => [e[0] as string, (e[1] ?? 0) as number, (e[2] ?? 0) as number];

/**
 * A layer entry's own fields, before any handler reads it: a class name, a config object, one
 * name (`config.name`; a functional model's entries repeat it as `name`, which must agree) and a
 * list of inbound nodes.
 */
function checkLayerEntry(l: unknown, at: string, functional: boolean, fail: (field: string, problem: string) => never): void {
  if (typeof l !== 'object' || l === null || Array.isArray(l)) return fail(at, `must be a layer { class_name, config }, got ${JSON.stringify(l)}`);
  const { class_name: className, config, name, inbound_nodes: inbound } = l as Record<string, unknown>;
  if (typeof className !== 'string') fail(`${at}.class_name`, `must be a string, got ${JSON.stringify(className) ?? 'missing'}`);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) fail(`${at}.config`, `must be an object, got ${JSON.stringify(config) ?? 'missing'}`);
  const configName = (config as Record<string, unknown>).name;
  if (typeof configName !== 'string' || configName === '') fail(`${at}.config.name`, `must be the layer's name, got ${JSON.stringify(configName) ?? 'missing'}`);
  // tfjs-layers links a functional model's layers by this name (and loops forever without it).
  if (functional && name === undefined) fail(`${at}.name`, 'is missing; a functional model names each layer entry');
  if (name !== undefined && name !== configName) fail(`${at}.name`, `is ${JSON.stringify(name)}, but config.name is ${JSON.stringify(configName)}`);
  if (functional ? !Array.isArray(inbound) : inbound !== undefined && !Array.isArray(inbound)) fail(`${at}.inbound_nodes`, `must be a list, got ${JSON.stringify(inbound) ?? 'missing'}`);
  if (className === 'InputLayer' && Array.isArray(inbound) && inbound.length > 0) fail(`${at}.inbound_nodes`, 'must be empty: an InputLayer reads no other layer');
  // An InputLayer's dtype is checked with its shape (inputNode); tfjs makes other layers' weights and outputs in theirs.
  const dtype = (config as Record<string, unknown>).dtype;
  if (className !== 'InputLayer' && dtype !== undefined && dtype !== null && dtype !== 'float32') fail(`${at}.config.dtype`, `is ${JSON.stringify(dtype) ?? String(dtype)}; shapefold reads float32 layers only`);
}

/**
 * A model config: the file's (`modelTopology`, or its `model_config` in files converted from
 * Keras HDF5), or a nested model's layer JSON. `site` is where its errors point.
 */
function readTopology(json: unknown, source: string, site: { readonly field: string; readonly layer?: string; readonly className?: string }): Topology {
  const fail = (field: string, problem: string): never => {
    throw new LayersModelError({ source, layer: site.layer, className: site.className, field: `${site.field}${field}` }, problem);
  };
  const top = (json ?? {}) as Record<string, unknown>;
  const model = (top.model_config ?? top) as Record<string, unknown>;
  const className = model.class_name;
  const config = model.config as Record<string, unknown> | unknown[] | undefined;
  const layers = (Array.isArray(config) ? config : config?.layers) as KerasLayerJSON[] | undefined;
  if (!Array.isArray(layers)) return fail('config.layers', 'must be a list of layers');
  if (!Array.isArray(config) && typeof config?.name !== 'string') fail('config.name', `must be the model's name, got ${JSON.stringify(config?.name) ?? 'missing'}`);
  layers.forEach((l, i) => checkLayerEntry(l, `config.layers[${i}]`, className !== 'Sequential', fail));
  if (className === 'Sequential') {
    const last: Ref[] = layers.length === 0 ? [] : [[layerName(layers[layers.length - 1], layers.length - 1), 0, 0]];
    return { className, layers, inputs: [], outputs: last };
  }
  if (!MODEL_CLASSES.includes(className as string)) {
    return fail('class_name', `is ${JSON.stringify(className)}; supported: ${MODEL_CLASSES.join(', ')}`);
  }
  const ends = (field: 'input_layers' | 'output_layers'): Ref[] => {
    const list = (config as Record<string, unknown>)[field];
    if (!Array.isArray(list) || !list.every(isRef)) return fail(`config.${field}`, `must be a list of [layer, node, tensor], got ${JSON.stringify(list)}`);
    const refs = list.map(toRef);
    // Keras allows one tensor twice here; tfjs-layers 4.22 fails to load such a model.
    const keys = refs.map((r) => r.join('/'));
    const twice = refs.find((_, i) => keys.indexOf(keys[i]) !== i);
    if (twice !== undefined) fail(`config.${field}`, `lists [${twice.join(', ')}] twice; tfjs-layers cannot load that`);
    return refs;
  };
  return { className: 'Functional', layers, inputs: ends('input_layers'), outputs: ends('output_layers') };
}

/** The calls of a layer in a functional model: Keras 2 inbound nodes, each a list of references. */
function callsOf(ctx: LayerContext): Ref[][] {
  const inbound: unknown = ctx.layer.inbound_nodes ?? [];
  if (!Array.isArray(inbound)) return ctx.fail('inbound_nodes', 'must be a list of calls');
  return inbound.map((call: unknown, c) => {
    if (!Array.isArray(call) || !call.every(isRef)) ctx.fail(`inbound_nodes[${c}]`, 'must be a list of [layer, node, tensor, kwargs] (the Keras 2 format)');
    return (call as unknown[][]).map(toRef);
  });
}

/**
 * A layer class without a handler, carried as an opaque node that tfjs-layers runs. tfjs makes
 * the layer from its class and config and builds it for the input shapes here: that gives its
 * weights (names, shapes, order) and its output shapes. tf.loadLayersModel rejects a class its
 * serialization registry lacks (a custom layer not registered in this process): so does this.
 * Returns the layer's outputs: the opaque node (output 0), then an opaqueOutput node for each
 * other output (an LSTM's or a Bidirectional's returned states); those the model does not read
 * are dropped with the other dead nodes.
 */
function opaqueLayer(ctx: LayerContext, inputs: readonly Value[]): Value[] {
  const className = ctx.layer.class_name;
  if (!isRegisteredClass(className)) {
    return ctx.fail(undefined, 'unknown layer class; register it with tf.serialization.registerClass before importing (tf.loadLayersModel rejects it too)');
  }
  if (inputs.length === 0) ctx.fail('inbound_nodes', 'must name at least one input');
  const xs = inputs.map((v) => ctx.plain(v));
  const kerasShapes = xs.map((v) => inChannelsLastOrder(ctx.shapeOf(v)).map((d) => (typeof d === 'number' ? d : null)));
  let layer: tfl.layers.Layer | undefined;
  const tfjsFailed = (what: string, e: unknown): never => ctx.fail(undefined, `tfjs-layers cannot ${what}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  try {
    try {
      layer = createKerasLayer(className, ctx.config);
    } catch (e) {
      return tfjsFailed('make the layer from its config', e);
    }
    let out: KerasDim[] | KerasDim[][] = [];
    try {
      out = buildKerasLayer(layer, kerasShapes);
    } catch (e) {
      tfjsFailed(`build it for input ${kerasShapes.map(spellKeras).join(', ')}`, e);
    }
    const outputShapes = Array.isArray(out[0]) ? (out as KerasDim[][]) : [out as KerasDim[]];
    checkUnknownOutputSizes(ctx, layer, kerasShapes, outputShapes);
    const weights = layer.weights.map((w) => {
      const prefix = `${ctx.name}/`;
      if (!w.originalName.startsWith(prefix)) ctx.fail(undefined, `tfjs names its weight '${w.originalName}', outside the layer's scope '${prefix}'`);
      const shape = w.shape as number[];
      const [name, value] = [ctx.find(w.originalName.slice(prefix.length))[0], ctx.weight(w.originalName.slice(prefix.length), shape)];
      return { name, shape, value };
    });
    const [outputShape, ...moreShapes] = outputShapes;
    const first = ctx.add({
      name: ctx.name,
      op: 'opaque',
      inputs: xs.map((v) => v.node),
      attrs: { className, config: ctx.config, weights: weights.map(({ name, shape }) => ({ name, shape })), inputShapes: kerasShapes, outputShape },
      params: Object.fromEntries(weights.map(({ name, value }) => [name, value])),
    });
    const more = moreShapes.map((shape, i) =>
      ctx.add({ name: `${first.node}_output${i + 1}`, op: 'opaqueOutput', inputs: [first.node], attrs: { index: i + 1, outputShape: shape }, params: {} }),
    );
    return [first, ...more];
  } finally {
    if (layer !== undefined) disposeKerasLayer(layer);
  }
}

const spellKeras = (shape: readonly KerasDim[]): string => `[${shape.map((d) => d ?? 'null').join(', ')}]`;

/**
 * The IR reads a null in an opaque layer's output 0 as input 0's size at that axis: true of an
 * LSTM's sequence axis (return_sequences) or TimeDistributed's time axis, not of a Conv3D's
 * 'valid' depth; and a null in any other output as output 0's size at that axis (an LSTM's
 * returned states know every size but the batch). Checked by asking tfjs for the outputs at two
 * sizes of every unknown input size.
 */
function checkUnknownOutputSizes(ctx: LayerContext, layer: tfl.layers.Layer, inputs: readonly (readonly KerasDim[])[], outputs: readonly (readonly KerasDim[])[]): void {
  if (!outputs.some((out) => out.some((d, k) => k > 0 && d === null))) return;
  for (const size of [17, 29]) {
    const bound = inputs.map((shape) => shape.map((d, k) => (k > 0 && d === null ? size : d)));
    const computed = layer.computeOutputShape(bound.length === 1 ? bound[0] : bound) as KerasDim[] | KerasDim[][];
    const probed = Array.isArray(computed[0]) ? (computed as KerasDim[][]) : [computed as KerasDim[]];
    outputs.forEach((out, i) => {
      out.forEach((d, k) => {
        if (k === 0 || d !== null) return;
        const expected = i === 0 ? size : probed[0][k];
        if ((i === 0 && inputs[0][k] !== null) || probed[i][k] !== expected) {
          const what = i === 0 ? `output size ${k} (channels-last) is unknown to tfjs and not the input's` : `output ${i}'s size ${k} (channels-last) is unknown to tfjs and not output 0's`;
          ctx.fail(undefined, `${what}: shapefold needs it known; give the model input literal sizes`);
        }
      });
    });
  }
}

/**
 * The node index of a layer's first saved call. A nested model with inputs of its own has a
 * node at index 0, made when it was built; Keras and tfjs save only its calls in the outer
 * model, numbered from 1.
 */
function firstCallIndex(layer: KerasLayerJSON): number {
  if (!MODEL_CLASSES.includes(layer.class_name)) return 0;
  if (layer.class_name !== 'Sequential') return 1;
  const config = layer.config as Record<string, unknown> | unknown[] | undefined;
  const layers = (Array.isArray(config) ? config : config?.layers) as KerasLayerJSON[] | undefined;
  const first = layers?.[0];
  const hasInput = first !== undefined && (first.class_name === 'InputLayer' || first.config?.batch_input_shape != null || first.config?.batch_shape != null);
  return hasInput ? 1 : 0;
}

/** The batch input shape a layer declares, or a nested model's first layer or first input does. */
function declaredInputShape(layer: KerasLayerJSON | undefined): unknown {
  const own = layer?.config?.batch_input_shape ?? layer?.config?.batch_shape;
  if (own != null || layer === undefined || !MODEL_CLASSES.includes(layer.class_name)) return own;
  const config = layer.config as Record<string, unknown> | unknown[];
  const layers = (Array.isArray(config) ? config : config.layers) as KerasLayerJSON[] | undefined;
  const inputs = Array.isArray(config) ? undefined : (config.input_layers as unknown[][] | undefined);
  const first = inputs?.[0]?.[0];
  return declaredInputShape(first === undefined ? layers?.[0] : layers?.find((l, i) => layerName(l, i) === first));
}

function inputNode(importer: Importer, layer: KerasLayerJSON, name: string, scope: string, fallbackShape?: unknown): Value {
  const shape = layer.config?.batch_input_shape ?? layer.config?.batch_shape ?? fallbackShape;
  const ctx = new LayerContext(importer, layer, name, scope);
  if (!Array.isArray(shape) || shape.length < 2 || shape.length > 5) {
    ctx.fail('config.batch_input_shape', `must be [batch, D, H, W, C], [batch, H, W, C], [batch, L, C] or [batch, features], got ${JSON.stringify(shape)}`);
  }
  const dims = shape as (number | null)[];
  dims.forEach((d, i) => {
    if (d !== null && (!Number.isSafeInteger(d) || d < 1)) ctx.fail(`config.batch_input_shape[${i}]`, `must be a positive integer or null, got ${JSON.stringify(d)}`);
  });
  const channels = dims[dims.length - 1];
  if (typeof channels !== 'number') ctx.fail('config.batch_input_shape', 'needs a known channel count (last dim)');
  const dtype = layer.config?.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'int32') ctx.fail('config.dtype', `is ${JSON.stringify(dtype)}; shapefold imports float32 inputs only`);
  const symbols = dims.length === 5 ? ['D', 'H', 'W'] : dims.length === 4 ? ['H', 'W'] : ['L'];
  const spatial = dims.slice(1, -1).map((d, i) => d ?? symbols[i]);
  const value = importer.add({ name, op: 'input', inputs: [], attrs: { shape: [dims[0] ?? 'N', channels as number, ...spatial] }, params: {} });
  importer.inputs.push(value.node);
  if (dtype === 'int32') importer.tokenInputs.set(value.node, ctx);
  return value;
}

/**
 * tfjs feeds an int32 input to its readers as int32 (a Dense casts it, a conv refuses it): not
 * the float model shapefold builds, except where only Embedding layers read it. They cast their
 * input to int32 anyway, so the token indices are read as float32 (exact below 2^24), with a
 * warning: the written model's input is float32.
 */
function checkTokenInputs(importer: Importer): void {
  for (const [input, ctx] of importer.tokenInputs) {
    const readers = importer.nodes.filter((n) => n.inputs.includes(input));
    const embeddings = readers.filter((n) => n.op === 'opaque' && n.attrs.className === 'Embedding');
    if (readers.length === 0 || embeddings.length !== readers.length) {
      ctx.fail('config.dtype', 'is "int32"; shapefold imports float32 inputs only, or int32 token indices that only Embedding layers read');
    }
    const names = embeddings.map((n) => `'${n.name}'`).join(', ');
    ctx.warn('config.dtype', `is "int32": read as float32 token indices, which Embedding ${names} casts to int32 as tfjs does (exact below 2^24); the written model's input is float32`);
  }
}

/**
 * One call of `model` on `args` (the values of its inputs), or, for the file's own model
 * (`args` undefined), on new graph inputs. Returns the values of its outputs. `scope` is the
 * path of nested models it is in ('' at the top, 'encoder/' inside a model layer 'encoder').
 */
function callModel(importer: Importer, model: Topology, scope: string, args: readonly Value[] | undefined): Value[] {
  const { source } = importer;
  const self = scope === '' ? undefined : scope.slice(0, -1);
  const byName = new Map<string, KerasLayerJSON>();
  model.layers.forEach((layer, index) => {
    const name = layerName(layer, index);
    if (byName.has(name)) throw new LayersModelError({ source, layer: `${scope}${name}`, className: layer.class_name }, 'is defined twice');
    byName.set(name, layer);
  });

  /** One call of a layer: a nested model's outputs, or the outputs of a layer (several for an LSTM returning its states). */
  const callLayer = (layer: KerasLayerJSON, name: string, from: readonly Value[]): Value[] => {
    const ctx = new LayerContext(importer, layer, name, scope);
    if (MODEL_CLASSES.includes(layer.class_name)) {
      const inner = readTopology(layer, source, { field: '', layer: `${scope}${name}`, className: layer.class_name });
      const outputs = callModel(importer, inner, `${scope}${name}/`, from);
      if (scope === '') importer.onOuterLayer(name);
      return outputs;
    }
    if (layer.class_name === 'InputLayer') return ctx.fail('inbound_nodes', 'an InputLayer is read only as a model input');
    const handler = Object.hasOwn(HANDLERS, layer.class_name) ? HANDLERS[layer.class_name] : undefined;
    const outputs = handler === undefined ? opaqueLayer(ctx, from) : handledOrOpaque(ctx, handler, from);
    if (scope === '') importer.onOuterLayer(name);
    return outputs;
  };
  const wrongArity = (expected: number): never => {
    throw new LayersModelError({ source, layer: self, field: 'inbound_nodes' }, `calls a model of ${expected} input(s) with ${args?.length ?? 0}`);
  };

  if (model.className === 'Sequential') {
    if (args !== undefined && args.length !== 1) wrongArity(1);
    let previous = args?.[0];
    model.layers.forEach((layer, index) => {
      const name = layerName(layer, index);
      if (layer.class_name === 'InputLayer') {
        previous ??= inputNode(importer, layer, name, scope);
        return;
      }
      previous ??= inputNode(importer, { class_name: 'InputLayer', config: { name: `${name}_input` } }, `${name}_input`, scope, declaredInputShape(layer));
      [previous] = callLayer(layer, name, [previous]);
    });
    return previous === undefined ? [] : [previous];
  }

  if (args !== undefined && args.length !== model.inputs.length) wrongArity(model.inputs.length);
  const done = new Map<string, Value[]>();
  model.inputs.forEach(([name, nodeIndex], i) => {
    const layer = byName.get(name);
    if (layer === undefined) throw new LayersModelError({ source, layer: self, field: `input_layers[${i}]` }, `names layer '${name}', which the model does not define`);
    if (args === undefined && layer.class_name !== 'InputLayer') {
      throw new LayersModelError({ source, layer: name, className: layer.class_name, field: 'input_layers' }, 'is a model input but not an InputLayer');
    }
    done.set(`${name}@${nodeIndex}`, [args === undefined ? inputNode(importer, layer, name, scope) : args[i]]);
  });
  const visiting = new Set<string>();
  const valueOf = ([name, nodeIndex, tensorIndex]: Ref, readBy: string | undefined): Value => {
    const key = `${name}@${nodeIndex}`;
    const fail = (layer: string | undefined, className: string | undefined, problem: string): never => {
      throw new LayersModelError({ source, layer: layer === undefined ? self : `${scope}${layer}`, className, field: readBy === undefined ? 'output_layers' : 'inbound_nodes' }, problem);
    };
    let values = done.get(key);
    if (values === undefined) {
      const layer = byName.get(name);
      if (layer === undefined) return fail(readBy, undefined, `names layer '${name}', which the model does not define`);
      if (visiting.has(key)) return fail(name, layer.class_name, 'is part of a cycle');
      visiting.add(key);
      const calls = callsOf(new LayerContext(importer, layer, name, scope));
      const first = firstCallIndex(layer);
      const call = calls[nodeIndex - first];
      if (call === undefined) {
        const saved = calls.length === 0 ? 'no saved calls' : `calls ${first}..${first + calls.length - 1}`;
        return fail(readBy, undefined, `reads call ${nodeIndex} of layer '${name}', which has ${saved}`);
      }
      values = callLayer(layer, name, call.map((ref) => valueOf(ref, name)));
      done.set(key, values);
    }
    const value = values[tensorIndex];
    if (value === undefined) return fail(readBy, undefined, `reads output ${tensorIndex} of layer '${name}', which has ${values.length}`);
    return value;
  };
  return model.outputs.map((ref) => valueOf(ref, undefined));
}

/**
 * Converts a parsed model.json and its weight data (each manifest group's files in order,
 * concatenated, as one buffer or a list) into a validated IR graph. `source` names the model
 * in every error. Every manifest weight must be read by exactly one layer.
 *
 * Models nest: a Sequential or functional model used as a layer of another is imported in place,
 * its layers keeping their names, its errors naming the path ('encoder/conv1'). A layer called
 * several times (a shared layer, or one inside a nested model called several times) becomes one
 * set of nodes per call, each later parameterized node `tiedTo` the first call's: one set of
 * weights, which no fold rewrites.
 */
export function importLayersModel(modelJson: unknown, weightData: WeightData, source = 'model.json', options: ImportOptions = {}): Graph {
  const json = checkLayersModelJSON(modelJson, source);
  const manifest = readManifest(json.weightsManifest, source);
  return importLayersTopology(json.modelTopology, decodeWeights(manifest, splitWeightData(manifest, weightData, source), source), source, options);
}

/** Which config field, when false, means a layer stores no such weight (a contradiction when the weight is there). */
const WEIGHT_SWITCHES: Readonly<Record<string, string>> = { beta: 'center', gamma: 'scale', bias: 'use_bias' };

function checkAllWeightsRead(importer: Importer, layers: readonly KerasLayerJSON[]): void {
  const byName = new Map(layers.map((l, i) => [layerName(l, i), l]));
  for (const name of importer.weights.keys()) {
    if (importer.usedWeights.has(name)) continue;
    const parts = name.replace(/:0$/, '').split('/');
    const owner = parts.slice(0, -1).reverse().find((p) => byName.has(p));
    const layer = owner === undefined ? undefined : byName.get(owner);
    const suffix = parts.at(-1) ?? '';
    const field = `weight '${name}'`;
    if (layer === undefined || owner === undefined) throw new LayersModelError({ source: importer.source, field }, 'is in the weights manifest but no layer of the model reads it');
    const switchField = WEIGHT_SWITCHES[suffix];
    const switched = switchField !== undefined && layer.config?.[switchField] === false ? ` (config.${switchField} is false)` : '';
    throw new LayersModelError({ source: importer.source, layer: owner, className: layer.class_name, field }, `is in the weights manifest but the layer does not read it${switched}`);
  }
}

/** The graph of a Keras model topology whose weights are already decoded (`weights` by manifest name). */
export function importLayersTopology(modelTopology: unknown, weights: ReadonlyMap<string, ParamTensor>, source: string, options: ImportOptions = {}): Graph {
  const importer = new Importer(source, weights, options.onWarning ?? ((message) => console.warn(`shapefold: ${message}`)));
  const topology = readTopology(modelTopology, source, { field: 'modelTopology.' });
  const outerLayers = topology.layers.filter((l) => l.class_name !== 'InputLayer').length;
  importer.onOuterLayer = (name) => {
    importer.outerLayersDone.add(name);
    options.onProgress?.('layers', importer.outerLayersDone.size, outerLayers);
  };
  const outputs = callModel(importer, topology, '', undefined).map((value, i) => {
    const name = topology.outputs[i][0];
    const layer = topology.layers.find((l, k) => layerName(l, k) === name) ?? { class_name: 'Layer', config: {} };
    return new LayerContext(importer, layer, name).plain(value).node;
  });
  if (outputs.length === 0) throw new LayersModelError({ source, field: 'output_layers' }, 'the model has no layers or outputs');
  checkAllWeightsRead(importer, topology.layers);
  checkTokenInputs(importer);
  const graph: Graph = { nodes: withoutDeadNodes(importer.nodes, outputs), inputs: importer.inputs, outputs: [...new Set(outputs)] };
  try {
    validateGraph(graph);
  } catch (error) {
    if (error instanceof ShapefoldError) error.message = `${source}: ${error.message}`;
    throw error;
  }
  return graph;
}
