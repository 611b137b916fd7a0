/**
 * Compiles an IR graph into tfjs calls.
 *
 * Layout: the IR is channels-first (NCHW); tfjs kernels are fastest channels-last (NHWC). A run
 * transposes each rank >= 3 input once to channels-last, runs every layer there, and transposes
 * each output once back; weights were converted once at compile time (see ops/*.ts), so no layer
 * in a chain transposes anything. `runNHWC` skips the two boundary transposes.
 *
 * Fusion: a conv2d / depthwise / linear layer (plain or weight-normed) whose only consumer is a
 * relu, relu6, leakyRelu or sigmoid, and which is not itself a graph output, runs as one fused
 * tfjs kernel with its bias and that activation; a layer with a bias and no fusable activation
 * still fuses its bias. The activation node's value is then the fused kernel's output, and the
 * layer's own value is never materialised.
 *
 * Several outputs: a layer with `forwardAll` (an opaque layer returning its states) runs once per
 * run; its value is output 0, and an opaqueOutput node's step takes output `index` of that call.
 *
 * Memory: run() returns new tensors the caller owns and leaves nothing else behind; the
 * compiled graph holds its variables, running statistics and constants until dispose().
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapefoldError } from '../ir/errors.ts';
import type { Graph, Node, Shape } from '../ir/graph.ts';
import { bindInputShapes, inferShapes } from '../ir/shapes.ts';
import { validateGraph } from '../ir/validate.ts';
import { ExecutionError, InputError } from './errors.ts';
import { BUILDERS } from './ops/index.ts';
import { channelsFirstPerm, channelsLastPerm } from '../ir/axes.ts';
import type { BuiltNode, FusedActivation, Forward, Mode, OpBuilder, RunningStats } from './ops/types.ts';
import { ParamRegistry } from './params.ts';

export type { Mode } from './ops/types.ts';

export interface CompileOptions {
  /** The mode `run` uses when its call does not say; default 'eval'. */
  readonly mode?: Mode;
  /** Fuse layers with their bias and activation (default true); false keeps every op separate. */
  readonly fuse?: boolean;
  /**
   * Check parameter values (finite) only for these nodes, as validateGraph's option: for a
   * caller that has just validated the graph's values (the fold probe compiles the graphs
   * foldGraph checked). Default: every node.
   */
  readonly checkValuesOf?: ReadonlySet<string>;
  /**
   * The graph runs once, at its declared input shapes (the fold probe's float32 run). On wasm, a
   * conv2d (groups 1) or linear layer with at most UNPACKED_POSITIONS output positions there then
   * holds its weight as stored, in the IR layout, and multiplies it without tfjs' conversion (a
   * transposed matMul; a conv through its input patches): tfjs-backend-wasm converts a weight on
   * its first use for XNNPACK (transposed, then packed), which with the permutation to the tfjs
   * layout costs more than a few multiply-adds per weight. Such a layer's entry in `variables` is
   * in the IR layout. Default false.
   */
  readonly once?: boolean;
}

/**
 * Output positions (batch times spatial) up to which a layer of a graph compiled `once` on wasm
 * multiplies its weight unpacked. Measured per weight on wasm (one thread, SIMD): converting and
 * packing 35-45 ns, the permutation to the tfjs layout about 11; the unpacked product about 3 ns
 * a multiply-add, so about 12 positions break even.
 */
const UNPACKED_POSITIONS = 8;

export interface RunOptions {
  readonly mode?: Mode;
}

export type GraphInputs = Readonly<Record<string, tf.Tensor>> | tf.Tensor;

/** A layer that runs as one fused kernel; `activation` is the node absorbed into it, if any. */
export interface Fusion {
  readonly layer: string;
  readonly activation?: string;
}

export interface CompiledGraph {
  /** The graph's input and output node names, in order. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Inputs and outputs NCHW (IR layout), by node name; the returned tensors belong to the caller. */
  run(inputs: GraphInputs, opts?: RunOptions): Record<string, tf.Tensor>;
  /** As `run`, but inputs and outputs are channels-last ([N, H, W, C]), with no boundary transposes. */
  runNHWC(inputs: GraphInputs, opts?: RunOptions): Record<string, tf.Tensor>;
  /**
   * Trainable parameters by `${node}.${param}`, in the executor layout: conv filters
   * [kH, kW, Cin/g, Cout] (depthwise [kH, kW, Cin, mult]), transposed-conv filters
   * [kH, kW, Cout/g, Cin], linear weights [in, out] (in the IR layout where CompileOptions.once
   * left a weight unpacked); per-channel params as in the IR.
   */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** Running statistics of BatchNorm-like nodes, by node name. */
  readonly stats: ReadonlyMap<string, RunningStats>;
  readonly fusions: readonly Fusion[];
  /** The graph with every parameter's current value (after training), in IR layouts. */
  exportGraph(): Graph;
  dispose(): void;
}

