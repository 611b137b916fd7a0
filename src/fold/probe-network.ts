/**
 * The whole folded network against the original, on one seeded standard-normal input at the
 * sizes probe-shapes.ts chooses (batch 1 for 'fast', 2 for 'full'; bounded memory and work).
 *
 *   fast   the folded graph in float32 on the tfjs executor (the current backend: call
 *          selectBackend() first, or tfjs picks its own default) against the original, max
 *          |f32(folded) - original| against scale = max |original|. It sees what the local checks
 *          cannot: how the folded graph runs as a whole on a real backend. The original runs
 *          where it costs less (originalOn): on the float64 reference, its truth, when the run
 *          has few multiply-adds per weight, since a float32 run converts and packs every weight
 *          whatever the size (ResNet-50 at 32x32); else in float32 on the executor too. The
 *          difference is the fold's own error plus the float32 rounding of one run (against the
 *          reference) or two (against float32), accumulated over the network's depth:
 *          NETWORK_TOLERANCE * scale bounds either.
 *   full   the float64 reference on both graphs (the fold's own error over the whole network),
 *          plus each graph in float32 on the executor against the float64 original, so a user
 *          sees that folding adds no more error than float32 execution has anyway.
 *
 * Opaque layers (LSTM, Embedding, a custom class) have no float64 math: the full check runs them
 * through tfjs-layers in float32 inside the float64 run, and says so. An input an Embedding
 * reads holds token indices, drawn uniformly below the smallest vocabulary that reads it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { compileGraph } from '../backend/executor.ts';
import type { Graph, Node, NodeOf } from '../ir/graph.ts';
import { inferShapes } from '../ir/shapes.ts';
import type { OpaqueEvaluator } from '../reference/ops/opaque.ts';
import { runReference } from '../reference/run.ts';
import type { Float64Tensor } from '../reference/tensor.ts';
import { FoldProbeError } from './errors.ts';
import type { FoldMode } from './match.ts';
import { standardNormal } from './probe-local.ts';
import { probeShapes, withInputShapes, type ProbeLimits } from './probe-shapes.ts';

/** Relative difference the whole network may show: one float32 run's rounding accumulates over its depth. */
export const NETWORK_TOLERANCE = 1e-3;

export interface NetworkCheck {
  /** fast: the folded graph ran in float32; full: both graphs on the float64 reference. */
  readonly precision: 'float32' | 'float64';
  /** Where the original ran: always the reference in the full check; the cheaper one in the fast. */
  readonly originalOn: 'float64 reference' | 'float32';
  /** The concrete input shapes used, by input name. */
  readonly inputs: Readonly<Record<string, readonly number[]>>;
  /** How the inputs differ from the declared shapes, and why (batch, a reduced H and W). */
  readonly reduced?: string;
  /** The tfjs backend that ran the float32 run(s). */
  readonly backend: string;
  /** fast: max |f32(folded) - original|; full: max |ref64(folded) - ref64(original)|. */
  readonly maxDiff: number;
  /** max |original| over the outputs. */
  readonly outputScale: number;
  readonly ok: boolean;
  /** full only: max |f32(graph) - ref64(original)| for each graph, on `backend`. */
  readonly float32?: { readonly original: number; readonly folded: number };
  /** How the opaque layers were run and their token inputs drawn, when there are any. */
  readonly opaque?: string;
}

export interface NetworkSkipped {
  readonly skipped: string;
}

/** A step of the network check done, for progress reports. */
export type NetworkStep = (detail: string) => void;

const GIB = 2 ** 30;
/**
 * Multiply-adds (elementwise ops count one) a float32 run may take: about 20 ms on wasm (one
 * thread, SIMD) or native; on cpu, whose transposes and elementwise kernels are far slower, less.
 * Each run also pays for uploading every weight and, in layers of more than a few output
 * positions, converting and packing it (runFloat32 compiles `once`: smaller layers multiply their
 * weights as stored), which no size reduces, so the run itself is kept a small part of that:
 * ResNet-50 runs at 32x32 (congruent to 224 modulo 32; 86 M), not 224x224 (4.1 G), where its last
 * two stages, most of its weights, have 4 and 1 output positions; and every layer still runs, its
 * borders included. A soft limit: a graph still above it at the smallest
 * congruent size it runs at (InceptionV3: 75x75) runs there.
 */
const WORK_BUDGET: Readonly<Record<string, number>> = { cpu: 1e7 };
const FAST_BACKEND_WORK = 1e8;

/**
 * The fast check runs the original on the float64 reference (a few ns a multiply-add here, no
 * packing) at up to this many multiply-adds per weight, else in float32 (about 35 ns a weight to
 * convert and pack on wasm where a layer has more than a few output positions, then fast). Side
 * by side on wasm, CPU time: the reference is cheaper at ResNet-50's 3.4 (32x32: 0.29 s against
 * 0.32 s for the float32 run compiled `once`, load 5.8), dearer at InceptionV3's 8.6 (75x75) and
 * MobileNetV2's 16.6 (96x96) (measured before `once`, which only makes float32 cheaper).
 */
