/**
 * The model zoo: architectures users bring, built with stock tfjs-layers the way Keras users
 * build them, at any input size. The test suite runs them small (test/unit/io-zoo.test.ts) and
 * `npm run bench:zoo` full size, from these same definitions.
 */
import * as tf from '@tensorflow/tfjs';

type ST = tf.SymbolicTensor;
const L = tf.layers;
const apply = (layer: tf.layers.Layer, x: ST | ST[]): ST => layer.apply(x) as ST;

interface LayerJSON {
  readonly class_name: string;
  readonly config: { readonly name: string; readonly layers?: readonly LayerJSON[] };
}

/** The BatchNormalization layers of a saved model (model.json's `modelTopology`), nested models' included, by name. */
export function batchNormalizationLayers(modelTopology: unknown): string[] {
  const walk = (layers: readonly LayerJSON[]): string[] =>
    layers.flatMap((l) => (l.class_name === 'BatchNormalization' ? [l.config.name] : walk(l.config.layers ?? [])));
  return walk((modelTopology as { config: { layers: LayerJSON[] } }).config.layers);
}

export interface ZooOptions {
  /** Input height and width. */
  readonly size: number;
}

/**
 * Shared layers: a conv and a whole Sequential encoder (conv, BN, ReLU), each called on two
 * inputs (a Siamese pair), merged by Add, then a head with a BN of its own.
 */
export function sharedLayers({ size, classes = 5, classifierActivation = 'softmax' }: ClassifierOptions): tf.LayersModel {
  const a = tf.input({ shape: [size, size, 3], name: 'left' });
  const b = tf.input({ shape: [size, size, 3], name: 'right' });
  const shared = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'shared_conv' });
  const encoder = tf.sequential({
    name: 'enc',
    layers: [
      L.conv2d({ inputShape: [size, size, 4], filters: 6, kernelSize: 3, padding: 'same', name: 'enc_conv' }),
      L.batchNormalization({ name: 'enc_bn' }),
      L.reLU({ name: 'enc_relu' }),
    ],
  });
  const merged = apply(L.add({ name: 'merge' }), [encoder.apply(apply(shared, a)) as ST, encoder.apply(apply(shared, b)) as ST]);
  let x = apply(L.conv2d({ filters: 8, kernelSize: 1, useBias: false, name: 'head_conv' }), merged);
  x = apply(L.reLU({ name: 'head_relu' }), apply(L.batchNormalization({ name: 'head_bn' }), x));
  x = apply(L.globalAveragePooling2d({ name: 'gap' }), x);
  x = apply(L.dense({ units: classes, activation: classifierActivation, name: 'predictions' }), x);
  return tf.model({ inputs: [a, b], outputs: x, name: 'siamese' });
}

/**
 * Models nested four deep: a Sequential holding a Sequential stem and a functional residual body,
 * which holds a Sequential, which holds a functional core. Every BN follows a conv.
 */
export function nestedModels({ size, classes = 4, classifierActivation = 'softmax' }: ClassifierOptions): tf.LayersModel {
  const stem = tf.sequential({
    name: 'stem',
    layers: [
      L.conv2d({ inputShape: [size, size, 3], filters: 8, kernelSize: 3, padding: 'same', useBias: false, name: 'stem_conv' }),
      L.batchNormalization({ name: 'stem_bn' }),
      L.reLU({ name: 'stem_relu' }),
    ],
  });
  const coreIn = tf.input({ shape: [size, size, 8], name: 'core_in' });
  const core = tf.model({
    name: 'core',
    inputs: coreIn,
    outputs: apply(L.batchNormalization({ name: 'core_bn' }), apply(L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'core_conv' }), coreIn)),
  });
  const deep = tf.sequential({ name: 'deep', layers: [L.inputLayer({ inputShape: [size, size, 8], name: 'deep_in' }), core, L.reLU({ name: 'deep_relu' })] });
  const bodyIn = tf.input({ shape: [size, size, 8], name: 'body_in' });
  let y = apply(L.conv2d({ filters: 8, kernelSize: 1, useBias: false, name: 'body_conv' }), bodyIn);
  y = apply(L.batchNormalization({ name: 'body_bn' }), y);
  y = deep.apply(y) as ST;
  const body = tf.model({ name: 'body', inputs: bodyIn, outputs: apply(L.reLU({ name: 'body_out' }), apply(L.add({ name: 'body_add' }), [bodyIn, y])) });
  return tf.sequential({
    name: 'nested',
    layers: [stem, body, L.globalAveragePooling2d({ name: 'gap' }), L.dense({ units: classes, activation: classifierActivation, name: 'predictions' })],
  });
}

/** Options of the zoo's image classifiers: input size, channel width multiplier, classes. */
export interface ClassifierOptions extends ZooOptions {
  /** Multiplies every layer's channel count (keras.applications' alpha); default 1. */
  readonly width?: number;
  /** Default 1000. */
  readonly classes?: number;
  /** The last layer's activation, as keras.applications' `classifier_activation`; default 'softmax'. */
  readonly classifierActivation?: 'softmax' | 'linear';
}

