/**
 * Applying one matched rule: bind the matched nodes, check the value conditions, evaluate every
 * new parameter and build the replacement chain (the engine splices it into the graph).
 *
 * Binding (`EvalEnv`, src/algebra/evaluate.ts): each role's params read as float64 (their exact
 * values if an earlier fold produced them, see below); absent
 * optional params as zeros (a conv/linear without bias gets a zero bias, a conv2d without tapBias
 * zero taps) and a norm without affine (affine: false) as gamma 1, beta 0; numeric-list attrs (normalize's mean and std) as tensors; numeric attrs (eps,
 * alpha) as scalars; `${role}.spatial` = the product of the role's literal input dims after the
 * channel axis (H*W before a flatten).
 *
 * Values: conditions nonNegative / zero / nonZero / notAllOne on evaluate.ts values (a failure is
 * a refusal naming the node, the channel and the value). Every replacement param is evaluated in
 * float64 by evaluate.ts and rounded to float32; a value that is not finite after rounding is a
 * refusal. One exact clean-up, before rounding: a conv2d whose padding is zero reads every tap at
 * every position, so its tapBias is the constant sum over taps and joins the bias (and an all-zero
 * tapBias is dropped).
 *
 * Rounded once, however many folds: a node a fold produced carries float32 params, but a later
 * fold on it must start from the exact values, or a conv folded from both sides (normalize ->
 * conv -> BN) would be rounded twice. So each fold also returns the exact value of every param
 * it made (`Exact`: vectors and tap biases in float64; a weight as the original float32 base
 * parameter with its composed float64 row factors), and the engine binds a later fold on that
 * node from them. Every param of the folded graph is then the single rounding of its exact value.
 *
 * Safety: a matched node's non-zero parameter that the rule never reads would be silently
 * dropped, so that is a refusal too (e.g. a tapBias from an earlier fold meeting a rule that
 * does not carry it); and the replacement must produce the matched chain's output shape.
 *
 * Attributes of a replacement node: overrides from the rule, else the `attrsFrom` role's (with its
 * 'same' padding written explicitly if a padding condition resolved it), else derived from the
 * input shape (numChannels / numFeatures = C). Naming, so reports stay readable and outputs keep
 * their names: a node made from a role's attributes takes that node's name (conv1 + bn1 ->
 * 'conv1'); a node with no `attrsFrom` takes the name of the last matched node not yet reused
 * (conv1 -> relu1 -> bn1 gives conv1 -> relu1 -> 'bn1', the shift left by bn1); if the last
 * matched node is a graph output, the last replacement node takes its name. Consumers of the
 * last matched node are rewired to the last replacement node; the replacement chain takes the
 * last matched node's place in the node order.
 */
import { affineOf, isAffineOp } from '../algebra/affine.ts';
import {
  evaluateTaps,
  evaluateVector,
  evaluateWeight,
  evaluateWeightFloat32,
  type Evaluated,
  type Float32Weight,
  valuesOf,
  RuleEvaluationError,
  type BoundRole,
  type BoundTensor,
  type EvalEnv,
} from '../algebra/evaluate.ts';
import { isTapExpr, isWeightExpr, nameOf, roleOf, type ParamExpr, type VExpr, type WExpr } from '../algebra/expr.ts';
import type { Condition, ReplacementNode, Rule } from '../algebra/rule.ts';
import { attrFieldsOf } from '../ir/attrs.ts';
import { ShapefoldError } from '../ir/errors.ts';
import type { Node, OpKind, ParamTensor, Shape } from '../ir/graph.ts';
import { optionalParamShapes, paramShapes, type OpWithAttrs } from '../ir/params.ts';
import { inferNodeShape } from '../ir/shapes.ts';
import { dimEqual } from '../shape/dim.ts';
import { FoldRuleError } from './errors.ts';
import { label, type GraphIndex, type Placed } from './graph-index.ts';
import type { ExplicitPadding, Match, Refusal } from './match.ts';

/** One applied fold, as the report lists it. */
export interface FoldRecord {
  readonly rule: string;
  readonly statement: string;
  readonly matched: readonly { readonly name: string; readonly op: OpKind }[];
  readonly produced: readonly { readonly name: string; readonly op: OpKind }[];
}

/** The exact values of a produced node's params, by param name (see the file comment). */
export type Exact = Readonly<Record<string, BoundTensor>>;

