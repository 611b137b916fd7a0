/**
 * The one shape every CLI failure takes. A ShapefoldError (bad model, bad option) or a
 * file-system error is one line and exit 1 (a usage error exit 2); anything else is a bug in
 * shapefold: its stack trace, each frame cut to one screen line so a frame inside minified code
 * cannot dump the code itself, and a line asking to report it.
 */
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from './args.ts';
import { ShapefoldError } from '../ir/errors.ts';
import { packageInfo } from './package-info.ts';

export interface Failure {
  readonly code: number;
  readonly text: string;
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
  const prefix = command === undefined ? 'shapefold: ' : `shapefold ${command}: `;
  if (error instanceof UsageError) return { code: EXIT_USAGE, text: prefix + firstLine(error.message) };
  if (error instanceof ShapefoldError) return { code: EXIT_FAILURE, text: prefix + firstLine(error.message) };
  if (isSystemError(error)) return { code: EXIT_FAILURE, text: prefix + describeSystemError(error) };
  const stack = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  const lines = stack.split('\n').map((line) => (line.length > FRAME_WIDTH ? `${line.slice(0, FRAME_WIDTH)}...` : line));
  const { bugs, version } = packageInfo();
  return {
    code: EXIT_FAILURE,
    text: [
      `${prefix}internal error (a bug in shapefold ${version}):`,
      ...lines.slice(0, 30),
      `Please report it at ${bugs} with the command line and, if you can, the model.`,
    ].join('\n'),
  };
}

function firstLine(message: string): string {
  return message.split('\n')[0];
}
