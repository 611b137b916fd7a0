/**
 * Run-time shape inference: one rule per op, all dim arithmetic through `src/shape/dim.ts` so
 * symbolic sizes come out in the canonical spelling the type-level DSL also prints.
 *
 *   conv / pool (floor mode)   out = floor((x + padTotal - D(K-1) - 1) / S) + 1
 *   'same' padding             out = ceil(x / S)
 *   transposed conv            out = (x - 1)S - 2P + D(K-1) + outputPadding + 1
 *   concat                     C = C_1 + ... + C_n
 *   flatten                    [N, C*H*W]
 *   crop2d                     [N, C, H - top - bottom, W - left - right]
 *   merge                      Keras broadcasting: lower ranks get 1s after the channel axis
 *                              (src/ir/axes.ts), then each dim is the common size or stretches from 1
 *   concatAxis                 the inputs' sizes summed along the axis, every other dim equal
 *   upsample2d                 [N, C, H*sH, W*sW];  resize2d  [N, C, height, width]
 *   transpose                  [x[perm[0]], x[perm[1]], ...]
 *   reshape                    [N, ...shape] where the product of shape is the product of x's non-batch dims
 *   repeatVector               [N, C] -> [N, C, times]
 *   opaque                     tfjs's output shape (stored at import, channels-last) in IR order; a
 *                              null there is input 0's size at that channels-last axis. Each input
 *                              must have the rank and the known sizes tfjs built the layer for.
 *   opaqueOutput               its stored channels-last shape in IR order; a null there is the
 *                              layer's output 0's size (its input) at that channels-last axis
 *
 * Messages after the `${op} '${name}': ` prefix are the same words the DSL's type-level checks
 * produce, so a model reads the same in the editor and at run time.
 */
import {
  convOutDim,
  convTransposeOutDim,
  dimAdd,
  dimEqual,
  dimProduct,
  dimScale,
  dimSum,
  isLiteral,
  isSymbolName,
  sameOutDim,
  type Dim,
} from '../shape/dim.ts';
import { checkAttrs, checkInputDims, show } from './attrs.ts';
import { inChannelsFirstOrder, inChannelsLastOrder, padForBroadcast } from './axes.ts';
import { GraphError, ShapeError, nodePrefix } from './errors.ts';
import type {
  AttrsByOp,
  Conv2dAttrs,
  Graph,
  LinearAttrs,
  Node,
  OpKind,
  Padding2d,
  Pair,
  PoolAttrs,
  Shape,
} from './graph.ts';
import { dimLabel, rankLabelList } from './labels.ts';

export { dimLabel } from './labels.ts';

const SIDES = ['height', 'width'] as const;
type Axis = 0 | 1;

/** Raises ShapeErrors for one node, with its prefix. */
class Check {
  constructor(
    private readonly name: string,
    private readonly op: OpKind,
  ) {}

  fail(detail: string, dim?: number): never {
    throw new ShapeError(this.name, this.op, detail, dim);
  }

  rank(shape: Shape, rank: number): void {
    if (shape.length !== rank) {
      this.fail(`expects a rank-${rank} input [${rankLabelList(rank)}], got rank ${shape.length}`);
    }
  }

  rank2or4(shape: Shape): void {
    if (shape.length !== 2 && shape.length !== 4) {
      this.fail(`expects a rank-2 input [N, C] or a rank-4 input [N, C, H, W], got rank ${shape.length}`);
    }
  }

  /** Dim 1 (channels or features) equals what the layer was built for. */
  count(shape: Shape, expected: number, noun: 'channels' | 'features'): void {
    if (!dimEqual(shape[1], expected)) this.fail(`input has ${shape[1]} ${noun}, layer expects ${expected}`, 1);
  }

  groupsDivide(groups: number, channels: number, what: string): void {
    if (channels % groups !== 0) this.fail(`${groups} groups do not divide ${channels} ${what}`, 1);
  }

