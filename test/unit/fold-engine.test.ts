/**
 * The fold engine on hand-built graphs: the matcher's structural rules (single consumer, graph
 * outputs, anywhere in the DAG), 'same' padding resolution, the fixpoint and its termination
 * guard, naming, the report (JSON, text, refusal reasons), and numerical equality with the
 * original graph (float64 reference).
 */
import * as tf from '@tensorflow/tfjs';
import { input, model, resB } from '../../dsl/index.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Rule } from '../../src/algebra/rule.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { FoldCycleError, FoldRuleError, foldGraph, formatFoldReport, type NetworkCheck } from '../../src/fold/index.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { AttrsByOp, Graph, NodeOf, Padding2d, ParamTensor, Shape } from '../../src/ir/graph.ts';
import { bnConvPadded } from '../../src/rules/index.ts';
import { expectSameFunction, standardInput, testConvBn, trainedLike } from './fold-fixtures.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

function convAttrs(cin: number, cout: number, kernel: number, padding: Padding2d, stride = 1, groups = 1): AttrsByOp['conv2d'] {
  return { inChannels: cin, outChannels: cout, kernel: [kernel, kernel], stride: [stride, stride], padding, dilation: [1, 1], groups, bias: false };
}

const bnAttrs = (c: number, frozen = false): AttrsByOp['batchNorm'] => ({ numFeatures: c, eps: 1e-5, decay: 0.9, unbiasedRunningVar: true, frozen });

function nodeNamed(graph: Graph, name: string) {
  const node = graph.nodes.find((n) => n.name === name);
  if (node === undefined) throw new Error(`no node ${name}`);
  return node;
}

const noProbe = { probe: false } as const;

