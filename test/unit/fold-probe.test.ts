/**
 * The fold probe: each fold checked on a small float64 patch that shows its borders, the whole
 * network once in float32 at batch 1, bounded for any declared size, with progress reports.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Rule } from '../../src/algebra/rule.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { FoldProbeError, foldGraph, formatFoldReport, type FoldProgress, type FoldReport, type NetworkCheck } from '../../src/fold/index.ts';
import { probeShapes } from '../../src/fold/probe-shapes.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { AttrsByOp, Graph, Padding2d, Shape } from '../../src/ir/graph.ts';
import { bnConvValid, convBn } from '../../src/rules/index.ts';
import { trainedLike } from './fold-fixtures.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
});

const conv = (cin: number, cout: number, k: number, stride: number, padding: Padding2d): AttrsByOp['conv2d'] => ({
  inChannels: cin,
  outChannels: cout,
  kernel: [k, k],
  stride: [stride, stride],
  padding,
  dilation: [1, 1],
  groups: 1,
  bias: false,
});
const bn = (c: number): AttrsByOp['batchNorm'] => ({ numFeatures: c, eps: 1e-5, frozen: false, decay: 0.9, unbiasedRunningVar: true });

/** BN -> conv (k x k, or kernel [kH, kW]; stride, padding) -> BN -> ReLU -> global average pool on `shape`. */
function net(shape: Shape, k: number | readonly [number, number], stride: number, padding: Padding2d, seed = 3): Graph {
  const b = new GraphBuilder({ seed });
  const x = b.addInput(shape, 'x');
  const n0 = b.addNode({ op: 'batchNorm', inputs: [x], attrs: bn(3), name: 'bn0' });
  const kernel = typeof k === 'number' ? ([k, k] as const) : k;
  const c1 = b.addNode({ op: 'conv2d', inputs: [n0], attrs: { ...conv(3, 4, 1, stride, padding), kernel }, name: 'conv1' });
  const n1 = b.addNode({ op: 'batchNorm', inputs: [c1], attrs: bn(4), name: 'bn1' });
  const r1 = b.addNode({ op: 'relu', inputs: [n1], attrs: {}, name: 'relu1' });
  b.addNode({ op: 'globalAvgPool', inputs: [r1], attrs: { keepDims: false }, name: 'gap' });
  return trainedLike(b.build(['gap']), seed);
}

/** BN -> conv with the BN's shift added as a plain bias even under zero padding: wrong at the borders only. */
const naivePaddedBnConv: Rule = {
  ...bnConvValid,
  name: 'bn-conv-naive-padded',
  conditions: bnConvValid.conditions.filter((c) => c.kind !== 'noPadding'),
};

/**
 * The whole-network check under the right rules (it passes) and with naivePaddedBnConv (it must
 * fail): `check` runs once per case with the network check and whether it should pass.
 */
function withRightAndBorderWrongRules(graph: Graph, check: (network: NetworkCheck, ok: boolean, report: FoldReport) => void): void {
  for (const [rules, ok] of [
    [undefined, true],
    [[naivePaddedBnConv, convBn], false],
  ] as const) {
    const { report } = foldGraph(graph, rules === undefined ? {} : { rules });
    check(report.probe!.network as NetworkCheck, ok, report);
  }
}