  /** Every shape in `shapes` equals the first, except at `skipAxis`. */
  sameShapes(shapes: readonly Shape[], what: 'branch shapes' | 'inputs', skipAxis?: number): void {
    const [first, ...rest] = shapes;
    for (const other of rest) {
      if (other.length !== first.length) this.fail(`${what} differ in rank: ${first.length} vs ${other.length}`);
      first.forEach((d, i) => {
        if (i !== skipAxis && !dimEqual(d, other[i])) {
          this.fail(`${what} differ at dim ${i} (${dimLabel(first.length, i)}): ${d} vs ${other[i]}`, i);
        }
      });
    }
  }

  /**
   * A literal output size below 1 means the input is too small for the window. The dilation and
   * padding are named only when not the defaults (1 and 0), to keep the message short.
   */
  positiveOutput(out: Dim, x: Dim, axis: Axis, window: { kernel: number; dilation: number; padding: string }): Dim {
    if (isLiteral(out) && out < 1) {
      const side = SIDES[axis];
      const stated = [window.dilation === 1 ? [] : [`dilation ${window.dilation}`], window.padding === '0' ? [] : [`padding ${window.padding}`]].flat();
      const spelled = stated.length === 0 ? '' : ` (${stated.join(', ')})`;
      this.fail(`input ${side} ${x} is too small for kernel ${window.kernel}${spelled}`, 2 + axis);
    }
    return out;
  }
}

/** The zero padding before and after along one axis of an explicit or 'valid' padding. */
function padsAlong(padding: Exclude<Padding2d, 'same'>, axis: Axis): readonly [number, number] {
  if (padding === 'valid') return [0, 0];
  return axis === 0 ? [padding[0], padding[1]] : [padding[2], padding[3]];
}

function spellPads([before, after]: readonly [number, number]): string {
  return before === after ? `${before}` : `${before}+${after}`;
}

/** The output size along one spatial axis of a conv or floor-mode pool. */
function windowOut(
  check: Check,
  x: Dim,
  axis: Axis,
  window: { kernel: number; stride: number; dilation: number; padding: Padding2d },
): Dim {
  const { kernel, stride, dilation, padding } = window;
  if (padding === 'same') return sameOutDim(x, stride);
  const pads = padsAlong(padding, axis);
  const out = convOutDim(x, { kernel, stride, dilation, padTotal: pads[0] + pads[1] });
  return check.positiveOutput(out, x, axis, { kernel, dilation, padding: spellPads(pads) });
}

type Rule<K extends OpKind> = (attrs: AttrsByOp[K], inputs: readonly Shape[], check: Check) => Shape;

interface WindowAttrs {
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly dilation?: Pair;
  readonly padding: Padding2d;
}

/**
 * A 2-D window rule that also reads a rank-3 [N, C, L] input, as [N, C, 1, L]: L is the width, and
 * the window must be trivial along the height (kernel, stride and dilation 1, no padding). The
 * output drops the height again: [N, C', L'].
 */
function alsoOnLines<K extends OpKind>(rule: Rule<K>, windowOf: (attrs: AttrsByOp[K]) => WindowAttrs | undefined): Rule<K> {
  return (a, inputs, check) => {
    const [x] = inputs;
    if (x.length !== 3) return rule(a, inputs, check);
    const w = windowOf(a);
    if (w !== undefined) {
      const padding = w.padding === 'same' || w.padding === 'valid' ? [0, 0] : [w.padding[0], w.padding[1]];
      const trivial = w.kernel[0] === 1 && w.stride[0] === 1 && (w.dilation?.[0] ?? 1) === 1 && padding[0] === 0 && padding[1] === 0;
      if (!trivial) {
        check.fail(
          `reads a rank-3 input [N, C, L] as height 1, so its height kernel, stride and dilation must be 1 and its height padding 0, ` +
            `got kernel [${w.kernel.join(', ')}], stride [${w.stride.join(', ')}], dilation [${(w.dilation ?? [1, 1]).join(', ')}], padding ${show(w.padding)}`,
        );
      }
    }
    const out = rule(a, [[x[0], x[1], 1, x[2]], ...inputs.slice(1)], check);
    return out.length === 4 ? [out[0], out[1], out[3]] : out;
  };
}

