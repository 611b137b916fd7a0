/**
 * The executor's plumbing: fusion planning and fused == unfused, the boundary layout (run vs
 * runNHWC), exportGraph round trips, ownership of returned tensors, tensor leaks, and named
 * errors for bad inputs and failing kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExecutionError, InputError } from '../../src/backend/errors.ts';
import { compileGraph } from '../../src/backend/executor.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { ShapeError } from '../../src/ir/errors.ts';
import type { Graph, ParamTensor } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { convAttrs as conv, expectClose, fromTf, randomTensor, randomizeParams, toTf } from './backend-helpers.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

/**
 * x -> c1 -> relu r1 -> dw (depthwise) -> leakyRelu r2 -> c3 (no bias) -> sigmoid s3
 *   -> c4 (bias, output used by add and relu6) -> add(c4, relu6(c4)) -> flatten -> fc -> relu6 out
 */
function fusionGraph(): Graph {
  const b = new GraphBuilder({ seed: 2 });
  const x = b.addInput(['N', 3, 6, 5], 'x');
  let h = b.addNode({ op: 'conv2d', inputs: [x], attrs: conv(3, 4), name: 'c1' });
  h = b.addNode({ op: 'relu', inputs: [h], attrs: {}, name: 'r1' });
  h = b.addNode({ op: 'conv2d', inputs: [h], attrs: conv(4, 8, { groups: 4, padding: 'same', stride: [2, 1] }), name: 'dw' });
  h = b.addNode({ op: 'leakyRelu', inputs: [h], attrs: { alpha: 0.1 }, name: 'r2' });
  h = b.addNode({ op: 'conv2d', inputs: [h], attrs: conv(8, 4, { bias: false }), name: 'c3' });
  h = b.addNode({ op: 'sigmoid', inputs: [h], attrs: {}, name: 's3' });
  const c4 = b.addNode({ op: 'conv2d', inputs: [h], attrs: conv(4, 4), name: 'c4' });
  const r4 = b.addNode({ op: 'relu6', inputs: [c4], attrs: {}, name: 'r4' });
  h = b.addNode({ op: 'add', inputs: [c4, r4], attrs: {}, name: 'sum' });
  h = b.addNode({ op: 'flatten', inputs: [h], attrs: {}, name: 'flat' });
  h = b.addNode({ op: 'linear', inputs: [h], attrs: { inFeatures: 4 * 3 * 5, outFeatures: 3, bias: true }, name: 'fc' });
  h = b.addNode({ op: 'relu6', inputs: [h], attrs: {}, name: 'out' });
  return randomizeParams(b.build(['out']), 3);
}

describe('fusion', () => {
  it('fuses a layer with its only-consumer activation, or with its bias alone, and nothing else', () => {
    const compiled = compileGraph(fusionGraph());
    expect(compiled.fusions).toEqual([
      { layer: 'c1', activation: 'r1' },
      { layer: 'dw', activation: 'r2' },
      { layer: 'c3', activation: 's3' },
      { layer: 'c4' }, // its output feeds both relu6 and add: bias only
      { layer: 'fc', activation: 'out' },
    ]);
    compiled.dispose();
  });

  it('does not fuse an activation into a layer that is itself a graph output', () => {
    const graph = fusionGraph();
    const compiled = compileGraph({ ...graph, outputs: ['c1', 'out'] });
    expect(compiled.fusions.find((f) => f.layer === 'c1')).toEqual({ layer: 'c1' });
    compiled.dispose();
  });

  for (const mode of ['eval', 'train'] as const) {
    it(`fused and unfused runs agree (${mode} mode)`, () => {
      const graph = fusionGraph();
      const xt = toTf(randomTensor([2, 3, 6, 5], createRng(4)));
      const outputs = [false, true].map((fuse) => {
        const compiled = compileGraph(graph, { fuse });
        const out = compiled.run(xt, { mode }).out;
        const values = fromTf(out);
        out.dispose();
        compiled.dispose();
        return values;
      });
      expect(outputs[0].shape).toEqual([2, 3]);
      expectClose(outputs[1].data, outputs[0].data, 1e-5);
      xt.dispose();
    });
  }

  it('fused layers train: gradients equal the unfused ones', () => {
    const graph = fusionGraph();
    const xt = toTf(randomTensor([2, 3, 6, 5], createRng(5)));
    const grads = [false, true].map((fuse) => {
      const compiled = compileGraph(graph, { fuse });
      const { grads: g } = tf.variableGrads(() => tf.sum(compiled.run(xt, { mode: 'train' }).out) as tf.Scalar);
      const byKey = new Map([...compiled.variables].map(([key, v]) => [key, g[v.name].dataSync()]));
      tf.dispose(Object.values(g));
      compiled.dispose();
      return byKey;
    });
    for (const [key, g] of grads[0]) expectClose(grads[1].get(key)!, g, 1e-4, key);
    xt.dispose();
  });
});