const REFERENCE_MULTIPLY_ADDS_PER_WEIGHT = 5;

const weightCount = (graph: Graph): number =>
  graph.nodes.reduce((sum, node) => Object.values(node.params).reduce((n, p) => n + (p?.data.length ?? 0), sum), 0);

export function networkLimits(level: 'fast' | 'full', backend: string): ProbeLimits {
  if (level === 'full') return { batch: 2, bytesPerElement: 8, maxBytes: GIB, maxMultiplyAdds: Infinity, budgetName: 'no budget' };
  // The reference may run the original, keeping every value in float64.
  return {
    batch: 1,
    bytesPerElement: 8,
    maxBytes: GIB,
    maxMultiplyAdds: WORK_BUDGET[backend] ?? FAST_BACKEND_WORK,
    budgetName: `the ${backend} backend's work budget`,
  };
}

type Outputs = Record<string, ArrayLike<number>>;

function maxAbsDifference(a: Outputs, b: Outputs, outputs: readonly string[]): number {
  let worst = 0;
  for (const name of outputs) {
    const x = a[name];
    const y = b[name];
    // Math.max propagates NaN: a NaN output is never within tolerance.
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  }
  return worst;
}

function maxAbs(values: Outputs, outputs: readonly string[]): number {
  let scale = 0;
  for (const name of outputs) {
    const v = values[name];
    for (let i = 0; i < v.length; i++) scale = Math.max(scale, Math.abs(v[i]));
  }
  return scale;
}

/**
 * Runs `graph` with the tfjs executor; outputs as plain arrays, every tensor released. foldGraph
 * checked every value of both graphs it probes, so compiling does not scan the weights again; the
 * graph runs once, so layers of few output positions skip the backend's weight packing (`once`).
 */
function runFloat32(graph: Graph, inputs: Record<string, Float64Tensor>, mode: FoldMode): Record<string, Float32Array> {
  const compiled = compileGraph(graph, { mode, checkValuesOf: new Set(), once: true });
  const feeds: Record<string, tf.Tensor> = {};
  try {
    for (const [name, t] of Object.entries(inputs)) feeds[name] = tf.tensor(Float32Array.from(t.data), [...t.shape], 'float32');
    const outputs = compiled.run(feeds);
    const values = Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, t.dataSync() as Float32Array]));
    tf.dispose(Object.values(outputs));
    return values;
  } finally {
    tf.dispose(Object.values(feeds));
    compiled.dispose();
  }
}

/** The backend tfjs runs on; tf.backend() starts tfjs's default if none was chosen yet. */
function activeBackend(): string {
  tf.backend();
  return tf.getBackend();
}

const data = (r: Record<string, Float64Tensor>): Outputs => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.data]));

const opaqueNodes = (graph: Graph): NodeOf<'opaque'>[] => graph.nodes.filter((n): n is NodeOf<'opaque'> => n.op === 'opaque');
const opaqueLabel = (node: NodeOf<'opaque'>) => `${node.attrs.className} '${node.name}'`;

/** The smallest vocabulary (Embedding input_dim) reading each graph input directly. */
function vocabularies(graph: Graph): Map<string, { size: number; reader: NodeOf<'opaque'> }> {
  const found = new Map<string, { size: number; reader: NodeOf<'opaque'> }>();
  for (const node of opaqueNodes(graph)) {
    const size = node.attrs.config.input_dim;
    if (node.attrs.className !== 'Embedding' || typeof size !== 'number') continue;
    for (const input of node.inputs) {
      if (graph.inputs.includes(input) && size < (found.get(input)?.size ?? Infinity)) found.set(input, { size, reader: node });
    }
  }
  return found;
}

/** Seeded inputs: standard normal, or token indices for an input an Embedding reads. */
function probeInputs(graph: Graph, shapes: Readonly<Record<string, readonly number[]>>, rng: () => number): Record<string, Float64Tensor> {
  const tokens = vocabularies(graph);
  const inputs: Record<string, Float64Tensor> = {};
  for (const name of graph.inputs) {
    const vocabulary = tokens.get(name)?.size;
    const shape = shapes[name];
    inputs[name] =
      vocabulary === undefined
        ? standardNormal(shape, rng)
        : { shape: [...shape], data: Float64Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => Math.floor(rng() * vocabulary)) };
  }
  return inputs;
}

/** How the network check ran: both graphs on the reference, the original only, or neither. */
type OpaquePrecision = 'float64' | 'float64 original' | 'float32';

/** What a network check says about opaque layers, or undefined when the graph has none. */
function opaqueNote(graph: Graph, precision: OpaquePrecision): string | undefined {
  const nodes = opaqueNodes(graph);
  if (nodes.length === 0) return undefined;
  const tokens = [...vocabularies(graph)].map(([input, { size, reader }]) => `input '${input}' holds token indices in [0, ${size}) for ${opaqueLabel(reader)}`);
  const run = {
    float64: 'run through tfjs-layers in float32 inside the float64 runs',
    'float64 original': "run through tfjs-layers in float32, inside the original's float64 run too",
    float32: 'run by tfjs-layers',
  }[precision];
  return [`the opaque layers ${nodes.map(opaqueLabel).join(', ')} ${run}`, ...tokens].join('; ');
}