describe('local checks', () => {
  it('checks every fold on a patch just large enough to show every border case', () => {
    const { report } = foldGraph(net(['N', 3, 'H', 'W'], 3, 1, [1, 1, 1, 1]));
    const probe = report.probe!;
    expect(probe.ok).toBe(true);
    // the folded graph really ran: its float32 rounding differs from the original's
    expect((probe.network as NetworkCheck).maxDiff).toBeGreaterThan(0);
    expect(probe.folds.map((c) => c.rule)).toEqual(report.folds.map((f) => f.rule));
    // bn0 folds forward into conv1 (a tap bias), bn1 into conv1 backward: a 3x3 conv padded 1 needs
    // 3 output rows and columns (top border, interior, bottom border).
    for (const check of probe.folds) {
      expect(check.patch).toEqual([1, 3, 3, 3]);
      expect(check.sample).toBe('patch with border taps');
      expect(check.maxDiff).toBeLessThan(1e-6 * Math.max(1, check.outputScale));
    }
  });

  it('keeps a patch congruent with the declared size under a strided same padding', () => {
    const { report } = foldGraph(net([1, 3, 20, 20], 3, 2, 'same'));
    const patches = report.probe!.folds.map((c) => c.patch);
    // 20 is even; TF pads [0, 1] at even sizes and [1, 1] at odd ones, so the patch stays even.
    expect(patches).toContainEqual([1, 3, 4, 4]);
    expect(report.probe!.ok).toBe(true);
  });

  it('sizes each axis of a patch on its own: a 1x7 conv gets 1 row and 7 columns', () => {
    for (const [kernel, patch] of [
      [[1, 7], [1, 3, 1, 7]],
      [[7, 1], [1, 3, 7, 1]],
      [[3, 5], [1, 3, 3, 5]],
    ] as const) {
      const { report } = foldGraph(net([1, 3, 17, 17], kernel, 1, 'same'));
      expect(report.probe!.folds.map((c) => c.patch)).toEqual([patch, patch]);
      expect(report.probe!.ok).toBe(true);
    }
  });

  it('shows only the border cases a conv has at the model size: a stride-2 conv padded 1 reads no bottom padding on an even size', () => {
    // 12: the last output row reads rows 9-11, so the cases are the top row and the interior (2 rows);
    // 13: the last row reads row 13, padding, a third case.
    for (const [size, patch] of [
      [12, [1, 3, 4, 4]],
      [13, [1, 3, 5, 5]],
    ] as const) {
      const graph = net([1, 3, size, size], 3, 2, [1, 1, 1, 1]);
      expect(foldGraph(graph).report.probe!.folds.map((c) => [c.patch, c.ok])).toEqual([
        [patch, true],
        [patch, true],
      ]);
      const failed = foldGraph(graph, { rules: [naivePaddedBnConv, convBn] }).report.probe!.folds.filter((c) => !c.ok);
      expect(failed.map((c) => [c.rule, c.patch])).toEqual([['bn-conv-naive-padded', patch]]);
    }
  });

  it('says what each fold ran on: border taps only where a conv reads padding, feature vectors for a linear chain', () => {
    // conv 3x3 padded 1 -> BN -> conv 1x1 -> BN -> global average pool -> linear -> BN
    const b = new GraphBuilder({ seed: 6 });
    const x = b.addInput([1, 3, 8, 8], 'x');
    let h = b.addNode({ op: 'conv2d', inputs: [x], attrs: conv(3, 4, 3, 1, [1, 1, 1, 1]), name: 'conv1' });
    h = b.addNode({ op: 'batchNorm', inputs: [h], attrs: bn(4), name: 'bn1' });
    h = b.addNode({ op: 'conv2d', inputs: [h], attrs: conv(4, 5, 1, 1, 'valid'), name: 'conv2' });
    h = b.addNode({ op: 'batchNorm', inputs: [h], attrs: bn(5), name: 'bn2' });
    h = b.addNode({ op: 'globalAvgPool', inputs: [h], attrs: { keepDims: false }, name: 'gap' });
    h = b.addNode({ op: 'linear', inputs: [h], attrs: { inFeatures: 5, outFeatures: 3, bias: true }, name: 'fc' });
    b.addNode({ op: 'batchNorm', inputs: [h], attrs: bn(3), name: 'bn3' });
    const mixed = foldGraph(trainedLike(b.build(['bn3']), 6)).report;
    expect(mixed.probe!.folds.map((c) => [c.nodes[0], c.sample, c.patch])).toEqual([
      ['conv1', 'patch with border taps', [1, 3, 3, 3]],
      ['conv2', 'patch without padding', [1, 4, 1, 1]],
      ['fc', 'feature vector', [1, 5]],
    ]);
    const text = formatFoldReport(mixed);
    expect(text).toContain(
      '3 of 3 folds checked on their own, float64, random patches with border taps (1), random patches where no tap reads padding (1), random feature vectors (1): worst',
    );
    expect(mixed.probe!.method[0]).toContain('from one standard-normal patch [1, C, h, w] (the smallest h, w at which each conv computes every border case its taps have at the model size) or feature vector [1, F] (a linear chain)');

    // linear -> BN alone: no patch, no taps
    const d = new GraphBuilder({ seed: 7 });
    const v = d.addInput([1, 6], 'v');
    const fc = d.addNode({ op: 'linear', inputs: [v], attrs: { inFeatures: 6, outFeatures: 4, bias: false }, name: 'fc' });
    d.addNode({ op: 'batchNorm', inputs: [fc], attrs: bn(4), name: 'bn' });
    const dense = foldGraph(trainedLike(d.build(['bn']), 7)).report;
    const denseText = formatFoldReport(dense);
    expect(denseText).toContain('1 of 1 folds checked on their own, float64, random feature vectors: worst');
    expect(denseText).not.toContain('border');
    expect(dense.probe!.method[0]).toContain('from one standard-normal feature vector [1, F] (a linear chain), max');
  });

  it('still catches a fold wrong only at the borders of a 1x3 conv, on its 1-row patch', () => {
    const { report } = foldGraph(net([1, 3, 12, 12], [1, 3], 1, [0, 0, 1, 1]), { rules: [naivePaddedBnConv, convBn] });
    const failed = report.probe!.folds.filter((c) => !c.ok);
    expect(failed.map((c) => [c.rule, c.patch])).toEqual([['bn-conv-naive-padded', [1, 3, 1, 3]]]);
  });

  it('catches a fold that is wrong only at the borders, and names it', () => {
    const { report } = foldGraph(net([1, 3, 12, 12], 3, 1, [1, 1, 1, 1]), { rules: [naivePaddedBnConv, convBn] });
    const probe = report.probe!;
    expect(probe.ok).toBe(false);
    const failed = probe.folds.filter((c) => !c.ok);
    expect(failed.map((c) => c.rule)).toEqual(['bn-conv-naive-padded']);
    expect(failed[0].maxDiff).toBeGreaterThan(1e-2 * failed[0].outputScale);
    const text = formatFoldReport(report);
    expect(text).toContain('probe (fast, eval mode, seed 0): FAILED');
    expect(text).toContain('FAILED: bn-conv-naive-padded on bn0 -> conv1');
  });
});

