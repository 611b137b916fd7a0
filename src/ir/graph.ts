/**
 * The shapefold graph IR: a plain, JSON-serialisable DAG in NCHW layout.
 *
 * Everything that produces a model (the typed DSL, importers, the CLI) produces a `Graph`;
 * everything that consumes one (runtime shape inference, the tfjs executor, the float64
 * reference, the rewrite engine) reads only this module's types. Layouts follow PyTorch so a
 * weight means the same thing everywhere:
 *   conv2d            weight [Cout, Cin/groups, kH, kW]
 *   convTranspose2d   weight [Cin, Cout/groups, kH, kW]
 *   linear            weight [out, in]
 *   per-channel params     [C]
 * A node's output shape is inferred (`src/ir/shapes.ts`), never trusted from the producer.
 */

/** A dimension: a literal size, or a symbolic expression in canonical form (`src/shape/dim.ts`). */
export type Dim = number | string;
export type Shape = readonly Dim[];

/** Explicit zero padding [top, bottom, left, right], or a rule resolved once H and W are known. */
export type Padding2d = 'same' | 'valid' | readonly [top: number, bottom: number, left: number, right: number];

export type Pair = readonly [number, number];

/** How a resize samples: the nearest source pixel, or bilinear between the four around it. */
export type Interpolation = 'nearest' | 'bilinear';

/**
 * How a BatchNorm-like node updates its running statistics in train mode:
 *   running <- decay * running + (1 - decay) * batchStatistic
 * Keras' `momentum=0.99` is decay 0.99; PyTorch's `momentum=0.1` is decay 0.9.
 * `unbiasedRunningVar`: PyTorch stores the unbiased batch variance (n/(n-1)), Keras the biased one.
 * Normalisation itself always uses the biased batch variance.
 */
export interface RunningStatsUpdate {
  readonly decay: number;
  readonly unbiasedRunningVar: boolean;
}

export interface Conv2dAttrs {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly padding: Padding2d;
  readonly dilation: Pair;
  readonly groups: number;
  readonly bias: boolean;
}

export interface ConvTranspose2dAttrs {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: Pair;
  readonly stride: Pair;
  /** Symmetric padding as in PyTorch: output = (H-1)*S - 2P + D*(K-1) + outputPadding + 1. */
  readonly padding: Pair;
  readonly outputPadding: Pair;
  readonly dilation: Pair;
  readonly groups: number;
  readonly bias: boolean;
}

export interface LinearAttrs {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
}

/** What BatchNorm and IBN's BatchNorm half share. */
export interface FreezableNormAttrs extends RunningStatsUpdate {
  readonly numFeatures: number;
  readonly eps: number;
  /**
   * A frozen BN uses its running statistics and updates them never, in train mode too; `'all'`
   * also keeps gamma and beta fixed (torchvision's FrozenBatchNorm2d, a Keras BatchNormalization
   * with trainable: false).
   */
  readonly frozen: boolean | 'all';
}

/**
 * BatchNorm with PyTorch's and Keras' switches; the two optional fields mean true when absent
 * (graph files written before them):
 *   affine false             no gamma and beta (PyTorch affine=False, Keras center=scale=False)
 *   trackRunningStats false  no running statistics: batch statistics in eval mode too, so
 *                            nothing to fold (PyTorch track_running_stats=False); not frozen
 *   decay null               running <- running + (batch - running) / (t + 1), a cumulative
 *                            average over the t + 1 batches seen (PyTorch momentum=None; param
 *                            batchesTracked holds t)
 */
export interface BatchNormAttrs extends Omit<FreezableNormAttrs, 'decay'> {
  readonly decay: number | null;
  readonly affine?: boolean;
  readonly trackRunningStats?: boolean;
}

