/**
 * Keras Conv2DTranspose padding <-> IR convTranspose2d padding and outputPadding, per axis.
 *
 * Both ops compute the full scatter of every input pixel's kernel, (H-1)S + K long (dilation 1),
 * and then crop it. The IR (PyTorch) crops P at the top and P - outputPadding at the bottom; a
 * negative bottom crop appends rows holding only the bias.
 * tfjs-layers 4.22 calls tf.conv2dTranspose, the input-gradient of a conv over an output of
 * deconvLength rows: 'valid' -> H*S + max(K - S, 0), 'same' -> H*S. That conv's TF padding is
 * the crop: 'valid' pads nothing, so the top crop is 0; 'same' pads max(K - S, 0) in total,
 * floor(total / 2) at the top and the rest, the larger half, at the bottom. So
 *   'valid':  top 0,                  bottom min(K - S, 0)
 *   'same':   top floor((K - S) / 2), bottom (K - S) - top      when K > S
 *             top 0,                  bottom K - S              when K <= S
 * and P = top, outputPadding = top - bottom. A 'same' with K - S odd crops one row more at the
 * bottom than at the top, which outputPadding >= 0 cannot say: such a layer has no IR form.
 * tfjs-layers has no dilation and no output_padding for Conv2DTranspose.
 */
import type { Pair } from '../ir/graph.ts';

export type KerasPadding = 'valid' | 'same';

export interface TransposeAxis {
  readonly padding: number;
  readonly outputPadding: number;
}

/** The IR padding of one axis of a Keras Conv2DTranspose, or undefined where it has none. */
export function transposeAxisOf(mode: KerasPadding, kernel: number, stride: number): TransposeAxis | undefined {
  const excess = kernel - stride;
  const top = mode === 'same' && excess > 0 ? Math.floor(excess / 2) : 0;
  const bottom = mode === 'same' ? excess - top : Math.min(excess, 0);
  return top >= bottom ? { padding: top, outputPadding: top - bottom } : undefined;
}

/** The Keras padding mode computing exactly this IR padding on both axes, if one does. */
export function kerasTransposePadding(kernel: Pair, stride: Pair, padding: Pair, outputPadding: Pair): KerasPadding | undefined {
  const modes: readonly KerasPadding[] = ['valid', 'same'];
  return modes.find((mode) =>
    [0, 1].every((axis) => {
      const want = transposeAxisOf(mode, kernel[axis], stride[axis]);
      return want !== undefined && want.padding === padding[axis] && want.outputPadding === outputPadding[axis];
    }),
  );
}
