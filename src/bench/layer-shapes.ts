/**
 * `npm run bench:shapes`: which Keras layer shape runs faster under stock `model.predict`, for
 * each choice the Layers exporter makes (src/io/layers-export.ts). Each pair is two stock
 * tfjs-layers models computing the same function: a stack of 6 layers on a [1, 28, 28, 64]
 * map (Dense: [1, 1024] -> 1024; strided convs: 4 layers from [1, 112, 112, 64]), written one
 * way or the other, timed in interleaved rounds. One pair is not a choice but a price: a
 * depthwise conv with a bias, as it comes out of folding the BN after it, against one without.
 *
 *   npm run bench:shapes -- [--runs 21] [--warmup 3] [--backend wasm|cpu] [--only 'sigmoid,Dense']
 *
 * A benchmark, not a test: it prints the ratios the exporter's choices rest on.
 */
import * as tf from '@tensorflow/tfjs';
import { pathToFileURL } from 'node:url';
import { selectBackend } from '../backend/select.ts';
import { interleavedMedians, randomizeLayersWeights } from './layers-timing.ts';

type ST = tf.SymbolicTensor;
const L = tf.layers;

interface Choice {
  readonly name: string;
  /** The two ways, as [label, one layer of the stack]. */
  readonly ways: readonly [readonly [string, (x: ST, i: number) => ST], readonly [string, (x: ST, i: number) => ST]];
  /** The input without the batch dimension, and how many layers the stack has. */
  readonly input?: { readonly shape: readonly number[]; readonly depth: number };
}

const DENSE_INPUT = { shape: [1024], depth: 6 } as const;
const STRIDED_INPUT = { shape: [112, 112, 64], depth: 4 } as const;

const conv = (activation: 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'tanh', i: number) =>
  L.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation, name: `conv${i}` });
const on = (layer: tf.layers.Layer, x: ST | ST[]) => layer.apply(x) as ST;

const CHOICES: readonly Choice[] = [
  {
    name: 'Conv2D + relu',
    ways: [
      ['Conv2D(activation relu)', (x, i) => on(conv('relu', i), x)],
      ['Conv2D + Activation(relu)', (x, i) => on(L.activation({ activation: 'relu' }), on(conv('linear', i), x))],
    ],
  },
  {
    name: 'Conv2D + relu6',
    ways: [
      ['Conv2D(activation relu6)', (x, i) => on(conv('relu6', i), x)],
      ['Conv2D + ReLU(max_value 6)', (x, i) => on(L.reLU({ maxValue: 6 }), on(conv('linear', i), x))],
    ],
  },
  {
    name: 'relu6 layer',
    ways: [
      ['ReLU(max_value 6)', (x) => on(L.reLU({ maxValue: 6 }), x)],
      ['Activation(relu6)', (x) => on(L.activation({ activation: 'relu6' }), x)],
    ],
  },
  {
    // keras.applications' strided depthwise convs: ZeroPadding2D(correct_pad) + 'valid', which on an even map is TF's 'same'.
    name: 'strided DepthwiseConv2D padding',
    input: STRIDED_INPUT,
    ways: [
      ['DepthwiseConv2D(strides 2, same)', (x, i) => on(L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', name: `dw${i}` }), x)],
      [
        'ZeroPadding2D((0, 1), (0, 1)) + DepthwiseConv2D(strides 2, valid)',
        (x, i) => on(L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', name: `dw${i}` }), on(L.zeroPadding2d({ padding: [[0, 1], [0, 1]] }), x)),
      ],
    ],
  },
  {
    // keras.applications' ResNet v2 pads its 3x3 convs with ZeroPadding2D(1), which at stride 1 is 'same'.
    name: 'Conv2D padding',
    ways: [
      ['Conv2D(same)', (x, i) => on(L.conv2d({ filters: 64, kernelSize: 3, padding: 'same', name: `conv${i}` }), x)],
      ['ZeroPadding2D(1) + Conv2D(valid)', (x, i) => on(L.conv2d({ filters: 64, kernelSize: 3, padding: 'valid', name: `conv${i}` }), on(L.zeroPadding2d({ padding: 1 }), x))],
    ],
  },
  {
    name: 'strided Conv2D padding',
    input: STRIDED_INPUT,
    ways: [
      ['Conv2D(strides 2, same)', (x, i) => on(L.conv2d({ filters: 64, kernelSize: 3, strides: 2, padding: 'same', name: `conv${i}` }), x)],
      [
        'ZeroPadding2D((0, 1), (0, 1)) + Conv2D(strides 2, valid)',
        (x, i) => on(L.conv2d({ filters: 64, kernelSize: 3, strides: 2, padding: 'valid', name: `conv${i}` }), on(L.zeroPadding2d({ padding: [[0, 1], [0, 1]] }), x)),
      ],
    ],
  },
  {
    // Not written by the exporter (a BN that stays comes back as itself): what tfjs-wasm's scalar
    // FusedBatchNorm loop costs against the same per-channel affine as XNNPACK kernels.
    name: 'BatchNormalization vs a 1x1 DepthwiseConv2D',
    ways: [
      ['BatchNormalization', (x, i) => on(L.batchNormalization({ name: `bn${i}` }), x)],
      ['DepthwiseConv2D(1x1, use_bias true)', (x, i) => on(L.depthwiseConv2d({ kernelSize: 1, useBias: true, name: `dw${i}` }), x)],
    ],
  },
  {
    name: 'DepthwiseConv2D bias (the price of a folded BN)',
    ways: [
      ['DepthwiseConv2D(use_bias true)', (x, i) => on(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: true, name: `dw${i}` }), x)],
      ['DepthwiseConv2D(use_bias false)', (x, i) => on(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: `dw${i}` }), x)],
    ],
  },
  {
    name: 'Conv2D + sigmoid',
    ways: [
      ['Conv2D(activation sigmoid)', (x, i) => on(conv('sigmoid', i), x)],
      ['Conv2D + Activation(sigmoid)', (x, i) => on(L.activation({ activation: 'sigmoid' }), on(conv('linear', i), x))],
    ],
  },
  {
    name: 'Conv2D + tanh',
    ways: [
      ['Conv2D(activation tanh)', (x, i) => on(conv('tanh', i), x)],
      ['Conv2D + Activation(tanh)', (x, i) => on(L.activation({ activation: 'tanh' }), on(conv('linear', i), x))],
    ],
  },
  {
    name: 'DepthwiseConv2D + relu',
    ways: [
      ['DepthwiseConv2D(activation relu)', (x, i) => on(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu', name: `dw${i}` }), x)],
      ['DepthwiseConv2D + Activation(relu)', (x, i) => on(L.activation({ activation: 'relu' }), on(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: `dw${i}` }), x))],
    ],
  },
  {
    name: 'separable conv + relu',
    ways: [
      ['SeparableConv2D(activation relu)', (x, i) => on(L.separableConv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu', name: `sep${i}` }), x)],
      [
        'DepthwiseConv2D + Conv2D 1x1(relu)',
        (x, i) => on(L.conv2d({ filters: 64, kernelSize: 1, activation: 'relu', name: `pw${i}` }), on(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: `dw${i}` }), x)),
      ],
    ],
  },
  {
    name: 'Dense + relu',
    input: DENSE_INPUT,
    ways: [
      ['Dense(activation relu)', (x, i) => on(L.dense({ units: 1024, activation: 'relu', name: `fc${i}` }), x)],
      ['Dense + Activation(relu)', (x, i) => on(L.activation({ activation: 'relu' }), on(L.dense({ units: 1024, name: `fc${i}` }), x))],
    ],
  },
];