/**
 * Batch Renorm's warm-up (Ioffe 2017, section 4): at train step t (the number of train-mode
 * batches before this one) the clips are
 *   rMax_t = 1 + (rMax - 1) * clip((t - holdSteps) / (rMaxSteps - holdSteps), 0, 1)
 *   dMax_t =      dMax      * clip((t - holdSteps) / (dMaxSteps - holdSteps), 0, 1)
 * so r = 1, d = 0 (plain BatchNorm) for the first holdSteps steps, then linear to rMax by step
 * rMaxSteps and to dMax by step dMaxSteps (the paper: 5000, 40000, 25000).
 */
export interface RenormWarmup {
  readonly holdSteps: number;
  readonly rMaxSteps: number;
  readonly dMaxSteps: number;
}

/**
 * Batch Renorm. Inference and the inference statistics are BatchNorm's (runningMean, runningVar,
 * updated with `decay`). The correction r = clip(sigma_B / sigma, 1/rMax, rMax),
 * d = clip((mu_B - mu) / sigma, -dMax, dMax) takes mu and sigma from `sigma`:
 *   'movingStddev' (the paper's Algorithm 1, Keras' renorm=True): renormMean and renormStd,
 *                  moving averages of mu_B and sigma_B = sqrt(var_B + eps) with `renormDecay`
 *                  (Keras' renorm_momentum); sigma is at least sqrt(eps), as in Keras;
 *   'runningVar':  mu = runningMean, sigma = sqrt(runningVar + eps) (renormDecay plays no part).
 */
export interface BatchRenormAttrs extends RunningStatsUpdate {
  readonly numFeatures: number;
  readonly eps: number;
  readonly rMax: number;
  readonly dMax: number;
  readonly sigma: 'movingStddev' | 'runningVar';
  readonly renormDecay: number;
  /** null: the full rMax and dMax from the first step; otherwise the schedule (param batchesTracked counts the steps). */
  readonly warmup: RenormWarmup | null;
}

export interface PoolAttrs {
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly padding: Padding2d;
}

