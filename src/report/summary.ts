/**
 * A plain-text table of a graph: each node with its op, inputs, inferred output shape and
 * parameter count, as `npm start` and the CLI print it.
 */
import type { Graph, ParamTensor } from '../ir/graph.ts';
import { opName } from '../ir/labels.ts';
import { validateGraph } from '../ir/validate.ts';

export function countParams(graph: Graph): number {
  let total = 0;
  for (const node of graph.nodes) {
    for (const p of Object.values(node.params) as (ParamTensor | undefined)[]) total += p?.data.length ?? 0;
  }
  return total;
}

export function formatShapeTable(graph: Graph): string {
  const shapes = validateGraph(graph);
  const rows = graph.nodes.map((node) => {
    const params = (Object.values(node.params) as (ParamTensor | undefined)[]).reduce((n, p) => n + (p?.data.length ?? 0), 0);
    return [node.name, opName(node), node.inputs.join(', '), `[${(shapes.get(node.name) ?? []).join(', ')}]`, params === 0 ? '' : params.toLocaleString('en-US')];
  });
  const header = ['layer', 'op', 'inputs', 'output shape', 'params'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), '', `${graph.nodes.length} nodes, ${countParams(graph).toLocaleString('en-US')} parameters`].join('\n');
}
