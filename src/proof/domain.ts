/**
 * What the IR guarantees of attributes and parameters before any rule sees them, written out
 * for the checker: the side conditions of sqrt-square and reciprocal are discharged from these
 * (and from a rule's own conditions), never assumed.
 *
 *   eps of every normalisation     > 0     src/ir/attrs.ts, field kind 'eps'
 *   runningVar of BatchNorm-likes  >= 0    src/ir/params.ts, NON_NEGATIVE
 *   normalize's std                > 0     src/ir/attrs.ts, field kind 'positiveList'
 *
 * test/unit/proof-domain.test.ts checks that validation rejects every value these exclude.
 */
import type { OpKind } from '../ir/graph.ts';
import type { Fact } from './scalar.ts';

const POSITIVE: readonly Fact[] = ['nonNegative', 'nonZero'];
const NON_NEGATIVE: readonly Fact[] = ['nonNegative'];

const RUNNING_STATS = { eps: POSITIVE, runningVar: NON_NEGATIVE };

export const DOMAIN: Partial<Record<OpKind, Readonly<Record<string, readonly Fact[]>>>> = {
  batchNorm: RUNNING_STATS,
  batchRenorm: RUNNING_STATS,
  ibn: RUNNING_STATS,
  switchableNorm: RUNNING_STATS,
  layerNorm: { eps: POSITIVE },
  instanceNorm: { eps: POSITIVE },
  groupNorm: { eps: POSITIVE },
  normalize: { std: POSITIVE },
};

/** The facts the IR guarantees of `name` (a parameter or attribute) of a node of `op`. */
export function domainFacts(op: OpKind | undefined, name: string): readonly Fact[] {
  if (op === undefined) return [];
  const table = DOMAIN[op];
  return table !== undefined && Object.hasOwn(table, name) ? table[name] : [];
}