export interface AttrsByOp {
  /** A graph input; `shape` may hold symbolic dims ('N', 'H', ...). */
  input: { readonly shape: Shape };
  conv2d: Conv2dAttrs;
  convTranspose2d: ConvTranspose2dAttrs;
  linear: LinearAttrs;
  /** weight = g * v / ||v||, the norm taken per output unit over all other axes. */
  weightNormConv2d: Conv2dAttrs;
  weightNormLinear: LinearAttrs;
  /** On [N, C] (BatchNorm1d) or [N, C, H, W] (BatchNorm2d). */
  batchNorm: BatchNormAttrs;
  batchRenorm: BatchRenormAttrs;
  /**
   * `over: 'chw'` normalises each sample over C, H and W with PyTorch's element-wise affine:
   * gamma and beta have the normalized shape [C, H, W] ([C] on [N, C]), so `normalizedShape` is
   * the input shape without N. `over: 'c'` normalises each position over channels only
   * (ConvNeXt style, Keras `LayerNormalization(axis=-1)` on NHWC): `normalizedShape` is [C] and
   * gamma, beta are per channel.
   */
  layerNorm: { readonly normalizedShape: readonly number[]; readonly over: 'chw' | 'c'; readonly eps: number; readonly affine: boolean };
  instanceNorm: { readonly numFeatures: number; readonly eps: number; readonly affine: boolean };
  groupNorm: { readonly numChannels: number; readonly groups: number; readonly eps: number; readonly affine: boolean };
  /** IBN-a: InstanceNorm on the first `instanceChannels` channels, BatchNorm on the rest. */
  ibn: FreezableNormAttrs & { readonly instanceChannels: number };
  /** Switchable Normalization: softmax-weighted mix of IN, LN and BN statistics. */
  switchableNorm: RunningStatsUpdate & { readonly numFeatures: number; readonly eps: number };
  /** y = x * scale + shift per channel (axis 1): what BN chains and folds collapse into. */
  scaleShift: { readonly numChannels: number };
  /** Input preprocessing y = (x - mean[c]) / std[c]; constants, not trained. */
  normalize: { readonly mean: readonly number[]; readonly std: readonly number[] };
  relu: Record<string, never>;
  relu6: Record<string, never>;
  leakyRelu: { readonly alpha: number };
  sigmoid: Record<string, never>;
  tanh: Record<string, never>;
  /** A smooth or piecewise-linear pointwise activation without parameters (see ActivationFn). */
  activation: { readonly fn: ActivationFn };
  /** x if x > 0, else alpha * (exp(x) - 1). */
  elu: { readonly alpha: number };
  /**
   * Keras' ReLU layer in full: x > threshold ? min(x, maxValue) : negativeSlope * (x - threshold).
   * `maxValue` null is no upper bound. ThresholdedReLU(theta) is threshold theta, slope 0, no bound.
   */
  generalRelu: { readonly maxValue: number | null; readonly negativeSlope: number; readonly threshold: number };
  /**
   * x >= 0 ? x : alpha * x with a learned alpha of shape `alphaShape`, which is the input's shape
   * without the batch dim in NCHW order, with 1 on every axis the alpha is shared across.
   */
  prelu: { readonly alphaShape: readonly number[] };
  /** exp(x_i) / sum_j exp(x_j) along `axis` (an IR axis, >= 1). */
  softmax: { readonly axis: number };
  /** x_i - log(sum_j exp(x_j)) along `axis` (an IR axis, >= 1). */
  logSoftmax: { readonly axis: number };
  /**
   * Keras' elementwise merges of two or more inputs with broadcasting (a dim of 1, or a missing
   * trailing dim, stretches): add, subtract (two inputs), multiply, average, maximum, minimum.
   */
  merge: { readonly fn: MergeFn };
  /**
   * Random regularisation, the identity in eval mode. In train mode: 'dropout' zeroes each value
   * with probability rate and scales the rest by 1/(1-rate); 'spatialDropout' does so per sample
   * and channel (whole feature maps); 'gaussianDropout' multiplies by N(1, rate/(1-rate));
   * 'gaussianNoise' adds N(0, rate^2) (rate is the standard deviation); 'alphaDropout' sets dropped
   * values to SELU's negative saturation and applies the affine that keeps mean and variance.
   */
  dropout: { readonly kind: DropoutKind; readonly rate: number };
  /** Concatenation along IR axis `axis` (>= 1); `concat` is the channel-axis case. */
  concatAxis: { readonly axis: number };
  /** Elementwise sum of two or more inputs of equal shape (residual merge). */
  add: Record<string, never>;
  /** Concatenation along the channel axis (axis 1). */
  concat: Record<string, never>;
  maxPool2d: PoolAttrs;
  /** `countIncludePad: false` divides by the number of real (unpadded) elements, as tfjs does. */
  avgPool2d: PoolAttrs & { readonly countIncludePad: boolean };
  /** Mean over H and W: [N, C, H, W] -> [N, C] (or [N, C, 1, 1] with keepDims). */
  globalAvgPool: { readonly keepDims: boolean };
  /** Max over H and W: [N, C, H, W] -> [N, C] (or [N, C, 1, 1] with keepDims). */
  globalMaxPool: { readonly keepDims: boolean };
  /**
   * [N, C, H, W] -> [N, C, H*scale[0], W*scale[1]], sampled as TensorFlow's resize with
   * align_corners and half_pixel_centers false (Keras UpSampling2D): see reference/ops/resize.ts.
   */
  upsample2d: { readonly scale: Pair; readonly interpolation: Interpolation };
  /** [N, C, H, W] -> [N, C, size[0], size[1]], TensorFlow's resize (half_pixel_centers false). */
  resize2d: { readonly size: Pair; readonly interpolation: Interpolation; readonly alignCorners: boolean };
  /** y = x with its axes permuted: axis i of y is axis perm[i] of x; the batch axis stays first. */
  transpose: { readonly perm: readonly number[] };
  /** [N, ...] -> [N, ...shape], the row-major (IR-order) data unchanged; sizes multiply to the same. */
  reshape: { readonly shape: readonly number[] };
  /** [N, C] -> [N, C, times]: every vector repeated along a new sequence axis (Keras RepeatVector). */
  repeatVector: { readonly times: number };
  /** [N, ...] -> [N, product of the rest], in NCHW order. */
  flatten: Record<string, never>;
  /** Drops `crop` rows/columns at each border: [N, C, H, W] -> [N, C, H - top - bottom, W - left - right]. */
  crop2d: { readonly crop: readonly [top: number, bottom: number, left: number, right: number] };
  identity: Record<string, never>;
  /**
   * A Keras layer shapefold has no op for (LSTM, Embedding, Conv3D, TimeDistributed, a custom
   * registered class), carried through unchanged: tfjs-layers builds it from `className` and
   * `config` and runs it (src/backend/ops/opaque.ts); no rule rewrites it or moves anything
   * across it. Its shapes are tfjs's, in Keras's channels-last order: see OpaqueAttrs. Its value
   * is the layer's output 0; a layer with more (an LSTM's returned states) gives each other output
   * read by the model through an opaqueOutput node.
   */
  opaque: OpaqueAttrs;
  /**
   * Output `index` (>= 1) of the opaque node that is its one input, which tfjs computes in the
   * same call as output 0. `outputShape` is that output's channels-last shape as tfjs states it;
   * a null there is the size of the layer's output 0 (this node's input) at the same axis (the
   * batch at axis 0): the importer refuses a layer whose unknown sizes are not.
   */
  opaqueOutput: { readonly index: number; readonly outputShape: readonly KerasDim[] };
}

