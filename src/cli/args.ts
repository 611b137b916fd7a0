/**
 * Commands and their arguments. Each command declares its options once (type, short form, value
 * name, help line); `node:util`'s parseArgs does the parsing, and the same declaration prints the
 * command's `--help`. Every command gets `-h/--help` and `--verbose`.
 *
 * Exit codes: 0 success, 1 failure (bad model, failed proof, file-system error), 2 usage error.
 */
import { parseArgs } from 'node:util';
import { ShapefoldError } from '../ir/errors.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A command line that does not fit the command: exit code 2. */
export class UsageError extends ShapefoldError {
  override readonly name = 'UsageError';
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** The value's name in `--help`, e.g. `<file>`; string options only. */
  readonly value?: string;
  readonly help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S['type'] extends 'string' ? (S['multiple'] extends true ? string[] : string) : boolean;

export type OptionValues<O extends OptionSpecs> = { readonly [K in keyof O]?: ValueOf<O[K]> } & {
  readonly verbose?: boolean;
};

export interface CommandArgs<O extends OptionSpecs> {
  readonly values: OptionValues<O>;
  readonly positionals: readonly string[];
}

export interface Command<O extends OptionSpecs = OptionSpecs> {
  readonly name: string;
  /** What follows `shapefold <name>` in the usage line, e.g. `<model> -o <out> [options]`. */
  readonly synopsis: string;
  /** One line for the command list of `shapefold --help`. */
  readonly summary: string;
  /** Further paragraphs for `shapefold <name> --help`. */
  readonly details?: string;
  readonly options: O;
  /** How many positional arguments the command takes. */
  readonly positionals: { readonly min: number; readonly max: number };
  run(args: CommandArgs<O>): Promise<number> | number;
}

/** Declares a command; the identity function that lets TypeScript infer the option types. */
export function defineCommand<O extends OptionSpecs>(command: Command<O>): Command<O> {
  return command;
}

const COMMON_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h', help: 'print this help and exit' },
  verbose: { type: 'boolean', short: 'v', help: 'say more: the backend chosen and why, timings' },
};

function optionLabel(name: string, spec: OptionSpec): string {
  const long = `--${name}${spec.type === 'string' ? ` ${spec.value ?? '<value>'}` : ''}`;
  return spec.short === undefined ? `    ${long}` : `-${spec.short}, ${long}`;
}

export function commandHelp(command: Command): string {
  const options = { ...command.options, ...COMMON_OPTIONS };
  const labels = Object.entries(options).map(([name, spec]) => [optionLabel(name, spec), spec.help] as const);
  const width = Math.max(...labels.map(([label]) => label.length));
  return [
    `usage: shapefold ${command.name} ${command.synopsis}`,
    '',
    command.summary,
    ...(command.details === undefined ? [] : ['', command.details]),
    '',
    'options:',
    ...labels.map(([label, help]) => `  ${label.padEnd(width)}  ${help}`),
    '',
  ].join('\n');
}

/** The one-line pointer appended to usage errors. */
export function helpHint(command: string): string {
  return `(see 'shapefold ${command} --help')`;
}

/**
 * Parses `argv` for `command`; `undefined` means `--help` was asked for (the caller prints it).
 * parseArgs's own errors (unknown option, missing value) become UsageErrors.
 */
export function parseCommandArgs<O extends OptionSpecs>(command: Command<O>, argv: readonly string[]): CommandArgs<O> | undefined {
  const specs: OptionSpecs = { ...command.options, ...COMMON_OPTIONS };
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      { type: spec.type, ...(spec.short === undefined ? {} : { short: spec.short }), ...(spec.multiple === true ? { multiple: true } : {}) },
    ]),
  );
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: attachNegativeNumbers(argv, specs), options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${describeParseError(error as Error & { code?: string }, specs)} ${helpHint(command.name)}`);
  }
  if (parsed.values.help === true) return undefined;
  const { min, max } = command.positionals;
  const count = parsed.positionals.length;
  if (count < min || count > max) {
    const problem = count < min ? 'missing arguments' : `unexpected argument '${parsed.positionals[max]}'`;
    throw new UsageError(`${problem}: usage: shapefold ${command.name} ${command.synopsis} ${helpHint(command.name)}`);
  }
  return { values: parsed.values as OptionValues<O>, positionals: parsed.positionals };
}

/**
 * `--runs -3`: parseArgs calls a value that starts with '-' ambiguous and never hands it to the
 * option's own check, which names what the option expects. A string option followed by a
 * negative number takes it as `--name=-3` (no option is a digit, so nothing else can be meant).
 */
function attachNegativeNumbers(argv: readonly string[], specs: OptionSpecs): string[] {
  const takesValue = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type !== 'string') continue;
    takesValue.set(`--${name}`, name);
    if (spec.short !== undefined) takesValue.set(`-${spec.short}`, name);
  }
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') return [...args, ...argv.slice(i)];
    const name = takesValue.get(argv[i]);
    const next = argv[i + 1];
    if (name !== undefined && next !== undefined && /^-\.?\d/.test(next)) {
      args.push(`--${name}=${next}`);
      i++;
    } else args.push(argv[i]);
  }
  return args;
}

/** parseArgs's messages carry advice for script authors ("To specify a positional argument..."): keep the first sentence. */
function describeParseError(error: Error & { code?: string }, specs: OptionSpecs): string {
  const unknown = /Unknown option '([^']+)'/.exec(error.message);
  if (unknown !== null) return `unknown option '${unknown[1]}'`;
  const missing = /Option '([^']+)' argument missing/.exec(error.message);
  if (missing !== null) return `${missing[1].replace(/^-\w, /, '').replace(/ <value>$/, '')} needs a value`;
  // '--out -v': the value is missing, or starts with '-' and must be attached.
  const ambiguous = /Option '([^']+)' argument is ambiguous/.exec(error.message);
  if (ambiguous !== null) {
    const given = ambiguous[1];
    const long = given.startsWith('--') ? given : `--${Object.entries(specs).find(([, spec]) => spec.short !== undefined && `-${spec.short}` === given)?.[0] ?? given.slice(1)}`;
    return `${long} needs a value; a value that starts with '-' is written ${long}=<value>`;
  }
  return error.message.split('. ')[0].replace(/\.$/, '');
}

/** An integer option of at least `min`, written in decimal digits (a safe integer), or `fallback` when absent. */
export function integerOption(option: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  // Number() also takes ' 5', '0x10', '1e3' and '5.0': spellings a typo can produce, not counts.
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${option} must be an integer >= ${min}, got '${value}'`);
  return n;
}

/** A string option that must be one of `choices`. */
export function oneOf<T extends string>(option: string, value: string | undefined, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${option} must be ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}, got '${value}'`);
  }
  return value as T;
}
