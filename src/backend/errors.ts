/**
 * Errors the executor raises on purpose. Both extend `ShapefoldError`, so callers can tell a
 * model, input or environment problem (with a message naming the layer or backend) from a bug.
 */
import { ShapefoldError, nodePrefix } from '../ir/errors.ts';

/** A tfjs kernel failed while running `node`; `cause` keeps tfjs' own message. */
export class ExecutionError extends ShapefoldError {
  override readonly name: string = 'ExecutionError';
  readonly node: string;
  readonly op: string;

  constructor(node: string, op: string, detail: string, options?: { cause?: unknown }) {
    super(`${nodePrefix(op, node)}${detail}`, options);
    this.node = node;
    this.op = op;
  }
}

/** A backend was requested (by option or SHAPEFOLD_BACKEND) but cannot run here. */
export class BackendUnavailableError extends ShapefoldError {
  override readonly name: string = 'BackendUnavailableError';
  readonly backend: string;

  constructor(backend: string, reason: string) {
    super(`backend '${backend}' is unavailable: ${reason}`);
    this.backend = backend;
  }
}

/** Input tensors that do not fit the graph, caught before any kernel runs (dtype, arity). */
export class InputError extends ShapefoldError {
  override readonly name: string = 'InputError';
  readonly input: string;

  constructor(input: string, detail: string) {
    super(`input '${input}': ${detail}`);
    this.input = input;
  }
}