describe('matching', () => {
  it('folds conv -> bn, keeping the conv name, rewiring the consumer', () => {
    const b = new GraphBuilder({ seed: 1 });
    const x = b.addInput([2, 3, 6, 6], 'x');
    const c = b.addNode({ op: 'conv2d', inputs: [x], attrs: convAttrs(3, 4, 3, [1, 1, 1, 1]), name: 'conv1' });
    const n = b.addNode({ op: 'batchNorm', inputs: [c], attrs: bnAttrs(4), name: 'bn1' });
    b.addNode({ op: 'relu', inputs: [n], attrs: {}, name: 'relu1' });
    const graph = trainedLike(b.build(['relu1']), 2);
    const { graph: folded, report } = foldGraph(graph, { rules: [testConvBn], ...noProbe });
    expect(folded.nodes.map((n) => n.name)).toEqual(['x', 'conv1', 'relu1']);
    expect(nodeNamed(folded, 'relu1').inputs).toEqual(['conv1']);
    expect((nodeNamed(folded, 'conv1') as NodeOf<'conv2d'>).attrs.bias).toBe(true);
    expect(report.folds).toEqual([
      {
        rule: 'test-conv-bn',
        statement: testConvBn.statement,
        matched: [{ name: 'conv1', op: 'conv2d' }, { name: 'bn1', op: 'batchNorm' }],
        produced: [{ name: 'conv1', op: 'conv2d' }],
      },
    ]);
    expect(report.left).toEqual([]);
    expectSameFunction(graph, folded, { x: standardInput([2, 3, 6, 6], 3) });
  });

  it("refuses when the conv's output also feeds another node, and says which", () => {
    const b = new GraphBuilder({ seed: 1 });
    const x = b.addInput([1, 2, 5, 5], 'x');
    const c = b.addNode({ op: 'conv2d', inputs: [x], attrs: convAttrs(2, 2, 3, [1, 1, 1, 1]), name: 'conv1' });
    const n = b.addNode({ op: 'batchNorm', inputs: [c], attrs: bnAttrs(2), name: 'bn1' });
    b.addNode({ op: 'add', inputs: [n, c], attrs: {}, name: 'add_3' });
    const graph = trainedLike(b.build(['add_3']), 2);
    const { graph: folded, report } = foldGraph(graph, { rules: [testConvBn], ...noProbe });
    expect(folded).toEqual(graph);
    expect(report.folds).toEqual([]);
    expect(report.left).toHaveLength(1);
    expect(report.left[0].name).toBe('bn1');
    expect(report.left[0].reasons[0]).toBe("test-conv-bn: conv1's output also feeds add_3; folding bn1 into conv1 would change that path too");
  });

  it('refuses when an inner node is a graph output, but folds into a last node that is one (keeping its name)', () => {
    const build = (outputs: string[]) => {
      const b = new GraphBuilder({ seed: 4 });
      const x = b.addInput([1, 2, 4, 4], 'x');
      const c = b.addNode({ op: 'conv2d', inputs: [x], attrs: convAttrs(2, 3, 1, 'valid'), name: 'conv1' });
      b.addNode({ op: 'batchNorm', inputs: [c], attrs: bnAttrs(3), name: 'bn1' });
      return trainedLike(b.build(outputs), 5);
    };
    const inner = foldGraph(build(['conv1', 'bn1']), { rules: [testConvBn], ...noProbe });
    expect(inner.report.folds).toEqual([]);
    expect(inner.report.left[0].reasons[0]).toBe('test-conv-bn: conv1 is a graph output; folding bn1 into conv1 would change that output');

    const graph = build(['bn1']);
    const last = foldGraph(graph, { rules: [testConvBn], ...noProbe });
    expect(last.graph.outputs).toEqual(['bn1']);
    expect(last.graph.nodes.map((n) => `${n.name}:${n.op}`)).toEqual(['x:input', 'bn1:conv2d']);
    expectSameFunction(graph, last.graph, { x: standardInput([1, 2, 4, 4], 1) });
  });

  it('matches anywhere: inside both branches of a concat and after an add', () => {
    const b = new GraphBuilder({ seed: 7 });
    const x = b.addInput([2, 2, 5, 5], 'x');
    const branch = (k: number) => {
      const c = b.addNode({ op: 'conv2d', inputs: [x], attrs: convAttrs(2, 2, 3, [1, 1, 1, 1]), name: `conv${k}` });
      return b.addNode({ op: 'batchNorm', inputs: [c], attrs: bnAttrs(2), name: `bn${k}` });
    };
    const cat = b.addNode({ op: 'concat', inputs: [branch(1), branch(2)], attrs: {}, name: 'cat' });
    const sum = b.addNode({ op: 'add', inputs: [cat, cat], attrs: {}, name: 'sum' });
    const c3 = b.addNode({ op: 'conv2d', inputs: [sum], attrs: convAttrs(4, 3, 1, 'valid'), name: 'conv3' });
    b.addNode({ op: 'batchNorm', inputs: [c3], attrs: bnAttrs(3), name: 'bn3' });
    const graph = trainedLike(b.build(['bn3']), 8);
    const { graph: folded, report } = foldGraph(graph, { rules: [testConvBn], ...noProbe });
    expect(report.folds.map((f) => f.matched.map((m) => m.name).join('+'))).toEqual(['conv1+bn1', 'conv2+bn2', 'conv3+bn3']);
    expect(folded.nodes.some((n) => n.op === 'batchNorm')).toBe(false);
    expectSameFunction(graph, folded, { x: standardInput([2, 2, 5, 5], 9) });
  });
});