type Act = 'relu' | 'relu6' | 'swish' | 'hard_swish' | 'linear';
type StridedPadding = 'same' | 'keras' | 'symmetric';

class Net {
  constructor(
    readonly width: number,
    private readonly prefix = '',
  ) {}

  private count = new Map<string, number>();

  /** A layer name unique in the model: `${base}` or `${base}_2`, ... */
  name(base: string): string {
    const k = (this.count.get(base) ?? 0) + 1;
    this.count.set(base, k);
    return `${this.prefix}${base}${k === 1 ? '' : `_${k}`}`;
  }

  ch(c: number): number {
    return Math.max(4, Math.round((c * this.width) / 4) * 4);
  }

  act(x: ST, kind: Act, base: string): ST {
    switch (kind) {
      case 'linear':
        return x;
      case 'relu':
        return apply(L.reLU({ name: this.name(`${base}_relu`) }), x);
      case 'relu6':
        return apply(L.reLU({ maxValue: 6, name: this.name(`${base}_relu6`) }), x);
      case 'swish':
        return apply(L.activation({ activation: 'swish', name: this.name(`${base}_swish`) }), x);
      case 'hard_swish': {
        // MobileNetV3's x * hard_sigmoid(x), with Keras' own hard_sigmoid layer.
        const gate = apply(L.activation({ activation: 'hardSigmoid', name: this.name(`${base}_hsig`) }), x);
        return apply(L.multiply({ name: this.name(`${base}_hswish`) }), [x, gate]);
      }
    }
  }

  /**
   * A strided conv's padding as the architecture writes it: `same` (keras.applications' MobileNets'
   * first conv), `keras` (ZeroPadding2D of imagenet_utils.correct_pad, then 'valid': the
   * MobileNets' and EfficientNet's strided depthwise convs, EfficientNet's stem), or `symmetric`
   * (ZeroPadding2D of kernel // 2 on every side, then 'valid': keras.applications' DenseNet stem,
   * torchvision's strided 3x3 convs). On an even map `same` and `keras` compute the same thing.
   */
  stridedInput(x: ST, kernel: number, stride: number, padding: StridedPadding, name: string): { readonly input: ST; readonly padding: 'same' | 'valid' } {
    if (stride === 1 || kernel === 1 || padding === 'same') return { input: x, padding: 'same' };
    const half = kernel >> 1;
    // correct_pad: one row (column) less before when the size is even, so that 'valid' then sees what TF's 'same' pads.
    const before = (size: number | null) => (padding === 'keras' && (size === null || size % 2 === 0) ? half - 1 : half);
    const pads: [[number, number], [number, number]] = [[before(x.shape[1]), half], [before(x.shape[2]), half]];
    return { input: apply(L.zeroPadding2d({ padding: pads, name: `${name}_pad` }), x), padding: 'valid' };
  }

  /** Conv2D (no bias) -> BN -> activation; a strided one padded as `padding` says. */
  convBn(x: ST, filters: number, kernel: number, stride: number, act: Act, base: string, padding: StridedPadding = 'symmetric'): ST {
    const name = this.name(base);
    const strided = this.stridedInput(x, kernel, stride, padding, name);
    let y = apply(L.conv2d({ filters, kernelSize: kernel, strides: stride, padding: strided.padding, useBias: false, name }), strided.input);
    y = apply(L.batchNormalization({ name: `${name}_bn` }), y);
    return this.act(y, act, name);
  }

  /** DepthwiseConv2D (no bias) -> BN -> activation; strided, padded as keras.applications pads it. */
  dwBn(x: ST, kernel: number, stride: number, act: Act, base: string): ST {
    const name = this.name(base);
    const strided = this.stridedInput(x, kernel, stride, 'keras', name);
    let y = apply(L.depthwiseConv2d({ kernelSize: kernel, strides: stride, padding: strided.padding, useBias: false, name }), strided.input);
    y = apply(L.batchNormalization({ name: `${name}_bn` }), y);
    return this.act(y, act, name);
  }

  /** Squeeze-and-excite: GAP -> Reshape [1, 1, C] -> 1x1 conv (act) -> 1x1 conv (gate) -> Multiply. */
  squeezeExcite(x: ST, channels: number, squeezed: number, act: 'relu' | 'swish', gate: 'sigmoid' | 'hardSigmoid', base: string): ST {
    const name = this.name(base);
    let s = apply(L.globalAveragePooling2d({ name: `${name}_gap` }), x);
    s = apply(L.reshape({ targetShape: [1, 1, channels], name: `${name}_reshape` }), s);
    s = apply(L.conv2d({ filters: squeezed, kernelSize: 1, activation: act, name: `${name}_reduce` }), s);
    s = apply(L.conv2d({ filters: channels, kernelSize: 1, activation: gate, name: `${name}_expand` }), s);
    return apply(L.multiply({ name: `${name}_excite` }), [x, s]);
  }

