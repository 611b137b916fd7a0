/**
 * Dropout-like layers (dropout, spatialDropout, gaussianDropout, gaussianNoise, alphaDropout)
 * at inference: the identity,
 *
 *   y = x
 *
 * In train mode they draw random numbers; the reference evaluates no randomness, so it refuses
 * them there rather than return a value no tfjs run reproduces.
 */
import { ReferenceRunError } from '../errors.ts';
import type { ReferenceMode } from './runningStats.ts';
import type { Float64Tensor } from '../tensor.ts';
import { identity } from './identity.ts';

export function dropout(x: Float64Tensor, mode: ReferenceMode): Float64Tensor {
  if (mode === 'train') throw new ReferenceRunError('draws random numbers in train mode; the reference evaluates it in eval mode only');
  return identity(x);
}
