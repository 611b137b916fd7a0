/**
 * The shapefold command line. Each command is one function; errors shapefold raises on purpose
 * (a ShapefoldError: bad file, bad layer, bad dimension) print as one line and exit 1, anything
 * else is a bug and keeps its stack trace.
 */
import { ShapefoldError } from '../ir/errors.ts';
import { formatProof, proveAll } from '../proof/index.ts';
import { formatShapeTable } from '../report/summary.ts';
import { ALL_RULES } from '../rules/index.ts';
import { loadGraph } from './load.ts';

const USAGE = `usage: shapefold <command> [options]

commands:
  check <model>     validate a model and print every layer's inferred shape
                    <model> is a graph .json, or a DSL module: file.ts[#export]
  prove [--rule <name>] [--verbose] [--json]
                    run the independent checker over every fold rule (or one) and print
                    each proof; exit 1 if any rule fails to prove
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

function prove(args: readonly string[]): number {
  let only: string | undefined;
  let verbose = false;
  let json = false;
  for (let k = 0; k < args.length; k++) {
    const arg = args[k];
    if (arg === '--rule') {
      only = args[++k];
      if (only === undefined) throw new UsageError('--rule needs a rule name');
    } else if (arg === '--verbose' || arg === '-v') verbose = true;
    else if (arg === '--json') json = true;
    else throw new UsageError(`unknown option '${arg}'`);
  }
  const rules = only === undefined ? ALL_RULES : ALL_RULES.filter((r) => r.name === only);
  if (rules.length === 0) {
    throw new UsageError(`no rule named '${only}' (rules: ${ALL_RULES.map((r) => r.name).join(', ')})`);
  }
  const reports = proveAll(rules);
  if (json) console.log(JSON.stringify(reports, null, 2));
  else {
    console.log(reports.map((r) => formatProof(r, { verbose })).join('\n'));
    const failed = reports.filter((r) => !r.ok).length;
    console.log(`\n${reports.length - failed} of ${reports.length} rules proved${failed > 0 ? `, ${failed} FAILED` : ''}`);
  }
  return reports.every((r) => r.ok) ? 0 : 1;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'check':
        return await check(args);
      case 'prove':
        return prove(args);
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