function conv2dRule(a: Conv2dAttrs, [x]: readonly Shape[], check: Check): Shape {
  check.rank(x, 4);
  check.count(x, a.inChannels, 'channels');
  check.groupsDivide(a.groups, a.inChannels, 'input channels');
  check.groupsDivide(a.groups, a.outChannels, 'output channels');
  const along = (axis: Axis): Dim =>
    windowOut(check, x[2 + axis], axis, {
      kernel: a.kernel[axis],
      stride: a.stride[axis],
      dilation: a.dilation[axis],
      padding: a.padding,
    });
  return [x[0], a.outChannels, along(0), along(1)];
}

/** On [N, C, ...] a linear maps the features at axis 1 at every position (Keras Dense on any rank). */
function linearRule(a: LinearAttrs, [x]: readonly Shape[], check: Check): Shape {
  if (x.length < 3) check.rank(x, 2);
  check.count(x, a.inFeatures, 'features');
  return x.map((d, i) => (i === 1 ? a.outFeatures : d));
}

function poolRule(a: PoolAttrs, [x]: readonly Shape[], check: Check): Shape {
  check.rank(x, 4);
  const along = (axis: Axis): Dim => {
    const kernel = a.kernel[axis];
    if (a.padding !== 'same') {
      // PyTorch rejects a pad of more than half the kernel: a window could then lie wholly in padding.
      for (const pad of padsAlong(a.padding, axis)) {
        if (2 * pad > kernel) {
          check.fail(`padding ${pad} along the ${SIDES[axis]} is more than half the kernel ${kernel}`, 2 + axis);
        }
      }
    }
    return windowOut(check, x[2 + axis], axis, { kernel, stride: a.stride[axis], dilation: 1, padding: a.padding });
  };
  return [x[0], x[1], along(0), along(1)];
}

function globalPoolRule(a: AttrsByOp['globalAvgPool'], [x]: readonly Shape[], check: Check): Shape {
  check.rank(x, 4);
  return a.keepDims ? [x[0], x[1], 1, 1] : [x[0], x[1]];
}

/**
 * Per-channel layers (norms, scale/shift) keep the shape; `ranks` are the ranks they accept
 * ('2to4': [N, C], [N, C, L] and [N, C, H, W]).
 */
function perChannel(x: Shape, channels: number, ranks: '2to4' | '4', check: Check): Shape {
  if (ranks === '4') check.rank(x, 4);
  else if (x.length !== 3) check.rank2or4(x);
  check.count(x, channels, 'channels');
  return x;
}

const sameShape: Rule<OpKind> = (_a, [x]) => x;

/** The axis lies inside the input (and is not the batch axis, which the attrs already exclude). */
function axisWithin(axis: number, x: Shape, check: Check): void {
  if (axis >= x.length) check.fail(`axis ${axis} is outside a rank-${x.length} input [${rankLabelList(x.length)}]`);
}

/**
 * The shape Keras' merge layers give inputs of these shapes: every rank raised to the largest
 * by 1s after the channel axis, then per dim the common size, a 1 stretching to the other size.
 * The batch dim never stretches. Exported for the typed DSL, which mirrors it.
 */
