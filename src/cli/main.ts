/**
 * The shapefold command line. Each command is one function; errors shapefold raises on purpose
 * (a ShapefoldError: bad file, bad layer, bad dimension) print as one line and exit 1, anything
 * else is a bug and keeps its stack trace.
 */
import { ShapefoldError } from '../ir/errors.ts';
import { formatShapeTable } from '../report/summary.ts';
import { loadGraph } from './load.ts';

const USAGE = `usage: shapefold <command> [options]

commands:
  check <model>     validate a model and print every layer's inferred shape
                    <model> is a graph .json, or a DSL module: file.ts[#export]
  help              this text
`;

export class UsageError extends ShapefoldError {
  override readonly name = 'UsageError';
}

async function check(args: readonly string[]): Promise<number> {
  const [spec, ...rest] = args;
  if (spec === undefined || rest.length > 0) throw new UsageError('usage: shapefold check <model.json | module.ts[#export]>');
  const graph = await loadGraph(spec);
  console.log(formatShapeTable(graph));
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'check':
        return await check(args);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command '${command}'\n${USAGE}`);
    }
  } catch (error) {
    if (error instanceof ShapefoldError) {
      console.error(`shapefold ${command}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
