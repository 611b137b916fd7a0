/**
 * Each fold checked where it happened: the chain it matched and the chain it produced are cut out
 * of the graph (both read the same input) and run on the float64 reference from one seeded
 * standard-normal patch.
 *
 *   patch   [1, C, h, w] for a chain reading [N, C, H, W] ([1, F] for [N, F]). h is the smallest
 *           size congruent to H modulo the chain's stride product (so a 'same' padding resolves
 *           as it did at H) at which every conv of either chain shows every border case it has
 *           at H, or all the rows it has at H: a border case of an output row is the range of
 *           its taps that read inside the input, so the top rows reaching into the padding, the
 *           bottom ones that do at H (none for a stride-2 conv padded 1 on an even H) and one
 *           between. A tap bias (a shift folded through zero padding) is then checked in every
 *           border configuration it has. Where H is symbolic, ceil(top/S) + ceil(bottom/S) + 1
 *           rows, each border row that can occur. A chain through a flatten runs at H.
 *   error   max |folded(x) - original(x)| over the chain's output, against
 *           scale = max |original(x)|; the folded params as stored (float32), so this is the
 *           fold's own error, rounding included: ~1e-7 * scale for a correct fold, O(scale) for
 *           a wrong one. ok <= FOLD_TOLERANCE * scale.
 *
 * Cost: each conv runs on a few rows, so a check costs a small multiple of the chain's weights.
 */
import type { Graph, Node, Shape } from '../ir/graph.ts';
import { inferShapes } from '../ir/shapes.ts';
import { resolvePadding2d, tapsInside, windowCount } from '../reference/padding.ts';
import { runReference } from '../reference/run.ts';
import type { Float64Tensor } from '../reference/tensor.ts';
import type { FoldMode } from './match.ts';

/** Relative error a fold may show on its patch: float32 rounding of its params is ~1e-7. */
export const FOLD_TOLERANCE = 1e-4;

/** A fold as the engine applied it, for the check. */
export interface FoldSite {
  /** Its index in the report's folds. */
  readonly fold: number;
  readonly rule: string;
  readonly matched: readonly Node[];
  readonly produced: readonly Node[];
  /** The shape the chain reads. */
  readonly inputShape: Shape;
}

/**
 * What a check's input was: a feature vector [1, F] (a linear chain: no taps), or a patch
 * [1, C, h, w] on which some conv of either chain reads padding through border taps, or none does
 * (1x1 and 'valid' convs).
 */
export type FoldSample = 'feature vector' | 'patch with border taps' | 'patch without padding';

export interface FoldCheck {
  readonly fold: number;
  readonly rule: string;
  /** The matched nodes. */
  readonly nodes: readonly string[];
  /** The input patch both chains ran on; absent when the check could not run (see `skipped`). */
  readonly patch?: readonly number[];
  /** What kind of input `patch` is; absent when the check could not run. */
  readonly sample?: FoldSample;
  readonly maxDiff: number;
  readonly outputScale: number;
  readonly ok: boolean;
  readonly skipped?: string;
}

const LARGEST_SYMBOLIC_PATCH = 64;

function chainGraph(input: string, patch: readonly number[], chain: readonly Node[]): Graph {
  const source: Node = { name: input, op: 'input', inputs: [], attrs: { shape: [...patch] }, params: {} };
  return { nodes: [source, ...chain], inputs: [input], outputs: [chain[chain.length - 1].name] };
}

type ConvLike = Extract<Node, { op: 'conv2d' | 'weightNormConv2d' }>;

const isConvLike = (node: Node): node is ConvLike => node.op === 'conv2d' || node.op === 'weightNormConv2d';

function paddingAt(node: ConvLike, inputShape: Shape, axis: 0 | 1): [before: number, after: number] {
  const [height, width] = [inputShape[2], inputShape[3]] as number[];
  const [top, bottom, left, right] = resolvePadding2d(node.attrs.padding, height, width, node.attrs.kernel, node.attrs.stride, node.attrs.dilation);
  return axis === 0 ? [top, bottom] : [left, right];
}

