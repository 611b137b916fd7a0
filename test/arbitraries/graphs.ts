/**
 * Whole random graphs for the fold engine: a plan of blocks is drawn first (pure data, shapes
 * simulated with the IR's own inference), then built with the DSL's scope and units (ResA, ResB,
 * ResC with their projection shortcuts) and raw IR nodes, then every parameter is redrawn from
 * fast-check values (values.ts), so a failing case shrinks in its structure and in its numbers.
 *
 * Blocks: conv -> BN-like -> activation; conv -> ReLU -> BN (BN after the activation); the DSL's
 * resA / resB / resC; a concat of two conv -> BN branches; a conv whose output is used twice;
 * GroupNorm / LayerNorm / InstanceNorm (affine) before a conv; BN before a zero-padded conv; a
 * weight-normalised conv -> BN; pools. Optionally `normalize` before everything, and a head
 * (global pool or flatten, then a linear or weight-normalised linear, then maybe a BN1d).
 * BNs are frozen or not at random, Batch Renorm appears among the BN-likes.
 */
import fc from 'fast-check';
import { resA, resB, resC } from '../../dsl/units.ts';
import { Scope } from '../../dsl/scope.ts';
import type { AttrsByOp, Graph, Node, OpKind } from '../../src/ir/graph.ts';
import { attrsDraft, outputShape, paramsDraft, type DraftOptions, type LiteralShape, type NodeDraft } from './layers.ts';

type Raw = { readonly kind: 'node'; readonly op: OpKind; readonly attrs: AttrsByOp[OpKind] };

export type Block =
  | { readonly kind: 'chain'; readonly nodes: readonly Raw[] }
  | { readonly kind: 'unit'; readonly unit: 'resA' | 'resB' | 'resC'; readonly out: number; readonly stride: number; readonly projection?: boolean }
  | { readonly kind: 'concat'; readonly branches: readonly (readonly Raw[])[] }
  | { readonly kind: 'sharedConv'; readonly conv: Raw; readonly norms: readonly Raw[] };

export interface GraphPlan {
  readonly input: LiteralShape;
  readonly blocks: readonly Block[];
}

export interface GraphOptions extends DraftOptions {
  readonly maxBlocks: number;
  /** Kinds of block to draw from (default: all). */
  readonly blocks?: readonly BlockKind[];
  readonly head?: boolean;
  readonly normalizeFirst?: boolean;
  /** Smallest batch (train-mode BatchNorm needs two values per channel). */
  readonly minBatch?: number;
}

export type BlockKind = 'convBnAct' | 'convActBn' | 'unit' | 'concat' | 'sharedConv' | 'normConv' | 'bnConv' | 'weightNormConv' | 'pool';

export const ALL_BLOCK_KINDS: readonly BlockKind[] = ['convBnAct', 'convActBn', 'unit', 'concat', 'sharedConv', 'normConv', 'bnConv', 'weightNormConv', 'pool'];

const node = (op: OpKind, attrs: AttrsByOp[OpKind]): Raw => ({ kind: 'node', op, attrs });

/** Draws raw nodes one after another from `shape`, each fitting what the previous produced. */
function rawSequence(
  ops: readonly OpKind[],
  shape: LiteralShape,
  options: DraftOptions,
  fixed: Partial<Record<OpKind, AttrsByOp[OpKind]>> = {},
): fc.Arbitrary<{ nodes: Raw[]; shape: LiteralShape }> {
  const step = (i: number, s: LiteralShape, done: Raw[]): fc.Arbitrary<{ nodes: Raw[]; shape: LiteralShape }> => {
    if (i === ops.length) return fc.constant({ nodes: done, shape: s });
    const given = fixed[ops[i]];
    return (given === undefined ? attrsDraft(ops[i], s, {}, options) : fc.constant(given)).chain((attrs) => {
      const raw = node(ops[i], attrs);
      return step(i + 1, outputShape({ op: raw.op, attrs, params: {} }, s), [...done, raw]);
    });
  };
  return step(0, shape, []);
}

const bnLike = fc.constantFrom<OpKind>('batchNorm', 'batchNorm', 'batchRenorm', 'scaleShift');
const activation = fc.constantFrom<OpKind | 'none'>('relu', 'relu', 'leakyRelu', 'relu6', 'none');

/** Convs with stride 1 and 'same' padding keep the spatial size (concat branches must agree). */
function sameSizeConv(shape: LiteralShape, out: number): fc.Arbitrary<Raw> {
  return fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.boolean()).map(([kh, kw, bias]) =>
    node('conv2d', {
      inChannels: shape[1],
      outChannels: out,
      kernel: [kh, kw],
      stride: [1, 1],
      padding: 'same',
      dilation: [1, 1],
      groups: 1,
      bias,
    }),
  );
}

