/**
 * A graph compiled to run once (CompileOptions.once, the fold probe's float32 run): on wasm, its
 * conv2d and linear layers with few output positions hold their weights as stored and multiply
 * them unpacked. Checked against the float64 reference and the usual compile, over kernel sizes,
 * strides, dilations, explicit and 'same' padding, a tap bias, fused activations and a sequence;
 * which layers go unpacked; exportGraph; no leaked tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/backend/executor.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph, Node, ParamTensor } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { runReference } from '../../src/reference/run.ts';
import { convAttrs as conv, expectClose, randomTensor, randomizeParams } from './backend-helpers.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

/**
 * x [1, 5, 3, 2] -> c1 3x3 padded 1 (6 positions) -> relu -> c2 2x3, stride 2, 'same', dilation
 * [1, 2], with a tap bias (2 positions) -> dw depthwise (stays packed) -> c3 1x1, stride 2, no bias
 * (1 position) -> sigmoid -> flatten -> fc -> relu; wide [1, 5, 3, 4] -> big 1x1 (12 positions:
 * stays packed).
 */
function onceGraph(): Graph {
  const b = new GraphBuilder({ seed: 4 });
  const x = b.addInput([1, 5, 3, 2], 'x');
  const wide = b.addInput([1, 5, 3, 4], 'wide');
  let h = b.addNode({ op: 'conv2d', inputs: [x], attrs: conv(5, 6), name: 'c1' });
  h = b.addNode({ op: 'relu', inputs: [h], attrs: {}, name: 'r1' });
  h = b.addNode({ op: 'conv2d', inputs: [h], attrs: conv(6, 4, { kernel: [2, 3], stride: [2, 2], padding: 'same', dilation: [1, 2] }), name: 'c2' });
  h = b.addNode({ op: 'conv2d', inputs: [h], attrs: conv(4, 4, { groups: 4 }), name: 'dw' });
  h = b.addNode({ op: 'conv2d', inputs: [h], attrs: conv(4, 3, { kernel: [1, 1], stride: [2, 2], padding: 'valid', bias: false }), name: 'c3' });
  h = b.addNode({ op: 'sigmoid', inputs: [h], attrs: {}, name: 's3' });
  h = b.addNode({ op: 'flatten', inputs: [h], attrs: {}, name: 'flat' });
  h = b.addNode({ op: 'linear', inputs: [h], attrs: { inFeatures: 3, outFeatures: 7, bias: true }, name: 'fc' });
  b.addNode({ op: 'relu', inputs: [h], attrs: {}, name: 'out' });
  b.addNode({ op: 'conv2d', inputs: [wide], attrs: conv(5, 2, { kernel: [1, 1], padding: 'valid' }), name: 'big' });
  const graph = randomizeParams(b.build(['out', 'big']), 5);
  const rng = createRng(6);
  const nodes = graph.nodes.map((node): Node => {
    if (node.name !== 'c2' || node.op !== 'conv2d') return node;
    const tapBias: ParamTensor = { shape: [4, 2, 3], data: Float32Array.from({ length: 24 }, () => rng() - 0.5) };
    return { ...node, params: { ...node.params, tapBias } };
  });
  return { ...graph, nodes };
}

/** A conv on a sequence [N, C, L] (the reference and the executor read it as [N, C, 1, L]). */
function sequenceGraph(): Graph {
  const b = new GraphBuilder({ seed: 7 });
  const x = b.addInput([2, 3, 4], 'x');
  b.addNode({ op: 'conv2d', inputs: [x], attrs: conv(3, 5, { kernel: [1, 3], padding: [0, 0, 1, 1] }), name: 'seq' });
  return randomizeParams(b.build(['seq']), 8);
}

function run(graph: Graph, inputs: Record<string, ReturnType<typeof randomTensor>>, once: boolean) {
  const compiled = compileGraph(graph, { once });
  const feeds = Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, tf.tensor(Float32Array.from(t.data), [...t.shape])]));
  const out = compiled.run(feeds);
  const values = Object.fromEntries(Object.entries(out).map(([name, t]) => [name, Float64Array.from(t.dataSync())]));
  const shapes = Object.fromEntries([...compiled.variables].map(([name, v]) => [name, v.shape]));
  const exported = compiled.exportGraph();
  tf.dispose([...Object.values(feeds), ...Object.values(out)]);
  compiled.dispose();
  return { values, shapes, exported };
}

describe('a graph compiled once on wasm', () => {
  it('multiplies the weights of layers with at most 8 output positions as stored, and agrees with the reference and the usual compile', () => {
    const graph = onceGraph();
    const rng = createRng(9);
    const inputs = { x: randomTensor([1, 5, 3, 2], rng), wide: randomTensor([1, 5, 3, 4], rng) };
    const before = tf.memory().numTensors;
    const once = run(graph, inputs, true);
    const usual = run(graph, inputs, false);
    expect(tf.memory().numTensors).toBe(before);
    // IR layouts where unpacked; tfjs layouts for the depthwise conv and the 12-position conv
    expect(once.shapes['c1.weight']).toEqual([6, 5, 3, 3]);
    expect(once.shapes['c2.weight']).toEqual([4, 6, 2, 3]);
    expect(once.shapes['c3.weight']).toEqual([3, 4, 1, 1]);
    expect(once.shapes['fc.weight']).toEqual([7, 3]);
    expect(once.shapes['dw.weight']).toEqual([3, 3, 4, 1]);
    expect(once.shapes['big.weight']).toEqual([1, 1, 5, 2]);
    expect(usual.shapes['c1.weight']).toEqual([3, 3, 5, 6]);
    const expected = runReference(graph, inputs, { mode: 'eval' }).outputs;
    for (const name of ['out', 'big']) {
      expectClose(once.values[name], expected[name].data, 1e-5, `once ${name}`);
      expectClose(once.values[name], usual.values[name], 1e-5, `once vs usual ${name}`);
    }
    for (const [i, node] of graph.nodes.entries()) {
      for (const [name, p] of Object.entries(node.params as Record<string, ParamTensor>)) {
        expect(Array.from((once.exported.nodes[i].params as Record<string, ParamTensor>)[name].data), `${node.name}.${name}`).toEqual(Array.from(p.data));
      }
    }
  });

  it('runs a conv on a sequence unpacked', () => {
    const graph = sequenceGraph();
    const inputs = { x: randomTensor([2, 3, 4], createRng(10)) };
    const once = run(graph, inputs, true);
    expect(once.shapes['seq.weight']).toEqual([5, 3, 1, 3]);
    expectClose(once.values.seq, runReference(graph, inputs, { mode: 'eval' }).outputs.seq.data, 1e-5, 'seq');
  });
});
