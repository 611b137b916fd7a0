/**
 * The checker: a rule is proved when, for every choice of op for each pattern role,
 *
 *   normal form of (pattern chain on x)  =  normal form of (replacement chain on x)
 *
 * with both sides built by `denote.ts`, normalised by `tensor.ts`/`scalar.ts` under the laws of
 * `axioms.ts`, and a conditional law used only when the rule states its condition. Equality is
 * syntactic equality of normal forms, so a proof can fail for a true rule whose truth needs a law
 * the checker lacks, but never succeed for a false one (given sound laws, which the axiom tests
 * check numerically).
 *
 * On failure the report names the first differing term and, when a conditional law was blocked,
 * retries with the blocked conditions assumed to say which missing condition would make it hold.
 */
import type { Condition, Rule } from '../algebra/rule.ts';
import { show, type VExpr } from '../algebra/expr.ts';
import type { OpKind } from '../ir/graph.ts';
import { AXIOM_NAMES, type AxiomName } from './axioms.ts';
import { denote, patternSource, replacementSource, type NodeSource } from './denote.ts';
import { ProofError } from './errors.ts';
import { invR, negR } from './rational.ts';
import { domainFacts } from './domain.ts';
import { addPoly, atomKey, monoPoly, normalizeVector, scalePoly, showPoly, signOfAtom, type Fact, type Poly } from './scalar.ts';
import { appliedOps, differences, input, normalizeTensor, showTensor, type Blocked, type TensorContext, type TensorNF, type TensorTerm } from './tensor.ts';

export interface ProofCase {
  /** The op each pattern role has in this case. */
  readonly ops: Readonly<Record<string, OpKind>>;
  readonly ok: boolean;
  /** Readable normal forms of both sides. */
  readonly lhs: string;
  readonly rhs: string;
  readonly axioms: readonly AxiomName[];
  /** The first differing term, in words. */
  readonly difference?: string;
  /** Conditions the rule does not state under which this case would prove. */
  readonly missingConditions?: readonly string[];
  /** Laws that did not apply and why (non-homogeneous activations, shifts inside relu, ...). */
  readonly notes: readonly string[];
}

export interface ProofReport {
  readonly rule: string;
  readonly statement: string;
  /** The rule's conditions, readable. */
  readonly conditions: readonly string[];
  readonly ok: boolean;
  readonly cases: readonly ProofCase[];
  /** Why it failed, in one paragraph: the first failing case's difference, missing conditions and notes. */
  readonly reason?: string;
}

/** Conditions a hypothetical retry assumes on top of the rule's own. */
interface Assumptions {
  readonly unpadded: ReadonlySet<string>;
  readonly inference: ReadonlySet<string>;
  readonly nonNegativeAtoms: ReadonlySet<string>;
  /** Facts of values, by polynomial key. */
  readonly facts: readonly (readonly [key: string, fact: Fact])[];
}

const NO_ASSUMPTIONS: Assumptions = { unpadded: new Set(), inference: new Set(), nonNegativeAtoms: new Set(), facts: [] };

class CaseContext implements TensorContext {
  readonly used = new Set<AxiomName>();
  readonly blocked = new Map<string, Blocked>();
  readonly notes = new Set<string>();
  readonly nonNegativeProducts: ReadonlySet<string>[] = [];
  private readonly substitutions = new Map<string, Poly>();
  private readonly unpaddedLabels: ReadonlySet<string>;
  /** Facts the rule's conditions (and a retry's assumptions) state, by atom or polynomial key. */
  private readonly facts = new Map<string, Set<Fact>>();

  constructor(
    private readonly ops: Readonly<Record<string, OpKind>>,
    conditions: readonly Condition[],
    assumptions: Assumptions,
  ) {
    this.unpaddedLabels = new Set([...conditions.flatMap((c) => (c.kind === 'noPadding' ? [c.role] : [])), ...assumptions.unpadded]);
    for (const [key, fact] of assumptions.facts) this.state(key, fact);
    for (const c of conditions) if (c.kind === 'zero') this.addZero(c.expr, c.what);
    for (const c of conditions) if (c.kind === 'nonNegative') this.addNonNegative(c.expr, c.what);
    for (const c of conditions) if (c.kind === 'nonZero') this.addNonZero(c.expr);
    for (const key of assumptions.nonNegativeAtoms) this.nonNegativeProducts.push(new Set([key]));
  }