  /** GAP -> (Dropout) -> Dense with the classifier's activation. */
  head(x: ST, classes: number, classifierActivation: 'softmax' | 'linear', dropout = 0): ST {
    let y = apply(L.globalAveragePooling2d({ name: this.name('avg_pool') }), x);
    if (dropout > 0) y = apply(L.dropout({ rate: dropout, name: this.name('top_dropout') }), y);
    return apply(L.dense({ units: classes, activation: classifierActivation, name: this.name('predictions') }), y);
  }
}

const imageInput = (size: number, name = 'input') => tf.input({ shape: [size, size, 3], name });

/** keras.applications.MobileNet: conv/BN/ReLU6 and depthwise-separable blocks, Reshape/Dropout/1x1-conv head, softmax. */
export function mobileNetV1({ size, width = 1, classes = 1000, classifierActivation = 'softmax' }: ClassifierOptions): tf.LayersModel {
  const n = new Net(width);
  const input = imageInput(size);
  let x = n.convBn(input, n.ch(32), 3, 2, 'relu6', 'conv1', 'same');
  const blocks = [[64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2], [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1]] as const;
  for (const [filters, stride] of blocks) {
    x = n.dwBn(x, 3, stride, 'relu6', 'conv_dw');
    x = n.convBn(x, n.ch(filters), 1, 1, 'relu6', 'conv_pw');
  }
  const c = n.ch(1024);
  x = apply(L.globalAveragePooling2d({ name: 'global_average_pooling2d' }), x);
  x = apply(L.reshape({ targetShape: [1, 1, c], name: 'reshape_1' }), x);
  x = apply(L.dropout({ rate: 0.001, name: 'dropout' }), x);
  x = apply(L.conv2d({ filters: classes, kernelSize: 1, padding: 'same', name: 'conv_preds' }), x);
  x = apply(L.reshape({ targetShape: [classes], name: 'reshape_2' }), x);
  x = apply(L.activation({ activation: classifierActivation, name: 'predictions' }), x);
  return tf.model({ inputs: input, outputs: x, name: 'mobilenet_v1' });
}

/** keras.applications.MobileNetV2: inverted residuals (expand, depthwise, linear project, Add), softmax head. */
export function mobileNetV2({ size, width = 1, classes = 1000, classifierActivation = 'softmax' }: ClassifierOptions): tf.LayersModel {
  const n = new Net(width);
  const input = imageInput(size);
  let x = n.convBn(input, n.ch(32), 3, 2, 'relu6', 'Conv1', 'same');
  let channels = n.ch(32);
  const settings = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]] as const;
  for (const [expand, out, repeats, firstStride] of settings) {
    for (let r = 0; r < repeats; r++) {
      const stride = r === 0 ? firstStride : 1;
      const filters = n.ch(out);
      let y = expand === 1 ? x : n.convBn(x, channels * expand, 1, 1, 'relu6', 'block_expand');
      y = n.dwBn(y, 3, stride, 'relu6', 'block_depthwise');
      y = n.convBn(y, filters, 1, 1, 'linear', 'block_project');
      x = stride === 1 && filters === channels ? apply(L.add({ name: n.name('block_add') }), [x, y]) : y;
      channels = filters;
    }
  }
  x = n.convBn(x, n.ch(1280), 1, 1, 'relu6', 'Conv_1');
  return tf.model({ inputs: input, outputs: n.head(x, classes, classifierActivation), name: 'mobilenet_v2' });
}

/** MobileNetV3-Small-style: hard-swish as x * hard_sigmoid(x) via Multiply, squeeze-excite, inverted residuals. */
export function mobileNetV3Small({ size, width = 1, classes = 1000, classifierActivation = 'softmax' }: ClassifierOptions): tf.LayersModel {
  const n = new Net(width);
  const input = imageInput(size);
  let x = n.convBn(input, n.ch(16), 3, 2, 'hard_swish', 'Conv', 'same');
  let channels = n.ch(16);
  // [kernel, expansion, out, squeeze-excite, activation, stride]
  const blocks = [
    [3, 1, 16, true, 'relu', 2], [3, 4.5, 24, false, 'relu', 2], [3, 3.67, 24, false, 'relu', 1], [5, 4, 40, true, 'hard_swish', 2],
    [5, 6, 40, true, 'hard_swish', 1], [5, 6, 40, true, 'hard_swish', 1], [5, 3, 48, true, 'hard_swish', 1], [5, 3, 48, true, 'hard_swish', 1],
    [5, 6, 96, true, 'hard_swish', 2], [5, 6, 96, true, 'hard_swish', 1], [5, 6, 96, true, 'hard_swish', 1],
  ] as const;
  for (const [kernel, expansion, out, se, act, stride] of blocks) {
    const expanded = n.ch(channels * expansion / width);
    let y = expansion === 1 ? x : n.convBn(x, expanded, 1, 1, act, 'expanded_conv_expand');
    y = n.dwBn(y, kernel, stride, act, 'expanded_conv_depthwise');
    if (se) y = n.squeezeExcite(y, expansion === 1 ? channels : expanded, n.ch(Math.max(8, ((expansion === 1 ? channels : expanded) / 4) / width)), 'relu', 'hardSigmoid', 'expanded_conv_se');
    const filters = n.ch(out);
    y = n.convBn(y, filters, 1, 1, 'linear', 'expanded_conv_project');
    x = stride === 1 && filters === channels ? apply(L.add({ name: n.name('expanded_conv_add') }), [x, y]) : y;
    channels = filters;
  }
  x = n.convBn(x, n.ch(576), 1, 1, 'hard_swish', 'Conv_1');
  x = apply(L.globalAveragePooling2d({ name: 'avg_pool' }), x);
  x = apply(L.dense({ units: n.ch(1024), name: 'Conv_2' }), x);
  x = n.act(x, 'hard_swish', 'Conv_2');
  x = apply(L.dropout({ rate: 0.2, name: 'dropout' }), x);
  x = apply(L.dense({ units: classes, activation: classifierActivation, name: 'Predictions' }), x);
  return tf.model({ inputs: input, outputs: x, name: 'mobilenet_v3_small' });
}

