/**
 * Resampling on [N, H, W, C] with tfjs's own resize kernels, which are TensorFlow's legacy ones
 * (half_pixel_centers false) that Keras' UpSampling2D and Resizing call:
 *   upsample2d  resize to [H*sH, W*sW], alignCorners false
 *   resize2d    resize to `size`, alignCorners as the node says
 * In train mode bilinear runs as two matrix products, along W then H, with the lerp weights
 * (1 - f, f) as constant [out, in] matrices: tfjs 4.22's cpu ResizeBilinearGrad returns a gradient
 * of the wrong shape for non-square maps, and a gather's gradient on wasm is shapefold's scalar
 * UnsortedSegmentSum loop; a matMul differentiates everywhere with the backend's own kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Interpolation } from '../../ir/graph.ts';
import { axisTaps } from '../../reference/ops/resize.ts';
import type { Mode, OpBuilder } from './types.ts';

/** The [out, in] matrix of the bilinear lerp along one axis: row r holds 1 - f at `low`, f at `high`. */
function lerpMatrix(inSize: number, outSize: number, alignCorners: boolean): tf.Tensor2D {
  const taps = axisTaps(inSize, outSize, 'bilinear', alignCorners);
  const m = new Float32Array(outSize * inSize);
  for (let r = 0; r < outSize; r++) {
    m[r * inSize + taps.low[r]] += 1 - taps.frac[r];
    m[r * inSize + taps.high[r]] += taps.frac[r];
  }
  return tf.tensor2d(m, [outSize, inSize]);
}

/** x resampled along `axis` (1 = H, 2 = W of NHWC) by one matrix product. */
function lerpAlong(x: tf.Tensor, axis: 1 | 2, outSize: number, alignCorners: boolean): tf.Tensor {
  const perm = axis === 1 ? [1, 0, 2, 3] : [2, 0, 1, 3];
  const moved = tf.transpose(x, perm);
  const rows = tf.reshape(moved, [moved.shape[0], -1]);
  const resampled = tf.matMul(lerpMatrix(x.shape[axis] as number, outSize, alignCorners), rows);
  const back = tf.reshape(resampled, [outSize, ...moved.shape.slice(1)]);
  const inverse = axis === 1 ? perm : [1, 2, 0, 3];
  return tf.transpose(back, inverse);
}

function resize(x: tf.Tensor, size: [number, number], interpolation: Interpolation, alignCorners: boolean, mode: Mode): tf.Tensor {
  const image = x as tf.Tensor4D;
  if (interpolation === 'nearest') return tf.image.resizeNearestNeighbor(image, size, alignCorners, false);
  if (mode === 'eval') return tf.image.resizeBilinear(image, size, alignCorners, false);
  return lerpAlong(lerpAlong(x, 2, size[1], alignCorners), 1, size[0], alignCorners);
}

export const upsample2d: OpBuilder<'upsample2d'> = (node) => {
  const { scale, interpolation } = node.attrs;
  return {
    forward: ([x], mode) => {
      const [, height, width] = x.shape as [number, number, number, number];
      return resize(x, [height * scale[0], width * scale[1]], interpolation, false, mode);
    },
  };
};

export const resize2d: OpBuilder<'resize2d'> = (node) => {
  const { size, interpolation, alignCorners } = node.attrs;
  return { forward: ([x], mode) => resize(x, [size[0], size[1]], interpolation, alignCorners, mode) };
};