/** A replacement node with its shape and the exact values its float32 params round. */
export interface Produced extends Placed {
  readonly exact: Exact;
}

export type ApplyOutcome =
  /** The replacement chain, to put where the matched chain was (LiveGraph.replace). */
  | { readonly kind: 'applied'; readonly replacement: readonly Produced[]; readonly record: FoldRecord }
  | { readonly kind: 'refusal'; readonly refusal: Refusal };

type Tensor64 = { shape: readonly number[]; data: Float64Array };

function isExprNode(v: unknown): v is ParamExpr {
  return typeof v === 'object' && v !== null && 'kind' in v;
}

/** Every sub-expression, the expression itself first. */
function subExpressions(e: ParamExpr): ParamExpr[] {
  const children = Object.values(e).flatMap((v: unknown) => (Array.isArray(v) ? v.filter(isExprNode) : isExprNode(v) ? [v] : []));
  return [e, ...children.flatMap(subExpressions)];
}

interface RuleFacts {
  /** `role.name` for every parameter the rule reads; `role.*` for a role read through its affine form. */
  readonly referenced: ReadonlySet<string>;
  /** The `repeat` counts the rule needs. */
  readonly counts: readonly string[];
}

// Rules are immutable data: what is derived from one is derived once.
const factsByRule = new WeakMap<Rule, RuleFacts>();

function factsOf(rule: Rule): RuleFacts {
  const known = factsByRule.get(rule);
  if (known !== undefined) return known;
  const fromConditions = rule.conditions.flatMap((c) => ('expr' in c ? [c.expr] : []));
  const expressions = [...rule.replacement.flatMap((r) => Object.values(r.params)), ...fromConditions].flatMap(subExpressions);
  const referenced = new Set<string>();
  for (const e of expressions) {
    if ('ref' in e) referenced.add(e.ref);
    if (e.kind === 'affine') referenced.add(`${e.role}.*`);
  }
  for (const c of rule.conditions) if (c.kind === 'hasParam') referenced.add(c.ref);
  const counts = [...new Set(expressions.flatMap((e) => (e.kind === 'repeat' ? [e.times] : [])))];
  const facts = { referenced, counts };
  factsByRule.set(rule, facts);
  return facts;
}

/** Float32 values read as doubles exactly, so weights are bound without a float64 copy. */
function toBound(p: ParamTensor): BoundTensor {
  return { shape: [...p.shape], data: p.data };
}

/** The one rounding of a folded parameter to float32, and the first non-finite result (or -1). */
function roundChecked(values: Float64Array): { data: Float32Array; bad: number } {
  const data = new Float32Array(values.length);
  let bad = -1;
  for (let k = 0; k < values.length; k++) {
    data[k] = values[k];
    if (bad < 0 && data[k] - data[k] !== 0) bad = k;
  }
  return { data, bad };
}

function zerosOf(shape: readonly number[]): BoundTensor {
  return { shape, data: new Float64Array(shape.reduce((a, d) => a * d, 1)) };
}

function bindRole(node: Node, exact: Exact | undefined): BoundRole {
  const tensors: Record<string, BoundTensor> = {};
  const scalars: Record<string, number> = {};
  for (const [name, value] of Object.entries(node.attrs as Readonly<Record<string, unknown>>)) {
    if (typeof value === 'number') scalars[name] = value;
    else if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number')) {
      tensors[name] = { shape: [value.length], data: Float64Array.from(value as number[]) };
    }
  }
  // With its bias and affine switched on, the node's param table names every param it could carry.
  const switchedOn = { ...('bias' in node.attrs ? { bias: true } : {}), ...('affine' in node.attrs ? { affine: true } : {}) };
  const withBias = { ...node, attrs: { ...node.attrs, ...switchedOn } } as Node;
  const possible = { ...paramShapes(withBias), ...optionalParamShapes(withBias) };
  for (const [name, shape] of Object.entries(possible)) {
    const given = (node.params as Readonly<Record<string, ParamTensor | undefined>>)[name];
    const known = given === undefined ? undefined : exact?.[name];
    if (known !== undefined) tensors[name] = known;
    else if (given !== undefined) tensors[name] = toBound(given);
    else if (name === 'bias' || name === 'tapBias' || name === 'beta') tensors[name] = zerosOf(shape);
    else if (name === 'gamma') tensors[name] = { shape, data: new Float64Array(shape.reduce((a, d) => a * d, 1)).fill(1) };
  }
  return { op: node.op, attrs: node.attrs, tensors, scalars };
}