export function broadcastShapes(shapes: readonly Shape[], fail: (detail: string, dim?: number) => never): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  if (shapes.some((s) => s.length < 2) && shapes.some((s) => s.length !== rank)) {
    fail(`inputs of rank 1 cannot broadcast against rank ${rank}`);
  }
  const padded = shapes.map((s) => padForBroadcast<Dim>(s, rank, 1));
  return padded[0].map((first, i) => {
    let out: Dim = first;
    for (const shape of padded.slice(1)) {
      const d = shape[i];
      if (dimEqual(out, d) || (i > 0 && d === 1)) continue;
      if (i > 0 && out === 1) {
        out = d;
        continue;
      }
      fail(`inputs do not broadcast at dim ${i} (${dimLabel(rank, i)}): ${out} vs ${d}`, i);
    }
    return out;
  });
}

function opaqueRule(a: AttrsByOp['opaque'], inputs: readonly Shape[], check: Check): Shape {
  if (inputs.length !== a.inputShapes.length) check.fail(`${a.className} was built for ${a.inputShapes.length} input(s), got ${inputs.length}`);
  const keras = inputs.map(inChannelsLastOrder);
  keras.forEach((x, i) => {
    const built = a.inputShapes[i];
    const spelled = `[${built.map((d) => d ?? 'null').join(', ')}]`;
    if (x.length !== built.length) check.fail(`${a.className} was built for a rank-${built.length} input ${spelled} (channels-last), got rank ${x.length}`);
    built.forEach((d, k) => {
      if (d !== null && !dimEqual(x[k], d)) check.fail(`${a.className} was built for input ${spelled} (channels-last), got ${x[k]} at axis ${k}`);
    });
  });
  return inChannelsFirstOrder(a.outputShape.map((d, k) => (d === null ? keras[0][k] : d)));
}

function opaqueOutputRule(a: AttrsByOp['opaqueOutput'], [first]: readonly Shape[], check: Check): Shape {
  const keras = inChannelsLastOrder(first);
  const past = a.outputShape.findIndex((d, k) => d === null && k >= keras.length);
  if (past >= 0) check.fail(`output ${a.index} has an unknown size at axis ${past}, past the rank of output 0 [${keras.join(', ')}] that gives it`);
  return inChannelsFirstOrder(a.outputShape.map((d, k) => (d === null ? keras[k] : d)));
}