  private state(key: string, fact: Fact): void {
    const known = this.facts.get(key) ?? new Set<Fact>();
    known.add(fact);
    this.facts.set(key, known);
  }

  stated(key: string): ReadonlySet<Fact> | undefined {
    const own = this.facts.get(key);
    const ref = /^[pa]:([^.=]+)\.([^.=]+)$/.exec(key);
    const domain = ref === null ? [] : domainFacts(this.opOf(ref[1]), ref[2]);
    if (domain.length === 0) return own;
    return new Set([...(own ?? []), ...domain]);
  }

  unmet(fact: Fact, p: Poly, law: AxiomName): void {
    this.block({ kind: 'requires', fact, key: p.key, shown: showPoly(p), law });
  }

  opOf(role: string): OpKind | undefined {
    return this.ops[role];
  }

  substitute(ref: string): Poly | undefined {
    const value = this.substitutions.get(ref);
    if (value !== undefined) this.use('zero-substitution');
    return value;
  }

  use(axiom: AxiomName): void {
    this.used.add(axiom);
  }

  unpadded(label: string): boolean {
    return this.unpaddedLabels.has(label);
  }

  block(b: Blocked): void {
    this.blocked.set(blockedKey(b), b);
  }

  note(text: string): void {
    this.notes.add(text);
  }

  /** p = 0 with p = c·a + q, a a parameter not in q: every a becomes -q/c. */
  private addZero(expr: VExpr, what: string): void {
    const p = normalizeVector(expr, this);
    for (const t of p.terms) {
      const [f] = t.mono.factors;
      if (t.mono.factors.length !== 1 || f.exp !== 1 || f.atom.kind !== 'param') continue;
      const occurs = `${atomKey(f.atom)}^`;
      if (p.terms.some((other) => other !== t && other.mono.key.includes(occurs))) continue;
      const rest = addPoly(...p.terms.filter((o) => o !== t).map((o) => monoPoly(o.mono, o.coef)));
      this.substitutions.set(f.atom.ref, scalePoly(rest, negR(invR(t.coef))));
      return;
    }
    this.note(`zero(${what}) = 0 for ${showPoly(p)} could not be used: no parameter occurs in it exactly once, linearly`);
  }

  /** p != 0; for a single product, each of its factors is non-zero too. */
  private addNonZero(expr: VExpr): void {
    const p = normalizeVector(expr, this);
    this.state(p.key, 'nonZero');
    if (p.terms.length === 1) for (const f of p.terms[0].mono.factors) this.state(f.key, 'nonZero');
  }

  private addNonNegative(expr: VExpr, what: string): void {
    const p = normalizeVector(expr, this);
    this.state(p.key, 'nonNegative');
    const [t] = p.terms;
    const usable =
      p.terms.length === 1 &&
      t.coef.n > 0n &&
      t.mono.factors.every((f) => f.exp % 2 !== 0 || f.exp < 0 || signOfAtom(f.atom, this).nonNegative);
    if (!usable) {
      this.note(`nonNegative(${what}) = ${showPoly(p)} >= 0 is not a single product of signed factors; the checker cannot use it for relu`);
      return;
    }
    this.nonNegativeProducts.push(new Set(t.mono.factors.filter((f) => f.exp % 2 !== 0 && !signOfAtom(f.atom, this).nonNegative).map((f) => f.key)));
  }
}

function chains(rule: Rule, ops: Readonly<Record<string, OpKind>>, ctx: CaseContext, assumptions: Assumptions): { lhs: TensorTerm; rhs: TensorTerm } {
  const inference = new Set([...rule.conditions.flatMap((c) => (c.kind === 'inferenceStatistics' ? [c.role] : [])), ...assumptions.inference]);
  const runningStats = (role: string, op: OpKind): boolean => {
    if (op !== 'batchNorm' && op !== 'batchRenorm') return true;
    if (!inference.has(role)) ctx.block({ kind: 'inferenceStatistics', role });
    return inference.has(role);
  };
  const perChannel = new Set(rule.conditions.flatMap((c) => (c.kind === 'perChannelAffine' ? [c.role] : [])));
  let lhs: TensorTerm = input;
  for (const node of rule.pattern) {
    lhs = denote(patternSource(node.role, ops[node.role], runningStats(node.role, ops[node.role]), perChannel.has(node.role)), lhs);
  }
  let rhs: TensorTerm = input;
  for (const node of rule.replacement) {
    const op = node.op ?? (node.attrsFrom === undefined ? undefined : ops[node.attrsFrom]);
    if (op === undefined) throw new ProofError(`replacement node '${node.role}' has no op and no matched role to take it from`);
    const statsRole = node.attrsFrom ?? node.role;
    const source: NodeSource = replacementSource(node.role, op, node.attrsFrom, node.attrs ?? {}, node.params, runningStats(statsRole, op), perChannel.has(statsRole));
    rhs = denote(source, rhs);
    const unread = source.unreadParams();
    if (unread.length > 0) {
      const given = Object.keys(node.attrs ?? {}).length === 0 ? '' : ` with attrs ${JSON.stringify(node.attrs)}`;
      throw new ProofError(`replacement node '${node.role}' (${op}${given}) defines param ${unread.map((n) => `'${n}'`).join(', ')}, which that node does not take`);
    }
  }
  return { lhs, rhs };
}