describe('fixpoint', () => {
  it('collapses conv -> bn -> bn -> bn -> bn into one conv with ALL_RULES, and stops', () => {
    const b = new GraphBuilder({ seed: 3 });
    let h = b.addInput([2, 3, 5, 5], 'x');
    h = b.addNode({ op: 'conv2d', inputs: [h], attrs: convAttrs(3, 4, 3, 'same'), name: 'conv' });
    for (let k = 1; k <= 4; k++) h = b.addNode({ op: 'batchNorm', inputs: [h], attrs: bnAttrs(4), name: `bn${k}` });
    const graph = trainedLike(b.build([h]), 11, { positiveGamma: false });
    const { graph: folded, report } = foldGraph(graph, noProbe);
    expect(folded.nodes.map((n) => n.op)).toEqual(['input', 'conv2d']);
    expect(report.folds).toHaveLength(4);
    expect(folded.outputs).toEqual(['bn4']);
    expectSameFunction(graph, folded, { x: standardInput([2, 3, 5, 5], 12) });
  });

  it('throws FoldCycleError for a rule that rewrites without progress', () => {
    const spin: Rule = {
      name: 'spin',
      statement: 'relu(x) = relu(x)',
      pattern: [{ role: 'act', ops: ['relu'] }],
      replacement: [{ role: 'act', attrsFrom: 'act', params: {} }],
      conditions: [],
    };
    const b = new GraphBuilder();
    const x = b.addInput([1, 2], 'x');
    b.addNode({ op: 'relu', inputs: [x], attrs: {}, name: 'r' });
    expect(() => foldGraph(b.build(['r']), { rules: [spin], ...noProbe })).toThrow(FoldCycleError);
    expect(() => foldGraph(b.build(['r']), { rules: [spin], ...noProbe })).toThrow(/rule 'spin' on r did not make progress/);
  });

  it('throws FoldRuleError for a rule that leaves a required param undefined', () => {
    const noBias: Rule = {
      ...testConvBn,
      name: 'no-bias',
      replacement: [{ ...testConvBn.replacement[0], params: { weight: testConvBn.replacement[0].params.weight } }],
    };
    const b = new GraphBuilder();
    const x = b.addInput([1, 2, 3, 3], 'x');
    const c = b.addNode({ op: 'conv2d', inputs: [x], attrs: convAttrs(2, 2, 1, 'valid') });
    b.addNode({ op: 'batchNorm', inputs: [c], attrs: bnAttrs(2), name: 'bn' });
    expect(() => foldGraph(b.build(['bn']), { rules: [noBias], ...noProbe })).toThrow(
      "rule 'no-bias': replacement 'folded' (conv2d) needs param 'bias', which the rule does not define",
    );
    expect(() => foldGraph(b.build(['bn']), { rules: [testConvBn, testConvBn], ...noProbe })).toThrow(FoldRuleError);
  });
});

describe('padding', () => {
  function bnThenConv(inputShape: Shape, conv: AttrsByOp['conv2d'], seed: number): Graph {
    const b = new GraphBuilder({ seed });
    const x = b.addInput(inputShape, 'x');
    const n = b.addNode({ op: 'batchNorm', inputs: [x], attrs: bnAttrs(conv.inChannels), name: 'bn' });
    b.addNode({ op: 'conv2d', inputs: [n], attrs: conv, name: 'conv' });
    return trainedLike(b.build(['conv']), seed + 1);
  }

  it("resolves 'same' at stride 2 on literal sizes to explicit padding and folds exactly", () => {
    const graph = bnThenConv([2, 3, 10, 9], convAttrs(3, 4, 3, 'same', 2), 20);
    const { graph: folded, report } = foldGraph(graph, noProbe);
    expect(report.folds.map((f) => f.rule)).toEqual(['bn-conv-padded']);
    const conv = nodeNamed(folded, 'conv') as NodeOf<'conv2d'>;
    // TensorFlow's rule: H = 10 -> pad 0 before, 1 after; W = 9 -> 1 and 1.
    expect(conv.attrs.padding).toEqual([0, 1, 1, 1]);
    expect(conv.params.tapBias?.shape).toEqual([4, 3, 3]);
    expectSameFunction(graph, folded, { x: standardInput([2, 3, 10, 9], 21) });
  });

  it("refuses 'same' at stride 2 on a symbolic size, naming the dim", () => {
    const graph = bnThenConv(['N', 3, 'H', 'W'], convAttrs(3, 4, 3, 'same', 2), 22);
    const { report } = foldGraph(graph, noProbe);
    expect(report.folds).toEqual([]);
    expect(report.left[0].reasons).toHaveLength(1);
    expect(report.left[0].reasons[0]).toMatch(
      /^bn-conv-(valid|padded): conv2d 'conv' pads 'same' at stride \[2, 2\] on an input of symbolic height H: the amount depends on the size; fold at literal sizes$/,
    );
  });

  it("folds through 'same' at stride 1 on symbolic sizes: exact at every size, borders included", () => {
    const graph = bnThenConv(['N', 3, 'H', 'W'], convAttrs(3, 4, 3, 'same'), 24);
    const { graph: folded } = foldGraph(graph, noProbe);
    expect(folded.nodes.map((n) => n.op)).toEqual(['input', 'conv2d']);
    for (const [h, w] of [[1, 1], [2, 5], [7, 4]]) expectSameFunction(graph, folded, { x: standardInput([2, 3, h, w], h * 10 + w) });
  });

  it('an unpadded conv gets a plain bias, no tapBias', () => {
    const graph = bnThenConv(['N', 3, 'H', 'W'], { ...convAttrs(3, 4, 3, 'valid', 2), dilation: [2, 1] }, 26);
    const { graph: folded, report } = foldGraph(graph, noProbe);
    expect(report.folds.map((f) => f.rule)).toEqual(['bn-conv-valid']);
    const conv = nodeNamed(folded, 'conv') as NodeOf<'conv2d'>;
    expect(conv.params.tapBias).toBeUndefined();
    expect(conv.attrs.bias).toBe(true);
    expectSameFunction(graph, folded, { x: standardInput([2, 3, 9, 8], 27) });
  });

  it('a tap bias on a conv that reads every tap everywhere is stored as the constant bias it is', () => {
    const graph = bnThenConv(['N', 3, 'H', 'W'], convAttrs(3, 4, 3, [0, 0, 0, 0]), 28);
    const { graph: folded, report } = foldGraph(graph, { rules: [bnConvPadded], ...noProbe });
    expect(report.folds.map((f) => f.rule)).toEqual(['bn-conv-padded']);
    const conv = nodeNamed(folded, 'conv') as NodeOf<'conv2d'>;
    expect(conv.params.tapBias).toBeUndefined();
    expect(conv.params.bias?.shape).toEqual([4]);
    expectSameFunction(graph, folded, { x: standardInput([2, 3, 6, 5], 29) });
  });
});

