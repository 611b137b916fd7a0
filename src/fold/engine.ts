/**
 * The fold engine: rules applied to a fixpoint, then a report.
 *
 * Order (deterministic): at each step, the rules in the order given, each tried at every node in
 * graph order; the first match whose values allow it is applied, and the search starts again
 * from the first rule. A match refused on its values is remembered by the identity of the nodes
 * it matched (a rewritten node is a new object, so a changed node is tried again).
 *
 * Termination: every application must strictly decrease, lexicographically,
 *   (number of nodes,
 *    parameter values held by norm-like nodes,
 *    sum over norm-like nodes of how many nodes come after them in the node order)
 * a well-founded measure: merging and folding remove nodes; turning a BatchNorm into the shift it
 * leaves, or a norm into its affine-free form, drops norm parameters; commuting a scale past an
 * activation moves it later. An application that does not decrease it is a FoldCycleError
 * naming the rule, so a rule set can never loop.
 *
 * The result is validated (validateGraph) and stays trainable: folded layers are ordinary conv2d /
 * linear nodes with weights, biases and tap biases that compileGraph turns into variables.
 */
import type { Rule } from '../algebra/rule.ts';
import type { Graph, Node, ParamTensor } from '../ir/graph.ts';
import { validateGraph } from '../ir/validate.ts';
import { countParams } from '../report/summary.ts';
import { ALL_RULES } from '../rules/index.ts';
import { applyMatch, type FoldRecord } from './apply.ts';
import { reasonsLeft } from './diagnose.ts';
import { FoldCycleError, FoldRuleError } from './errors.ts';
import { indexGraph, NORM_LIKE_OPS, type GraphIndex } from './graph-index.ts';
import { matchAt, type FoldMode, type Match, type Refusal } from './match.ts';
import { probeFold } from './probe.ts';
import type { FoldReport } from './report.ts';

export interface FoldOptions {
  /** 'eval' (default) folds BatchNorms with their running statistics; 'train' only frozen ones. */
  readonly mode?: FoldMode;
  /** Default: ALL_RULES (src/rules). */
  readonly rules?: readonly Rule[];
  /** Measure the folded graph against the original on a random input (default true). */
  readonly probe?: boolean;
  /** Seed of the probe input (default 0). */
  readonly seed?: number;
}

export interface FoldResult {
  readonly graph: Graph;
  readonly report: FoldReport;
}

type Measure = readonly [nodes: number, normParams: number, normDistance: number];

function measureOf(graph: Graph): Measure {
  let normParams = 0;
  let normDistance = 0;
  graph.nodes.forEach((node, i) => {
    if (!NORM_LIKE_OPS.has(node.op)) return;
    for (const p of Object.values(node.params) as (ParamTensor | undefined)[]) normParams += p?.data.length ?? 0;
    normDistance += graph.nodes.length - 1 - i;
  });
  return [graph.nodes.length, normParams, normDistance];
}

function decreases(after: Measure, before: Measure): boolean {
  for (let k = 0; k < before.length; k++) {
    if (after[k] !== before[k]) return after[k] < before[k];
  }
  return false;
}

function checkRules(rules: readonly Rule[]): void {
  const names = new Set<string>();
  for (const rule of rules) {
    if (names.has(rule.name)) throw new FoldRuleError(rule.name, 'two rules have this name');
    names.add(rule.name);
    if (rule.pattern.length === 0) throw new FoldRuleError(rule.name, 'the pattern is empty');
    const roles = rule.pattern.map((p) => p.role);
    if (new Set(roles).size !== roles.length) throw new FoldRuleError(rule.name, `pattern roles repeat: ${roles.join(', ')}`);
    for (const r of rule.replacement) {
      if (r.attrsFrom !== undefined && !roles.includes(r.attrsFrom)) {
        throw new FoldRuleError(rule.name, `replacement '${r.role}' takes attrs from '${r.attrsFrom}', which is not a pattern role`);
      }
    }
  }
}

/** Stable identities of node objects, so a refusal is remembered until a node is rewritten. */
class NodeIds {
  private readonly ids = new WeakMap<Node, number>();
  private next = 0;