/** EfficientNet-B0-style: Rescaling, swish, MBConv blocks with squeeze-excite (Multiply), Dropout, softmax. */
export function efficientNetB0({ size, width = 1, classes = 1000, classifierActivation = 'softmax' }: ClassifierOptions): tf.LayersModel {
  const n = new Net(width);
  const input = imageInput(size);
  let x = apply(L.rescaling({ scale: 1 / 255, offset: 0, name: 'rescaling' }), input);
  x = n.convBn(x, n.ch(32), 3, 2, 'swish', 'stem_conv', 'keras');
  let channels = n.ch(32);
  // [expansion, out, repeats, stride, kernel]
  const stages = [[1, 16, 1, 1, 3], [6, 24, 2, 2, 3], [6, 40, 2, 2, 5], [6, 80, 3, 2, 3], [6, 112, 3, 1, 5], [6, 192, 4, 2, 5], [6, 320, 1, 1, 3]] as const;
  for (const [expansion, out, repeats, firstStride, kernel] of stages) {
    for (let r = 0; r < repeats; r++) {
      const stride = r === 0 ? firstStride : 1;
      const expanded = channels * expansion;
      let y = expansion === 1 ? x : n.convBn(x, expanded, 1, 1, 'swish', 'block_expand_conv');
      y = n.dwBn(y, kernel, stride, 'swish', 'block_dwconv');
      y = n.squeezeExcite(y, expanded, Math.max(1, Math.floor(channels / 4)), 'swish', 'sigmoid', 'block_se');
      const filters = n.ch(out);
      y = n.convBn(y, filters, 1, 1, 'linear', 'block_project_conv');
      if (stride === 1 && filters === channels) {
        y = apply(L.dropout({ rate: 0.2, name: n.name('block_drop') }), y);
        y = apply(L.add({ name: n.name('block_add') }), [x, y]);
      }
      x = y;
      channels = filters;
    }
  }
  x = n.convBn(x, n.ch(1280), 1, 1, 'swish', 'top_conv');
  return tf.model({ inputs: input, outputs: n.head(x, classes, classifierActivation, 0.2), name: 'efficientnet_b0' });
}

function resNetStem(n: Net, input: ST, preActivation: boolean): ST {
  let x = apply(L.zeroPadding2d({ padding: 3, name: 'conv1_pad' }), input);
  x = apply(L.conv2d({ filters: n.ch(64), kernelSize: 7, strides: 2, name: 'conv1_conv' }), x);
  if (!preActivation) x = n.act(apply(L.batchNormalization({ name: 'conv1_bn' }), x), 'relu', 'conv1');
  x = apply(L.zeroPadding2d({ padding: 1, name: 'pool1_pad' }), x);
  return apply(L.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }), x);
}

/** ResNet v1 (keras.applications.ResNet50's bottleneck blocks, `blocks` per stage): conv-BN-ReLU, projection shortcuts. */
export function resNetV1({ size, width = 1, classes = 1000, classifierActivation = 'softmax', blocks = [3, 4, 6, 3] }: ClassifierOptions & { readonly blocks?: readonly number[] }): tf.LayersModel {
  const n = new Net(width);
  const input = imageInput(size);
  let x = resNetStem(n, input, false);
  blocks.forEach((count, stage) => {
    const filters = n.ch(64 * 2 ** stage);
    for (let b = 0; b < count; b++) {
      const stride = b === 0 && stage > 0 ? 2 : 1;
      const shortcut = b === 0 ? n.convBn(x, 4 * filters, 1, stride, 'linear', `conv${stage + 2}_shortcut`) : x;
      let y = n.convBn(x, filters, 1, stride, 'relu', `conv${stage + 2}_1`);
      y = n.convBn(y, filters, 3, 1, 'relu', `conv${stage + 2}_2`);
      y = n.convBn(y, 4 * filters, 1, 1, 'linear', `conv${stage + 2}_3`);
      x = n.act(apply(L.add({ name: n.name(`conv${stage + 2}_add`) }), [shortcut, y]), 'relu', `conv${stage + 2}_out`);
    }
  });
  return tf.model({ inputs: input, outputs: n.head(x, classes, classifierActivation), name: 'resnet_v1' });
}

