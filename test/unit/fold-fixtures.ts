/**
 * Helpers for the fold engine's tests: trained-looking random parameters, a minimal conv -> BN
 * rule written with src/algebra (independent of src/rules), float64 runs of two graphs on the
 * same input, and a tolerance for comparing them.
 */
import { expect } from 'vitest';
import { add, affineScale, affineShift, mul, param, scaleOut, weight } from '../../src/algebra/expr.ts';
import type { Rule } from '../../src/algebra/rule.ts';
import type { Graph, Node, ParamTensor } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { runReference } from '../../src/reference/run.ts';
import type { Float64Tensor } from '../../src/reference/tensor.ts';

/**
 * Parameters like a trained network's: gamma of either sign (mostly positive when `positive`),
 * variances in [0.25, 1.75], small weights, biases and shifts in [-0.5, 0.5).
 */
export function trainedLike(graph: Graph, seed: number, options: { readonly positiveGamma?: boolean } = {}): Graph {
  const rng = createRng(seed);
  const draw = (name: string): number => {
    switch (name) {
      case 'gamma':
        return options.positiveGamma === false ? 2 * rng() - 1 : 0.5 + rng();
      case 'runningVar':
        return 0.25 + 1.5 * rng();
      case 'weight':
      case 'v':
        return 0.6 * (rng() - 0.5);
      case 'g':
        return 0.5 + rng();
      case 'scale':
        return 0.5 + rng();
      default:
        return rng() - 0.5;
    }
  };
  const nodes = graph.nodes.map((node) => {
    const params: Record<string, ParamTensor> = {};
    for (const [name, p] of Object.entries(node.params as Record<string, ParamTensor>)) {
      params[name] = { shape: p.shape, data: Float32Array.from(p.data, () => draw(name)) };
    }
    return { ...node, params } as Node;
  });
  return { ...graph, nodes };
}

/** A conv -> BatchNorm fold written directly with the algebra constructors. */
export const testConvBn: Rule = {
  name: 'test-conv-bn',
  statement: 's*(conv_W(x) + b) + t = conv_{scaleOut(W,s)}(x) + (s*b + t)',
  pattern: [
    { role: 'conv', ops: ['conv2d'] },
    { role: 'bn', ops: ['batchNorm'] },
  ],
  replacement: [
    {
      role: 'folded',
      op: 'conv2d',
      attrsFrom: 'conv',
      attrs: { bias: true },
      params: {
        weight: scaleOut(weight('conv.weight'), affineScale('bn')),
        bias: add(mul(param('conv.bias'), affineScale('bn')), affineShift('bn')),
      },
    },
  ],
  conditions: [{ kind: 'inferenceStatistics', role: 'bn' }],
};

export function standardInput(shape: readonly number[], seed: number): Float64Tensor {
  const rng = createRng(seed);
  const data = new Float64Array(shape.reduce((a, d) => a * d, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.fround(2 * rng() - 1);
  return { shape: [...shape], data };
}

/**
 * Asserts that `folded` computes what `original` does (float64 reference, same inputs): every
 * output element within `relative` of the largest output magnitude. The folded parameters are
 * rounded to float32 once, so differences of a few float32 ulps of the outputs are expected.
 */
export function expectSameFunction(original: Graph, folded: Graph, inputs: Record<string, Float64Tensor>, mode: 'eval' | 'train' = 'eval', relative = 2e-6): void {
  const a = runReference(original, inputs, { mode }).outputs;
  const b = runReference(folded, inputs, { mode }).outputs;
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const name of Object.keys(a)) {
    expect(b[name].shape, name).toEqual(a[name].shape);
    const scale = Math.max(1, ...Array.from(a[name].data, Math.abs));
    let worst = 0;
    for (let i = 0; i < a[name].data.length; i++) worst = Math.max(worst, Math.abs(a[name].data[i] - b[name].data[i]));
    expect(worst / scale, `${name}: max |folded - original| = ${worst}, outputs up to ${scale}`).toBeLessThanOrEqual(relative);
  }
}
