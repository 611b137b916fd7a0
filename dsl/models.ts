/**
 * Reference networks as layers, in torchvision's layout and naming (conv1, bn1, layer2.0.conv1,
 * fc): apply one to any input, literal or symbolic, and the compiler computes its shapes, e.g.
 * `input(['N', 3, 224, 224]).to(resnet18())` is `Tensor<['N', 1000]>`. Each call builds fresh
 * layers (layers with parameters are applied once).
 */
import { sequential } from './compose.ts';
import type { Layer, ShapeFnOf } from './layer.ts';
import { relu } from './layers/activation.ts';
import { conv2d } from './layers/conv.ts';
import { linear } from './layers/linear.ts';
import { batchNorm } from './layers/norm.ts';
import { globalAvgPool, maxPool } from './layers/pool.ts';
import { basicBlock, bottleneck } from './units.ts';

/** The 7x7 stride-2 stem and 3x3 stride-2 max pool both ResNets share. */
function stem() {
  return sequential(
    conv2d({ in: 3, out: 64, kernel: 7, stride: 2, padding: 3, bias: false, name: 'conv1' }),
    batchNorm({ name: 'bn1' }),
    relu(),
    maxPool({ kernel: 3, stride: 2, padding: 1 }),
  );
}

function resnet18Layers() {
  return sequential(
    stem(),
    basicBlock({ out: 64, name: 'layer1.0' }),
    basicBlock({ out: 64, name: 'layer1.1' }),
    basicBlock({ out: 128, stride: 2, name: 'layer2.0' }),
    basicBlock({ out: 128, name: 'layer2.1' }),
    basicBlock({ out: 256, stride: 2, name: 'layer3.0' }),
    basicBlock({ out: 256, name: 'layer3.1' }),
    basicBlock({ out: 512, stride: 2, name: 'layer4.0' }),
    basicBlock({ out: 512, name: 'layer4.1' }),
    globalAvgPool(),
    linear({ in: 512, out: 1000, name: 'fc' }),
  );
}

function resnet50Layers() {
  return sequential(
    stem(),
    bottleneck({ width: 64, name: 'layer1.0' }),
    bottleneck({ width: 64, name: 'layer1.1' }),
    bottleneck({ width: 64, name: 'layer1.2' }),
    bottleneck({ width: 128, stride: 2, name: 'layer2.0' }),
    bottleneck({ width: 128, name: 'layer2.1' }),
    bottleneck({ width: 128, name: 'layer2.2' }),
    bottleneck({ width: 128, name: 'layer2.3' }),
    bottleneck({ width: 256, stride: 2, name: 'layer3.0' }),
    bottleneck({ width: 256, name: 'layer3.1' }),
    bottleneck({ width: 256, name: 'layer3.2' }),
    bottleneck({ width: 256, name: 'layer3.3' }),
    bottleneck({ width: 256, name: 'layer3.4' }),
    bottleneck({ width: 256, name: 'layer3.5' }),
    bottleneck({ width: 512, stride: 2, name: 'layer4.0' }),
    bottleneck({ width: 512, name: 'layer4.1' }),
    bottleneck({ width: 512, name: 'layer4.2' }),
    globalAvgPool(),
    linear({ in: 2048, out: 1000, name: 'fc' }),
  );
}

export interface ResNet18 extends Layer<ShapeFnOf<ReturnType<typeof resnet18Layers>>> {}
export interface ResNet50 extends Layer<ShapeFnOf<ReturnType<typeof resnet50Layers>>> {}

/** ResNet-18: basic blocks 2-2-2-2, widths 64-512, on [N, 3, H, W] -> [N, 1000]. */
export function resnet18(): ResNet18 {
  return resnet18Layers();
}

/** ResNet-50: bottlenecks 3-4-6-3, widths 64-512 (outputs 4x), on [N, 3, H, W] -> [N, 1000]. */
export function resnet50(): ResNet50 {
  return resnet50Layers();
}
