/**
 * The engine keeps its index up to date in place and re-examines only the places a fold can
 * affect (src/fold/engine.ts). Its definition is simpler: at every step, index the graph afresh,
 * try every rule at every node in order, apply the first match the values allow. This file folds
 * random graphs (residual units, concats, shared convs, norms before convs, weight norm, heads)
 * both ways and requires the same folds in the same order, the same graph, parameter bits
 * included, and the same account of the norm-like nodes left. The full scan here is written from the IR alone: its own index, its own splice.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyMatch, type Exact, type FoldRecord, type Produced } from '../../src/fold/apply.ts';
import { reasonsLeft } from '../../src/fold/diagnose.ts';
import { NORM_LIKE_OPS, type GraphIndex } from '../../src/fold/graph-index.ts';
import { foldGraph } from '../../src/fold/index.ts';
import { matchAt, type FoldMode, type Match, type Refusal } from '../../src/fold/match.ts';
import type { Rule } from '../../src/algebra/rule.ts';
import type { Graph, Node } from '../../src/ir/graph.ts';
import { inferShapes } from '../../src/ir/shapes.ts';
import { ALL_RULES } from '../../src/rules/index.ts';
import { randomGraph } from '../arbitraries/graphs.ts';
import { foldRuns, replayParameters } from '../arbitraries/replay.ts';

const RUNS = foldRuns(100);

function freshIndex(graph: Graph): GraphIndex {
  const consumers = new Map<string, Node[]>();
  for (const node of graph.nodes) {
    consumers.set(node.name, consumers.get(node.name) ?? []);
    for (const input of new Set(node.inputs)) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  }
  return { byName: new Map(graph.nodes.map((n) => [n.name, n])), consumers, outputs: new Set(graph.outputs), shapes: inferShapes(graph), tiedWith: new Map() };
}

function firstApplicable(graph: Graph, index: GraphIndex, rules: readonly Rule[], mode: FoldMode, exact: ReadonlyMap<string, Exact>) {
  for (const rule of rules) {
    for (const start of graph.nodes) {
      for (const outcome of matchAt(rule, start, index, mode)) {
        if (outcome.kind !== 'match') continue;
        const applied = applyMatch(outcome.match, index, exact);
        if (applied.kind === 'applied') return { match: outcome.match, replacement: applied.replacement, record: applied.record };
      }
    }
  }
  return undefined;
}

/** The replacement where the last matched node was, its consumers reading the last new node. */
function splice(graph: Graph, match: Match, replacement: readonly Produced[]): Graph {
  const matched = new Set(match.nodes);
  const last = match.nodes[match.nodes.length - 1];
  const newLast = replacement[replacement.length - 1].node.name;
  const nodes = graph.nodes.flatMap((node): Node[] => {
    if (node === last) return replacement.map((p) => p.node);
    if (matched.has(node)) return [];
    return [node.inputs.includes(last.name) ? ({ ...node, inputs: node.inputs.map((x) => (x === last.name ? newLast : x)) } as Node) : node];
  });
  return { nodes, inputs: graph.inputs, outputs: graph.outputs.map((x) => (x === last.name ? newLast : x)) };
}

function foldByFullScan(graph: Graph, rules: readonly Rule[], mode: FoldMode) {
  let current = graph;
  const folds: FoldRecord[] = [];
  const exact = new Map<string, Exact>();
  for (;;) {
    const step = firstApplicable(current, freshIndex(current), rules, mode, exact);
    if (step === undefined) return { graph: current, folds, left: leftByFullScan(current, rules, mode, exact) };
    current = splice(current, step.match, step.replacement);
    for (const node of step.match.nodes) exact.delete(node.name);
    for (const { node, exact: values } of step.replacement) exact.set(node.name, values);
    folds.push(step.record);
  }
}

/**
 * Rule sets: ALL_RULES, or a subset of it in a random order. With its own order a rule's
 * worklist is examined more often before others apply, which is where a fold enabling a match
 * upstream of it (a place already examined) must put that place back.
 */
const ruleSets = fc.oneof(fc.constant(ALL_RULES), fc.shuffledSubarray([...ALL_RULES], { minLength: 1 }));

/** What the report says about the norm-like nodes left, from a fresh index of the folded graph. */
function leftByFullScan(graph: Graph, rules: readonly Rule[], mode: FoldMode, exact: ReadonlyMap<string, Exact>) {
  const index = freshIndex(graph);
  const refusals: Refusal[] = [];
  for (const rule of rules) {
    for (const start of graph.nodes) {
      for (const outcome of matchAt(rule, start, index, mode)) {
        const refused = outcome.kind === 'refusal' ? outcome : applyMatch(outcome.match, index, exact);
        if (refused.kind !== 'refusal') throw new Error(`rule '${rule.name}' still applies at '${start.name}'`);
        refusals.push(refused.refusal);
      }
    }
  }
  return graph.nodes
    .filter((node) => NORM_LIKE_OPS.has(node.op))
    .map((node) => ({ name: node.name, op: node.op, reasons: reasonsLeft(node, index, mode, refusals) }));
}

describe('the incremental engine folds exactly as a full scan at every step', () => {
  const cases: readonly [FoldMode, Parameters<typeof randomGraph>[0]][] = [
    ['eval', { allowHard: true, maxSpatial: 10, maxBlocks: 8 }],
    ['train', { allowHard: false, maxSpatial: 10, maxBlocks: 8, minBatch: 2 }],
  ];
  for (const [mode, options] of cases) {
    it(`${mode} mode: same folds, same order, same graph (${RUNS} runs)`, () => {
      fc.assert(
        fc.property(randomGraph(options), ruleSets, (graph, rules) => {
          const expected = foldByFullScan(graph, rules, mode);
          const { graph: folded, report } = foldGraph(graph, { mode, rules, probe: false });
          expect(report.folds).toEqual(expected.folds);
          expect(folded).toEqual(expected.graph);
          expect(report.left).toEqual(expected.left);
        }),
        replayParameters(RUNS),
      );
    });
  }
});