describe('tap bias through later folds', () => {
  function convWithTapsThenBn(seed: number): Graph {
    const b = new GraphBuilder({ seed });
    const x = b.addInput([2, 2, 5, 6], 'x');
    const tapBias: ParamTensor = { shape: [3, 3, 3], data: Float32Array.from({ length: 27 }, (_, i) => ((i * 7) % 11) / 10 - 0.5) };
    const c = b.addNode({ op: 'conv2d', inputs: [x], attrs: convAttrs(2, 3, 3, [1, 1, 1, 1]), params: { tapBias }, name: 'conv' });
    b.addNode({ op: 'batchNorm', inputs: [c], attrs: bnAttrs(3), name: 'bn' });
    const graph = b.build(['bn']);
    const randomized = trainedLike(graph, seed);
    // keep the hand-made tapBias (trainedLike redraws it otherwise)
    return { ...randomized, nodes: randomized.nodes.map((n) => (n.name === 'conv' ? { ...n, params: { ...n.params, tapBias } } : n)) } as Graph;
  }

  it('a rule that does not carry tapBias is refused instead of dropping it', () => {
    const { report } = foldGraph(convWithTapsThenBn(30), { rules: [testConvBn], ...noProbe });
    expect(report.folds).toEqual([]);
    expect(report.left[0].reasons[0]).toBe("test-conv-bn: conv2d 'conv' carries a tapBias that rule 'test-conv-bn' does not account for");
  });

  it('conv-bn rescales it, exactly', () => {
    const graph = convWithTapsThenBn(31);
    const { graph: folded } = foldGraph(graph, noProbe);
    expect(folded.nodes.map((n) => n.op)).toEqual(['input', 'conv2d']);
    expectSameFunction(graph, folded, { x: standardInput([2, 2, 5, 6], 32) });
  });
});

