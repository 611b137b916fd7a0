/**
 * AdaBN (Li et al. 2016, "Revisiting Batch Normalization For Practical Domain Adaptation"):
 * replace the running statistics of every BatchNorm-like node by the statistics of its input on
 * target-domain data. Weights never change.
 *
 * What is computed. For each re-estimated node b, with x_b its input per channel c over every
 * target sample and position (n values per channel):
 *
 *   runningMean_b[c] = mu[c]      = (1/n) sum x_b
 *   runningVar_b[c]  = M2[c] / n  (biased)   or  M2[c] / (n - 1)  (unbiasedRunningVar)
 *   M2[c] = sum (x_b - mu[c])^2
 *
 * where x_b is what the network computes IN EVAL MODE with every BN-like node upstream of b
 * already using its NEW statistics. That is the fixed point AdaBN asks for: at test time every
 * BN then normalises its input with exactly that input's target-domain mean and variance. A
 * train-mode pass (each BN normalising by its batch statistics) would only approximate it: the
 * layers downstream would see batch-normalised inputs, not the eval-mode ones they see later.
 *
 * Method (exact, one pass over the data per BN level). level(b) = the largest number of
 * re-estimated nodes on a path from the input to b, b excluded. Nodes of one level never depend
 * on each other's statistics, so for level L = 0, 1, ...: the graph is cut down to the ancestors
 * of that level's inputs, compiled with levels < L already holding their new statistics, and run
 * in eval mode over every batch. Per batch, tf.moments (two-pass, float32) gives each channel's
 * mean m_k and biased variance v_k over n_k values; batches are merged in float64 (Chan et al.):
 *
 *   n = n_a + n_k,  delta = m_k - m_a,  mean = m_a + delta n_k / n,
 *   M2 = M2_a + v_k n_k + delta^2 n_a n_k / n
 *
 * The momentum rule (`decay`) plays no part: AdaBN replaces the statistics, it does not blend.
 *
 * Which statistics: batchNorm and batchRenorm all channels; ibn its BatchNorm channels
 * (instanceChannels..C-1); switchableNorm its BN statistics (per channel over N, H, W). Frozen
 * batchNorm and ibn nodes keep theirs (frozen means frozen) and are listed in the report; a
 * batchNorm with trackRunningStats false has none (it uses each batch's at inference already).
 *
 * The compiled graph is changed only after every pass has succeeded, so a failure leaves it as
 * it was. Tensors passed in stay the caller's: adaBN disposes only what it creates.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../ir/errors.ts';
import type { Graph, Node, NodeOf, ParamTensor, Shape } from '../ir/graph.ts';
import { bindInputShapes, inferShapes } from '../ir/shapes.ts';
import { ExecutionError, InputError } from './errors.ts';
import { type CompiledGraph, compileGraph } from './executor.ts';
import { batchMoments } from './ops/batch-norm.ts';
import { channelsLastPerm } from '../ir/axes.ts';
import type { RunningStats } from './ops/types.ts';

export type AdaBNData = AsyncIterable<tf.Tensor> | Iterable<tf.Tensor> | tf.Tensor;

export interface AdaBNOptions {
  /** Samples per forward pass when `batches` is one tensor (default 32); results do not depend on it. */
  readonly batchSize?: number;
}

type ReestimatedNode = NodeOf<'batchNorm'> | NodeOf<'batchRenorm'> | NodeOf<'ibn'> | NodeOf<'switchableNorm'>;

export interface ChannelStats {
  readonly mean: Float32Array;
  readonly variance: Float32Array;
}

export interface AdaBNNodeReport {
  readonly node: string;
  readonly op: ReestimatedNode['op'];
  /** The pass that re-estimated it (its BN level, see the file comment). */
  readonly level: number;
  /** Channels with running statistics (for ibn only its BatchNorm part). */
  readonly channels: number;
  /** n: values per channel the statistics were taken over (samples x positions). */
  readonly valuesPerChannel: number;
  readonly unbiasedRunningVar: boolean;
  readonly before: ChannelStats;
  readonly after: ChannelStats;
  /** max over channels of |after - before|. */
  readonly maxMeanChange: number;
  readonly maxVarChange: number;
}