const RULES: { readonly [K in OpKind]: Rule<K> } = {
  input: (a) => a.shape,
  conv2d: alsoOnLines(conv2dRule, (a) => a),
  weightNormConv2d: alsoOnLines(conv2dRule, (a) => a),
  convTranspose2d: (a, [x], check) => {
    check.rank(x, 4);
    check.count(x, a.inChannels, 'channels');
    check.groupsDivide(a.groups, a.inChannels, 'input channels');
    check.groupsDivide(a.groups, a.outChannels, 'output channels');
    const along = (axis: Axis): Dim => {
      const [kernel, stride, dilation] = [a.kernel[axis], a.stride[axis], a.dilation[axis]];
      const [padding, outputPadding] = [a.padding[axis], a.outputPadding[axis]];
      if (outputPadding >= stride && outputPadding >= dilation) {
        check.fail(
          `outputPadding ${outputPadding} (${SIDES[axis]}) must be smaller than stride ${stride}${dilation === 1 ? '' : ` or dilation ${dilation}`}`,
          2 + axis,
        );
      }
      const out = convTransposeOutDim(x[2 + axis], { kernel, stride, dilation, padding, outputPadding });
      return check.positiveOutput(out, x[2 + axis], axis, { kernel, dilation, padding: `${padding}` });
    };
    return [x[0], a.outChannels, along(0), along(1)];
  },
  linear: linearRule,
  weightNormLinear: linearRule,
  batchNorm: (a, [x], check) => perChannel(x, a.numFeatures, '2to4', check),
  batchRenorm: (a, [x], check) => perChannel(x, a.numFeatures, '2to4', check),
  layerNorm: (a, [x], check) => {
    const normalized = a.normalizedShape;
    if (a.over === 'c') {
      if (normalized.length !== 1) check.fail(`normalizedShape must be [C] when over is 'c', got [${normalized.join(', ')}]`);
      return perChannel(x, normalized[0], '2to4', check);
    }
    perChannel(x, normalized[0], '2to4', check);
    if (normalized.length !== x.length - 1) {
      check.fail(`normalizedShape [${normalized.join(', ')}] must be the input shape without N, [${x.slice(1).join(', ')}]`);
    }
    for (let i = 2; i < x.length; i++) {
      const side = SIDES[i - 2];
      if (!dimEqual(x[i], normalized[i - 1])) check.fail(`input ${side} is ${x[i]}, normalized shape expects ${normalized[i - 1]}`, i);
    }
    return x;
  },
  instanceNorm: (a, [x], check) => perChannel(x, a.numFeatures, '4', check),
  groupNorm: (a, [x], check) => {
    const out = perChannel(x, a.numChannels, '4', check);
    check.groupsDivide(a.groups, a.numChannels, 'channels');
    return out;
  },
  ibn: (a, [x], check) => {
    const out = perChannel(x, a.numFeatures, '4', check);
    if (a.instanceChannels >= a.numFeatures) {
      check.fail(
        `instanceChannels ${a.instanceChannels} must be less than ${a.numFeatures} channels ` +
          '(IBN needs channels for both InstanceNorm and BatchNorm)',
        1,
      );
    }
    return out;
  },
  switchableNorm: (a, [x], check) => perChannel(x, a.numFeatures, '4', check),
  scaleShift: (a, [x], check) => perChannel(x, a.numChannels, '2to4', check),
  normalize: (a, [x], check) => {
    if (a.mean.length !== a.std.length) check.fail(`mean has ${a.mean.length} values but std has ${a.std.length}`);
    return perChannel(x, a.mean.length, '2to4', check);
  },
  relu: sameShape,
  relu6: sameShape,
  leakyRelu: sameShape,
  sigmoid: sameShape,
  tanh: sameShape,
  activation: sameShape,
  elu: sameShape,
  generalRelu: sameShape,
  dropout: (a, [x], check) => {
    // gaussianNoise's rate is a standard deviation; every other kind's is a probability.
    if (a.kind !== 'gaussianNoise' && a.rate >= 1) check.fail(`${a.kind} rate ${a.rate} must be below 1`);
    if (a.kind === 'spatialDropout' && x.length < 3) check.fail(`spatialDropout expects a rank-3 or rank-4 input, got rank ${x.length}`);
    return x;
  },
  identity: sameShape,
  prelu: (a, [x], check) => {
    if (a.alphaShape.length !== x.length - 1) {
      check.fail(`alpha has rank ${a.alphaShape.length} ([${a.alphaShape.join(', ')}]); a rank-${x.length} input needs rank ${x.length - 1} (every dim but N)`);
    }
    a.alphaShape.forEach((d, i) => {
      if (d !== 1 && !dimEqual(x[i + 1], d)) {
        check.fail(`alpha has size ${d} at dim ${i + 1} (${dimLabel(x.length, i + 1)}), the input ${x[i + 1]}; it must be equal or 1 (shared)`, i + 1);
      }
    });
    return x;
  },
  softmax: (a, [x], check) => {
    axisWithin(a.axis, x, check);
    return x;
  },
  logSoftmax: (a, [x], check) => {
    axisWithin(a.axis, x, check);
    return x;
  },
  merge: (a, inputs, check) => {
    if (a.fn === 'subtract' && inputs.length !== 2) check.fail(`subtract takes exactly 2 inputs, got ${inputs.length}`);
    return broadcastShapes(inputs, (detail, dim) => check.fail(detail, dim));
  },
  concatAxis: (a, inputs, check) => {
    axisWithin(a.axis, inputs[0], check);
    check.sameShapes(inputs, 'inputs', a.axis);
    return inputs[0].map((d, i) => (i === a.axis ? dimSum(inputs.map((s) => s[a.axis])) : d));
  },
  add: (_a, inputs, check) => {
    check.sameShapes(inputs, 'branch shapes');
    return inputs[0];
  },
  concat: (_a, inputs, check) => {
    if (inputs[0].length !== 3) check.rank2or4(inputs[0]);
    check.sameShapes(inputs, 'inputs', 1);
    const [first] = inputs;
    return first.map((d, i) => (i === 1 ? dimSum(inputs.map((s) => s[1])) : d));
  },
  maxPool2d: alsoOnLines(poolRule, (a) => a),
  avgPool2d: alsoOnLines(poolRule, (a) => a),
  globalAvgPool: alsoOnLines(globalPoolRule, () => undefined),
  globalMaxPool: alsoOnLines(globalPoolRule, () => undefined),
  upsample2d: (a, [x], check) => {
    check.rank(x, 4);
    return [x[0], x[1], dimScale(x[2], a.scale[0]), dimScale(x[3], a.scale[1])];
  },
  transpose: (a, [x], check) => {
    if (a.perm.length !== x.length) check.fail(`perm [${a.perm.join(', ')}] has ${a.perm.length} axes but the input has rank ${x.length}`);
    return a.perm.map((axis) => x[axis]);
  },
  reshape: (a, [x], check) => {
    if (x.length < 2) check.fail(`expects a rank-2 or higher input [N, ...], got rank ${x.length}`);
    const from = dimProduct(x.slice(1));
    const to = a.shape.reduce((p, d) => p * d, 1);
    if (!dimEqual(from, to)) check.fail(`cannot reshape ${from} values per sample into [${a.shape.join(', ')}] (${to})`);
    return [x[0], ...a.shape];
  },
  repeatVector: (a, [x], check) => {
    check.rank(x, 2);
    return [x[0], x[1], a.times];
  },
  resize2d: (a, [x], check) => {
    check.rank(x, 4);
    return [x[0], x[1], a.size[0], a.size[1]];
  },
  flatten: (_a, [x], check) => {
    if (x.length < 2) check.fail(`expects a rank-2 or higher input [N, ...], got rank ${x.length}`);
    return [x[0], dimProduct(x.slice(1))];
  },
  crop2d: (a, [x], check) => {
    check.rank(x, 4);
    const along = (axis: Axis): Dim => {
      const [before, after] = [a.crop[2 * axis], a.crop[2 * axis + 1]];
      const out = dimAdd(x[2 + axis], -(before + after));
      if (isLiteral(out) && out < 1) {
        const side = SIDES[axis];
        check.fail(`input ${side} ${x[2 + axis]} is too small for the crop ${before}+${after}`, 2 + axis);
      }
      return out;
    };
    return [x[0], x[1], along(0), along(1)];
  },
  opaque: opaqueRule,
  opaqueOutput: opaqueOutputRule,
};

