/**
 * A graph that contains a rule's pattern, drawn from the rule itself: for each pattern role one of
 * its ops, a node of that op fitting the shape before it (layers.ts), and a little context around
 * the chain (a producer before it, a consumer or a second use of its result after it). A new rule
 * is covered without new code as long as layers.ts can draw its ops and `hintsFor` understands
 * its conditions; otherwise `ruleChain` throws, naming what is missing.
 */
import fc from 'fast-check';
import type { Condition, Rule } from '../../src/algebra/rule.ts';
import type { VExpr } from '../../src/algebra/expr.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph, OpKind } from '../../src/ir/graph.ts';
import { DRAWABLE_OPS, RANK2_OPS, RANK4_OPS, nodeDraft, outputShape, type DraftOptions, type Hints, type LiteralShape, type NodeDraft } from './layers.ts';

type MutableHints = { -readonly [K in keyof Hints]: Hints[K] };

export class MissingArbitraryError extends Error {
  override readonly name = 'MissingArbitraryError';
}

function affineRoleOf(expr: VExpr, part: 'scale' | 'shift', rule: Rule, condition: Condition): string {
  if (expr.kind === 'affine' && expr.part === part) return expr.role;
  throw new MissingArbitraryError(`rule '${rule.name}': no arbitrary satisfies condition ${JSON.stringify(condition)}`);
}

/** What each role's draw must respect for the rule's conditions to hold. */
export function hintsFor(rule: Rule): Record<string, Hints> {
  const hints: Record<string, MutableHints> = Object.fromEntries(rule.pattern.map((p) => [p.role, {}]));
  const at = (role: string): MutableHints => {
    const h = hints[role];
    if (h === undefined) throw new MissingArbitraryError(`rule '${rule.name}': a condition names role '${role}', which is not in its pattern`);
    return h;
  };
  for (const c of rule.conditions) {
    switch (c.kind) {
      case 'noPadding':
        at(c.role).padding = 'none';
        break;
      case 'explicitPadding':
        // 'same' is resolved from literal sizes before matching, so every padding form qualifies.
        break;
      case 'inferenceStatistics':
        // the per-rule properties fold in eval mode
        break;
      case 'perChannelAffine':
        at(c.role).perChannelAffine = true;
        break;
      case 'hasParam':
        if (!c.ref.endsWith('.gamma') && !c.ref.endsWith('.beta')) {
          throw new MissingArbitraryError(`rule '${rule.name}': no arbitrary guarantees parameter '${c.ref}'`);
        }
        at(c.ref.slice(0, c.ref.indexOf('.'))).affine = true;
        break;
      case 'nonNegative':
        at(affineRoleOf(c.expr, 'scale', rule, c)).nonNegativeScale = true;
        break;
      case 'zero':
        at(affineRoleOf(c.expr, 'shift', rule, c)).zeroShift = true;
        break;
      case 'nonZero':
        // weight-norm directions: layers.ts draws every row of v non-zero
        if (c.expr.kind !== 'rowNorm') throw new MissingArbitraryError(`rule '${rule.name}': no arbitrary satisfies ${JSON.stringify(c)}`);
        break;
      case 'notAllOne':
        // a progress guard; random values are not all one
        break;
    }
  }
  return hints;
}

const RANK_CHANGE: Readonly<Partial<Record<OpKind, 2 | 4>>> = {
  conv2d: 4,
  weightNormConv2d: 4,
  convTranspose2d: 4,
  maxPool2d: 4,
  avgPool2d: 4,
  linear: 2,
  weightNormLinear: 2,
  flatten: 2,
};

/** Input ranks an op sequence can start from (ops that take rank 2 or 4 keep it). */
function startRanks(ops: readonly OpKind[]): (2 | 4)[] {
  return ([2, 4] as const).filter((start) => {
    let rank: 2 | 4 = start;
    for (const op of ops) {
      if ((RANK4_OPS.has(op) || op === 'flatten') && rank !== 4) return false;
      if (RANK2_OPS.has(op) && rank !== 2) return false;
      // globalAvgPool is drawn with keepDims either way; only rank-fixing ops are allowed after it here
      rank = RANK_CHANGE[op] ?? (op === 'globalAvgPool' ? 4 : rank);
    }
    return true;
  });
}

/** Every choice of one op per role whose ranks fit together (groupNorm cannot feed a linear). */
function feasibleOpChoices(rule: Rule): OpKind[][] {
  let choices: OpKind[][] = [[]];
  for (const p of rule.pattern) choices = choices.flatMap((prefix) => p.ops.map((op) => [...prefix, op]));
  const feasible = choices.filter((ops) => startRanks(ops).length > 0);
  if (feasible.length === 0) throw new MissingArbitraryError(`rule '${rule.name}': no op choice gives a valid chain`);
  return feasible;
}