describe('why a node is left', () => {
  it('train mode: batch statistics; a frozen BN still folds and train-mode outputs agree', () => {
    const build = (frozen: boolean) => {
      const b = new GraphBuilder({ seed: 40 });
      const x = b.addInput([3, 2, 4, 4], 'x');
      const c = b.addNode({ op: 'conv2d', inputs: [x], attrs: convAttrs(2, 3, 3, [1, 1, 1, 1]), name: 'conv' });
      b.addNode({ op: 'batchNorm', inputs: [c], attrs: bnAttrs(3, frozen), name: 'bn' });
      return trainedLike(b.build(['bn']), 41);
    };
    const live = foldGraph(build(false), { mode: 'train', ...noProbe });
    expect(live.report.folds).toEqual([]);
    expect(live.report.left[0].reasons[0]).toBe("batchNorm 'bn' normalises with batch statistics in train mode (fold in eval mode, or freeze it)");
    const frozen = build(true);
    const folded = foldGraph(frozen, { mode: 'train', ...noProbe });
    expect(folded.report.folds).toHaveLength(1);
    expectSameFunction(frozen, folded.graph, { x: standardInput([3, 2, 4, 4], 42) }, 'train');
  });

  it('a negative scale cannot commute through ReLU: the channel and value are named', () => {
    const b = new GraphBuilder({ seed: 43 });
    const x = b.addInput([1, 2, 4, 4], 'x');
    const c = b.addNode({ op: 'conv2d', inputs: [x], attrs: convAttrs(2, 3, 3, [1, 1, 1, 1]), name: 'conv' });
    const r = b.addNode({ op: 'relu', inputs: [c], attrs: {}, name: 'relu' });
    const gamma: ParamTensor = { shape: [3], data: Float32Array.from([1, -0.5, 2]) };
    b.addNode({ op: 'batchNorm', inputs: [r], attrs: bnAttrs(3), params: { gamma }, name: 'bn' });
    const { report } = foldGraph(b.build(['bn']), noProbe);
    expect(report.folds).toEqual([]);
    expect(report.left[0].reasons).toContain("conv-act-bn: the scale of batchNorm 'bn' must be >= 0 but is -0.499998 at channel 1");
  });

  it("statistics that depend on the input: groupNorm stays (its affine part folds forward), with the reason", () => {
    const b = new GraphBuilder({ seed: 44 });
    const x = b.addInput(['N', 4, 'H', 'W'], 'x');
    const g = b.addNode({ op: 'groupNorm', inputs: [x], attrs: { numChannels: 4, groups: 2, eps: 1e-5, affine: true }, name: 'gn' });
    b.addNode({ op: 'conv2d', inputs: [g], attrs: convAttrs(4, 2, 3, [1, 1, 1, 1]), name: 'conv' });
    const graph = trainedLike(b.build(['conv']), 45);
    const { graph: folded, report } = foldGraph(graph, noProbe);
    expect(report.folds.map((f) => f.rule)).toEqual(['norm-affine-conv-padded']);
    expect(report.left).toHaveLength(1);
    expect(report.left[0].reasons[0]).toBe(
      "groupNorm 'gn' normalises each sample's channel groups with their own statistics, which no fixed weight reproduces (its affine part is already folded away)",
    );
    expectSameFunction(graph, folded, { x: standardInput([2, 4, 5, 3], 46) });
  });

  it("layerNorm: over 'c' its per-channel affine folds forward; over C, H, W its element-wise one stays, with the reason", () => {
    const build = (over: 'c' | 'chw') => {
      const b = new GraphBuilder({ seed: 47 });
      const x = b.addInput([2, 4, 5, 3], 'x');
      const normalizedShape = over === 'c' ? [4] : [4, 5, 3];
      const n = b.addNode({ op: 'layerNorm', inputs: [x], attrs: { normalizedShape, over, eps: 1e-5, affine: true }, name: 'ln' });
      b.addNode({ op: 'conv2d', inputs: [n], attrs: convAttrs(4, 2, 3, [1, 1, 1, 1]), name: 'conv' });
      return trainedLike(b.build(['conv']), 48);
    };
    const perChannel = build('c');
    const foldedPerChannel = foldGraph(perChannel, noProbe);
    expect(foldedPerChannel.report.folds.map((f) => f.rule)).toEqual(['norm-affine-conv-padded']);
    expectSameFunction(perChannel, foldedPerChannel.graph, { x: standardInput([2, 4, 5, 3], 49) });
    const elementwise = build('chw');
    const { graph: folded, report } = foldGraph(elementwise, noProbe);
    expect(report.folds).toEqual([]);
    expect(report.left[0].reasons).toContain(
      "norm-affine-conv-valid: layerNorm 'ln' has element-wise gamma and beta over [4, 5, 3] (C, H, W), which vary with the position",
    );
    expect(folded).toEqual(elementwise);
  });

  it("ResB's bn2: its scale goes into conv2, its shift is stuck between the ReLU and the add", () => {
    const out = input(['N', 4, 'H', 'W'], { name: 'x' }).to(resB({ out: 4, name: 'b' }));
    const graph = trainedLike(model(out).graph, 48);
    const { graph: folded, report } = foldGraph(graph, noProbe);
    expect(report.left.map((l) => `${l.op} ${l.name}`)).toEqual(['scaleShift b.bn2']);
    expect(report.left[0].reasons).toEqual([
      "scaleShift 'b.bn2': it follows relu 'b.relu2', back through which a shift cannot move; it feeds add 'b.add', " +
        'which also sums branches it does not scale or shift, so it cannot move forward; ' +
        "no conv or linear next to it (fed by relu 'b.relu2'; feeds add 'b.add')",
    ]);
    expectSameFunction(graph, folded, { x: standardInput([2, 4, 5, 6], 49) });
  });

  it('no conv or linear next to it', () => {
    const b = new GraphBuilder({ seed: 47 });
    const x = b.addInput([1, 2, 4, 4], 'x');
    const n = b.addNode({ op: 'batchNorm', inputs: [x], attrs: bnAttrs(2), name: 'bn' });
    b.addNode({ op: 'maxPool2d', inputs: [n], attrs: { kernel: [2, 2], stride: [2, 2], padding: 'valid' }, name: 'pool' });
    const { report } = foldGraph(b.build(['pool']), noProbe);
    expect(report.left[0].reasons).toEqual(["batchNorm 'bn': no conv or linear next to it (fed by input 'x'; feeds maxPool2d 'pool')"]);
  });
});