/** A dimension as tfjs-layers states a shape: a size, or null where it is not known. */
export type KerasDim = number | null;

export interface OpaqueAttrs {
  /** The class name tfjs-layers' serialization registry knows the layer by. */
  readonly className: string;
  /** The layer's Keras config as the file has it (snake_case keys), written back unchanged. */
  readonly config: { readonly [field: string]: unknown };
  /** Its weights in tfjs's order (layer.weights): manifest name and shape. The node's params have these names. */
  readonly weights: readonly { readonly name: string; readonly shape: readonly number[] }[];
  /** The channels-last shape of each input tfjs built the layer for; null where any size is accepted. */
  readonly inputShapes: readonly (readonly KerasDim[])[];
  /**
   * The channels-last output shape tfjs computed. A null is the size of input 0 at the same
   * axis (the batch at axis 0): the importer refuses a layer whose unknown output sizes are not.
   */
  readonly outputShape: readonly KerasDim[];
}

export type OpKind = keyof AttrsByOp;

/**
 * Parameterless activations beyond relu/relu6/sigmoid/tanh, as tfjs-layers 4.22 computes them:
 *   selu         scale * (x > 0 ? x : alpha*(exp(x) - 1)), alpha 1.6732632423543772, scale 1.0507009873554805
 *   gelu         x * (1 + erf(x / sqrt 2)) / 2                        (exact)
 *   geluTanh     x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) / 2  (Keras 'gelu_new')
 *   hardSigmoid  clip(0.2 x + 0.5, 0, 1)
 *   softplus     log(1 + exp(x))
 *   softsign     x / (1 + |x|)
 *   swish        x * sigmoid(x)
 *   mish         x * tanh(softplus(x))
 */
export type ActivationFn = 'selu' | 'gelu' | 'geluTanh' | 'hardSigmoid' | 'softplus' | 'softsign' | 'swish' | 'mish';

export type MergeFn = 'add' | 'subtract' | 'multiply' | 'average' | 'maximum' | 'minimum';

export type DropoutKind = 'dropout' | 'spatialDropout' | 'gaussianDropout' | 'gaussianNoise' | 'alphaDropout';