export interface ChainCase {
  readonly graph: Graph;
  /** Node names of the pattern's roles, in pattern order. */
  readonly roles: readonly string[];
  readonly inputShape: LiteralShape;
  readonly inputSeed: number;
}

export interface ChainOptions extends DraftOptions {
  readonly batch: { readonly min: number; readonly max: number };
  readonly spatial: { readonly min: number; readonly max: number };
  readonly channels: { readonly min: number; readonly max: number };
}

type Step = { readonly name: string; readonly draft: NodeDraft };

/** Draws nodes for `ops` one after another, each fitting the shape the previous produced. */
export function draftSequence(
  ops: readonly { readonly op: OpKind; readonly name: string; readonly hints: Hints }[],
  input: LiteralShape,
  options: DraftOptions,
): fc.Arbitrary<Step[]> {
  const step = (i: number, shape: LiteralShape, done: Step[]): fc.Arbitrary<Step[]> => {
    if (i === ops.length) return fc.constant(done);
    const { op, name, hints } = ops[i];
    return nodeDraft(op, shape, hints, options).chain((draft) => step(i + 1, outputShape(draft, shape), [...done, { name, draft }]));
  };
  return step(0, input, []);
}

function inputShapeArb(rank: 2 | 4, options: ChainOptions): fc.Arbitrary<number[]> {
  const n = fc.integer(options.batch);
  const c = fc.integer(options.channels);
  const s = fc.integer(options.spatial);
  return rank === 4 ? fc.tuple(n, c, s, s) : fc.tuple(n, fc.integer({ min: options.channels.min, max: options.channels.max + 3 }));
}

/** Context around the pattern: what produces its input and what consumes its output. */
type Before = 'input' | 'producer';
type After = 'output' | 'activation' | 'twoUses';

/** A graph holding one instance of `rule.pattern`, with context, ready to fold. */
export function ruleChain(rule: Rule, options: ChainOptions): fc.Arbitrary<ChainCase> {
  for (const p of rule.pattern) {
    const missing = p.ops.filter((op) => !DRAWABLE_OPS.includes(op));
    if (missing.length > 0) throw new MissingArbitraryError(`rule '${rule.name}': no arbitrary draws ${missing.join(', ')} (role '${p.role}')`);
  }
  const hints = hintsFor(rule);
  return fc
    .record({
      ops: fc.constantFrom(...feasibleOpChoices(rule)),
      before: fc.constantFrom<Before>('input', 'producer'),
      after: fc.constantFrom<After>('output', 'activation', 'twoUses'),
      rank2: fc.boolean(),
      inputSeed: fc.nat(),
    })
    .chain(({ ops, before, after, rank2, inputSeed }) => {
      const ranks = startRanks(ops);
      const rank: 2 | 4 = ranks.length === 2 ? (rank2 ? 2 : 4) : ranks[0];
      // a producer of the same rank keeps the pattern off the graph input (normalize stays first)
      const producer: OpKind | undefined =
        before === 'producer' && !ops.includes('normalize') ? (rank === 4 ? 'conv2d' : 'linear') : undefined;
      const sequence = [
        ...(producer === undefined ? [] : [{ op: producer, name: 'producer', hints: {} }]),
        ...rule.pattern.map((p, i) => ({ op: ops[i], name: p.role, hints: hints[p.role] })),
      ];
      return inputShapeArb(rank, options).chain((shape) =>
        draftSequence(sequence, shape, options).map((steps) => buildChain(steps, shape, after, inputSeed, rule)),
      );
    });
}

function buildChain(steps: readonly Step[], inputShape: LiteralShape, after: After, inputSeed: number, rule: Rule): ChainCase {
  const b = new GraphBuilder();
  let last = b.addInput(inputShape, 'x');
  for (const { name, draft } of steps) {
    last = b.addNode({ op: draft.op, inputs: [last], attrs: draft.attrs, params: draft.params, name } as never);
  }
  const outputs = [last];
  if (after !== 'output') {
    const act = b.addNode({ op: 'relu', inputs: [last], attrs: {}, name: 'consumer' });
    outputs.splice(0, 1, act);
    if (after === 'twoUses') outputs.push(last);
  }
  return { graph: b.build(outputs), roles: rule.pattern.map((p) => p.role), inputShape, inputSeed };
}
