/**
 * shapefold's typed model DSL. A model written here is shape-checked by the compiler while it is
 * typed, and builds the IR (`src/ir`) that the executor, reference and fold engine consume.
 */
export { Tensor, input, model, scope, type InputOptions, type Model, type Returns, type Poisoned } from './tensor.ts';
export { Scope, DslError, type ScopeOptions } from './scope.ts';
export type { Layer, ShapeFn, Call, Apply, Applicable, Applied, ShapeError, ShapeOrError } from './layer.ts';
export type { Shape } from './shape.ts';
export type { Settings, CheckedAtRunTime } from './settings.ts';
export {
  conv2d,
  depthwiseConv2d,
  type Conv2d,
  type DepthwiseConv2d,
  type ConvTranspose2d,
  type WeightNormConv2d,
  convTranspose2d,
  weightNormConv2d,
  type Conv2dConfig,
  type ConvTranspose2dConfig,
  type DepthwiseConv2dConfig,
  type PaddingOption,
} from './layers/conv.ts';
export { linear, weightNormLinear, type Linear, type WeightNormLinear, type LinearConfig } from './layers/linear.ts';
export {
  batchNorm,
  batchRenorm,
  layerNorm,
  instanceNorm,
  groupNorm,
  ibn,
  switchableNorm,
  scaleShift,
  normalize,
  type BatchNorm,
  type BatchRenorm,
  type LayerNorm,
  type InstanceNorm,
  type GroupNorm,
  type Ibn,
  type SwitchableNorm,
  type ScaleShift,
  type Normalize,
  type BatchNormConfig,
  type BatchRenormConfig,
  type LayerNormConfig,
  type GroupNormConfig,
  type IbnConfig,
  type NormalizeConfig,
} from './layers/norm.ts';
export {
  relu,
  relu6,
  leakyRelu,
  sigmoid,
  tanh,
  identity,
  dropout,
  selu,
  gelu,
  hardSigmoid,
  softplus,
  softsign,
  swish,
  mish,
  elu,
  generalRelu,
  thresholdedRelu,
  type Selu,
  type Gelu,
  type HardSigmoid,
  type Softplus,
  type Softsign,
  type Swish,
  type Mish,
  type Elu,
  type GeneralRelu,
  type GeluConfig,
  type EluConfig,
  type GeneralReluConfig,
  type ThresholdedReluConfig,
  type Dropout,
  type DropoutConfig,
  type Relu,
  type Relu6,
  type LeakyRelu,
  type Sigmoid,
  type Tanh,
  type Identity,
} from './layers/activation.ts';
export {
  maxPool,
  avgPool,
  globalAvgPool,
  globalMaxPool,
  flatten,
  type GlobalMaxPool,
  type MaxPool,
  type AvgPool,
  type GlobalAvgPool,
  type Flatten,
  type PoolConfig,
  type AvgPoolConfig,
} from './layers/pool.ts';
export { softmax, logSoftmax, type Softmax, type LogSoftmax, type SoftmaxConfig } from './layers/softmax.ts';
export { prelu, type Prelu, type PreluConfig } from './layers/prelu.ts';
export { upsample2d, resize2d, type Upsample2d, type Resize2d, type Upsample2dConfig, type Resize2dConfig } from './layers/resample.ts';
export {
  reshape,
  permute,
  repeatVector,
  type Reshape,
  type Permute,
  type RepeatVector,
  type ReshapeConfig,
  type PermuteConfig,
  type RepeatVectorConfig,
} from './layers/reshape.ts';
export { multiply, subtract, maximum, minimum, average, broadcastAdd } from './broadcast.ts';
export { crop2d, type Crop2d, type Crop2dConfig, type CropOption } from './layers/crop.ts';
export { add, concat, sequential, residual, type Sequential, type Residual, type MergeOptions, type ConcatOptions } from './compose.ts';
export {
  resA,
  resB,
  resC,
  basicBlock,
  bottleneck,
  squeezeExcite,
  mbConv,
  type SqueezeExcite,
  type MbConv,
  type SqueezeExciteConfig,
  type MbConvConfig,
  type MobileActivation,
  type ResA,
  type ResB,
  type ResC,
  type BasicBlock,
  type Bottleneck,
  type UnitConfig,
  type BottleneckConfig,
} from './units.ts';
export type * from './types/index.ts';
export { resnet18, resnet50, type ResNet18, type ResNet50 } from './models.ts';
