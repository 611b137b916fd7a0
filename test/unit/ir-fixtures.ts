/** Attribute fixtures shared by the IR tests: a 3x3 pad-1 conv and a PyTorch-convention BN. */
import type { AttrsByOp } from '../../src/ir/graph.ts';

export const convAttrs = (over: Partial<AttrsByOp['conv2d']> = {}): AttrsByOp['conv2d'] => ({
  inChannels: 3,
  outChannels: 4,
  kernel: [3, 3],
  stride: [1, 1],
  padding: [1, 1, 1, 1],
  dilation: [1, 1],
  groups: 1,
  bias: true,
  ...over,
});

export const bnAttrs = (numFeatures: number): AttrsByOp['batchNorm'] => ({ numFeatures, eps: 1e-5, frozen: false, decay: 0.9, unbiasedRunningVar: true });
