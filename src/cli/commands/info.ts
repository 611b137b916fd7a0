/**
 * `shapefold info <model>`: what a model is and what folding would do to it, without writing
 * anything: its layers and shapes (the `check` table), how many nodes of each op (BatchNorms
 * first), and the fold report of a dry run (every fold it would make, and why each norm-like
 * node would stay), with the rules its output format allows.
 */
import type { FoldMode } from '../../fold/index.ts';
import { foldGraph, formatFoldReport } from '../../fold/index.ts';
import { describeOpaqueLayer } from '../../fold/report.ts';
import type { Graph } from '../../ir/graph.ts';
import { LAYERS_EXPORTABLE_RULES } from '../../io/fold-rules.ts';
import { formatShapeTable } from '../../report/summary.ts';
import { defineCommand, oneOf } from '../args.ts';
import { isLayersModelFile, loadGraph, MODEL_SPEC_HELP } from '../load.ts';
import { createProgress, stepTicker } from '../progress.ts';
import { shapeTable } from './check.ts';

const FORMATS = ['graph', 'layers'] as const;
const MODES = ['eval', 'train'] as const;
const NORMS = ['batchNorm', 'batchRenorm'];

/** Nodes per op, BatchNorms first, then by count. */
function opCounts(graph: Graph): [string, number][] {
  const counts = new Map<string, number>();
  for (const node of graph.nodes) counts.set(node.op, (counts.get(node.op) ?? 0) + 1);
  const rank = (op: string) => (NORMS.includes(op) ? 0 : 1);
  return [...counts].sort((a, b) => rank(a[0]) - rank(b[0]) || b[1] - a[1] || a[0].localeCompare(b[0]));
}

export const infoCommand = defineCommand({
  name: 'info',
  synopsis: '<model> [options]',
  summary: 'layers, shapes and op counts of a model, and what fold would fold and why not (writes nothing)',
  details: [MODEL_SPEC_HELP, '', 'The fold report is a dry run of `shapefold fold` with the same --format and --mode, without the probe.'].join('\n'),
  options: {
    format: { type: 'string', value: 'graph|layers', help: "the output format whose rules apply (default: layers for a Layers input, else graph)" },
    mode: { type: 'string', value: 'eval|train', help: 'fold for inference (eval, default) or keep training behaviour' },
    json: { type: 'boolean', help: 'print the layers, op counts and fold report as JSON' },
  },
  positionals: { min: 1, max: 1 },
  async run({ values, positionals: [spec] }) {
    const mode: FoldMode = oneOf('mode', values.mode, MODES, 'eval');
    const format = oneOf('format', values.format, FORMATS, (await isLayersModelFile(spec!)) ? 'layers' : 'graph');
    const progress = createProgress(process.stderr, values);
    const graph = await progress.stage(`import ${spec}`, (tick) => loadGraph(spec!, stepTicker(tick)));
    const rules = format === 'layers' ? { rules: LAYERS_EXPORTABLE_RULES } : {};
    const { report } = await progress.stage('fold (dry run)', () => foldGraph(graph, { mode, probe: 'off', ...rules }));
    const counts = opCounts(graph);
    if (values.json === true) {
      console.log(JSON.stringify({ ...shapeTable(graph), ops: Object.fromEntries(counts), format, report }, null, 2));
      return 0;
    }
    const norms = counts.filter(([op]) => NORMS.includes(op)).reduce((n, [, c]) => n + c, 0);
    console.log(formatShapeTable(graph));
    console.log(`\nops: ${counts.map(([op, n]) => `${n} ${op}`).join(', ')}`);
    console.log(`BatchNorm layers: ${norms}`);
    if (report.opaque !== undefined) console.log(`opaque layers (run by tfjs-layers, written back unchanged): ${report.opaque.map(describeOpaqueLayer).join(', ')}`);
    console.log(`\nwhat \`shapefold fold --format ${format}\` would do:\n${formatFoldReport(report)}`);
    return 0;
  },
});
