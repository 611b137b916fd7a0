/**
 * Folding with ALL_RULES never changes what a network computes. Random ResNet-style networks
 * built with the DSL (a stem with optional input normalisation, a chain of resA / resB / resC /
 * basicBlock / bottleneck units with random widths and strides, a pooled or flattened linear
 * head with BN1d), on symbolic or literal sizes, with trained-looking parameters (gamma of either
 * sign or all positive): the folded graph validates, is never larger, and its float64 reference
 * outputs equal the original's at several input sizes, within float32 rounding of the folded
 * parameters. Every norm-like node left has a reason; with positive gammas no BatchNorm is left.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  basicBlock,
  batchNorm,
  bottleneck,
  conv2d,
  flatten,
  globalAvgPool,
  input,
  linear,
  model,
  normalize,
  relu,
  resA,
  resB,
  resC,
  type Tensor,
} from '../../dsl/index.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { foldGraph } from '../../src/fold/index.ts';
import type { Graph, Shape } from '../../src/ir/graph.ts';
import { validateGraph } from '../../src/ir/validate.ts';
import { expectSameFunction, standardInput, trainedLike } from '../unit/fold-fixtures.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

const unitKind = fc.constantFrom('resA', 'resB', 'resC', 'basicBlock', 'bottleneck');

const netCase = fc.record({
  symbolic: fc.boolean(),
  channels: fc.integer({ min: 1, max: 3 }),
  size: fc.tuple(fc.integer({ min: 3, max: 9 }), fc.integer({ min: 3, max: 9 })),
  normalizeInput: fc.boolean(),
  stemStride: fc.constantFrom(1, 2),
  stemPadding: fc.constantFrom<'same' | 1>('same', 1),
  units: fc.array(fc.record({ kind: unitKind, out: fc.integer({ min: 1, max: 5 }), stride: fc.constantFrom(1, 1, 2) }), { minLength: 1, maxLength: 3 }),
  head: fc.constantFrom('pool', 'flatten'),
  positiveGamma: fc.boolean(),
  seed: fc.nat(),
});

type NetCase = typeof netCase extends fc.Arbitrary<infer T> ? T : never;

function buildNet(c: NetCase): Graph {
  const [h, w] = c.size;
  const shape = c.symbolic ? (['N', c.channels, 'H', 'W'] as const) : ([2, c.channels, h, w] as const);
  let t = input(shape as unknown as ['N', number, 'H', 'W'], { name: 'x' }) as unknown as Tensor<Shape>;
  const apply = (layer: unknown) => {
    t = t.to(layer as never) as unknown as Tensor<Shape>;
  };
  if (c.normalizeInput) {
    apply(normalize({ mean: Array.from({ length: c.channels }, (_, i) => 0.1 * i - 0.2), std: Array.from({ length: c.channels }, (_, i) => 0.5 + 0.25 * i), name: 'norm' }));
  }
  apply(conv2d({ in: c.channels, out: 4, kernel: 3, stride: c.stemStride, padding: c.stemPadding, bias: false, name: 'stem' }));
  apply(batchNorm({ name: 'stem_bn' }));
  apply(relu({ name: 'stem_relu' }));
  c.units.forEach((u, i) => {
    const name = `u${i}`;
    if (u.kind === 'bottleneck') apply(bottleneck({ width: u.out, stride: u.stride, name }));
    else apply({ resA, resB, resC, basicBlock }[u.kind]({ out: u.out, stride: u.stride, name }));
  });
  const channels = t.shape[1] as number;
  if (c.head === 'pool' || c.symbolic) {
    apply(globalAvgPool({ name: 'gap' }));
    apply(linear({ in: channels, out: 3, name: 'fc' }));
  } else {
    apply(batchNorm({ name: 'pre_flat_bn' }));
    apply(flatten({ name: 'flat' }));
    const features = t.shape[1] as number;
    apply(linear({ in: features, out: 3, name: 'fc' }));
  }
  apply(batchNorm({ name: 'head_bn' }));
  return trainedLike(model(t).graph, c.seed, { positiveGamma: c.positiveGamma });
}

describe('folding with ALL_RULES preserves the function', () => {
  it('random ResNet-style networks, symbolic or literal sizes', () => {
    fc.assert(
      fc.property(netCase, (c) => {
        const graph = buildNet(c);
        const { graph: folded, report } = foldGraph(graph, { probe: false });
        validateGraph(folded);
        expect(folded.nodes.length).toBeLessThanOrEqual(graph.nodes.length);
        expect(folded.outputs).toEqual(graph.outputs);
        for (const left of report.left) expect(left.reasons.length, left.name).toBeGreaterThan(0);
        if (c.positiveGamma) expect(folded.nodes.filter((n) => n.op === 'batchNorm').map((n) => n.name)).toEqual([]);
        const sizes: [number, number][] = c.symbolic ? [c.size, [c.size[1], c.size[0] + 1], [1, 2]] : [c.size];
        sizes.forEach(([h, w], k) => {
          const x = standardInput([2, c.channels, h, w], c.seed + k);
          expectSameFunction(graph, folded, { x }, 'eval', 1e-5);
        });
      }),
      { numRuns: 60 },
    );
  });
});