function blockArb(kind: BlockKind, shape: LiteralShape, options: DraftOptions): fc.Arbitrary<{ block: Block; shape: LiteralShape }> {
  const chainOf = (ops: fc.Arbitrary<OpKind[]>) =>
    ops.chain((list) => rawSequence(list, shape, options)).map((r) => ({ block: { kind: 'chain', nodes: r.nodes } as Block, shape: r.shape }));
  const spatial = Math.min(shape[2], shape[3]);
  switch (kind) {
    case 'convBnAct':
      return chainOf(fc.tuple(bnLike, activation).map(([bn, act]) => ['conv2d', bn, ...(act === 'none' ? [] : [act])]));
    case 'convActBn':
      return chainOf(fc.constantFrom<OpKind>('batchNorm', 'batchRenorm').map((bn) => ['conv2d', 'relu', bn]));
    case 'normConv':
      return chainOf(fc.constantFrom<OpKind>('groupNorm', 'layerNorm', 'instanceNorm').map((norm) => [norm, 'conv2d']));
    case 'bnConv':
      return chainOf(bnLike.map((bn) => [bn, 'conv2d']));
    case 'weightNormConv':
      return chainOf(fc.constant<OpKind[]>(['weightNormConv2d', 'batchNorm', 'relu']));
    case 'pool':
      return chainOf(fc.constantFrom<OpKind>('maxPool2d', 'avgPool2d').map((p) => [p]));
    case 'unit':
      return fc
        .record({
          unit: fc.constantFrom<'resA' | 'resB' | 'resC'>('resA', 'resB', 'resC'),
          out: fc.integer({ min: 1, max: 4 }),
          stride: fc.integer({ min: 1, max: spatial >= 2 ? 2 : 1 }),
          projection: fc.constantFrom<boolean | undefined>(undefined, true),
        })
        .map((u) => {
          const needs = u.projection ?? (u.stride !== 1 || u.out !== shape[1]);
          const block: Block = { kind: 'unit', ...u, projection: needs };
          const side = (x: number) => Math.floor((x - 1) / u.stride) + 1;
          return { block, shape: [shape[0], u.out, side(shape[2]), side(shape[3])] };
        });
    case 'concat':
      return fc
        .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), bnLike, bnLike)
        .chain(([a, b, bnA, bnB]) =>
          fc.tuple(sameSizeConv(shape, a), sameSizeConv(shape, b)).chain(([convA, convB]) =>
            fc.tuple(attrsDraft(bnA, [shape[0], a, shape[2], shape[3]], {}, options), attrsDraft(bnB, [shape[0], b, shape[2], shape[3]], {}, options)).map(
              ([attrsA, attrsB]) => ({
                block: { kind: 'concat', branches: [[convA, node(bnA, attrsA)], [convB, node(bnB, attrsB)]] } as Block,
                shape: [shape[0], a + b, shape[2], shape[3]],
              }),
            ),
          ),
        );
    case 'sharedConv':
      return fc.integer({ min: 1, max: 3 }).chain((out) =>
        sameSizeConv(shape, out).chain((conv) => {
          const s: LiteralShape = [shape[0], out, shape[2], shape[3]];
          return fc
            .tuple(attrsDraft('batchNorm', s, {}, options), attrsDraft('batchNorm', s, {}, options))
            .map(([a, b]) => ({ block: { kind: 'sharedConv', conv, norms: [node('batchNorm', a), node('batchNorm', b)] } as Block, shape: s }));
        }),
      );
  }
}

function headArb(shape: LiteralShape, options: DraftOptions): fc.Arbitrary<Raw[]> {
  return fc
    .record({
      reduce: fc.constantFrom<OpKind[]>(['globalAvgPool'], ['flatten'], ['batchNorm', 'flatten']),
      fc: fc.constantFrom<OpKind>('linear', 'weightNormLinear'),
      bn: fc.boolean(),
    })
    .chain(({ reduce, fc: layer, bn }) => {
      const ops = [...reduce, layer, ...(bn ? (['batchNorm'] as OpKind[]) : [])];
      // the linear needs rank 2: the global pool drops the spatial dims
      return rawSequence(ops, shape, options, { globalAvgPool: { keepDims: false } }).map((r) => r.nodes);
    });
}

