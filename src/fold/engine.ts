/**
 * The fold engine: rules applied to a fixpoint, then a report.
 *
 * Order (deterministic): at each step, the rules in the order given, each tried at every node in
 * graph order; the first match whose values allow it is applied, and the search starts again
 * from the first rule. A match refused on its values is remembered by the identity of the nodes
 * it matched (a rewritten node is a new object, so a changed node is tried again).
 *
 * Cost: that order is kept without scanning the graph at every step. The graph and its index are
 * updated in place around each fold (LiveGraph), and each rule keeps a worklist of the places
 * where it may still apply (Worklist); a fold puts back only the places its change can reach
 * (markAround). A place leaves a rule's worklist only when no match of the rule there applies,
 * so the first applicable match found in worklist order is the one a full scan would find, and
 * folding a graph of N layers takes time linear in N.
 *
 * Termination: every application must strictly decrease, lexicographically,
 *   (number of nodes,
 *    parameter values held by norm-like nodes,
 *    sum over norm-like nodes of how many nodes come after them in the node order)
 * a well-founded measure: merging and folding remove nodes; turning a BatchNorm into the shift it
 * leaves, or a norm into its affine-free form, drops norm parameters; commuting a scale past an
 * activation moves it later. An application that does not decrease it is a FoldCycleError
 * naming the rule, so a rule set can never loop. The measure is updated from the nodes a fold
 * removes and adds (distanceThrough), not recomputed.
 *
 * Rounding: every param of the folded graph is its exact (float64) value rounded to float32 once,
 * however many folds composed it (apply.ts keeps the exact values of the nodes folds produce).
 *
 * The result is validated (validateGraph) and stays trainable: folded layers are ordinary conv2d /
 * linear nodes with weights, biases and tap biases that compileGraph turns into variables.
 */
import type { Rule } from '../algebra/rule.ts';
import type { Graph, Node, ParamTensor } from '../ir/graph.ts';
import { validateGraph } from '../ir/validate.ts';
import { countParams } from '../report/summary.ts';
import { ALL_RULES } from '../rules/index.ts';
import { applyMatch, type Exact, type FoldRecord, type Produced } from './apply.ts';
import { bypassDropout } from './bypass-dropout.ts';
import { reasonsLeft } from './diagnose.ts';
import { FoldCycleError, FoldProbeError, FoldRuleError } from './errors.ts';
import { LiveGraph, NORM_LIKE_OPS } from './graph-index.ts';
import { describeFold, matchAt, type FoldMode, type Match, type Refusal } from './match.ts';
import { probeFold, type FoldSite, type ProbeLevel } from './probe.ts';
import type { FoldReport, OpaqueLayer } from './report.ts';

export interface FoldOptions {
  /** 'eval' (default) folds BatchNorms with their running statistics; 'train' only frozen ones. */
  readonly mode?: FoldMode;
  /** Default: ALL_RULES (src/rules). */
  readonly rules?: readonly Rule[];
  /** Rules deliberately left out of `rules`, with why: the report names them where they would fold. */
  readonly withheld?: readonly WithheldRule[];
  /**
   * Check the folded graph against the original (probe.ts): 'fast' (default; `true` too) checks
   * each fold locally in float64 and the whole network once in float32 on the current backend;
   * 'full' checks the whole network in float64 as well; 'off' (or `false`) skips the check.
   */
  readonly probe?: boolean | ProbeLevel;
  /** Seed of the probe input (default 0). */
  readonly seed?: number;
  /** Called after each fold and each probe step, e.g. to draw a progress bar. */
  readonly onProgress?: (progress: FoldProgress) => void;
}

export interface FoldProgress {
  /** 'fold': a rule was applied (how many folds there will be is known only at the end). */
  readonly phase: 'fold' | 'probe';
  /** Folds applied, or probe steps done. */
  readonly done: number;
  /** Probe steps in all; absent while folding. */
  readonly total?: number;
  /** What was just done: "conv-bn on conv1 -> bn1", "float32 run of the folded network on wasm". */
  readonly detail: string;
}

export interface WithheldRule {
  readonly rule: Rule;
  readonly why: string;
}

export interface FoldResult {
  readonly graph: Graph;
  readonly report: FoldReport;
}