/** The reference's evaluator for opaque nodes: the node alone (with the readers of its other outputs), compiled and run by tfjs in float32. */
function opaqueThroughTfjs(mode: FoldMode): OpaqueEvaluator {
  return (node, inputs, readers) => {
    const names = inputs.map((_, i) => `${node.name}:input${i}`);
    const feeds: Node[] = names.map((name, i) => ({ name, op: 'input', inputs: [], attrs: { shape: [...inputs[i].shape] }, params: {} }));
    const { tiedTo: _shared, ...alone } = node;
    const graph: Graph = { nodes: [...feeds, { ...alone, inputs: names }, ...readers], inputs: names, outputs: [node.name, ...readers.map((r) => r.name)] };
    const outputs = runFloat32(graph, Object.fromEntries(names.map((name, i) => [name, inputs[i]])), mode);
    const shapes = inferShapes(graph);
    return graph.outputs.map((name) => ({ shape: shapes.get(name) as number[], data: Float64Array.from(outputs[name]) }));
  };
}

/** The fast check; skipped (with the reason) when no size within the limits runs the graph. */
export function checkNetworkFast(original: Graph, folded: Graph, mode: FoldMode, rng: () => number, step: NetworkStep): NetworkCheck | NetworkSkipped {
  const backend = activeBackend();
  const sizes = probeShapes([original, folded], networkLimits('fast', backend));
  if (sizes.kind === 'skip') return { skipped: sizes.reason };
  const inputs = probeInputs(original, sizes.shapes, rng);
  const originalAt = withInputShapes(original, sizes.shapes);
  const originalOn = sizes.cost.multiplyAdds <= REFERENCE_MULTIPLY_ADDS_PER_WEIGHT * weightCount(original) ? 'float64 reference' : 'float32';
  let before: Outputs;
  if (originalOn === 'float64 reference') {
    before = data(runReference(originalAt, inputs, { mode, opaque: opaqueThroughTfjs(mode) }).outputs);
    step('float64 run of the original network');
  } else {
    before = runFloat32(originalAt, inputs, mode);
    step(`float32 run of the original network on ${backend}`);
  }
  const after = runFloat32(withInputShapes(folded, sizes.shapes), inputs, mode);
  step(`float32 run of the folded network on ${backend}`);
  const maxDiff = maxAbsDifference(after, before, original.outputs);
  const outputScale = maxAbs(before, original.outputs);
  return {
    precision: 'float32',
    originalOn,
    inputs: sizes.shapes,
    ...(sizes.reduced === undefined ? {} : { reduced: sizes.reduced }),
    backend,
    maxDiff,
    outputScale,
    ok: maxDiff <= NETWORK_TOLERANCE * outputScale,
    ...withOpaqueNote(original, originalOn === 'float64 reference' ? 'float64 original' : 'float32'),
  };
}

function withOpaqueNote(graph: Graph, precision: OpaquePrecision): { opaque?: string } {
  const note = opaqueNote(graph, precision);
  return note === undefined ? {} : { opaque: note };
}

/** The full check; a graph too large for it is a FoldProbeError (the fast probe stays bounded). */
export function checkNetworkFull(original: Graph, folded: Graph, mode: FoldMode, rng: () => number, step: NetworkStep): NetworkCheck {
  const sizes = probeShapes([original, folded], networkLimits('full', activeBackend()));
  if (sizes.kind === 'skip') throw new FoldProbeError(`the full probe cannot run: ${sizes.reason}; use the fast probe`);
  const inputs = probeInputs(original, sizes.shapes, rng);
  const originalAt = withInputShapes(original, sizes.shapes);
  const foldedAt = withInputShapes(folded, sizes.shapes);
  const opaque = opaqueThroughTfjs(mode);
  const reference = data(runReference(originalAt, inputs, { mode, opaque }).outputs);
  step('float64 run of the original network');
  const foldedReference = data(runReference(foldedAt, inputs, { mode, opaque }).outputs);
  step('float64 run of the folded network');
  const original32 = maxAbsDifference(runFloat32(originalAt, inputs, mode), reference, original.outputs);
  step(`float32 run of the original network on ${tf.getBackend()}`);
  const folded32 = maxAbsDifference(runFloat32(foldedAt, inputs, mode), reference, original.outputs);
  step(`float32 run of the folded network on ${tf.getBackend()}`);
  const maxDiff = maxAbsDifference(foldedReference, reference, original.outputs);
  const outputScale = maxAbs(reference, original.outputs);
  return {
    precision: 'float64',
    originalOn: 'float64 reference',
    inputs: sizes.shapes,
    ...(sizes.reduced === undefined ? {} : { reduced: sizes.reduced }),
    backend: activeBackend(),
    maxDiff,
    outputScale,
    ok: maxDiff <= NETWORK_TOLERANCE * outputScale,
    float32: { original: original32, folded: folded32 },
    ...withOpaqueNote(original, 'float64'),
  };
}
