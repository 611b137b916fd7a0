/**
 * The numerical check every fold report carries: one seeded standard-normal input (rounded to
 * float32, so every run sees the same numbers), literal sizes as declared and small values for
 * symbolic ones (batch 2, every other symbol 17, or the next of 33, 65, 129, 257 if the graph
 * needs more), then
 *
 *   foldedVsOriginal  max |ref64(folded) - ref64(original)|   (the float64 reference on both)
 *   float32.original  max |f32(original) - ref64(original)|   (the tfjs executor on the current
 *                     backend: call selectBackend() first, or tfjs picks its own default)
 *   float32.folded    max |f32(folded)   - ref64(original)|
 *
 * over every output element. The first is the fold's own error (the folded parameters are
 * rounded to float32 once); the last two show what float32 execution costs anyway, so a user
 * sees that folding adds no more error than float32 already has.
 */
import * as tf from '@tensorflow/tfjs';
import { compileGraph } from '../backend/executor.ts';
import type { Graph, Shape } from '../ir/graph.ts';
import { createRng } from '../ir/init.ts';
import { inferShapes } from '../ir/shapes.ts';
import { runReference } from '../reference/run.ts';
import type { Float64Tensor } from '../reference/tensor.ts';
import type { FoldMode } from './match.ts';

export interface ProbeReport {
  /** The concrete input shapes used, by input name. */
  readonly inputs: Readonly<Record<string, readonly number[]>>;
  readonly seed: number;
  readonly mode: FoldMode;
  readonly foldedVsOriginal: number;
  /** max |ref64(original)| over the outputs: the scale the differences compare with. */
  readonly outputScale: number;
  readonly float32: { readonly backend: string; readonly original: number; readonly folded: number };
}

const BATCH = 2;
const SPATIAL_CANDIDATES = [17, 33, 65, 129, 257];

/** Concrete shapes for the graph's inputs: literal dims kept, symbols bound small (see above). */
function probeShapes(graphs: readonly Graph[]): Record<string, number[]> {
  const [graph] = graphs;
  let lastError: unknown;
  for (const size of SPATIAL_CANDIDATES) {
    const binding = new Map<string, number>();
    const shapes: Record<string, number[]> = {};
    for (const name of graph.inputs) {
      const node = graph.nodes.find((n) => n.name === name);
      if (node?.op !== 'input') continue;
      shapes[name] = node.attrs.shape.map((d, axis) => {
        if (typeof d === 'number') return d;
        if (!binding.has(d)) binding.set(d, axis === 0 ? BATCH : size);
        return binding.get(d) as number;
      });
    }
    try {
      for (const g of graphs) inferShapes(g, shapes as Record<string, Shape>);
      return shapes;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function standardNormal(shape: readonly number[], rng: () => number): Float64Tensor {
  const size = shape.reduce((a, d) => a * d, 1);
  const data = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const u1 = rng();
    const u2 = rng();
    data[i] = Math.fround(Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
  }
  return { shape: [...shape], data };
}

function maxAbsDifference(a: Record<string, ArrayLike<number>>, b: Record<string, ArrayLike<number>>, outputs: readonly string[]): number {
  let worst = 0;
  for (const name of outputs) {
    const x = a[name];
    const y = b[name];
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  }
  return worst;
}

/** Runs `graph` with the tfjs executor; outputs as plain arrays, every tensor released. */
function runFloat32(graph: Graph, inputs: Record<string, Float64Tensor>, mode: FoldMode): Record<string, Float32Array> {
  const compiled = compileGraph(graph, { mode });
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

export function probeFold(original: Graph, folded: Graph, mode: FoldMode, seed: number): ProbeReport {
  const shapes = probeShapes([original, folded]);
  const rng = createRng(seed);
  const inputs: Record<string, Float64Tensor> = {};
  for (const name of original.inputs) inputs[name] = standardNormal(shapes[name], rng);
  const reference = runReference(original, inputs, { mode }).outputs;
  const foldedReference = runReference(folded, inputs, { mode }).outputs;
  const outputs = original.outputs;
  const data = (r: Record<string, Float64Tensor>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.data]));
  const ref = data(reference);
  let outputScale = 0;
  for (const name of outputs) for (const v of ref[name]) outputScale = Math.max(outputScale, Math.abs(v));
  return {
    inputs: shapes,
    seed,
    mode,
    foldedVsOriginal: maxAbsDifference(data(foldedReference), ref, outputs),
    outputScale,
    float32: {
      original: maxAbsDifference(runFloat32(original, inputs, mode), ref, outputs),
      folded: maxAbsDifference(runFloat32(folded, inputs, mode), ref, outputs),
      // Read after running: tfjs initialises its default backend on first use.
      backend: tf.getBackend(),
    },
  };
}
