/**
 * A plain-text table of a graph: each node with its op, inputs, inferred output shape and
 * parameter count, as `npm start` and the CLI print it.
 */
import type { Graph, Node, ParamTensor } from '../ir/graph.ts';
import { opName } from '../ir/labels.ts';
import { validateGraph } from '../ir/validate.ts';

export function countParams(graph: Graph): number {
  let total = 0;
  for (const node of graph.nodes) {
    for (const p of Object.values(node.params) as (ParamTensor | undefined)[]) total += p?.data.length ?? 0;
  }
  return total;
}

/**
 * The table's name and op for a node. An opaqueOutput node reads as output k of its layer
 * ('lstm[1]', 'LSTM output 1'), as Keras users index a layer's outputs; its IR name
 * ('lstm_output1') is the importer's, not the model's.
 */
function tableLabels(graph: Graph): { readonly name: (name: string) => string; readonly op: (node: Node) => string } {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const layerOf = (node: Node) => byName.get(node.inputs[0]);
  return {
    name: (name) => {
      const node = byName.get(name);
      return node?.op === 'opaqueOutput' ? `${node.inputs[0]}[${node.attrs.index}]` : name;
    },
    op: (node) => {
      if (node.op !== 'opaqueOutput') return opName(node);
      const layer = layerOf(node);
      return `${layer?.op === 'opaque' ? layer.attrs.className : 'opaque'} output ${node.attrs.index}`;
    },
  };
}

export function formatShapeTable(graph: Graph): string {
  const shapes = validateGraph(graph);
  const label = tableLabels(graph);
  const rows = graph.nodes.map((node) => {
    const params = (Object.values(node.params) as (ParamTensor | undefined)[]).reduce((n, p) => n + (p?.data.length ?? 0), 0);
    return [label.name(node.name), label.op(node), node.inputs.map(label.name).join(', '), `[${(shapes.get(node.name) ?? []).join(', ')}]`, params === 0 ? '' : params.toLocaleString('en-US')];
  });
  const header = ['layer', 'op', 'inputs', 'output shape', 'params'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), '', `${graph.nodes.length} nodes, ${countParams(graph).toLocaleString('en-US')} parameters`].join('\n');
}
