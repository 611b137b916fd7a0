/**
 * Every rule of ALL_RULES, on its own: a random graph holding the rule's pattern (drawn from the
 * rule itself, test/arbitraries/chains.ts, with hard parameter values) is folded with
 * `foldGraph(graph, { rules: [rule] })`; the rule must fire, and the folded graph must match the
 * original in the float64 reference within the bound derived from rounding each folded parameter
 * to float32 once (test/arbitraries/fold-bound.ts explains the derivation). A new rule is covered
 * automatically; a rule whose pattern or conditions no arbitrary can draw fails here by name.
 *
 * Runs: 200 per rule, SHAPEFOLD_FOLD_RUNS raises it. A failure prints fast-check's seed and path;
 * replay with SHAPEFOLD_FOLD_SEED=<seed> SHAPEFOLD_FOLD_PATH=<path>.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldGraph } from '../../src/fold/index.ts';
import { ALL_RULES } from '../../src/rules/index.ts';
import { MissingArbitraryError, ruleChain, type ChainCase, type ChainOptions } from '../arbitraries/chains.ts';
import { checkFoldBound } from '../arbitraries/fold-bound.ts';
import { foldRuns, inputFor, replayParameters } from '../arbitraries/replay.ts';

const RUNS = foldRuns(200);

const OPTIONS: ChainOptions = {
  allowHard: true,
  maxSpatial: 10,
  batch: { min: 1, max: 2 },
  spatial: { min: 1, max: 6 },
  channels: { min: 1, max: 4 },
};

function describeCase(c: ChainCase): string {
  return c.graph.nodes.map((n) => `${n.name}:${n.op}`).join(' -> ');
}

describe('every fold rule: folded == original within the float32 rounding bound', () => {
  it('every rule has an arbitrary for its pattern and conditions', () => {
    const missing: string[] = [];
    for (const rule of ALL_RULES) {
      try {
        ruleChain(rule, OPTIONS);
      } catch (error) {
        if (!(error instanceof MissingArbitraryError)) throw error;
        missing.push(error.message);
      }
    }
    expect(missing).toEqual([]);
  });

  for (const rule of ALL_RULES) {
    it(`${rule.name}: fires and stays within the bound (${RUNS} runs)`, () => {
      fc.assert(
        fc.property(ruleChain(rule, OPTIONS), (c) => {
          const { graph, report } = foldGraph(c.graph, { rules: [rule], probe: false });
          const fired = report.folds.filter((f) => f.rule === rule.name);
          if (fired.length === 0) {
            const reasons = report.left.flatMap((l) => l.reasons.map((r) => `${l.name}: ${r}`));
            throw new Error(`'${rule.name}' did not fire on ${describeCase(c)}; left: ${reasons.join(' | ') || 'nothing'}`);
          }
          const check = checkFoldBound(c.graph, graph, { x: inputFor(c.inputShape, c.inputSeed) }, 'eval');
          // a norm too ill-conditioned for any float32 comparison (sigma' <= its input's error bound)
          fc.pre(!check.unbounded);
          if (!check.ok) throw new Error(`'${rule.name}' on ${describeCase(c)}: ${check.detail} (|diff|/bound ${check.worstRatio})`);
        }),
        replayParameters(RUNS),
      );
    });
  }
});
