/**
 * shapefold's typed model DSL. A model written here is shape-checked by the compiler while it is
 * typed, and builds the IR (`src/ir`) that the executor, reference and fold engine consume.
 */
export { Tensor, input, model, scope, type InputOptions, type Model } from './tensor.ts';
export { Scope, DslError, type ScopeOptions } from './scope.ts';
export type { Layer, ShapeFn, Call, Apply, Applicable } from './layer.ts';
export {
  conv2d,
  depthwiseConv2d,
  convTranspose2d,
  weightNormConv2d,
  type Conv2dConfig,
  type ConvTranspose2dConfig,
  type DepthwiseConv2dConfig,
  type PaddingOption,
} from './layers/conv.ts';
export { linear, weightNormLinear, type LinearConfig } from './layers/linear.ts';
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
  type BatchNormConfig,
  type BatchRenormConfig,
  type LayerNormConfig,
  type GroupNormConfig,
  type IbnConfig,
  type NormalizeConfig,
} from './layers/norm.ts';
export { relu, relu6, leakyRelu, sigmoid, tanh, identity } from './layers/activation.ts';
export { maxPool, avgPool, globalAvgPool, flatten, type PoolConfig, type AvgPoolConfig } from './layers/pool.ts';
export { crop2d, type Crop2dConfig, type CropOption } from './layers/crop.ts';
export { add, concat, sequential, residual } from './compose.ts';
export { resA, resB, resC, basicBlock, bottleneck, type UnitConfig, type BottleneckConfig } from './units.ts';
export type * from './types/index.ts';
export { resnet18, resnet50 } from './models.ts';