/** A plan: input shape and blocks, shapes checked while drawing. */
export function graphPlan(options: GraphOptions): fc.Arbitrary<GraphPlan & { readonly head: readonly Raw[]; readonly normalizeFirst: boolean }> {
  const kinds = options.blocks ?? ALL_BLOCK_KINDS;
  return fc
    .record({
      input: fc.tuple(fc.integer({ min: options.minBatch ?? 1, max: Math.max(2, options.minBatch ?? 1) }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 3, max: 7 }), fc.integer({ min: 3, max: 7 })),
      kinds: fc.array(fc.constantFrom(...kinds), { minLength: 1, maxLength: options.maxBlocks }),
      normalizeFirst: options.normalizeFirst === undefined ? fc.boolean() : fc.constant(options.normalizeFirst),
      head: options.head === undefined ? fc.boolean() : fc.constant(options.head),
    })
    .chain(({ input, kinds: drawn, normalizeFirst, head }) => {
      // normalize first needs a conv to fold into: the first block then starts with one
      const startsWithConv = ['convBnAct', 'convActBn', 'weightNormConv'].includes(drawn[0]);
      const list: BlockKind[] = normalizeFirst && !startsWithConv ? ['convBnAct', ...drawn.slice(1)] : drawn;
      const step = (i: number, shape: LiteralShape, blocks: Block[]): fc.Arbitrary<{ blocks: Block[]; shape: LiteralShape }> =>
        i === list.length ? fc.constant({ blocks, shape }) : blockArb(list[i], shape, options).chain((b) => step(i + 1, b.shape, [...blocks, b.block]));
      const normalizeStep: fc.Arbitrary<Raw[]> = normalizeFirst ? attrsDraft('normalize', input, {}, options).map((a) => [node('normalize', a)]) : fc.constant([]);
      return normalizeStep.chain((pre) =>
        step(0, input, pre.length > 0 ? [{ kind: 'chain', nodes: pre }] : []).chain(({ blocks, shape }) =>
          (head ? headArb(shape, options) : fc.constant<Raw[]>([])).map((h) => ({ input, blocks, head: h, normalizeFirst })),
        ),
      );
    });
}

/** Builds a plan into a graph (default parameters; `withDrawnParams` replaces them). */
export function buildPlan(plan: GraphPlan & { readonly head: readonly Raw[] }): Graph {
  const scope = new Scope();
  let x = scope.input(plan.input, 'x');
  let k = 0;
  const add = (raw: Raw, inputs: string[]) => scope.node({ op: raw.op, inputs, attrs: raw.attrs, name: `${raw.op}_${++k}` } as never);
  for (const block of plan.blocks) {
    switch (block.kind) {
      case 'chain':
        for (const raw of block.nodes) x = add(raw, [x]);
        break;
      case 'unit': {
        const config = { out: block.out, stride: block.stride, projection: block.projection, name: `${block.unit}_${++k}` };
        const layer = block.unit === 'resA' ? resA(config) : block.unit === 'resB' ? resB(config) : resC(config);
        x = layer.apply(scope, [x]);
        break;
      }
      case 'concat': {
        const outs = block.branches.map((branch) => branch.reduce((input, raw) => add(raw, [input]), x));
        x = scope.node({ op: 'concat', inputs: outs, attrs: {}, name: `concat_${++k}` });
        break;
      }
      case 'sharedConv': {
        const conv = add(block.conv, [x]);
        const outs = block.norms.map((raw) => add(raw, [conv]));
        x = scope.node({ op: 'add', inputs: outs, attrs: {}, name: `add_${++k}` });
        break;
      }
    }
  }
  for (const raw of plan.head) x = add(raw, [x]);
  return scope.build([x]);
}

/** Every parameter (and BN eps, and whether a BN is frozen) redrawn from fast-check values. */
export function withDrawnParams(graph: Graph, options: DraftOptions): fc.Arbitrary<Graph> {
  const drafts = graph.nodes.map((n): fc.Arbitrary<Node> => {
    if (Object.keys(n.params).length === 0) return fc.constant(n);
    return fc.tuple(paramsDraft(n.op, n.attrs, {}, options), fc.boolean()).map(([d, frozen]: [NodeDraft, boolean]) => {
      const attrs = n.op === 'batchNorm' ? { ...(d.attrs as AttrsByOp['batchNorm']), frozen } : d.attrs;
      return { ...n, attrs, params: d.params } as Node;
    });
  });
  return fc.tuple(...drafts).map((nodes) => ({ ...graph, nodes }));
}

/** A random whole graph with drawn parameters. */
export function randomGraph(options: GraphOptions): fc.Arbitrary<Graph> {
  return graphPlan(options).chain((plan) => withDrawnParams(buildPlan(plan), options));
}