/** ResNet-18 (basic blocks: two 3x3 conv-BN, ReLU after the Add; 1x1 conv-BN projection when the shape changes). */
export function resNet18({ size, width = 1, classes = 1000, classifierActivation = 'softmax' }: ClassifierOptions): tf.LayersModel {
  const n = new Net(width);
  const input = imageInput(size);
  let x = resNetStem(n, input, false);
  let channels = n.ch(64);
  [64, 128, 256, 512].forEach((out, stage) => {
    const filters = n.ch(out);
    for (let b = 0; b < 2; b++) {
      const stride = b === 0 && stage > 0 ? 2 : 1;
      const shortcut = stride > 1 || filters !== channels ? n.convBn(x, filters, 1, stride, 'linear', `layer${stage + 1}_downsample`) : x;
      let y = n.convBn(x, filters, 3, stride, 'relu', `layer${stage + 1}_conv1`);
      y = n.convBn(y, filters, 3, 1, 'linear', `layer${stage + 1}_conv2`);
      x = n.act(apply(L.add({ name: n.name(`layer${stage + 1}_add`) }), [shortcut, y]), 'relu', `layer${stage + 1}_out`);
      channels = filters;
    }
  });
  return tf.model({ inputs: input, outputs: n.head(x, classes, classifierActivation), name: 'resnet18' });
}

/** ResNet v2 (pre-activation, keras.applications.ResNet50V2's blocks): BN-ReLU before each conv, post-BN at the end. */
export function resNetV2({ size, width = 1, classes = 1000, classifierActivation = 'softmax', blocks = [3, 4, 6, 3] }: ClassifierOptions & { readonly blocks?: readonly number[] }): tf.LayersModel {
  const n = new Net(width);
  const input = imageInput(size);
  let x = resNetStem(n, input, true);
  blocks.forEach((count, stage) => {
    const filters = n.ch(64 * 2 ** stage);
    for (let b = 0; b < count; b++) {
      const stride = b === count - 1 && stage < blocks.length - 1 ? 2 : 1;
      const name = n.name(`conv${stage + 2}_block`);
      const pre = n.act(apply(L.batchNormalization({ name: `${name}_preact_bn` }), x), 'relu', `${name}_preact`);
      const shortcut =
        b === 0
          ? apply(L.conv2d({ filters: 4 * filters, kernelSize: 1, strides: stride, name: `${name}_0_conv` }), pre)
          : stride > 1
            ? apply(L.maxPooling2d({ poolSize: 1, strides: stride, name: `${name}_0_pool` }), x)
            : x;
      let y = n.convBn(pre, filters, 1, 1, 'relu', `${name}_1`);
      y = apply(L.zeroPadding2d({ padding: 1, name: `${name}_2_pad` }), y);
      y = apply(L.conv2d({ filters, kernelSize: 3, strides: stride, useBias: false, name: `${name}_2_conv` }), y);
      y = n.act(apply(L.batchNormalization({ name: `${name}_2_bn` }), y), 'relu', `${name}_2`);
      y = apply(L.conv2d({ filters: 4 * filters, kernelSize: 1, name: `${name}_3_conv` }), y);
      x = apply(L.add({ name: `${name}_out` }), [shortcut, y]);
    }
  });
  x = n.act(apply(L.batchNormalization({ name: 'post_bn' }), x), 'relu', 'post');
  return tf.model({ inputs: input, outputs: n.head(x, classes, classifierActivation), name: 'resnet_v2' });
}

/** DenseNet-style: dense blocks of BN-ReLU-1x1 conv-BN-ReLU-3x3 conv concatenated, transitions with average pooling. */
export function denseNet({ size, width = 1, classes = 1000, classifierActivation = 'softmax', blocks = [6, 12, 24, 16] }: ClassifierOptions & { readonly blocks?: readonly number[] }): tf.LayersModel {
  const n = new Net(width);
  const growth = n.ch(32);
  const input = imageInput(size);
  let x = n.convBn(input, n.ch(64), 7, 2, 'relu', 'conv1');
  x = apply(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool1' }), x);
  let channels = n.ch(64);
  blocks.forEach((count, stage) => {
    for (let b = 0; b < count; b++) {
      const name = n.name(`conv${stage + 2}_block`);
      let y = n.act(apply(L.batchNormalization({ name: `${name}_0_bn` }), x), 'relu', `${name}_0`);
      y = apply(L.conv2d({ filters: 4 * growth, kernelSize: 1, useBias: false, name: `${name}_1_conv` }), y);
      y = n.act(apply(L.batchNormalization({ name: `${name}_1_bn` }), y), 'relu', `${name}_1`);
      y = apply(L.conv2d({ filters: growth, kernelSize: 3, padding: 'same', useBias: false, name: `${name}_2_conv` }), y);
      x = apply(L.concatenate({ name: `${name}_concat` }), [x, y]);
      channels += growth;
    }
    if (stage < blocks.length - 1) {
      const name = n.name(`pool${stage + 2}`);
      x = n.act(apply(L.batchNormalization({ name: `${name}_bn` }), x), 'relu', name);
      channels = Math.floor(channels / 2);
      x = apply(L.conv2d({ filters: channels, kernelSize: 1, useBias: false, name: `${name}_conv` }), x);
      x = apply(L.averagePooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }), x);
    }
  });
  x = n.act(apply(L.batchNormalization({ name: 'bn' }), x), 'relu', 'bn');
  return tf.model({ inputs: input, outputs: n.head(x, classes, classifierActivation), name: 'densenet' });
}