/** Rows (axis 0) or columns (axis 1) a conv-like node computes to show each border row that can occur at some size. */
function rowsNeeded(node: ConvLike, inputShape: Shape, axis: 0 | 1): number {
  const [before, after] = paddingAt(node, inputShape, axis);
  const stride = node.attrs.stride[axis];
  return Math.ceil(before / stride) + Math.ceil(after / stride) + 1;
}

/**
 * The border cases of a conv-like node along one axis at `inputShape`: for each output row (axis
 * 0) or column (axis 1), the range [first, end) of its taps that read inside the input.
 */
function borderCases(node: ConvLike, inputShape: Shape, axis: 0 | 1): Set<string> {
  const size = inputShape[axis + 2] as number;
  const [before, after] = paddingAt(node, inputShape, axis);
  const kernel = node.attrs.kernel[axis];
  const stride = node.attrs.stride[axis];
  const dilation = node.attrs.dilation[axis];
  const count = windowCount(size, before + after, kernel, stride, dilation);
  const { lo, hi } = tapsInside(count, stride, dilation, before, size, kernel);
  return new Set(Array.from(lo, (first, i) => `${first}:${hi[i]}`));
}

/** The input and output shapes of every conv in both chains when they run at `size`; undefined if either does not run there. */
function convShapesAt(site: FoldSite, size: readonly number[]): { node: ConvLike; input: Shape; output: Shape }[] | undefined {
  const input = site.matched[0].inputs[0];
  const convs: { node: ConvLike; input: Shape; output: Shape }[] = [];
  for (const chain of [site.matched, site.produced]) {
    let shapes: Map<string, Shape>;
    try {
      shapes = inferShapes(chainGraph(input, size, chain));
    } catch {
      return undefined;
    }
    for (const node of chain) {
      if (isConvLike(node)) convs.push({ node, input: shapes.get(node.inputs[0]) as Shape, output: shapes.get(node.name) as Shape });
    }
  }
  return convs;
}

/** Each conv's border cases per axis when both chains run at the literal `full` size; else undefined. */
function fullBorderCases(site: FoldSite, full: readonly (number | undefined)[]): Map<Node, [Set<string>, Set<string>]> | undefined {
  if (!full.every((d): d is number => d !== undefined)) return undefined;
  const convs = convShapesAt(site, full);
  if (convs === undefined) return undefined;
  return new Map(convs.map(({ node, input }) => [node, [borderCases(node, input, 0), borderCases(node, input, 1)]]));
}

function strideProduct(chain: readonly Node[], axis: 0 | 1): number {
  let p = 1;
  for (const node of chain) if (isConvLike(node)) p *= node.attrs.stride[axis];
  return p;
}

/**
 * Whether both chains run at `patch` with every conv showing, on both axes, its border cases at
 * the full size (`fullCases`), or all its rows, or (a symbolic full size) rowsNeeded rows.
 */
function patchFits(
  site: FoldSite,
  patch: readonly number[],
  full: readonly (number | undefined)[],
  fullCases: ReadonlyMap<Node, [Set<string>, Set<string>]> | undefined,
): boolean {
  const convs = convShapesAt(site, patch);
  if (convs === undefined) return false;
  for (const { node, input, output } of convs) {
    for (const axis of [0, 1] as const) {
      if (full[axis + 2] === patch[axis + 2]) continue;
      const wanted = fullCases?.get(node)?.[axis];
      if (wanted === undefined) {
        if ((output[axis + 2] as number) < rowsNeeded(node, input, axis)) return false;
        continue;
      }
      const shown = borderCases(node, input, axis);
      for (const c of wanted) if (!shown.has(c)) return false;
    }
  }
  return true;
}

