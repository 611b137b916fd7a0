/**
 * ResNet-18 from the typed DSL's reference networks (dsl/models.ts, torchvision's layout), on
 * ImageNet-sized input. Hover `logits` in an editor: its type is ['N', 1000], computed by the
 * compiler through every conv, pool and residual merge. Give it 4 input channels and the editor
 * says "sequential[0] sequential[0] conv2d 'conv1': input has 4 channels, layer expects 3".
 *
 *   npx tsx examples/resnet18.ts
 */
import { basicBlock, conv2d, input, maxPool, model, resnet18 as resnet18Layers, type Tensor } from '../dsl/index.ts';
import { formatShapeTable } from '../src/report/summary.ts';

export function resnet18(): Tensor<['N', 1000]> {
  return input(['N', 3, 224, 224], { name: 'image' }).to(resnet18Layers());
}

// With symbolic H and W the spatial sizes are expressions; every stride-2 branch and its
// projection shortcut normalise to the same one, so the merges type-check for any H, W.
const trunk = input(['N', 3, 'H', 'W'])
  .to(conv2d({ in: 3, out: 64, kernel: 7, stride: 2, padding: 3, bias: false }))
  .to(maxPool({ kernel: 3, stride: 2, padding: 1 }))
  .to(basicBlock({ out: 128, stride: 2 }));
const trunkShape: ['N', 128, 'floor((H+7)/8)', 'floor((W+7)/8)'] = trunk.shape;

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(formatShapeTable(model(resnet18()).graph));
  console.log(`\nsymbolic trunk: [${trunkShape.join(', ')}]`);
}
