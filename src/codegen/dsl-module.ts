/**
 * An IR graph (typically an imported tfjs Layers model) written back as a typed DSL module:
 *
 *   export function network(image: d.Tensor<['N', 3, 224, 224]>): d.Returns<['N', 1000]> {
 *     const conv1 = image.to(d.conv2d({ in: 3, out: 64, kernel: 7, stride: 2, padding: 3, name: 'conv1' }));
 *     ...
 *   }
 *   export function model() { ... }          // the graph, parameters freshly initialised
 *   export async function load(path?) { ... } // the graph with the weights of the model it came from
 *
 * One statement per node, each a builder call under the node's own name, so `model()` rebuilds the
 * imported graph node for node (names, attrs, edges) and the compiler checks every shape along the
 * way: a hand edit that breaks a shape is one type error, on the edited line. The signature states
 * the input and output shapes the run-time inference computed; the output as `d.Returns<S>`, which
 * takes a tensor poisoned upstream without a second error, and any other shape with one.
 *
 * Nodes with no DSL spelling (an asymmetric pool padding, an op without a builder) are a named
 * error: the module is written whole or not at all.
 */
import { ShapefoldError } from '../ir/errors.ts';
import type { Dim, Graph, Node, Pair, Shape } from '../ir/graph.ts';
import { validateGraph } from '../ir/validate.ts';

export class CodegenError extends ShapefoldError {
  override readonly name = 'CodegenError';
}

export interface CodegenOptions {
  /** Where the generated module imports the DSL from (default 'shapefold/dsl'). */
  readonly dslModule?: string;
  /** Where it imports `readLayersModel` and `copyParams` from (default 'shapefold'). */
  readonly coreModule?: string;
  /** The Layers model.json `load()` reads by default, relative to the generated module. */
  readonly weightsPath?: string;
  /** Named in errors and in the module's header (default 'model'). */
  readonly source?: string;
}

type ConfigValue = number | string | boolean | null | readonly number[];

