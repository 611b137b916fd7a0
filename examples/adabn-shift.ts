/**
 * AdaBN (Li et al. 2016) on a domain shift: the trained LeNet-BN of examples/models (the network
 * examples/lenet-fashion-mnist.ts trains) is evaluated on shifted copies of the Fashion-MNIST test
 * set, then `adaBN` re-estimates every BatchNorm's statistics on unlabeled shifted images and the
 * network is evaluated again; last, the adapted network is folded (no BN left) and evaluated once
 * more. The unlabeled target images are shifted *training* images (10,000 of them), never the
 * test images that are scored.
 *
 * Shifts: 'low-contrast' (0.3 x + 0.35, the range [0, 1] squeezed into [0.35, 0.65]) is the kind
 * AdaBN is for: conv1 (no padding) turns it into 0.3 conv1(x) + a per-channel constant, which the
 * re-estimated statistics of bn1 undo exactly. 'inverted' (1 - x) is the control it cannot fix:
 * conv1's output is negated, and new means and variances do not flip a sign back.
 *
 *   npx tsx examples/adabn-shift.ts [--model examples/models/lenet-bn-fashion-mnist/model.json]
 *
 * The last line printed is one JSON object.
 */
import * as tf from '@tensorflow/tfjs';
import { adaBN, compileGraph, selectBackend } from '../src/backend/index.ts';
import { foldGraph } from '../src/fold/index.ts';
import { readLayersModel } from '../src/io/index.ts';
import { loadFashionMnist } from './data/fashion-mnist.ts';
import { accuracy, countNorms, disposeSet, option, predict, toTensors } from './data/evaluate.ts';

const SHIFTS = {
  inverted: (x: tf.Tensor) => tf.sub(1, x),
  'low-contrast': (x: tf.Tensor) => tf.add(tf.mul(x, 0.3), 0.35),
} as const;
const TARGET_IMAGES = 10000;

if (import.meta.url === `file://${process.argv[1]}`) {
  const modelDir = option('model', 'examples/models/lenet-bn-fashion-mnist/model.json');
  const backend = await selectBackend();
  const { graph } = await readLayersModel(modelDir);
  const data = loadFashionMnist(Number(option('seed', '0')));
  const tensorsBefore = tf.memory().numTensors;
  const train = toTensors(data.train);
  const test = toTensors(data.test);
  const net = compileGraph(graph);
  const sourceAccuracy = accuracy(await predict(net, test.x), test.labels);
  net.dispose();
  console.log(`${modelDir} on the unshifted test set: accuracy ${sourceAccuracy.toFixed(4)} (backend ${backend.name})`);

  const shifts = [];
  for (const [shift, apply] of Object.entries(SHIFTS)) {
    const shiftedTest = tf.tidy(() => apply(test.x));
    const target = tf.tidy(() => apply(tf.slice(train.x, 0, TARGET_IMAGES)));
    const adapted = compileGraph(graph);
    const before = accuracy(await predict(adapted, shiftedTest), test.labels);
    const report = await adaBN(adapted, target, { batchSize: 500 });
    const after = accuracy(await predict(adapted, shiftedTest), test.labels);
    const adaptedGraph = adapted.exportGraph();
    adapted.dispose();
    const folded = foldGraph(adaptedGraph, { probe: false }).graph;
    const foldedNet = compileGraph(folded);
    const afterFolding = accuracy(await predict(foldedNet, shiftedTest), test.labels);
    foldedNet.dispose();
    tf.dispose([shiftedTest, target]);
    console.log(
      `${shift}: accuracy ${before.toFixed(4)} before AdaBN, ${after.toFixed(4)} after re-estimating ${report.nodes.length} BNs ` +
        `on ${report.samples} unlabeled shifted images, ${afterFolding.toFixed(4)} folded (${countNorms(adaptedGraph)} -> ${countNorms(folded)} BNs)`,
    );
    shifts.push({ shift, before, adapted: after, adaptedFolded: afterFolding, bnBefore: countNorms(adaptedGraph), bnAfter: countNorms(folded) });
  }
  disposeSet(train);
  disposeSet(test);
  console.log(JSON.stringify({ example: 'adabn-shift', model: modelDir, sourceAccuracy, targetImages: TARGET_IMAGES, shifts, leakedTensors: tf.memory().numTensors - tensorsBefore, backend: backend.name }));
}
