/**
 * The reference interpreter's error: a graph, input or parameter it cannot evaluate.
 *
 * Op functions throw it with only the `detail` (they do not know the node); `runReference`
 * re-raises it with the node's name and op, so the message reads `${op} '${name}': ${detail}`
 * like every other node-level message in shapefold.
 */
import { nodePrefix, ShapefoldError } from '../ir/errors.ts';

export class ReferenceRunError extends ShapefoldError {
  override readonly name: string = 'ReferenceRunError';
  readonly detail: string;
  readonly node?: string;
  readonly op?: string;

  constructor(detail: string, where?: { readonly node: string; readonly op: string }) {
    super(where === undefined ? detail : `${nodePrefix(where.op, where.node)}${detail}`);
    this.detail = detail;
    if (where !== undefined) {
      this.node = where.node;
      this.op = where.op;
    }
  }
}
