/**
 * Dropout at inference: in eval mode every dropout-family node computes
 *
 *   dropout(x) = x
 *
 * so foldGraph bypasses them before the rules run: a BatchNormalization -> Dropout -> Dense head
 * then folds as BN -> Dense does. A dropout that is a graph output stays (its name is the
 * output's). In train mode dropout draws noise and nothing is bypassed.
 */
import type { Graph, Node } from '../ir/graph.ts';
import type { FoldRecord } from './apply.ts';

export const BYPASS_DROPOUT_RULE = 'dropout-at-inference';

export function bypassDropout(graph: Graph): { readonly graph: Graph; readonly records: readonly FoldRecord[] } {
  const outputs = new Set(graph.outputs);
  const replacedBy = new Map<string, string>();
  const records: FoldRecord[] = [];
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    const inputs = node.inputs.map((i) => replacedBy.get(i) ?? i);
    if (node.op === 'dropout' && !outputs.has(node.name)) {
      replacedBy.set(node.name, inputs[0]);
      records.push({ rule: BYPASS_DROPOUT_RULE, statement: 'dropout(x) = x in eval mode', matched: [{ name: node.name, op: node.op }], produced: [] });
      continue;
    }
    nodes.push(inputs.every((i, k) => i === node.inputs[k]) ? node : ({ ...node, inputs } as Node));
  }
  return records.length === 0 ? { graph, records } : { graph: { ...graph, nodes }, records };
}