export interface ShapeResult {
  readonly choice: string;
  readonly a: string;
  readonly b: string;
  readonly aMs: number;
  readonly bMs: number;
}

/** Times each choice whose name contains one of `only` (all when empty). */
export function measureLayerShapes(runs: number, warmup: number, only: readonly string[] = []): ShapeResult[] {
  return CHOICES.filter((c) => only.length === 0 || only.some((o) => c.name.includes(o))).map((choice) => {
    const { shape, depth } = choice.input ?? { shape: [28, 28, 64], depth: 6 };
    const models = choice.ways.map(([, layer], w) => {
      const input = tf.input({ shape: [...shape] });
      let x = input;
      for (let i = 0; i < depth; i++) x = layer(x, i);
      const model = tf.model({ inputs: input, outputs: x, name: `way${w}` });
      randomizeLayersWeights(model, 1);
      return model;
    });
    const x = tf.randomUniform([1, ...shape], -1, 1, 'float32', 3);
    const [aMs, bMs] = interleavedMedians(models, x, runs, warmup);
    x.dispose();
    models.forEach((m) => m.dispose());
    return { choice: choice.name, a: choice.ways[0][0], b: choice.ways[1][0], aMs, bMs };
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const option = (flag: string, fallback: string) => {
    const at = argv.indexOf(flag);
    return at < 0 ? fallback : (argv[at + 1] ?? fallback);
  };
  const backend = await selectBackend({ backend: option('--backend', 'wasm') as 'wasm' | 'cpu' });
  const runs = Number(option('--runs', '21'));
  const warmup = Number(option('--warmup', '3'));
  console.log(`bench:shapes  stock model.predict on ${backend.name}, ${runs} interleaved runs, medians`);
  console.log('| choice | way A | ms | way B | ms | A / B |');
  console.log('|---|---|--:|---|--:|--:|');
  const only = option('--only', '').split(',').filter((o) => o !== '');
  for (const r of measureLayerShapes(runs, warmup, only)) {
    console.log(`| ${r.choice} | ${r.a} | ${r.aMs.toFixed(2)} | ${r.b} | ${r.bMs.toFixed(2)} | ${(r.aMs / r.bMs).toFixed(3)} |`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
