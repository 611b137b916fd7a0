/**
 * Shape inference against brute force: the number of window positions that fit, counted by a
 * loop, and the symbolic result evaluated at the same size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/ir/errors.ts';
import type { AttrsByOp, Dim, Node, OpKind, Shape } from '../../src/ir/graph.ts';
import { inferNodeShape } from '../../src/ir/shapes.ts';
import { evalDim } from '../../src/shape/dim.ts';

function infer<K extends OpKind>(op: K, attrs: AttrsByOp[K], input: Shape): Shape {
  return inferNodeShape({ name: 'n', op, inputs: ['x'], attrs, params: {} } as Node, [input]);
}

/** Window starts 0, S, 2S, ... whose span D(K-1)+1 fits in the padded length. */
function countWindows(length: number, kernel: number, stride: number, dilation: number, padTotal: number): number {
  const span = dilation * (kernel - 1) + 1;
  let count = 0;
  for (let start = 0; start + span <= length + padTotal; start += stride) count++;
  return count;
}

/** TensorFlow 'same': a window starts at every stride step inside the input. */
function countSame(length: number, stride: number): number {
  let count = 0;
  for (let start = 0; start < length; start += stride) count++;
  return count;
}

interface AxisConfig {
  readonly size: number;
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  readonly pads: readonly [number, number];
}

const axisConfig = (maxDilation: number) =>
  fc.record({
    size: fc.integer({ min: 1, max: 40 }),
    kernel: fc.integer({ min: 1, max: 6 }),
    stride: fc.integer({ min: 1, max: 4 }),
    dilation: fc.integer({ min: 1, max: maxDilation }),
    pads: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
  });

const paddingMode = fc.constantFrom('explicit', 'same', 'valid');

function expectedSize(axis: AxisConfig, mode: string): number {
  if (mode === 'same') return countSame(axis.size, axis.stride);
  const padTotal = mode === 'valid' ? 0 : axis.pads[0] + axis.pads[1];
  return countWindows(axis.size, axis.kernel, axis.stride, axis.dilation, padTotal);
}

function padding(mode: string, h: AxisConfig, w: AxisConfig): AttrsByOp['conv2d']['padding'] {
  if (mode === 'same' || mode === 'valid') return mode;
  return [h.pads[0], h.pads[1], w.pads[0], w.pads[1]];
}

/** The literal result must equal the brute-force count, or be a ShapeError when nothing fits. */
function checkAgainstBruteForce(run: (shape: Shape) => Shape, h: AxisConfig, w: AxisConfig, mode: string, channels: Dim): void {
  const expected = [expectedSize(h, mode), expectedSize(w, mode)];
  if (expected[0] < 1 || expected[1] < 1) {
    expect(() => run([2, channels, h.size, w.size])).toThrow(ShapeError);
    expect(() => run([2, channels, h.size, w.size])).toThrow(/is too small for kernel/);
    return;
  }
  const literal = run([2, channels, h.size, w.size]);
  expect(literal.slice(2)).toEqual(expected);
  const symbolic = run(['N', channels, 'H', 'W']);
  expect(symbolic.slice(0, 2)).toEqual(['N', literal[1]]);
  const env = { H: h.size, W: w.size };
  expect(symbolic.slice(2).map((d) => evalDim(d, env))).toEqual(expected);
}

describe('conv and pool output sizes', () => {
  it('conv2d agrees with counting window positions, literally and symbolically', () => {
    fc.assert(
      fc.property(axisConfig(3), axisConfig(3), paddingMode, (h, w, mode) => {
        const attrs: AttrsByOp['conv2d'] = {
          inChannels: 2,
          outChannels: 3,
          kernel: [h.kernel, w.kernel],
          stride: [h.stride, w.stride],
          dilation: [h.dilation, w.dilation],
          padding: padding(mode, h, w),
          groups: 1,
          bias: false,
        };
        checkAgainstBruteForce((shape) => infer('conv2d', attrs, shape), h, w, mode, 2);
      }),
      { numRuns: 400 },
    );
  });

  it('pools agree with counting window positions, literally and symbolically', () => {
    // PyTorch's pool rule: each pad at most half the kernel.
    const poolAxis = axisConfig(1).map((a) => ({
      ...a,
      pads: [Math.min(a.pads[0], a.kernel >> 1), Math.min(a.pads[1], a.kernel >> 1)] as const,
    }));
    fc.assert(
      fc.property(poolAxis, poolAxis, paddingMode, fc.boolean(), (h, w, mode, isMax) => {
        const attrs: AttrsByOp['maxPool2d'] = { kernel: [h.kernel, w.kernel], stride: [h.stride, w.stride], padding: padding(mode, h, w) };
        const run = (shape: Shape) =>
          isMax ? infer('maxPool2d', attrs, shape) : infer('avgPool2d', { ...attrs, countIncludePad: true }, shape);
        checkAgainstBruteForce(run, h, w, mode, 'C');
      }),
      { numRuns: 400 },
    );
  });

  it('convTranspose2d gives the smallest size a forward conv maps back, plus outputPadding', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.nat(),
        (size, kernel, stride, dilation, pad, outputPaddingSeed) => {
          const outputPadding = outputPaddingSeed % Math.max(stride, dilation);
          // The forward conv with the same settings maps y to x; y0 is the smallest such y.
          fc.pre(countWindows(0, kernel, stride, dilation, 2 * pad) < size);
          let y0 = 0;
          while (countWindows(y0, kernel, stride, dilation, 2 * pad) < size) y0++;
          const attrs: AttrsByOp['convTranspose2d'] = {
            inChannels: 2,
            outChannels: 2,
            kernel: [kernel, 1],
            stride: [stride, 1],
            dilation: [dilation, 1],
            padding: [pad, 0],
            outputPadding: [outputPadding, 0],
            groups: 1,
            bias: false,
          };
          const literal = infer('convTranspose2d', attrs, [1, 2, size, 3]);
          expect(literal).toEqual([1, 2, y0 + outputPadding, 3]);
          const symbolic = infer('convTranspose2d', attrs, [1, 2, 'H', 3]);
          expect(evalDim(symbolic[2], { H: size })).toBe(y0 + outputPadding);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a chain of convs and pools on H evaluates to the literal chain', () => {
    const layer = fc.record({
      pool: fc.boolean(),
      kernel: fc.integer({ min: 1, max: 4 }),
      stride: fc.integer({ min: 1, max: 3 }),
      pad: fc.integer({ min: 0, max: 2 }),
    });
    fc.assert(
      fc.property(fc.array(layer, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 64 }), (layers, size) => {
        let literal: Shape = [1, 2, size, 1];
        let symbolic: Shape = [1, 2, 'H', 1];
        for (const l of layers) {
          const pad = l.pool ? Math.min(l.pad, l.kernel >> 1) : l.pad;
          const window = { kernel: [l.kernel, 1] as const, stride: [l.stride, 1] as const, padding: [pad, pad, 0, 0] as const };
          const apply = (shape: Shape) =>
            l.pool
              ? infer('maxPool2d', window, shape)
              : infer('conv2d', { ...window, inChannels: 2, outChannels: 2, dilation: [1, 1], groups: 1, bias: false }, shape);
          const expected = countWindows(literal[2] as number, l.kernel, l.stride, 1, 2 * pad);
          if (expected < 1) {
            expect(() => apply(literal)).toThrow(ShapeError);
            return;
          }
          literal = apply(literal);
          symbolic = apply(symbolic);
          expect(literal[2]).toBe(expected);
          expect(evalDim(symbolic[2], { H: size })).toBe(expected);
        }
      }),
      { numRuns: 400 },
    );
  });
});