export interface AdaBNReport {
  /** Target samples seen (sum of the batch dims) and the batches they came in. */
  readonly samples: number;
  readonly batches: number;
  /** Passes over the data: one per BN level. */
  readonly passes: number;
  /** Every re-estimated node, in graph order. */
  readonly nodes: readonly AdaBNNodeReport[];
  /** Frozen batchNorm / ibn nodes, whose statistics were left untouched. */
  readonly frozen: readonly string[];
}

const DEFAULT_BATCH_SIZE = 32;

function isBatchNormLike(node: Node): node is ReestimatedNode {
  if (node.op === 'batchNorm') return node.attrs.trackRunningStats !== false;
  return node.op === 'batchRenorm' || node.op === 'ibn' || node.op === 'switchableNorm';
}

function isFrozen(node: ReestimatedNode): boolean {
  return (node.op === 'batchNorm' || node.op === 'ibn') && node.attrs.frozen !== false;
}

/** The first channel with running statistics: ibn keeps them for its BatchNorm part only. */
function firstStatChannel(node: ReestimatedNode): number {
  return node.op === 'ibn' ? node.attrs.instanceChannels : 0;
}

/** Re-estimated node -> level (see the file comment). */
function levels(graph: Graph, targets: ReadonlySet<string>): Map<string, number> {
  const reach = new Map<string, number>();
  const level = new Map<string, number>();
  for (const node of graph.nodes) {
    const upstream = Math.max(0, ...node.inputs.map((input) => reach.get(input) ?? 0));
    if (targets.has(node.name)) level.set(node.name, upstream);
    reach.set(node.name, upstream + (targets.has(node.name) ? 1 : 0));
  }
  return level;
}

/** The graph cut down to what `outputs` depend on. */
function prune(graph: Graph, outputs: readonly string[]): Graph {
  const byName = new Map(graph.nodes.map((node) => [node.name, node]));
  const needed = new Set<string>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (needed.has(name)) continue;
    needed.add(name);
    stack.push(...(byName.get(name)?.inputs ?? []));
  }
  return {
    nodes: graph.nodes.filter((node) => needed.has(node.name)),
    inputs: graph.inputs.filter((name) => needed.has(name)),
    outputs: [...outputs],
  };
}

function withRunningStats(graph: Graph, stats: ReadonlyMap<string, ChannelStats>): Graph {
  const nodes = graph.nodes.map((node) => {
    const replaced = stats.get(node.name);
    if (replaced === undefined) return node;
    const runningMean: ParamTensor = { shape: [replaced.mean.length], data: replaced.mean };
    const runningVar: ParamTensor = { shape: [replaced.variance.length], data: replaced.variance };
    return { ...node, params: { ...node.params, runningMean, runningVar } } as Node;
  });
  return { ...graph, nodes };
}

/** The data as batches, drawn one at a time (slices of one tensor are cut inside the caller's tidy). */
interface Batches {
  readonly shapes: readonly (readonly number[])[];
  readonly samples: number;
  at(index: number): tf.Tensor;
  /** How errors name batch `index`: 'the data' for one tensor, 'batch 3' for an iterable's. */
  label(index: number): string;
}

function checkTensor(input: string, t: unknown, where: string): asserts t is tf.Tensor {
  if (!(t instanceof tf.Tensor)) throw new InputError(input, `${where} is not a tfjs tensor`);
  if (t.isDisposed) throw new InputError(input, `${where} has been disposed`);
  if (t.dtype !== 'float32') throw new InputError(input, `${where} has dtype ${t.dtype}, expected float32`);
  if (t.rank < 2 || t.shape[0] < 1) {
    throw new InputError(input, `${where} has shape [${t.shape.join(', ')}]: needs a batch axis with at least one sample`);
  }
}

