/**
 * ResNet-18 written in the typed DSL. Hover `logits` in an editor: its type is ['N', 1000],
 * computed by the compiler through every conv, pool and residual merge. Change `in: 512` on the
 * last layer to 256 and the editor says "linear 'fc': input has 512 features, layer expects 256".
 *
 *   npx tsx examples/resnet18.ts
 */
import { basicBlock, batchNorm, conv2d, globalAvgPool, input, linear, maxPool, model, relu, type Tensor } from '../dsl/index.ts';
import { formatShapeTable } from '../src/report/summary.ts';

export function resnet18() {
  return input(['N', 3, 224, 224], { name: 'image' })
    .to(conv2d({ in: 3, out: 64, kernel: 7, stride: 2, padding: 3, bias: false, name: 'conv1' }))
    .to(batchNorm({ name: 'bn1' }))
    .to(relu())
    .to(maxPool({ kernel: 3, stride: 2, padding: 1 }))
    .to(basicBlock({ out: 64, name: 'layer1.0' }))
    .to(basicBlock({ out: 64, name: 'layer1.1' }))
    .to(basicBlock({ out: 128, stride: 2, name: 'layer2.0' }))
    .to(basicBlock({ out: 128, name: 'layer2.1' }))
    .to(basicBlock({ out: 256, stride: 2, name: 'layer3.0' }))
    .to(basicBlock({ out: 256, name: 'layer3.1' }))
    .to(basicBlock({ out: 512, stride: 2, name: 'layer4.0' }))
    .to(basicBlock({ out: 512, name: 'layer4.1' }))
    .to(globalAvgPool())
    .to(linear({ in: 512, out: 1000, name: 'fc' }));
}

const logits: Tensor<['N', 1000]> = resnet18();

// With symbolic H and W the spatial sizes are expressions; every stride-2 branch and its
// projection shortcut normalise to the same one, so the merges type-check for any H, W.
const trunk = input(['N', 3, 'H', 'W'])
  .to(conv2d({ in: 3, out: 64, kernel: 7, stride: 2, padding: 3, bias: false }))
  .to(maxPool({ kernel: 3, stride: 2, padding: 1 }))
  .to(basicBlock({ out: 128, stride: 2 }));
const trunkShape: ['N', 128, 'floor((H+7)/8)', 'floor((W+7)/8)'] = trunk.shape;

if (import.meta.url === `file://${process.argv[1]}`) {
  const { graph } = model(logits);
  console.log(formatShapeTable(graph));
  console.log(`\nsymbolic trunk: [${trunkShape.join(', ')}]`);
}
