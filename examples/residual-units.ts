/**
 * The three residual units of the seed models, with BN placed differently around ReLU:
 *   ResA  x + (conv1 -> bn1 -> relu -> conv2 -> bn2 -> relu)
 *   ResB  x + (conv1 -> relu -> bn1 -> conv2 -> relu -> bn2)
 *   ResC  x + (conv1 -> bn1 -> relu -> bn2 -> conv2 -> bn3 -> relu -> bn4)
 * each with and without a stride-2 projection shortcut, on symbolic H and W.
 *
 *   npx tsx examples/residual-units.ts
 *   npx shapefold fold examples/residual-units.ts#residualUnits -o folded.json
 */
import { input, model, resA, resB, resC, type Tensor } from '../dsl/index.ts';
import { formatShapeTable } from '../src/report/summary.ts';

export function residualUnits() {
  const x = input(['N', 16, 'H', 'W'], { name: 'x' });
  const a: Tensor<['N', 16, 'H', 'W']> = x.to(resA({ out: 16, name: 'resA' }));
  const b: Tensor<['N', 32, 'floor((H+1)/2)', 'floor((W+1)/2)']> = a.to(resB({ out: 32, stride: 2, name: 'resB' }));
  const c: Tensor<['N', 32, 'floor((H+1)/2)', 'floor((W+1)/2)']> = b.to(resC({ out: 32, name: 'resC' }));
  return c;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(formatShapeTable(model(residualUnits()).graph));
}
