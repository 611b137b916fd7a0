/**
 * Sequences [N, C, L] below the IO layer: the window ops (conv2d, pools, global pools) read them
 * as [N, C, 1, L], per-channel norms and linear (on axis 1, at every position) take any rank. Shape
 * rules, then the tfjs executor against the float64 reference (values, gradients, no leaks).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type BackendName } from '../../src/backend/select.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { ShapeError } from '../../src/ir/errors.ts';
import type { Graph, Node } from '../../src/ir/graph.ts';
import { createRng } from '../../src/ir/init.ts';
import { inferNodeShape } from '../../src/ir/shapes.ts';
import { expectExecutorMatchesReference, expectTrainsEveryParam, randomTensor, randomizeParams } from './backend-helpers.ts';

const conv = (attrs: Partial<Extract<Node, { op: 'conv2d' }>['attrs']>) =>
  ({ name: 'c', op: 'conv2d', inputs: ['x'], params: {}, attrs: { inChannels: 4, outChannels: 6, kernel: [1, 3], stride: [1, 1], padding: 'valid', dilation: [1, 1], groups: 1, bias: true, ...attrs } }) as Node;

describe('shape rules on sequences', () => {
  it('a conv2d with a [1, k] kernel maps [N, C, L] to [N, Cout, L\']', () => {
    expect(inferNodeShape(conv({}), [['N', 4, 10]])).toEqual(['N', 6, 8]);
    expect(inferNodeShape(conv({ stride: [1, 2], padding: 'same' }), [['N', 4, 'L']])).toEqual(['N', 6, 'floor((L+1)/2)']);
    expect(inferNodeShape(conv({ padding: [0, 0, 2, 0], dilation: [1, 2] }), [['N', 4, 9]])).toEqual(['N', 6, 7]);
  });

  it('names a window that is not trivial along the height', () => {
    const tall = () => inferNodeShape(conv({ kernel: [3, 3] }), [['N', 4, 10]]);
    expect(tall).toThrow(ShapeError);
    expect(tall).toThrow(
      "conv2d 'c': reads a rank-3 input [N, C, L] as height 1, so its height kernel, stride and dilation must be 1 and its height padding 0, " +
        'got kernel [3, 3], stride [1, 1], dilation [1, 1], padding "valid"',
    );
    expect(() => inferNodeShape(conv({ padding: [1, 1, 1, 1] }), [['N', 4, 10]])).toThrow(/height padding 0, got .* padding \[1, 1, 1, 1\]/);
  });

  it('pools and global pools keep the sequence form', () => {
    const pool = { name: 'p', op: 'maxPool2d', inputs: ['x'], params: {}, attrs: { kernel: [1, 2], stride: [1, 2], padding: 'valid' } } as Node;
    expect(inferNodeShape(pool, [['N', 4, 9]])).toEqual(['N', 4, 4]);
    const gap = { name: 'g', op: 'globalAvgPool', inputs: ['x'], params: {}, attrs: { keepDims: true } } as Node;
    expect(inferNodeShape(gap, [['N', 4, 'L']])).toEqual(['N', 4, 1]);
  });

  it('a linear maps axis 1 of any rank, and names a feature mismatch there', () => {
    const lin = { name: 'fc', op: 'linear', inputs: ['x'], params: {}, attrs: { inFeatures: 4, outFeatures: 7, bias: true } } as Node;
    expect(inferNodeShape(lin, [['N', 4, 'L']])).toEqual(['N', 7, 'L']);
    expect(inferNodeShape(lin, [['N', 4, 3, 5]])).toEqual(['N', 7, 3, 5]);
    expect(() => inferNodeShape(lin, [['N', 5, 3]])).toThrow("linear 'fc': input has 5 features, layer expects 4");
  });
});

/** [N, 3, L] -> conv [1, 3] stride 2 pad 1 -> BN -> linear -> maxPool [1, 2] -> avgPool 'same' -> global max. */
function sequenceNet(length: number): Graph {
  const b = new GraphBuilder({ seed: 5 });
  const x = b.addInput([2, 3, length], 'x');
  let y = b.addNode({ op: 'conv2d', name: 'c', inputs: [x], attrs: { inChannels: 3, outChannels: 5, kernel: [1, 3], stride: [1, 2], padding: [0, 0, 1, 1], dilation: [1, 1], groups: 1, bias: true } });
  y = b.addNode({ op: 'batchNorm', name: 'bn', inputs: [y], attrs: { numFeatures: 5, eps: 1e-3, frozen: false, decay: 0.9, unbiasedRunningVar: false } });
  y = b.addNode({ op: 'linear', name: 'fc', inputs: [y], attrs: { inFeatures: 5, outFeatures: 4, bias: true } });
  y = b.addNode({ op: 'relu', name: 'r', inputs: [y], attrs: {} });
  y = b.addNode({ op: 'maxPool2d', name: 'mp', inputs: [y], attrs: { kernel: [1, 2], stride: [1, 2], padding: 'valid' } });
  y = b.addNode({ op: 'avgPool2d', name: 'ap', inputs: [y], attrs: { kernel: [1, 3], stride: [1, 1], padding: 'same', countIncludePad: false } });
  b.addNode({ op: 'globalMaxPool', name: 'g', inputs: [y], attrs: { keepDims: false } });
  return randomizeParams(b.build(['g', 'ap']), 6);
}

for (const backend of ['wasm', 'cpu'] as BackendName[]) {
  describe(`executor on sequences, ${backend}`, () => {
    beforeAll(async () => {
      await selectBackend({ backend });
    });

    it.each(['eval', 'train'] as const)('matches the reference in %s mode, leaking nothing', (mode) => {
      expectExecutorMatchesReference(sequenceNet(12), randomTensor([2, 3, 12], createRng(3)), ['g', 'ap'], mode);
    });

    it('trains every parameter through the sequence ops', () => {
      expectTrainsEveryParam(sequenceNet(12), randomTensor([2, 3, 12], createRng(4)), 'g', 6);
    });
  });
}