type Measure = readonly [nodes: number, normParams: number, normDistance: number];

const normParamsOf = (node: Node): number =>
  NORM_LIKE_OPS.has(node.op) ? (Object.values(node.params) as (ParamTensor | undefined)[]).reduce((sum, p) => sum + (p?.data.length ?? 0), 0) : 0;

function measureOf(graph: Graph): Measure {
  let normParams = 0;
  let normDistance = 0;
  graph.nodes.forEach((node, i) => {
    if (!NORM_LIKE_OPS.has(node.op)) return;
    normParams += normParamsOf(node);
    normDistance += graph.nodes.length - 1 - i;
  });
  return [graph.nodes.length, normParams, normDistance];
}

/**
 * What the nodes of `changed` contribute to the norm distance, i.e. to the number of pairs
 * (norm-like a, any b) with a before b: the pairs with at least one node in `changed`. The rest of
 * the graph keeps its order, so a fold changes the measure by the difference of this before and
 * after it, computed in O(|changed| log N).
 */
function distanceThrough(changed: readonly Node[], live: LiveGraph): number {
  const places = changed.map((node) => ({ node, ...live.before(node) })).sort((a, b) => a.nodes - b.nodes);
  let pairs = 0;
  let normsSoFar = 0;
  for (const { node, nodes, norms } of places) {
    const norm = NORM_LIKE_OPS.has(node.op);
    // norm-like nodes before it, and (for a norm) nodes after it; pairs inside `changed` counted twice
    pairs += norms + (norm ? live.size - 1 - nodes : 0) - normsSoFar;
    if (norm) normsSoFar++;
  }
  return pairs;
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
  /**
   * The exact param values of every node a fold produced and no later fold removed, by name:
   * later folds on those nodes start from them, so each param is rounded to float32 once.
   */
  readonly exact: Map<string, Exact>;
}

/**
 * One rule's pending slots, smallest first (a binary heap of slot numbers). A slot not pending has
 * no applicable match of the rule at any of its nodes; a fold makes the slots around it pending
 * again (markAround). Only slots with a node that can start the rule's pattern are ever pending.
 */
class Worklist {
  private readonly heap: number[];
  private readonly pending: Uint8Array;

  /** `initial`: ascending, which is already a heap. */
  constructor(slots: number, initial: number[]) {
    this.heap = initial;
    this.pending = new Uint8Array(slots);
    for (const slot of initial) this.pending[slot] = 1;
  }

  peek(): number | undefined {
    return this.heap[0];
  }

  /** Removes the smallest slot: it has no applicable match. */
  pop(): void {
    const heap = this.heap;
    this.pending[heap[0]] = 0;
    const end = heap.pop() as number;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const child = left + 1 < heap.length && heap[left + 1] < heap[left] ? left + 1 : left;
      if (heap[child] >= end) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = end;
  }

  push(slot: number): void {
    if (this.pending[slot] === 1) return;
    this.pending[slot] = 1;
    const heap = this.heap;
    let i = heap.length;
    heap.push(slot);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent] <= slot) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = slot;
  }
}

interface Step {
  readonly match: Match;
  readonly replacement: readonly Produced[];
  readonly record: FoldRecord;
}

/**
 * The first applicable fold in rule order, then node order: each rule's pending slots are tried
 * smallest first, which finds the same fold as trying every node of the graph, because a slot
 * stops being pending only when none of its nodes has an applicable match of the rule.
 */
function firstFold(live: LiveGraph, rules: readonly Rule[], mode: FoldMode, search: Search, pending: readonly Worklist[]): Step | undefined {
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r];
    const work = pending[r];
    for (let slot = work.peek(); slot !== undefined; slot = work.peek()) {
      for (const start of live.nodesIn(slot)) {
        for (const outcome of matchAt(rule, start, live, mode)) {
          if (outcome.kind !== 'match') continue;
          const key = search.ids.key(rule, outcome.match.nodes);
          if (search.refused.has(key)) continue;
          const applied = applyMatch(outcome.match, live, search.exact);
          if (applied.kind === 'applied') return { match: outcome.match, replacement: applied.replacement, record: applied.record };
          search.refused.set(key, applied.refusal);
        }
      }
      work.pop();
    }
  }
  return undefined;
}

