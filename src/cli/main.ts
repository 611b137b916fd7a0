/**
 * The shapefold command line: `shapefold <command> [options]`. Commands live in ./commands, one
 * file each, and declare their options for parseArgs (./args.ts). Every failure takes one shape
 * (./failure.ts): one line and exit 1, exit 2 for a usage error, a stack trace only for a bug;
 * with --json, also one JSON document on stdout.
 */
import { silenceTfjsNotice } from '../backend/select.ts';
import { commandHelp, EXIT_OK, EXIT_USAGE, parseCommandArgs, UsageError, type Command } from './args.ts';
import { COMMANDS } from './commands/index.ts';
import { describeFailure, failureDocument } from './failure.ts';
import { packageInfo } from './package-info.ts';

export { UsageError } from './args.ts';

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: shapefold <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'help'.padEnd(width)}  this text; 'shapefold <command> --help' describes a command`,
    '',
    'options: -h, --help; --version; -v, --verbose (on every command)',
    'exit codes: 0 success, 1 failure (bad model, failed proof, file error), 2 usage error',
    '',
  ].join('\n');
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    throw new UsageError(`unknown command '${name}' (commands: ${COMMANDS.map((c) => c.name).join(', ')}; see 'shapefold --help')`);
  }
  return command;
}

/**
 * Whether the command line asks for JSON, read before parsing so that a command line that does
 * not parse still gets its JSON document. Arguments after '--' belong to a benchmark.
 */
function asksForJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** Runs one command line (without the node and script arguments); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  let name: string | undefined;
  try {
    if (first === undefined) {
      process.stderr.write(mainHelp());
      return EXIT_USAGE;
    }
    if (first === '--version' || first === '-V') {
      console.log(packageInfo().version);
      return EXIT_OK;
    }
    if (first === 'help' || first === '--help' || first === '-h') {
      if (rest[0] === undefined) process.stdout.write(mainHelp());
      else process.stdout.write(commandHelp(findCommand(rest[0])));
      return EXIT_OK;
    }
    if (first.startsWith('-')) throw new UsageError(`expected a command before '${first}' (see 'shapefold --help')`);
    name = first;
    const command = findCommand(first);
    // tfjs's "install tfjs-node" banner fires on the first tensor, e.g. reading a Layers model's
    // weights; the CLI says which backend runs (with --verbose) instead.
    silenceTfjsNotice();
    const args = parseCommandArgs(command, rest);
    if (args === undefined) {
      process.stdout.write(commandHelp(command));
      return EXIT_OK;
    }
    return await command.run(args);
  } catch (error) {
    const failure = describeFailure(error, name);
    console.error(failure.text);
    if (asksForJson(argv)) console.log(JSON.stringify(failureDocument(failure), null, 2));
    return failure.code;
  }
}