/** Xception-style: SeparableConv2D-BN(-ReLU) blocks with strided 1x1 conv-BN shortcuts and 'same' max pools. */
export function xception({ size, width = 1, classes = 1000, classifierActivation = 'softmax', middle = 8 }: ClassifierOptions & { readonly middle?: number }): tf.LayersModel {
  const n = new Net(width);
  const sepBn = (x: ST, filters: number, base: string): ST => {
    const name = n.name(base);
    const y = apply(L.separableConv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, name }), x);
    return apply(L.batchNormalization({ name: `${name}_bn` }), y);
  };
  const input = imageInput(size);
  let x = n.convBn(input, n.ch(32), 3, 2, 'relu', 'block1_conv1');
  x = n.convBn(x, n.ch(64), 3, 1, 'relu', 'block1_conv2');
  for (const [i, filters] of [128, 256, 728].entries()) {
    const c = n.ch(filters);
    const shortcut = apply(L.batchNormalization({ name: `block${i + 2}_res_bn` }), apply(L.conv2d({ filters: c, kernelSize: 1, strides: 2, padding: 'same', useBias: false, name: `block${i + 2}_res` }), x));
    let y = i === 0 ? x : n.act(x, 'relu', `block${i + 2}_pre`);
    y = n.act(sepBn(y, c, `block${i + 2}_sepconv1`), 'relu', `block${i + 2}_sepconv1`);
    y = sepBn(y, c, `block${i + 2}_sepconv2`);
    y = apply(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: `block${i + 2}_pool` }), y);
    x = apply(L.add({ name: `block${i + 2}_add` }), [y, shortcut]);
  }
  for (let m = 0; m < middle; m++) {
    let y = x;
    for (let k = 1; k <= 3; k++) y = sepBn(n.act(y, 'relu', `block${m + 5}_sepconv${k}_pre`), n.ch(728), `block${m + 5}_sepconv${k}`);
    x = apply(L.add({ name: `block${m + 5}_add` }), [y, x]);
  }
  x = n.act(sepBn(x, n.ch(1536), 'exit_sepconv1'), 'relu', 'exit_sepconv1');
  x = n.act(sepBn(x, n.ch(2048), 'exit_sepconv2'), 'relu', 'exit_sepconv2');
  return tf.model({ inputs: input, outputs: n.head(x, classes, classifierActivation), name: 'xception' });
}

/** Inception-style: conv-BN-ReLU towers (1x1; 1x1-3x3; 1x1-3x3-3x3; pool-1x1) concatenated. */
export function inception({ size, width = 1, classes = 1000, classifierActivation = 'softmax', modules = 4 }: ClassifierOptions & { readonly modules?: number }): tf.LayersModel {
  const n = new Net(width);
  const input = imageInput(size);
  let x = n.convBn(input, n.ch(32), 3, 2, 'relu', 'stem_conv1');
  x = n.convBn(x, n.ch(64), 3, 1, 'relu', 'stem_conv2');
  x = apply(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'stem_pool' }), x);
  for (let m = 0; m < modules; m++) {
    const name = `mixed${m}`;
    const a = n.convBn(x, n.ch(64), 1, 1, 'relu', `${name}_1x1`);
    const b = n.convBn(n.convBn(x, n.ch(48), 1, 1, 'relu', `${name}_3x3_reduce`), n.ch(64), 3, 1, 'relu', `${name}_3x3`);
    let c = n.convBn(x, n.ch(64), 1, 1, 'relu', `${name}_dbl_reduce`);
    c = n.convBn(n.convBn(c, n.ch(96), 3, 1, 'relu', `${name}_dbl_1`), n.ch(96), 3, 1, 'relu', `${name}_dbl_2`);
    const d = n.convBn(apply(L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: `${name}_pool` }), x), n.ch(32), 1, 1, 'relu', `${name}_pool_proj`);
    x = apply(L.concatenate({ name }), [a, b, c, d]);
    if (m % 2 === 1) x = apply(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: `${name}_reduce` }), x);
  }
  return tf.model({ inputs: input, outputs: n.head(x, classes, classifierActivation), name: 'inception' });
}

