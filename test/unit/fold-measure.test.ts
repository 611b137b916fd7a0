/**
 * The termination measure (nodes, norm params, norm distance) is updated from the nodes each fold
 * removes and adds, not recomputed (src/fold/engine.ts). These cases move a scale forward through
 * a ReLU (scale-relu-commute) and then back (a rule written here that undoes it), with unrelated
 * nodes interleaved in the node order so that positions are not neighbours, and check the numbers
 * the FoldCycleError reports against the measure computed here from the definition on the node
 * orders before and after, written out by hand.
 */
import { describe, expect, it } from 'vitest';
import { affineScale, affineShift, num } from '../../src/algebra/expr.ts';
import type { Rule } from '../../src/algebra/rule.ts';
import { FoldCycleError, foldGraph } from '../../src/fold/index.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { OpKind } from '../../src/ir/graph.ts';
import { scaleReluCommute } from '../../src/rules/index.ts';

const NORM_LIKE: ReadonlySet<OpKind> = new Set<OpKind>(['scaleShift', 'normalize']);
const C = 3;

/** [nodes, norm params, sum over norm-like nodes of how many nodes follow them], by definition. */
function measure(order: readonly OpKind[]): [number, number, number] {
  let params = 0;
  let distance = 0;
  order.forEach((op, i) => {
    if (!NORM_LIKE.has(op)) return;
    // a scaleShift holds scale and shift; normalize holds its constants in attrs
    params += op === 'scaleShift' ? 2 * C : 0;
    distance += order.length - 1 - i;
  });
  return [order.length, params, distance];
}

/** relu(s*x) -> s*relu(x) undone: a non-negative scale moved back before the ReLU. */
const scaleBack: Rule = {
  name: 'scale-back',
  statement: 's*act(x) = act(s*x)',
  pattern: [
    { role: 'act', ops: ['relu'] },
    { role: 'sc', ops: ['scaleShift'] },
  ],
  replacement: [
    { role: 'sc', op: 'scaleShift', params: { scale: affineScale('sc'), shift: num(0) } },
    { role: 'act', attrsFrom: 'act', params: {} },
  ],
  conditions: [
    { kind: 'zero', expr: affineShift('sc'), what: 'shift' },
    { kind: 'nonNegative', expr: affineScale('sc'), what: 'scale' },
  ],
};

const vector = (values: number[]) => ({ shape: [C], data: Float32Array.from(values) });
const shift = (values: number[]) => ({ scale: vector([1, 2, 3]), shift: vector(values) });

/**
 * x, pre, ..., post, out: pre and post are scaleShifts nothing folds (non-zero shifts), 'side'
 * and 'side2' a branch of x listed between the scale and the ReLU.
 */
function graph(scaleFirst: boolean) {
  const b = new GraphBuilder();
  const x = b.addInput([1, C, 2, 2], 'x');
  const pre = b.addNode({ op: 'scaleShift', inputs: [x], name: 'pre', attrs: { numChannels: C }, params: shift([1, 1, 1]) });
  const scale = (input: string) => b.addNode({ op: 'scaleShift', inputs: [input], name: 'sc', attrs: { numChannels: C }, params: shift([0, 0, 0]) });
  const side = () => b.addNode({ op: 'relu', inputs: [x], name: 'side', attrs: {} });
  let last: string;
  if (scaleFirst) {
    const sc = scale(pre);
    side();
    last = b.addNode({ op: 'relu', inputs: [sc], name: 'act', attrs: {} });
  } else {
    const act = b.addNode({ op: 'relu', inputs: [pre], name: 'act', attrs: {} });
    side();
    last = scale(act);
  }
  const side2 = b.addNode({ op: 'sigmoid', inputs: ['side'], name: 'side2', attrs: {} });
  const post = b.addNode({ op: 'scaleShift', inputs: [last], name: 'post', attrs: { numChannels: C }, params: shift([2, 2, 2]) });
  return b.build([b.addNode({ op: 'add', inputs: [post, side2], name: 'out', attrs: {} })]);
}

describe('the termination measure, updated fold by fold', () => {
  it('a scale moved forward past nodes in between decreases it; moving it back is refused with the exact numbers', () => {
    const g = graph(true);
    expect(g.nodes.map((n) => n.name)).toEqual(['x', 'pre', 'sc', 'side', 'act', 'side2', 'post', 'out']);
    // scale-relu-commute puts [act, sc] where act was; scale-back then puts [sc, act] where sc is
    const forward = measure(['input', 'scaleShift', 'relu', 'relu', 'scaleShift', 'sigmoid', 'scaleShift', 'add']);
    const back = measure(['input', 'scaleShift', 'relu', 'scaleShift', 'relu', 'sigmoid', 'scaleShift', 'add']);
    expect(forward[2]).toBeLessThan(measure(g.nodes.map((n) => n.op))[2]);
    expect(() => foldGraph(g, { rules: [scaleReluCommute, scaleBack], probe: false })).toThrow(FoldCycleError);
    expect(() => foldGraph(g, { rules: [scaleReluCommute, scaleBack], probe: false })).toThrow(
      `rule 'scale-back' on act -> sc did not make progress (nodes, norm params, norm distance went from [${forward.join(', ')}] to [${back.join(', ')}])`,
    );
  });

  it('a scale moved back first is refused at once, from the measure of the graph as given', () => {
    const g = graph(false);
    expect(g.nodes.map((n) => n.name)).toEqual(['x', 'pre', 'act', 'side', 'sc', 'side2', 'post', 'out']);
    const before = measure(g.nodes.map((n) => n.op));
    const after = measure(['input', 'scaleShift', 'relu', 'scaleShift', 'relu', 'sigmoid', 'scaleShift', 'add']);
    expect(() => foldGraph(g, { rules: [scaleBack], probe: false })).toThrow(
      `rule 'scale-back' on act -> sc did not make progress (nodes, norm params, norm distance went from [${before.join(', ')}] to [${after.join(', ')}])`,
    );
  });

  it('a rewrite that adds a norm-like node without params is refused with the exact numbers', () => {
    // normalize keeps its constants in attrs: same node count, same norm params, one more norm
    const identityNormalize: Rule = {
      name: 'relu-to-normalize',
      statement: 'not an identity; only its measure matters here',
      pattern: [{ role: 'act', ops: ['relu'] }],
      replacement: [{ role: 'n', op: 'normalize', attrs: { mean: [0, 0, 0], std: [1, 1, 1] }, params: {} }],
      conditions: [],
    };
    const g = graph(true);
    const before = measure(g.nodes.map((n) => n.op));
    const after = measure(g.nodes.map((n) => (n.name === 'side' ? 'normalize' : n.op)));
    expect(() => foldGraph(g, { rules: [identityNormalize], probe: false })).toThrow(
      `rule 'relu-to-normalize' on side did not make progress (nodes, norm params, norm distance went from [${before.join(', ')}] to [${after.join(', ')}])`,
    );
  });

  it('the forward move alone reaches a fixpoint with the scale after the ReLU', () => {
    const { graph: folded, report } = foldGraph(graph(true), { rules: [scaleReluCommute], probe: false });
    expect(report.folds.map((f) => f.rule)).toEqual(['scale-relu-commute']);
    expect(folded.nodes.map((n) => `${n.name}:${n.op}`)).toEqual(['x:input', 'pre:scaleShift', 'side:relu', 'act:relu', 'sc:scaleShift', 'side2:sigmoid', 'post:scaleShift', 'out:add']);
  });
});