/**
 * Makes pending again every slot whose matches a fold may have changed. A match starting at a node
 * depends on the nodes of its chain and their consumer lists; a fold changes the nodes it puts in
 * (the replacement and the rewired consumers of the last matched node) and the consumer lists of
 * their inputs. A chain reaching a changed node starts at most (pattern length - 1) inputs above
 * it, and a chain through a removed node reaches the replacement's first node the same way. Below
 * the changed nodes nothing is different: chains run from producers to consumers.
 */
function markAround(changed: readonly Node[], live: LiveGraph, rules: readonly Rule[], pending: readonly Worklist[]): void {
  const reach = Math.max(...rules.map((r) => r.pattern.length - 1));
  const depth = new Map<Node, number>(changed.map((n) => [n, 0]));
  const queue = [...changed];
  for (let k = 0; k < queue.length; k++) {
    const node = queue[k];
    const d = depth.get(node) as number;
    if (d === reach) continue;
    for (const input of node.inputs) {
      const producer = live.byName.get(input);
      if (producer === undefined || depth.has(producer)) continue;
      depth.set(producer, d + 1);
      queue.push(producer);
    }
  }
  for (const [node, d] of depth) {
    const slot = live.slotOfNode(node);
    rules.forEach((rule, r) => {
      if (d < rule.pattern.length && rule.pattern[0].ops.includes(node.op)) pending[r].push(slot);
    });
  }
}

/** Every refusal on the final graph: structural ones found again, value ones from memory. */
function finalRefusals(live: LiveGraph, nodes: readonly Node[], rules: readonly Rule[], mode: FoldMode, search: Search): Refusal[] {
  const refusals: Refusal[] = [];
  const remembered = (match: Match): Refusal => {
    const refusal = search.refused.get(search.ids.key(match.rule, match.nodes));
    if (refusal !== undefined) return refusal;
    // At a fixpoint every match was tried and refused; evaluating it again says why.
    const outcome = applyMatch(match, live, search.exact);
    if (outcome.kind === 'refusal') return outcome.refusal;
    throw new FoldCycleError(`rule '${match.rule.name}' still applies to ${match.nodes.map((n) => n.name).join(' -> ')} after the fixpoint`);
  };
  for (const rule of rules) {
    for (const start of nodes) {
      for (const outcome of matchAt(rule, start, live, mode)) {
        refusals.push(outcome.kind === 'refusal' ? outcome.refusal : remembered(outcome.match));
      }
    }
  }
  return refusals;
}

function probeLevel(option: FoldOptions['probe']): ProbeLevel {
  if (option === undefined || option === true) return 'fast';
  if (option === false) return 'off';
  if (option === 'fast' || option === 'full' || option === 'off') return option;
  throw new FoldProbeError(`probe must be 'fast', 'full' or 'off' (or a boolean), got '${String(option)}'`);
}

/**
 * A structural match, on the final graph, of a rule the caller withheld (e.g. the tap-bias rules
 * for a Layers output): the report says which rule would have folded the node, and why it was not used.
 */
function withheldMatches(live: LiveGraph, nodes: readonly Node[], withheld: readonly WithheldRule[], mode: FoldMode): Refusal[] {
  return withheld.flatMap(({ rule, why }) =>
    nodes.flatMap((start) =>
      matchAt(rule, start, live, mode).flatMap((outcome) =>
        outcome.kind === 'match' ? [{ rule: rule.name, nodes: outcome.match.nodes.map((n) => n.name), reason: `${describeFold(outcome.match.nodes)} needs this rule, withheld here: ${why}` }] : [],
      ),
    ),
  );
}

const sum = (nodes: readonly Node[], f: (node: Node) => number): number => nodes.reduce((total, node) => total + f(node), 0);