interface Step {
  /** The value this step produces. */
  readonly output: string;
  readonly inputs: readonly string[];
  readonly forward: Forward;
  /** Every output of a layer of several (see BuiltNode.forwardAll). */
  readonly forwardAll?: BuiltNode['forwardAll'];
  /** For an opaqueOutput node: the output of its layer's call it takes. */
  readonly selects?: number;
  /** The node errors name, and how it was fused. */
  readonly node: Node;
  readonly fusedWith?: Node;
}

const FUSABLE_ACTIVATIONS: { readonly [op: string]: (node: Node) => FusedActivation } = {
  relu: () => ({ kind: 'relu' }),
  relu6: () => ({ kind: 'relu6' }),
  sigmoid: () => ({ kind: 'sigmoid' }),
  leakyRelu: (node) => ({ kind: 'leakyrelu', leakyreluAlpha: (node as Extract<Node, { op: 'leakyRelu' }>).attrs.alpha }),
};

function consumersOf(graph: Graph): Map<string, Node[]> {
  const consumers = new Map<string, Node[]>();
  for (const node of graph.nodes) {
    for (const input of node.inputs) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  }
  return consumers;
}

/** A bias or a conv's tapBias, either of which a fused kernel can absorb. */
function hasBias(node: Node): boolean {
  return ('bias' in node.attrs && node.attrs.bias) || (node.op === 'conv2d' && node.params.tapBias !== undefined);
}

function build(node: Exclude<Node, { op: 'input' }>, registry: ParamRegistry, unpacked: boolean): BuiltNode {
  const builder = BUILDERS[node.op] as OpBuilder<typeof node.op>;
  return builder(node as never, registry.forNode(node), { unpacked });
}

/** The conv2d and linear layers with at most UNPACKED_POSITIONS literal output positions. */
function fewPositionLayers(graph: Graph, shapes: ReadonlyMap<string, Shape>): Set<string> {
  const few = new Set<string>();
  for (const node of graph.nodes) {
    if (node.op !== 'conv2d' && node.op !== 'linear') continue;
    const shape = shapes.get(node.name) ?? [];
    if (!shape.every((d): d is number => typeof d === 'number')) continue;
    const channels = node.op === 'conv2d' ? shape[1] : shape[shape.length - 1];
    if (shape.reduce((a, d) => a * d, 1) / channels <= UNPACKED_POSITIONS) few.add(node.name);
  }
  return few;
}

function planSteps(graph: Graph, registry: ParamRegistry, fuse: boolean, unpacked: ReadonlySet<string>): { steps: Step[]; fusions: Fusion[] } {
  const consumers = consumersOf(graph);
  const outputs = new Set(graph.outputs);
  const absorbed = new Set<string>();
  const steps: Step[] = [];
  const fusions: Fusion[] = [];
  for (const node of graph.nodes) {
    if (node.op === 'input' || absorbed.has(node.name)) continue;
    const built = build(node, registry, unpacked.has(node.name));
    const users = consumers.get(node.name) ?? [];
    const only = users.length === 1 && !outputs.has(node.name) ? users[0] : undefined;
    const activation = only !== undefined && Object.hasOwn(FUSABLE_ACTIVATIONS, only.op) ? only : undefined;
    if (fuse && built.fuse !== undefined && activation !== undefined) {
      absorbed.add(activation.name);
      steps.push({
        output: activation.name,
        inputs: node.inputs,
        forward: built.fuse(FUSABLE_ACTIVATIONS[activation.op](activation)),
        node,
        fusedWith: activation,
      });
      fusions.push({ layer: node.name, activation: activation.name });
    } else if (fuse && built.fuse !== undefined && hasBias(node)) {
      steps.push({ output: node.name, inputs: node.inputs, forward: built.fuse({ kind: 'linear' }), node });
      fusions.push({ layer: node.name });
    } else {
      const selects = node.op === 'opaqueOutput' ? { selects: node.attrs.index } : {};
      const forwardAll = built.forwardAll === undefined ? {} : { forwardAll: built.forwardAll };
      steps.push({ output: node.name, inputs: node.inputs, forward: built.forward, node, ...forwardAll, ...selects });
    }
  }
  return { steps, fusions };
}

function asExecutionError(e: unknown, step: Step): ShapefoldError {
  if (e instanceof ShapefoldError) return e;
  const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
  const fused = step.fusedWith ? ` (fused with ${step.fusedWith.op} '${step.fusedWith.name}')` : '';
  return new ExecutionError(step.node.name, step.node.op, `tfjs failed${fused}: ${message}`, { cause: e });
}

/** The output an opaqueOutput step takes from its layer's call this run, or why the layer has none. */
function selectedOutput(step: Step, callOutputs: ReadonlyMap<string, readonly tf.Tensor[]>): tf.Tensor {
  const layer = step.inputs[0];
  const all = callOutputs.get(layer) ?? [];
  const index = step.selects as number;
  if (index >= all.length) {
    throw new ExecutionError(step.node.name, step.node.op, `reads output ${index} of '${layer}', whose layer returned ${all.length} output(s)`);
  }
  return all[index];
}