describe('report', () => {
  function smallNet(): Graph {
    const b = new GraphBuilder({ seed: 50 });
    const x = b.addInput(['N', 3, 'H', 'W'], 'x');
    const c1 = b.addNode({ op: 'conv2d', inputs: [x], attrs: convAttrs(3, 4, 3, [1, 1, 1, 1]), name: 'conv1' });
    const n1 = b.addNode({ op: 'batchNorm', inputs: [c1], attrs: bnAttrs(4), name: 'bn1' });
    const r1 = b.addNode({ op: 'relu', inputs: [n1], attrs: {}, name: 'relu1' });
    const n2 = b.addNode({ op: 'batchNorm', inputs: [r1], attrs: bnAttrs(4), name: 'bn2' });
    const s = b.addNode({ op: 'add', inputs: [n2, r1], attrs: {}, name: 'add' });
    const p = b.addNode({ op: 'globalAvgPool', inputs: [s], attrs: { keepDims: false }, name: 'gap' });
    const fc = b.addNode({ op: 'linear', inputs: [p], attrs: { inFeatures: 4, outFeatures: 2, bias: true }, name: 'fc' });
    b.addNode({ op: 'batchNorm', inputs: [fc], attrs: bnAttrs(2), name: 'bn3' });
    return trainedLike(b.build(['bn3']), 51);
  }

  it('is JSON as it is, counts nodes and params, and renders as text', () => {
    const graph = smallNet();
    const { graph: folded, report } = foldGraph(graph);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(report.nodesBefore).toBe(9);
    expect(report.nodesAfter).toBe(folded.nodes.length);
    expect(report.paramsAfter).toBeLessThan(report.paramsBefore);
    expect(report.left.map((l) => l.name)).toEqual(['bn2']);
    expect(report.left[0].reasons[0]).toBe("conv-act-bn: relu1's output also feeds add; folding bn2 into conv1 would change that path too");
    const probe = report.probe!;
    expect(probe.ok).toBe(true);
    expect(probe.folds.map((c) => c.fold)).toEqual(report.folds.map((_, i) => i));
    expect('skipped' in probe.network).toBe(false);
    const network = probe.network as NetworkCheck;
    expect(network.inputs).toEqual({ x: [1, 3, 17, 17] });
    expect(network.maxDiff).toBeLessThan(1e-5 * Math.max(1, network.outputScale));
    const text = formatFoldReport(report);
    expect(text).toContain(`fold (eval mode): ${report.folds.length} folds, 9 -> ${folded.nodes.length} nodes`);
    expect(text).toContain("batchNorm 'bn2'");
    expect(text).toContain('probe (fast, eval mode, seed 0): PASS');
    expect(text).toContain('whole network, float32 on ');
  });

  it('probing leaves tf.memory().numTensors unchanged', () => {
    const graph = smallNet();
    const before = tf.memory().numTensors;
    foldGraph(graph);
    expect(tf.memory().numTensors).toBe(before);
  });
});
