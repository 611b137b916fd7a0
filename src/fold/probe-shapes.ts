/**
 * The input sizes a whole-network probe runs at, and their cost, bounded.
 *
 *   batch    `batch` (1 for the fast probe, 2 for the full one) whatever the declared batch,
 *            literal or symbolic: no op mixes samples in eval mode, and a literal batch of 65536
 *            must not become a 65536-sample probe.
 *   symbols  bound small: 17, or the next of 33, 65, 129, 257 if the graph needs more.
 *   literal  H, W (and every other dim) as declared.
 *
 * Cost, from the inferred shapes of both graphs: memory = the sum of every node's output
 * elements times the bytes per element (the float64 reference keeps every value; tfjs may);
 * work = multiply-adds, the larger of the two graphs (convs and linears; every other node one
 * per output element). Above a limit, H and W of rank-4 inputs shrink (halved, then, when a
 * halving no longer runs, the congruent sizes between it and the last that did, smallest first),
 * each kept congruent to its declared size modulo P, the lcm over paths of the product of strides. TensorFlow's 'same'
 * padding depends on a size only modulo the stride, and floor((h + c)/s) keeps h's residue
 * modulo P/s, so every layer then pads as it did at the declared size: the original's 'same' and
 * the folded graph's explicit padding (resolved at the declared size) still agree. A graph that
 * runs only at its declared size (a flatten before a linear) cannot shrink; then the network
 * run is skipped with the reason, and the caller says so.
 */
import { GraphError } from '../ir/errors.ts';
import type { Graph, Node, Shape } from '../ir/graph.ts';
import { inferShapes } from '../ir/shapes.ts';

const SYMBOL_SIZES = [17, 33, 65, 129, 257] as const;
/** Sizes tried between one that does not run and the smallest that did (each two shape inferences). */
const BETWEEN_TRIES = 16;

export interface ProbeLimits {
  readonly batch: number;
  readonly bytesPerElement: number;
  readonly maxBytes: number;
  readonly maxMultiplyAdds: number;
  /** Names the limit in messages: "the cpu backend's budget". */
  readonly budgetName: string;
}

export interface ProbeCost {
  readonly bytes: number;
  readonly multiplyAdds: number;
}

export type ProbeShapes =
  | {
      readonly kind: 'run';
      readonly shapes: Readonly<Record<string, readonly number[]>>;
      /** How the shapes differ from the declared ones, and why; absent when only symbols were bound. */
      readonly reduced?: string;
      readonly cost: ProbeCost;
    }
  | { readonly kind: 'skip'; readonly reason: string };

const product = (dims: readonly number[]): number => dims.reduce((a, d) => a * d, 1);
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b;

function inputNodes(graph: Graph): Extract<Node, { op: 'input' }>[] {
  return graph.inputs.map((name) => {
    const node = graph.nodes.find((n) => n.name === name);
    if (node?.op !== 'input') throw new GraphError(`graph input '${name}' is not an input node`, name);
    return node;
  });
}

/** `graph` with its input nodes declaring `shapes`, so every consumer checks against them. */
export function withInputShapes(graph: Graph, shapes: Readonly<Record<string, readonly number[]>>): Graph {
  const nodes = graph.nodes.map((node): Node => (node.op === 'input' && shapes[node.name] !== undefined ? { ...node, attrs: { shape: [...shapes[node.name]] } } : node));
  return { ...graph, nodes };
}

/** Bytes of every value and multiply-adds of one run, or why the graph does not run at `shapes`. */
export function probeCost(graph: Graph, shapes: Readonly<Record<string, readonly number[]>>, bytesPerElement: number): ProbeCost | { reason: string } {
  let inferred: Map<string, Shape>;
  try {
    inferred = inferShapes(graph, shapes);
  } catch (error) {
    return { reason: (error as Error).message };
  }
  const sizeOf = (name: string) => product(inferred.get(name) as number[]);
  let elements = 0;
  let multiplyAdds = 0;
  for (const node of graph.nodes) {
    const out = sizeOf(node.name);
    elements += out;
    switch (node.op) {
      case 'conv2d':
      case 'weightNormConv2d':
        multiplyAdds += out * (node.attrs.inChannels / node.attrs.groups) * node.attrs.kernel[0] * node.attrs.kernel[1];
        break;
      case 'convTranspose2d':
        multiplyAdds += sizeOf(node.inputs[0]) * (node.attrs.outChannels / node.attrs.groups) * node.attrs.kernel[0] * node.attrs.kernel[1];
        break;
      case 'linear':
      case 'weightNormLinear':
        multiplyAdds += out * node.attrs.inFeatures;
        break;
      default:
        multiplyAdds += out;
    }
  }
  return { bytes: elements * bytesPerElement, multiplyAdds };
}

