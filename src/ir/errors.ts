/**
 * Error classes. Every error shapefold raises on purpose extends `ShapefoldError`, so callers can
 * tell a model or input problem (ours, with a message naming the layer) from a bug.
 *
 * Node-level messages start with the prefix `${op} '${name}': `, the same prefix the type-level
 * DSL puts on its compile-time messages.
 */
import type { OpKind } from './graph.ts';

export class ShapefoldError extends Error {
  override readonly name: string = 'ShapefoldError';
}

/** A malformed graph: structure, names, attrs or params. `node` names the offending node, if any. */
export class GraphError extends ShapefoldError {
  override readonly name: string = 'GraphError';
  readonly node?: string;

  constructor(message: string, node?: string) {
    super(message);
    if (node !== undefined) this.node = node;
  }
}

/**
 * An input that does not fit a layer. `detail` is the message without the node prefix (the part
 * the type-level DSL spells identically); `dim` is the index of the offending dimension, if one is.
 */
export class ShapeError extends ShapefoldError {
  override readonly name: string = 'ShapeError';
  readonly node: string;
  readonly op: OpKind;
  readonly detail: string;
  readonly dim?: number;

  constructor(node: string, op: OpKind, detail: string, dim?: number) {
    super(`${nodePrefix(op, node)}${detail}`);
    this.node = node;
    this.op = op;
    this.detail = detail;
    if (dim !== undefined) this.dim = dim;
  }
}

/** `${op} '${name}': ` */
export function nodePrefix(op: string, name: string): string {
  return `${op} '${name}': `;
}
