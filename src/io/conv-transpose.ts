/**
 * Keras Conv2DTranspose padding <-> IR convTranspose2d padding and outputPadding (+ crop2d), per axis.
 *
 * Both ops compute the full scatter of every input pixel's kernel, (H-1)S + K long (dilation 1),
 * and then crop it: `start` rows at the top, `end` at the bottom, a negative `end` appending rows
 * holding only the bias. The IR (PyTorch) crops start = P, end = P - outputPadding; a crop2d
 * after it adds its own top and bottom to those.
 * tfjs-layers 4.22 calls tf.conv2dTranspose, the input-gradient of a conv over an output of
 * deconvLength rows: 'valid' -> H*S + max(K - S, 0), 'same' -> H*S. That conv's TF padding is
 * the crop: 'valid' pads nothing, so the top crop is 0; 'same' pads max(K - S, 0) in total,
 * floor(total / 2) at the top and the rest, the larger half, at the bottom. So
 *   'valid':  start 0,                  end min(K - S, 0)
 *   'same':   start floor((K - S) / 2), end (K - S) - start      when K > S
 *             start 0,                  end K - S                when K <= S
 * Import: P = start, outputPadding = start - end when start >= end. A 'same' with K - S odd
 * crops one row more at the end (end = start + 1), which outputPadding >= 0 cannot say: it is
 * P = start, outputPadding 0 and a crop2d of the one trailing row.
 * Export: the IR's (start, end) is one Keras layer where a mode crops exactly that, and that
 * mode's layer + Cropping2D of the rest where a mode crops no more than that on both ends; an IR
 * that appends more bias rows than any mode does has no Keras form.
 * tfjs-layers has no dilation and no output_padding for Conv2DTranspose.
 */
import type { Pair } from '../ir/graph.ts';

export type KerasPadding = 'valid' | 'same';

/** What one axis of a transposed conv cuts off its full scatter: `end` < 0 appends bias rows. */
export interface ScatterCrop {
  readonly start: number;
  readonly end: number;
}

/** The IR form of one axis of a Keras Conv2DTranspose: convTranspose2d, then crop2d `cropEnd` trailing rows. */
export interface TransposeAxis {
  readonly padding: number;
  readonly outputPadding: number;
  readonly cropEnd: number;
}

/** The crop a Keras Conv2DTranspose applies along one axis. */
export function kerasScatterCrop(mode: KerasPadding, kernel: number, stride: number): ScatterCrop {
  const excess = kernel - stride;
  const start = mode === 'same' && excess > 0 ? Math.floor(excess / 2) : 0;
  return { start, end: mode === 'same' ? excess - start : Math.min(excess, 0) };
}

/** The IR padding of one axis of a Keras Conv2DTranspose, with the trailing rows a crop2d removes. */
export function transposeAxisOf(mode: KerasPadding, kernel: number, stride: number): TransposeAxis {
  const { start, end } = kerasScatterCrop(mode, kernel, stride);
  return start >= end ? { padding: start, outputPadding: start - end, cropEnd: 0 } : { padding: start, outputPadding: 0, cropEnd: end - start };
}

export interface KerasTranspose {
  readonly padding: KerasPadding;
  /** A Cropping2D after the layer, [top, bottom, left, right]; all zero when the layer alone is exact. */
  readonly crop: readonly [number, number, number, number];
}

/**
 * The Keras Conv2DTranspose (+ Cropping2D) cutting `irCrop` ([start, end] per axis, height then
 * width) off the full scatter, preferring a single layer; undefined when none does.
 */
export function kerasTransposeOf(kernel: Pair, stride: Pair, irCrop: readonly [ScatterCrop, ScatterCrop]): KerasTranspose | undefined {
  const modes: readonly KerasPadding[] = ['valid', 'same'];
  const rest = (mode: KerasPadding) =>
    [0, 1].flatMap((axis) => {
      const keras = kerasScatterCrop(mode, kernel[axis], stride[axis]);
      return [irCrop[axis].start - keras.start, irCrop[axis].end - keras.end];
    }) as [number, number, number, number];
  const exact = modes.find((mode) => rest(mode).every((v) => v === 0));
  if (exact !== undefined) return { padding: exact, crop: [0, 0, 0, 0] };
  const cropped = modes.find((mode) => rest(mode).every((v) => v >= 0));
  return cropped === undefined ? undefined : { padding: cropped, crop: rest(cropped) };
}
