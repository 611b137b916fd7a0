import type { Node } from './graph.ts';

/** An op as reports and tables name it: an opaque node by its Keras class ('opaque LSTM'). */
export function opName(node: Pick<Node, 'op'> & { readonly attrs?: unknown }): string {
  if (node.op !== 'opaque') return node.op;
  const className = (node.attrs as { className?: unknown } | undefined)?.className;
  return typeof className === 'string' ? `opaque ${className}` : node.op;
}

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