/** P per spatial axis: the lcm over paths of the product of strides up to each node. */
function strideModulus(graph: Graph): readonly [number, number] {
  const reach = new Map<string, readonly [number, number]>();
  let modulus: [number, number] = [1, 1];
  for (const node of graph.nodes) {
    let acc: [number, number] = [1, 1];
    for (const input of node.inputs) {
      const r = reach.get(input) ?? [1, 1];
      acc = [lcm(acc[0], r[0]), lcm(acc[1], r[1])];
    }
    if (node.op === 'conv2d' || node.op === 'weightNormConv2d' || node.op === 'maxPool2d' || node.op === 'avgPool2d') {
      acc = [acc[0] * node.attrs.stride[0], acc[1] * node.attrs.stride[1]];
    }
    reach.set(node.name, acc);
    modulus = [lcm(modulus[0], acc[0]), lcm(modulus[1], acc[1])];
  }
  return modulus;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 2 : 1)} GiB`;
const gmac = (n: number) => `${(n / 1e9).toPrecision(3)} G multiply-adds`;

function overLimit(cost: ProbeCost, limits: ProbeLimits): string | undefined {
  if (cost.bytes > limits.maxBytes) return `needs ${gib(cost.bytes)}, above the ${gib(limits.maxBytes)} memory limit`;
  if (cost.multiplyAdds > limits.maxMultiplyAdds) return `needs ${gmac(cost.multiplyAdds)}, above ${limits.budgetName} of ${gmac(limits.maxMultiplyAdds)}`;
  return undefined;
}

function worstCost(graphs: readonly Graph[], shapes: Readonly<Record<string, readonly number[]>>, bytesPerElement: number): ProbeCost | { reason: string } {
  let worst: ProbeCost = { bytes: 0, multiplyAdds: 0 };
  for (const graph of graphs) {
    const cost = probeCost(graph, shapes, bytesPerElement);
    if ('reason' in cost) return cost;
    worst = { bytes: Math.max(worst.bytes, cost.bytes), multiplyAdds: Math.max(worst.multiplyAdds, cost.multiplyAdds) };
  }
  return worst;
}

const CONGRUENT = (pH: number, pW: number) =>
  `H, W kept congruent modulo the stride products ${pH}, ${pW}, so every 'same' padding resolves as declared`;

const describe = (shapes: Readonly<Record<string, readonly number[]>>) =>
  Object.entries(shapes).map(([name, s]) => `${name} [${s.join(', ')}]`).join(', ');

/**
 * The shapes to probe `graphs` (the original first; all share its inputs) at, within `limits`,
 * or why no shapes fit.
 */
export function probeShapes(graphs: readonly [Graph, ...Graph[]], limits: ProbeLimits): ProbeShapes {
  const inputs = inputNodes(graphs[0]);
  const notes: string[] = [];
  let base: Record<string, number[]> | undefined;
  let lastReason = '';
  for (const size of SYMBOL_SIZES) {
    const binding = new Map<string, number>();
    const shapes: Record<string, number[]> = {};
    for (const node of inputs) {
      shapes[node.name] = node.attrs.shape.map((d, axis) => {
        if (axis === 0) return typeof d === 'number' ? Math.min(d, limits.batch) : (binding.get(d) ?? (binding.set(d, limits.batch), limits.batch));
        if (typeof d === 'number') return d;
        if (!binding.has(d)) binding.set(d, size);
        return binding.get(d) as number;
      });
    }
    const cost = worstCost(graphs, shapes, limits.bytesPerElement);
    if ('reason' in cost) {
      lastReason = cost.reason;
      continue;
    }
    base = shapes;
    break;
  }
  if (base === undefined) return { kind: 'skip', reason: `no small size fits the graph (${lastReason})` };
  for (const node of inputs) {
    const declared = node.attrs.shape[0];
    if (typeof declared === 'number' && declared > limits.batch) notes.push(`input '${node.name}' declares batch ${declared}, probed at ${limits.batch}`);
  }
  const cost = worstCost(graphs, base, limits.bytesPerElement) as ProbeCost;
  const problem = overLimit(cost, limits);
  if (problem === undefined) return { kind: 'run', shapes: base, cost, ...(notes.length > 0 ? { reduced: notes.join('; ') } : {}) };

  // Shrink H and W together, each to the congruent size nearest a fraction of it.
  const [pH, pW] = strideModulus(graphs[0]);
  const congruent = (size: number, modulus: number, target: number) => {
    const smallest = ((size - 1) % modulus) + 1;
    return smallest + Math.max(0, Math.floor((target - smallest) / modulus)) * modulus;
  };
  const spatial = (from: Record<string, number[]>, size: (d: number, axis: 2 | 3, name: string) => number) =>
    Object.fromEntries(Object.entries(from).map(([name, shape]) => [name, shape.length !== 4 ? shape : shape.map((d, axis) => (axis < 2 ? d : size(d, axis as 2 | 3, name)))]));
  let smallest: { shapes: Record<string, number[]>; cost: ProbeCost } = { shapes: base, cost };
  let notRunning: { shapes: Record<string, number[]>; reason: string } | undefined;
  for (let fraction = 0.5; ; fraction /= 2) {
    const shapes = spatial(base, (d, axis) => congruent(d, axis === 2 ? pH : pW, Math.floor(d * fraction)));
    if (describe(shapes) === describe(smallest.shapes)) break;
    const reducedCost = worstCost(graphs, shapes, limits.bytesPerElement);
    if ('reason' in reducedCost) {
      notRunning = { shapes, reason: reducedCost.reason };
      break;
    }
    smallest = { shapes, cost: reducedCost };
    const over = overLimit(reducedCost, limits);
    if (over === undefined) {
      notes.push(`${describe(base)} ${problem}; reduced to ${describe(shapes)} (${CONGRUENT(pH, pW)})`);
      return { kind: 'run', shapes, cost: reducedCost, reduced: notes.join('; ') };
    }
  }
  // Halving overshot to a size that does not run: the congruent sizes between it and the smallest
  // that ran, smallest first (at most BETWEEN_TRIES, evenly spread), find a smaller one that runs.
  if (notRunning !== undefined) {
    const from = notRunning.shapes;
    const steps = Math.max(
      ...Object.entries(from).flatMap(([name, shape]) => (shape.length !== 4 ? [] : [(smallest.shapes[name][2] - shape[2]) / pH, (smallest.shapes[name][3] - shape[3]) / pW])),
    );
    const stride = Math.ceil(steps / BETWEEN_TRIES);
    for (let k = stride; k < steps; k += stride) {
      const shapes = spatial(from, (d, axis, name) => Math.min(d + k * (axis === 2 ? pH : pW), smallest.shapes[name][axis]));
      const between = worstCost(graphs, shapes, limits.bytesPerElement);
      if (!('reason' in between)) {
        smallest = { shapes, cost: between };
        break;
      }
    }
  }
  // Work is a soft limit: the smallest size that runs, if its memory fits.
  if (smallest.cost.bytes <= limits.maxBytes) {
    const over = overLimit(smallest.cost, limits);
    notes.push(
      smallest.shapes === base
        ? `${describe(base)} ${problem}; run as it is, the smallest size that runs`
        : over === undefined
          ? `${describe(base)} ${problem}; reduced to ${describe(smallest.shapes)} (${CONGRUENT(pH, pW)})`
          : `${describe(base)} ${problem}; reduced to the smallest size that runs, ${describe(smallest.shapes)} (${CONGRUENT(pH, pW)})`,
    );
    return { kind: 'run', shapes: smallest.shapes, cost: smallest.cost, reduced: notes.join('; ') };
  }
  if (notRunning !== undefined) return { kind: 'skip', reason: `at ${describe(base)} it ${problem}, and it does not run at smaller sizes (${notRunning.reason})` };
  return { kind: 'skip', reason: `at ${describe(base)} it ${problem}, and no smaller size congruent modulo the stride products fits` };
}
