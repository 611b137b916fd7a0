/** `shapefold prove`: run the independent checker over every fold rule, or one. */
import { formatProof, proveAll } from '../../proof/index.ts';
import { ALL_RULES } from '../../rules/index.ts';
import { defineCommand, UsageError } from '../args.ts';

export const proveCommand = defineCommand({
  name: 'prove',
  synopsis: '[--rule <name>] [--verbose] [--json]',
  summary: 'prove every fold rule (or one) with the independent checker; exit 1 if any fails',
  options: {
    rule: { type: 'string', value: '<name>', help: 'prove only this rule' },
    json: { type: 'boolean', help: 'print the proof reports as JSON' },
  },
  positionals: { min: 0, max: 0 },
  run({ values }) {
    const only = values.rule;
    const rules = only === undefined ? ALL_RULES : ALL_RULES.filter((r) => r.name === only);
    if (rules.length === 0) {
      throw new UsageError(`no rule named '${only}' (rules: ${ALL_RULES.map((r) => r.name).join(', ')})`);
    }
    const reports = proveAll(rules);
    if (values.json === true) console.log(JSON.stringify(reports, null, 2));
    else {
      console.log(reports.map((r) => formatProof(r, { verbose: values.verbose === true })).join('\n'));
      const failed = reports.filter((r) => !r.ok).length;
      console.log(`\n${reports.length - failed} of ${reports.length} rules proved${failed > 0 ? `, ${failed} FAILED` : ''}`);
    }
    return reports.every((r) => r.ok) ? 0 : 1;
  },
});
