/**
 * The tensors a compiled graph owns: trainable variables (`${node}.${param}`), running
 * statistics (by node) and constants. Each param is converted to the executor layout once, here,
 * and remembers how to convert back so `exportGraph` can write current values in IR layout. The
 * conversion permutes the values in JavaScript before they reach the backend (io/layout.ts's
 * blocked permute): tfjs-backend-wasm's transpose kernel took about as long on a large filter as
 * the backend's own first use of it, and uploading the IR layout first made every value travel twice.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GraphError, nodePrefix } from '../ir/errors.ts';
import type { Node, ParamTensor } from '../ir/graph.ts';
import { permute } from '../io/layout.ts';
import type { Layout, NodeParams, RunningStats } from './ops/types.ts';

/** `param` in the executor layout, written into `scratch` when given (else a new array). */
function toExec(param: ParamTensor, layout: Layout | undefined, scratch: Float32Array | undefined): ParamTensor {
  if (layout === undefined) return param;
  const permuted = permute(param.data, param.shape, layout.perm, scratch !== undefined && scratch.length >= param.data.length ? scratch : undefined);
  return layout.execShape === undefined ? permuted : { shape: layout.execShape, data: permuted.data };
}

/** Values in the executor layout back in the IR layout `shape` (the inverse of toExec). */
function toIR(data: Float32Array, shape: readonly number[], layout: Layout | undefined): ParamTensor {
  if (layout === undefined) return { shape, data: Float32Array.from(data) };
  const inverse: number[] = [];
  layout.perm.forEach((axis, k) => (inverse[axis] = k));
  return { shape, data: permute(data, layout.perm.map((axis) => shape[axis]), inverse).data };
}

export class ParamRegistry {
  readonly variables = new Map<string, tf.Variable>();
  readonly stats = new Map<string, RunningStats>();
  private readonly constants: tf.Tensor[] = [];
  /** Every variable by `${owner}.${param}`, trainable or not, so tied nodes share it. */
  private readonly held = new Map<string, tf.Variable>();
  /** Params held but never trained (gamma, beta of a BN frozen 'all'); a tied node shares them. */
  private readonly fixedParams = new Set<tf.Variable>();
  private readonly exporters = new Map<string, Map<string, () => ParamTensor>>();
  /** Objects held per owner node (NodeParams.shared). */
  private readonly objects = new Map<string, unknown>();
  /**
   * One buffer for every param's permuted values while the graph is built, on wasm only: its
   * tf.tensor copies the values into the wasm heap at once, where other backends keep the array
   * they are given. A new array per weight (fresh pages, then garbage) cost a third of converting
   * ResNet-50's filters. Released by `built()`.
   */
  private scratch: Float32Array | undefined;
  private readonly reuseScratch = tf.getBackend() === 'wasm';

  /** The graph's params are all held: the scratch buffer is no longer needed. */
  built(): void {
    this.scratch = undefined;
  }

  private scratchFor(size: number): Float32Array | undefined {
    if (!this.reuseScratch) return undefined;
    if (this.scratch === undefined || this.scratch.length < size) this.scratch = new Float32Array(size);
    return this.scratch;
  }

  /** A tied node (`tiedTo`) gets its owner's variables and statistics: one set of weights. */
  forNode(node: Node): NodeParams {
    const owner = node.tiedTo ?? node.name;
    const source = (param: string): ParamTensor => {
      const tensor = (node.params as Readonly<Record<string, ParamTensor | undefined>>)[param];
      if (tensor === undefined) throw new GraphError(`${nodePrefix(node.op, node.name)}param '${param}' is missing`, node.name);
      return tensor;
    };
    const keep = (param: string, variable: tf.Variable, shape: readonly number[], layout: Layout | undefined) => {
      this.held.set(`${owner}.${param}`, variable);
      this.exporterMap(owner).set(param, () => toIR(variable.dataSync() as Float32Array, shape, layout));
    };
    const hold = (param: string, layout: Layout | undefined, trainable: boolean): tf.Variable => {
      const ir = source(param);
      const existing = this.held.get(`${owner}.${param}`);
      if (existing !== undefined) return existing;
      const exec = toExec(ir, layout, layout === undefined ? undefined : this.scratchFor(ir.data.length));
      const variable = tf.tidy(() => tf.variable(tf.tensor(exec.data, [...exec.shape], 'float32'), trainable));
      keep(param, variable, ir.shape, layout);
      return variable;
    };
    return {
      trainable: (param, layout) => {
        const variable = hold(param, layout, true);
        this.variables.set(`${owner}.${param}`, variable);
        return variable;
      },
      fixed: (param, layout) => {
        const variable = hold(param, layout, false);
        this.fixedParams.add(variable);
        return variable;
      },
      runningStats: () => {
        const stats = { runningMean: hold('runningMean', undefined, false), runningVar: hold('runningVar', undefined, false) };
        this.stats.set(owner, stats);
        return stats;
      },
      constant: (values) => {
        const tensor = tf.tensor1d([...values], 'float32');
        this.constants.push(tensor);
        return tensor;
      },
      shared: <T>(make: () => T): T => {
        if (!this.objects.has(owner)) this.objects.set(owner, make());
        return this.objects.get(owner) as T;
      },
      adopt: (param, variable, trainable) => {
        keep(param, variable, source(param).shape, undefined);
        if (trainable) this.variables.set(`${owner}.${param}`, variable);
        else this.fixedParams.add(variable);
      },
    };
  }

  /** The node's params with every held one replaced by its current value. */
  exportParams(node: Node): Node['params'] {
    const exporters = this.exporters.get(node.tiedTo ?? node.name);
    if (exporters === undefined) return node.params;
    const params: Record<string, ParamTensor | undefined> = { ...node.params };
    for (const [param, exportParam] of exporters) params[param] = exportParam();
    return params as Node['params'];
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    for (const s of this.stats.values()) {
      s.runningMean.dispose();
      s.runningVar.dispose();
    }
    for (const c of this.constants) c.dispose();
    for (const f of this.fixedParams) f.dispose();
    this.fixedParams.clear();
    this.variables.clear();
    this.stats.clear();
    this.held.clear();
    this.objects.clear();
    this.constants.length = 0;
  }

  private exporterMap(node: string): Map<string, () => ParamTensor> {
    let map = this.exporters.get(node);
    if (map === undefined) {
      map = new Map();
      this.exporters.set(node, map);
    }
    return map;
  }
}
