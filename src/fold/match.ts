/**
 * Matching a rule's pattern chain anywhere in the DAG (inside residual branches, before or after
 * concats): a chain n0 -> n1 -> ... -> nk where n_i's op is one of pattern[i].ops, every n_{i+1}
 * reads n_i as its only input, and every INNER node (n0 .. n_{k-1}) has exactly one consumer and
 * is not a graph output. The last node may feed anything: its consumers are rewired.
 *
 * A chain whose ops fit but which breaks one of those structural requirements, or a structural
 * condition of the rule, is a refusal with a reason naming the nodes, not a silent miss:
 *   noPadding / explicitPadding   on the role's resolved padding. 'same' is resolved to explicit
 *       TensorFlow padding (src/reference/padding.ts) per axis when it does not depend on the
 *       size (stride 1) or the input dim is literal; otherwise the condition cannot be decided;
 *   inferenceStatistics           eval mode, or a frozen batchNorm / ibn;
 *   hasParam                      the node carries the parameter.
 * Value conditions need parameter values and are checked when the fold is evaluated (apply.ts).
 * Nothing here knows any particular rule.
 */
import type { Condition, Rule } from '../algebra/rule.ts';
import type { Dim, Node, Pair, Padding2d } from '../ir/graph.ts';
import { resolveSamePadding } from '../reference/padding.ts';
import { label, NORM_LIKE_OPS, FOLD_TARGET_OPS, type GraphIndex } from './graph-index.ts';

export type FoldMode = 'eval' | 'train';
export type ExplicitPadding = readonly [top: number, bottom: number, left: number, right: number];

export interface Match {
  readonly rule: Rule;
  /** The matched nodes in pattern order. */
  readonly nodes: readonly Node[];
  readonly roles: Readonly<Record<string, Node>>;
  /** Roles whose 'same' padding was resolved to decide a padding condition: their explicit padding. */
  readonly resolvedPadding: Readonly<Record<string, ExplicitPadding>>;
}

export interface Refusal {
  readonly rule: string;
  /** Names of the nodes the rule would have rewritten. */
  readonly nodes: readonly string[];
  readonly reason: string;
  /** The rule simply does not apply to such a node (a hasParam condition): not worth reporting. */
  readonly quiet?: true;
}

export type MatchOutcome = { readonly kind: 'match'; readonly match: Match } | { readonly kind: 'refusal'; readonly refusal: Refusal };

/** Every chain starting at `start` whose ops fit the pattern (single-input links only). */
function chainsFrom(rule: Rule, start: Node, index: GraphIndex): Node[][] {
  if (!rule.pattern[0].ops.includes(start.op)) return [];
  let chains: Node[][] = [[start]];
  for (const step of rule.pattern.slice(1)) {
    chains = chains.flatMap((chain) => {
      const last = chain[chain.length - 1];
      const next = (index.consumers.get(last.name) ?? []).filter(
        (c) => step.ops.includes(c.op) && c.inputs.length === 1 && c.inputs[0] === last.name,
      );
      return next.map((c) => [...chain, c]);
    });
  }
  return chains;
}

/** "folding bn1 into conv1", "merging bn1 and bn2": what the rewrite would do, for messages. */
export function describeFold(chain: readonly Node[]): string {
  const target = chain.find((n) => FOLD_TARGET_OPS.has(n.op) && !NORM_LIKE_OPS.has(n.op));
  const folded = chain.filter((n) => NORM_LIKE_OPS.has(n.op) && n !== target);
  if (target !== undefined && folded.length > 0) return `folding ${folded.map((n) => n.name).join(' and ')} into ${target.name}`;
  return `rewriting ${chain.map((n) => n.name).join(' -> ')}`;
}

/** Why an inner node of the chain may not be rewritten, if it may not. */
function innerProblem(chain: readonly Node[], index: GraphIndex): string | undefined {
  for (const node of chain) {
    const tied = index.tiedWith.get(node.name);
    if (tied !== undefined) {
      return `${node.name} shares its parameters with ${tied.join(', ')} (one layer used ${tied.length + 1} times); ${describeFold(chain)} would change only this copy`;
    }
  }
  for (const node of chain.slice(0, -1)) {
    const others = (index.consumers.get(node.name) ?? []).filter((c) => !chain.includes(c));
    if (others.length > 0) {
      return `${node.name}'s output also feeds ${others.map((c) => c.name).join(', ')}; ${describeFold(chain)} would change that path too`;
    }
    if (index.outputs.has(node.name)) return `${node.name} is a graph output; ${describeFold(chain)} would change that output`;
  }
  return undefined;
}

/** One axis of a 'same' padding, when it can be known: at stride 1 it is D(K-1) whatever the size. */
function samePaddingAxis(size: Dim | undefined, kernel: number, stride: number, dilation: number): Pair | undefined {
  if (stride === 1) return resolveSamePadding(1, kernel, 1, dilation);
  if (typeof size === 'number') return resolveSamePadding(size, kernel, stride, dilation);
  return undefined;
}

