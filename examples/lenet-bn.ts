/**
 * The seed LeNet with a BatchNorm after every conv and linear layer, on 28x28 MNIST-sized input.
 * The flatten feeds exactly 16*4*4 = 256 features into fc1; write `in: 400` (LeNet's 32x32
 * number) and the editor says "linear 'fc1': input has 256 features, layer expects 400".
 *
 *   npx tsx examples/lenet-bn.ts
 */
import { batchNorm, conv2d, flatten, input, linear, maxPool, model, relu, type Tensor } from '../dsl/index.ts';
import { formatShapeTable } from '../src/report/summary.ts';

export function lenetBn() {
  return input(['N', 1, 28, 28], { name: 'digits' })
    .to(conv2d({ in: 1, out: 6, kernel: 5, name: 'conv1' }))
    .to(batchNorm({ name: 'bn1' }))
    .to(relu())
    .to(maxPool({ kernel: 2 }))
    .to(conv2d({ in: 6, out: 16, kernel: 5, name: 'conv2' }))
    .to(batchNorm({ name: 'bn2' }))
    .to(relu())
    .to(maxPool({ kernel: 2 }))
    .to(flatten())
    .to(linear({ in: 256, out: 120, name: 'fc1' }))
    .to(batchNorm({ name: 'bn3' }))
    .to(relu())
    .to(linear({ in: 120, out: 84, name: 'fc2' }))
    .to(batchNorm({ name: 'bn4' }))
    .to(relu())
    .to(linear({ in: 84, out: 10, name: 'fc3' }));
}

const logits: Tensor<['N', 10]> = lenetBn();

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(formatShapeTable(model(logits).graph));
}
