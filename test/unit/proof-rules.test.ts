/**
 * The shipped rules (src/rules) against the checker: every rule proves, every single-point
 * mutation of a rule (an argument dropped, a weight scaled on the other axis, scale and shift
 * swapped, a parameter left out) fails, and every condition a proof relies on is needed.
 */
import { describe, expect, it } from 'vitest';
import { isTapExpr, isWeightExpr, type ParamExpr, type TapExpr, type VExpr, type WExpr } from '../../src/algebra/expr.ts';
import type { Rule } from '../../src/algebra/rule.ts';
import { formatProof, proveAll, proveRule } from '../../src/proof/index.ts';
import { ALL_RULES } from '../../src/rules/index.ts';

function vectorMutants(e: VExpr): VExpr[] {
  switch (e.kind) {
    case 'add':
    case 'mul': {
      const dropped = e.args.length > 1 ? e.args.map((_, i) => ({ ...e, args: e.args.filter((__, j) => j !== i) })) : [];
      const inner = e.args.flatMap((a, i) => vectorMutants(a).map((m) => ({ ...e, args: e.args.map((b, j) => (j === i ? m : b)) })));
      return [...dropped, ...inner];
    }
    case 'neg':
    case 'recip':
    case 'sqrt':
      return [e.arg, ...vectorMutants(e.arg).map((m) => ({ ...e, arg: m }))];
    case 'affine':
      return [{ ...e, part: e.part === 'scale' ? 'shift' : 'scale' }];
    case 'repeat':
      return [e.arg, ...vectorMutants(e.arg).map((m) => ({ ...e, arg: m }))];
    case 'matvec':
      return [...weightMutants(e.weight).map((w) => ({ ...e, weight: w })), ...vectorMutants(e.arg).map((m) => ({ ...e, arg: m }))];
    case 'rowNorm':
      return weightMutants(e.weight).map((w) => ({ ...e, weight: w }));
    default:
      return [];
  }
}

function weightMutants(e: WExpr): WExpr[] {
  if (e.kind === 'weight') return [];
  const swapped: WExpr = { ...e, kind: e.kind === 'scaleOut' ? 'scaleIn' : 'scaleOut' };
  return [swapped, e.weight, ...weightMutants(e.weight).map((w) => ({ ...e, weight: w })), ...vectorMutants(e.by).map((by) => ({ ...e, by }))];
}

function tapMutants(e: TapExpr): TapExpr[] {
  switch (e.kind) {
    case 'tapParam':
      return [];
    case 'taps':
      return [...weightMutants(e.weight).map((w) => ({ ...e, weight: w })), ...vectorMutants(e.arg).map((m) => ({ ...e, arg: m }))];
    case 'tapScaleOut':
      return [e.taps, ...tapMutants(e.taps).map((t) => ({ ...e, taps: t })), ...vectorMutants(e.by).map((by) => ({ ...e, by }))];
    case 'tapAdd':
      return [
        ...(e.args.length > 1 ? e.args.map((_, i) => ({ ...e, args: e.args.filter((__, j) => j !== i) })) : []),
        ...e.args.flatMap((a, i) => tapMutants(a).map((m) => ({ ...e, args: e.args.map((b, j) => (j === i ? m : b)) }))),
      ];
  }
}

function paramMutants(e: ParamExpr): ParamExpr[] {
  if (isWeightExpr(e)) return weightMutants(e);
  if (isTapExpr(e)) return tapMutants(e);
  return vectorMutants(e);
}

function mutants(rule: Rule): { readonly what: string; readonly rule: Rule }[] {
  return rule.replacement.flatMap((node, n) =>
    Object.entries(node.params).flatMap(([name, e]) => {
      const withParam = (value: ParamExpr | undefined) => {
        const params = { ...node.params };
        if (value === undefined) delete params[name];
        else params[name] = value;
        return { ...rule, replacement: rule.replacement.map((r, k) => (k === n ? { ...r, params } : r)) };
      };
      return [
        { what: `${node.role}.${name} left out`, rule: withParam(undefined) },
        ...paramMutants(e).map((m, i) => ({ what: `${node.role}.${name} mutant ${i}`, rule: withParam(m) })),
      ];
    }),
  );
}

/** Conditions the checker's laws depend on; the others (hasParam, nonZero, ...) guard the engine. */
const USED_CONDITIONS = new Set(['noPadding', 'inferenceStatistics', 'nonNegative', 'zero']);

describe('the shipped rules', () => {
  it('has rules to check', () => expect(ALL_RULES.length).toBeGreaterThan(0));

  for (const rule of ALL_RULES) {
    describe(rule.name, () => {
      it('proves in every case of its pattern ops', () => {
        const report = proveRule(rule);
        expect(report.ok, formatProof(report)).toBe(true);
        const expectedCases = rule.pattern.reduce((n, p) => n * p.ops.length, 1);
        expect(report.cases).toHaveLength(expectedCases);
      });

      it('fails under every single-point mutation', () => {
        const all = mutants(rule);
        expect(all.length).toBeGreaterThan(0);
        const survivors = all.filter((m) => proveRule(m.rule).ok).map((m) => m.what);
        expect(survivors).toEqual([]);
      });

      for (const [i, condition] of rule.conditions.entries()) {
        if (!USED_CONDITIONS.has(condition.kind)) continue;
        it(`needs its condition ${condition.kind} #${i}`, () => {
          const report = proveRule({ ...rule, conditions: rule.conditions.filter((_, j) => j !== i) });
          expect(report.ok).toBe(false);
          expect(report.cases.some((c) => (c.missingConditions?.length ?? 0) > 0 || c.notes.length > 0)).toBe(true);
        });
      }
    });
  }

  it('proveAll is deterministic', () => {
    const once = proveAll(ALL_RULES).map((r) => formatProof(r, { verbose: true }));
    const again = proveAll(ALL_RULES).map((r) => formatProof(r, { verbose: true }));
    expect(again).toEqual(once);
  });
});

describe('formatProof', () => {
  it('shows the verdict, the conditions, each case with its laws, and the normal forms when verbose', () => {
    const rule = ALL_RULES.find((r) => r.conditions.some((c) => c.kind === 'noPadding'));
    expect(rule).toBeDefined();
    const text = formatProof(proveRule(rule as Rule), { verbose: true });
    expect(text).toMatch(new RegExp(`^PROVED  ${(rule as Rule).name}: `));
    expect(text).toMatch(/\n {2}if .*noPadding\(/);
    expect(text).toMatch(/laws: .*conv-const/);
    expect(text).toMatch(/LHS = .*\n {4}RHS = /);
  });

  it('prints the difference and the missing condition of a failed case', () => {
    const rule = ALL_RULES.find((r) => r.conditions.some((c) => c.kind === 'noPadding')) as Rule;
    const text = formatProof(proveRule({ ...rule, conditions: rule.conditions.filter((c) => c.kind !== 'noPadding') }));
    expect(text).toMatch(/^FAILED/);
    expect(text).toMatch(/differs: LHS has/);
    expect(text).toMatch(/would prove with: noPadding\(/);
  });
});