/** VGG-16 with BN after each conv, max pools, a Flatten -> Dense-ReLU-Dropout head and softmax. */
export function vggBn({ size, width = 1, classes = 1000, classifierActivation = 'softmax', stages = [2, 2, 3, 3, 3], dense = 4096 }: ClassifierOptions & { readonly stages?: readonly number[]; readonly dense?: number }): tf.LayersModel {
  const n = new Net(width);
  const input = imageInput(size);
  let x: ST = input;
  stages.forEach((count, s) => {
    for (let c = 0; c < count; c++) x = n.convBn(x, n.ch(64 * 2 ** Math.min(s, 3)), 3, 1, 'relu', `block${s + 1}_conv${c + 1}`);
    x = apply(L.maxPooling2d({ poolSize: 2, strides: 2, name: `block${s + 1}_pool` }), x);
  });
  x = apply(L.flatten({ name: 'flatten' }), x);
  for (const k of [1, 2]) {
    x = apply(L.dense({ units: n.ch(dense), activation: 'relu', name: `fc${k}` }), x);
    x = apply(L.dropout({ rate: 0.5, name: `fc${k}_dropout` }), x);
  }
  x = apply(L.dense({ units: classes, activation: classifierActivation, name: 'predictions' }), x);
  return tf.model({ inputs: input, outputs: x, name: 'vgg16_bn' });
}

/** U-Net: conv-BN-ReLU pairs, max-pool down, UpSampling2D and Conv2DTranspose up, skip Concatenates, per-pixel softmax. */
export function uNet({ size, width = 1, classes = 4, classifierActivation = 'softmax', depth = 4 }: ClassifierOptions & { readonly depth?: number }): tf.LayersModel {
  const n = new Net(width);
  const input = imageInput(size);
  const pair = (x: ST, filters: number, base: string) => n.convBn(n.convBn(x, filters, 3, 1, 'relu', `${base}_a`), filters, 3, 1, 'relu', `${base}_b`);
  const skips: ST[] = [];
  let x: ST = input;
  for (let d = 0; d < depth; d++) {
    x = pair(x, n.ch(32 * 2 ** d), `down${d}`);
    skips.push(x);
    x = apply(L.maxPooling2d({ poolSize: 2, name: `down${d}_pool` }), x);
  }
  x = pair(x, n.ch(32 * 2 ** depth), 'bottom');
  for (let d = depth - 1; d >= 0; d--) {
    const filters = n.ch(32 * 2 ** d);
    x =
      d % 2 === 0
        ? apply(L.conv2dTranspose({ filters, kernelSize: 2, strides: 2, padding: 'same', name: `up${d}_convT` }), x)
        : apply(L.conv2d({ filters, kernelSize: 1, name: `up${d}_proj` }), apply(L.upSampling2d({ size: [2, 2], name: `up${d}_upsample` }), x));
    x = apply(L.concatenate({ name: `up${d}_concat` }), [skips[d], x]);
    x = pair(x, filters, `up${d}`);
  }
  x = apply(L.conv2d({ filters: classes, kernelSize: 1, activation: classifierActivation, name: 'segmentation' }), x);
  return tf.model({ inputs: input, outputs: x, name: 'unet' });
}

