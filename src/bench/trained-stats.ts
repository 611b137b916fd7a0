/**
 * Freshly initialised BatchNorms are the identity in eval mode (gamma 1, beta 0, mean 0, var 1),
 * which makes folding them trivial to get right. Benchmarks and the demo give them statistics a
 * trained network might have instead, from a seeded generator.
 */
import type { Graph, Node, ParamTensor } from '../ir/graph.ts';
import { createRng } from '../ir/init.ts';

export function withTrainedStats(graph: Graph, seed: number): Graph {
  const rng = createRng(seed);
  const uniform = (p: ParamTensor, low: number, high: number): ParamTensor => ({
    shape: p.shape,
    data: Float32Array.from(p.data, () => low + (high - low) * rng()),
  });
  const nodes = graph.nodes.map((node): Node => {
    if (node.op !== 'batchNorm') return node;
    const p = node.params as Required<typeof node.params>;
    return {
      ...node,
      params: {
        gamma: uniform(p.gamma, 0.5, 1.5),
        beta: uniform(p.beta, -0.2, 0.2),
        runningMean: uniform(p.runningMean, -0.2, 0.2),
        runningVar: uniform(p.runningVar, 0.5, 2),
      },
    };
  });
  return { ...graph, nodes };
}