async function collectBatches(input: string, data: AdaBNData, batchSize: number | undefined): Promise<Batches> {
  if (data instanceof tf.Tensor) {
    checkTensor(input, data, 'the data');
    const size = batchSize ?? DEFAULT_BATCH_SIZE;
    const samples = data.shape[0];
    const count = Math.ceil(samples / size);
    const sizeAt = (index: number) => Math.min(size, samples - index * size);
    return {
      shapes: Array.from({ length: count }, (_, index) => [sizeAt(index), ...data.shape.slice(1)]),
      samples,
      at: (index) => (count === 1 ? data : tf.slice(data, index * size, sizeAt(index))),
      label: () => 'the data',
    };
  }
  if (batchSize !== undefined) {
    throw new InputError('batchSize', 'only applies when the data is one tensor; an iterable is used batch by batch as it yields');
  }
  if (data === null || typeof data !== 'object' || !(Symbol.asyncIterator in data || Symbol.iterator in data)) {
    throw new InputError('batches', 'expected a tensor, an iterable or an async iterable of tensors');
  }
  const list: tf.Tensor[] = [];
  const each = (t: unknown): void => {
    checkTensor(input, t, `batch ${list.length}`);
    list.push(t);
  };
  if (Symbol.asyncIterator in data) for await (const t of data) each(t);
  else for (const t of data) each(t);
  return {
    shapes: list.map((t) => t.shape),
    samples: list.reduce((sum, t) => sum + t.shape[0], 0),
    at: (index) => list[index],
    label: (index) => `batch ${index}`,
  };
}

/** The executor's shape checks (declared input dims, then every layer), once per distinct shape. */
function checkShapes(graph: Graph, input: string, batches: Batches): void {
  const seen = new Set<string>();
  for (const [index, shape] of batches.shapes.entries()) {
    const key = shape.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      bindInputShapes(graph, { [input]: shape });
      inferShapes(graph, { [input]: shape as Shape });
    } catch (e) {
      if (!(e instanceof ShapeError)) throw e;
      throw new ShapeError(e.node, e.op, `${e.detail} (${batches.label(index)}: [${shape.join(', ')}])`, e.dim);
    }
  }
}

/** Running per-channel moments over batches: count, mean and M2 in float64. */
class Moments {
  count = 0;
  readonly mean: Float64Array;
  readonly m2: Float64Array;

  constructor(channels: number) {
    this.mean = new Float64Array(channels);
    this.m2 = new Float64Array(channels);
  }

  merge(batchMean: Float32Array, batchVariance: Float32Array, batchCount: number): void {
    const total = this.count + batchCount;
    for (let c = 0; c < this.mean.length; c++) {
      const delta = batchMean[c] - this.mean[c];
      this.mean[c] += (delta * batchCount) / total;
      this.m2[c] += batchVariance[c] * batchCount + (delta * delta * this.count * batchCount) / total;
    }
    this.count = total;
  }
}

function maxAbsChange(before: Float32Array, after: Float32Array): number {
  let worst = 0;
  for (let c = 0; c < before.length; c++) worst = Math.max(worst, Math.abs(after[c] - before[c]));
  return worst;
}

/** One pass over the data: the moments of each node's (statistics part of its) input. */
async function measureLevel(graph: Graph, nodes: readonly ReestimatedNode[], batches: Batches): Promise<Moments[]> {
  const sources = [...new Set(nodes.map((node) => node.inputs[0]))];
  const moments = nodes.map((node) => new Moments(node.attrs.numFeatures - firstStatChannel(node)));
  const truncated = compileGraph(prune(graph, sources), { mode: 'eval' });
  try {
    for (let index = 0; index < batches.shapes.length; index++) {
      const counts: number[] = [];
      const perNode = tf.tidy(() => {
        const x = batches.at(index);
        const values = truncated.runNHWC(x.rank > 2 ? tf.transpose(x, channelsLastPerm(x.rank)) : x, { mode: 'eval' });
        return nodes.map((node) => {
          let value = values[node.inputs[0]];
          const first = firstStatChannel(node);
          if (first > 0) value = tf.slice(value, [0, 0, 0, first], [-1, -1, -1, -1]);
          const { mean, variance, count } = batchMoments(value);
          counts.push(count);
          return [mean, variance];
        });
      });
      try {
        const read = await Promise.all(perNode.flat().map((t) => t.data() as Promise<Float32Array>));
        nodes.forEach((_, i) => moments[i].merge(read[2 * i], read[2 * i + 1], counts[i]));
      } finally {
        for (const t of perNode.flat()) t.dispose();
      }
    }
  } finally {
    truncated.dispose();
  }
  return moments;
}