function spatialCount(shape: Shape | undefined): number | undefined {
  if (shape === undefined || shape.length < 3) return undefined;
  const trailing = shape.slice(2);
  return trailing.every((d) => typeof d === 'number') ? (trailing as number[]).reduce((a, d) => a * d, 1) : undefined;
}

function bindEnv(match: Match, index: GraphIndex, exact: ReadonlyMap<string, Exact>): EvalEnv {
  const roles: Record<string, BoundRole> = {};
  const counts: Record<string, number> = {};
  for (const [role, node] of Object.entries(match.roles)) {
    roles[role] = bindRole(node, exact.get(node.name));
    const spatial = spatialCount(index.shapes.get(node.inputs[0]));
    if (spatial !== undefined) counts[`${role}.spatial`] = spatial;
  }
  return { roles, counts };
}

function baseWeight(w: WExpr): string {
  return w.kind === 'weight' ? w.ref : baseWeight(w.weight);
}

/** Output units of the weight a vector expression reads (convTranspose: axis 1 times groups). */
function outUnitsOf(w: WExpr, env: EvalEnv): number {
  const ref = baseWeight(w);
  const bound = env.roles[roleOf(ref)];
  const tensor = bound?.tensors[nameOf(ref)];
  if (bound === undefined || tensor === undefined) throw new RuleEvaluationError(`no weight '${ref}'`);
  if (bound.op === 'convTranspose2d') return tensor.shape[1] * (bound.attrs as { groups: number }).groups;
  return tensor.shape[0];
}

/** The number of entries a vector expression has; undefined for a scalar. */
function lengthOf(e: VExpr, env: EvalEnv): number | undefined {
  switch (e.kind) {
    case 'param': {
      const t = env.roles[roleOf(e.ref)]?.tensors[nameOf(e.ref)];
      if (t === undefined) throw new RuleEvaluationError(`no tensor '${e.ref}'`);
      return t.data.length;
    }
    case 'attr':
    case 'num':
      return undefined;
    case 'add':
    case 'mul':
      return e.args.map((a) => lengthOf(a, env)).find((l) => l !== undefined);
    case 'neg':
    case 'recip':
    case 'sqrt':
      return lengthOf(e.arg, env);
    case 'affine': {
      const bound = env.roles[e.role];
      if (bound === undefined || !isAffineOp(bound.op)) throw new RuleEvaluationError(`role '${e.role}' is not an affine-per-channel node`);
      return lengthOf(affineOf(bound.op, e.role)[e.part], env);
    }
    case 'repeat': {
      const inner = lengthOf(e.arg, env);
      const times = env.counts[e.times];
      return inner === undefined || times === undefined ? inner : inner * times;
    }
    case 'matvec':
    case 'rowNorm':
      return outUnitsOf(e.weight, env);
  }
}

function formatValue(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
}

/** "bn2 (batchNorm)": the matched nodes an expression reads, for messages. */
function nodesRead(e: VExpr, match: Match): string {
  const roles = new Set(subExpressions(e).flatMap((s) => ('ref' in s ? [roleOf(s.ref)] : s.kind === 'affine' ? [s.role] : [])));
  return [...roles].flatMap((r) => (match.roles[r] ? [label(match.roles[r])] : [])).join(', ');
}

/** Why a value condition fails, or undefined when it holds. */
function valueProblem(condition: Condition, env: EvalEnv, match: Match): string | undefined {
  if (condition.kind !== 'nonNegative' && condition.kind !== 'zero' && condition.kind !== 'nonZero' && condition.kind !== 'notAllOne') {
    return undefined;
  }
  const values = evaluateVector(condition.expr, env, lengthOf(condition.expr, env) ?? 1);
  const subject = `the ${condition.what} of ${nodesRead(condition.expr, match)}`;
  const at = (k: number) => (values.length === 1 ? `is ${formatValue(values[k])}` : `is ${formatValue(values[k])} at channel ${k}`);
  switch (condition.kind) {
    case 'nonNegative': {
      const k = values.findIndex((v) => !(v >= 0));
      return k < 0 ? undefined : `${subject} must be >= 0 but ${at(k)}`;
    }
    case 'zero': {
      const k = values.findIndex((v) => v !== 0);
      return k < 0 ? undefined : `${subject} must be 0 but ${at(k)}`;
    }
    case 'nonZero': {
      const k = values.findIndex((v) => !(Number.isFinite(v) && v !== 0));
      return k < 0 ? undefined : `${subject} must be finite and non-zero but ${at(k)}`;
    }
    case 'notAllOne':
      return values.every((v) => v === 1) ? `${subject} is 1 on every channel: nothing to move` : undefined;
  }
}

