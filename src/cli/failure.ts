/**
 * The one shape every CLI failure takes. A ShapefoldError (bad model, bad option) or a
 * file-system error is one line and exit 1 (a usage error exit 2); anything else is a bug in
 * shapefold: its stack trace, each frame cut to one screen line so a frame inside minified code
 * cannot dump the code itself, and a line asking to report it.
 *
 * With --json the same failure is also one JSON document on stdout (failureDocument), so that a
 * script reading stdout always gets one: `{ ok: false, error: { name, message }, exitCode }`, and
 * what the command got as far as when it has something (fold's report when the probe fails).
 */
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from './args.ts';
import { ShapefoldError } from '../ir/errors.ts';
import { packageInfo } from './package-info.ts';

export interface Failure {
  readonly code: number;
  /** For stderr: 'shapefold <command>: <message>', or a bug's stack trace. */
  readonly text: string;
  /** For the --json document: the error's class, its one-line message, a file-system error's code (ENOENT). */
  readonly error: { readonly name: string; readonly message: string; readonly code?: string };
  /** What the command got as far as, for the --json document. */
  readonly result?: Readonly<Record<string, unknown>>;
}

/** A failure that comes with a partial result: its --json document carries the result's fields too. */
export class FailureWithResult extends Error {
  constructor(
    readonly failure: Error,
    readonly result: Readonly<Record<string, unknown>>,
  ) {
    super(failure.message);
  }
}

interface SystemError extends Error {
  readonly code: string;
  readonly syscall?: string;
  readonly path?: string;
  readonly dest?: string;
}

function isSystemError(error: unknown): error is SystemError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && /^E[A-Z]+$/.test((error as SystemError).code);
}

/** `ENOENT: no such file or directory, open '/x'` -> `/x: no such file or directory (ENOENT)`. */
export function describeSystemError(error: SystemError): string {
  const reason = error.message.startsWith(`${error.code}: `) ? error.message.slice(error.code.length + 2).split(', ')[0] : error.message.split('\n')[0];
  const subject = error.path ?? error.dest;
  return `${subject === undefined ? '' : `${subject}: `}${reason} (${error.code})`;
}

const FRAME_WIDTH = 200;

export function describeFailure(error: unknown, command: string | undefined): Failure {
  if (error instanceof FailureWithResult) return { ...describeFailure(error.failure, command), result: error.result };
  const prefix = command === undefined ? 'shapefold: ' : `shapefold ${command}: `;
  const oneLine = (code: number, name: string, message: string, systemCode?: string): Failure => ({
    code,
    text: prefix + message,
    error: { name, message, ...(systemCode === undefined ? {} : { code: systemCode }) },
  });
  if (error instanceof UsageError) return oneLine(EXIT_USAGE, error.name, firstLine(error.message));
  if (error instanceof ShapefoldError) return oneLine(EXIT_FAILURE, error.name, firstLine(error.message));
  // Node's own name for these is SystemError; their `name` says only 'Error'.
  if (isSystemError(error)) return oneLine(EXIT_FAILURE, 'SystemError', describeSystemError(error), error.code);
  const stack = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  const lines = stack.split('\n').map(cutToWidth);
  const { bugs, version } = packageInfo();
  return {
    code: EXIT_FAILURE,
    error: {
      name: error instanceof Error ? error.name : typeof error,
      message: `internal error (a bug in shapefold ${version}): ${cutToWidth(firstLine(error instanceof Error ? error.message : String(error)))}`,
    },
    text: [
      `${prefix}internal error (a bug in shapefold ${version}):`,
      ...lines.slice(0, 30),
      `Please report it at ${bugs} with the command line and, if you can, the model.`,
    ].join('\n'),
  };
}

/** The failure as --json prints it on stdout. */
export function failureDocument(failure: Failure): Record<string, unknown> {
  return { ok: false, error: failure.error, exitCode: failure.code, ...failure.result };
}

function cutToWidth(line: string): string {
  return line.length > FRAME_WIDTH ? `${line.slice(0, FRAME_WIDTH)}...` : line;
}

function firstLine(message: string): string {
  return message.split('\n')[0];
}