/** SqueezeNet 1.1: fire modules (1x1 squeeze; 1x1 and 3x3 expand, concatenated), conv classifier, GAP, softmax. */
export function squeezeNet({ size, width = 1, classes = 1000, classifierActivation = 'softmax' }: ClassifierOptions): tf.LayersModel {
  const n = new Net(width);
  const input = imageInput(size);
  const fire = (x: ST, squeeze: number, expand: number, name: string): ST => {
    const s = apply(L.conv2d({ filters: n.ch(squeeze), kernelSize: 1, activation: 'relu', name: `${name}_squeeze1x1` }), x);
    const a = apply(L.conv2d({ filters: n.ch(expand), kernelSize: 1, activation: 'relu', name: `${name}_expand1x1` }), s);
    const b = apply(L.conv2d({ filters: n.ch(expand), kernelSize: 3, padding: 'same', activation: 'relu', name: `${name}_expand3x3` }), s);
    return apply(L.concatenate({ name: `${name}_concat` }), [a, b]);
  };
  let x = apply(L.conv2d({ filters: n.ch(64), kernelSize: 3, strides: 2, activation: 'relu', name: 'conv1' }), input);
  x = apply(L.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1' }), x);
  x = fire(fire(x, 16, 64, 'fire2'), 16, 64, 'fire3');
  x = apply(L.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool3' }), x);
  x = fire(fire(x, 32, 128, 'fire4'), 32, 128, 'fire5');
  x = apply(L.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool5' }), x);
  x = fire(fire(fire(fire(x, 48, 192, 'fire6'), 48, 192, 'fire7'), 64, 256, 'fire8'), 64, 256, 'fire9');
  x = apply(L.dropout({ rate: 0.5, name: 'drop9' }), x);
  x = apply(L.conv2d({ filters: classes, kernelSize: 1, activation: 'relu', name: 'conv10' }), x);
  x = apply(L.globalAveragePooling2d({ name: 'avgpool10' }), x);
  x = apply(L.activation({ activation: classifierActivation, name: 'loss' }), x);
  return tf.model({ inputs: input, outputs: x, name: 'squeezenet' });
}

/**
 * A text classifier as the tfjs tutorials build one: Embedding -> BN -> LSTM -> Dense + BN + ReLU
 * -> classifier; `size` is the sequence length. Embedding and LSTM have no shapefold op: they are
 * carried as opaque layers tfjs-layers runs, so the BN between them stays (nothing to fold it
 * into) while the Dense's BN folds.
 */
export function textClassifier({ size, width = 1, classes = 1000, classifierActivation = 'softmax', vocabulary = 20000 }: ClassifierOptions & { readonly vocabulary?: number }): tf.LayersModel {
  const units = Math.max(1, Math.round(64 * width));
  return tf.sequential({
    name: 'text_classifier',
    layers: [
      L.embedding({ inputDim: vocabulary, outputDim: units, inputLength: size, name: 'embedding' }),
      L.batchNormalization({ name: 'embedding_bn' }),
      L.lstm({ units, name: 'lstm' }),
      L.dense({ units, name: 'dense' }),
      L.batchNormalization({ name: 'dense_bn' }),
      L.reLU({ name: 'dense_relu' }),
      L.dense({ units: classes, activation: classifierActivation, name: 'predictions' }),
    ],
  });
}

/** One architecture of the zoo: how to build it small (the test suite) and full size (the benchmark). */
export interface ZooModel {
  readonly name: string;
  readonly build: (opts: ClassifierOptions) => tf.LayersModel;
  /** Small enough for the test suite: input size and width multiplier. */
  readonly test: { readonly size: number; readonly width: number };
  /** Full size for `npm run bench:zoo`. */
  readonly bench: { readonly size: number };
  /**
   * BatchNormalization layers that no stock Layers model can hold folded, by name (a BN before
   * a ReLU and a conv, after a concat or an Add, or inside a shared layer); every other BN folds.
   */
  readonly bnLeft?: RegExp;
}

export const ZOO: readonly ZooModel[] = [
  { name: 'MobileNet v1', build: mobileNetV1, test: { size: 32, width: 0.25 }, bench: { size: 224 } },
  { name: 'MobileNet v2', build: mobileNetV2, test: { size: 32, width: 0.25 }, bench: { size: 224 } },
  { name: 'MobileNet v3-small', build: mobileNetV3Small, test: { size: 32, width: 0.25 }, bench: { size: 224 } },
  { name: 'EfficientNet-B0-style', build: efficientNetB0, test: { size: 32, width: 0.25 }, bench: { size: 224 } },
  { name: 'ResNet-18', build: resNet18, test: { size: 32, width: 0.125 }, bench: { size: 224 } },
  { name: 'ResNet-50 v1', build: resNetV1, test: { size: 32, width: 0.125 }, bench: { size: 224 } },
  // Pre-activation: each preact BN feeds a ReLU, then a conv; post_bn a ReLU, then the pool.
  { name: 'ResNet-50 v2 (pre-activation)', build: resNetV2, test: { size: 32, width: 0.125 }, bench: { size: 224 }, bnLeft: /_preact_bn$|^post_bn$/ },
  // A dense block's first BN reads a Concatenate and feeds a ReLU; so do the transitions' and the last.
  { name: 'DenseNet-121-style', build: denseNet, test: { size: 32, width: 0.125 }, bench: { size: 224 }, bnLeft: /_0_bn$|^pool\d_bn$|^bn$/ },
  { name: 'Xception-style', build: xception, test: { size: 32, width: 0.125 }, bench: { size: 224 } },
  { name: 'Inception-style', build: inception, test: { size: 32, width: 0.25 }, bench: { size: 224 } },
  { name: 'VGG-16-BN', build: vggBn, test: { size: 32, width: 0.125 }, bench: { size: 224 } },
  { name: 'U-Net', build: uNet, test: { size: 32, width: 0.25 }, bench: { size: 256 } },
  { name: 'SqueezeNet 1.1', build: squeezeNet, test: { size: 48, width: 0.25 }, bench: { size: 224 } },
  { name: 'nested models', build: nestedModels, test: { size: 16, width: 1 }, bench: { size: 224 } },
  { name: 'shared layers (Siamese)', build: sharedLayers, test: { size: 16, width: 1 }, bench: { size: 224 }, bnLeft: /^enc_bn$/ },
  // Embedding and LSTM are opaque (tfjs-layers runs them): the BN between them has nothing to fold into.
  { name: 'text classifier (opaque Embedding + LSTM)', build: textClassifier, test: { size: 12, width: 0.125 }, bench: { size: 128 }, bnLeft: /^embedding_bn$/ },
];