/** An activation or statistics op on one side only: no law makes it appear or vanish. */
function noteOneSided(left: TensorNF, right: TensorNF, ctx: CaseContext): void {
  const l = appliedOps(left);
  const r = appliedOps(right);
  for (const op of l) if (!r.has(op)) ctx.note(`${op} is applied on the LHS only: no law removes it (statistics never fold)`);
  for (const op of r) if (!l.has(op)) ctx.note(`${op} is applied on the RHS only: no law introduces it`);
}

function showOps(ops: Readonly<Record<string, OpKind>>): string {
  return Object.entries(ops)
    .map(([role, op]) => `${role}: ${op}`)
    .join(', ');
}

interface Attempt {
  readonly ok: boolean;
  readonly lhs: string;
  readonly rhs: string;
  readonly axioms: readonly AxiomName[];
  readonly difference?: string;
  readonly blocked: readonly Blocked[];
  readonly notes: readonly string[];
}

function attempt(rule: Rule, ops: Readonly<Record<string, OpKind>>, assumptions: Assumptions): Attempt {
  const ctx = new CaseContext(ops, rule.conditions, assumptions);
  try {
    const { lhs, rhs } = chains(rule, ops, ctx, assumptions);
    const left = normalizeTensor(lhs, ctx);
    const right = normalizeTensor(rhs, ctx);
    const [first, ...others] = differences(left, right);
    if (first !== undefined) noteOneSided(left, right, ctx);
    const axioms = AXIOM_NAMES.filter((a) => ctx.used.has(a));
    const blocked = [...ctx.blocked.values()];
    const common = { lhs: showTensor(left), rhs: showTensor(right), axioms, blocked, notes: [...ctx.notes] };
    const unmet = blocked.flatMap((b) => (b.kind === 'requires' ? [`${b.law} needs ${b.fact}(${b.shown})`] : []));
    const unproved = unmet.length === 0 ? '' : `${unmet.join('; ')}, which neither the IR's guarantees nor the rule's conditions establish`;
    if (first === undefined) return unmet.length === 0 ? { ok: true, ...common } : { ok: false, ...common, difference: unproved };
    const side = (p: Poly | undefined) => (p === undefined ? 'nothing' : showPoly(p));
    const also = others.length === 0 ? '' : ` (also differing: ${others.map((d) => d.where).join('; ')})`;
    const differs = `${first.where} differs: LHS has ${side(first.lhs)}, RHS has ${side(first.rhs)}${also}`;
    return { ok: false, ...common, difference: unmet.length === 0 ? differs : `${differs}; and ${unproved}` };
  } catch (e) {
    if (!(e instanceof ProofError)) throw e;
    return { ok: false, lhs: '', rhs: '', axioms: [], difference: `the rule cannot be read: ${e.message}`, blocked: [], notes: [...ctx.notes] };
  }
}

function assume(blocked: readonly Blocked[]): Assumptions {
  return {
    unpadded: new Set(blocked.flatMap((b) => (b.kind === 'noPadding' ? [b.role] : []))),
    inference: new Set(blocked.flatMap((b) => (b.kind === 'inferenceStatistics' ? [b.role] : []))),
    nonNegativeAtoms: new Set(blocked.flatMap((b) => (b.kind === 'nonNegative' ? b.atoms : []))),
    facts: blocked.flatMap((b) => (b.kind === 'requires' ? [[b.key, b.fact] as const] : [])),
  };
}

