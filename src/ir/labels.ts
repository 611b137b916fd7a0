/**
 * Names for dimensions in messages. NCHW throughout: a rank-4 tensor is [N, C, H, W], a rank-2
 * one [N, C] (C counts features there); other ranks get positional names.
 */
const RANK4_LABELS = ['N', 'C', 'H', 'W'] as const;
const RANK2_LABELS = ['N', 'C'] as const;

function labelsOf(rank: number): readonly string[] | undefined {
  if (rank === 4) return RANK4_LABELS;
  if (rank === 2) return RANK2_LABELS;
  return undefined;
}

/** 'N', 'C', 'H', 'W' for rank 4; 'N', 'C' for rank 2; `dim ${i}` otherwise. */
export const dimLabel = (rank: number, i: number): string => labelsOf(rank)?.[i] ?? `dim ${i}`;

/** The bracketed list in rank messages: 'N, C, H, W', 'N, C', or `rank ${rank}`. */
export function rankLabelList(rank: number): string {
  return labelsOf(rank)?.join(', ') ?? `rank ${rank}`;
}