const VARIADIC: ReadonlySet<OpKind> = new Set(['add', 'concat', 'merge', 'concatAxis']);

function checkArity(node: Node, inputShapes: readonly Shape[]): void {
  const n = node.inputs.length;
  const fail = (detail: string): never => {
    throw new GraphError(`${nodePrefix(node.op, node.name)}${detail}`, node.name);
  };
  if (node.op === 'input') {
    if (n !== 0) fail(`takes no inputs, got ${n}`);
  } else if (node.op === 'opaque') {
    if (n < 1) fail('needs at least 1 input, got 0');
  } else if (VARIADIC.has(node.op)) {
    if (n < 2) fail(`needs at least 2 inputs, got ${n}`);
  } else if (n !== 1) {
    fail(`takes 1 input, got ${n}`);
  }
  if (inputShapes.length !== n) fail(`has ${n} inputs but ${inputShapes.length} input shapes were given`);
}

/**
 * The output shape of `node` given its inputs' shapes. Throws a ShapeError when the inputs do
 * not fit the layer, a GraphError when the node itself is malformed (attrs, number of inputs).
 */
export function inferNodeShape(node: Node, inputShapes: readonly Shape[]): Shape {
  checkAttrs(node);
  checkArity(node, inputShapes);
  const rule = RULES[node.op] as Rule<OpKind>;
  return rule(node.attrs as never, inputShapes, new Check(node.name, node.op));
}