/** A config object literal, fields in the order given, undefined ones left out. */
function config(fields: Record<string, ConfigValue | undefined>): string {
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${literal(v as ConfigValue)}`);
  return parts.length === 0 ? '' : `{ ${parts.join(', ')} }`;
}

function literal(v: ConfigValue): string {
  if (typeof v === 'string') return quote(v);
  if (Array.isArray(v)) return `[${v.map(numberLiteral).join(', ')}]`;
  return typeof v === 'number' ? numberLiteral(v) : String(v);
}

/** `-0` kept (String(-0) is '0'): a Rescaling offset of -0 must round-trip to the same attrs. */
const numberLiteral = (n: number): string => (Object.is(n, -0) ? '-0' : String(n));

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A pair as the DSL writes it: `3` when both sides agree, else `[3, 5]`; `undefined` when it is the default. */
function pair(p: Pair, fallback?: number): number | readonly number[] | undefined {
  if (p[0] === p[1]) return p[0] === fallback ? undefined : p[0];
  return [p[0], p[1]];
}

/** A shape as a tuple type: `['N', 3, 224, 224]`. */
export function shapeType(shape: Shape): string {
  return `[${shape.map((d: Dim) => (typeof d === 'number' ? String(d) : quote(d))).join(', ')}]`;
}

const RESERVED = new Set(
  ('break case catch class const continue debugger default delete do else enum export extends false finally for function if import in ' +
    'instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface ' +
    'package private protected public await d model network load arguments eval undefined NaN Infinity').split(' '),
);

/** JavaScript identifiers for node names, unique, none shadowing the module's own names. */
function identifiers(graph: Graph): Map<string, string> {
  const taken = new Set<string>();
  const ids = new Map<string, string>();
  for (const node of graph.nodes) {
    let base = node.name.replace(/[^A-Za-z0-9_$]/g, '_');
    if (/^[0-9]/.test(base) || base === '') base = `_${base}`;
    if (RESERVED.has(base)) base = `${base}_`;
    let id = base;
    for (let k = 2; taken.has(id); k++) id = `${base}_${k}`;
    taken.add(id);
    ids.set(node.name, id);
  }
  return ids;
}

/** The builder call that rebuilds `node` (its inputs are applied by the caller), or a reason it has none. */
function builderCall(node: Node, inputShape: Shape, fail: (detail: string) => never): string {
  const name = node.name;
  switch (node.op) {
    case 'conv2d':
    case 'weightNormConv2d': {
      const a = node.attrs;
      const padding = a.padding === 'same' || a.padding === 'valid' ? a.padding : convPadding(a.padding);
      return `d.${node.op}(${config({
        in: a.inChannels,
        out: a.outChannels,
        kernel: pair(a.kernel),
        stride: pair(a.stride, 1),
        padding,
        dilation: pair(a.dilation, 1),
        groups: a.groups === 1 ? undefined : a.groups,
        bias: a.bias ? undefined : false,
        name,
      })})`;
    }
    case 'convTranspose2d': {
      const a = node.attrs;
      return `d.convTranspose2d(${config({
        in: a.inChannels,
        out: a.outChannels,
        kernel: pair(a.kernel),
        stride: pair(a.stride, 1),
        padding: pair(a.padding, 0),
        outputPadding: pair(a.outputPadding, 0),
        dilation: pair(a.dilation, 1),
        groups: a.groups === 1 ? undefined : a.groups,
        bias: a.bias ? undefined : false,
        name,
      })})`;
    }
    case 'linear':
    case 'weightNormLinear': {
      const a = node.attrs;
      return `d.${node.op}(${config({ in: a.inFeatures, out: a.outFeatures, bias: a.bias ? undefined : false, name })})`;
    }
    case 'batchNorm': {
      const a = node.attrs;
      return `d.batchNorm(${config({
        channels: a.numFeatures,
        eps: a.eps,
        ...runningStats(a.decay, a.unbiasedRunningVar),
        frozen: a.frozen ? true : undefined,
        affine: a.affine === false ? false : undefined,
        trackRunningStats: a.trackRunningStats === false ? false : undefined,
        name,
      })})`;
    }
    case 'relu':
    case 'relu6':
    case 'sigmoid':
    case 'tanh':
    case 'identity':
      return `d.${node.op}(${config({ name })})`;
    case 'leakyRelu':
      return `d.leakyRelu(${config({ alpha: node.attrs.alpha, name })})`;
    case 'dropout':
      return `d.dropout(${config({ rate: node.attrs.rate, kind: node.attrs.kind === 'dropout' ? undefined : node.attrs.kind, name })})`;
    case 'maxPool2d':
    case 'avgPool2d': {
      const a = node.attrs;
      const builder = node.op === 'maxPool2d' ? 'maxPool' : 'avgPool';
      const padding = a.padding === 'same' || a.padding === 'valid' ? a.padding : poolPadding(a.padding, fail);
      const countIncludePad = node.op === 'avgPool2d' && node.attrs.countIncludePad ? true : undefined;
      return `d.${builder}(${config({ kernel: pair(a.kernel), stride: pair(a.stride), padding, countIncludePad, name })})`;
    }
    case 'globalAvgPool':
    case 'globalMaxPool':
      return `d.${node.op}(${config({ keepDims: node.attrs.keepDims ? true : undefined, name })})`;
    case 'softmax':
    case 'logSoftmax':
      return `d.${node.op}(${config({ axis: node.attrs.axis === 1 ? undefined : node.attrs.axis, name })})`;
    case 'activation':
      return node.attrs.fn === 'geluTanh' ? `d.gelu(${config({ approximate: 'tanh', name })})` : `d.${node.attrs.fn}(${config({ name })})`;
    case 'elu':
      return `d.elu(${config({ alpha: node.attrs.alpha === 1 ? undefined : node.attrs.alpha, name })})`;
    case 'generalRelu': {
      const a = node.attrs;
      return `d.generalRelu(${config({ maxValue: a.maxValue ?? undefined, negativeSlope: a.negativeSlope || undefined, threshold: a.threshold || undefined, name })})`;
    }
    case 'prelu': {
      // The DSL sizes alpha from the input; an axis where alpha is 1 and the input is not is shared.
      const sharedAxes = node.attrs.alphaShape.flatMap((size, k) => (size === 1 && inputShape[k + 1] !== 1 ? [k + 1] : []));
      return `d.prelu(${config({ sharedAxes: sharedAxes.length === 0 ? undefined : sharedAxes, name })})`;
    }
    case 'upsample2d': {
      const a = node.attrs;
      return `d.upsample2d(${config({ scale: pair(a.scale, 2), interpolation: a.interpolation === 'nearest' ? undefined : a.interpolation, name })})`;
    }
    case 'resize2d': {
      const a = node.attrs;
      return `d.resize2d(${config({ size: [a.size[0], a.size[1]], interpolation: a.interpolation === 'nearest' ? undefined : a.interpolation, alignCorners: a.alignCorners || undefined, name })})`;
    }
    case 'transpose':
      return `d.permute(${config({ dims: node.attrs.perm.slice(1), name })})`;
    case 'reshape':
      return `d.reshape(${config({ shape: node.attrs.shape, name })})`;
    case 'repeatVector':
      return `d.repeatVector(${config({ times: node.attrs.times, name })})`;
    case 'layerNorm': {
      const a = node.attrs;
      return `d.layerNorm(${config({ normalizedShape: a.normalizedShape, over: a.over === 'chw' ? undefined : a.over, eps: a.eps, affine: a.affine ? undefined : false, name })})`;
    }
    case 'scaleShift':
      return `d.scaleShift(${config({ channels: node.attrs.numChannels, name })})`;
    case 'normalize':
      return `d.normalize(${config({ mean: node.attrs.mean, std: node.attrs.std, name })})`;
    case 'flatten':
      return `d.flatten(${config({ name })})`;
    case 'crop2d':
      return `d.crop2d(${config({ crop: node.attrs.crop, name })})`;
    case 'opaque':
      return fail(`is an opaque ${node.attrs.className} layer, which only tfjs-layers runs; the typed DSL has no builder for it`);
    default:
      return fail(`is a ${node.op}, which has no DSL builder yet`);
  }
}

/** The IR's [top, bottom, left, right] as the shortest DSL spelling. */
function convPadding(p: readonly [number, number, number, number]): number | readonly number[] | undefined {
  const [t, b, l, r] = p;
  if (t === b && l === r) return pair([t, l], 0);
  return [t, b, l, r];
}

function poolPadding(p: readonly [number, number, number, number], fail: (detail: string) => never): number | readonly number[] | undefined {
  const [t, b, l, r] = p;
  if (t !== b || l !== r) fail(`pads [${p.join(', ')}]; DSL pools pad each side alike`);
  return pair([t, l], 0);
}

/** The DSL's momentum convention that records `decay` and the running-variance bias. */
function runningStats(decay: number | null, unbiased: boolean): { convention?: string; momentum?: number | null } {
  if (decay === null) return unbiased ? { momentum: null } : { convention: 'keras', momentum: null };
  if (!unbiased) return { convention: 'keras', momentum: decay === 0.99 ? undefined : decay };
  const momentum = 1 - decay;
  return { momentum: Math.abs(momentum - 0.1) < 1e-12 ? undefined : momentum };
}

/** The typed DSL module for `graph` (see the file comment). */
export function dslModuleSource(graph: Graph, options: CodegenOptions = {}): string {
  const source = options.source ?? 'model';
  const shapes = validateGraph(graph);
  const ids = identifiers(graph);
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const idOf = (name: string) => ids.get(name) as string;
  const inputs = graph.inputs.map((name) => byName.get(name) as Node & { op: 'input' });
  const outputType = (name: string) => `d.Returns<${shapeType(shapes.get(name) as Shape)}>`;

  const body: string[] = [];
  for (const node of graph.nodes) {
    if (node.op === 'input') continue;
    const fail = (detail: string): never => {
      throw new CodegenError(`${source}: node '${node.name}' ${detail}`);
    };
    const id = idOf(node.name);
    if (node.op === 'add' || node.op === 'concat' || node.op === 'merge' || node.op === 'concatAxis') {
      // A Keras Add that broadcasts imports as merge 'add'; d.add is the equal-shape residual sum.
      const builder = node.op === 'merge' ? (node.attrs.fn === 'add' ? 'broadcastAdd' : node.attrs.fn) : node.op === 'concatAxis' ? 'concat' : node.op;
      const axis = node.op === 'concatAxis' ? node.attrs.axis : undefined;
      body.push(`  const ${id} = d.${builder}(${node.inputs.map(idOf).join(', ')}, ${config({ axis, name: node.name })});`);
    } else {
      body.push(`  const ${id} = ${idOf(node.inputs[0])}.to(${builderCall(node, shapes.get(node.inputs[0]) as Shape, fail)});`);
    }
  }
  const single = graph.outputs.length === 1;
  const returnType = single ? outputType(graph.outputs[0]) : `[${graph.outputs.map(outputType).join(', ')}]`;
  body.push(`  return ${single ? idOf(graph.outputs[0]) : `[${graph.outputs.map(idOf).join(', ')}]`};`);

  const params = inputs.map((n) => `${idOf(n.name)}: d.Tensor<${shapeType(n.attrs.shape)}>`).join(', ');
  const scopeLine = inputs.length > 1 ? ['  const scope = d.scope();'] : [];
  const inputLines = inputs.map((n) => {
    const options = inputs.length > 1 ? `{ name: ${quote(n.name)}, scope }` : config({ name: n.name });
    return `  const ${idOf(n.name)} = d.input(${shapeType(n.attrs.shape)}, ${options});`;
  });
  const weights = options.weightsPath;
  return [
    `// Generated by \`shapefold codegen\` from ${source}: one builder call per layer, under the layer's own name.`,
    '// Edit freely: the compiler checks every shape, and load() still reads the weights by layer name.',
    ...(weights === undefined ? [] : ["import { fileURLToPath } from 'node:url';"]),
    `import { copyParams, readLayersModel, type Graph } from '${options.coreModule ?? 'shapefold'}';`,
    `import * as d from '${options.dslModule ?? 'shapefold/dsl'}';`,
    '',
    `export function network(${params}): ${returnType} {`,
    ...body,
    '}',
    '',
    '/** The network as an IR graph, its parameters freshly initialised. */',
    'export function model(): { readonly graph: Graph } {',
    ...scopeLine,
    ...inputLines,
    `  return d.model(network(${inputs.map((n) => idOf(n.name)).join(', ')}));`,
    '}',
    '',
    '/** The network with the weights of a tfjs Layers model.json, matched by layer name. */',
    weights === undefined
      ? 'export async function load(modelJson: string): Promise<Graph> {'
      : `export async function load(modelJson: string = fileURLToPath(new URL(${quote(weights)}, import.meta.url))): Promise<Graph> {`,
    '  return copyParams(model().graph, (await readLayersModel(modelJson)).graph);',
    '}',
    '',
  ].join('\n');
}
