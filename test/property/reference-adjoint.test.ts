/**
 * conv2d and convTranspose2d are implemented independently (a gather and a scatter); with the
 * same weight tensor and matching attributes each is the other's adjoint:
 *   <conv(x), y> = <x, convT(y)>      for all x, y
 * where convT's outputPadding is chosen so that its output has x's size again.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conv2d } from '../../src/reference/ops/conv2d.ts';
import { convTranspose2d } from '../../src/reference/ops/convTranspose2d.ts';
import { resolveSamePadding } from '../../src/reference/padding.ts';
import { makeRng, randomTensor } from '../unit/reference-fixtures.ts';

const dot = (a: Float64Array, b: Float64Array): number => a.reduce((sum, v, i) => sum + v * b[i], 0);

const axis = fc
  .record({
    kernel: fc.integer({ min: 1, max: 4 }),
    stride: fc.integer({ min: 1, max: 3 }),
    dilation: fc.integer({ min: 1, max: 3 }),
    padding: fc.integer({ min: 0, max: 3 }),
    size: fc.integer({ min: 1, max: 9 }),
  })
  .filter(({ kernel, dilation, padding, size }) => size + 2 * padding >= dilation * (kernel - 1) + 1);

const config = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  groups: fc.integer({ min: 1, max: 3 }),
  inPerGroup: fc.integer({ min: 1, max: 2 }),
  outPerGroup: fc.integer({ min: 1, max: 3 }),
  h: axis,
  w: axis,
  seed: fc.integer(),
});

describe('conv2d / convTranspose2d adjointness', () => {
  it('<conv(x), y> == <x, convT(y)> over random kernel, stride, dilation, padding and groups', () => {
    fc.assert(
      fc.property(config, ({ batch, groups, inPerGroup, outPerGroup, h, w, seed }) => {
        const rng = makeRng(seed);
        const inChannels = groups * inPerGroup;
        const outChannels = groups * outPerGroup;
        const weight = randomTensor([outChannels, inPerGroup, h.kernel, w.kernel], rng);
        const x = randomTensor([batch, inChannels, h.size, w.size], rng);
        const convOut = conv2d(x, { weight }, {
          inChannels, outChannels, groups, bias: false,
          kernel: [h.kernel, w.kernel], stride: [h.stride, w.stride], dilation: [h.dilation, w.dilation],
          padding: [h.padding, h.padding, w.padding, w.padding],
        });
        const [, , outH, outW] = convOut.shape;
        const outputPadding = (a: typeof h, out: number): number =>
          a.size - ((out - 1) * a.stride - 2 * a.padding + a.dilation * (a.kernel - 1) + 1);
        const y = randomTensor(convOut.shape, rng);
        const back = convTranspose2d(y, { weight }, {
          inChannels: outChannels, outChannels: inChannels, groups, bias: false,
          kernel: [h.kernel, w.kernel], stride: [h.stride, w.stride], dilation: [h.dilation, w.dilation],
          padding: [h.padding, w.padding], outputPadding: [outputPadding(h, outH), outputPadding(w, outW)],
        });
        expect(back.shape).toEqual(x.shape);
        const lhs = dot(convOut.data, y.data);
        const rhs = dot(x.data, back.data);
        expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(lhs)) * convOut.data.length);
      }),
      { numRuns: 300 },
    );
  });

  it("'same' conv keeps ceil(size / stride) positions for any size, kernel, stride and dilation", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }),
        (size, kernel, stride, dilation) => {
          const x = randomTensor([1, 1, size, 1], makeRng(size));
          const y = conv2d(x, { weight: randomTensor([1, 1, kernel, 1], makeRng(kernel)) }, {
            inChannels: 1, outChannels: 1, groups: 1, bias: false,
            kernel: [kernel, 1], stride: [stride, 1], dilation: [dilation, 1], padding: 'same',
          });
          expect(y.shape[2]).toBe(Math.ceil(size / stride));
          const [before, after] = resolveSamePadding(size, kernel, stride, dilation);
          expect(before <= after && after <= before + 1).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