  key(rule: Rule, nodes: readonly Node[]): string {
    return `${rule.name}:${nodes.map((n) => this.of(n)).join(',')}`;
  }

  private of(node: Node): number {
    let id = this.ids.get(node);
    if (id === undefined) {
      id = this.next++;
      this.ids.set(node, id);
    }
    return id;
  }
}

interface Search {
  readonly ids: NodeIds;
  /** Value refusals by match key. */
  readonly refused: Map<string, Refusal>;
}

/** The first applicable fold in rule order, then node order; refusals on values are remembered. */
function firstFold(index: GraphIndex, rules: readonly Rule[], mode: FoldMode, search: Search): { graph: Graph; record: FoldRecord } | undefined {
  for (const rule of rules) {
    for (const start of index.graph.nodes) {
      for (const outcome of matchAt(rule, start, index, mode)) {
        if (outcome.kind !== 'match') continue;
        const key = search.ids.key(rule, outcome.match.nodes);
        if (search.refused.has(key)) continue;
        const applied = applyMatch(outcome.match, index);
        if (applied.kind === 'applied') return applied;
        search.refused.set(key, applied.refusal);
      }
    }
  }
  return undefined;
}

/** Every refusal on the final graph: structural ones found again, value ones from memory. */
function finalRefusals(index: GraphIndex, rules: readonly Rule[], mode: FoldMode, search: Search): Refusal[] {
  const refusals: Refusal[] = [];
  const remembered = (match: Match): Refusal => {
    const refusal = search.refused.get(search.ids.key(match.rule, match.nodes));
    if (refusal !== undefined) return refusal;
    // At a fixpoint every match was tried and refused; evaluating it again says why.
    const outcome = applyMatch(match, index);
    if (outcome.kind === 'refusal') return outcome.refusal;
    throw new FoldCycleError(`rule '${match.rule.name}' still applies to ${match.nodes.map((n) => n.name).join(' -> ')} after the fixpoint`);
  };
  for (const rule of rules) {
    for (const start of index.graph.nodes) {
      for (const outcome of matchAt(rule, start, index, mode)) {
        refusals.push(outcome.kind === 'refusal' ? outcome.refusal : remembered(outcome.match));
      }
    }
  }
  return refusals;
}

/** Folds normalisation into neighbouring convs and linears with `rules`, to a fixpoint. */
export function foldGraph(graph: Graph, opts: FoldOptions = {}): FoldResult {
  const mode = opts.mode ?? 'eval';
  const rules = opts.rules ?? ALL_RULES;
  validateGraph(graph);
  checkRules(rules);

  const search: Search = { ids: new NodeIds(), refused: new Map() };
  const folds: FoldRecord[] = [];
  let current = graph;
  let measure = measureOf(current);
  for (;;) {
    const step = firstFold(indexGraph(current), rules, mode, search);
    if (step === undefined) break;
    const next = measureOf(step.graph);
    if (!decreases(next, measure)) {
      throw new FoldCycleError(
        `rule '${step.record.rule}' on ${step.record.matched.map((m) => m.name).join(' -> ')} did not make progress ` +
          `(nodes, norm params, norm distance went from [${measure.join(', ')}] to [${next.join(', ')}]); ` +
          'a rule set must not be able to loop',
      );
    }
    folds.push(step.record);
    current = step.graph;
    measure = next;
  }
  // Values were checked on the way in, and each fold checks the values it computes (apply.ts).
  validateGraph(current, { checkValuesOf: new Set() });

  const index = indexGraph(current);
  const refusals = finalRefusals(index, rules, mode, search);
  const left = current.nodes
    .filter((node) => NORM_LIKE_OPS.has(node.op))
    .map((node) => ({ name: node.name, op: node.op, reasons: reasonsLeft(node, index, mode, refusals) }));
  const report: FoldReport = {
    mode,
    rules: rules.map((r) => r.name),
    folds,
    left,
    nodesBefore: graph.nodes.length,
    nodesAfter: current.nodes.length,
    paramsBefore: countParams(graph),
    paramsAfter: countParams(current),
    ...(opts.probe === false ? {} : { probe: probeFold(graph, current, mode, opts.seed ?? 0) }),
  };
  return { graph: current, report };
}