/** The node's zero padding as [top, bottom, left, right], or why it cannot be known here. */
export function resolvedPaddingOf(node: Node, index: GraphIndex): { padding: ExplicitPadding } | { reason: string } {
  switch (node.op) {
    case 'conv2d':
    case 'weightNormConv2d':
    case 'maxPool2d':
    case 'avgPool2d': {
      const padding: Padding2d = node.attrs.padding;
      if (padding === 'valid') return { padding: [0, 0, 0, 0] };
      if (padding !== 'same') return { padding };
      const dilation: Pair = 'dilation' in node.attrs ? node.attrs.dilation : [1, 1];
      const shape = index.shapes.get(node.inputs[0]) ?? [];
      // A sequence [N, C, L] is read as the image [N, C, 1, L].
      const [height, width] = shape.length === 3 ? [1, shape[2]] : [shape[2], shape[3]];
      const rows = samePaddingAxis(height, node.attrs.kernel[0], node.attrs.stride[0], dilation[0]);
      const cols = samePaddingAxis(width, node.attrs.kernel[1], node.attrs.stride[1], dilation[1]);
      if (rows === undefined || cols === undefined) {
        const which = rows === undefined ? `height ${String(height)}` : `width ${String(width)}`;
        return {
          reason:
            `${label(node)} pads 'same' at stride [${node.attrs.stride.join(', ')}] on an input of symbolic ${which}: ` +
            'the amount depends on the size; fold at literal sizes',
        };
      }
      return { padding: [rows[0], rows[1], cols[0], cols[1]] };
    }
    case 'convTranspose2d': {
      // A transposed conv crops rather than pads; it has no zero padding of its input.
      const [p0, p1] = node.attrs.padding;
      const [o0, o1] = node.attrs.outputPadding;
      return { padding: [p0, p0 + o0, p1, p1 + o1] };
    }
    default:
      return { padding: [0, 0, 0, 0] };
  }
}

/** Why the role's statistics are not fixed, if they are not. */
export function statisticsProblem(node: Node, mode: FoldMode): string | undefined {
  switch (node.op) {
    case 'batchNorm':
    case 'ibn':
      if (node.op === 'batchNorm' && node.attrs.trackRunningStats === false) {
        return `${label(node)} keeps no running statistics (trackRunningStats: false): it normalises with batch statistics at inference too`;
      }
      if (mode === 'eval' || node.attrs.frozen) return undefined;
      return `${label(node)} normalises with batch statistics in train mode (fold in eval mode, or freeze it)`;
    case 'batchRenorm':
    case 'switchableNorm':
      return mode === 'eval' ? undefined : `${label(node)} normalises with batch statistics in train mode (fold in eval mode)`;
    case 'layerNorm':
    case 'instanceNorm':
    case 'groupNorm':
      return `${label(node)} normalises each input with that input's own statistics`;
    default:
      return undefined;
  }
}

function structuralProblem(condition: Condition, roles: Readonly<Record<string, Node>>, index: GraphIndex, mode: FoldMode,
  resolved: Record<string, ExplicitPadding>): string | undefined {
  switch (condition.kind) {
    case 'noPadding':
    case 'explicitPadding': {
      const node = roles[condition.role];
      const result = resolvedPaddingOf(node, index);
      if ('reason' in result) return result.reason;
      if (node.op !== 'convTranspose2d' && typeof (node.attrs as { padding?: unknown }).padding === 'string') {
        resolved[condition.role] = result.padding;
      }
      if (condition.kind === 'noPadding' && result.padding.some((p) => p !== 0)) {
        return `${label(node)} zero-pads [${result.padding.join(', ')}] (top, bottom, left, right)`;
      }
      return undefined;
    }
    case 'inferenceStatistics':
      return statisticsProblem(roles[condition.role], mode);
    case 'perChannelAffine': {
      const node = roles[condition.role];
      if (node.op !== 'layerNorm' || node.attrs.normalizedShape.length === 1) return undefined;
      return `${label(node)} has element-wise gamma and beta over [${node.attrs.normalizedShape.join(', ')}] (C, H, W), which vary with the position`;
    }
    case 'hasParam': {
      const role = condition.ref.slice(0, condition.ref.indexOf('.'));
      const name = condition.ref.slice(condition.ref.indexOf('.') + 1);
      const node = roles[role];
      const has = (node.params as Readonly<Record<string, unknown>>)[name] !== undefined;
      return has ? undefined : `${label(node)} has no ${name}`;
    }
    default:
      return undefined;
  }
}

/** Structural conditions, most fundamental first: the first that fails is the reason given. */
const CHECK_ORDER: readonly Condition['kind'][] = ['inferenceStatistics', 'hasParam', 'perChannelAffine', 'explicitPadding', 'noPadding'];

/** The rule's matches and refusals for chains starting at `start`. */
export function matchAt(rule: Rule, start: Node, index: GraphIndex, mode: FoldMode): MatchOutcome[] {
  return chainsFrom(rule, start, index).map((chain): MatchOutcome => {
    const nodes = chain.map((n) => n.name);
    const refuse = (reason: string, quiet = false): MatchOutcome => ({
      kind: 'refusal',
      refusal: quiet ? { rule: rule.name, nodes, reason, quiet } : { rule: rule.name, nodes, reason },
    });
    const inner = innerProblem(chain, index);
    if (inner !== undefined) return refuse(inner);
    const roles: Record<string, Node> = {};
    rule.pattern.forEach((p, i) => (roles[p.role] = chain[i]));
    const resolvedPadding: Record<string, ExplicitPadding> = {};
    for (const condition of [...rule.conditions].sort((a, b) => CHECK_ORDER.indexOf(a.kind) - CHECK_ORDER.indexOf(b.kind))) {
      const problem = structuralProblem(condition, roles, index, mode, resolvedPadding);
      if (problem !== undefined) return refuse(problem, condition.kind === 'hasParam');
    }
    return { kind: 'match', match: { rule, nodes: chain, roles, resolvedPadding } };
  });
}
