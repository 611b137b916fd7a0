/**
 * Why a norm-like node is still in the folded graph, in words a user can act on. In order:
 *   1. its statistics depend on the input (layerNorm, instanceNorm, groupNorm, switchableNorm,
 *      ibn's InstanceNorm part): no fixed weight reproduces them;
 *   2. train mode: it normalises with batch statistics;
 *   3. every refusal a rule gave for a chain through it (another consumer of a conv's output, a
 *      negative scale before a ReLU, a symbolic size a fold needs literal...);
 *   4. unless 1 or 2 already rule folding out, what it sits between: a shift cannot move back through a ReLU,
 *      nothing moves through relu6/sigmoid/tanh or the other non-homogeneous activations,
 *      an add also sums branches it does not touch, a multiply/maximum/minimum is not linear,
 *      a resample, global max pool, transpose, reshape, repeat or opaque layer (LSTM, Embedding, a
 *      custom class: tfjs-layers runs it) or another output of one (an LSTM's returned state) no
 *      rule crosses, no conv or linear is next to it.
 */
import type { Node } from '../ir/graph.ts';
import { FOLD_TARGET_OPS, label, type GraphIndex } from './graph-index.ts';
import { statisticsProblem, type FoldMode, type Refusal } from './match.ts';

const HOMOGENEOUS = new Set(['relu', 'leakyRelu']);
/**
 * Pointwise ops no rule moves a scale or shift through. Most are not positively homogeneous
 * (elu, gelu, swish, softmax...); prelu and generalRelu with no bound and no threshold are, per
 * channel, but no rule or proof axiom covers them yet; dropout is the identity at inference but
 * draws noise in train mode.
 */
const NOT_HOMOGENEOUS = new Set(['relu6', 'sigmoid', 'tanh', 'activation', 'elu', 'generalRelu', 'prelu', 'softmax', 'logSoftmax', 'dropout']);

/**
 * Ops no rule moves a norm across, and why. Resampling (nearest, or bilinear with weights summing
 * to 1) does commute with a per-channel affine, and max pooling with a positive scale, but no rule
 * here moves one across them; a transpose, reshape or repeat changes which axis the channels are on.
 */
const NOT_CROSSED: { readonly [op: string]: string } = {
  upsample2d: 'which commutes with a per-channel scale and shift, but no rule moves one across it',
  resize2d: 'which commutes with a per-channel scale and shift, but no rule moves one across it',
  globalMaxPool: 'which commutes only with a non-negative scale, and no rule moves one across it',
  transpose: 'which moves the channel axis, so a per-channel scale and shift would not stay per channel',
  reshape: 'which regroups the values, so a per-channel scale and shift would not stay per channel',
  repeatVector: 'across which no rule moves a scale or shift',
  opaque: 'a layer shapefold carries unchanged for tfjs-layers to run, so no rule moves a scale or shift into or across it',
  opaqueOutput: 'another output of a layer shapefold carries unchanged for tfjs-layers to run, so no rule moves a scale or shift into or across it',
};

function inputStatistics(node: Node): string | undefined {
  switch (node.op) {
    case 'layerNorm':
      return `${label(node)} normalises each sample with its own mean and variance over ${node.attrs.over === 'chw' ? 'C, H and W' : 'C at each position'}, which no fixed weight reproduces${node.attrs.affine ? '' : ' (its affine part is already folded away)'}`;
    case 'instanceNorm':
      return `${label(node)} normalises each sample and channel with its own statistics over H and W, which no fixed weight reproduces${node.attrs.affine ? '' : ' (its affine part is already folded away)'}`;
    case 'groupNorm':
      return `${label(node)} normalises each sample's channel groups with their own statistics, which no fixed weight reproduces${node.attrs.affine ? '' : ' (its affine part is already folded away)'}`;
    case 'switchableNorm':
      return `${label(node)} mixes instance and layer statistics, which depend on each input`;
    case 'ibn':
      return `the InstanceNorm part of ${label(node)} (channels 0..${node.attrs.instanceChannels - 1}) normalises each sample with its own statistics`;
    default:
      return undefined;
  }
}

function uncrossable(node: Node): string {
  if (node.op === 'dropout') return 'which no rule crosses (the identity at inference, noise in train mode)';
  if (node.op === 'prelu' || node.op === 'generalRelu') return 'back through which no rule moves a scale or a shift';
  return 'which is not positively homogeneous: neither a scale nor a shift moves back through it';
}

function neighbourhood(node: Node, index: GraphIndex): string | undefined {
  const producers = node.inputs.map((name) => index.byName.get(name)).filter((n): n is Node => n !== undefined);
  const consumers = index.consumers.get(node.name) ?? [];
  const parts: string[] = [];
  const before = producers.find((p) => HOMOGENEOUS.has(p.op) || NOT_HOMOGENEOUS.has(p.op));
  if (before !== undefined && HOMOGENEOUS.has(before.op)) parts.push(`it follows ${label(before)}, back through which a shift cannot move`);
  else if (before !== undefined) parts.push(`it follows ${label(before)}, ${uncrossable(before)}`);
  const merge = consumers.find((c) => c.op === 'add' || c.op === 'concat' || c.op === 'merge' || c.op === 'concatAxis');
  if (merge !== undefined) {
    parts.push(
      merge.op === 'add' || (merge.op === 'merge' && merge.attrs.fn === 'add')
        ? `it feeds ${label(merge)}, which also sums branches it does not scale or shift, so it cannot move forward`
        : merge.op === 'merge' && merge.attrs.fn !== 'subtract' && merge.attrs.fn !== 'average'
          ? `it feeds ${label(merge)} (${merge.attrs.fn}), which is not linear in its inputs, so no shift moves past it`
          : `it feeds ${label(merge)}, past which no rule moves it`,
    );
  }
  if (before !== undefined && index.outputs.has(node.name)) parts.push('it is a graph output');
  const barrier = [...producers, ...consumers].find((n) => Object.hasOwn(NOT_CROSSED, n.op));
  if (barrier !== undefined) parts.push(`it is next to ${label(barrier)}, ${NOT_CROSSED[barrier.op]}`);
  const neighbours = [...producers, ...consumers];
  if (!neighbours.some((n) => FOLD_TARGET_OPS.has(n.op))) {
    const fed = producers.map(label).join(', ') || 'nothing';
    const feeds = consumers.map(label).join(', ') || 'nothing';
    parts.push(`no conv or linear next to it (fed by ${fed}; feeds ${feeds})`);
  }
  return parts.length === 0 ? undefined : `${label(node)}: ${parts.join('; ')}`;
}

/** The reasons, most fundamental first, that `node` was not folded. */
export function reasonsLeft(node: Node, index: GraphIndex, mode: FoldMode, refusals: readonly Refusal[]): string[] {
  const reasons: string[] = [];
  const seen = new Set<string>();
  const add = (reason: string | undefined, rule?: string) => {
    if (reason === undefined || seen.has(reason)) return;
    seen.add(reason);
    reasons.push(rule === undefined ? reason : `${rule}: ${reason}`);
  };
  add(inputStatistics(node));
  if (!['layerNorm', 'instanceNorm', 'groupNorm'].includes(node.op)) add(statisticsProblem(node, mode));
  const statistics = reasons.length > 0;
  for (const r of refusals) if (r.quiet !== true && r.nodes.includes(node.name)) add(r.reason, r.rule);
  // Where it sits matters only when its statistics do not already rule folding out.
  if (!statistics) add(neighbourhood(node, index));
  if (reasons.length === 0) add(`no rule matches ${label(node)} here`);
  return reasons;
}