/** A matched node's non-zero parameter the rule never reads, which the rewrite would drop. */
function droppedParam(match: Match, referenced: ReadonlySet<string>, exact: ReadonlyMap<string, Exact>): string | undefined {
  for (const [role, node] of Object.entries(match.roles)) {
    if (referenced.has(`${role}.*`)) continue;
    for (const [name, p] of Object.entries(node.params as Readonly<Record<string, ParamTensor | undefined>>)) {
      if (p === undefined || referenced.has(`${role}.${name}`)) continue;
      const known = exact.get(node.name)?.[name];
      if ((known === undefined ? p.data : valuesOf(known)).some((v) => v !== 0)) return `${label(node)} carries a ${name} that rule '${match.rule.name}' does not account for`;
    }
  }
  return undefined;
}

function missingCount(rule: Rule, match: Match, env: EvalEnv, index: GraphIndex): string | undefined {
  for (const times of factsOf(rule).counts) {
    if (env.counts[times] !== undefined) continue;
    const role = times.slice(0, times.indexOf('.'));
    const node = match.roles[role];
    if (node === undefined) throw new FoldRuleError(rule.name, `count '${times}' names no matched role`);
    const shape = index.shapes.get(node.inputs[0]) ?? [];
    return `${label(node)}'s input [${shape.join(', ')}] has a symbolic spatial size; the fold needs it literal`;
  }
  return undefined;
}

/** A copy of an attribute value (numbers, strings, booleans and lists of them), sharing nothing. */
function copyAttr(value: unknown): unknown {
  return Array.isArray(value) ? value.map(copyAttr) : value;
}

/** Attributes of a replacement node (see the file comment). */
function replacementAttrs(rule: Rule, rn: ReplacementNode, op: OpKind, source: Node | undefined, inputShape: Shape,
  resolved: ExplicitPadding | undefined): Record<string, unknown> {
  const base: Readonly<Record<string, unknown>> = source === undefined ? {} : (source.attrs as Readonly<Record<string, unknown>>);
  const overrides = rn.attrs ?? {};
  const attrs: Record<string, unknown> = {};
  for (const field of attrFieldsOf(op)) {
    if (Object.hasOwn(overrides, field)) attrs[field] = overrides[field];
    else if (field === 'padding' && resolved !== undefined && Object.hasOwn(base, field)) attrs[field] = [...resolved];
    else if (Object.hasOwn(base, field)) attrs[field] = copyAttr(base[field]);
    else if ((field === 'numChannels' || field === 'numFeatures') && typeof inputShape[1] === 'number') attrs[field] = inputShape[1];
    else throw new FoldRuleError(rule.name, `replacement '${rn.role}' (${op}) needs attr '${field}'; give it in attrs or attrsFrom`);
  }
  return attrs;
}

function checkShape(rule: Rule, rn: ReplacementNode, name: string, got: readonly number[], shape: readonly number[]): void {
  if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
    throw new FoldRuleError(rule.name, `replacement '${rn.role}' param '${name}' evaluates to shape [${got.join(', ')}], expected [${shape.join(', ')}]`);
  }
}

/** A vector or tap-bias parameter in float64 (weights take evaluateWeightFloat32's path). */
function evaluateParam(rule: Rule, rn: ReplacementNode, name: string, e: ParamExpr, env: EvalEnv, shape: readonly number[]): Tensor64 {
  const result: Evaluated = isWeightExpr(e)
    ? evaluateWeight(e, env)
    : isTapExpr(e)
      ? evaluateTaps(e, env)
      : { shape, data: evaluateVector(e, env, shape.reduce((a, d) => a * d, 1)) };
  checkShape(rule, rn, name, result.shape, shape);
  return { shape, data: result.data };
}

const isZeroPadding = (padding: unknown): boolean =>
  padding === 'valid' || (Array.isArray(padding) && padding.every((p) => p === 0));