/** The patch for a rank-4 chain input (see the file comment), or why there is none. */
function choosePatch(site: FoldSite): readonly number[] | { reason: string } {
  const shape = site.inputShape;
  const channels = shape[1];
  if (typeof channels !== 'number') return { reason: `its input has a symbolic channel count ${channels}` };
  if (shape.length === 2) return [1, channels];
  if (shape.length !== 4) return { reason: `its input has rank ${shape.length}` };
  const full = shape.map((d) => (typeof d === 'number' ? d : undefined));
  const needsFullSize = site.matched.some((n) => n.op === 'flatten');
  if (needsFullSize) {
    if (full[2] === undefined || full[3] === undefined) return { reason: 'it flattens an input of symbolic size' };
    return [1, channels, full[2], full[3]];
  }
  const candidates = (axis: 0 | 1): number[] => {
    const size = full[axis + 2];
    const modulus = strideProduct(site.matched, axis);
    const limit = size ?? LARGEST_SYMBOLIC_PATCH;
    const first = size === undefined ? 1 : ((size - 1) % modulus) + 1;
    const list: number[] = [];
    for (let h = first; h <= limit; h += modulus) list.push(h);
    if (size !== undefined && list[list.length - 1] !== size) list.push(size);
    return list;
  };
  const rows = candidates(0);
  const cols = candidates(1);
  const tallest = rows[rows.length - 1];
  const widest = cols[cols.length - 1];
  // Each axis on its own (a 1x7 conv needs 7 columns but 1 row): the fewest rows that fit at the
  // widest columns, then the fewest columns at those rows. The sizes are few and each try is a
  // shape inference.
  const cases = fullBorderCases(site, full);
  const height = rows.find((h) => patchFits(site, [1, channels, h, widest], full, cases));
  const width = height === undefined ? undefined : cols.find((w) => patchFits(site, [1, channels, height, w], full, cases));
  if (height === undefined || width === undefined) return { reason: `no patch up to ${tallest}x${widest} shows its borders` };
  return [1, channels, height, width];
}

/** Whether any conv of either chain reads padding at `patch`, i.e. has border taps there. */
function readsPadding(site: FoldSite, patch: readonly number[]): boolean {
  const input = site.matched[0].inputs[0];
  return [site.matched, site.produced].some((chain) => {
    const shapes = inferShapes(chainGraph(input, patch, chain));
    return chain.some((node) => isConvLike(node) && [0, 1].some((axis) => paddingAt(node, shapes.get(node.inputs[0]) as Shape, axis as 0 | 1).some((p) => p > 0)));
  });
}

const sampleOf = (site: FoldSite, patch: readonly number[]): FoldSample =>
  patch.length === 2 ? 'feature vector' : readsPadding(site, patch) ? 'patch with border taps' : 'patch without padding';

/** Seeded standard-normal values, rounded to float32 so every run and backend sees the same numbers. */
export function standardNormal(shape: readonly number[], rng: () => number): Float64Tensor {
  const size = shape.reduce((a, d) => a * d, 1);
  const data = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const u1 = rng();
    const u2 = rng();
    data[i] = Math.fround(Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
  }
  return { shape: [...shape], data };
}

/** Runs the check of one fold (see the file comment). */
export function checkFold(site: FoldSite, mode: FoldMode, rng: () => number): FoldCheck {
  const identity = { fold: site.fold, rule: site.rule, nodes: site.matched.map((n) => n.name) };
  const first = site.matched[0];
  if (first.inputs.length !== 1 || site.produced[0]?.inputs[0] !== first.inputs[0]) {
    return { ...identity, maxDiff: 0, outputScale: 0, ok: true, skipped: 'the chain does not read one input' };
  }
  const patch = choosePatch(site);
  if ('reason' in patch) return { ...identity, maxDiff: 0, outputScale: 0, ok: true, skipped: `no patch: ${patch.reason}` };
  const input = first.inputs[0];
  const x = { [input]: standardNormal(patch, rng) };
  const [original] = Object.values(runReference(chainGraph(input, patch, site.matched), x, { mode }).outputs);
  const [folded] = Object.values(runReference(chainGraph(input, patch, site.produced), x, { mode }).outputs);
  let maxDiff = 0;
  let outputScale = 0;
  for (let i = 0; i < original.data.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(folded.data[i] - original.data[i]));
    outputScale = Math.max(outputScale, Math.abs(original.data[i]));
  }
  // NaN compares false: a NaN difference is not ok.
  const ok = maxDiff <= FOLD_TOLERANCE * outputScale && original.data.length === folded.data.length;
  return { ...identity, patch, sample: sampleOf(site, patch), maxDiff, outputScale, ok };
}
