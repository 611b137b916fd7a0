/** `permute`, the one axis permutation every Keras <-> IR weight layout goes through. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { permute } from '../../src/io/layout.ts';

/** out[j] from the full index of j, element by element: the definition. */
function permuteByDefinition(data: Float32Array, shape: readonly number[], perm: readonly number[]): number[] {
  const outShape = perm.map((axis) => shape[axis]);
  const size = shape.reduce((a, d) => a * d, 1);
  const out: number[] = [];
  for (let j = 0; j < size; j++) {
    const outIndex: number[] = [];
    let rest = j;
    for (let k = outShape.length - 1; k >= 0; k--) {
      outIndex[k] = rest % outShape[k];
      rest = Math.floor(rest / outShape[k]);
    }
    const sourceIndex: number[] = [];
    perm.forEach((axis, k) => (sourceIndex[axis] = outIndex[k]));
    let source = 0;
    for (let k = 0; k < shape.length; k++) source = source * shape[k] + sourceIndex[k];
    out.push(data[source]);
  }
  return out;
}

const shapeAndPerm = fc
  .array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 5 })
  .chain((shape) => fc.shuffledSubarray([...shape.keys()], { minLength: shape.length, maxLength: shape.length }).map((perm) => ({ shape, perm })));

describe('permute', () => {
  it('moves every element where numpy.transpose would, for any shape (empty axes too) and permutation', () => {
    fc.assert(
      fc.property(shapeAndPerm, ({ shape, perm }) => {
        const data = Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, (_, i) => i + 0.5);
        const { shape: outShape, data: out } = permute(data, shape, perm);
        expect(outShape).toEqual(perm.map((axis) => shape[axis]));
        expect(Array.from(out)).toEqual(permuteByDefinition(data, shape, perm));
      }),
      { numRuns: 300 },
    );
  });

  it('moves every element where numpy.transpose would across the 32 x 32 blocks it moves, with size-1 axes among them', () => {
    const bigShapeAndPerm = fc
      .array(fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 70 })), { minLength: 2, maxLength: 4 })
      .filter((shape) => shape.reduce((a, d) => a * d, 1) <= 50_000)
      .chain((shape) => fc.shuffledSubarray([...shape.keys()], { minLength: shape.length, maxLength: shape.length }).map((perm) => ({ shape, perm })));
    fc.assert(
      fc.property(bigShapeAndPerm, ({ shape, perm }) => {
        const data = Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, (_, i) => i + 0.5);
        expect(Array.from(permute(data, shape, perm).data)).toEqual(permuteByDefinition(data, shape, perm));
      }),
      { numRuns: 60 },
    );
  });

  it('converts a Keras Conv2D kernel [kH, kW, Cin, Cout] to the IR weight [Cout, Cin, kH, kW]', () => {
    const kernel = Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i);
    const { shape, data } = permute(kernel, [2, 3, 4, 5], [3, 2, 0, 1]);
    expect(shape).toEqual([5, 4, 2, 3]);
    // IR weight[co=4, ci=1, kh=1, kw=2] is Keras kernel[kh=1, kw=2, ci=1, co=4].
    expect(data[((4 * 4 + 1) * 2 + 1) * 3 + 2]).toBe(((1 * 3 + 2) * 4 + 1) * 5 + 4);
  });

  it('copies a scalar', () => {
    expect(permute(Float32Array.of(7), [], [])).toEqual({ shape: [], data: Float32Array.of(7) });
  });
});