function finalStats(node: ReestimatedNode, moments: Moments): ChannelStats {
  const { unbiasedRunningVar } = node.attrs;
  if (unbiasedRunningVar && moments.count < 2) {
    throw new InputError(
      'batches',
      `${node.op} '${node.name}' keeps an unbiased running variance, which needs at least 2 values per channel; the data gives ${moments.count}`,
    );
  }
  const divisor = unbiasedRunningVar ? moments.count - 1 : moments.count;
  return { mean: Float32Array.from(moments.mean), variance: Float32Array.from(moments.m2, (m2) => m2 / divisor) };
}

/**
 * Re-estimates the running statistics of every non-frozen BatchNorm-like node of `compiled` on
 * the target-domain `batches` (NCHW, the graph's single input) and returns what changed.
 */
export async function adaBN(compiled: CompiledGraph, batches: AdaBNData, opts: AdaBNOptions = {}): Promise<AdaBNReport> {
  const { batchSize } = opts;
  if (batchSize !== undefined && !(Number.isSafeInteger(batchSize) && batchSize >= 1)) {
    throw new InputError('batchSize', `must be a positive integer, got ${batchSize}`);
  }
  if (compiled.inputs.length !== 1) {
    throw new InputError(compiled.inputs.join(', '), `adaBN feeds one input, the graph has ${compiled.inputs.length}`);
  }
  const input = compiled.inputs[0];
  const graph = compiled.exportGraph();
  const data = await collectBatches(input, batches, batchSize);
  if (data.shapes.length === 0) throw new InputError('batches', 'no target data: the iterable yielded no batches');
  checkShapes(graph, input, data);

  const normLayers = graph.nodes.filter(isBatchNormLike);
  const targets = normLayers.filter((node) => !isFrozen(node));
  for (const node of targets) {
    const tied = graph.nodes.filter((other) => other.tiedTo === node.name || (node.tiedTo !== undefined && other.name === node.tiedTo));
    if (tied.length > 0) {
      // Each use sees different data; one set of statistics for all of them is not what AdaBN estimates.
      throw new ExecutionError(node.name, node.op, `shares its running statistics with ${tied.map((n) => `'${n.name}'`).join(', ')} (one layer used several times); freeze it to adapt the others`);
    }
  }
  const levelOf = levels(graph, new Set(targets.map((node) => node.name)));
  const passes = targets.length === 0 ? 0 : Math.max(...levelOf.values()) + 1;

  const estimated = new Map<string, ChannelStats>();
  const sampleCounts = new Map<string, number>();
  for (let level = 0; level < passes; level++) {
    const nodes = targets.filter((node) => levelOf.get(node.name) === level);
    const moments = await measureLevel(withRunningStats(graph, estimated), nodes, data);
    nodes.forEach((node, i) => {
      estimated.set(node.name, finalStats(node, moments[i]));
      sampleCounts.set(node.name, moments[i].count);
    });
  }

  const reports = targets.map((node): AdaBNNodeReport => {
    const params = node.params as { readonly runningMean: ParamTensor; readonly runningVar: ParamTensor };
    const before = { mean: Float32Array.from(params.runningMean.data), variance: Float32Array.from(params.runningVar.data) };
    const after = estimated.get(node.name) as ChannelStats;
    return {
      node: node.name,
      op: node.op,
      level: levelOf.get(node.name) as number,
      channels: after.mean.length,
      valuesPerChannel: sampleCounts.get(node.name) as number,
      unbiasedRunningVar: node.attrs.unbiasedRunningVar,
      before,
      after,
      maxMeanChange: maxAbsChange(before.mean, after.mean),
      maxVarChange: maxAbsChange(before.variance, after.variance),
    };
  });
  tf.tidy(() => {
    for (const { node, after } of reports) {
      const stats = compiled.stats.get(node) as RunningStats;
      stats.runningMean.assign(tf.tensor1d(after.mean));
      stats.runningVar.assign(tf.tensor1d(after.variance));
    }
  });
  return {
    samples: data.samples,
    batches: data.shapes.length,
    passes,
    nodes: reports,
    frozen: normLayers.filter(isFrozen).map((node) => node.name),
  };
}