describe('bounded work', () => {
  it('probes a literal batch of 65536 at batch 1 and says so', () => {
    const before = tf.memory().numTensors;
    const { report } = foldGraph(net([65536, 3, 8, 8], 3, 1, [1, 1, 1, 1]));
    const network = report.probe!.network as NetworkCheck;
    expect(network.inputs).toEqual({ x: [1, 3, 8, 8] });
    expect(network.reduced).toBe("input 'x' declares batch 65536, probed at 1");
    expect(report.probe!.ok).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('shrinks a huge input to a congruent size within the limits, locally and as a whole', () => {
    const { report } = foldGraph(net([1, 3, 60001, 40000], 3, 2, 'same'));
    const probe = report.probe!;
    const network = probe.network as NetworkCheck;
    const [, , h, w] = network.inputs.x;
    expect(h % 2).toBe(1);
    expect(w % 2).toBe(0);
    expect(h * w).toBeLessThan(2 ** 30 / 4 / 10);
    expect(network.reduced).toMatch(/^x \[1, 3, 60001, 40000\] needs [\d.]+ GiB, above the 1.0 GiB memory limit; reduced to x \[1, 3, \d+, \d+\]/);
    expect(probe.folds.every((c) => (c.patch ?? [])[2] <= 5)).toBe(true);
    expect(probe.ok).toBe(true);
    expect(formatFoldReport(report)).toContain('reduced to x [1, 3,');
  });

  it('skips the network run, with the reason, when the graph runs only at a size above the limits', () => {
    const b = new GraphBuilder({ seed: 1 });
    const x = b.addInput([1, 2, 64, 64], 'x');
    const f = b.addNode({ op: 'flatten', inputs: [x], attrs: {}, name: 'flat' });
    b.addNode({ op: 'linear', inputs: [f], attrs: { inFeatures: 8192, outFeatures: 1, bias: true }, name: 'fc' });
    const graph = b.build(['fc']);
    const limits = { batch: 1, bytesPerElement: 4, maxBytes: 1000, maxMultiplyAdds: Infinity, budgetName: 'a test budget' };
    const shapes = probeShapes([graph], limits);
    expect(shapes.kind).toBe('skip');
    expect(shapes.kind === 'skip' && shapes.reason).toMatch(/^at x \[1, 2, 64, 64\] it needs [\d.]+ GiB, above the 0\.00 GiB memory limit, and it does not run at smaller sizes \(linear 'fc': /);
  });

  it('runs the whole network at a reduced size that still catches a fold wrong only at the borders, and says which size', () => {
    // BN -> 3x3 conv padded 1 -> BN -> ReLU, no pooling: 640x640 is over the cpu budget, 160x160 is within it.
    const b = new GraphBuilder({ seed: 5 });
    const x = b.addInput([1, 3, 640, 640], 'x');
    const n0 = b.addNode({ op: 'batchNorm', inputs: [x], attrs: bn(3), name: 'bn0' });
    const c1 = b.addNode({ op: 'conv2d', inputs: [n0], attrs: conv(3, 4, 3, 1, [1, 1, 1, 1]), name: 'conv1' });
    const n1 = b.addNode({ op: 'batchNorm', inputs: [c1], attrs: bn(4), name: 'bn1' });
    b.addNode({ op: 'relu', inputs: [n1], attrs: {}, name: 'relu1' });
    const graph = trainedLike(b.build(['relu1']), 5);
    const before = tf.memory().numTensors;
    withRightAndBorderWrongRules(graph, (network, ok, report) => {
      expect(network.inputs).toEqual({ x: [1, 3, 160, 160] });
      expect(network.reduced).toBe(
        "x [1, 3, 640, 640] needs 0.0500 G multiply-adds, above the cpu backend's work budget of 0.0100 G multiply-adds; reduced to x [1, 3, 160, 160] " +
          "(H, W kept congruent modulo the stride products 1, 1, so every 'same' padding resolves as declared)",
      );
      expect(network.ok).toBe(ok);
      // 0.01 G multiply-adds for 136 weights: two float32 runs cost less than the reference's
      expect(network.originalOn).toBe('float32');
      const text = formatFoldReport(report);
      expect(text).toContain('whole network, float32 on cpu, at x [1, 3, 160, 160]');
      expect(text).toContain('reduced to x [1, 3, 160, 160]');
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('runs the original on the float64 reference where that costs less, and the folded float32 run against it still catches a fold wrong only at the borders', () => {
    // 2x2 maps: about 4 multiply-adds per weight, so the reference runs the original (no weights to pack).
    const graph = net([1, 3, 2, 2], 3, 1, [1, 1, 1, 1]);
    withRightAndBorderWrongRules(graph, (network, ok, report) => {
      expect(network.originalOn).toBe('float64 reference');
      expect(network.ok).toBe(ok);
      // float32 against float64: never exactly equal
      expect(network.maxDiff).toBeGreaterThan(0);
      expect(formatFoldReport(report)).toContain('whole network, folded in float32 on cpu vs float64 original, at x [1, 3, 2, 2]');
      expect(report.probe!.method.at(-1)).toBe(
        'the whole network: folded in float32 on the cpu backend against the original on the float64 reference at x [1, 3, 2, 2], ' +
          'max |folded - original| <= 0.001 x max |original|',
      );
    });
  });

  it('on wasm, where the float32 run multiplies the weights of few-position layers unpacked, still catches a fold wrong only at the borders', async () => {
    // 2x2 maps: 4 output positions, so conv1 runs as a transposed matMul on its stored weight.
    const graph = net([1, 3, 2, 2], 3, 1, [1, 1, 1, 1]);
    await selectBackend({ backend: 'wasm' });
    try {
      const before = tf.memory().numTensors;
      withRightAndBorderWrongRules(graph, (network, ok) => {
        expect(network.backend).toBe('wasm');
        expect(network.ok).toBe(ok);
        expect(network.maxDiff).toBeGreaterThan(0);
      });
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      await selectBackend({ backend: 'cpu' });
    }
  });

  it('finds the smallest size that runs between a halving that does not run and one above the budget', () => {
    // Two valid 15x15 convs need at least 29x29: 100 and 50 run (50 above the cpu budget), 25 does not.
    const b = new GraphBuilder({ seed: 2 });
    const x = b.addInput([1, 3, 100, 100], 'x');
    const c1 = b.addNode({ op: 'conv2d', inputs: [x], attrs: conv(3, 8, 15, 1, 'valid'), name: 'conv1' });
    const n1 = b.addNode({ op: 'batchNorm', inputs: [c1], attrs: bn(8), name: 'bn1' });
    const c2 = b.addNode({ op: 'conv2d', inputs: [n1], attrs: conv(8, 8, 15, 1, 'valid'), name: 'conv2' });
    b.addNode({ op: 'batchNorm', inputs: [c2], attrs: bn(8), name: 'bn2' });
    const { report } = foldGraph(trainedLike(b.build(['bn2']), 2));
    const network = report.probe!.network as NetworkCheck;
    expect(network.inputs).toEqual({ x: [1, 3, 29, 29] });
    expect(network.reduced).toMatch(/^x \[1, 3, 100, 100\] needs [\d.]+ G multiply-adds, above the cpu backend's work budget of 0\.0100 G multiply-adds; reduced to x \[1, 3, 29, 29\] \(/);
    expect(network.ok).toBe(true);
  });

  it('keeps the declared size where a flatten reads the spatial axes, and says why', () => {
    const b = new GraphBuilder({ seed: 4 });
    const x = b.addInput([1, 4, 256, 256], 'x');
    const c1 = b.addNode({ op: 'conv2d', inputs: [x], attrs: conv(4, 8, 3, 1, [1, 1, 1, 1]), name: 'conv1' });
    const n1 = b.addNode({ op: 'batchNorm', inputs: [c1], attrs: bn(8), name: 'bn1' });
    const f = b.addNode({ op: 'flatten', inputs: [n1], attrs: {}, name: 'flat' });
    b.addNode({ op: 'linear', inputs: [f], attrs: { inFeatures: 8 * 256 * 256, outFeatures: 2, bias: true }, name: 'fc' });
    const { report } = foldGraph(trainedLike(b.build(['fc']), 4));
    const network = report.probe!.network as NetworkCheck;
    expect(network.inputs).toEqual({ x: [1, 4, 256, 256] });
    expect(network.reduced).toMatch(/^x \[1, 4, 256, 256\] needs [\d.]+ G multiply-adds, above the cpu backend's work budget of 0\.0100 G multiply-adds; run as it is, the smallest size that runs$/);
    expect(network.ok).toBe(true);
  });

  it('keeps the whole-network float64 check on request, and refuses it by name where it cannot fit', () => {
    const { report } = foldGraph(net(['N', 3, 'H', 'W'], 3, 1, [1, 1, 1, 1]), { probe: 'full' });
    const network = report.probe!.network as NetworkCheck;
    expect(report.probe!.level).toBe('full');
    expect(network.precision).toBe('float64');
    expect(network.inputs).toEqual({ x: [2, 3, 17, 17] });
    expect(network.float32!.folded).toBeLessThan(1e-4 * Math.max(1, network.outputScale));
    expect(formatFoldReport(report)).toContain('float32 (cpu) folded vs float64 original');

    // 2 x 12000^2 values in float64 exceed 1 GiB, and the crop only fits the declared size.
    const b = new GraphBuilder({ seed: 1 });
    const x = b.addInput([1, 1, 12000, 12000], 'x');
    const n = b.addNode({ op: 'batchNorm', inputs: [x], attrs: bn(1), name: 'bn' });
    b.addNode({ op: 'crop2d', inputs: [n], attrs: { crop: [11990, 0, 11990, 0] }, name: 'crop' });
    const huge = b.build(['crop']);
    expect(() => foldGraph(huge, { probe: 'full' })).toThrow(FoldProbeError);
    expect(() => foldGraph(huge, { probe: 'full' })).toThrow(/^the full probe cannot run: at x \[1, 1, 12000, 12000\] it needs [\d.]+ GiB, above the 1.0 GiB memory limit, and it does not run at smaller sizes \(crop2d 'crop': /);
  });

  it('rejects an unknown probe level by name', () => {
    expect(() => foldGraph(net([1, 3, 8, 8], 3, 1, [1, 1, 1, 1]), { probe: 'quick' as never })).toThrow("probe must be 'fast', 'full' or 'off' (or a boolean), got 'quick'");
  });
});

describe('progress', () => {
  it('reports each fold, then each probe step up to its total', () => {
    const events: FoldProgress[] = [];
    const { report } = foldGraph(net([1, 3, 8, 8], 3, 1, [1, 1, 1, 1]), { onProgress: (p) => events.push(p) });
    const folds = events.filter((e) => e.phase === 'fold');
    const probe = events.filter((e) => e.phase === 'probe');
    expect(folds.map((e) => e.done)).toEqual(report.folds.map((_, i) => i + 1));
    expect(folds[0].detail).toBe(`${report.folds[0].rule} on ${report.folds[0].matched.map((m) => m.name).join(' -> ')}`);
    expect(events.indexOf(probe[0])).toBe(folds.length);
    expect(probe.map((e) => e.done)).toEqual(probe.map((_, i) => i + 1));
    expect(probe.every((e) => e.total === report.folds.length + 2)).toBe(true);
    expect(probe[probe.length - 1].detail).toBe('float32 run of the folded network on cpu');
  });
});
