import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2d, input, model } from '../../dsl/index.ts';
import { compileGraph, selectBackend } from '../../src/backend/index.ts';
import { ShapeError } from '../../src/ir/errors.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

describe('the executor remembers which input sizes passed its shape checks', () => {
  it('still rejects a bad size after a good one, and accepts the good one again', () => {
    const { graph } = model(input(['N', 3, 'H', 'W'], { name: 'x' }).to(conv2d({ out: 2, kernel: 5, name: 'c' })));
    const before = tf.memory().numTensors;
    const net = compileGraph(graph);
    const good = tf.zeros([1, 3, 8, 8]);
    const tooSmall = tf.zeros([1, 3, 4, 8]);
    try {
      tf.dispose(Object.values(net.run(good)));
      expect(() => net.run(tooSmall)).toThrow(ShapeError);
      expect(() => net.run(tooSmall)).toThrow("conv2d 'c': input height 4 is too small for kernel 5");
      tf.dispose(Object.values(net.run(good)));
    } finally {
      tf.dispose([good, tooSmall]);
      net.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