/** Folds normalisation into neighbouring convs and linears with `rules`, to a fixpoint. */
export function foldGraph(original: Graph, opts: FoldOptions = {}): FoldResult {
  const mode = opts.mode ?? 'eval';
  const rules = opts.rules ?? ALL_RULES;
  const level = probeLevel(opts.probe);
  const originalShapes = validateGraph(original);
  checkRules(rules);
  const bypassed = mode === 'eval' ? bypassDropout(original) : { graph: original, records: [] };
  const graph = bypassed.graph;
  const shapes = graph === original ? originalShapes : validateGraph(graph, { checkValuesOf: new Set() });

  const search: Search = { ids: new NodeIds(), refused: new Map(), exact: new Map() };
  const folds: FoldRecord[] = [...bypassed.records];
  const sites: FoldSite[] = [];
  const live = new LiveGraph(graph, shapes);
  const pending = rules.map((rule) => {
    const starts = graph.nodes.flatMap((node, slot) => (rule.pattern[0].ops.includes(node.op) ? [slot] : []));
    return new Worklist(live.slotCount, starts);
  });
  let measure = measureOf(graph);
  for (;;) {
    const step = firstFold(live, rules, mode, search, pending);
    if (step === undefined) break;
    const matched = step.match.nodes;
    const produced = step.replacement.map((p) => p.node);
    const distanceBefore = distanceThrough(matched, live);
    const inputShape = live.shapes.get(matched[0].inputs[0]) ?? [];
    const changed = live.replace(matched, step.replacement);
    for (const node of matched) search.exact.delete(node.name);
    for (const { node, exact } of step.replacement) search.exact.set(node.name, exact);
    const next: Measure = [
      live.size,
      measure[1] - sum(matched, normParamsOf) + sum(produced, normParamsOf),
      measure[2] - distanceBefore + distanceThrough(produced, live),
    ];
    if (!decreases(next, measure)) {
      throw new FoldCycleError(
        `rule '${step.record.rule}' on ${step.record.matched.map((m) => m.name).join(' -> ')} did not make progress ` +
          `(nodes, norm params, norm distance went from [${measure.join(', ')}] to [${next.join(', ')}]); ` +
          'a rule set must not be able to loop',
      );
    }
    sites.push({ fold: folds.length, rule: step.record.rule, matched, produced, inputShape });
    folds.push(step.record);
    opts.onProgress?.({ phase: 'fold', done: folds.length, detail: `${step.record.rule} on ${matched.map((n) => n.name).join(' -> ')}` });
    measure = next;
    markAround(changed, live, rules, pending);
  }
  const current = live.graph();
  // Values were checked on the way in, and each fold checks the values it computes (apply.ts).
  validateGraph(current, { checkValuesOf: new Set() });

  const refusals = [...finalRefusals(live, current.nodes, rules, mode, search), ...withheldMatches(live, current.nodes, opts.withheld ?? [], mode)];
  const left = current.nodes
    .filter((node) => NORM_LIKE_OPS.has(node.op))
    .map((node) => ({ name: node.name, op: node.op, reasons: reasonsLeft(node, live, mode, refusals) }));
  const opaque = opaqueLayers(current);
  const report: FoldReport = {
    mode,
    rules: rules.map((r) => r.name),
    folds,
    left,
    nodesBefore: original.nodes.length,
    nodesAfter: current.nodes.length,
    paramsBefore: countParams(original),
    paramsAfter: countParams(current),
    ...(opaque.length === 0 ? {} : { opaque }),
    ...(level === 'off'
      ? {}
      : {
          probe: probeFold(graph, current, sites, {
            level,
            mode,
            seed: opts.seed ?? 0,
            onStep: (detail, done, total) => opts.onProgress?.({ phase: 'probe', done, total, detail }),
          }),
        }),
  };
  return { graph: current, report };
}

/** The graph's opaque layers for the report; for one whose other outputs are read, which outputs the graph reads. */
function opaqueLayers(graph: Graph): OpaqueLayer[] {
  const outputs = new Set(graph.outputs);
  return graph.nodes.flatMap((node) => {
    if (node.op !== 'opaque') return [];
    const selected = graph.nodes.flatMap((n) => (n.op === 'opaqueOutput' && n.inputs[0] === node.name ? [n.attrs.index] : []));
    if (selected.length === 0) return [{ name: node.name, className: node.attrs.className }];
    const readsFirst = outputs.has(node.name) || graph.nodes.some((n) => n.op !== 'opaqueOutput' && n.inputs.includes(node.name));
    const outputsRead = [...new Set([...(readsFirst ? [0] : []), ...selected])].sort((a, b) => a - b);
    return [{ name: node.name, className: node.attrs.className, outputsRead }];
  });
}