/** A conv2d that reads every tap everywhere adds its tapBias as the constant sum over taps. */
function simplifyTapBias(op: OpKind, attrs: Record<string, unknown>, params: Record<string, Tensor64>): void {
  const taps = params.tapBias;
  if (op !== 'conv2d' || taps === undefined) return;
  if (taps.data.every((v) => v === 0)) {
    delete params.tapBias;
    return;
  }
  if (!isZeroPadding(attrs.padding)) return;
  const [outChannels] = taps.shape;
  const perUnit = taps.data.length / outChannels;
  const bias = params.bias?.data.slice() ?? new Float64Array(outChannels);
  for (let o = 0; o < outChannels; o++) for (let k = 0; k < perUnit; k++) bias[o] += taps.data[o * perUnit + k];
  params.bias = { shape: [outChannels], data: bias };
  attrs.bias = true;
  delete params.tapBias;
}

interface Built {
  readonly rn: ReplacementNode;
  readonly op: OpKind;
  readonly attrs: Record<string, unknown>;
  readonly params: Record<string, ParamTensor>;
  readonly exact: Exact;
  readonly shape: Shape;
}

/** Evaluates and builds the replacement nodes; a string is a refusal reason. */
function buildReplacement(match: Match, env: EvalEnv, index: GraphIndex): Built[] | string {
  const { rule } = match;
  const built: Built[] = [];
  let inputShape = index.shapes.get(match.nodes[0].inputs[0]) ?? [];
  for (const rn of rule.replacement) {
    const source = rn.attrsFrom === undefined ? undefined : match.roles[rn.attrsFrom];
    if (rn.attrsFrom !== undefined && source === undefined) throw new FoldRuleError(rule.name, `attrsFrom '${rn.attrsFrom}' is not a pattern role`);
    const op = rn.op ?? source?.op;
    if (op === undefined) throw new FoldRuleError(rule.name, `replacement '${rn.role}' names neither an op nor attrsFrom`);
    const attrs = replacementAttrs(rule, rn, op, source, inputShape, rn.attrsFrom === undefined ? undefined : match.resolvedPadding[rn.attrsFrom]);
    const withAttrs = { op, attrs } as unknown as OpWithAttrs;
    const shapes = { ...paramShapes(withAttrs), ...optionalParamShapes(withAttrs) };
    const params64: Record<string, Tensor64> = {};
    const weights32: Record<string, Float32Weight> = {};
    for (const [name, e] of Object.entries(rn.params)) {
      const shape = shapes[name];
      if (shape === undefined) throw new FoldRuleError(rule.name, `replacement '${rn.role}' (${op}) has no param '${name}'`);
      if (isWeightExpr(e)) {
        // Weights are most of a model's values: computed and rounded to float32 in one pass.
        const w = evaluateWeightFloat32(e, env);
        checkShape(rule, rn, name, w.shape, shape);
        weights32[name] = w;
      } else params64[name] = evaluateParam(rule, rn, name, e, env, shape);
    }
    if (params64.bias !== undefined && 'bias' in attrs) attrs.bias = true;
    simplifyTapBias(op, attrs, params64);
    const required = paramShapes({ op, attrs } as unknown as OpWithAttrs);
    for (const name of Object.keys(required)) {
      if (params64[name] === undefined && weights32[name] === undefined) throw new FoldRuleError(rule.name, `replacement '${rn.role}' (${op}) needs param '${name}', which the rule does not define`);
    }
    const params: Record<string, ParamTensor> = {};
    const exact: Record<string, BoundTensor> = {};
    for (const [name, w] of Object.entries(weights32)) {
      if (w.nonFinite >= 0) {
        return `the folded ${name} of ${source === undefined ? rn.role : source.name} would be ${formatValue(w.data[w.nonFinite])} at index ${w.nonFinite}`;
      }
      params[name] = { shape: [...w.shape], data: w.data };
      exact[name] = w.exact;
    }
    for (const [name, t] of Object.entries(params64)) {
      const { data, bad } = roundChecked(t.data);
      if (bad >= 0) {
        return `the folded ${name} of ${source === undefined ? rn.role : source.name} would be ${formatValue(data[bad])} at index ${bad} (float64 ${formatValue(t.data[bad])})`;
      }
      params[name] = { shape: [...t.shape], data };
      exact[name] = t;
    }
    let shape: Shape;
    try {
      shape = inferNodeShape({ name: rn.role, op, inputs: ['input'], attrs, params } as unknown as Node, [inputShape]);
    } catch (error) {
      if (error instanceof ShapefoldError) throw new FoldRuleError(rule.name, `replacement '${rn.role}': ${error.message}`, { cause: error });
      throw error;
    }
    built.push({ rn, op, attrs, params, exact, shape });
    inputShape = shape;
  }
  return built;
}

