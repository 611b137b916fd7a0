/**
 * The numerical check every fold report carries, bounded in memory and time.
 *
 *   'fast' (default)  each fold where it happened, on the float64 reference (probe-local.ts),
 *                     then the whole folded network once in float32 on the current tfjs backend
 *                     at batch 1 against the original, on the float64 reference or in float32,
 *                     whichever costs less there (probe-network.ts);
 *   'full'            the same local checks, then the whole network on the float64 reference
 *                     (batch 2) and in float32: slow on large networks, for those who want it;
 *   'off'             no probe.
 *
 * Inputs are seeded standard-normal values rounded to float32, so every run sees the same
 * numbers. The report says what ran, at which sizes, and why a size differs from the declared
 * one (probe-shapes.ts): a probe is never silently smaller than it looks.
 */
import type { Graph } from '../ir/graph.ts';
import { createRng } from '../ir/init.ts';
import type { FoldMode } from './match.ts';
import { checkFold, FOLD_TOLERANCE, type FoldCheck, type FoldSite } from './probe-local.ts';
import { checkNetworkFast, checkNetworkFull, NETWORK_TOLERANCE, type NetworkCheck, type NetworkSkipped } from './probe-network.ts';

export type ProbeLevel = 'fast' | 'full' | 'off';

export type { FoldCheck, FoldSample, FoldSite } from './probe-local.ts';
export type { NetworkCheck, NetworkSkipped } from './probe-network.ts';

export interface ProbeReport {
  readonly level: 'fast' | 'full';
  readonly mode: FoldMode;
  readonly seed: number;
  /** No check found a difference above its tolerance. */
  readonly ok: boolean;
  /** What was probed and how, one sentence per check. */
  readonly method: readonly string[];
  /** Relative to max |original output|. */
  readonly tolerance: { readonly fold: number; readonly network: number };
  /** One per fold, in the order of the report's folds. */
  readonly folds: readonly FoldCheck[];
  readonly network: NetworkCheck | NetworkSkipped;
}

/** Called after each probe step: what was done, steps done, steps in all. */
export type ProbeStep = (detail: string, done: number, total: number) => void;

const shapesText = (inputs: Readonly<Record<string, readonly number[]>>) =>
  Object.entries(inputs).map(([name, shape]) => `${name} [${shape.join(', ')}]`).join(', ');

function describe(level: 'fast' | 'full', checks: readonly FoldCheck[], network: NetworkCheck | NetworkSkipped): string[] {
  const inputs = [
    ...(checks.some((c) => c.sample !== undefined && c.sample !== 'feature vector')
      ? ['patch [1, C, h, w] (the smallest h, w at which each conv computes every border case its taps have at the model size)']
      : []),
    ...(checks.some((c) => c.sample === 'feature vector') ? ['feature vector [1, F] (a linear chain)'] : []),
  ];
  const method = [
    `each of the ${checks.length} folds: its matched and its produced chain on the float64 reference, from one standard-normal ` +
      `${inputs.length === 0 ? 'input' : inputs.join(' or ')}, max |folded - original| <= ${FOLD_TOLERANCE} x max |original|`,
  ];
  if ('skipped' in network) method.push(`the whole network: not run (${network.skipped}); the local checks above stand`);
  else {
    const where = `${shapesText(network.inputs)}${network.reduced === undefined ? '' : ` (${network.reduced})`}`;
    method.push(
      (level === 'fast'
        ? `the whole network: folded in float32 on the ${network.backend} backend against the original ` +
          `${network.originalOn === 'float32' ? 'in float32 there' : 'on the float64 reference'} at ${where}, ` +
          `max |folded - original| <= ${NETWORK_TOLERANCE} x max |original|`
        : `the whole network: original and folded on the float64 reference at ${where}, ` +
          `max |folded - original| <= ${NETWORK_TOLERANCE} x max |original|; and each in float32 on the ${network.backend} backend ` +
          'against the float64 original') + (network.opaque === undefined ? '' : `; ${network.opaque}`),
    );
  }
  return method;
}

/** Checks `folded` against `original` (see the file comment); `sites` are the folds as applied. */
export function probeFold(
  original: Graph,
  folded: Graph,
  sites: readonly FoldSite[],
  opts: { readonly level: 'fast' | 'full'; readonly mode: FoldMode; readonly seed: number; readonly onStep?: ProbeStep },
): ProbeReport {
  const { level, mode, seed } = opts;
  const rng = createRng(seed);
  const total = sites.length + (level === 'fast' ? 2 : 4);
  let done = 0;
  const step = (detail: string) => opts.onStep?.(detail, ++done, total);
  const folds = sites.map((site) => {
    const check = checkFold(site, mode, rng);
    step(`checked fold ${site.fold + 1}: ${site.rule} on ${check.nodes.join(' -> ')}`);
    return check;
  });
  const network = level === 'fast' ? checkNetworkFast(original, folded, mode, rng, step) : checkNetworkFull(original, folded, mode, rng, step);
  if (done < total) opts.onStep?.('the whole network: not run', (done = total), total);
  const ok = folds.every((c) => c.ok) && ('skipped' in network || network.ok);
  return {
    level,
    mode,
    seed,
    ok,
    method: describe(level, folds, network),
    tolerance: { fold: FOLD_TOLERANCE, network: NETWORK_TOLERANCE },
    folds,
    network,
  };
}