describe('layout and parameters', () => {
  it('runNHWC takes and returns channels-last tensors and equals run', () => {
    const b = new GraphBuilder({ seed: 6 });
    const x = b.addInput(['N', 3, 5, 4], 'x');
    const c = b.addNode({ op: 'conv2d', inputs: [x], attrs: conv(3, 2), name: 'c' });
    const graph = randomizeParams(b.build([c]), 7);
    const compiled = compileGraph(graph);
    const nchw = toTf(randomTensor([2, 3, 5, 4], createRng(8)));
    const nhwc = tf.transpose(nchw, [0, 2, 3, 1]);
    const a = compiled.run(nchw).c;
    const bOut = compiled.runNHWC({ x: nhwc }).c;
    expect(bOut.shape).toEqual([2, 5, 4, 2]);
    const back = tf.transpose(bOut, [0, 3, 1, 2]);
    expect(Array.from(back.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([nchw, nhwc, a, bOut, back]);
    compiled.dispose();
  });

  it('variables hold tfjs layouts; exportGraph writes IR layouts back unchanged', () => {
    // On wasm the filters pass through one scratch buffer, larger ones (c3) after smaller (c1, dw) and
    // smaller ones (c4, fc) after: every variable must still hold its own values.
    expect(tf.getBackend()).toBe('wasm');
    const graph = fusionGraph();
    const compiled = compileGraph(graph);
    expect(compiled.variables.get('c1.weight')!.shape).toEqual([3, 3, 3, 4]);
    expect(compiled.variables.get('dw.weight')!.shape).toEqual([3, 3, 4, 2]);
    expect(compiled.variables.get('fc.weight')!.shape).toEqual([60, 3]);
    const exported = compiled.exportGraph();
    for (const [i, node] of graph.nodes.entries()) {
      for (const [name, p] of Object.entries(node.params as Record<string, ParamTensor>)) {
        const out = (exported.nodes[i].params as Record<string, ParamTensor>)[name];
        expect(out.shape, `${node.name}.${name}`).toEqual(p.shape);
        expect(Array.from(out.data), `${node.name}.${name}`).toEqual(Array.from(p.data));
      }
    }
    compiled.dispose();
  });

  it('exportGraph after a weight change reproduces the changed model', () => {
    const graph = fusionGraph();
    const compiled = compileGraph(graph);
    const weight = compiled.variables.get('c1.weight')!;
    weight.assign(tf.tidy(() => tf.mul(weight, 1.5)));
    const xt = toTf(randomTensor([2, 3, 6, 5], createRng(9)));
    const recompiled = compileGraph(compiled.exportGraph());
    const a = compiled.run(xt).out;
    const b = recompiled.run(xt).out;
    const original = compileGraph(graph);
    const c = original.run(xt).out;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(Array.from(c.dataSync())).not.toEqual(Array.from(a.dataSync()));
    tf.dispose([xt, a, b, c]);
    [compiled, recompiled, original].forEach((g) => g.dispose());
  });
});

describe('memory', () => {
  it('compile, run (eval and train), exportGraph and dispose leave numTensors unchanged', () => {
    const xt = toTf(randomTensor([2, 3, 6, 5], createRng(10)));
    const before = tf.memory().numTensors;
    const compiled = compileGraph(fusionGraph());
    const held = tf.memory().numTensors;
    expect(held).toBeGreaterThan(before);
    for (const mode of ['eval', 'train'] as const) {
      const out = compiled.run(xt, { mode });
      expect(tf.memory().numTensors).toBe(held + 1);
      tf.dispose(Object.values(out));
    }
    compiled.exportGraph();
    expect(tf.memory().numTensors).toBe(held);
    compiled.dispose();
    expect(tf.memory().numTensors).toBe(before);
    xt.dispose();
  });

  it('returns tensors the caller owns, even for an identity graph and a repeated output', () => {
    const b = new GraphBuilder();
    const x = b.addInput([2, 3], 'x');
    const id = b.addNode({ op: 'identity', inputs: [x], attrs: {}, name: 'id' });
    const graph = b.build([x, id]);
    const compiled = compileGraph(graph);
    const xt = tf.ones([2, 3]);
    const out = compiled.run({ x: xt });
    expect(out.x).not.toBe(xt);
    expect(out.id).not.toBe(out.x);
    tf.dispose(Object.values(out));
    expect(xt.isDisposed).toBe(false);
    xt.dispose();
    compiled.dispose();
  });
});

describe('named errors', () => {
  const graph = fusionGraph();
  const compiled = compileGraph(graph);

  it('wrong rank, wrong literal dim, wrong dtype, missing input, too-small spatial size', () => {
    const before = tf.memory().numTensors;
    const cases: [tf.Tensor | Record<string, tf.Tensor>, RegExp, unknown][] = [
      [tf.zeros([2, 3, 6]), /input 'x': expects a rank-4 input/, ShapeError],
      [tf.zeros([2, 4, 6, 5]), /input 'x': dim 1 \(C\) is 4, the model expects 3/, ShapeError],
      [tf.zeros([2, 3, 6, 5], 'int32'), /input 'x': dtype is int32, expected float32/, InputError],
      [{}, /no value given for input 'x'/, Error],
      [tf.zeros([2, 3, 6, 4]), /input 'x': dim 3 \(W\) is 4, the model expects 5/, ShapeError],
    ];
    for (const [input, message, type] of cases) {
      let thrown: unknown;
      try {
        compiled.run(input);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, String(message)).toBeInstanceOf(type as typeof Error);
      expect((thrown as Error).message).toMatch(message);
      tf.dispose(input instanceof tf.Tensor ? input : Object.values(input));
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an input too small for a layer further down names that layer and dimension', () => {
    const b = new GraphBuilder();
    const x = b.addInput(['N', 2, 'H', 'W'], 'x');
    const h = b.addNode({ op: 'maxPool2d', inputs: [x], attrs: { kernel: [2, 2], stride: [2, 2], padding: 'valid' }, name: 'pool' });
    b.addNode({ op: 'conv2d', inputs: [h], attrs: conv(2, 2, { padding: 'valid' }), name: 'late' });
    const local = compileGraph(b.build(['late']));
    const xt = tf.zeros([1, 2, 5, 9]);
    let thrown: unknown;
    try {
      local.run(xt);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ShapeError);
    expect((thrown as ShapeError).node).toBe('late');
    expect((thrown as ShapeError).dim).toBe(2);
    xt.dispose();
    local.dispose();
  });

  it('wraps a failing tfjs kernel into an ExecutionError naming the node', () => {
    const local = compileGraph(graph);
    local.variables.get('c3.weight')!.dispose();
    const xt = toTf(randomTensor([1, 3, 6, 5], createRng(11)));
    const before = tf.memory().numTensors;
    let thrown: unknown;
    try {
      local.run(xt);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ExecutionError);
    expect((thrown as ExecutionError).node).toBe('c3');
    expect((thrown as Error).message).toMatch(/^conv2d 'c3': tfjs failed \(fused with sigmoid 's3'\): \S/);
    expect(tf.memory().numTensors).toBe(before);
    xt.dispose();
    local.dispose();
  });

  it('a batch other than a literal declared one (2^30) is a named error, and compile + refused run + dispose leaks nothing', () => {
    const before = tf.memory().numTensors;
    const b = new GraphBuilder({ seed: 4 });
    const x = b.addInput([2 ** 30, 3, 6, 5], 'x');
    b.addNode({ op: 'conv2d', inputs: [x], attrs: conv(3, 4), name: 'c' });
    const local = compileGraph(randomizeParams(b.build(['c']), 5));
    const xt = tf.zeros([1, 6, 5, 3]);
    let thrown: unknown;
    try {
      local.runNHWC(xt);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ShapeError);
    expect((thrown as Error).message).toMatch(/input 'x': dim 0 \(N\) is 1, the model expects 1073741824/);
    xt.dispose();
    local.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses to run after dispose()', () => {
    const local = compileGraph(graph);
    local.dispose();
    const xt = tf.zeros([1, 3, 6, 5]);
    expect(() => local.run(xt)).toThrow(ExecutionError);
    xt.dispose();
  });
});