/** Names for the built nodes (see the file comment); every name unique in the new graph. */
function chooseNames(match: Match, built: readonly Built[], index: GraphIndex): string[] {
  const matchedNames = match.nodes.map((n) => n.name);
  const taken = (name: string) => index.byName.has(name) && !matchedNames.includes(name);
  const names: (string | undefined)[] = built.map(() => undefined);
  const used = new Set<string>();
  const take = (i: number, name: string) => {
    names[i] = name;
    used.add(name);
  };
  const last = match.nodes[match.nodes.length - 1];
  if (index.outputs.has(last.name)) take(built.length - 1, last.name);
  built.forEach((b, i) => {
    const from = b.rn.attrsFrom === undefined ? undefined : match.roles[b.rn.attrsFrom].name;
    if (names[i] === undefined && from !== undefined && !used.has(from)) take(i, from);
  });
  built.forEach((b, i) => {
    if (names[i] !== undefined) return;
    const free = [...matchedNames].reverse().find((n) => !used.has(n));
    if (free !== undefined) {
      take(i, free);
      return;
    }
    const base = `${matchedNames[matchedNames.length - 1]}_${b.rn.role}`;
    let name = base;
    for (let k = 2; taken(name) || used.has(name); k++) name = `${base}${k}`;
    take(i, name);
  });
  return names as string[];
}

/**
 * Evaluates the match and, unless a value refuses it, returns the replacement chain. `exact`: the
 * exact param values of the nodes earlier folds produced, by node name (see the file comment).
 */
export function applyMatch(match: Match, index: GraphIndex, exact: ReadonlyMap<string, Exact>): ApplyOutcome {
  const { rule } = match;
  const nodes = match.nodes.map((n) => n.name);
  const refuse = (reason: string): ApplyOutcome => ({ kind: 'refusal', refusal: { rule: rule.name, nodes, reason } });
  if (rule.replacement.length === 0) throw new FoldRuleError(rule.name, 'the replacement chain is empty');
  const env = bindEnv(match, index, exact);
  const dropped = droppedParam(match, factsOf(rule).referenced, exact);
  if (dropped !== undefined) return refuse(dropped);
  const uncounted = missingCount(rule, match, env, index);
  if (uncounted !== undefined) return refuse(uncounted);

  let built: Built[] | string;
  try {
    for (const condition of rule.conditions) {
      const problem = valueProblem(condition, env, match);
      if (problem !== undefined) return refuse(problem);
    }
    built = buildReplacement(match, env, index);
  } catch (error) {
    if (error instanceof RuleEvaluationError) throw new FoldRuleError(rule.name, error.message, { cause: error });
    throw error;
  }
  if (typeof built === 'string') return refuse(built);

  const last = match.nodes[match.nodes.length - 1];
  const expected = index.shapes.get(last.name) ?? [];
  const produced = built[built.length - 1].shape;
  if (produced.length !== expected.length || produced.some((d, i) => !dimEqual(d, expected[i]))) {
    throw new FoldRuleError(rule.name, `the replacement produces [${produced.join(', ')}] where ${label(last)} produced [${expected.join(', ')}]`);
  }

  const names = chooseNames(match, built, index);
  const replacement = built.map(
    (b, i): Produced => ({
      node: { name: names[i], op: b.op, inputs: i === 0 ? [...match.nodes[0].inputs] : [names[i - 1]], attrs: b.attrs, params: b.params } as unknown as Node,
      shape: b.shape,
      exact: b.exact,
    }),
  );
  const record: FoldRecord = {
    rule: rule.name,
    statement: rule.statement,
    matched: match.nodes.map((n) => ({ name: n.name, op: n.op })),
    produced: replacement.map(({ node }) => ({ name: node.name, op: node.op })),
  };
  return { kind: 'applied', replacement, record };
}