/** The parameter tensors each op owns, by name. Shapes are checked by `validateGraph`. */
export interface ParamsByOp {
  input: never;
  /**
   * `tapBias` [Cout, kH, kW] is optional (never initialised; absent means zero). The output gets,
   * at (o, r, c), the sum over taps (kh, kw) of tapBias[o, kh, kw] whose input position
   * (r*sH + kh*dH - padTop, c*sW + kw*dW - padLeft) lies inside the unpadded H x W input: what
   * the conv adds for a constant image v under zero padding when tapBias = taps(W, v). It keeps a
   * shift folded through a zero-padded conv exact at the borders for any H and W.
   */
  conv2d: 'weight' | 'bias' | 'tapBias';
  convTranspose2d: 'weight' | 'bias';
  linear: 'weight' | 'bias';
  weightNormConv2d: 'v' | 'g' | 'bias';
  weightNormLinear: 'v' | 'g' | 'bias';
  /** gamma, beta unless affine is false; runningMean, runningVar unless trackRunningStats is false; batchesTracked [1] with decay null. */
  batchNorm: 'gamma' | 'beta' | 'runningMean' | 'runningVar' | 'batchesTracked';
  /** renormMean, renormStd [C] with sigma 'movingStddev'; batchesTracked [1] (train steps so far) with a warmup. */
  batchRenorm: 'gamma' | 'beta' | 'runningMean' | 'runningVar' | 'renormMean' | 'renormStd' | 'batchesTracked';
  /** gamma, beta of shape attrs.normalizedShape. */
  layerNorm: 'gamma' | 'beta';
  instanceNorm: 'gamma' | 'beta';
  groupNorm: 'gamma' | 'beta';
  /** gamma/beta cover all channels; runningMean/runningVar only the BatchNorm part. */
  ibn: 'gamma' | 'beta' | 'runningMean' | 'runningVar';
  /** meanWeights/varWeights: 3 logits each, for (IN, LN, BN). */
  switchableNorm: 'gamma' | 'beta' | 'runningMean' | 'runningVar' | 'meanWeights' | 'varWeights';
  scaleShift: 'scale' | 'shift';
  normalize: never;
  relu: never;
  relu6: never;
  leakyRelu: never;
  sigmoid: never;
  tanh: never;
  activation: never;
  elu: never;
  generalRelu: never;
  /** alpha [alphaShape] */
  prelu: 'alpha';
  softmax: never;
  logSoftmax: never;
  merge: never;
  dropout: never;
  concatAxis: never;
  add: never;
  concat: never;
  maxPool2d: never;
  avgPool2d: never;
  globalAvgPool: never;
  globalMaxPool: never;
  upsample2d: never;
  resize2d: never;
  transpose: never;
  reshape: never;
  repeatVector: never;
  flatten: never;
  crop2d: never;
  identity: never;
  /** One param per weight, named as in attrs.weights (the manifest name), in its Keras layout. */
  opaque: string;
  opaqueOutput: never;
}

/** A dense float32 tensor, row-major. */
export interface ParamTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type NodeOf<K extends OpKind> = {
  /** Unique within the graph; the layer name users see in errors and reports. */
  readonly name: string;
  readonly op: K;
  /** Names of the producing nodes, in argument order. */
  readonly inputs: readonly string[];
  readonly attrs: AttrsByOp[K];
  readonly params: { readonly [P in ParamsByOp[K]]?: ParamTensor };
  /**
   * Weight sharing: this node's parameters ARE those of node `tiedTo` (an earlier node of the
   * same op and attrs, itself untied), as when one Keras layer is called several times. `params`
   * holds the same values; the executor gives both nodes one set of variables (and running
   * statistics), the fold engine rewrites neither, the Layers exporter writes one layer called
   * once per tied node.
   */
  readonly tiedTo?: string;
};

export type Node = { [K in OpKind]: NodeOf<K> }[OpKind];

export interface Graph {
  /** Topologically ordered: every node's inputs appear before it. */
  readonly nodes: readonly Node[];
  /** Names of `input` nodes, in the order the executor takes its arguments. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}