/**
 * Every node's shape, in node order. `inputShapes` replaces the declared shapes of the named
 * input nodes (e.g. concrete sizes at run time; see `bindInputShapes` to check them first).
 */
export function inferShapes(graph: Graph, inputShapes: Readonly<Record<string, Shape>> = {}): Map<string, Shape> {
  const inputNodes = new Set(graph.nodes.filter((n) => n.op === 'input').map((n) => n.name));
  for (const [name, shape] of Object.entries(inputShapes)) {
    if (!inputNodes.has(name)) throw new GraphError(`a shape was given for '${name}', which is not an input node`);
    checkInputDims(name, shape);
  }
  const shapes = new Map<string, Shape>();
  for (const node of graph.nodes) {
    const argShapes = node.inputs.map((input) => {
      const shape = shapes.get(input);
      if (shape === undefined) {
        throw new GraphError(`${nodePrefix(node.op, node.name)}input '${input}' is not an earlier node`, node.name);
      }
      return shape;
    });
    const inferred = inferNodeShape(node, argShapes);
    shapes.set(node.name, Object.hasOwn(inputShapes, node.name) ? inputShapes[node.name] : inferred);
  }
  return shapes;
}

/**
 * Checks concrete input sizes against the declared input shapes and returns the value of every
 * symbol: a literal dim must match exactly and a symbol must take one value wherever it appears.
 */
export function bindInputShapes(
  graph: Graph,
  concrete: Readonly<Record<string, readonly number[]>>,
): Record<string, number> {
  for (const name of Object.keys(concrete)) {
    if (!graph.inputs.includes(name)) {
      throw new GraphError(`'${name}' is not an input of the graph (its inputs: ${graph.inputs.join(', ')})`);
    }
  }
  const bindings: Record<string, number> = {};
  const boundAt = new Map<string, { input: string; dim: number }>();
  for (const name of graph.inputs) {
    const node = graph.nodes.find((n) => n.name === name);
    if (node?.op !== 'input') throw new GraphError(`graph input '${name}' is not an input node`, name);
    if (!Object.hasOwn(concrete, name)) throw new GraphError(`no value given for input '${name}'`, name);
    const declared = node.attrs.shape;
    const values = concrete[name];
    const fail = (detail: string, dim?: number): never => {
      throw new ShapeError(name, 'input', detail, dim);
    };
    if (values.length !== declared.length) {
      fail(`expects a rank-${declared.length} input [${rankLabelList(declared.length)}], got rank ${values.length}`);
    }
    declared.forEach((d, i) => {
      const v = values[i];
      const label = dimLabel(declared.length, i);
      if (!Number.isSafeInteger(v) || v < 1) fail(`dim ${i} (${label}) must be a positive integer, got ${v}`, i);
      if (isLiteral(d)) {
        if (v !== d) fail(`dim ${i} (${label}) is ${v}, the model expects ${d}`, i);
        return;
      }
      if (!isSymbolName(d)) throw new GraphError(`input '${name}': declared dim ${i} '${d}' is not a symbol`, name);
      const first = boundAt.get(d);
      if (first === undefined) {
        bindings[d] = v;
        boundAt.set(d, { input: name, dim: i });
      } else if (bindings[d] !== v) {
        const where = first.input === name ? `dim ${first.dim}` : `input '${first.input}' dim ${first.dim}`;
        fail(`symbol ${d} is ${bindings[d]} in ${where} but ${v} in dim ${i}`, i);
      }
    });
  }
  return bindings;
}