/** Validates the graph (structure, attrs, declared shapes, params) and builds its executor. */
export function compileGraph(graph: Graph, opts: CompileOptions = {}): CompiledGraph {
  const shapes = validateGraph(graph, opts.checkValuesOf === undefined ? {} : { checkValuesOf: opts.checkValuesOf });
  const unpacked = opts.once === true && tf.getBackend() === 'wasm' ? fewPositionLayers(graph, shapes) : new Set<string>();

  const registry = new ParamRegistry();
  let plan: { steps: Step[]; fusions: Fusion[] };
  try {
    plan = planSteps(graph, registry, opts.fuse ?? true, unpacked);
    registry.built();
  } catch (e) {
    registry.dispose();
    throw e;
  }
  const { steps, fusions } = plan;
  const defaultMode = opts.mode ?? 'eval';
  let disposed = false;

  const namedInputs = (inputs: GraphInputs): Record<string, tf.Tensor> => {
    if (disposed) throw new ExecutionError('graph', 'compiledGraph', 'used after dispose()');
    let named: Record<string, tf.Tensor>;
    if (inputs instanceof tf.Tensor) {
      if (graph.inputs.length !== 1) {
        throw new InputError(graph.inputs.join(', '), `the graph has ${graph.inputs.length} inputs; pass a record by name`);
      }
      named = { [graph.inputs[0]]: inputs };
    } else {
      named = { ...inputs };
    }
    for (const [name, t] of Object.entries(named)) {
      if (!(t instanceof tf.Tensor)) throw new InputError(name, 'is not a tfjs tensor');
      if (t.isDisposed) throw new InputError(name, 'the tensor has been disposed');
      if (t.dtype !== 'float32') throw new InputError(name, `dtype is ${t.dtype}, expected float32`);
    }
    return named;
  };

  /**
   * Checks the concrete sizes against the graph: declared input dims, then every layer. The
   * sizes that passed last are remembered: re-inferring every layer's shape on each run of a
   * same-sized batch cost ~4% of a ResNet-18 forward at 32x32 on wasm (npm run bench:exec).
   */
  let lastPassed: string | undefined;
  const checkShapes = (inputs: Record<string, tf.Tensor>, channelsLast: boolean): void => {
    const concrete: Record<string, number[]> = {};
    for (const [name, t] of Object.entries(inputs)) {
      concrete[name] = channelsLast && t.rank > 2 ? channelsFirstPerm(t.rank).map((axis) => t.shape[axis]) : t.shape;
    }
    const signature = JSON.stringify(concrete);
    if (signature === lastPassed) return;
    bindInputShapes(graph, concrete);
    inferShapes(graph, concrete as Record<string, Shape>);
    lastPassed = signature;
  };

  const execute = (inputs: GraphInputs, mode: Mode, channelsLast: boolean): Record<string, tf.Tensor> => {
    const named = namedInputs(inputs);
    checkShapes(named, channelsLast);
    const external = new Set(Object.values(named));
    return tf.tidy(() => {
      const values = new Map<string, tf.Tensor>();
      for (const [name, t] of Object.entries(named)) {
        values.set(name, channelsLast || t.rank <= 2 ? t : tf.transpose(t, channelsLastPerm(t.rank)));
      }
      const callOutputs = new Map<string, readonly tf.Tensor[]>();
      for (const step of steps) {
        const args = step.selects === undefined ? step.inputs.map((input) => values.get(input) as tf.Tensor) : [selectedOutput(step, callOutputs)];
        try {
          if (step.forwardAll === undefined) {
            values.set(step.output, step.forward(args, mode));
          } else {
            const all = step.forwardAll(args, mode);
            values.set(step.output, all[0]);
            callOutputs.set(step.output, all);
          }
        } catch (e) {
          throw asExecutionError(e, step);
        }
      }
      const result: Record<string, tf.Tensor> = {};
      const returned = new Set<tf.Tensor>();
      for (const output of graph.outputs) {
        const value = values.get(output) as tf.Tensor;
        let out = channelsLast || value.rank <= 2 ? value : tf.transpose(value, channelsFirstPerm(value.rank));
        // The caller owns what run returns: never hand back their own tensor, or one twice.
        if (external.has(out) || returned.has(out)) out = tf.clone(out);
        returned.add(out);
        result[output] = out;
      }
      return result;
    });
  };

  return {
    inputs: graph.inputs,
    outputs: graph.outputs,
    run: (inputs, runOpts) => execute(inputs, runOpts?.mode ?? defaultMode, false),
    runNHWC: (inputs, runOpts) => execute(inputs, runOpts?.mode ?? defaultMode, true),
    variables: registry.variables,
    stats: registry.stats,
    fusions,
    exportGraph: () => {
      if (disposed) throw new ExecutionError('graph', 'compiledGraph', 'exportGraph() after dispose()');
      return {
        nodes: graph.nodes.map((node) => ({ ...node, params: registry.exportParams(node) }) as Node),
        inputs: [...graph.inputs],
        outputs: [...graph.outputs],
      };
    },
    dispose: () => {
      disposed = true;
      registry.dispose();
    },
  };
}
