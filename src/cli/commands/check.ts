/** `shapefold check <model>`: validate a model and print every layer's inferred shape. */
import type { Graph, ParamTensor } from '../../ir/graph.ts';
import { validateGraph } from '../../ir/validate.ts';
import { countParams, formatShapeTable } from '../../report/summary.ts';
import { defineCommand } from '../args.ts';
import { loadGraph, MODEL_SPEC_HELP } from '../load.ts';
import { createProgress, stepTicker } from '../progress.ts';

/** The shape table as data, for `--json`. */
export function shapeTable(graph: Graph) {
  const shapes = validateGraph(graph);
  return {
    nodes: graph.nodes.map((node) => ({
      name: node.name,
      op: node.op,
      ...(node.op === 'opaque' ? { className: node.attrs.className } : {}),
      inputs: node.inputs,
      shape: shapes.get(node.name) ?? [],
      params: (Object.values(node.params) as (ParamTensor | undefined)[]).reduce((n, p) => n + (p?.data.length ?? 0), 0),
    })),
    params: countParams(graph),
  };
}

export const checkCommand = defineCommand({
  name: 'check',
  synopsis: '<model> [--json]',
  summary: "validate a model and print every layer's inferred shape",
  details: MODEL_SPEC_HELP,
  options: {
    json: { type: 'boolean', help: 'print the layers and shapes as JSON' },
  },
  positionals: { min: 1, max: 1 },
  async run({ values, positionals: [spec] }) {
    const progress = createProgress(process.stderr, values);
    const graph = await progress.stage(`import ${spec}`, (tick) => loadGraph(spec!, stepTicker(tick)));
    console.log(values.json === true ? JSON.stringify(shapeTable(graph), null, 2) : formatShapeTable(graph));
    return 0;
  },
});