function blockedKey(b: Blocked): string {
  switch (b.kind) {
    case 'nonNegative':
      return `nonNegative:${b.atoms.join(',')}`;
    case 'requires':
      return `${b.fact}:${b.key}`;
    default:
      return `${b.kind}:${b.role}`;
  }
}

function showBlocked(b: Blocked): string {
  switch (b.kind) {
    case 'nonNegative':
    case 'requires':
      return `${b.kind === 'requires' ? b.fact : 'nonNegative'}(${b.shown})`;
    default:
      return `${b.kind}(${b.role})`;
  }
}

/** The blocked conditions that make the case prove, pruned to the ones it needs; undefined if none do. */
function missingConditions(rule: Rule, ops: Readonly<Record<string, OpKind>>, blocked: readonly Blocked[]): readonly string[] | undefined {
  if (blocked.length === 0 || !attempt(rule, ops, assume(blocked)).ok) return undefined;
  let needed = [...blocked];
  for (const b of blocked) {
    const without = needed.filter((n) => n !== b);
    if (attempt(rule, ops, assume(without)).ok) needed = without;
  }
  return needed.map(showBlocked);
}

/** Every assignment of one op per pattern role, in pattern order. */
function opCases(rule: Rule): readonly Readonly<Record<string, OpKind>>[] {
  return rule.pattern.reduce<Record<string, OpKind>[]>((cases, node) => cases.flatMap((c) => node.ops.map((op) => ({ ...c, [node.role]: op }))), [{}]);
}

export function proveRule(rule: Rule): ProofReport {
  const conditions = rule.conditions.map(showCondition);
  if (rule.pattern.length === 0) {
    return { rule: rule.name, statement: rule.statement, conditions, ok: false, cases: [], reason: 'the pattern matches nothing: it has no nodes' };
  }
  const cases = opCases(rule).map((ops): ProofCase => {
    const result = attempt(rule, ops, NO_ASSUMPTIONS);
    const base = { ops, ok: result.ok, lhs: result.lhs, rhs: result.rhs, axioms: result.axioms, notes: result.notes };
    if (result.ok) return base;
    return { ...base, difference: result.difference, missingConditions: missingConditions(rule, ops, result.blocked) };
  });
  const failed = cases.find((c) => !c.ok);
  return { rule: rule.name, statement: rule.statement, conditions, ok: failed === undefined, cases, reason: failed === undefined ? undefined : explain(failed) };
}

function explain(c: ProofCase): string {
  const parts = [`case {${showOps(c.ops)}}: ${c.difference}`];
  if (c.missingConditions !== undefined) parts.push(`it would prove with the missing condition ${c.missingConditions.join(' and ')}`);
  parts.push(...c.notes);
  return parts.join('; ');
}

export function proveAll(rules: readonly Rule[]): readonly ProofReport[] {
  return rules.map(proveRule);
}

/** A readable proof, for `shapefold prove`. */
export function formatProof(report: ProofReport, options: { readonly verbose?: boolean } = {}): string {
  const lines = [`${report.ok ? 'PROVED' : 'FAILED'}  ${report.rule}: ${report.statement}`];
  if (report.conditions.length > 0) lines.push(`  if ${report.conditions.join(', ')}`);
  for (const c of report.cases) {
    lines.push(`  case {${showOps(c.ops)}}: ${c.ok ? 'proved' : 'FAILED'}`);
    if (options.verbose === true || !c.ok) {
      lines.push(`    LHS = ${c.lhs}`, `    RHS = ${c.rhs}`);
    }
    if (c.axioms.length > 0) lines.push(`    laws: ${c.axioms.join(', ')}`);
    if (!c.ok) {
      lines.push(`    ${c.difference}`);
      if (c.missingConditions !== undefined) lines.push(`    would prove with: ${c.missingConditions.join(', ')}`);
      for (const n of c.notes) lines.push(`    note: ${n}`);
    }
  }
  return lines.join('\n');
}

/** A rule condition, readable. */
export function showCondition(c: Condition): string {
  switch (c.kind) {
    case 'noPadding':
    case 'explicitPadding':
    case 'inferenceStatistics':
    case 'perChannelAffine':
      return `${c.kind}(${c.role})`;
    case 'hasParam':
      return `hasParam(${c.ref})`;
    default:
      return `${c.kind}(${c.what} = ${show(c.expr)})`;
  }
}
