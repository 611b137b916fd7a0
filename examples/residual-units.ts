/**
 * The three residual units of the seed models, with BN placed differently around ReLU:
 *   ResA  x + (conv1 -> bn1 -> relu -> conv2 -> bn2 -> relu)
 *   ResB  x + (conv1 -> relu -> bn1 -> conv2 -> relu -> bn2)
 *   ResC  x + (conv1 -> bn1 -> relu -> bn2 -> conv2 -> bn3 -> relu -> bn4)
 * `residualUnits()` chains them (with a stride-2 projection shortcut) on symbolic H and W.
 *
 * Run as a script, each unit becomes a small classifier trained briefly on Fashion-MNIST
 * (examples/data/fashion-mnist.ts):
 *   image [N, 1, 28, 28] -> conv 3x3 stride 2 (8) -> unit(8) -> unit(16, stride 2, projection)
 *   -> global average pool -> linear(16 -> 10)
 * then folded in eval mode; the report says which BNs each unit lost and why the rest stay, and
 * the folded network is scored on the same 10,000 test images.
 *
 *   npx tsx examples/residual-units.ts [--train-images 20000] [--epochs 1]
 *   npx shapefold fold examples/residual-units.ts#residualUnits -o folded.json
 *
 * The last line printed is one JSON object.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2d, globalAvgPool, input, linear, model, resA, resB, resC, scope, type Tensor } from '../dsl/index.ts';
import { compileGraph, fit, selectBackend } from '../src/backend/index.ts';
import { foldGraph } from '../src/fold/index.ts';
import { loadFashionMnist, takeFirst } from './data/fashion-mnist.ts';
import { accuracy, agreement, countNorms, disposeSet, option, predict, toTensors } from './data/evaluate.ts';

export function residualUnits() {
  const x = input(['N', 16, 'H', 'W'], { name: 'x' });
  const a: Tensor<['N', 16, 'H', 'W']> = x.to(resA({ out: 16, name: 'resA' }));
  const b: Tensor<['N', 32, 'floor((H+1)/2)', 'floor((W+1)/2)']> = a.to(resB({ out: 32, stride: 2, name: 'resB' }));
  const c: Tensor<['N', 32, 'floor((H+1)/2)', 'floor((W+1)/2)']> = b.to(resC({ out: 32, name: 'resC' }));
  return c;
}

type UnitKind = 'resA' | 'resB' | 'resC';

/** A small Fashion-MNIST classifier made of two units of one kind. */
export function unitClassifier(kind: UnitKind, seed = 0): Tensor<['N', 10]> {
  const stem = input(['N', 1, 28, 28], { name: 'image', scope: scope({ seed }) }).to(conv2d({ in: 1, out: 8, kernel: 3, stride: 2, padding: 1, name: 'stem' }));
  const units =
    kind === 'resA'
      ? stem.to(resA({ out: 8, name: 'u1' })).to(resA({ out: 16, stride: 2, name: 'u2' }))
      : kind === 'resB'
        ? stem.to(resB({ out: 8, name: 'u1' })).to(resB({ out: 16, stride: 2, name: 'u2' }))
        : stem.to(resC({ out: 8, name: 'u1' })).to(resC({ out: 16, stride: 2, name: 'u2' }));
  return units.to(globalAvgPool()).to(linear({ in: 16, out: 10, name: 'head' }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const trainImages = Number(option('train-images', '20000'));
  const epochs = Number(option('epochs', '1'));
  const seed = Number(option('seed', '0'));
  const backend = await selectBackend();
  const data = loadFashionMnist(seed);
  const tensorsBefore = tf.memory().numTensors;
  const train = toTensors(takeFirst(data.train, trainImages));
  const test = toTensors(data.test);
  const units = [];
  for (const kind of ['resA', 'resB', 'resC'] as const) {
    const { graph } = model(unitClassifier(kind, seed));
    const net = compileGraph(graph);
    await fit(net, train, { epochs, batchSize: 128, optimizer: 'adam', learningRate: 0.01, loss: 'softmaxCrossEntropy', seed });
    const trained = net.exportGraph();
    net.dispose();
    const original = compileGraph(trained);
    const originalPredictions = await predict(original, test.x);
    original.dispose();
    const { graph: folded, report } = foldGraph(trained, { probe: false });
    const foldedNet = compileGraph(folded);
    const foldedPredictions = await predict(foldedNet, test.x);
    foldedNet.dispose();
    // A BN is lost when no node of its name is left; a BN whose scale folded but whose shift could
    // not move stays as a scaleShift of the same name, listed with its reason.
    const remaining = new Set(folded.nodes.map((node) => node.name));
    const lost = trained.nodes.filter((node) => node.op === 'batchNorm' && !remaining.has(node.name)).map((node) => node.name);
    const left = report.left.map((l) => ({ name: l.name, op: l.op, reason: l.reasons[0] }));
    console.log(`\n${kind}: ${countNorms(trained)} BNs -> ${countNorms(folded)} left after folding`);
    console.log(`  folded away: ${lost.join(', ') || 'none'}`);
    for (const l of left) console.log(`  stays: ${l.op} '${l.name}': ${l.reason}`);
    const result = {
      unit: kind,
      accuracy: accuracy(originalPredictions, test.labels),
      foldedAccuracy: accuracy(foldedPredictions, test.labels),
      samePredictions: agreement(originalPredictions, foldedPredictions),
      bnBefore: countNorms(trained),
      bnAfter: countNorms(folded),
      folded: lost,
      left,
    };
    console.log(`  test accuracy ${result.accuracy.toFixed(4)} before folding, ${result.foldedAccuracy.toFixed(4)} after; same predictions on ${(result.samePredictions * 100).toFixed(2)}%`);
    units.push(result);
  }
  disposeSet(train);
  disposeSet(test);
  console.log(JSON.stringify({ example: 'residual-units', trainImages: train.labels.length, epochs, units, leakedTensors: tf.memory().numTensors - tensorsBefore, backend: backend.name }));
}
