/**
 * Compiled by `tsc --noEmit` (TypeScript 7), never run: the vitest type tests go through ts-morph
 * (TypeScript 6), so these lines hold the native compiler to the same results. Each `Same<...>`
 * must be exactly `true`, and each `@ts-expect-error` line must fail (a near-miss spelling).
 */
import type * as A from '../../dsl/types/arith.ts';
import type * as D from '../../dsl/types/dim.ts';

type Same<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;

// src/shape/dim.ts header: two stride-2 3x3 pad-1 convs equal one stride-4 1x1 conv.
export const twoConvs: Same<D.ConvOutDim<D.ConvOutDim<'H', 3, 2, 1, 2>, 3, 2, 1, 2>, 'floor((H+3)/4)'> = true;
export const oneConv: Same<D.ConvOutDim<'H', 1, 4, 1, 0>, 'floor((H+3)/4)'> = true;
// @ts-expect-error the spelling is floor((H+3)/4), not floor((H+2)/4)
export const nearMiss: Same<D.ConvOutDim<'H', 1, 4, 1, 0>, 'floor((H+2)/4)'> = true;

export const transposed: Same<D.ConvTransposeOutDim<D.ConvOutDim<'H', 3, 2, 1, 2>, 4, 2, 1, 1, 0>, '2*floor((H+1)/2)'> = true;
export const bigConv: Same<D.ConvOutDim<1000000, 3, 2, 1, 2>, 500000> = true;
export const bigProduct: Same<D.DimProduct<[1000000, 1000000]>, 1000000000000> = true;
export const opaqueProduct: Same<D.DimProduct<[2, 'H+1', 'W']>, '2*(H+1)*W'> = true;
export const opaqueSum: Same<D.DimSum<['H', 'W', 3]>, 'H+W+3'> = true;
export const affineSum: Same<D.DimSum<['H', '2*H+1', 3]>, '3*H+4'> = true;
export const wrappedSum: Same<D.DimScale<'H+floor(3*H/4)', 2>, '2*(H+floor(3*H/4))'> = true;
export const floorOfFloor: Same<D.DimFloorDiv<'6*floor((H+3)/4)+5', 3>, '2*floor((H+3)/4)+1'> = true;
export const wide: Same<D.ConvOutDim<number, 3, 2, 1, 2>, number> = true;
export const equalWide: Same<D.DimEqual<number, 'H'>, true> = true;
export const parsed: Same<D.ParseAffineFloor<'2*floor((3*H+1)/4)-7'>, { symbol: 'H'; m: 2; a: 3; b: 1; d: 4; c: -7 }> = true;

export const floorDivNegative: Same<A.FloorDiv<-1, 2>, -1> = true;
export const modNegative: Same<A.Mod<-7, 3>, 2> = true;
export const product12Digits: Same<A.Mul<999999, 999999>, 999998000001> = true;
export const gcd: Same<A.Gcd<600851475143, 6857>, 6857> = true;
