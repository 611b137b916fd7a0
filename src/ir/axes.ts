/**
 * Axis numbering between the IR's channels-first layout and channels-last (Keras, and the tfjs
 * executor inside). A rank-r tensor is [N, C, d_1, ..., d_{r-2}] in the IR and
 * [N, d_1, ..., d_{r-2}, C] channels-last:
 *
 *   IR axis 0 (N) <-> 0      IR axis 1 (C) <-> r - 1      IR axis a >= 2 <-> a - 1
 *
 * Keras merges broadcast inputs of lower rank by inserting size-1 axes after the batch axis
 * (channels-last axis 1), so trailing axes line up; in the IR the same axes are inserted after
 * the channel axis (IR axis 2).
 */

/** The channels-last axis holding IR axis `axis` of a rank-`rank` tensor. */
export function channelsLastAxis(axis: number, rank: number): number {
  if (axis === 0) return 0;
  return axis === 1 ? rank - 1 : axis - 1;
}

/** The IR axis holding channels-last axis `axis` of a rank-`rank` tensor (inverse of channelsLastAxis). */
export function channelsFirstAxis(axis: number, rank: number): number {
  if (axis === 0) return 0;
  return axis === rank - 1 ? 1 : axis + 1;
}

/** An IR shape of lower rank padded to `rank` the way Keras merges broadcast it: 1s after the channel axis. */
export function padForBroadcast<D>(shape: readonly D[], rank: number, one: D): D[] {
  if (shape.length >= rank) return [...shape];
  return [...shape.slice(0, 2), ...new Array<D>(rank - shape.length).fill(one), ...shape.slice(2)];
}

/** The permutation taking a channels-last tensor of rank r back to channels-first. */
export function channelsFirstPerm(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

/** The permutation taking a channels-first tensor of rank r to channels-last. */
export function channelsLastPerm(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

/** An IR (channels-first) shape in channels-last order; rank 2 and below have no axis to move. */
export function inChannelsLastOrder<D>(shape: readonly D[]): D[] {
  return shape.length > 2 ? channelsLastPerm(shape.length).map((axis) => shape[axis]) : [...shape];
}

/** A channels-last shape in the IR's channels-first order (inverse of inChannelsLastOrder). */
export function inChannelsFirstOrder<D>(shape: readonly D[]): D[] {
  return shape.length > 2 ? channelsFirstPerm(shape.length).map((axis) => shape[axis]) : [...shape];
}

/** perm applied after `first`: axis i of the result is axis first[perm[i]] of the original. */
export function composePerms(first: readonly number[], perm: readonly number[]): number[] {
  return perm.map((axis) => first[axis]);
}

export const isIdentityPerm = (perm: readonly number[]): boolean => perm.every((axis, i) => axis === i);
